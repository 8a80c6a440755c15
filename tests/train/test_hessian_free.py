"""Hessian-free pieces against explicit matrices built by finite differences (SCIENCE.md §3.4, §8 rows 7–8)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core import forward, loss_and_dz
from rnnlab.train.hessian_free import (
    HessianFree,
    cg_martens,
    gn_product,
    r_forward,
    structural_curvature,
)
from tests.core.helpers import batch, small_net

NAMES = ("W_hx", "W_hh", "b_h", "W_yh", "b_y")


def flat(d):
    return np.concatenate([d[n].ravel() for n in NAMES])


def unflat(v, like):
    out, i = {}, 0
    for n in NAMES:
        out[n] = v[i : i + like[n].size].reshape(like[n].shape)
        i += like[n].size
    return out


def fd_jacobian(net, x, what, eps=1e-6):
    """∂vec(what(trace))/∂θ by central differences."""
    p = net.params
    theta = flat(p)
    cols = []
    for i in range(theta.size):
        vals = []
        for s in (1, -1):
            th = theta.copy()
            th[i] += s * eps
            for n, v in unflat(th, p).items():
                p[n][...] = v
            vals.append(what(forward(net, x)).ravel().copy())
        cols.append((vals[0] - vals[1]) / (2 * eps))
    for n, v in unflat(theta, p).items():
        p[n][...] = v
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("output,act", [("linear", "tanh"), ("softmax", "tanh"), ("softmax", "sigmoid"),
                                        ("linear", "relu")])
def test_gauss_newton_product_equals_explicit_JtHJ(output, act):
    net = small_net("rnn", act, H=4, I=2, O=3, output=output)
    x, y, mask = batch(net, T=5, B=2, every=(output == "linear"))
    tr = forward(net, x)
    Jz = fd_jacobian(net, x, lambda t: t.z)
    T, B, O = tr.z.shape
    w = (mask / mask.sum()).ravel()
    Hl = np.zeros((T * B * O, T * B * O))
    zf = tr.z.reshape(T * B, O)
    for i in range(T * B):
        s = slice(i * O, (i + 1) * O)
        if output == "linear":
            Hl[s, s] = w[i] * (2.0 / O) * np.eye(O)
        else:
            pr = np.exp(zf[i] - zf[i].max())
            pr /= pr.sum()
            Hl[s, s] = w[i] * (np.diag(pr) - np.outer(pr, pr))
    G = Jz.T @ Hl @ Jz
    v = np.random.default_rng(0).standard_normal(G.shape[0])
    gv = flat(gn_product(net, tr, mask, unflat(v, net.params)))
    np.testing.assert_allclose(gv, G @ v, rtol=1e-6, atol=1e-9)
    # the R-forward pass is J_z v
    _, Rz = r_forward(net, tr, unflat(v, net.params))
    np.testing.assert_allclose(Rz.ravel(), Jz @ v, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_structural_damping_term_equals_explicit_JaT_D_Ja(act):
    net = small_net("rnn", act, H=4, I=2, O=2, output="linear")
    x, y, mask = batch(net, T=5, B=2)
    tr = forward(net, x)
    Ja = fd_jacobian(net, x, lambda t: t.cache["A"])
    Dpp = structural_curvature(net, tr).ravel()
    S = Ja.T @ np.diag(Dpp / mask.sum()) @ Ja
    v = np.random.default_rng(1).standard_normal(S.shape[0])
    mu_lam = 0.37
    with_sd = flat(gn_product(net, tr, mask, unflat(v, net.params), mu_lam))
    without = flat(gn_product(net, tr, mask, unflat(v, net.params), 0.0))
    np.testing.assert_allclose(with_sd - without, mu_lam * (S @ v), rtol=1e-6, atol=1e-10)
    if act == "tanh":
        h = tr.hidden(net).ravel()
        np.testing.assert_allclose(Dpp, 0.25 * (1 - h * h))


def test_cg_solves_spd_system_and_martens_rule_stops_early():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((60, 60))
    A = M @ M.T + 0.1 * np.eye(60)
    b = rng.standard_normal(60)
    its, phis = cg_martens(lambda v: A @ v, b, np.zeros(60), max_iter=500, eps=0.0)
    x = its[-1][1]
    np.testing.assert_allclose(A @ x, b, atol=1e-6)
    # φ decreases monotonically in CG
    assert all(b2 <= a2 + 1e-9 for a2, b2 in zip(phis, phis[1:]))
    # with a loose ε the progress rule stops well before convergence, and never before k = 10 iterations
    its2, _ = cg_martens(lambda v: A @ v, b, np.zeros(60), max_iter=500, eps=0.05)
    assert 10 < its2[-1][0] < its[-1][0]
    # kept iterates are at ceil(1.3^j)
    kept = [i for i, _ in its[:-1]]
    assert kept[:6] == [1, 2, 3, 4, 5, 7]


def test_levenberg_marquardt_rule():
    """ρ < 1/4 gives λ·3/2; ρ > 3/4 gives λ·2/3 (SCIENCE.md §8 row 7)."""
    net = small_net("rnn", "tanh", H=6, I=2, O=2, output="linear")
    x, y, mask = batch(net, T=6, B=8)
    tr = forward(net, x)
    loss, dz = loss_and_dz(net, tr.z, y, mask)
    from rnnlab.core import backward

    grads = backward(net, tr, dz)
    hf = HessianFree(lam=1.0, mu=0.0, max_cg=50)
    rep = hf.step(net, x, y, mask, grads, loss, tr)
    expected = 1.5 if (not np.isfinite(rep.rho) or rep.rho < 0.25) else (2 / 3 if rep.rho > 0.75 else 1.0)
    assert hf.lam == pytest.approx(expected)
    assert rep.loss_after <= loss
    assert rep.cg_iters >= 1


def test_hf_reduces_loss_over_a_few_updates():
    net = small_net("rnn", "tanh", H=8, I=2, O=2, output="linear", radius=0.9)
    x, y, mask = batch(net, T=10, B=30)
    from rnnlab.core import loss_and_grads

    hf = HessianFree(lam=1.0, mu=0.03, max_cg=60)
    first = None
    for _ in range(6):
        loss, grads, tr = loss_and_grads(net, x, y, mask)
        first = loss if first is None else first
        hf.step(net, x, y, mask, grads, loss, tr)
    final = loss_and_grads(net, x, y, mask)[0]
    assert final < 0.9 * first


def test_lambda_never_drops_below_its_floor():
    from rnnlab.train.hessian_free import LAMBDA_MIN

    net = small_net("rnn", "tanh", H=6, I=2, O=2, output="linear", radius=0.9)
    x, y, mask = batch(net, T=6, B=20)
    from rnnlab.core import loss_and_grads

    hf = HessianFree(lam=2e-3, mu=0.0, max_cg=40)
    for _ in range(8):
        loss, grads, tr = loss_and_grads(net, x, y, mask)
        hf.step(net, x, y, mask, grads, loss, tr)
        assert hf.lam >= LAMBDA_MIN
