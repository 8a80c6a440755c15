"""What rnnlab cannot open is refused in one clear line that names the file and the problem."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from rnnlab.config import ConfigError
from rnnlab.models import open_model
from rnnlab.train.imported import experiment_for
from rnnlab.train.trainer import Trainer

from .test_against_pytorch import DATA

HAS_ONNX = importlib.util.find_spec("onnx") is not None
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")


def one_line(exc: pytest.ExceptionInfo, *words: str) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) <= 300, text
    for w in words:
        assert w in text, (w, text)
    return text


def test_a_pt_file_without_torch_says_how_to_convert_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(ConfigError) as exc:
        open_model(DATA / "rnn_tanh_l1_uni_f32.pt")
    one_line(exc, "rnn_tanh_l1_uni_f32.pt", "needs torch", "pip install torch", "safetensors")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_a_pt_file_with_torch_is_the_same_model():  # pragma: no cover - the development venv has torch
    pt = open_model(DATA / "rnn_tanh_l1_uni_f32.pt")
    assert pt.arch == "rnn" and len(pt.layers) == 1


def test_onnx_without_the_onnx_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ConfigError) as exc:
        open_model(DATA / "lstm_l1_uni_f32.onnx")
    one_line(exc, "lstm_l1_uni_f32.onnx", "onnx package", "rnnlab[onnx]")


@needs_onnx
@pytest.mark.parametrize("name,words", [
    ("refuse_onnx_operator.onnx", ("unsupported operator", "Softsign")),
    ("refuse_onnx_peephole.onnx", ("peephole", "input P")),
    ("refuse_onnx_none.onnx", ("no RNN, LSTM or GRU operator",)),
])
def test_unsupported_onnx_graphs_are_named(name, words):
    with pytest.raises(ConfigError) as exc:
        open_model(DATA / name)
    one_line(exc, name, *words)


def test_an_lstm_with_a_projection_is_refused():
    with pytest.raises(ConfigError) as exc:
        open_model(DATA / "refuse_lstm_proj.safetensors")
    one_line(exc, "proj_size", "weight_hr_l0")


@pytest.mark.parametrize("suffix,damage", [
    (".safetensors", "truncate"), (".safetensors", "garbage"), (".onnx", "truncate"), (".onnx", "garbage"),
    (".npz", "garbage"), (".npz", "truncate"),
])
def test_a_corrupt_file_gives_one_line(tmp_path, suffix, damage):
    if suffix == ".onnx" and not HAS_ONNX:
        pytest.skip("onnx is not installed")
    if suffix == ".npz":
        from rnnlab.cli.run import run_experiment
        from rnnlab.config import Experiment

        run_experiment(Experiment().replace(model__hidden_size=4, task__length=12), tmp_path / "run", 2,
                       progress=False)
        good = (tmp_path / "run" / "state.npz").read_bytes()
    else:
        good = (DATA / f"lstm_l1_uni_f32{suffix}").read_bytes()
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(good[: len(good) // 3] if damage == "truncate" else b"\x00garbage" * 40)
    with pytest.raises(ConfigError) as exc:
        open_model(bad)
    one_line(exc, f"bad{suffix}", "not a readable")


def test_files_that_are_not_models(tmp_path):
    for path, words in [(tmp_path / "missing.safetensors", ("no such file",)), (tmp_path, ("unknown model format",)),
                        (tmp_path / "w.h5", ("unknown model format", ".h5"))]:
        with pytest.raises(ConfigError) as exc:
            open_model(path)
        one_line(exc, *words)
    folder = tmp_path / "dir.safetensors"
    folder.mkdir()
    with pytest.raises(ConfigError) as exc:
        open_model(folder)
    one_line(exc, "a folder")
    from safetensors.numpy import save_file

    save_file({"fc.weight": np.zeros((2, 3), np.float32)}, str(tmp_path / "mlp.safetensors"))
    with pytest.raises(ConfigError) as exc:
        open_model(tmp_path / "mlp.safetensors")
    one_line(exc, "no recurrent layer", "fc.weight")
    save_file({"rnn.weight_ih_l0": np.zeros((8, 3), np.float32), "rnn.weight_hh_l0": np.zeros((8, 4), np.float32)},
              str(tmp_path / "odd.safetensors"))
    with pytest.raises(ConfigError) as exc:
        open_model(tmp_path / "odd.safetensors")
    one_line(exc, "weight_hh_l0", "(8, 4)", "4H (nn.LSTM)")


def test_a_shape_mismatch_between_model_and_data_is_named(tmp_path):
    five = tmp_path / "five.npz"
    np.savez(five, x=np.zeros((6, 7, 5)), y=np.zeros(6, dtype=np.int64))
    with pytest.raises(ConfigError) as exc:
        Trainer(experiment_for(DATA / "lstm_l1_uni_f32.safetensors", data=five))
    one_line(exc, "five.npz has 5 features per step", "the model takes 3", "lstm_l1_uni_f32.safetensors")
    classes = tmp_path / "classes.npz"
    np.savez(classes, x=np.zeros((6, 7, 3)), y=np.arange(6) % 3)
    with pytest.raises(ConfigError) as exc:
        Trainer(experiment_for(DATA / "lstm_l1_uni_f32.safetensors", data=classes))
    one_line(exc, "classes.npz has 3 classes", "readout has 2 outputs")


def test_a_choice_the_model_does_not_have_is_named():
    with pytest.raises(ConfigError) as exc:
        experiment_for(DATA / "lstm_l2_uni_f32.safetensors", layer=2)
    one_line(exc, "model.source_layer = 2", "2 recurrent layers")
    with pytest.raises(ConfigError) as exc:
        experiment_for(DATA / "lstm_l2_uni_f32.safetensors", direction="backward")
    one_line(exc, "model.source_direction", "forward only")
    with pytest.raises(ConfigError) as exc:
        experiment_for(DATA / "lstm_l2_uni_f32.safetensors", readout="head")
    one_line(exc, "model.source_readout = 'head'", "fc")
    with pytest.raises(ConfigError) as exc:  # an experiment that contradicts its file
        experiment_for(DATA / "lstm_l2_uni_f32.safetensors", changes={"model.hidden_size": 8})
    one_line(exc, "model.hidden_size = 8", "4 units")
