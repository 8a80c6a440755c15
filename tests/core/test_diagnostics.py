"""The ∂h_t/∂h_k heatmap, gradient flow, lag profile, long-term split, spectrum and Lyapunov exponents."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.config import ModelConfig
from rnnlab.core import (
    autonomous_lyapunov,
    backward,
    build_network,
    diagnose,
    estimate_error_log10,
    forward,
    gradient_flow_log10,
    jacobian_log10,
    lag_bound,
    lag_profile,
    long_term_split,
    loss_and_dz,
    orthogonal,
)

from .helpers import ARCHS, batch, small_net


def fd_step_jacobian(net, trace, t, b, eps=1e-6):
    """∂s_t/∂s_{t−1} of sequence b by central differences of the step map (independent of Cell.vjp)."""
    cell, p = net.cell, net.params
    S = cell.state_size
    x = trace.x[t : t + 1, b : b + 1]
    U = cell.input_proj(p, x)
    J = np.zeros((S, S))
    for j in range(S):
        outs = []
        for sgn in (1, -1):
            c = cell.new_cache(1, 1, np.float64)
            c["S"][0, 0] = trace.cache["S"][t, b]
            c["S"][0, 0, j] += sgn * eps
            cell.step(p, 0, U[0], c)
            outs.append(c["S"][1, 0].copy())
        J[:, j] = (outs[0] - outs[1]) / (2 * eps)
    return J


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_step_jacobian_matches_finite_differences(arch, act):
    net = small_net(arch, act, H=5)
    x, y, mask = batch(net, T=6, B=2)
    tr = forward(net, x)
    for t in (1, 3, 5):
        J = net.cell.jacobian(net.params, tr.cache, t, 1)
        np.testing.assert_allclose(J, fd_step_jacobian(net, tr, t, 1), atol=1e-8)


def test_vanilla_step_jacobian_is_diag_fprime_times_W():
    net = small_net("rnn", "tanh", H=6)
    x, _, _ = batch(net, T=5, B=2)
    tr = forward(net, x)
    a = tr.cache["A"][3, 0]
    expected = np.diag(1 - np.tanh(a) ** 2) @ net.params["W_hh"]
    np.testing.assert_allclose(net.cell.jacobian(net.params, tr.cache, 3, 0), expected, atol=1e-14)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("norm", ["frobenius", "spectral"])
def test_heatmap_equals_explicit_product_of_step_jacobians(arch, norm):
    net = small_net(arch, "tanh", H=4, radius=1.4)
    x, _, _ = batch(net, T=8, B=2)
    tr = forward(net, x)
    L = jacobian_log10(net, tr, b=1, norm=norm)
    T, S = 8, net.cell.state_size
    Js = {t: fd_step_jacobian(net, tr, t, 1) for t in range(1, T)}
    ordn = "fro" if norm == "frobenius" else 2
    for t in range(T):
        P = np.eye(S)
        for k in range(t, -1, -1):
            assert abs(L[t, k] - np.log10(np.linalg.norm(P, ordn))) < 1e-6
            if k > 0:
                P = P @ Js[k]
        assert np.all(np.isnan(L[t, t + 1 :]))


@pytest.mark.parametrize("rho", [0.1, 4.0])
def test_linear_orthogonal_closed_form_at_T_1000(rho):
    """W_hh = ρQ, linear units: log10 ‖∂h_t/∂h_k‖_F = (t − k) log10 ρ + log10 √H, finite where 10^±600 overflows."""
    H, T = 8, 1000
    net = build_network(ModelConfig(activation="linear", hidden_size=H, init="orthogonal", spectral_radius=rho),
                        2, 2, "linear", np.random.default_rng(3))
    np.testing.assert_allclose(net.params["W_hh"].T @ net.params["W_hh"], rho**2 * np.eye(H), atol=1e-12)
    x = np.random.default_rng(4).standard_normal((T, 1, 2))
    L = jacobian_log10(net, forward(net, x), b=0)
    t, k = np.tril_indices(T)
    expected = (t - k) * np.log10(rho) + np.log10(np.sqrt(H))
    assert np.all(np.isfinite(L[t, k]))
    assert np.max(np.abs(L[t, k] - expected)) < 1e-6
    assert np.all(np.isnan(L[np.triu_indices(T, 1)]))
    assert L[T - 1, 0] == pytest.approx(999 * np.log10(rho) + np.log10(np.sqrt(H)), abs=1e-6)


def test_estimated_heatmap_error_matches_its_stated_bound():
    net = small_net("rnn", "tanh", H=24, radius=1.2)
    x, _, _ = batch(net, T=30, B=1)
    tr = forward(net, x)
    exact = jacobian_log10(net, tr)
    m = 16
    est = jacobian_log10(net, tr, mode="estimated", probes=m, rng=np.random.default_rng(0))
    t, k = np.tril_indices(30, -1)
    err = est[t, k] - exact[t, k]
    # the rms error over many entries stays within the stated per-entry standard deviation (+20 % slack)
    assert np.sqrt(np.mean(err**2)) < 1.2 * estimate_error_log10(m)
    assert abs(np.mean(err)) < 0.05
    np.testing.assert_allclose(np.diag(est), np.diag(exact), atol=4 * estimate_error_log10(m))


def test_gradient_flow_matches_per_step_backprop():
    net = small_net("gru", "tanh", H=5, output="linear")
    x, y, mask = batch(net, T=7, B=2)
    tr = forward(net, x)
    _, dz = loss_and_dz(net, tr.z, y, mask)
    F = gradient_flow_log10(net, tr, dz, b=0)
    # ∂E_t/∂s_k by brute force: backprop dz restricted to step t, read ds at k through a truncated window chain
    for t in (2, 6):
        g = np.zeros(net.cell.state_size)
        g[: net.n_hidden] = dz[t, 0] @ net.params["W_yh"]
        row = g[None]
        for k in range(t, -1, -1):
            assert F[t, k] == pytest.approx(np.log10(np.linalg.norm(row)), abs=1e-9)
            if k > 0:
                row = row @ net.cell.jacobian(net.params, tr.cache, k, 0)
    assert np.all(np.isnan(F[np.triu_indices(7, 1)]))


def test_gradient_flow_obeys_the_vanishing_bound_for_tanh():
    """SCIENCE.md §1.2: σ_max < 1 with tanh gives ‖∂E_t/∂h_k‖ ≤ σ_max^(t−k) ‖∂E_t/∂h_t‖ at every k."""
    net = small_net("rnn", "tanh", H=10, radius=0.6, init="gaussian")
    W = net.params["W_hh"]
    W *= 0.9 / np.linalg.norm(W, 2)
    x, y, mask = batch(net, T=40, B=1)
    tr = forward(net, x)
    _, dz = loss_and_dz(net, tr.z, y, mask)
    F = gradient_flow_log10(net, tr, dz)
    for t in range(40):
        for k in range(t + 1):
            assert F[t, k] <= F[t, t] + (t - k) * np.log10(0.9) + 1e-9


def test_lag_profile_is_the_diagonal_mean_and_bound_is_linear_in_d():
    L = np.full((4, 4), np.nan)
    L[np.tril_indices(4)] = [0, -1, 0, -2, -1, 0, -3, -2, -1, 0]
    np.testing.assert_allclose(lag_profile(L), [0, -1, -2, -3])
    net = small_net("rnn", "sigmoid", H=4)
    bound = lag_bound(net, 5)
    np.testing.assert_allclose(np.diff(bound), np.log10(0.25 * np.linalg.norm(net.params["W_hh"], 2)))


def test_long_term_split_adds_up():
    net = small_net("rnn", "tanh", H=6, output="softmax", radius=1.5)
    x, y, mask = batch(net, T=20, B=3, every=False)
    tr = forward(net, x)
    _, dz = loss_and_dz(net, tr.z, y, mask)
    full = np.linalg.norm(backward(net, tr, dz)["W_hh"])
    ns, nl, share = long_term_split(net, tr, dz, 5)
    assert 0 < share < 1
    assert ns + nl >= full - 1e-12  # triangle inequality
    # with L ≥ T every lag is short
    assert long_term_split(net, tr, dz, 25)[1] == pytest.approx(0, abs=1e-15)


def test_lyapunov_of_autonomous_tanh_network_changes_sign_with_gain():
    """h ← tanh(W h), W ~ N(0, g²/N), N = 200: stable for g = 0.5, chaotic for g = 3."""
    N = 200
    exps = {}
    for g in (0.5, 3.0):
        rng = np.random.default_rng(7)
        W = rng.standard_normal((N, N)) * g / np.sqrt(N)
        exps[g] = autonomous_lyapunov(W, steps=1500, m=3, transient=300, rng=rng)
    assert exps[0.5][0] < 0
    assert exps[3.0][0] > 0
    # g = 0.5: the origin attracts, the top exponent is log ρ(W) ≈ log 0.5 (circular law)
    assert exps[0.5][0] == pytest.approx(np.log(0.5), abs=0.15)


def test_lyapunov_of_linear_orthogonal_map_is_log_rho():
    from rnnlab.core import lyapunov_spectrum

    Q = orthogonal(np.random.default_rng(0), 6)
    exps = lyapunov_spectrum((2.0 * Q for _ in range(50)), 6)
    np.testing.assert_allclose(exps, np.log(2.0), atol=1e-12)


def test_diagnose_bundles_everything():
    net = small_net("lstm", "tanh", H=6, output="softmax")
    x, y, mask = batch(net, T=15, B=4, every=False)
    d, tr, grads = diagnose(net, x, y, mask)
    assert d.jacobian_log10.shape == (15, 15)
    assert d.lag_profile.shape == (15,)
    assert d.eigenvalues.shape == (6,) and np.iscomplexobj(d.eigenvalues)
    assert d.rho == pytest.approx(net.spectral_radius())
    assert d.sigma_max == pytest.approx(net.sigma_max())
    assert d.saturation_counts.sum() == 15 * 4 * 6
    assert np.isfinite(d.lyapunov).all()
    assert set(d.grad_norms) >= {"W_hh", "W_hx", "total"}


def test_a_strided_heatmap_equals_the_full_one_on_the_rows_it_computes():
    net = small_net("gru", "tanh", H=5)
    x, _, _ = batch(net, T=17, B=2)
    tr = forward(net, x)
    full = jacobian_log10(net, tr)
    part = jacobian_log10(net, tr, stride=4)
    rows = list(range(16, -1, -4))
    np.testing.assert_array_equal(part[rows], full[rows])
    others = [t for t in range(17) if t not in rows]
    assert np.all(np.isnan(part[others]))


def test_the_heatmap_plan_keeps_to_its_budget_and_says_what_it_did():
    from rnnlab.core.diagnostics import heatmap_cost, plan_heatmap

    small = plan_heatmap(20, 32, 32, 32, budget=1e9)
    assert (small.mode, small.stride, small.note) == ("exact", 1, "")
    big = plan_heatmap(300, 200, 200, 200, budget=3e9)
    assert big.mode == "estimated" and big.stride > 1 and big.cost <= 3e9
    assert "estimated" in big.note and f"one row t in {big.stride}" in big.note
    assert big.cost == heatmap_cost(300, 200, 200, 200, 16, big.stride)
    spectral = plan_heatmap(300, 200, 200, 200, norm="spectral", budget=3e9)
    assert spectral.mode == "exact" and spectral.stride > 1  # no estimate of the spectral norm: fewer rows
    assert plan_heatmap(300, 200, 200, 200).note == ""  # no budget: as configured


def test_diagnose_within_a_budget_records_how_the_heatmap_was_made():
    from rnnlab.core.diagnostics import diagnose

    net = small_net("rnn", "tanh", H=40)  # estimated probes (16) only pay off when S > 16
    x, y, mask = batch(net, T=30, B=2)
    exact, _, _ = diagnose(net, x, y, mask)
    cheap, _, _ = diagnose(net, x, y, mask, budget=2e6)
    assert exact.heatmap_note == "" and exact.heatmap_mode == "exact"
    assert cheap.heatmap_mode == "estimated" and cheap.heatmap_stride > 1 and cheap.heatmap_note
    np.testing.assert_array_equal(cheap.gradient_flow_log10, exact.gradient_flow_log10)
