"""An imported model in the window: the badge, the controls that do not apply greyed out with the reason, Play
fine-tuning the imported weights with the chosen remedies, Export run writing them back under their names; and
the views drawn from the loss saying why they are empty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from rnnlab.config import Experiment
from rnnlab.train.imported import experiment_for
from tests.gui.windows import window_factory

DATA = Path(__file__).resolve().parent.parent / "data" / "import"


@pytest.fixture
def window(qtbot):
    make, close_all = window_factory(qtbot)
    yield lambda exp=None, mode="sync": make(exp or Experiment().replace(task__length=12, model__hidden_size=8), mode,
                                              collect_errors=True)
    close_all()


def editor(win, key):
    return next(p.editors[key] for p in win.panels if key in p.editors)


def view(win, view_id):
    return next(p for p in win.plots if p.view_id == view_id)


def test_open_model_and_data_from_the_file_menu(window):
    win = window()
    assert win.import_badge.isHidden()
    assert win.imports.open_model(str(DATA / "lstm_l2_bi_f32.safetensors"))
    exp = win.controller.exp
    assert exp.model.source.endswith("lstm_l2_bi_f32.safetensors") and exp.model.arch == "lstm"
    badge = win.import_badge.text()
    assert not win.import_badge.isHidden()
    assert "Imported: lstm_l2_bi_f32.safetensors · layer 0 of 2 · forward · no readout" in badge
    assert "nothing to fine-tune" in badge
    # controls the file decides, or that need a loss, are off and say why
    for key, why in (("model.hidden_size", "decided by the imported model"), ("model.spectral_radius", "decided"),
                     ("training.learning_rate", "nothing to train"), ("remedies.clip", "nothing to train")):
        w = editor(win, key).widget
        assert not w.isEnabled() and why in w.toolTip(), key
    assert not win.play_action.isEnabled() and "Nothing to train" in win.play_action.toolTip()
    assert editor(win, "model.source_layer").widget.isEnabled()
    # the views drawn from the loss say why they are empty; the heatmap is drawn
    snap = win.controller.last_snapshot
    assert snap.diagnostics is not None and np.isfinite(snap.diagnostics.jacobian_log10[-1, 0])
    for vid in ("loss", "grad_norms", "gradient_flow"):
        v = view(win, vid)
        assert not v._empty.isHidden() and "no data" in v._empty.text(), vid
    assert view(win, "heatmap").has_data
    # the top layer on your data: a readout, a loss, and Play on
    _pick(editor(win, "model.source_layer"), 1)
    assert win.controller.exp.model.source_layer == 1
    assert "layer 1 of 2" in win.import_badge.text()
    assert win.imports.open_data(str(DATA / "seqs_cls.npz"))
    assert win.controller.exp.task.path.endswith("seqs_cls.npz")
    assert "no readout" in win.import_badge.text()  # the top layer is bidirectional: still no readout
    assert not win.play_action.isEnabled()


def _pick(ed, value):
    from PySide6 import QtWidgets

    w = ed.widget
    if isinstance(w, QtWidgets.QComboBox):
        w.setCurrentIndex(w.findData(value))
        w.activated.emit(w.currentIndex())
    else:
        w.setValue(value)


def test_play_fine_tunes_with_clipping_and_export_writes_the_file_back(window, tmp_path):
    exp = experiment_for(DATA / "gru_l1_uni_f64.safetensors", data=DATA / "seqs_cls.npz",
                         changes={"remedies.clip": "norm", "remedies.clip_threshold": 0.01,
                                  "training.learning_rate": 0.1})
    win = window(exp)
    assert win.play_action.isEnabled() and "Play fine-tunes this layer" in win.import_badge.text()
    assert editor(win, "remedies.clip_threshold").widget.isEnabled()
    before = win.controller.session.trainer.net.params["W_hh"].copy()
    win.controller.step(12)
    snap = win.controller.last_snapshot
    assert snap.step == 12 and np.isfinite(snap.loss)
    tr = win.controller.session.trainer
    assert np.abs(tr.net.params["W_hh"] - before).max() > 0
    clipped = tr.history.since(0)["clipped"]
    assert np.nansum(clipped) >= 10  # a threshold of 0.01: clipping acts on this network's gradient
    assert view(win, "loss").has_data and view(win, "gradient_flow").has_data
    assert win.files.export_run(str(tmp_path / "run"))
    w = load_file(str(tmp_path / "run" / "weights.safetensors"))
    original = load_file(str(DATA / "gru_l1_uni_f64.safetensors"))
    assert set(w) == set(original)
    assert np.abs(w["rnn.weight_hh_l0"] - original["rnn.weight_hh_l0"]).max() > 0


def test_a_model_that_cannot_be_opened_leaves_the_experiment(window, tmp_path):
    win = window()
    before = win.controller.exp
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not onnx" * 10)
    assert not win.imports.open_model(str(bad))
    assert not win.imports.open_model(str(DATA / "refuse_lstm_proj.safetensors"))
    assert not win.imports.open_data(str(tmp_path / "missing.npz"))
    assert [t for t, _ in win.errors] == ["Cannot open model", "Cannot open model", "Cannot open data"]
    assert "proj_size" in win.errors[1][1] and "no such file" in win.errors[2][1]
    assert win.controller.exp == before and win.import_badge.isHidden()
    # data that do not fit an imported model are refused before anything switches
    assert win.imports.open_model(str(DATA / "lstm_l1_uni_f32.safetensors"))
    five = tmp_path / "five.npz"
    np.savez(five, x=np.zeros((4, 6, 5)), y=np.zeros(4, dtype=np.int64))
    current = win.controller.exp
    assert not win.imports.open_data(str(five))
    assert "five.npz has 5 features per step" in win.errors[-1][1]
    assert win.controller.exp == current


def test_gui_command_line_takes_model_and_data(monkeypatch):
    """``rnnlab gui --model … --data …`` builds the window on the imported experiment."""
    from rnnlab.cli import main
    import rnnlab.gui.main_window as mw

    made = {}

    class FakeWindow:
        def __init__(self, exp, mode):
            made["exp"] = exp

        def show(self):
            pass

    import rnnlab.gui.app as app_mod

    monkeypatch.setattr(mw, "MainWindow", FakeWindow)
    monkeypatch.setattr(app_mod.get_app(), "exec", lambda: 0, raising=False)
    monkeypatch.setattr(app_mod, "dispose", lambda win: None)
    rc = main(["gui", "--model", str(DATA / "gru_l2_uni_f32.onnx"), "--layer", "1", "--data",
               str(DATA / "seqs_cls.npz")])
    assert rc == 0
    exp = made["exp"]
    assert exp.model.source.endswith("gru_l2_uni_f32.onnx") and exp.model.source_layer == 1
    assert exp.model.gru_reset_after and exp.task.path.endswith("seqs_cls.npz")


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_the_training_engines_fine_tune_an_imported_model(window, qtbot, mode):
    exp = experiment_for(DATA / "lstm_l1_uni_f32.safetensors", data=DATA / "seqs_cls.npz")
    win = window(exp, mode=mode)
    win.controller.play()
    qtbot.waitUntil(lambda: win.controller.last_snapshot is not None and win.controller.last_snapshot.step >= 5,
                    timeout=30000)
    win.controller.pause()
    snap = win.controller.last_snapshot
    assert snap.explosion is None and np.isfinite(snap.loss) and snap.task_name == "file"
