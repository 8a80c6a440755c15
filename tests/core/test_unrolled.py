"""The backward pass along the unrolled network (core.unrolled): every number against BPTT itself, the gradient
flow, explicit products of step Jacobians, and the log domain where the plain product overflows."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core.bptt import backward, forward, loss_and_dz, tbptt_windows
from rnnlab.core.diagnostics import gradient_flow_log10
from rnnlab.core.unrolled import UnrolledPass, plan_unrolled, unrolled_pass

from .helpers import ARCHS, batch, small_net


def _setup(arch="rnn", T=9, B=3, every=True, radius=1.1, H=5, act="tanh", output="linear"):
    net = small_net(arch, act, H=H, radius=radius, output=output)
    x, y, mask = batch(net, T=T, B=B, every=every)
    tr = forward(net, x)
    _, dz = loss_and_dz(net, tr.z, y, mask)
    return net, tr, dz


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("k1, k2", [(0, 0), (3, 3), (2, 5)])
def test_the_total_is_what_bptt_accumulates(arch, k1, k2):
    """δ_k = ∂E/∂s_k of the pass equals the ``deltas`` that backward() sums over its truncation windows."""
    net, tr, dz = _setup(arch, T=9)
    deltas = np.zeros((9, 3, net.cell.state_size))
    backward(net, tr, dz, k1, k2, deltas)
    for b in (0, 2):
        up = unrolled_pass(net, tr, dz, b, k1, k2)
        with np.errstate(divide="ignore"):
            want = np.log10(np.linalg.norm(deltas[:, b], axis=-1))
        np.testing.assert_allclose(up.total_log10, want, atol=1e-9)


@pytest.mark.parametrize("arch", ARCHS)
def test_with_one_loss_the_arrows_are_the_gradient_flow(arch):
    """Scored at the last step only (temporal order): what crosses the arrow into k is ∂E_{T−1}/∂s_{k−1}, the
    gradient flow's last row, and the total at k is its entry k."""
    net, tr, dz = _setup(arch, T=10, every=False)
    F = gradient_flow_log10(net, tr, dz, 0)
    up = unrolled_pass(net, tr, dz, 0)
    assert up.scored.tolist() == [False] * 9 + [True]
    np.testing.assert_allclose(up.arrow_log10[1:], F[9, :9], atol=1e-9)
    np.testing.assert_allclose(up.total_log10, F[9], atol=1e-9)
    np.testing.assert_array_equal(up.flow_log10[9], F[9])
    assert np.all(np.isnan(up.flow_log10[:9]))


def test_every_loss_flows_back_as_the_gradient_flow_says():
    net, tr, dz = _setup("lstm", T=8)
    F = gradient_flow_log10(net, tr, dz, 1)
    up = unrolled_pass(net, tr, dz, 1, flow=F)
    np.testing.assert_array_equal(up.flow_log10, F)  # full BPTT: nothing cut
    assert up.cuts.size == 0 and up.reach.tolist() == [0] * 8
    # the arrow into k carries Σ_{t ≥ k} ∂E_t/∂s_{k−1}: compare with the explicit sum of the flows' vectors
    S = net.cell.state_size
    for k in range(1, 8):
        acc = np.zeros(S)
        for t in range(k, 8):
            g = np.zeros((1, S))
            net.cell.hidden_vjp(net.params, (dz[t, 1] @ net.params["W_yh"])[None], tr.cache, t, 1, ds_out=g)
            for j in range(t, k - 1, -1):
                g = g @ net.cell.jacobian(net.params, tr.cache, j, 1)
            acc += g[0]
        assert up.arrow_log10[k] == pytest.approx(np.log10(np.linalg.norm(acc)), abs=1e-9)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_truncated_bptt_k2_5_reaches_no_further_than_5_steps(arch):
    """TBPTT(5, 5) on a sequence scored at its last step: the loss reaches s_{T−5} … s_{T−1} and nothing before;
    the arrow into T−5 is cut."""
    T = 20
    net, tr, dz = _setup(arch, T=T, every=False)
    up = unrolled_pass(net, tr, dz, 0, 5, 5)
    assert up.k2 == 5 and up.cuts.tolist() == [T - 5]
    assert up.reach[T - 1] == T - 5
    assert np.all(np.isfinite(up.total_log10[T - 5 :])) and np.all(up.total_log10[: T - 5] == -np.inf)
    assert np.all(np.isfinite(up.arrow_log10[T - 4 :])) and np.all(up.arrow_log10[1 : T - 4] == -np.inf)
    F = gradient_flow_log10(net, tr, dz, 0)
    np.testing.assert_array_equal(up.flow_log10[T - 1, T - 5 :], F[T - 1, T - 5 :])
    assert np.all(np.isnan(up.flow_log10[T - 1, : T - 5]))
    # scored everywhere: every loss t reaches back to the start of its own window only
    net, tr, dz = _setup(arch, T=T)
    up = unrolled_pass(net, tr, dz, 0, 5, 5)
    for te, tlo, inj in tbptt_windows(T, 5, 5):
        for t in range(inj, te + 1):
            assert up.reach[t] == tlo and t - up.reach[t] < 5
            row = up.flow_log10[t]
            assert np.all(np.isnan(row[:tlo])) and np.all(np.isfinite(row[tlo : t + 1]))
    assert up.cuts.tolist() == [5, 10, 15]


