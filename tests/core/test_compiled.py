"""The compiled loops (rnnlab/core/_kernels.c through rnnlab/core/_compiled.py: the LSTM, both GRU variants, the
vanilla and orthogonal cells, the cells with leaky units, the IndRNN, the LRU) against the pure-NumPy path:
the same states and gradients for awkward shapes and masks, float32 tanh and σ within a few units in the last
place, NaN kept, interruption between chunks, and "auto" choosing it only where it was measured faster."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core import _compiled, bptt
from rnnlab.core._interrupt import Interrupted, hooked

from .conftest import kernels_or_skip
from .helpers import small_net


@pytest.fixture(autouse=True)
def _kernels():
    kernels_or_skip()


def _ulps(a, ref):
    ref32 = ref.astype(np.float32)
    return np.abs(a.astype(np.float64) - ref) / np.spacing(np.abs(ref32)).astype(np.float64)


def test_float32_tanh_is_within_three_ulps_and_keeps_specials():
    x = np.concatenate([np.linspace(-12, 12, 400_001), np.geomspace(1e-30, 12, 100_001)]).astype(np.float32)
    x = np.concatenate([x, -x])
    ref = np.tanh(x.astype(np.float64))
    assert _ulps(_compiled.tanh(x), ref).max() <= 3
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, 3e38], np.float32)
    out = _compiled.tanh(special)
    assert np.isnan(out[0])
    np.testing.assert_array_equal(out[1:], np.array([1, -1, 0, 0, 1e-40, 1], np.float32))
    assert np.signbit(out[4])


def test_float32_gate_sigmoid_is_within_three_ulps_and_keeps_specials():
    x = np.linspace(-43, 43, 400_001).astype(np.float32)  # the gate's halved pre-activation: σ(2x)
    ref = 1.0 / (1.0 + np.exp(-2.0 * x.astype(np.float64)))
    assert _ulps(_compiled.sig2(x), ref).max() <= 3
    out = _compiled.sig2(np.array([np.nan, np.inf, -np.inf, 0.0, -50.0, 50.0], np.float32))
    assert np.isnan(out[0])
    np.testing.assert_array_equal(out[1:], [1, 0, 0.5, 0, 1])


def _both(net, x, y, mask):
    with _compiled.using("off"):
        ref = bptt.loss_and_grads(net, x, y, mask)
    with _compiled.using("on"):
        got = bptt.loss_and_grads(net, x, y, mask)
    return ref, got


def _assert_paths_agree(net, x, y, mask, states=True):
    """Loss, states (``states``) and every gradient of the two paths, to float64's or float32's rounding."""
    (l0, g0, tr0), (l1, g1, tr1) = _both(net, x, y, mask)
    rtol = 1e-12 if net.dtype == np.float64 else 2e-5
    assert l1 == pytest.approx(l0, rel=rtol)
    if states:
        np.testing.assert_allclose(tr1.cache["S"], tr0.cache["S"], rtol=rtol, atol=rtol)
    for k in g0:
        assert g1[k].shape == g0[k].shape and g1[k].dtype == g0[k].dtype
        np.testing.assert_allclose(g1[k], g0[k], rtol=0, atol=rtol * 10 * np.abs(g0[k]).max(), err_msg=k)


def _gated(arch, H, I, seed, dtype):
    net = small_net(arch, "tanh", H=H, I=I, O=3, output="softmax", seed=seed, dtype=dtype)
    if "b_hn" in net.params:  # (the reset-after GRU's, zero at initialisation)
        net.params["b_hn"] += 0.3 * np.random.default_rng(seed).standard_normal(H)
    return net


@pytest.mark.parametrize("T,B,H,I", [(1, 1, 5, 1), (16, 3, 16, 4), (17, 2, 33, 3), (37, 4, 8, 2), (40, 1, 13, 5)])
@pytest.mark.parametrize("arch", ["lstm", "gru", "gru:gru_reset_after"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_gated_loops_equal_the_numpy_path(T, B, H, I, arch, dtype):
    """The LSTM and both GRU variants: chunk boundaries (CHUNK = 16 steps: T = 1, 16, 17, 37, 40), one row, widths
    that are not a multiple of the vector length, and a mask scoring a few steps only (the reset-after GRU with a
    non-zero b_hn)."""
    net = _gated(arch, H, I, T + H, dtype)
    rng = np.random.default_rng(T * B)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    y = rng.integers(0, 3, (T, B))
    mask = (rng.random((T, B)) < 0.3).astype(dtype)
    mask[-1] = 1.0
    _assert_paths_agree(net, x, y, mask)


@pytest.mark.parametrize("arch", ["lstm", "gru", "gru:gru_reset_after"])
def test_the_compiled_gated_loops_leave_out_the_factors_and_form_them_when_asked(arch):
    """The compiled forward pass leaves out the backward's stored factors (K, and the LSTM's KC: its backward pass
    forms them from the gates and the states); the NumPy one stores them (this also guards against a silent fallback
    making the comparisons above compare NumPy with itself). A vector–Jacobian product and a tangent after a
    compiled pass form them: the same values as after a NumPy pass."""
    net = _gated(arch, 7, 3, 1, "float64")
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    ds = np.random.default_rng(1).standard_normal((2, net.cell.state_size))
    with _compiled.using("off"):
        tr0 = bptt.forward(net, x)
    with _compiled.using("on"):
        tr1 = bptt.forward(net, x)
    assert "K" in tr0.cache and "K" not in tr1.cache
    dp = {k: np.ones_like(net.params[k]) for k in net.cell.recurrent_params}
    for t in (0, 5):
        np.testing.assert_allclose(net.cell.vjp(net.params, ds, tr1.cache, t),
                                   net.cell.vjp(net.params, ds, tr0.cache, t), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(net.cell.jvp(net.params, dp, ds, tr1.cache, t),
                                   net.cell.jvp(net.params, dp, ds, tr0.cache, t), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tr1.cache["K"], tr0.cache["K"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("arch", ["gru", "gru:gru_reset_after"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_gru_backward_keeps_one_step_of_du_or_fills_a_whole_array(monkeypatch, arch, dtype):
    """du_buffer gives the compiled GRU pass one step's (blocks, B, H) buffer (it forms every weight gradient in
    the loop, the input's through [0…, x_t, 1] rows); given a gate-major (blocks, T, B, H) array it fills it as the
    NumPy pass does; above STEP_GRAD_BYTES it fills a whole array and the gradients come from products after the
    loop. The gradients are the same every way."""
    from rnnlab.core.cells import rnn

    net = _gated(arch, 12, 3, 5, dtype)
    cell, p = net.cell, net.params
    nb = 4 if cell.reset_after else 3
    rng = np.random.default_rng(5)
    T, B, H = _compiled.CHUNK + 4, 5, 12
    x = rng.standard_normal((T, B, 3)).astype(dtype)
    y = rng.integers(0, 3, (T, B))
    mask = (rng.random((T, B)) < 0.5).astype(dtype)

    def run(mode, whole=False):
        with _compiled.using(mode):
            tr = bptt.forward(net, x)
            _, dz = bptt.loss_and_dz(net, tr.z, y, mask)
            dH = dz @ p["W_yh"]
            scored = np.any(dz != 0, axis=(1, 2))
            dU = np.empty((nb, T, B, H), dH.dtype) if whole else cell.du_buffer(T, B, dH.dtype)
            cell.backward_sequence(p, dH, scored, tr.cache, dU)
            return tr, dU, cell.param_grads(p, tr.x, tr.cache, dU)

    _, dU0, g0 = run("off")
    tr1, dU1, g1 = run("on")
    _, dU2, g2 = run("on", whole=True)
    monkeypatch.setattr(rnn, "STEP_GRAD_BYTES", 0)
    _, dU3, g3 = run("on")
    assert dU0.shape == (nb, T, B, H) and dU1.shape == (nb, B, H) and dU3.shape == (nb, T, B, H)
    rtol = 1e-12 if dtype == "float64" else 2e-5
    for d in (dU2, dU3):
        np.testing.assert_allclose(d, dU0, rtol=rtol, atol=rtol * np.abs(dU0).max())
    for g in (g1, g2, g3):
        assert set(g) == set(g0)
        for k in g0:
            assert g[k].shape == g0[k].shape, k
            np.testing.assert_allclose(g[k], g0[k], rtol=0, atol=10 * rtol * np.abs(g0[k]).max(), err_msg=k)
    with pytest.raises(ValueError, match="taken once"):  # one step's buffer holds no weight gradients
        cell.param_grads(p, tr1.x, tr1.cache, dU1)
    with _compiled.using("off"), pytest.raises(ValueError, match="compiled backward pass"):
        cell.backward_sequence(p, np.zeros((T, B, H), dtype), np.ones(T, bool), tr1.cache, dU1)


def test_float64_tanh_and_gate_sigmoid_are_within_a_few_ulps_and_keep_specials():
    """Against extended precision (x86's long double; where long double is double, against NumPy's own, whence
    the margin): measured here 2.5 units in the last place at most for both, NumPy's tanh 1.15."""
    x = np.concatenate([np.linspace(-25, 25, 200_001), np.geomspace(1e-300, 25, 100_001)])
    x = np.concatenate([x, -x])
    xl = x.astype(np.longdouble)

    def ulps(got, ref):
        return (np.abs(got.astype(np.longdouble) - ref) / np.spacing(np.abs(ref).astype(np.float64))).max()

    assert ulps(_compiled.tanh(x), np.tanh(xl)) <= 4
    ref = 1 / (1 + np.exp(-2 * xl))
    keep = ref > 1e-300
    assert ulps(_compiled.sig2(x)[keep], ref[keep]) <= 4
    special = _compiled.tanh(np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324]))
    assert np.isnan(special[0]) and list(special[1:3]) == [1, -1] and np.signbit(special[3])
    assert special[4] == 5e-324
    assert np.isnan(_compiled.sig2(np.array([np.nan]))[0])
    np.testing.assert_array_equal(_compiled.sig2(np.array([np.inf, -np.inf, -400.0, 0.0])), [1, 0, 0, 0.5])


