"""The cells that keep their recurrence on or inside the unit circle (IndRNN, expRNN, antisymmetric, LRU), the
non-normal initialisation and the curse-of-memory sensitivity: each checked against a closed form or against
finite differences (the generic gradient, heatmap and jvp tests cover them by registration)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.config import Experiment, ModelConfig
from rnnlab.core import build_network, forward, jacobian_log10
from rnnlab.core.cells import CELLS
from rnnlab.core.diagnostics import diagnose, lag_profile, param_sensitivity, plan_sensitivity
from rnnlab.core.init import init_recurrent

from .helpers import ARCHS, batch, small_net


def model(**kw):
    base = dict(hidden_size=6, input_scale=0.8, output_scale=0.8)
    base.update(kw)
    return ModelConfig(**base)


# --- IndRNN ---------------------------------------------------------------------------------------------------------
def test_indrnn_heatmap_at_T_10000_is_the_closed_form_per_unit():
    """∂h_t/∂h_k = diag(Π_{j=k+1..t} u ⊙ f'(a_j)): every computed entry equals that product, unit by unit, taken
    straight from the pre-activations (log10 of the Frobenius and spectral norms of a diagonal matrix)."""
    T, H = 10_000, 4
    net = build_network(model(arch="indrnn", activation="tanh", hidden_size=H, spectral_radius=1.0), 2, 1, "linear",
                        np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((T, 1, 2))
    tr = forward(net, x)
    u = net.params["u"]
    fp = 1.0 - np.tanh(tr.cache["A"][:, 0, :]) ** 2  # f'(a_t), straight from the pre-activations
    lg = np.log10(np.abs(fp * u))  # per step and unit
    stride = 1000
    for norm in ("frobenius", "spectral"):
        L = jacobian_log10(net, tr, norm=norm, stride=stride)
        for t in range(T - 1, -1, -stride):
            assert np.all(np.isnan(L[t, t + 1 :]))
        for t in (T - 1, T - 1 - 3 * stride):
            for k in (0, 1, t // 3, t - 1, t):
                per_unit = lg[k + 1 : t + 1].sum(axis=0)  # log10 Π_{j=k+1..t} |u f'(a_j)|
                top = per_unit.max()
                want = top + 0.5 * np.log10(np.sum(10.0 ** (2 * (per_unit - top)))) if norm == "frobenius" else top
                assert L[t, k] == pytest.approx(want, abs=1e-8), (norm, t, k)


def test_indrnn_linear_units_decay_exactly_like_u_to_the_lag():
    net = build_network(model(arch="indrnn", activation="linear", hidden_size=3, spectral_radius=0.9), 1, 1,
                        "linear", np.random.default_rng(2))
    net.params["u"][:] = [0.9, 0.5, -0.3]
    tr = forward(net, np.random.default_rng(3).standard_normal((60, 1, 1)))
    L = jacobian_log10(net, tr, norm="spectral")
    d = np.arange(60)
    np.testing.assert_allclose(lag_profile(L), d * np.log10(0.9), atol=1e-10)


# --- expRNN ---------------------------------------------------------------------------------------------------------
def test_exprnn_stays_orthogonal_through_1000_training_steps():
    from rnnlab.train.trainer import Trainer

    exp = Experiment().with_changes({"model.arch": "exprnn", "model.hidden_size": 16, "task.name": "addition",
                                     "task.length": 12, "task.batch_size": 8, "training.optimizer": "adam",
                                     "training.learning_rate": 0.01, "training.eval_every": 1000})
    tr = Trainer(exp, spectrum_every=0)
    A0 = tr.net.params["A"].copy()
    for _ in range(1000):
        assert tr.step()
    W = tr.net.params["W_hh"]
    assert np.linalg.norm(tr.net.params["A"] - A0) > 0.1  # it did train
    assert np.linalg.norm(W.T @ W - np.eye(16)) < 1e-10
    sv = np.linalg.svd(W, compute_uv=False)
    assert abs(sv.max() - 1) < 1e-10 and abs(np.abs(np.linalg.eigvals(W)).max() - 1) < 1e-10
    np.testing.assert_allclose(W, CELLS["exprnn"].orthogonal_matrix(tr.net.params["A"]), atol=1e-14)


def test_exprnn_matrix_exponential_against_a_taylor_series():
    from rnnlab.core.cells.exprnn import dexp_skew, expm_skew, skew_eig

    rng = np.random.default_rng(4)
    A = rng.standard_normal((5, 5)) * 0.3
    K = A - A.T

    def taylor(M, n=40):
        out, term = np.eye(5), np.eye(5)
        for i in range(1, n):
            term = term @ M / i
            out = out + term
        return out

    alpha, V = skew_eig(K)
    np.testing.assert_allclose(expm_skew(alpha, V), taylor(K), atol=1e-13)
    E = rng.standard_normal((5, 5))
    E = E - E.T
    fd = (taylor(K + 1e-6 * E) - taylor(K - 1e-6 * E)) / 2e-6
    np.testing.assert_allclose(dexp_skew(alpha, V, E), fd, atol=1e-8)
    G = rng.standard_normal((5, 5))
    # the adjoint: ⟨G, dexp[E]⟩ = ⟨dexp*[G], E⟩ for every E
    for _ in range(3):
        E = rng.standard_normal((5, 5))
        assert np.sum(G * dexp_skew(alpha, V, E)) == pytest.approx(np.sum(dexp_skew(alpha, V, G, True) * E))


def test_exprnn_divided_differences_with_equal_close_and_distant_eigenvalues():
    from rnnlab.core.cells.exprnn import _phi

    alpha = np.array([0.0, 0.0, 1e-13, 0.5, 0.5 + 1e-9, -0.5, 3.0, -3.1])
    phi = _phi(alpha)
    a, b = np.meshgrid(alpha, alpha, indexing="ij")
    d = a - b
    far = np.abs(d) > 1e-3
    # (e^{iα_j} − e^{iα_k}) / (iα_j − iα_k) where that has no cancellation; its limit e^{i(α_j + α_k)/2} (error
    # O(d²)) where α_j and α_k (nearly) coincide
    ref = np.where(far, (np.exp(1j * a) - np.exp(1j * b)) / np.where(far, 1j * d, 1.0), np.exp(0.5j * (a + b)))
    np.testing.assert_allclose(phi, ref, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.diag(phi), np.exp(1j * alpha), rtol=0, atol=1e-15)


def test_exprnn_eigendecomposition_is_reused_only_for_the_same_A():
    from rnnlab.core.cells.exprnn import expm_skew

    cell = build_network(model(arch="exprnn", hidden_size=6), 2, 1, "linear", np.random.default_rng(2)).cell
    A = np.random.default_rng(3).standard_normal((6, 6))
    alpha, V = cell.eig(A)
    assert cell.eig(A)[1] is V and cell.eig(A.copy())[1] is V  # the same values: reused
    assert not V.flags.writeable and not alpha.flags.writeable  # (shared: no caller may change them)
    A[2, 4] += 1e-12  # an optimiser's update, in place
    alpha2, V2 = cell.eig(A)
    assert V2 is not V
    np.testing.assert_allclose(expm_skew(alpha2, V2), cell.orthogonal_matrix(A), atol=1e-14)
    assert cell.eig(A.astype(np.float32))[1] is not V2  # other values (rounded): recomputed
    cell.forget()
    assert cell.eig(A)[1] is not V2
    p = {"A": A, "W_hh": np.zeros((6, 6))}
    cell.after_update(p)
    np.testing.assert_allclose(p["W_hh"], cell.orthogonal_matrix(A), atol=1e-14)
    W = cell.recurrent_matrix(p)
    np.testing.assert_allclose(W, cell.orthogonal_matrix(A), atol=1e-14)
    W[0, 0] = 5.0  # (a copy: the kept exponential is not changed through it)
    np.testing.assert_allclose(cell.recurrent_matrix(p), cell.orthogonal_matrix(A), atol=1e-14)


# --- non-normal initialisation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("H", [9, 32])
def test_nonnormal_init_has_the_exact_spectral_radius_and_growing_sigma_max(H):
    sig = []
    for eta in (0.0, 0.5, 1.0, 2.0, 4.0):
        W = init_recurrent(np.random.default_rng(5), H, "nonnormal", 0.9, nonnormality=eta)
        rho = np.abs(np.linalg.eigvals(W)).max()
        assert abs(rho - 0.9) < 1e-9, (eta, rho)
        sig.append(np.linalg.norm(W, 2))
    assert sig[0] == pytest.approx(0.9, abs=1e-12)  # η = 0: a normal matrix, σ_max = ρ
    assert all(b > a for a, b in zip(sig, sig[1:])), sig


def test_nonnormal_transient_grows_then_decays():
    """Linear units, ρ = 0.9, η = 4: ‖W^d‖ first grows above 1 for several steps, then decays like 0.9^d."""
    net = build_network(model(arch="rnn", activation="linear", hidden_size=32, init="nonnormal",
                              spectral_radius=0.9, nonnormality=4.0), 1, 1, "linear", np.random.default_rng(0))
    tr = forward(net, np.zeros((120, 1, 1)))
    prof = lag_profile(jacobian_log10(net, tr, norm="spectral"))
    peak = int(np.argmax(prof))
    assert prof[peak] > 1.0 and 3 <= peak <= 40  # amplified by more than 10× at its peak
    assert prof[-1] < prof[peak] - 2
    normal = build_network(model(arch="rnn", activation="linear", hidden_size=32, init="nonnormal",
                                 spectral_radius=0.9, nonnormality=0.0), 1, 1, "linear", np.random.default_rng(0))
    prof0 = lag_profile(jacobian_log10(normal, forward(normal, np.zeros((120, 1, 1))), norm="spectral"))
    np.testing.assert_allclose(prof0, np.arange(120) * np.log10(0.9), atol=1e-9)


# --- the curse of memory ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.5, 0.9, 0.99])
def test_curse_of_memory_closed_form(lam):
    """h_t = λ h_{t−1} + x_t, x white with unit variance: E(∂h_t/∂λ)² → (1 + λ²)/(1 − λ²)³ (Zucchet & Orvieto
    2024). A linear IndRNN unit with W_hx = 1, b = 0, u = λ is that recurrence; ∂h_t/∂λ by its jvp, over 4000
    sequences and the last 1000 of 3000 steps."""
    B, T = 4000, 3000
    net = build_network(model(arch="indrnn", activation="linear", hidden_size=1), 1, 1, "linear",
                        np.random.default_rng(0))
    net.params["u"][:] = lam
    net.params["W_hx"][:] = 1.0
    net.params["b_h"][:] = 0.0
    x = np.random.default_rng(7).standard_normal((T, B, 1))
    tr = forward(net, x)
    ds = np.zeros((B, 1))
    acc, n = 0.0, 0
    one = {"u": np.ones(1)}
    for t in range(T):
        ds = net.cell.jvp(net.params, one, ds, tr.cache, t)
        if t >= T - 1000:
            acc += float(np.mean(ds * ds))
            n += 1
    want = (1 + lam**2) / (1 - lam**2) ** 3
    assert acc / n == pytest.approx(want, rel=0.05)


@pytest.mark.parametrize("arch", ARCHS)
def test_param_sensitivity_is_the_norm_of_the_finite_difference_derivative(arch):
    """‖ds_t/dθ_rec‖_F by tangents equals the norm of the central-difference derivative of the whole forward
    pass with respect to every entry of θ_rec; the estimate is within its spread."""
    net = small_net(arch, "tanh", H=3, seed=2)
    x, _, _ = batch(net, T=6, B=2)
    tr = forward(net, x)
    cols = []
    for k in net.cell.recurrent_params:
        P = net.params[k]
        for i in np.ndindex(P.shape):
            old = P[i]
            P[i] = old + 1e-6
            sp = forward(net, x).cache["S"][1:, 1].copy()
            P[i] = old - 1e-6
            sm = forward(net, x).cache["S"][1:, 1].copy()
            P[i] = old
            cols.append((sp - sm) / 2e-6)  # (T, S)
    with np.errstate(divide="ignore"):
        fd = np.log10(np.sqrt(np.sum(np.stack(cols) ** 2, axis=(0, 2))))
    got = param_sensitivity(net, tr, b=1)
    ok = np.isfinite(fd) & (fd > -8)
    np.testing.assert_allclose(got[ok], fd[ok], atol=1e-6)
    est = param_sensitivity(net, tr, b=1, mode="estimated", probes=400, rng=np.random.default_rng(0))
    assert np.max(np.abs(est[ok] - got[ok])) < 0.1


def test_param_sensitivity_explodes_for_the_plain_linear_recurrence_and_not_for_the_normalised_lru():
    """|λ| → 1 with ‖∂x_t/∂x_k‖ ≤ 1: unnormalised (γ = 1), ‖dx_t/dν‖ grows like 1/√(1 − |λ|); normalised
    (γ = √(1 − |λ|²)) it stays O(1) (module docstring of rnnlab.core.cells.lru)."""
    res = {}
    for norm in (True, False):
        m = model(arch="lru", activation="linear", hidden_size=4, lru_r_min=0.999, lru_r_max=0.999,
                  lru_max_phase=0.0, lru_normalize=norm, input_scale=1.0)
        net = build_network(m, 1, 1, "linear", np.random.default_rng(0))
        tr = forward(net, np.random.default_rng(1).standard_normal((3000, 1, 1)))
        sens = param_sensitivity(net, tr)
        res[norm] = np.mean(sens[-500:])
        L = jacobian_log10(net, tr, norm="spectral", stride=500)
        assert np.nanmax(L) <= 1e-12  # ‖∂x_t/∂x_k‖₂ ≤ 1 everywhere
    assert res[False] - res[True] > 1.0  # more than ten times larger without the normalisation


def test_sensitivity_plan_switches_to_an_estimate_for_large_recurrences():
    small = small_net("rnn", "tanh", H=8)
    assert plan_sensitivity(small, 50) == ("exact", 64)
    big = small_net("lstm", "tanh", H=20)  # 4H² = 1600 entries
    assert plan_sensitivity(big, 50, probes=16) == ("estimated", 16)
    d, _, _ = diagnose(big, *batch(big, T=10, B=2))
    assert d.sensitivity_mode.startswith("estimated") and d.param_sensitivity.shape == (10,)


# --- bounds that hold -------------------------------------------------------------------------------------------------
SETTINGS = [
    ("indrnn", {"spectral_radius": 0.5}), ("indrnn", {"spectral_radius": 1.3}),
    ("exprnn", {}),
    ("antisymmetric", {"antisymmetric_epsilon": 0.1, "antisymmetric_gamma": 0.01}),
    ("antisymmetric", {"antisymmetric_epsilon": 1.0, "antisymmetric_gamma": 3.0, "spectral_radius": 2.0}),
    ("lru", {"lru_r_min": 0.2, "lru_r_max": 0.6}), ("lru", {"lru_r_min": 0.99, "lru_r_max": 0.999}),
    ("rnn", {"init": "nonnormal", "nonnormality": 3.0, "spectral_radius": 0.9}),
]


@pytest.mark.parametrize("arch,kw", SETTINGS)
@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "linear"])
def test_measured_step_norms_stay_under_the_stated_bound(arch, kw, act):
    net = build_network(model(arch=arch, activation=act, hidden_size=7, **kw), 2, 1, "linear",
                        np.random.default_rng(3))
    bound, text = net.cell.step_bound(net.params)
    assert text
    x = np.random.default_rng(4).standard_normal((30, 2, 2)) * 2
    tr = forward(net, x)
    norms = [np.linalg.norm(net.cell.jacobian(net.params, tr.cache, t, b), 2) for t in range(1, 30) for b in (0, 1)]
    assert max(norms) <= bound * (1 + 1e-12)
    if act == "linear" and arch in ("indrnn", "lru", "exprnn"):
        assert max(norms) == pytest.approx(bound, rel=1e-9)  # tight: no nonlinearity in the step


def test_effective_recurrence_of_every_new_cell():
    for arch in ("indrnn", "exprnn", "antisymmetric", "lru"):
        net = build_network(model(arch=arch), 2, 1, "linear", np.random.default_rng(0))
        ev, caption = net.cell.recurrence_eigenvalues(net.params)
        assert caption and np.iscomplexobj(ev)
    lru = build_network(model(arch="lru", lru_r_min=0.5, lru_r_max=0.8, lru_max_phase=1.0), 2, 1, "linear",
                        np.random.default_rng(1))
    lam, _ = lru.cell.recurrence_eigenvalues(lru.params)
    assert np.all((np.abs(lam) >= 0.5 - 1e-12) & (np.abs(lam) <= 0.8 + 1e-12))
    assert np.all((np.angle(lam) >= 0) & (np.angle(lam) <= 1.0 + 1e-12))
    gam = np.exp(lru.params["gamma_log"])
    np.testing.assert_allclose(gam, np.sqrt(1 - np.abs(lam) ** 2))
    ex = build_network(model(arch="exprnn"), 2, 1, "linear", np.random.default_rng(2))
    ev, _ = ex.cell.recurrence_eigenvalues(ex.params)
    np.testing.assert_allclose(np.abs(ev), 1.0, atol=1e-13)
    np.testing.assert_allclose(np.sort_complex(ev), np.sort_complex(np.linalg.eigvals(ex.params["W_hh"])),
                               atol=1e-10)
