"""Clipping, penalties and Pascanu's Ω (SCIENCE.md §1.3, §1.4, §8 rows 3–4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.core import backward, forward, loss_and_dz
from rnnlab.train.remedies import clip_gradients, omega, omega_grad, penalty
from tests.core.helpers import batch, rel_err, small_net


def _grads(seed, scale):
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((3, 4)) * scale, "b": rng.standard_normal(5) * scale}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3), c=st.floats(1e-2, 1e2))
def test_norm_clipping_bounds_norm_and_keeps_direction(seed, scale, c):
    g = _grads(seed, scale)
    out, rep = clip_gradients(g, "norm", c)
    flat_in = np.concatenate([v.ravel() for v in g.values()])
    flat_out = np.concatenate([v.ravel() for v in out.values()])
    assert np.linalg.norm(flat_out) <= c * (1 + 1e-12) or not rep.fired
    assert rep.norm_before == pytest.approx(np.linalg.norm(flat_in))
    if rep.norm_before > c:
        assert rep.fired
        assert rep.norm_after == pytest.approx(c)
        cos = flat_in @ flat_out / (np.linalg.norm(flat_in) * np.linalg.norm(flat_out))
        assert cos == pytest.approx(1.0)
    else:
        assert not rep.fired
        for k in g:
            assert out[k] is g[k]


def test_value_clipping_clamps_components():
    g = {"a": np.array([-5.0, 0.5, 3.0])}
    out, rep = clip_gradients(g, "value", 1.0)
    np.testing.assert_array_equal(out["a"], [-1.0, 0.5, 1.0])
    assert rep.fired and rep.norm_after < rep.norm_before
    np.testing.assert_array_equal(g["a"], [-5.0, 0.5, 3.0])  # input untouched


def test_penalty_gradient():
    W = np.random.default_rng(0).standard_normal((4, 4))
    v, g = penalty(W, 0.3, 0.7)
    assert v == pytest.approx(0.3 * np.abs(W).sum() + 0.35 * (W**2).sum())
    np.testing.assert_allclose(g, 0.3 * np.sign(W) + 0.7 * W)


def _deltas(net, x, y, mask):
    tr = forward(net, x)
    _, dz = loss_and_dz(net, tr.z, y, mask)
    T, B, _ = x.shape
    deltas = np.zeros((T, B, net.n_hidden))
    backward(net, tr, dz, deltas=deltas)
    return tr, deltas


def test_deltas_are_total_derivatives_wrt_hidden_states():
    net = small_net("rnn", "tanh", H=4, output="linear")
    x, y, mask = batch(net, T=5, B=2)
    tr, deltas = _deltas(net, x, y, mask)
    # perturb h_2 directly by running the rest of the sequence from a nudged state
    t, eps = 2, 1e-6
    cell, p = net.cell, net.params
    U = cell.input_proj(p, x)

    def loss_from(h2):
        c = cell.new_cache(5, 2, np.float64)
        c["S"][: t + 2] = tr.cache["S"][: t + 2]
        c["S"][t + 1] = h2
        for j in range(t + 1, 5):
            cell.step(p, j, U[j], c)
        z = c["S"][1:] @ p["W_yh"].T + p["b_y"]
        return loss_and_dz(net, z, y, mask)[0]

    h2 = tr.cache["S"][t + 1].copy()
    num = np.zeros_like(h2)
    for idx in np.ndindex(h2.shape):
        hp, hm = h2.copy(), h2.copy()
        hp[idx] += eps
        hm[idx] -= eps
        num[idx] = (loss_from(hp) - loss_from(hm)) / (2 * eps)
    np.testing.assert_allclose(deltas[t], num, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_omega_gradient_matches_finite_differences_with_delta_and_h_frozen(act):
    net = small_net("rnn", act, H=5, output="softmax")
    x, y, mask = batch(net, T=8, B=3, every=False)
    tr, deltas = _deltas(net, x, y, mask)
    D = tr.cache["D"]
    W = net.params["W_hh"].copy()
    g = omega_grad(W, deltas, D)
    num = np.zeros_like(W)
    eps = 1e-6
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += eps
        Wm[idx] -= eps
        num[idx] = (omega(Wp, deltas, D)[0] - omega(Wm, deltas, D)[0]) / (2 * eps)
    assert rel_err(g, num) < 1e-6


def test_omega_is_zero_for_orthogonal_linear_network():
    net = small_net("rnn", "linear", H=6, output="linear", init="orthogonal", radius=1.0)
    x, y, mask = batch(net, T=10, B=2)
    tr, deltas = _deltas(net, x, y, mask)
    val, frac = omega(net.params["W_hh"], deltas, tr.cache["D"])
    assert val == pytest.approx(0.0, abs=1e-20)
    assert frac == 1.0
    assert np.allclose(omega_grad(net.params["W_hh"], deltas, tr.cache["D"]), 0.0)


def test_omega_ignores_pairs_with_tiny_delta():
    net = small_net("rnn", "tanh", H=4, output="softmax")
    x, y, mask = batch(net, T=6, B=2, every=False)
    tr, deltas = _deltas(net, x, y, mask)
    deltas[:3] = 0.0  # these (t, b) pairs are invalid
    val, frac = omega(net.params["W_hh"], deltas, tr.cache["D"])
    assert frac == pytest.approx(0.5)
    assert np.isfinite(val)