def test_auto_uses_the_compiled_path_where_it_was_measured_faster():
    with _compiled.using("auto"):
        for dt in ("float32", "float64"):
            assert _compiled.available(dt) == (dt in _compiled.FASTER)
    with _compiled.using("off"):
        assert not _compiled.available("float32")
    with pytest.raises(ValueError, match="compiled mode"):
        _compiled.set_mode("fast")


def test_auto_needs_vectors_of_256_bits(monkeypatch):
    """On a CPU without AVX2 the compiled loops were slower than NumPy's (float64): "auto" keeps NumPy there."""
    assert _compiled.simd_bits() in (128, 256, 512)
    monkeypatch.setattr(_compiled, "simd_bits", lambda: 128)
    with _compiled.using("auto"):
        assert not _compiled.available("float32")
    with _compiled.using("on"):
        assert _compiled.available("float32")
    monkeypatch.setattr(_compiled, "simd_bits", lambda: 256)
    with _compiled.using("auto"):
        assert _compiled.available("float32")


@pytest.mark.parametrize("arch", ["lstm", "gru", "gru:gru_reset_after", "leaky", "antisymmetric", "indrnn", "lru"])
def test_nan_in_the_input_is_not_hidden(arch):
    net = small_net(arch, "tanh", H=6, dtype="float32")
    x = np.zeros((20, 2, 3), np.float32)
    x[3, 1, 0] = np.nan
    with _compiled.using("on"):
        tr = bptt.forward(net, x)
    h = net.cell.hidden(tr.cache)
    assert np.isnan(h[3:, 1]).all() and np.isfinite(h[:, 0]).all() and np.isfinite(h[:3]).all()


