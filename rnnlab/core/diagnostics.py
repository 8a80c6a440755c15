"""Diagnostics of a network on a probe batch: ∂h_t/∂h_k in the log domain, gradient flow, spectra, Lyapunov.

All heavy products run through :func:`log_norm_sweep`, which multiplies a growing stack of blocks by one step
Jacobian at a time (one large matrix product per step) and keeps every block's scale as a separate log10, so the
numbers stay finite and exact where the plain product would overflow (ρ = 4, T = 1000 gives 10^602) or
underflow (ρ = 0.1 gives 10^−1000).

For the LSTM the recurrent state is s = (h, c) and the heatmap shows ‖∂s_t/∂s_k‖ of that whole 2H-dimensional
state; for the other cells s = h.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

from ..texmath import math_to_plain
from ._interrupt import checkpoint, hooked
from .bptt import Trace, backward, loss_and_dz
from .network import Network
from .unrolled import UnrolledPass
# the cost model and the spectra live in their own modules; every name stays importable from here
from .budget import (SENSITIVITY_MAX_EXACT, HeatmapPlan, bptt_cost, estimate_error_log10,
                     estimate_error_text, heatmap_cost, lyapunov_cost, plan_heatmap, plan_sensitivity, slow_cost,
                     spectrum_cost)
from .spectra import (EIG_ALLOWANCE, EIG_MAX_STEPS, autonomous_lyapunov, jacobian_eigenvalue_steps,
                      jacobian_eigenvalues, lyapunov_spectrum, network_lyapunov, spectrum)

__all__ = [
    "log_norm_sweep",
    "jacobian_log10",
    "estimate_error_log10",
    "HeatmapPlan",
    "bptt_cost",
    "spectrum_cost",
    "lyapunov_cost",
    "slow_cost",
    "heatmap_cost",
    "plan_heatmap",
    "gradient_flow_log10",
    "lag_profile",
    "lag_bound",
    "grad_norms",
    "long_term_split",
    "param_sensitivity",
    "plan_sensitivity",
    "spectrum",
    "jacobian_eigenvalue_steps",
    "jacobian_eigenvalues",
    "estimate_error_text",
    "saturation_histogram",
    "lyapunov_spectrum",
    "network_lyapunov",
    "autonomous_lyapunov",
    "regime",
    "Diagnostics",
    "diagnose",
    "SENSITIVITY_MAX_EXACT",
    "EIG_ALLOWANCE",
    "EIG_MAX_STEPS",
]

_BIG = 1e100
_SMALL = 1e-100


def log_norm_sweep(net: Network, trace: Trace, b: int, seeds: Callable[[int], np.ndarray | None],
                   norm: str = "frobenius") -> np.ndarray:
    """log10 of ‖seed_t · ∂s_t/∂s_k‖ for all k ≤ t, by vector–Jacobian products from t back to k.

    Parameters
    ----------
    net, trace : the network and a forward :class:`Trace` of it
    b : index of the probe sequence in the batch
    seeds : ``seeds(t)`` -> (w, S) block of row covectors attached at step t, or None for no block.
        The identity gives ∂s_t/∂s_k itself; ∂E_t/∂s_t gives the gradient that the loss at t sends to s_k.
    norm : "frobenius" or "spectral" (largest singular value of each block)

    Returns
    -------
    (T, T) float64 array L with L[t, k] = log10 ‖seed_t ∂s_t/∂s_k‖ for k ≤ t where a seed exists, NaN elsewhere;
    −inf where the product is exactly zero.

    Cost: Σ_k (#blocks alive at k)·w·S·G multiply-adds, i.e. about T²·S³/2 for identity seeds (exact heatmap).
    """
    with np.errstate(all="ignore"):
        return _sweep(net, trace, b, seeds, norm)


def _sweep(net, trace, b, seeds, norm):
    cell, p, cache = net.cell, net.params, trace.cache
    T = trace.T
    S = cell.state_size
    out = np.full((T, T), np.nan)
    ts: list[int] = []  # the step t of each block, in stack order
    widths: list[int] = []
    logscale = np.zeros(0)
    buf_a = buf_b = None
    rows = 0
    dense = cell.blocks > 1
    for k in range(T - 1, -1, -1):
        checkpoint()
        seed = seeds(k)
        if seed is not None:
            seed = np.asarray(seed, dtype=np.float64)
            w = seed.shape[0]
            need = rows + w
            if buf_a is None or need > buf_a.shape[0]:
                cap = max(need, 2 * (buf_a.shape[0] if buf_a is not None else 0), 64)
                na, nb = np.empty((cap, S)), np.empty((cap, S))
                if buf_a is not None:
                    na[:rows] = buf_a[:rows]
                buf_a, buf_b = na, nb
            buf_a[rows:need] = seed
            rows = need
            ts.append(k)
            widths.append(w)
            logscale = np.append(logscale, 0.0)
        if not ts:
            continue
        stack = buf_a[:rows]
        norms = _block_norms(stack, widths, S, norm)
        out[ts, k] = np.log10(norms) + logscale
        # renormalise the blocks that drift towards over- or underflow (exact: norms are homogeneous)
        bad = (norms > _BIG) | ((norms < _SMALL) & (norms > 0))
        if bad.any():
            off = np.concatenate([[0], np.cumsum(widths)])
            for j in np.flatnonzero(bad):
                stack[off[j] : off[j + 1]] /= norms[j]
                logscale[j] += np.log10(norms[j])
        if k > 0:
            if dense:
                # gated cells: the dense step Jacobian once (S rows through the cell), then one large product
                # (a row costs S² instead of G·H plus elementwise passes; decided per cell, not per step, so that
                # every row gets the same arithmetic whatever else is in the stack)
                np.matmul(stack, np.asarray(cell.jacobian(p, cache, k, b), dtype=np.float64), out=buf_b[:rows])
            else:
                cell.vjp(p, stack, cache, k, b, out=buf_b[:rows])
            buf_a, buf_b = buf_b, buf_a
    return out


def _block_norms(stack: np.ndarray, widths: list[int], S: int, norm: str) -> np.ndarray:
    if len(set(widths)) == 1:
        w = widths[0]
        blocks = stack.reshape(len(widths), w, S)
        if norm == "spectral" and w > 1:
            return np.linalg.norm(blocks, ord=2, axis=(1, 2))
        return np.sqrt(np.einsum("ijk,ijk->i", blocks, blocks))
    off = np.concatenate([[0], np.cumsum(widths)])
    res = np.empty(len(widths))
    for j in range(len(widths)):
        blk = stack[off[j] : off[j + 1]]
        res[j] = np.linalg.norm(blk, 2) if (norm == "spectral" and blk.shape[0] > 1) else np.sqrt(np.sum(blk * blk))
    return res


def jacobian_log10(net: Network, trace: Trace, b: int = 0, norm: str = "frobenius", mode: str = "exact",
                   probes: int = 16, rng: np.random.Generator | None = None, stride: int = 1) -> np.ndarray:
    """The heatmap ``L[t, k] = log10 ‖∂s_t/∂s_k‖`` (T, T) for the probe sequence b; NaN above the diagonal.

    ∂s_t/∂s_k = Π_{j=k+1..t} ∂s_j/∂s_{j−1} (seeds eq. 8; vanilla: Π diag(f'(a_j)) W_hh). The diagonal is
    ‖I‖ (log10 √S for the Frobenius norm, 0 for the spectral norm).

    ``mode="exact"`` multiplies full S×S blocks (cost ≈ T²S³/2). ``mode="estimated"`` (Frobenius only) replaces
    the identity by ``probes`` Gaussian rows V/√m, using E‖V P‖²_F = m‖P‖²_F; cost ≈ T²S²·m/2. Its error is
    stated by :func:`estimate_error_log10`. ``stride`` > 1 computes only the rows t = T−1, T−1−stride, … (the
    others stay NaN): the cost divides by ``stride`` (see :func:`plan_heatmap`).

    Cells whose step Jacobians are scaled orthogonal blocks that commute (IndRNN, LRU:
    :meth:`Cell.jacobian_moduli`) are always computed exactly from per-coordinate products of the moduli, at
    O(S) per entry instead of O(S³) (``mode`` is then ignored).
    """
    S = net.cell.state_size
    T = trace.T
    stride = max(1, int(stride))
    if mode not in ("exact", "estimated"):
        raise ValueError(f"mode must be 'exact' or 'estimated', got {mode!r}")
    moduli = net.cell.jacobian_moduli(net.params, trace.cache, b)
    if moduli is not None:  # diagonal (or scaled-rotation) steps: exact at O(S) per entry, whatever was asked
        return _moduli_heatmap(np.asarray(moduli, dtype=np.float64), norm, range(T - 1, -1, -stride))
    rows = set(range(T - 1, -1, -stride))
    if mode == "exact":
        eye = np.eye(S)
        return log_norm_sweep(net, trace, b, lambda t: eye if t in rows else None, norm)
    if mode != "estimated":
        raise ValueError(f"mode must be 'exact' or 'estimated', got {mode!r}")
    if norm != "frobenius":
        raise ValueError("the estimated heatmap supports the Frobenius norm only")
    rng = rng or np.random.default_rng(0)
    m = int(probes)
    return log_norm_sweep(net, trace, b, lambda t: rng.standard_normal((m, S)) / np.sqrt(m) if t in rows else None,
                          norm)


def _moduli_heatmap(g: np.ndarray, norm: str, rows) -> np.ndarray:
    """The heatmap from per-coordinate moduli g (T, S): the singular values of ∂s_t/∂s_k are Π_{j=k+1..t} g_j,
    coordinate by coordinate, so with C_i(t) = Σ_{j≤t} ln g_ij, ln ‖∂s_t/∂s_k‖ is max_i (C_i(t) − C_i(k)) (spectral)
    or ½ ln Σ_i e^{2(C_i(t) − C_i(k))} (Frobenius). Exact zero factors (ReLU units that are off) are counted apart
    and give −inf.

    Frobenius rows are computed in blocks with one matrix product each: for rows t ≥ t0 of a block and columns
    k ≤ t0, C(t) − C(k) = α(t) + β(k) with α(t) = C(t) − C(t0) and β(k) = C(t0) − C(k); shifting each row of α and
    each column of β by its maximum, Σ_i e^{2α_i}e^{2β_i} is a product of two matrices with entries in [0, 1]. The
    block is kept so short (at most 128 steps) that max_i α_i − min_i α_i ≤ 150 for each row: the term that dominates an entry then
    is at least e^{−600}·(its share) before rounding, far above underflow, so every entry keeps full relative
    precision. The few entries t0 < k ≤ t inside a block are summed directly.
    """
    T, S = g.shape
    out = np.full((T, T), np.nan)
    rows = sorted(set(int(t) for t in rows))
    if not rows:
        return out
    to10 = 1.0 / np.log(10.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        zero = ~(g > 0)
        C = np.cumsum(np.log(np.where(zero, 1.0, g)), axis=0)  # finite part
        Z = np.cumsum(zero, axis=0)  # zero factors up to t

        def direct(t: int, k0: int) -> np.ndarray:
            """ln ‖∂s_t/∂s_k‖ for k = k0 … t, summed per entry."""
            D = C[t] - C[k0 : t + 1]
            D[(Z[t] - Z[k0 : t + 1]) > 0] = -np.inf
            m = D.max(axis=1)
            if norm == "spectral":
                return m
            mm = np.where(np.isfinite(m), m, 0.0)
            res = mm + 0.5 * np.log(np.sum(np.exp(2.0 * (D - mm[:, None])), axis=1))
            res[~np.isfinite(m)] = -np.inf
            return res

        if norm == "spectral":
            for t in rows:
                out[t, : t + 1] = direct(t, 0) * to10
            return out
        i = 0
        while i < len(rows):
            t0 = rows[i]
            block = [t0]
            while i + len(block) < len(rows) and len(block) < 256:
                t = rows[i + len(block)]
                if t - t0 > 128 or np.ptp(C[t] - C[t0]) > 150.0:  # (128: the direct part stays small)
                    break
                block.append(t)
            i += len(block)
            tb = np.asarray(block)
            alpha = C[tb] - C[t0]  # (w, S)
            alpha[(Z[tb] - Z[t0]) > 0] = -np.inf
            beta = C[t0] - C[: t0 + 1]  # (t0 + 1, S): k = 0 … t0
            beta[(Z[t0] - Z[: t0 + 1]) > 0] = -np.inf
            a, m = alpha.max(axis=1), beta.max(axis=1)
            a0, m0 = np.where(np.isfinite(a), a, 0.0), np.where(np.isfinite(m), m, 0.0)
            P = np.exp(2.0 * (alpha - a0[:, None])) @ np.exp(2.0 * (beta - m0[:, None])).T  # (w, t0 + 1)
            L = a0[:, None] + m0[None, :] + 0.5 * np.log(P)
            L[~np.isfinite(a)] = -np.inf
            L[:, ~np.isfinite(m)] = -np.inf
            out[tb, : t0 + 1] = L * to10
            for t in block[1:]:
                out[t, t0 + 1 : t + 1] = direct(t, t0 + 1) * to10
    return out


def gradient_flow_log10(net: Network, trace: Trace, dz: np.ndarray, b: int = 0) -> np.ndarray:
    """``F[t, k] = log10 ‖∂E_t/∂s_k‖`` (T, T) for sequence b: how much the loss at step t sends back to step k.

    Computed by vector–Jacobian products from ∂E_t/∂s_t = dz_t W_yh carried into the state by
    :meth:`Cell.hidden_vjp` (padded with zeros for the LSTM's c; through C for the LRU).
    NaN where k > t or where step t carries no loss.
    """
    S = net.cell.state_size
    W_yh = net.params["W_yh"]

    def seed(t: int):
        g = dz[t, b]
        if not np.any(g):
            return None
        row = np.zeros((1, S))
        return net.cell.hidden_vjp(net.params, (g @ W_yh)[None], trace.cache, t, b, ds_out=row)

    return log_norm_sweep(net, trace, b, seed, "frobenius")


def lag_profile(L: np.ndarray) -> np.ndarray:
    """Mean over t of ``L[t, t − d]`` for d = 0 … T−1 (NaN and −inf entries skipped): shape (T,)."""
    T = L.shape[0]
    prof = np.full(T, np.nan)
    for d in range(T):
        v = np.diagonal(L, offset=-d)
        v = v[np.isfinite(v)]
        if v.size:
            prof[d] = v.mean()
    return prof


def lag_bound(net: Network, T: int, offset: float = 0.0) -> np.ndarray:
    """The bound the cell states on the lag profile: d·log10(b) + ``offset`` for d = 0 … T−1, where b is the
    cell's :meth:`~rnnlab.core.cells.base.Cell.step_bound` (‖∂s_t/∂s_{t−1}‖₂ ≤ b at every step, so
    ‖∂s_t/∂s_{t−d}‖₂ ≤ b^d); ``offset`` = log10 √S turns it into a bound on the Frobenius norm
    (‖P‖_F ≤ √S·‖P‖₂).

    All NaN when the cell states no bound (LSTM, GRU: their step Jacobian depends on the gates, and no bound
    from the weights alone is claimed): nothing is drawn and every caption says that none applies.
    """
    sb = net.cell.step_bound(net.params)
    if sb is None:
        return np.full(T, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arange(T) * np.log10(float(sb[0])) + offset


def grad_norms(grads: dict[str, np.ndarray]) -> dict[str, float]:
    """Frobenius norm of each gradient, plus ``"total"`` = the norm of all of them together."""
    out = {k: float(np.linalg.norm(v)) for k, v in grads.items()}
    out["total"] = float(np.sqrt(sum(v * v for v in out.values())))
    return out


def _recurrent_gradient(net: Network, grads: dict) -> np.ndarray:
    """∂E/∂θ_rec: the gradients of the cell's recurrent parameters, as one vector."""
    return np.concatenate([np.ravel(grads[k]) for k in net.cell.recurrent_params])


def long_term_split(net: Network, trace: Trace, dz: np.ndarray, L: int,
                    full: dict | np.ndarray | None = None) -> tuple[float, float, float]:
    """Split ∂E/∂θ_rec (W_hh; the IndRNN's u, the LRU's ν and θ, …: :attr:`Cell.recurrent_params`) into
    short-term (lags t − k ≤ L) and long-term (t − k > L) parts (Pascanu et al. eq. 4).

    The short-term part backpropagates each loss term E_t only to steps k ≥ t − L (BPTT(1, L + 1)); the long-term
    part is the full gradient (``full``: the gradients of :func:`backward`, or that vector; computed here when not
    given) minus it. Returns ``(‖short‖, ‖long‖, share)`` with share = ‖long‖ / (‖short‖ + ‖long‖) ∈ [0, 1].
    """
    if full is None:
        full = backward(net, trace, dz)
    if isinstance(full, dict):
        full = _recurrent_gradient(net, full)
    short = _recurrent_gradient(net, backward(net, trace, dz, 1, L + 1))
    ns, nl = float(np.linalg.norm(short)), float(np.linalg.norm(full - short))
    return ns, nl, (nl / (ns + nl) if ns + nl > 0 else 0.0)


def param_sensitivity(net: Network, trace: Trace, b: int = 0, mode: str = "exact", probes: int = 16,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """The curse-of-memory sensitivity ``log10 ‖ds_t/dθ_rec‖_F`` for t = 0 … T−1 along probe sequence b: how much
    the state at t moves when the recurrent parameters move (Zucchet & Orvieto 2024), by forward-mode tangents.

    ṡ_t = ∂s_t/∂s_{t−1} ṡ_{t−1} + ∂⁺s_t/∂θ_rec θ̇ (:meth:`Cell.jvp`) from ṡ_{−1} = 0, for a set of directions θ̇
    at once: ``mode="exact"`` takes every unit vector of θ_rec (P directions), so ‖ṡ_t‖_F = ‖ds_t/dθ_rec‖_F
    exactly; ``mode="estimated"`` takes ``probes`` Gaussian directions scaled by 1/√m, whose ‖ṡ_t‖²_F has mean
    ‖ds_t/dθ_rec‖²_F (the heatmap's estimator, transposed). Unlike ∂s_t/∂s_k it sums contributions over all
    past steps, so it can grow without bound while every ‖∂s_t/∂s_k‖ ≤ 1: for h_t = λh_{t−1} + x_t with white
    x of unit variance, E(∂h_t/∂λ)² → (1 + λ²)/(1 − λ²)³. The tangents are rescaled (with the directions, the map
    being linear in both) when they approach overflow; −inf where the sensitivity is exactly 0 (t = 0 for cells
    whose θ_rec multiplies s_{−1} = 0).
    """
    with np.errstate(all="ignore"):
        return _sensitivity(net, trace, b, mode, probes, rng)


def _sensitivity(net, trace, b, mode, probes, rng):
    cell, p, cache = net.cell, net.params, trace.cache
    names = cell.recurrent_params
    sizes = [int(np.size(p[k])) for k in names]
    if mode == "exact":
        N = sum(sizes)
        flat = np.eye(N)
    elif mode == "estimated":
        N = int(probes)
        flat = (rng or np.random.default_rng(0)).standard_normal((N, sum(sizes))) / np.sqrt(N)
    else:
        raise ValueError(f"mode must be 'exact' or 'estimated', got {mode!r}")
    dp0, off = {}, 0
    for k, n in zip(names, sizes):
        dp0[k] = np.ascontiguousarray(flat[:, off : off + n].reshape((N,) + np.shape(p[k])))
        off += n
    T = trace.T
    out = np.full(T, -np.inf)
    ds = np.zeros((N, cell.state_size))
    dp, scale = dp0, 0.0  # the tangents are 10^scale · (ds, dp)
    for t in range(T):
        ds = cell.jvp(p, dp, ds, cache, t, b)
        nrm = float(np.sqrt(np.sum(ds * ds)))
        out[t] = (np.log10(nrm) if nrm > 0 else -np.inf) + scale
        if nrm > _BIG:
            scale += np.log10(nrm)
            ds = ds / nrm
            f = 10.0 ** (-scale)
            dp = {k: v * f for k, v in dp0.items()}
    return out


def saturation_histogram(net: Network, trace: Trace, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of f'(a) over all steps, units and sequences on [0, γ]: ``(counts, edges)``.

    Values near 0 are saturated units (no gradient passes); values near γ are in the linear regime.
    """
    d = net.cell.saturation(trace.cache)
    return np.histogram(d, bins=bins, range=(0.0, net.gamma))


def regime(bound: tuple[float, str] | None, rho: float, linear: bool, label: str = "cell") -> str:
    """A one-line reading of a cell's stated step bound for a person, true for every cell.

    Parameters
    ----------
    bound : ``(b, formula)`` from :meth:`~rnnlab.core.cells.base.Cell.step_bound` (‖∂s_t/∂s_{t−1}‖₂ ≤ b), or None
        when the cell states none.
    rho : spectral radius of the cell's effective linear recurrence
        (:meth:`~rnnlab.core.cells.base.Cell.recurrence_eigenvalues`; NaN when it has none).
    linear : the step Jacobian *is* that recurrence (linear units): then ρ decides, ‖J^d‖ ≥ ρ^d always and
        J^d → 0 when ρ < 1.
    label : the cell's name for the sentence.
    """
    b, formula = bound if bound is not None else (float("nan"), "")
    if bound is not None and b < 1.0:
        return (f"vanishing is forced: the step bound b = {formula} = {b:.3g} < 1, so "
                f"‖∂s_t/∂s_k‖₂ ≤ b^(t−k) decays geometrically")
    if linear and np.isfinite(rho):
        if rho > 1.0:
            return f"exploding: linear units with ρ = {rho:.3g} > 1, so ‖∂s_t/∂s_k‖₂ ≥ ρ^(t−k) grows geometrically"
        if rho < 1.0:
            extra = f" (the step bound {b:.3g} ≥ 1 allows a transient growth first)" if bound is not None else ""
            return f"vanishing in the long run: linear units with ρ = {rho:.3g} < 1, so ∂s_t/∂s_k → 0{extra}"
        return "marginal: linear units with ρ = 1, ‖∂s_t/∂s_k‖ neither decays nor grows geometrically"
    if bound is None:
        return (f"no bound on ‖∂s_t/∂s_{{t−1}}‖ is stated for the {label}, so the weights alone are not claimed to "
                "force vanishing or explosion; the heatmap shows what happens")
    return (f"not forced either way: the step bound b = {formula} = {b:.3g} ≥ 1 allows growth (explosion needs "
            "b > 1) but does not force it; the heatmap shows what happens")


@dataclass(frozen=True)
class Diagnostics:
    """Everything :func:`diagnose` measures on a probe batch: the one bundle that the trainer's snapshots carry,
    ``rnnlab inspect`` writes (under these names) and the views draw. Arrays are copies owned by this object.

    Attributes
    ----------
    jacobian_log10 : (T, T)
        log10 ‖∂s_t/∂s_k‖ of probe sequence b; NaN above the diagonal (:func:`jacobian_log10`).
    lag_profile, lag_bound : (T,)
        Mean of the heatmap's d-th diagonal, and the bound the cell states, d·log10(b) + log10 ‖I‖ with b its
        ``step_bound`` (all NaN when the cell states none: :func:`lag_bound`).
    gradient_flow_log10 : (T, T)
        log10 ‖∂E_t/∂s_k‖ (:func:`gradient_flow_log10`).
    eigenvalues : (H,) complex, singular_values : (H,)
        Of the cell's recurrent matrix (W_hh, or its candidate block: what ``model.spectral_radius`` sets), by
        decreasing modulus.
    lyapunov : (m,)
        Top Lyapunov exponents of the driven dynamics along the probe sequence (per step).
    hidden : (T, H)
        Hidden states of probe sequence b.
    saturation_counts : (bins,), saturation_edges : (bins + 1,)
        Histogram of f'(a) on [0, γ].
    long_term : (3,)
        ‖short-term part of ∂E/∂W_hh‖, ‖long-term part‖ (lags > L), long-term share.
    rho, sigma_max, gamma, loss : float
    grad_norms : dict
        Frobenius norm of each parameter's gradient on the probe batch, and ``"total"``.
    heatmap_mode, heatmap_stride, heatmap_note : str, int, str
        How the heatmap was computed (see :func:`plan_heatmap`): the note is empty for the requested heatmap.
    slow_note : str
        Empty when the spectrum and the Lyapunov exponents were computed for this network; else a sentence saying
        which earlier weights they belong to (the app recomputes them at a lower rate when they are costly).
    loss_note : str
        Empty when the probe batch has a loss; else why not (no readout, no targets): then ``loss`` and
        ``long_term`` are NaN, ``gradient_flow_log10`` is all NaN and ``grad_norms`` is empty, and the views that
        draw them show this sentence instead.
    param_sensitivity : (T,)
        log10 ‖ds_t/dθ_rec‖_F along the probe sequence, the curse-of-memory sensitivity
        (:func:`param_sensitivity`); ``sensitivity_mode`` says "exact" or "estimated" (:func:`plan_sensitivity`).
    heatmap_probes : int
        Random probes m of an estimated heatmap (its error: :func:`estimate_error_log10`); 0 when exact.
    step_bound, step_bound_formula, step_bound_tex : float, str, str
        The cell's bound b on ‖∂s_t/∂s_{t−1}‖₂ and its formula, as plain Unicode and as the cell states it in TeX
        (the app typesets it); NaN, "" and "" when the cell states none.
    recurrence_eigenvalues : (n,) complex, recurrence_matrix : str
        Eigenvalues of the cell's effective linear recurrence (leaky: diag(α) + diag(1−α)·W_hh) by decreasing
        modulus, and the name of that matrix; empty and "" for cells without one (LSTM, GRU).
    jacobian_eigenvalues : (n_t, S) complex, jacobian_steps : (n_t,) int
        Eigenvalues of the actual step Jacobian ∂s_t/∂s_{t−1} of the probe sequence at the steps t listed
        (:func:`jacobian_eigenvalues`), for every cell.
    regime : str
        :func:`regime`: what the stated bound (or, for linear units, ρ of the effective recurrence) forces.
    unrolled : UnrolledPass or None
        The backward pass of probe sequence b along the unrolled network, as the experiment's BPTT runs it
        (:func:`~rnnlab.core.unrolled.unrolled_pass`; the training layer adds it, with what clipping does to the
        gradient: :func:`rnnlab.train.unrolled.with_unrolled`); None when not computed.
    """

    jacobian_log10: np.ndarray
    lag_profile: np.ndarray
    lag_bound: np.ndarray
    gradient_flow_log10: np.ndarray
    eigenvalues: np.ndarray
    singular_values: np.ndarray
    lyapunov: np.ndarray
    hidden: np.ndarray
    saturation_counts: np.ndarray
    saturation_edges: np.ndarray
    long_term: np.ndarray
    rho: float
    sigma_max: float
    gamma: float
    loss: float
    grad_norms: dict
    heatmap_mode: str = "exact"
    heatmap_stride: int = 1
    heatmap_note: str = ""
    slow_note: str = ""
    loss_note: str = ""
    param_sensitivity: np.ndarray | None = None
    sensitivity_mode: str = "exact"
    heatmap_probes: int = 0
    step_bound: float = float("nan")
    step_bound_formula: str = ""
    step_bound_tex: str = ""
    recurrence_eigenvalues: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.complex128))
    recurrence_matrix: str = ""
    jacobian_eigenvalues: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.complex128))
    jacobian_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    regime: str = ""
    unrolled: UnrolledPass | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field as a named array (what ``rnnlab inspect`` writes; ``grad_norms`` is left out, the
        gradients themselves are written; the unrolled pass's fields as ``unrolled_<name>``)."""
        out = {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)
               if f.name not in ("grad_norms", "unrolled")}
        if self.unrolled is not None:
            out.update({f"unrolled_{k}": v for k, v in self.unrolled.arrays().items()})
        return out


def diagnose(net: Network, x: np.ndarray, y: np.ndarray, mask: np.ndarray, diag_cfg=None, b: int = 0,
             rng: np.random.Generator | None = None, feedback: np.ndarray | None = None,
             budget: float | None = None, no_loss: str = "", progress: Callable[[float], None] | None = None,
             slow: "Diagnostics | None" = None, slow_note: str = "") -> tuple[Diagnostics, Trace, dict]:
    """Run every diagnostic on a probe batch (x (T, B, I), y, mask (T, B)). Returns ``(Diagnostics, trace, grads)``
    where ``grads`` are the loss gradients of every parameter (full BPTT).

    ``diag_cfg`` is a :class:`~rnnlab.config.DiagnosticsConfig` (norm, mode, probes, long_lag, lyapunov) or None
    for the defaults; ``rng`` draws the probes of the estimated heatmap (default: a fixed seed, so repeated
    snapshots of unchanged weights are identical). ``budget`` (multiply-adds) bounds the heatmap's cost
    (:func:`plan_heatmap`; the app passes one so that a snapshot stays quick at any size; None: as configured).
    ``progress(fraction)`` is called at every step of the long loops with the share done (by predicted cost); it
    may raise :class:`~rnnlab.core._interrupt.Interrupted` to abandon the work. ``slow``: an earlier result whose
    eigenvalues, singular values and Lyapunov exponents (:func:`slow_cost`) are taken instead of recomputed, with
    ``slow_note`` saying so in the result.

    Without a loss (``no_loss`` says why, or the network has no readout, or the mask scores nothing) the state
    diagnostics are computed as usual and the loss-based ones are left empty (:attr:`Diagnostics.loss_note`).
    """
    from ..config import DiagnosticsConfig
    from .bptt import forward

    dc = diag_cfg or DiagnosticsConfig()
    cell = net.cell
    S, G, H = cell.state_size, cell.gate_size, cell.n_hidden
    T, B = x.shape[0], x.shape[1]
    plan = plan_heatmap(T, S, G, H, dc.mode, dc.probes, dc.norm, budget)
    m = min(dc.lyapunov, S)
    costs = {"bptt": bptt_cost(T, B, G, H), "heatmap": plan.cost, "flow": heatmap_cost(T, S, G, H, 1),
             "spectrum": 0.0 if slow is not None else spectrum_cost(H),
             "lyapunov": 0.0 if slow is not None else lyapunov_cost(T, S, G, H, m),
             "long_term": 2.0 * bptt_cost(T, B, G, H) / 3.0}
    track = _Progress(progress, costs)
    with np.errstate(all="ignore"):
        with track.stage("bptt", 2 * T):
            trace = forward(net, x, feedback)
            if not no_loss and net.n_out == 0:
                no_loss = "the network has no readout, so there is no loss"
            if not no_loss and not np.any(mask):
                no_loss = "no step of the probe batch is scored, so there is no loss"
            T = trace.T
            if no_loss:
                loss, dz, grads = float("nan"), None, {}
            else:
                loss, dz = loss_and_dz(net, trace.z, y, mask)
                grads = backward(net, trace, dz)
        if cell.jacobian_moduli(net.params, trace.cache, b) is not None:
            # exact at O(S) per entry (see jacobian_log10): plan rows only, at that cost (no estimate needed)
            plan = plan_heatmap(trace.T, S, 1, 1, "exact", S, dc.norm, budget)
        smode, sdirs = plan_sensitivity(net, trace.T, dc.probes, budget)
        offset = 0.5 * np.log10(S) if dc.norm == "frobenius" else 0.0
        with track.stage("heatmap", T):
            heat = jacobian_log10(net, trace, b, dc.norm, plan.mode, plan.probes, rng or np.random.default_rng(0),
                                  plan.stride)
        with track.stage("flow", T):
            flow = gradient_flow_log10(net, trace, dz, b) if dz is not None else np.full((T, T), np.nan)
        if slow is None:
            with track.stage("spectrum", 1):
                ev, sv = spectrum(net.recurrent_matrix())
            with track.stage("lyapunov", T):
                lyap = network_lyapunov(net, trace, dc.lyapunov, b)
            slow_note = ""
        else:
            ev, sv, lyap = slow.eigenvalues, slow.singular_values, slow.lyapunov
        with track.stage("long_term", T):
            long_term = (np.asarray(long_term_split(net, trace, dz, dc.long_lag, full=grads))
                         if dz is not None else np.full(3, np.nan))
        counts, edges = saturation_histogram(net, trace)
        sb = cell.step_bound(net.params)
        sb_tex = sb[1] if sb is not None else ""
        if sb is not None:
            sb = (sb[0], math_to_plain(sb_tex))
        rec = cell.recurrence_eigenvalues(net.params)
        rec_ev = np.zeros(0, dtype=np.complex128) if rec is None else np.asarray(rec[0], dtype=np.complex128).ravel()
        rec_ev = rec_ev[np.argsort(-np.abs(rec_ev))]
        rec_rho = float(np.max(np.abs(rec_ev))) if rec_ev.size else float("nan")
        linear = rec is not None and net.cell.act.name == "linear"
        jsteps = jacobian_eigenvalue_steps(trace.T, S)
        diag = Diagnostics(
            jacobian_log10=heat,
            lag_profile=lag_profile(heat),
            lag_bound=lag_bound(net, trace.T, offset),
            gradient_flow_log10=flow,
            eigenvalues=ev,
            singular_values=sv,
            lyapunov=lyap,
            hidden=np.array(trace.hidden(net)[:, b, :]),
            saturation_counts=counts,
            saturation_edges=edges,
            long_term=long_term,
            rho=float(np.abs(ev[0])),
            sigma_max=float(sv[0]),
            gamma=net.gamma,
            loss=loss,
            grad_norms=grad_norms(grads) if grads else {},
            heatmap_mode=plan.mode,
            heatmap_stride=plan.stride,
            heatmap_note=plan.note,
            slow_note=slow_note,
            loss_note=no_loss,
            param_sensitivity=param_sensitivity(net, trace, b, smode, sdirs, np.random.default_rng(1)),
            sensitivity_mode=smode if smode == "exact" else f"estimated with {sdirs} random directions",
            heatmap_probes=plan.probes if plan.mode == "estimated" else 0,
            step_bound=float(sb[0]) if sb is not None else float("nan"),
            step_bound_formula=sb[1] if sb is not None else "",
            step_bound_tex=sb_tex,
            recurrence_eigenvalues=rec_ev,
            recurrence_matrix=rec[1] if rec is not None else "",
            jacobian_eigenvalues=jacobian_eigenvalues(net, trace, b, jsteps),
            jacobian_steps=jsteps,
            regime=regime(sb, rec_rho, linear, cell.label),
        )
    return diag, trace, grads


class _Progress:
    """The share of :func:`diagnose` done, by predicted cost: each stage adds its cost in as many increments as
    it has checkpoints (one per time step), through a hook chained to any outer one."""

    def __init__(self, report: Callable[[float], None] | None, costs: dict[str, float]):
        self.report, self.costs = report, costs
        self.total = max(1.0, sum(costs.values()))
        self.done = 0.0

    @contextmanager
    def stage(self, name: str, steps: int):
        if self.report is None:
            yield
            return
        cost = self.costs[name]
        inc = cost / max(1, steps)
        end = self.done + cost

        def hook() -> None:
            self.done = min(end, self.done + inc)
            self.report(self.done / self.total)

        with hooked(hook):
            yield
        self.done = end
        self.report(self.done / self.total)
