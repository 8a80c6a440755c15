"""Imported PyTorch and ONNX models compute exactly what PyTorch computes.

The fixtures (tests/data/import/, written once by tests/data/make_import_fixtures.py with torch and onnx) hold
nn.RNN (tanh, relu), nn.LSTM and nn.GRU modules, 1 and 2 layers, uni- and bidirectional, in float32 and float64,
as safetensors state_dicts and as ONNX exports, with PyTorch's hidden states of every layer and direction and the
Jacobian ∂s_last/∂s_first by torch autograd. These tests need neither torch nor (for the state_dicts) onnx.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnlab.config import ModelConfig
from rnnlab.core.bptt import forward
from rnnlab.core.diagnostics import jacobian_log10
from rnnlab.models import open_model

DATA = Path(__file__).resolve().parent.parent / "data" / "import"
NAMES = sorted(p.name[: -len(".expected.npz")] for p in DATA.glob("*.expected.npz"))
HAS_ONNX = importlib.util.find_spec("onnx") is not None
#: max |h_rnnlab − h_torch| / max(1, max |h_torch|): float32 files are computed by PyTorch in float32
TOL_H = {"f32": 1e-6, "f64": 1e-12}
#: max |J_rnnlab − J_torch| / max |J_torch|
TOL_J = {"f32": 1e-5, "f64": 1e-10}


def _cases():
    for name in NAMES:
        for suffix in (".safetensors", ".onnx"):
            if (DATA / (name + suffix)).exists():
                marks = [pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")] if suffix == ".onnx" else []
                yield pytest.param(name, suffix, id=name + suffix, marks=marks)


def _diagnosed(name: str, suffix: str):
    """(model, expected arrays, [(layer, direction, net, trace)]) for every layer and direction."""
    model = open_model(DATA / (name + suffix))
    ref = np.load(DATA / f"{name}.expected.npz")
    mc = ModelConfig(activation="relu" if "relu" in name else "tanh")
    x = ref["x"].astype(np.float64)
    out = []
    for k, layer in enumerate(model.layers):
        for d in layer.directions:
            net = model.network(mc, k, d, None, "linear")
            out.append((k, d, net, forward(net, model.front_end(mc, k, d)(x))))
    return model, ref, out


@pytest.mark.parametrize("name,suffix", list(_cases()))
def test_hidden_states_equal_pytorch(name, suffix):
    model, ref, runs = _diagnosed(name, suffix)
    assert len(runs) == len(model.layers) * (2 if "_bi_" in name else 1)
    tol = TOL_H[name[-3:]]
    for k, d, net, trace in runs:
        h = trace.hidden(net)
        h = h[::-1] if d == "backward" else h  # a backward direction runs from the last step
        want = ref[f"h_l{k}_{d}"]
        err = np.abs(h - want).max() / max(1.0, np.abs(want).max())
        assert err <= tol, (k, d, err)


@pytest.mark.parametrize("name,suffix", list(_cases()))
def test_jacobian_of_the_last_state_by_the_first_equals_torch_autograd(name, suffix):
    """∂s_T/∂s_0 (the whole state: (h, c) for the LSTM) along the direction's own time, sequence 0, as the product
    of rnnlab's step Jacobians; and the heatmap's corner is its norm."""
    _, ref, runs = _diagnosed(name, suffix)
    tol = TOL_J[name[-3:]]
    for k, d, net, trace in runs:
        T = trace.T
        J = np.eye(net.cell.state_size)
        for t in range(T - 1, 0, -1):
            J = J @ net.cell.jacobian(net.params, trace.cache, t, 0)
        want = ref[f"jac_l{k}_{d}"]
        assert J.shape == want.shape
        assert np.abs(J - want).max() <= tol * np.abs(want).max(), (k, d)
        heat = jacobian_log10(net, trace, b=0)
        assert heat[T - 1, 0] == pytest.approx(np.log10(np.linalg.norm(want)), abs=1e-4 if name.endswith("f32") else 1e-9)


@pytest.mark.parametrize("name,suffix", [c for c in _cases() if "_uni_" in c.values[0]])
def test_the_readout_gives_the_modules_output(name, suffix):
    """One direction on top: the Linear after the recurrent layers is found and used (its output is the
    module's)."""
    model = open_model(DATA / (name + suffix))
    ref = np.load(DATA / f"{name}.expected.npz")
    mc = ModelConfig(activation="relu" if "relu" in name else "tanh")
    top = len(model.layers) - 1
    readout, note = model.readout_for(top, "forward")
    assert readout is not None and note == ""
    net = model.network(mc, top, "forward", readout, "linear")
    z = forward(net, model.front_end(mc, top, "forward")(ref["x"].astype(np.float64))).z
    tol = TOL_H[name[-3:]]
    assert np.abs(z - ref["out"]).max() <= tol * max(1.0, np.abs(ref["out"]).max())
    if top > 0:  # a lower layer has no readout, and says why
        assert model.readout_for(0, "forward")[0] is None
        assert "not the last layer" in model.readout_for(0, "forward")[1]


def test_the_fixtures_cover_what_the_issue_names():
    kinds = {n.split("_l")[0] for n in NAMES}
    assert {"rnn_tanh", "rnn_relu", "lstm", "gru"} <= kinds
    for kind in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        for layers in (1, 2):
            for dirs in ("uni", "bi"):
                for dt in ("f32", "f64"):
                    name = f"{kind}_l{layers}_{dirs}_{dt}"
                    assert name in NAMES
                    assert (DATA / f"{name}.safetensors").exists() and (DATA / f"{name}.onnx").exists()


def test_conventions_are_mapped_not_copied():
    """PyTorch's GRU blocks are r, z, n and rnnlab's z, r, n: the import swaps them (a copy would still run, and
    be wrong); the reset-after variant is on."""
    from safetensors.numpy import load_file

    raw = load_file(str(DATA / "gru_l1_uni_f64.safetensors"))
    model = open_model(DATA / "gru_l1_uni_f64.safetensors")
    p = model.layers[0].directions["forward"]
    H = 4
    np.testing.assert_array_equal(p["W_hh"][:H], raw["rnn.weight_hh_l0"][H : 2 * H])  # z is PyTorch's 2nd block
    np.testing.assert_array_equal(p["W_hh"][H : 2 * H], raw["rnn.weight_hh_l0"][:H])  # r its 1st
    np.testing.assert_array_equal(p["b_hn"], raw["rnn.bias_hh_l0"][2 * H :])
    assert model.reset_after
    onnx_lstm = open_model(DATA / "lstm_l1_uni_f64.onnx") if HAS_ONNX else None
    torch_lstm = open_model(DATA / "lstm_l1_uni_f64.safetensors")
    if onnx_lstm is not None:  # ONNX's i, o, f, c and PyTorch's i, f, g, o land in the same rnnlab layout
        for key in ("W_hx", "W_hh", "b_h"):
            np.testing.assert_allclose(onnx_lstm.layers[0].directions["forward"][key],
                                       torch_lstm.layers[0].directions["forward"][key], rtol=0, atol=1e-15)


def test_no_torch_or_onnx_is_imported_by_the_import_tests():
    code = ("import sys, rnnlab.models, rnnlab.train.imported; from rnnlab.models import open_model; "
            f"open_model({str(DATA / 'lstm_l2_bi_f32.safetensors')!r}); "
            "print('torch' in sys.modules, 'onnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
