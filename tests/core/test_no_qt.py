"""The numeric core (and the config, tasks and trainer) never import Qt."""

import subprocess
import sys

QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy", "PyQt5", "PyQt6")


def test_core_imports_no_qt():
    code = (
        "import sys, rnnlab.core, rnnlab.config, rnnlab.train; "
        "import rnnlab.core.diagnostics, rnnlab.core.bptt; "
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({QT!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"Qt modules loaded by the core: {out}"
