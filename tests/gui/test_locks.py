"""A classroom file's locks hold by every route: controls, Presets menu, File ▸ Open, recent files, lessons, an
opened lesson file, another classroom file, a sweep cell, undo and redo. Each test tries to change a locked key."""

from __future__ import annotations

import shutil

import pytest
from PySide6 import QtWidgets

from rnnlab.config import Experiment, save_toml
from rnnlab.gui.main_window import MainWindow
from rnnlab.gui.panels.base import KeyLabel
from rnnlab.lessons.classroom import load_classroom
from rnnlab.resources import resource_path

LOCKED = {"model.spectral_radius": 1.25, "task.length": 14, "remedies.clip": "norm"}


@pytest.fixture
def win(qtbot, tmp_path):
    w = MainWindow(Experiment().replace(task__length=12, model__hidden_size=8), mode="sync", remember=False)
    w.controller.confirm = lambda text: True
    qtbot.addWidget(w)
    f = tmp_path / "room.toml"
    f.write_text('[classroom]\npreset = "clipping"\nlock = ["model.spectral_radius", "task.length", "remedies.clip"]\n'
                 'set = { "model.spectral_radius" = 1.25, "task.length" = 14, "model.hidden_size" = 8 }\n')
    assert w.apply_classroom(load_classroom(f))
    _assert_locked(w)
    yield w
    w.close()


def _assert_locked(w):
    exp = w.controller.exp
    for k, v in LOCKED.items():
        assert exp.get(k) == v, (k, exp.get(k))


def _editor(win, key):
    return next(p.editors[key] for p in win.panels if key in p.editors)


def test_locked_controls_look_locked_and_name_the_file(win):
    for key in LOCKED:
        ed = _editor(win, key)
        assert not ed.widget.isEnabled(), key
        assert "room.toml" in ed.widget.toolTip(), key
        panel = next(p for p in win.panels if key in p.editors)
        lab = panel.form.labelForField(ed.widget)
        assert isinstance(lab, KeyLabel) and lab.locked and "room.toml" in lab.toolTip()
    other = _editor(win, "training.learning_rate")
    assert other.widget.isEnabled()
    lab = next(p for p in win.panels if "training.learning_rate" in p.editors).form.labelForField(other.widget)
    assert not lab.locked


def test_route_controls(win):
    # the widget is disabled; its signal fired anyway (a keyboard shortcut, a script) changes nothing
    ed = _editor(win, "model.spectral_radius")
    ed.widget.committed.emit(3.0)
    ed = _editor(win, "task.length")
    ed.widget.setValue(40)
    ed = _editor(win, "remedies.clip")
    ed.widget.activated.emit(ed.widget.findData("none"))
    assert not win.controller.set_value("task.length", 30)
    _assert_locked(win)
    assert win.controller.set_value("training.learning_rate", 0.05)  # an unlocked key still changes


def test_route_presets_menu(win):
    action = next(a for a in win.presets_menu.actions() if a.text() == "exploding-tanh")
    action.trigger()
    _assert_locked(win)
    assert win.controller.exp.model.activation == "tanh"
    assert {"model.spectral_radius", "task.length"} <= set(win.controller.kept_locked)  # named in the banner


def test_route_file_open_and_recent_files(win, tmp_path):
    f = tmp_path / "other.toml"
    save_toml(Experiment().replace(task__length=40, model__spectral_radius=3.0, remedies__clip="none",
                                   model__hidden_size=9), f)
    assert win.files.open(str(f))
    _assert_locked(win)
    assert win.controller.exp.model.hidden_size == 9  # the rest of the file loaded
    win.controller.set_value("model.hidden_size", 8)
    win._fill_recent()
    action = next(a for a in win.recent_menu.actions() if a.text().endswith("other.toml"))
    action.trigger()
    _assert_locked(win)
    assert win.controller.exp.model.hidden_size == 9


def test_route_lessons(win):
    for lesson in ("main", "exploding-and-clipping"):
        win.open_lesson(lesson)
        for i in range(len(win.lesson_panel.lesson.steps)):
            win.lesson_panel.go_to(i)
            _assert_locked(win)


def test_route_opened_lesson_file(win, tmp_path):
    f = tmp_path / "mine.toml"
    shutil.copy(resource_path("lessons", "exploding-and-clipping.toml"), f)
    win.lesson_dock.show()
    assert win.lesson_panel.open_file(f)
    for i in range(len(win.lesson_panel.lesson.steps)):
        win.lesson_panel.go_to(i)
        _assert_locked(win)


def test_route_another_classroom_file_adds_its_locks_and_keeps_the_first(win, tmp_path):
    f = tmp_path / "second.toml"
    f.write_text('[classroom]\npreset = "exploding-tanh"\nlock = ["seed"]\n')
    assert win.apply_classroom(load_classroom(f))
    _assert_locked(win)
    assert set(win.controller.locks.keys) == set(LOCKED) | {"seed"}
    assert win.controller.locks.source("task.length") == "room.toml"
    assert win.controller.locks.source("seed") == "second.toml"
    assert not _editor(win, "model.spectral_radius").widget.isEnabled()


def test_route_sweep_cell(win):
    win.controller.set_experiment(Experiment().replace(task__length=50, model__spectral_radius=0.5),
                                  what="sweep cell")
    _assert_locked(win)


def test_route_undo_and_redo(qtbot, tmp_path):
    w = MainWindow(Experiment().replace(task__length=12, model__hidden_size=8), mode="sync", remember=False)
    w.controller.confirm = lambda text: True
    qtbot.addWidget(w)
    assert w.controller.set_value("model.spectral_radius", 2.0)
    assert w.controller.set_value("task.length", 20)
    f = tmp_path / "room.toml"
    f.write_text('[classroom]\nset = { "model.spectral_radius" = 1.25, "task.length" = 14, '
                 '"model.hidden_size" = 8, "remedies.clip" = "norm" }\n'
                 'lock = ["model.spectral_radius", "task.length", "remedies.clip"]\n')
    assert w.apply_classroom(load_classroom(f))
    _assert_locked(w)
    for _ in range(5):
        w.undo_action.trigger()
        _assert_locked(w)
    for _ in range(5):
        w.redo_action.trigger()
        _assert_locked(w)
    w.close()


def test_a_refused_lock_names_the_file(win):
    msgs = []
    win.controller.message.connect(msgs.append)
    win.controller.set_value("task.length", 30)
    assert msgs and "room.toml" in msgs[-1] and "task.length" in msgs[-1]
