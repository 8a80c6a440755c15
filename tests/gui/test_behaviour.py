"""Behaviour of the window: the rewind rescue through the GUI, Run N steps and the optional stops, the timeline
menu, undo/redo and the title, the mouse wheel over the controls, prompts naming every key, Quit."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnlab.config import save_toml
from rnnlab.presets import get_preset
from tests.gui.windows import small, window_factory


@pytest.fixture
def window(qtbot):
    make, close_all = window_factory(qtbot)
    yield make
    close_all()


def _editor(win, key):
    return next(p.editors[key] for p in win.panels if key in p.editors)


def test_rewind_rescues_the_clipping_preset_explosion_through_the_window(window):
    win = window()
    c = win.controller
    assert win.load_preset(get_preset("clipping"))
    assert c.set_value("remedies.clip", "none")
    c.run_steps(400)
    boom = c.last_snapshot.explosion
    assert boom is not None and c.last_snapshot.rho != c.last_snapshot.rho or c.last_snapshot.rho > 1e6 or boom
    win.rewind_action.trigger()
    snap = c.last_snapshot
    assert snap.explosion is None and snap.step == boom.checkpoint_step < 6
    assert snap.rho < 3 and np.isfinite(snap.loss) and snap.loss < 10
    assert _editor(win, "remedies.clip").widget.currentData() == "none"
    assert c.set_value("remedies.clip", "norm")
    losses = []
    c.frame.connect(lambda s: losses.extend(s.history["loss"]))
    c.run_steps(1000)
    assert c.last_snapshot.step == boom.checkpoint_step + 1000
    assert np.mean(losses[-100:]) < c.last_snapshot.baseline.loss


def test_timeline_menu_lists_kept_steps_and_rewinds_to_one(window):
    win = window()
    c = win.controller
    c.run_steps(60)
    win._fill_timeline()
    labels = [a.text() for a in win.timeline_menu.actions() if a.text()]
    assert labels[0] == "step 60" and "step 0" in labels and len(labels) <= win.TIMELINE_ENTRIES + 1
    act = next(a for a in win.timeline_menu.actions() if a.text() == labels[3])
    act.trigger()
    assert c.last_snapshot.step == int(labels[3].split()[1])
    win.ask_int = lambda *a: 7
    win._ask_rewind_step()
    assert c.last_snapshot.step == 7


def test_run_n_steps_stop_at_training_steps_and_at_success(window):
    win = window(small(training__steps=25))
    c = win.controller
    win.ask_int = lambda *a: 13
    win.run_steps_action.trigger()
    assert c.last_snapshot.step == 13
    c.play()
    c._sync()
    assert c.last_snapshot.step == 25 and not c.playing and "training.steps" in c.last_snapshot.stopped
    assert win.banner.isVisibleTo(win) and win.banner.plain_text() == c.last_snapshot.stopped  # "Stopped at step 25"
    sent = []
    send = c.session.send
    c.session.send = lambda cmd: (sent.append(cmd), send(cmd))
    c.play()  # again at the budget: trains on past it (no step limit)
    assert not win.banner.isVisibleTo(win)  # and the stop's message no longer stands
    c.pause()
    assert type(sent[0]).__name__ == "Play" and sent[0].until_step is None
    c.session.send = send
    c.rewind(10)
    sent.clear()
    c.session.send = lambda cmd: (sent.append(cmd), send(cmd))
    c.play()
    c.pause()
    assert sent[0].until_step == 25
    c.session.send = send
    win.stop_steps_action.setChecked(False)
    assert not c.stop_at_steps
    win.stop_success_action.setChecked(True)
    assert c.stop_at_success


def test_undo_redo_of_settings_and_title_with_modified_marker(window, tmp_path):
    win = window()
    c = win.controller
    assert win.windowTitle().startswith("untitled") and not win.isWindowModified()
    f = tmp_path / "lesson-exp.toml"
    save_toml(small(seed=3), f)
    assert win.files.open(str(f))
    assert win.windowTitle().startswith("lesson-exp.toml") and not win.isWindowModified()
    c.set_value("training.learning_rate", 0.05)
    c.set_value("remedies.clip", "norm")
    assert win.isWindowModified()
    assert "remedies.clip" in win.undo_action.text()
    win.undo_action.trigger()
    assert c.exp.remedies.clip == "none" and c.exp.training.learning_rate == 0.05
    assert _editor(win, "remedies.clip").widget.currentData() == "none"
    win.undo_action.trigger()
    assert c.exp == small(seed=3) and not win.isWindowModified()
    win.redo_action.trigger()
    win.redo_action.trigger()
    assert c.exp.remedies.clip == "norm" and win.isWindowModified()
    win.files.save(str(tmp_path / "saved.toml"))
    assert win.windowTitle().startswith("saved.toml") and not win.isWindowModified()
    win.load_preset(get_preset("lstm"))
    assert win.windowTitle().startswith("preset lstm")
    win.undo_action.trigger()  # a preset is undone as one change
    assert c.exp.remedies.clip == "norm" and c.exp.model.arch == "rnn"


def test_prompt_names_every_key_a_preset_changes(window):
    win = window()
    asked = []
    win.controller.confirm = lambda text: asked.append(text) or False
    preset = get_preset("exploding-tanh")
    assert not win.load_preset(preset)
    changed = win.controller.exp.diff(preset.experiment)
    assert len(changed) > 2
    for key in changed:
        assert key in asked[0], key
    assert win.controller.exp == small()


def _wheel(widget, notches=-1):
    pos = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    ev = QtGui.QWheelEvent(pos, widget.mapToGlobal(pos), QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 * notches),
                           QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                           QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(widget, ev)


def test_wheel_scrolls_the_controls_and_changes_a_control_only_with_focus(window, qtbot):
    win = window()
    win.resize(1280, 600)
    win.show()
    qtbot.waitExposed(win)
    scroll = win.controls_dock.widget()
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0
    for key in ("training.optimizer", "remedies.clip", "model.hidden_size", "training.learning_rate",
                "model.spectral_radius"):
        ed = _editor(win, key)
        before = win.controller.exp.get(key)
        target = ed.widget.slider if hasattr(ed.widget, "slider") else ed.widget
        bar.setValue(0)
        _wheel(target, -2)
        QtWidgets.QApplication.processEvents()
        assert win.controller.exp.get(key) == before, key
        assert bar.value() > 0, key  # the panel scrolled instead
    combo = _editor(win, "training.optimizer").widget
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    _wheel(combo, -1)
    QtWidgets.QApplication.processEvents()
    assert win.controller.exp.training.optimizer != "sgd"  # with focus the wheel changes it


def test_quit_closes_compare_windows_and_their_training(window, qtbot):
    win = window()
    cw = win.open_compare({"remedies.clip": "norm"}, mode="thread")
    sessions = [c.session for c in cw.ctrl.values()]
    assert all(s.is_alive() for s in sessions)
    win.close()
    assert not cw.isVisible()
    assert not any(s.is_alive() for s in sessions)


def test_compare_value_picker_is_typed_from_the_keys_metadata_and_the_window_has_a_close_button(qtbot):
    from superqt import QLargeIntSpinBox

    from rnnlab.gui.compare_window import ChooseDifference, CompareWindow

    exp = small()
    dlg = ChooseDifference(exp, {"remedies.clip": "none"})
    qtbot.addWidget(dlg)
    assert isinstance(dlg.editor.widget, QtWidgets.QComboBox)
    dlg._accept()
    assert dlg.changes == {} and "B would equal A" in dlg.error.text()  # A already has clip = "none"
    dlg.editor.set("norm")
    dlg._accept()
    assert dlg.changes == {"remedies.clip": "norm"}
    dlg = ChooseDifference(exp)
    qtbot.addWidget(dlg)
    dlg.key.setCurrentText("model.hidden_size")
    assert isinstance(dlg.editor.widget, (QtWidgets.QSpinBox, QLargeIntSpinBox))
    dlg.editor.widget.setValue(16)
    dlg._accept()
    assert dlg.changes == {"model.hidden_size": 16} and type(dlg.changes["model.hidden_size"]) is int
    dlg = ChooseDifference(exp)
    qtbot.addWidget(dlg)
    dlg.key.setCurrentText("remedies.hessian_free")
    assert isinstance(dlg.editor.widget, QtWidgets.QCheckBox)
    dlg.editor.widget.setChecked(True)
    dlg._accept()
    assert dlg.changes == {"remedies.hessian_free": True}
    cw = CompareWindow(exp, {"remedies.clip": "norm"}, mode="sync")
    qtbot.addWidget(cw)
    cw.show()
    assert cw.close_action.text() == "Close compare"
    cw.close_action.trigger()
    assert not cw.isVisible()


def test_status_bar_numbers_stay_apart_and_steps_per_second_follows_pause(window):
    win = window(get_preset("clipping").contrast_experiment())
    c = win.controller
    c.run_steps(400)
    texts = {k: lab.text() for k, lab in win.status.labels.items()}
    assert "e+" not in "".join(texts.values())
    assert texts["ρ"].startswith("ρ: ") and ("·10" in texts["ρ"] or texts["ρ"] == "ρ: —")
    c.run_steps(0)
    c.rewind()
    win.status.set_playing(True)
    win.status.set_playing(False)
    assert win.status.labels["steps/s"].text() == "steps/s: 0"
    c.set_value("remedies.clip", "norm")
    c.run_steps(1000)
    assert win.status.labels["step"].text().replace("\u2009", "") == f"step: {c.last_snapshot.step}"
    assert "\u2009" in win.status.labels["step"].text()


def test_a_tiny_float_shows_and_can_be_typed(window):
    win = window(small(model__arch="esn", task__name="sine", task__length=40))
    ed = _editor(win, "remedies.esn_ridge")
    win.controller.set_value("remedies.esn_ridge", 1e-10)
    assert ed.widget.text() == "1e-10"
    ed.widget.lineEdit().setText("3e-9")
    ed.widget.interpretText()
    assert win.controller.exp.remedies.esn_ridge == pytest.approx(3e-9)