@pytest.mark.parametrize("stop_after", [1, 3, 7])
@pytest.mark.parametrize("arch", ["lstm", "gru", "gru:gru_reset_after"])
def test_a_compiled_pass_can_be_abandoned_between_chunks(arch, stop_after):
    """The app abandons a pass through the checkpoint hook; the compiled loops call it between chunks (T = 5 chunks:
    the forward pass is left after its 1st or 3rd chunk, the backward after its 2nd). The next pass is whole: the
    same loss and gradients as the NumPy path's."""
    net = _gated(arch, 6, 3, 0, "float32")
    T = 5 * _compiled.CHUNK
    x = np.random.default_rng(0).standard_normal((T, 2, 3)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, (T, 2))
    mask = np.ones((T, 2), np.float32)
    calls = []

    def hook():
        calls.append(1)
        if len(calls) > stop_after:
            raise Interrupted

    with _compiled.using("on"), hooked(hook), pytest.raises(Interrupted):
        bptt.loss_and_grads(net, x, y, mask)
    assert len(calls) == stop_after + 1
    _assert_paths_agree(net, x, y, mask)  # (the network is as good as before)


@pytest.fixture
def two_core_threads(monkeypatch):
    """Two core threads, and the rows split over them at any size (the tests' networks are far below
    MIN_SPLIT_FLOPS)."""
    from rnnlab.core import _blas

    monkeypatch.setattr(_compiled, "MIN_SPLIT_FLOPS", 0.0)
    before = _blas.core_threads()
    _blas.set_core_threads(2)
    yield
    _blas.set_core_threads(before)


