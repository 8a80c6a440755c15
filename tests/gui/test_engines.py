"""The window with each real engine: training in its own process (the app's default) and in a thread of the window
(the brief's worker thread, ``rnnlab gui --engine thread``, and the fallback). Both pass the same tests."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6 import QtCore

from rnnlab.config import Experiment
from rnnlab.gui import controller as controller_module
from rnnlab.gui.main_window import MainWindow
from rnnlab.train.process_session import ProcessSession
from rnnlab.train.session import ThreadSession
from tests.gui.windows import small

ENGINES = ("thread", "process")


def exploding() -> Experiment:
    return Experiment().replace(task__name="addition", task__length=20, model__activation="linear",
                                model__spectral_radius=3.0, training__learning_rate=0.5)


@pytest.fixture
def open_window(qtbot):
    wins = []

    def make(exp, mode):
        w = MainWindow(exp, mode=mode, remember=False)
        qtbot.addWidget(w)
        wins.append(w)
        qtbot.waitUntil(lambda: w.controller.last_snapshot is not None, timeout=60000)  # started and answered
        return w

    yield make
    for w in wins:
        w.close()
        assert not w.controller.session.is_alive()


def _step(ctrl):
    return ctrl.last_snapshot.step if ctrl.last_snapshot is not None else -1


@pytest.mark.parametrize("mode", ENGINES)
def test_play_and_pause_with_the_keyboard(open_window, qtbot, mode):
    win = open_window(small(), mode)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    ctrl = win.controller
    assert ctrl.mode == mode
    qtbot.keyClick(win, QtCore.Qt.Key.Key_Space)
    assert ctrl.playing and "Pause" in win.play_action.text()
    qtbot.waitUntil(lambda: _step(ctrl) >= 20, timeout=30000)
    qtbot.keyClick(win, QtCore.Qt.Key.Key_Space)
    assert not ctrl.playing and "Play" in win.play_action.text()
    # the pause settles: a requested snapshot arrives, and after it the step count stays
    qtbot.waitUntil(lambda: not ctrl.session.playing, timeout=10000)
    frames = ctrl.frames
    ctrl.request_snapshot(False)
    qtbot.waitUntil(lambda: ctrl.frames > frames, timeout=10000)
    n = _step(ctrl)
    frames = ctrl.frames
    ctrl.request_snapshot(False)
    qtbot.waitUntil(lambda: ctrl.frames > frames, timeout=10000)
    assert _step(ctrl) == n


@pytest.mark.parametrize("mode", ENGINES)
def test_explosion_banner_rewind_and_a_remedy_change_crossing_to_the_engine(open_window, qtbot, mode):
    win = open_window(exploding(), mode)
    ctrl = win.controller
    assert ctrl.last_snapshot.step == 0 and ctrl.last_snapshot.diagnostics is not None
    ctrl.play()
    qtbot.waitUntil(lambda: win.banner.kind == "error" and not win.banner.isHidden(), timeout=60000)
    assert "exploded" in win.banner.text() and "last finite gradient norm" in win.banner.text()
    boom = ctrl.last_snapshot.explosion
    assert boom is not None and not ctrl.playing
    win.banner.rewind_button.click()
    qtbot.waitUntil(lambda: ctrl.last_snapshot.explosion is None and _step(ctrl) == boom.checkpoint_step,
                    timeout=10000)
    assert win.banner.isHidden()
    ctrl.set_value("remedies.clip", "norm")
    ctrl.step(3)
    qtbot.waitUntil(lambda: _step(ctrl) == boom.checkpoint_step + 3, timeout=10000)
    assert any(r.startswith("clip norm") for r in ctrl.last_snapshot.remedies)
    # (views off screen draw a diagnostics frame a few event-loop passes later: wait for the marker)
    qtbot.waitUntil(lambda: any("remedies.clip" in e.text for e in ctrl.last_snapshot.events) or any(
        "remedies.clip" in t for _, t in win.views["grad_norms"].events.texts()), timeout=10000)
    if mode == "thread":  # in this process: the weights themselves are finite again
        assert all(np.all(np.isfinite(v)) for v in ctrl.session.trainer.net.params.values())


@pytest.mark.parametrize("mode", ENGINES)
def test_closing_while_training_ends_the_engine(qtbot, mode):
    win = MainWindow(small(), mode=mode, remember=False)
    qtbot.addWidget(win)
    ctrl = win.controller
    session = ctrl.session
    ctrl.play()
    qtbot.waitUntil(lambda: _step(ctrl) > 5, timeout=60000)
    win.close()
    assert not session.is_alive()
    assert not [t for t in threading.enumerate() if t.name == "rnnlab-training" and t.is_alive()]


def test_a_process_that_cannot_start_falls_back_to_the_thread_engine(qtbot, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("[Errno 1] Operation not permitted")

    monkeypatch.setattr(controller_module, "ProcessSession", refuse)
    messages = []
    win = MainWindow(small(), mode="process", remember=False)
    qtbot.addWidget(win)
    win.controller.message.connect(messages.append)
    qtbot.waitUntil(lambda: any("could not be started" in m for m in messages), timeout=5000)
    assert win.controller.mode == "thread" and isinstance(win.controller.session, ThreadSession)
    win.controller.step(3)
    qtbot.waitUntil(lambda: _step(win.controller) == 3, timeout=20000)
    win.close()


def test_a_process_that_dies_before_answering_falls_back_to_the_thread_engine(qtbot, monkeypatch):
    from tests.gui._dead_child import die

    monkeypatch.setattr(controller_module, "ProcessSession",
                        lambda exp, fps=30.0: ProcessSession(exp, fps, target=die))
    win = MainWindow(small(), mode="process", remember=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.controller.mode == "thread", timeout=30000)
    assert "ended before answering" in win.banner.text()
    win.controller.step(2)
    qtbot.waitUntil(lambda: _step(win.controller) == 2, timeout=20000)
    win.close()
