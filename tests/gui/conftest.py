"""GUI test fixtures: one offscreen QApplication, isolated QSettings, and no dangling threads or workers."""

from __future__ import annotations

import threading

import pytest

from PySide6 import QtCore  # noqa: E402  (conftest at tests/ set QT_QPA_PLATFORM=offscreen first)


@pytest.fixture(scope="session")
def qapp_cls():
    from PySide6.QtWidgets import QApplication

    return QApplication


@pytest.fixture(scope="session", autouse=True)
def _app_setup(qapp):
    from rnnlab.gui.app import get_app

    QtCore.QStandardPaths.setTestModeEnabled(True)
    get_app()
    yield


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.Format.IniFormat)
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, str(tmp_path))
    s = QtCore.QSettings()
    s.clear()
    yield


@pytest.fixture(autouse=True)
def _no_dangling_threads():
    before = {t.ident for t in threading.enumerate()}
    yield
    alive = [t for t in threading.enumerate() if t.ident not in before and t.is_alive() and not t.daemon]
    assert not alive, f"threads left running: {alive}"


@pytest.fixture
def snapshots():
    """Real snapshots from a short run: (list of snapshots, trainer)."""
    from rnnlab.config import Experiment
    from rnnlab.train.trainer import Trainer

    exp = Experiment().replace(task__length=15, model__hidden_size=12, remedies__clip="norm",
                               remedies__clip_threshold=0.05, training__eval_every=5)
    tr = Trainer(exp)
    snaps = [tr.snapshot(expensive=True)]
    for i in range(3):
        for _ in range(10):
            tr.step()
        snaps.append(tr.snapshot(expensive=(i % 2 == 0)))
    return snaps, tr


@pytest.fixture(autouse=True)
def _no_modal_dialogs(monkeypatch):
    """A modal dialog nobody answers would hang the run: make any unexpected one fail the test instead."""
    from PySide6 import QtWidgets

    def refuse(kind):
        def _f(*args, **kwargs):
            text = " | ".join(str(a) for a in args[1:3])
            raise AssertionError(f"unexpected modal {kind} dialog in a test: {text}")

        return staticmethod(_f)

    for name in ("question", "critical", "warning", "information", "about"):
        monkeypatch.setattr(QtWidgets.QMessageBox, name, refuse(f"QMessageBox.{name}"))
    for name in ("getOpenFileName", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QtWidgets.QFileDialog, name, refuse(f"QFileDialog.{name}"))


@pytest.fixture
def panel(qtbot):
    """A lesson panel with the built-in lessons, shown at 460 × 820; its highlights cleared after the test."""
    from rnnlab.gui.lesson_panel import LessonPanel, clear_highlight

    p = LessonPanel()
    p.resize(460, 820)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    yield p
    clear_highlight()