def test_only_a_pass_with_enough_work_a_step_splits_its_rows(monkeypatch):
    """Two threads only pay above MIN_SPLIT_FLOPS a step (float64 counting double), with at least MIN_ROWS rows
    each, and only when the core may use two; a small network's passes keep their rows in one thread."""
    from rnnlab.core import _blas

    before = _blas.core_threads()
    _blas.set_core_threads(2)
    try:
        big = _compiled.MIN_SPLIT_FLOPS
        assert _compiled.row_threads(32, big) == 2 and _compiled.row_threads(32, 0.99 * big) == 1
        assert _compiled.row_threads(32, 0.5 * big, itemsize=8) == 2 and _compiled.row_threads(32, 0.5 * big) == 1
        assert _compiled.row_threads(2 * _compiled.MIN_ROWS - 1, 10 * big) == 1
        used = []
        real = _compiled.over_rows
        monkeypatch.setattr(_compiled, "over_rows", lambda fn, B, n=None: used.append(real(fn, B, n)))
        net = small_net("lstm", "tanh", H=12, I=3, O=3, output="softmax", dtype="float32")
        x = np.random.default_rng(0).standard_normal((9, 16, 3)).astype(np.float32)
        with _compiled.using("on"):
            bptt.loss_and_grads(net, x, np.zeros((9, 16), int), np.ones((9, 16), np.float32))
        assert used == [1, 1]
        monkeypatch.setattr(_compiled, "MIN_SPLIT_FLOPS", 0.0)
        used.clear()
        with _compiled.using("on"):
            bptt.loss_and_grads(net, x, np.zeros((9, 16), int), np.ones((9, 16), np.float32))
        assert used == [2, 2]
    finally:
        _blas.set_core_threads(before)
    assert _compiled.row_threads(32, 10 * big) == (2 if before >= 2 else 1)


@pytest.mark.parametrize("arch", ["lstm", "rnn", "gru", "gru:gru_reset_after", "leaky", "antisymmetric", "indrnn",
                                  "lru"])
