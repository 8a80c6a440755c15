"""The window under hostile files (hypothesis, fixed seed): after every refused experiment, lesson or classroom
file the window's experiment and its engine's are exactly as before, and the dialog shows the file's text as text
(no image, no link, no formatting from the file)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from PySide6 import QtWidgets

from rnnlab.config import Experiment, load_toml
from rnnlab.gui.locks import Locks
from rnnlab.gui.main_window import MainWindow
from rnnlab.io import MESSAGE_LIMIT
from tests import fuzz_files
from tests.test_fuzz import CLASSROOMS, EXPERIMENTS, LESSONS
from tests.gui.test_refusals import _render

BUDGET_S = 300.0


def _settings(n: int):
    return settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))


START = Experiment().replace(task__length=12, model__hidden_size=6, seed=7)


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    win = MainWindow(START, mode="sync", remember=False)
    qtbot.addWidget(win)
    win.controller.confirm = lambda text: True  # a valid file with new weights: yes
    win.controller.step(3)
    win.dialogs = []
    for kind in ("critical", "warning"):
        monkeypatch.setattr(QtWidgets.QMessageBox, kind,
                            staticmethod(lambda parent, title, text: win.dialogs.append(text)))
    win.folder = tmp_path
    return win


def _check_dialogs(win, n_before: int) -> None:
    for html in win.dialogs[n_before:]:
        r = _render(html)
        assert r["images"] == 0 and r["links"] == 0 and r["bold"] == 0, html[:200]
        assert len(r["text"]) <= MESSAGE_LIMIT + 40, r["text"]  # (+ "path: " of a refusal)


def _unchanged(win) -> None:
    ctrl = win.controller
    assert ctrl.exp == START
    assert ctrl.session.trainer.exp == START and ctrl.session.trainer.step_count == 3


def _back(win) -> None:
    """After a file that was accepted: back to the start (as new, step 3)."""
    win.presentation.set_classroom(None)
    win.controller.set_locks(Locks())  # (locks only grow in a session: a fresh start for the next case)
    if win.presentation.on:
        win.presentation.set(False)
    win.controller.set_experiment(START, ask=False)
    win.controller.reset()
    win.controller.step(3)
    _unchanged(win)


def test_refused_experiment_files_change_nothing(window):
    win, path = window, window.folder / "exp.toml"
    counts = {"cases": 0, "refused": 0, "opened": 0}
    t0 = time.perf_counter()

    @seed(20260515)
    @_settings(1000)
    @given(data=fuzz_files.experiment_files(EXPERIMENTS, small=True))
    def case(data):
        counts["cases"] += 1
        path.write_bytes(data)
        n = len(win.dialogs)
        if win.files.open(str(path)):
            counts["opened"] += 1
            assert win.controller.exp == load_toml(path) == win.controller.session.trainer.exp
            _back(win)
        else:
            counts["refused"] += 1
            assert len(win.dialogs) == n + 1
            _check_dialogs(win, n)
            _unchanged(win)

    case()
    print(counts, f"{time.perf_counter() - t0:.1f} s")
    assert counts["cases"] >= 1000 and counts["refused"] > 500 and counts["opened"] > 0
    assert time.perf_counter() - t0 < BUDGET_S


def test_refused_lesson_and_classroom_files_change_nothing(window):
    win = window
    (win.folder / "exp.toml").write_text("[task]\nlength = 15\n[model]\nhidden_size = 6\n")
    lesson, room = win.folder / "lesson.toml", win.folder / "room.toml"
    counts = {"cases": 0, "refused": 0, "opened": 0}
    t0 = time.perf_counter()
    panel = win.lesson_panel

    @seed(20260516)
    @_settings(300)
    @given(data=fuzz_files.lesson_files(LESSONS))
    def lesson_case(data):
        counts["cases"] += 1
        lesson.write_bytes(data)
        n = len(panel.lessons)
        if panel.open_file(str(lesson)):
            counts["opened"] += 1
            _back(win)
        else:
            counts["refused"] += 1
            assert len(panel.lessons) == n
            _unchanged(win)

    @seed(20260517)
    @_settings(300)
    @given(data=fuzz_files.classroom_files(CLASSROOMS))
    def room_case(data):
        counts["cases"] += 1
        room.write_bytes(data)
        n = len(win.dialogs)
        if win.open_classroom(str(room)):
            counts["opened"] += 1
            _back(win)
        else:
            counts["refused"] += 1
            _check_dialogs(win, n)
            assert not win.presentation.on and win.presentation.room is None
            _unchanged(win)

    lesson_case()
    room_case()
    print(counts, f"{time.perf_counter() - t0:.1f} s")
    assert counts["cases"] >= 600 and counts["refused"] > 300
    assert time.perf_counter() - t0 < BUDGET_S
