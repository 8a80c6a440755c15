"""Analytic BPTT gradients against central finite differences (float64, relative error < 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core import bptt

from .helpers import ACTS, ARCHS, assert_grads_close, batch, grad_names, loss_of, numeric_grad, rel_err, small_net

# every test here runs on the pure-NumPy path and through the compiled kernels (tests/core/conftest.py)
pytestmark = pytest.mark.usefixtures("core_path")

TOL = 1e-6


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("output,every", [("linear", True), ("softmax", False)])
def test_full_bptt_matches_finite_differences(arch, act, output, every):
    net = small_net(arch, act, output=output, seed=ARCHS.index(arch) * 10 + ACTS.index(act))
    x, y, mask = batch(net, every=every)
    loss, grads, _ = bptt.loss_and_grads(net, x, y, mask)
    names = grad_names(net)
    num = numeric_grad(lambda: loss_of(net, x, y, mask), net.params, names)
    for n in names:
        assert grads[n].shape == net.params[n].shape
    assert_grads_close(grads, num, names, TOL)


def truncated_objective(net, x, y, mask, k1, k2):
    """Σ over Williams–Peng windows of the window's losses, computed from the *frozen* state before the window.

    Its derivative at the current parameters is, by definition, the BPTT(k1, k2) gradient."""
    ref = bptt.forward(net, x)
    cell, p = net.cell, net.params
    T, B, _ = x.shape
    n = mask.sum()
    total = 0.0
    for te, tlo, inj in bptt.tbptt_windows(T, k1, k2):
        cache = cell.new_cache(te - tlo + 1, B, x.dtype)
        cache["S"][0] = ref.cache["S"][tlo]  # frozen: evaluated at the reference parameters
        U = cell.input_proj(p, x[tlo : te + 1])
        for j in range(te - tlo + 1):
            cell.step(p, j, U[j], cache)
        h = cell.hidden(cache)
        z = h @ p["W_yh"].T + p["b_y"]
        sub = slice(inj - tlo, te - tlo + 1)
        m = mask[inj : te + 1]
        if net.output == "linear":
            total += np.sum(m[..., None] * (z[sub] - y[inj : te + 1]) ** 2) / (n * z.shape[-1])
        else:
            zz = z[sub]
            lse = np.log(np.exp(zz - zz.max(-1, keepdims=True)).sum(-1)) + zz.max(-1)
            zy = np.take_along_axis(zz, y[inj : te + 1][..., None], -1)[..., 0]
            total += np.sum(m * (lse - zy)) / n
    return total


class _Frozen:
    """Evaluate the truncated objective with the frozen states taken at fixed reference parameters."""

    def __init__(self, net, x, y, mask, k1, k2):
        self.net, self.args = net, (x, y, mask, k1, k2)
        ref_params = {k: v.copy() for k, v in net.params.items()}
        self.ref_S = bptt.forward(net.__class__(net.cell, ref_params, net.output), x).cache["S"]

    def __call__(self):
        x, y, mask, k1, k2 = self.args
        net = self.net
        orig = bptt.forward

        class _Ref:  # forward() replacement returning the frozen reference states
            def __init__(s, S):
                s.cache = {"S": S}

        bptt_forward = lambda n, xx: _Ref(self.ref_S)  # noqa: E731
        bptt.forward = bptt_forward
        try:
            return truncated_objective(net, x, y, mask, k1, k2)
        finally:
            bptt.forward = orig


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("k1,k2", [(1, 1), (2, 3), (3, 3), (2, 5)])
def test_truncated_bptt_matches_finite_differences(arch, act, k1, k2):
    net = small_net(arch, act, output="linear")
    x, y, mask = batch(net, T=8)
    loss, grads, _ = bptt.loss_and_grads(net, x, y, mask, k1, k2)
    names = grad_names(net)
    num = numeric_grad(_Frozen(net, x, y, mask, k1, k2), net.params, names)
    assert_grads_close(grads, num, names, TOL)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("every", [True, False])
def test_truncated_equals_full_when_k2_covers_the_sequence(arch, every):
    net = small_net(arch, "tanh", output="softmax" if not every else "linear")
    x, y, mask = batch(net, T=9, every=every)
    _, full, _ = bptt.loss_and_grads(net, x, y, mask)
    for k1 in (1, 4, 9):
        _, trunc, _ = bptt.loss_and_grads(net, x, y, mask, k1, 9)
        for n in full:
            np.testing.assert_allclose(trunc[n], full[n], rtol=1e-12, atol=1e-14)


def test_truncation_really_cuts_long_paths():
    net = small_net("rnn", "tanh", output="softmax")
    x, y, mask = batch(net, T=12, every=False)  # loss only at the last step
    _, full, _ = bptt.loss_and_grads(net, x, y, mask)
    _, trunc, _ = bptt.loss_and_grads(net, x, y, mask, 12, 12)
    _, short, _ = bptt.loss_and_grads(net, x, y, mask, 3, 3)
    np.testing.assert_allclose(trunc["W_hx"], full["W_hx"], rtol=1e-12)
    assert rel_err(short["W_hx"], full["W_hx"]) > 1e-3


@pytest.mark.parametrize("arch", ARCHS)
def test_closed_loop_teacher_forcing_gradient(arch):
    """Inputs partly fed back from the network's own output: the gradient through the feedback is exact."""
    net = small_net(arch, "tanh", I=2, O=2, output="linear")
    x, y, mask = batch(net, T=7)
    fb = (np.random.default_rng(5).random((7, 3)) < 0.5).astype(float)
    fb[2, :] = 0.3  # soft mixing weights too
    loss, grads, _ = bptt.loss_and_grads(net, x, y, mask, feedback=fb)
    names = grad_names(net)
    num = numeric_grad(lambda: loss_of(net, x, y, mask, fb), net.params, names)
    assert_grads_close(grads, num, names, TOL)


def test_float32_gradients_agree_with_float64():
    net64 = small_net("lstm", "tanh", H=8, output="softmax")
    net32 = net64.astype(np.float32)
    x, y, mask = batch(net64, T=10, every=False)
    _, g64, _ = bptt.loss_and_grads(net64, x, y, mask)
    _, g32, _ = bptt.loss_and_grads(net32, x.astype(np.float32), y, mask)
    for n in g64:
        assert g32[n].dtype == np.float32
        assert rel_err(g32[n].astype(np.float64), g64[n]) < 1e-4