@pytest.mark.parametrize("B", [8, 9, 32])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_threads_over_the_rows_give_the_same_result(two_core_threads, arch, B, dtype):
    """With two core threads, the compiled passes split the batch's rows between this thread and a worker (and the
    weight gradient: the LSTM's rows, the vanilla cell's sum over each thread's rows)."""
    net = small_net(arch, "tanh", H=12, I=3, O=3, output="softmax", seed=B, dtype=dtype)
    rng = np.random.default_rng(B)
    T = 2 * _compiled.CHUNK + 3
    x = rng.standard_normal((T, B, 3)).astype(dtype)
    y = rng.integers(0, 3, (T, B))
    mask = (rng.random((T, B)) < 0.5).astype(dtype)
    assert _compiled.row_threads(B) == 2
    _assert_paths_agree(net, x, y, mask)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_large_vanilla_weight_gradient_is_one_product_after_the_loop(monkeypatch, threads, dtype):
    """Above STEP_GRAD_BYTES the compiled backward loop leaves ∂E/∂W_hh to one product after it (summed step by
    step, a large one would go in and out of the cache at every step); the results are the same either way."""
    from rnnlab.core import _blas
    from rnnlab.core.cells import base, rnn

    calls = []
    after = base.Cell._grad_W_hh
    monkeypatch.setattr(base.Cell, "_grad_W_hh", lambda self, p, c, dU: calls.append(1) or after(self, p, c, dU))
    monkeypatch.setattr(_compiled, "MIN_SPLIT_FLOPS", 0.0)  # (two threads split even these small passes)
    before = _blas.core_threads()
    _blas.set_core_threads(threads)
    try:
        net = small_net("rnn", "tanh", H=12, I=3, O=3, output="softmax", seed=3, dtype=dtype)
        rng = np.random.default_rng(3)
        T, B = _compiled.CHUNK + 5, 8
        x = rng.standard_normal((T, B, 3)).astype(dtype)
        y = rng.integers(0, 3, (T, B))
        mask = (rng.random((T, B)) < 0.5).astype(dtype)
        with _compiled.using("on"):
            bptt.loss_and_grads(net, x, y, mask)
        assert calls == []  # 12·12 values: summed in the loop
        monkeypatch.setattr(rnn, "STEP_GRAD_BYTES", 0)
        with _compiled.using("on"):
            bptt.loss_and_grads(net, x, y, mask)
        assert calls == [1]
        _assert_paths_agree(net, x, y, mask)
    finally:
        _blas.set_core_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("H,I", [(16, 3), (13, 8)])
