"""Regression tests behind the PySide6-Essentials 6.10.x pin (see pyproject.toml).

* PySide6 6.12.0 on Python ≤ 3.11 drops a reference to None on every Qt call that returns nothing (−100 per 100
  ``QObject.setObjectName`` calls) and the app dies with ``Fatal Python error: none_dealloc``.
* pyqtgraph 0.14.0's SVG export breaks on Qt ≥ 6.11 (pyqtgraph issue 3485).
When both pass on a newer Qt, the pin may move up.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")


def test_void_qt_calls_do_not_drop_references_to_none():
    from PySide6 import QtCore

    obj = QtCore.QObject()
    obj.setObjectName("warm-up")
    before = sys.getrefcount(None)
    for i in range(100):
        obj.setObjectName(f"n{i}")
    after = sys.getrefcount(None)
    # a healthy binding leaves the count alone (allow small noise from the interpreter)
    assert after - before > -10, f"None lost {before - after} references in 100 void Qt calls"


def test_pyqtgraph_svg_export_works(qtbot, tmp_path):
    import pyqtgraph as pg
    from pyqtgraph.exporters import SVGExporter

    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.plot([0, 1, 2], [0, 1, 4])
    out = tmp_path / "x.svg"
    SVGExporter(w.getPlotItem()).export(str(out))
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "path" in text


def test_installed_qt_is_the_pinned_series():
    import PySide6

    major, minor = (int(v) for v in PySide6.__version__.split(".")[:2])
    assert (major, minor) == (6, 10), f"PySide6 {PySide6.__version__} is outside the tested 6.10.x pin"