@pytest.mark.parametrize("arch", ["rnn", "leaky", "lstm", "gru", "lru"])
def test_factors_and_running_products_are_the_explicit_products(arch):
    """step_log10[j] = log10 ‖∂s_j/∂s_{j−1}‖₂ and product row t = log10 ‖J_t ⋯ J_{k+1}‖₂, from dense Jacobians."""
    net, tr, dz = _setup(arch, T=8)
    up = unrolled_pass(net, tr, dz, 0)
    assert up.norm == "spectral" and up.probes == 0 and up.note == ""
    assert up.product_rows.tolist() == list(range(8))  # every loss step: cheap at this size
    Js = [None] + [net.cell.jacobian(net.params, tr.cache, j, 0) for j in range(1, 8)]
    assert np.isnan(up.step_log10[0])
    for j in range(1, 8):
        assert up.step_log10[j] == pytest.approx(np.log10(np.linalg.norm(Js[j], 2)), abs=1e-9)
    for t in (7, 4):
        row = up.product_row(t)
        P = np.eye(net.cell.state_size)  # rows: I · J_t ⋯ J_{k+1} (the row convention of vjp)
        for k in range(t, -1, -1):
            assert row[k] == pytest.approx(np.log10(np.linalg.norm(P, 2)), abs=1e-9)
            if k > 0:
                P = P @ Js[k]
        assert np.all(np.isnan(row[t + 1 :]))
        # submultiplicative: the product never exceeds the product of its factors' norms (eq. 12)
        bound = up.bound_row(t)
        for k in range(t + 1):
            assert bound[k] == pytest.approx(np.sum(up.step_log10[k + 1 : t + 1]), abs=1e-12)
            assert row[k] <= bound[k] + 1e-9
        assert np.all(np.isnan(bound[t + 1 :]))


def test_the_log_domain_keeps_exploding_and_vanishing_passes_finite():
    """Linear units, W_hh = ρQ, T = 1000: ‖∂E/∂s_0‖ = ρ^999 ‖∂E/∂s_999‖, 10^601 for ρ = 4 and 10^−999 for ρ = 0.1,
    both far outside float64. The pass keeps exact logs. (The input is zero but at the last step, so the forward
    states stay zero until then.)"""
    T = 1000
    for radius in (4.0, 0.1):
        net = small_net("rnn", "linear", H=4, radius=radius, init="orthogonal")
        W = net.params["W_hh"]
        np.testing.assert_allclose(W.T @ W, radius ** 2 * np.eye(4), atol=1e-12)
        net.params["b_h"][:] = 0.0
        x = np.zeros((T, 1, net.n_in))
        x[-1] = 1.0
        y = np.ones((T, 1, net.n_out))
        mask = np.zeros((T, 1))
        mask[-1] = 1.0
        tr = forward(net, x)
        _, dz = loss_and_dz(net, tr.z, y, mask)
        up = unrolled_pass(net, tr, dz, 0)
        assert np.all(np.isfinite(up.total_log10)) and np.all(np.isfinite(up.arrow_log10[1:]))
        np.testing.assert_allclose(np.diff(up.total_log10), -np.log10(radius), atol=1e-9)  # × ρ per step back
        np.testing.assert_allclose(up.arrow_log10[1:], up.total_log10[:-1], atol=1e-12)
        np.testing.assert_allclose(up.step_log10[1:], np.log10(radius), atol=1e-9)
        last = up.product_row(T - 1)
        np.testing.assert_allclose(last, (T - 1 - np.arange(T)) * np.log10(radius), atol=1e-7)


def test_without_a_loss_only_the_factors_remain():
    net, tr, _ = _setup("rnn", T=6)
    up = unrolled_pass(net, tr, None, 0)
    assert not up.scored.any() and np.all(np.isnan(up.total_log10)) and np.all(np.isnan(up.flow_log10))
    assert up.product_rows.tolist() == [5] and np.all(np.isfinite(up.step_log10[1:]))


def test_the_plan_keeps_to_its_allowance_and_says_so():
    # small: spectral, every row
    norm, m, rows, note = plan_unrolled(20, 32, 32, 32, list(range(20)))
    assert (norm, m, rows, note) == ("spectral", 0, list(range(20)), "")
    # many rows: the last first, then evenly spaced, within the allowance
    norm, m, rows, note = plan_unrolled(100, 32, 32, 32, list(range(100)), allowance=1e8)
    assert norm == "spectral" and 99 in rows and 1 < len(rows) < 100 and "running products for" in note
    unit = 32 ** 3 + 4 * 32 ** 3
    assert 100 * unit + sum((t + 1) * unit for t in rows) <= 1e8
    # large S: the estimated Frobenius norm, stated
    norm, m, rows, note = plan_unrolled(100, 512, 512, 512, [99])
    assert norm == "frobenius" and m == 16 and rows == [99] and "estimated with 16 random probes" in note


def test_the_estimated_factors_are_close_to_the_exact_frobenius_norms():
    net, tr, dz = _setup("rnn", T=12, H=40)
    up = unrolled_pass(net, tr, dz, 0, probes=256, allowance=1.0)  # nothing fits: estimated
    assert up.norm == "frobenius" and up.probes == 256 and up.note
    exact = [np.log10(np.linalg.norm(net.cell.jacobian(net.params, tr.cache, j, 0))) for j in range(1, 12)]
    np.testing.assert_allclose(up.step_log10[1:], exact, atol=0.1)  # 256 probes: ±0.02 decades


def test_arrays_name_every_field():
    net, tr, dz = _setup("rnn", T=5)
    arrs = unrolled_pass(net, tr, dz, 0).arrays()
    assert set(arrs) >= {"total_log10", "arrow_log10", "step_log10", "product_log10", "cuts", "norm"}
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in arrs.values())
    assert UnrolledPass().T == 0