def test_the_float32_weight_gradient_takes_the_zero_columns_and_gives_the_same_result(monkeypatch, threads, H, I):
    """In float32 the LSTM's compiled weight-gradient products also take SX's zero columns before x_t, which round
    their width up to whole vectors (LSTMCell.PAD_WGRAD); the gradients are those of the products without them,
    and of the NumPy path."""
    from rnnlab.core import _blas
    from rnnlab.core.cells import base, lstm

    shapes = {}
    buf = base.Cache.buf
    monkeypatch.setattr(base.Cache, "buf", lambda self, name, shape, *a, **k: shapes.__setitem__(name, tuple(shape))
                        or buf(self, name, shape, *a, **k))
    monkeypatch.setattr(_compiled, "MIN_SPLIT_FLOPS", 0.0)  # (two threads split even these small passes)
    before = _blas.core_threads()
    _blas.set_core_threads(threads)
    try:
        net = small_net("lstm", "tanh", H=H, I=I, O=3, output="softmax", seed=H, dtype="float32")
        rng = np.random.default_rng(H)
        T, B = _compiled.CHUNK + 3, 8
        x = rng.standard_normal((T, B, I)).astype(np.float32)
        y = rng.integers(0, 3, (T, B))
        mask = (rng.random((T, B)) < 0.5).astype(np.float32)
        with _compiled.using("on"):
            _, padded, tr = bptt.loss_and_grads(net, x, y, mask)
            pad = tr.cache["SX.pad"]
            assert pad > 0 and (pad + I + 1) * 4 % 64 == 0
            assert shapes["bptt.G"] == (4 * H, pad + I + 1 + H)  # the zero columns were taken
            monkeypatch.setattr(lstm.LSTMCell, "PAD_WGRAD", frozenset())
            _, plain, _ = bptt.loss_and_grads(net, x, y, mask)
            assert shapes["bptt.G"] == (4 * H, I + 1 + H)
        for k in plain:
            np.testing.assert_allclose(padded[k], plain[k], rtol=1e-6, atol=1e-7, err_msg=k)
        monkeypatch.undo()
        _assert_paths_agree(net, x, y, mask)
    finally:
        _blas.set_core_threads(before)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_lstm_backward_keeps_one_step_of_dz_or_fills_a_whole_array(dtype):
    """du_buffer gives the compiled pass one step's (B, 4H) buffer (its weight gradients are formed in the loop);
    given a (T, B, 4H) array instead, it fills it with every step's ∂E/∂z, as the NumPy pass fills its gate-major
    one, and the weight gradients are the same either way."""
    net = small_net("lstm", "tanh", H=12, I=3, O=3, output="softmax", seed=5, dtype=dtype)
    cell, p = net.cell, net.params
    rng = np.random.default_rng(5)
    T, B, H = _compiled.CHUNK + 4, 5, 12
    x = rng.standard_normal((T, B, 3)).astype(dtype)
    y = rng.integers(0, 3, (T, B))
    mask = (rng.random((T, B)) < 0.5).astype(dtype)
    grads, dus = [], []
    for m in ("off", "on", "on"):
        with _compiled.using(m):
            tr = bptt.forward(net, x)
            _, dz = bptt.loss_and_dz(net, tr.z, y, mask)
            dH = dz @ p["W_yh"]
            scored = np.any(dz != 0, axis=(1, 2))
            dU = cell.du_buffer(T, B, dH.dtype) if len(dus) < 2 else np.empty((T, B, 4 * H), dH.dtype)
            cell.backward_sequence(p, dH, scored, tr.cache, dU)
            grads.append(cell.param_grads(p, tr.x, tr.cache, dU))
            dus.append(dU)
    assert dus[0].shape == (4, T, B, H) and dus[1].shape == (B, 4 * H)
    rtol = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(dus[2], dus[0].transpose(1, 2, 0, 3).reshape(T, B, 4 * H), rtol=rtol,
                               atol=rtol * np.abs(dus[0]).max())
    for g in grads[1:]:
        for k in grads[0]:
            np.testing.assert_allclose(g[k], grads[0][k], rtol=0, atol=10 * rtol * np.abs(grads[0][k]).max(),
                                       err_msg=k)
    with pytest.raises(ValueError, match="taken once"):  # one step's buffer holds no weight gradients
        cell.param_grads(p, tr.x, tr.cache, dus[1])
    with _compiled.using("off"), pytest.raises(ValueError, match="compiled backward pass"):
        cell.backward_sequence(p, dH, scored, tr.cache, dus[1])


def test_an_interrupted_two_thread_pass_stops_both_halves(two_core_threads):
    net = small_net("lstm", "tanh", H=12, dtype="float32")
    T = 6 * _compiled.CHUNK
    x = np.random.default_rng(0).standard_normal((T, 8, 3)).astype(np.float32)
    calls = []

    def hook():
        calls.append(1)
        if len(calls) > 2:
            raise Interrupted

    with _compiled.using("on"), hooked(hook), pytest.raises(Interrupted):
        bptt.forward(net, x)
    with _compiled.using("on"):  # the worker is free again and the next pass complete
        tr = bptt.forward(net, x)
    assert np.isfinite(net.cell.hidden(tr.cache)).all()


