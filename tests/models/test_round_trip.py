"""Round trips: a run's state.npz reopens with the same heatmap; fine-tuned weights go back into the file's own
names and layout (PyTorch reloading them is checked by ``make_import_fixtures.py --check``, which needs torch)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from safetensors.numpy import load_file

from rnnlab.cli.run import run_experiment
from rnnlab.config import Experiment
from rnnlab.models import open_model
from rnnlab.studies.inspect import inspect_experiment
from rnnlab.train.imported import experiment_for, export_weights
from rnnlab.train.trainer import Trainer

from .test_against_pytorch import DATA

HAS_ONNX = importlib.util.find_spec("onnx") is not None


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "leaky"])
def test_run_state_npz_reopens_with_the_same_heatmap(tmp_path, arch):
    exp = Experiment().replace(model__arch=arch, model__hidden_size=6, task__length=15, training__learning_rate=0.05)
    run_experiment(exp, tmp_path, 20, progress=False)
    state = np.load(tmp_path / "state.npz")
    reopened = experiment_for(tmp_path / "state.npz")
    assert reopened.model.source and reopened.task == exp.task and reopened.seed == exp.seed
    res = inspect_experiment(reopened)
    for key in ("jacobian_log10", "gradient_flow_log10", "lag_profile", "hidden", "W_hh", "W_hx", "W_yh"):
        np.testing.assert_array_equal(res.arrays[key], state[key], err_msg=key)
    assert float(res.arrays["loss"]) == float(state["loss"])
    # and the trainer of the reopened run starts from the same weights and draws the same probe batch
    tr = Trainer(reopened)
    np.testing.assert_array_equal(tr.probe[0], state["x"])
    assert tr.diagnostics().jacobian_log10.tobytes() == state["jacobian_log10"].tobytes()


def _fine_tune(exp, steps=5):
    tr = Trainer(exp)
    before = {k: v.copy() for k, v in tr.net.params.items()}
    for _ in range(steps):
        assert tr.step()
    assert any(np.abs(tr.net.params[k] - before[k]).max() > 1e-4 for k in tr.net.cell.trainable)
    return tr


def test_fine_tuned_pytorch_weights_go_back_under_their_names(tmp_path):
    src = DATA / "gru_l2_uni_f64.safetensors"
    exp = experiment_for(src, layer=1, data=DATA / "seqs_cls.npz",
                         changes={"training.optimizer": "adam", "training.learning_rate": 0.05})
    tr = _fine_tune(exp)
    out = export_weights(tr, tmp_path / "weights.safetensors")
    written, original = load_file(str(out)), load_file(str(src))
    assert set(written) == set(original)
    for k, v in original.items():
        assert written[k].shape == v.shape and written[k].dtype == v.dtype
    for k in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"):  # the front end: as it was
        np.testing.assert_array_equal(written[k], original[k])
    assert np.abs(written["rnn.weight_hh_l1"] - original["rnn.weight_hh_l1"]).max() > 1e-4
    assert np.abs(written["fc.weight"] - original["fc.weight"]).max() > 1e-4
    # opened again, the written file is the fine-tuned network exactly (float64 file)
    again = Trainer(experiment_for(out, layer=1, data=DATA / "seqs_cls.npz"))
    for k in tr.net.params:
        np.testing.assert_allclose(again.net.params[k], tr.net.params[k], rtol=0, atol=1e-14, err_msg=k)


def test_float32_files_are_written_back_in_float32(tmp_path):
    src = DATA / "lstm_l1_uni_f32.safetensors"
    tr = _fine_tune(experiment_for(src, data=DATA / "seqs_cls.npz", changes={"training.learning_rate": 0.5}))
    written = load_file(str(export_weights(tr, tmp_path / "w.safetensors")))
    assert all(v.dtype == np.float32 for v in written.values())
    again = Trainer(experiment_for(tmp_path / "w.safetensors", data=DATA / "seqs_cls.npz"))
    for k in tr.net.params:  # equal up to float32 rounding of each stored number (b_h is a sum of two)
        np.testing.assert_allclose(again.net.params[k], tr.net.params[k], rtol=1e-6, atol=1e-6, err_msg=k)


def test_a_model_without_biases_keeps_them_zero_and_writes_none(tmp_path):
    src = DATA / "gru_l2_bi_nobias_f64.safetensors"
    m = open_model(src)
    assert not m.layers[0].has_bias
    exp = experiment_for(src, layer=1, direction="forward")
    tr = Trainer(exp)
    assert "b_h" not in tr.net.trainable and "b_hn" not in tr.net.trainable
    assert tr.untrainable  # bidirectional top layer: no readout, nothing to fine-tune
    written = load_file(str(export_weights(tr, tmp_path / "w.safetensors")))
    assert not any("bias" in k and k.startswith("rnn.") for k in written)


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
def test_fine_tuned_onnx_weights_go_back_into_the_graph(tmp_path):
    """The export holds the ONNX initializers under their names and layouts (W, R, B); put into the graph, the
    model opens again as the fine-tuned network."""
    import onnx
    from onnx import numpy_helper

    src = DATA / "lstm_l2_uni_f64.onnx"
    tr = _fine_tune(experiment_for(src, layer=1, data=DATA / "seqs_cls.npz",
                                   changes={"training.optimizer": "adam", "training.learning_rate": 0.05}))
    written = load_file(str(export_weights(tr, tmp_path / "w.safetensors")))
    proto = onnx.load(str(src))
    assert set(written) == {t.name for t in proto.graph.initializer}
    for t in proto.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(written[t.name], t.name))
    onnx.save(proto, str(tmp_path / "tuned.onnx"))
    again = Trainer(experiment_for(tmp_path / "tuned.onnx", layer=1, data=DATA / "seqs_cls.npz"))
    for k in tr.net.params:
        np.testing.assert_allclose(again.net.params[k], tr.net.params[k], rtol=0, atol=1e-14, err_msg=k)


def test_export_run_writes_the_weights_beside_the_run(tmp_path):
    from rnnlab.train.outputs import write_run

    tr = _fine_tune(experiment_for(DATA / "rnn_tanh_l1_uni_f64.safetensors", data=DATA / "seqs_cls.npz"))
    paths = write_run(tr, tmp_path / "run")
    assert [p.name for p in paths] == ["config.toml", "metrics.csv", "state.npz", "weights.safetensors"]
    state = np.load(tmp_path / "run" / "state.npz")
    assert str(state["loss_note"]) == "" and np.isfinite(state["loss"])
    from rnnlab.config import load_toml

    assert load_toml(tmp_path / "run" / "config.toml").model.source.endswith("rnn_tanh_l1_uni_f64.safetensors")


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
def test_an_onnx_layer_without_biases_keeps_them_zero(tmp_path):
    """ONNX's B is optional: without it the biases are zero, stay zero while fine-tuning, and no B is written."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    H, I = 3, 2
    W = numpy_helper.from_array(rng.standard_normal((1, 3 * H, I)), "W")
    R = numpy_helper.from_array(rng.standard_normal((1, 3 * H, H)), "R")
    Wy = numpy_helper.from_array(rng.standard_normal((H, 2)), "Wy")
    nodes = [helper.make_node("GRU", ["x", "W", "R"], ["Y"], hidden_size=H),
             helper.make_node("Squeeze", ["Y"], ["Ys"]), helper.make_node("MatMul", ["Ys", "Wy"], ["out"])]
    graph = helper.make_graph(nodes, "gru", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [5, 1, I])],
                              [helper.make_tensor_value_info("out", TensorProto.DOUBLE, None)], [W, R, Wy])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "g.onnx"))
    m = open_model(tmp_path / "g.onnx")
    assert not m.layers[0].has_bias and not m.reset_after  # linear_before_reset = 0: Cho's variant
    np.savez(tmp_path / "d.npz", x=rng.standard_normal((20, 5, I)), y=rng.integers(0, 2, 20))
    tr = _fine_tune(experiment_for(tmp_path / "g.onnx", data=tmp_path / "d.npz",
                                   changes={"training.learning_rate": 0.5}))
    assert "b_h" not in tr.net.trainable and "b_y" not in tr.net.trainable
    assert not np.any(tr.net.params["b_h"]) and not np.any(tr.net.params["b_y"])
    written = load_file(str(export_weights(tr, tmp_path / "w.safetensors")))
    assert set(written) == {"W", "R", "Wy"}
    np.testing.assert_allclose(written["Wy"].T, tr.net.params["W_yh"], rtol=0, atol=0)


def test_an_inspect_file_reopens_with_its_own_probe(tmp_path):
    """What ``rnnlab inspect`` writes opens as a model too; without other data it is diagnosed on the probe batch it
    stored (a batch of task.batch_size sequences, not the trainer's 8), so it gives back its own heatmap."""
    from rnnlab.cli import main

    assert main(["inspect", "--set", "model.arch=gru", "--set", "model.hidden_size=5", "--set", "task.length=12",
                 "--out", str(tmp_path / "probe.npz")]) == 0
    stored = np.load(tmp_path / "probe.npz")
    res = inspect_experiment(experiment_for(tmp_path / "probe.npz"))
    assert res.arrays["x"].shape == stored["x"].shape
    for key in ("jacobian_log10", "gradient_flow_log10", "hidden", "lyapunov"):
        np.testing.assert_array_equal(res.arrays[key], stored[key], err_msg=key)
