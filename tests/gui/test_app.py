"""The desktop app, offscreen: panels bind both ways, transport, mid-run remedies, explosions, files, shutdown."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets
from superqt import QLargeIntSpinBox

from rnnlab.config import Experiment, load_toml, save_toml
from rnnlab.gui.main_window import MainWindow
from tests.gui.windows import small, window_factory


@pytest.fixture
def window(qtbot):
    make, close_all = window_factory(qtbot)
    yield make
    close_all()


def recurrent_panel(win):
    return next(p for p in win.panels if type(p).__name__ == "RecurrentPanel")


def editor(win, key):
    for p in win.panels:
        if key in p.editors:
            return p.editors[key]
    raise KeyError(key)


# --- panels bind both ways --------------------------------------------------------------------------------------

PANEL_CASES = [
    ("task.name", "addition"), ("task.length", 30), ("task.batch_size", 7),
    ("model.arch", "gru"), ("model.hidden_size", 16), ("model.readout", "last"),
    ("model.activation", "sigmoid"), ("model.init", "orthogonal"),
    ("remedies.clip", "norm"), ("remedies.clip_threshold", 0.5), ("remedies.tbptt_k1", 0), ("remedies.l2", 0.01),
    ("remedies.omega", 2.0), ("remedies.hessian_free", True),
    ("training.optimizer", "adam"), ("training.learning_rate", 0.003), ("seed", 5),
]


def _commit(ed, value):
    w = ed.widget
    if isinstance(w, QtWidgets.QComboBox):
        w.setCurrentIndex(w.findData(value))
        w.activated.emit(w.currentIndex())
    elif isinstance(w, QtWidgets.QCheckBox):
        w.setChecked(value)
    elif isinstance(w, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox, QLargeIntSpinBox)):
        w.setValue(value)
    else:  # LogSlider
        w.edit.setText(str(value))
        w.edit.editingFinished.emit()


@pytest.mark.parametrize("key,value", PANEL_CASES)
def test_panel_writes_the_config_and_follows_it_back(window, key, value):
    win = window()
    ed = editor(win, key)
    _commit(ed, value)
    assert win.controller.exp.get(key) == value
    # and back: a new experiment (e.g. an opened file) sets the widget
    other = win.controller.exp.replace(key, Experiment().get(key)) if key != "seed" else \
        win.controller.exp.replace("seed", 11)
    win.controller.set_experiment(other)
    shown = ed.widget
    expected = other.get(key)
    if isinstance(shown, QtWidgets.QComboBox):
        assert shown.currentData() == expected
    elif isinstance(shown, QtWidgets.QCheckBox):
        assert shown.isChecked() == expected
    elif isinstance(shown, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
        assert shown.value() == pytest.approx(expected)
    else:
        assert shown.value() == pytest.approx(expected, rel=1e-2)


def test_every_control_has_a_tooltip(window):
    win = window()
    for p in win.panels:
        for key, ed in p.editors.items():
            assert key in ed.widget.toolTip() and len(ed.widget.toolTip()) > 30, key
    assert "spectral_radius" in recurrent_panel(win).rho.toolTip()


def test_invalid_value_is_refused_and_the_widget_snaps_back(window):
    win = window()
    ed = editor(win, "training.learning_rate")
    ed.widget.edit.setText("-3")
    ed.widget.edit.editingFinished.emit()
    assert win.controller.exp.training.learning_rate == 0.01
    assert not win.banner.isHidden() and "training.learning_rate" in win.banner.text()
    assert ed.widget.value() == pytest.approx(0.01)


def test_change_that_needs_new_weights_asks_and_can_be_declined(window):
    win = window(confirm=False)
    win.controller.step(3)
    _commit(editor(win, "model.hidden_size"), 20)
    assert win.controller.exp.model.hidden_size == 8
    assert editor(win, "model.hidden_size").widget.value() == 8
    assert win.controller.last_snapshot.step == 3  # the run survived
    win.controller.confirm = lambda text: True
    _commit(editor(win, "model.hidden_size"), 20)
    assert win.controller.exp.model.hidden_size == 20
    assert win.controller.last_snapshot.step == 0


def test_spectral_radius_slider_previews_before_applying(window):
    win = window()
    panel = recurrent_panel(win)
    before = panel._scatter.getData()[0].copy()
    rho = panel.rho
    pos = rho.slider.value() + 8  # a drag of 0.4 decades: preview only
    rho.slider.setValue(pos)
    target = rho._from_pos(pos)
    assert win.controller.exp.model.spectral_radius == 0.95
    ev = panel._scatter.getData()
    assert np.max(np.hypot(*ev)) == pytest.approx(target, rel=1e-9)
    assert not np.allclose(before, ev[0])
    assert "release to apply" in panel.preview_label.text()
    rho.slider.sliderReleased.emit()
    assert win.controller.exp.model.spectral_radius == pytest.approx(target)
    assert win.controller.session.trainer.net.spectral_radius() == pytest.approx(target)
    # the preview showed exactly the eigenvalues of the W_hh that was drawn
    W = win.controller.session.trainer.net.recurrent_matrix()
    assert np.sort(np.abs(np.linalg.eigvals(W))) == pytest.approx(np.sort(np.hypot(*ev)))


def test_spectral_radius_control_covers_the_whole_config_range(window):
    win = window()
    for value in (0.002, 37.0, 100.0):  # 0.1's slider stopped at 4 (config allows up to 100)
        _commit(editor(win, "model.spectral_radius"), value)
        assert win.controller.exp.model.spectral_radius == value
        assert editor(win, "model.spectral_radius").widget.value() == pytest.approx(value)


def test_a_seed_beyond_32_bits_opens_in_the_window_and_round_trips(window, tmp_path):
    exp = small(seed=3_000_000_000)
    path = tmp_path / "big-seed.toml"
    save_toml(exp, path)
    win = window(load_toml(path))
    ed = editor(win, "seed")
    assert ed.widget.value() == 3_000_000_000
    _commit(ed, 2**63 - 1)
    assert win.controller.exp.seed == 2**63 - 1
    assert win.files.save(str(tmp_path / "again.toml"))
    assert load_toml(tmp_path / "again.toml").seed == 2**63 - 1


def test_controls_that_have_no_effect_are_greyed_out_with_the_reason(window):
    win = window(small(**{"training.optimizer": "sgd"}))
    mom = editor(win, "training.momentum").widget
    assert not mom.isEnabled() and "momentum" in mom.toolTip() and "No effect here" in mom.toolTip()
    _commit(editor(win, "training.optimizer"), "nesterov")
    assert mom.isEnabled()
    _commit(editor(win, "model.arch"), "esn")
    clip = editor(win, "remedies.clip").widget
    assert not clip.isEnabled() and "ridge regression" in clip.toolTip()
    assert editor(win, "remedies.esn_ridge").widget.isEnabled()


# --- transport --------------------------------------------------------------------------------------------------

def _activate(win, qtbot):
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)  # waitActive returns early on the offscreen platform


def test_step_and_reset_keys(window, qtbot):
    win = window()
    _activate(win, qtbot)
    qtbot.keyClick(win, QtCore.Qt.Key.Key_S)
    qtbot.keyClick(win, QtCore.Qt.Key.Key_Right)
    assert win.controller.last_snapshot.step == 2
    qtbot.keyClick(win, QtCore.Qt.Key.Key_R)
    assert win.controller.last_snapshot.step == 0
    assert "step: 0" in win.status.labels["step"].text()


def test_remedy_change_mid_run_reaches_the_trainer_and_is_marked(window, qtbot):
    win = window(mode="thread")
    win.controller.play()
    qtbot.waitUntil(lambda: win.controller.last_snapshot is not None and win.controller.last_snapshot.step >= 10,
                    timeout=20000)
    _commit(editor(win, "remedies.clip"), "norm")
    qtbot.waitUntil(lambda: win.controller.session.trainer.exp.remedies.clip == "norm", timeout=5000)
    grad_plot = next(p for p in win.plots if type(p).__name__ == "GradNormsPlot")
    qtbot.waitUntil(lambda: any("remedies.clip" in t for _, t in grad_plot.events.texts()), timeout=5000)
    win.controller.pause()
    snap = win.controller.last_snapshot
    assert any(r.startswith("clip norm") for r in snap.remedies)
    assert snap.step > 0  # trained on without a reset


# --- files ------------------------------------------------------------------------------------------------------

def test_malformed_file_shows_an_error_and_leaves_the_experiment(window, tmp_path):
    win = window()
    win.controller.step(4)
    before = win.controller.exp
    errors = []
    win.files.error = lambda title, text: errors.append(text)
    for content in ("[model\narch = 'rnn'", "[model]\nhidden_size = -4\n", "[modle]\nx = 1\n"):
        bad = tmp_path / "bad.toml"
        bad.write_text(content)
        assert not win.files.open(str(bad))
    assert len(errors) == 3
    assert "bad.toml" in errors[0] and "not valid TOML" in errors[0]
    assert "model.hidden_size = -4" in errors[1]
    assert "modle" in errors[2]
    assert win.controller.exp == before and win.controller.last_snapshot.step == 4


def test_save_open_round_trip_and_recent_files(window, tmp_path):
    win = window()
    win.controller.set_value("remedies.l2", 0.05)
    path = tmp_path / "mine.toml"
    assert win.files.save(str(path))
    assert load_toml(path) == win.controller.exp
    other = tmp_path / "other.toml"
    save_toml(small(seed=3).replace("remedies.clip", "value"), other)
    assert win.files.open(str(other))
    assert win.controller.exp.remedies.clip == "value"
    assert win.files.recent()[:2] == [str(other.resolve()), str(path.resolve())]
    assert [a.text() for a in win.recent_menu.actions()][:2] == win.files.recent()[:2]


def test_export_plot_png_svg_csv_and_export_run(window, tmp_path):
    win = window()
    win.controller.step(15)
    for plot in win.plots:
        for kind in ("png", "svg", "csv"):
            out = tmp_path / f"{type(plot).__name__}.{kind}"
            assert win.files.export_plot(plot, kind, str(out)), (plot.title, kind)
            assert out.stat().st_size > 0
    assert win.files.export_run(str(tmp_path / "run"))
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert len(rows) == 15
    assert (tmp_path / "run" / "state.npz").exists()
    assert load_toml(tmp_path / "run" / "config.toml") == win.controller.exp


def test_presets_menu_loads_a_preset_with_its_description(window):
    win = window()
    from rnnlab.presets import get_preset

    p = get_preset("clipping")
    assert win.load_preset(p)
    assert win.controller.exp == p.experiment
    assert "clipping" in win.banner.text() and p.description[:40] in win.banner.text()
    names = [a.text() for a in win.presets_menu.actions()]
    assert "clipping" in names and "lstm" in names


def test_window_remembers_layout_and_last_experiment(qtbot):
    from rnnlab.gui.files import FileActions

    win = MainWindow(small(), mode="sync", remember=True)
    qtbot.addWidget(win)
    win.controller.set_value("remedies.clip", "norm")
    win.view_area.set_view_shown("saturation", False)  # View ▸ Views shown, and a focused view
    win.view_area.focus("spectrum")
    win.close()
    assert FileActions.last_experiment().remedies.clip == "norm"
    win2 = MainWindow(small(), mode="sync", remember=True)
    qtbot.addWidget(win2)
    assert "saturation" not in win2.view_area.chosen and win2.view_area.focused == "spectrum"
    win2.close()


def test_status_bar_reports_step_loss_rho(window):
    win = window()
    win.controller.step(5)
    texts = {k: lab.text() for k, lab in win.status.labels.items()}
    assert texts["step"] == "step: 5"
    assert texts["ρ"].startswith("ρ: ") and texts["ρ"] != "ρ: —"
    assert texts["loss"] != "loss: —"


def test_screenshot_command_writes_a_png(tmp_path):
    from rnnlab.cli import main

    out = tmp_path / "shot.png"
    assert main(["screenshot", "--set", "task.length=12", "--set", "model.hidden_size=8", "--steps", "5",
                 "--size", "1200x800", "--out", str(out)]) == 0
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)


def test_cyclic_garbage_is_collected_in_the_gui_thread_only(qtbot):
    import gc
    import threading
    import weakref

    assert not gc.isenabled()  # a training thread never runs the collector (it would delete Qt objects there)

    class Node:
        pass

    where = []
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    weakref.finalize(a, lambda: where.append(threading.get_ident()))
    del a, b
    keep = [Node() for _ in range(2 * gc.get_threshold()[0])]  # enough to have triggered an automatic collection
    assert not where
    qtbot.waitUntil(lambda: bool(where), timeout=5000)  # the GUI thread's timer collects it
    del keep
    assert where == [threading.main_thread().ident]
