"""Qt application set-up shared by the app, the screenshot command, the self-test and the tests."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_API", "pyside6")  # superqt/qtpy must pick PySide6 (one Qt binding only)

import pyqtgraph as pg  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

__all__ = ["get_app", "dispose", "APP_NAME", "ORG_NAME"]

APP_NAME = "rnnlab"
ORG_NAME = "rnnlab"


def get_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication (created once), with pyqtgraph configured: row-major images, antialiasing, white
    background (readable on a projector)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setOrganizationName(ORG_NAME)
        QtCore.QCoreApplication.setApplicationName(APP_NAME)
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
        app.setWindowIcon(QtGui.QIcon())
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")
    _collect_in_gui_thread()
    return app  # type: ignore[return-value]


_collector = None


def _collect_in_gui_thread() -> None:
    """Python's cyclic garbage collector runs only in the GUI thread, on a timer (pyqtgraph's
    ``GarbageCollector``): collected in a training thread, a cycle holding a Qt object deletes it there, which
    disconnects its signals under Qt's lock while the GUI thread, holding the GIL, waits for that lock — a
    deadlock seen in the thread engine's tests (a colour bar's title callback held its bar in a cycle)."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=1.0)


def dispose(widget: QtWidgets.QWidget) -> None:
    """Close a top-level widget and delete it now, while the QApplication is alive.

    Leaving windows (and their QGraphicsScenes) to Python's garbage collection at interpreter exit destroys them
    after the QApplication, which crashes Qt.
    """
    widget.close()
    widget.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    QtWidgets.QApplication.processEvents()
