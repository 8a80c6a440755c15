"""The headless studies (and the run writers they use) import no Qt; the sweep module not even NumPy."""

import subprocess
import sys

QT = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "qtpy", "PyQt5", "PyQt6")


def test_studies_import_no_qt():
    code = ("import sys, rnnlab.studies.sweep, rnnlab.studies.compare, rnnlab.studies.inspect, "
            "rnnlab.studies.bench, rnnlab.train.outputs; "
            f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({QT!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"Qt modules loaded by the studies: {out}"