@pytest.mark.parametrize("arch", ["rnn", "exprnn", "leaky", "esn", "antisymmetric", "indrnn", "lru"])
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_loops_of_every_activation_equal_the_numpy_path(arch, act, dtype):
    """The vanilla loop; with leaky units h_t = β ⊙ h_{t−1} + γ ⊙ f(a_t) (the leaky cell's α and 1 − α, drawn per
    unit; the antisymmetric cell's 1 and ε); the IndRNN's diagonal recurrence a_t = u ⊙ h_{t−1} + u_t; the LRU's
    complex one x_t = λ ⊙ x_{t−1} + u_t (with ∂E/∂λ summed in the loop)."""
    net = small_net(arch, act, H=13, I=3, O=3, output="softmax", seed=5, dtype=dtype, radius=0.9)
    if "alpha" in net.params:
        assert np.ptp(net.params["alpha"]) > 0.1  # (per unit: a mix-up of units would show)
    rng = np.random.default_rng(7)
    T, B = _compiled.CHUNK + 5, 3
    x = rng.standard_normal((T, B, 3)).astype(dtype)
    y = rng.integers(0, 3, (T, B))
    mask = (rng.random((T, B)) < 0.4).astype(dtype)
    mask[-1] = 1.0
    _assert_paths_agree(net, x, y, mask)


@pytest.mark.parametrize("arch,compiled", [("rnn", True), ("exprnn", True), ("lstm", True), ("gru", True),
                                           ("gru:gru_reset_after", True), ("leaky", True), ("esn", True),
                                           ("antisymmetric", True), ("indrnn", True), ("lru", True),
                                           ("leaky:own_vjp", False), ("antisymmetric:own_step", False),
                                           ("indrnn:own_vjp", False), ("rnn:own_step", False), ("lru:own_vjp", False)])
def test_which_cells_take_the_compiled_loops(monkeypatch, arch, compiled):
    """Each cell with a compiled loop takes it (both passes); a subclass that changes the step the loop reproduces
    (its own vector–Jacobian product or step) does not."""
    calls = []
    real = _compiled.over_rows
    monkeypatch.setattr(_compiled, "over_rows", lambda fn, B, n=None: calls.append(B) or real(fn, B, n))
    arch, _, change = arch.partition(":own_")
    net = small_net(arch, "tanh", H=6)
    if change:
        cls = type(net.cell)
        name = {"vjp": "vjp", "step": "_h_of_a"}[change]
        own = type("Own", (cls,), {name: lambda self, *a, _f=getattr(cls, name), **k: _f(self, *a, **k)})
        net.cell.__class__ = own
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    with _compiled.using("on"):
        bptt.loss_and_grads(net, x, np.zeros((5, 2, 2)), np.ones((5, 2)))
        assert net.cell.compiled(net.dtype) == compiled  # (what the bench reports as the path)
        # the BLAS gets one thread per pass where the compiled loops run the rows in threads of their own; not for
        # the LRU, whose passes are mostly large products
        assert net.cell.threads_itself(net.dtype) == (compiled and arch != "lru")
    assert (len(calls) >= 2) == compiled


def test_large_steps_get_fewer_steps_per_call():
    """A Pause must be answered within about a millisecond of work at any size: one call does at most
    MAX_FLOPS_PER_CALL (one step at least)."""
    assert _compiled.steps_per_call(8 * 32 * 137 * 128) == _compiled.CHUNK  # the bench's LSTM
    assert _compiled.steps_per_call(8 * 32 * 2049 * 2048) == 1  # H = 2048
    assert _compiled.steps_per_call(0) == _compiled.CHUNK
    assert 1 < _compiled.steps_per_call(_compiled.MAX_FLOPS_PER_CALL / 4) == 4


def test_sums_a_compiled_pass_kept_are_taken_once_and_only_for_its_own_du():
    """Cache.keep_for / take_for: a weight gradient the compiled backward pass formed for one ∂E/∂u array is never
    handed to param_grads with another array (a stale sum from an earlier pass), and only once."""
    from rnnlab.core.cells.base import Cache

    cache, du, other = Cache(), np.zeros((2, 3)), np.zeros((2, 3))
    cache.keep_for("G", du, "sums")
    assert cache.take_for("G", other) is None and "G" not in cache  # (and the stale sum is gone)
    cache.keep_for("G", du, "sums")
    assert cache.take_for("G", du) == "sums" and cache.take_for("G", du) is None
