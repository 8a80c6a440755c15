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
from dataclasses import dataclass, fields
from typing import Callable, Iterable

import numpy as np

from ._interrupt import checkpoint, hooked
from .bptt import Trace, backward, loss_and_dz
from .network import Network

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
    "spectrum",
    "saturation_histogram",
    "lyapunov_spectrum",
    "network_lyapunov",
    "autonomous_lyapunov",
    "regime",
    "Diagnostics",
    "diagnose",
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
    """
    S = net.cell.state_size
    T = trace.T
    stride = max(1, int(stride))
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


@dataclass(frozen=True)
class HeatmapPlan:
    """How a heatmap will be computed: ``mode`` ("exact" or "estimated"), ``stride`` (every stride-th row t),
    its predicted cost in multiply-adds, and ``note``: empty for the requested heatmap, else a sentence for the
    view saying what was done instead and why."""

    mode: str
    probes: int
    stride: int
    cost: float
    note: str = ""


def heatmap_cost(T: int, S: int, G: int, H: int, width: int, stride: int = 1) -> float:
    """Predicted multiply-adds of :func:`jacobian_log10`: each step k multiplies every live block (``width`` rows
    each; S exact, the probe count estimated) by one step Jacobian, ≈ G·H per row; about T/stride blocks live on
    average half of the sequence. ``S`` is unused by the count but kept for the exact width."""
    rows_t = -(-T // max(1, stride))
    return float(width) * rows_t * (T + 1) / 2.0 * G * H


def plan_heatmap(T: int, S: int, G: int, H: int, mode: str = "exact", probes: int = 16, norm: str = "frobenius",
                 budget: float | None = None) -> HeatmapPlan:
    """The cheapest faithful plan within ``budget`` multiply-adds (None: no limit, the requested mode).

    Over budget, an exact Frobenius heatmap becomes the estimated one (``probes`` random rows instead of S); if
    that is still over budget, only every ``stride``-th row t is computed. The note says which, so a view can
    state it.
    """
    width = S if mode == "exact" else probes
    cost = heatmap_cost(T, S, G, H, width)
    if budget is None or cost <= budget:
        return HeatmapPlan(mode, probes, 1, cost)
    note = []
    if mode == "exact" and norm == "frobenius" and probes < S:
        mode, width = "estimated", probes
        cost = heatmap_cost(T, S, G, H, width)
        note.append(f"estimated with {probes} random probes (exact would take ~{cost * S / probes:.1g} operations)")
    stride = 1
    while cost > budget and stride < T:
        stride += 1
        cost = heatmap_cost(T, S, G, H, width, stride)
    if stride > 1:
        note.append(f"one row t in {stride} computed")
    return HeatmapPlan(mode, probes, stride, cost, "; ".join(note))


def bptt_cost(T: int, B: int, G: int, H: int) -> float:
    """Predicted multiply-adds of a forward and a full backward pass over B sequences: ≈ 3 recurrent products
    (B×H)·(H×G) per step."""
    return 3.0 * T * B * G * H


def spectrum_cost(H: int) -> float:
    """Predicted multiply-adds of :func:`spectrum` on an (H, H) matrix: the eigenvalues (Hessenberg reduction
    and QR iterations, ≈ 10 H³) and the singular values (≈ 4 H³), one LAPACK call each, which cannot be cut into
    chunks (measured at H = 2048: 6–10 s on one core)."""
    return 14.0 * float(H) ** 3


def lyapunov_cost(T: int, S: int, G: int, H: int, m: int) -> float:
    """Predicted multiply-adds of :func:`network_lyapunov`: a dense step Jacobian per step (S vector–Jacobian
    products, ≈ S·G·H) and a QR of an (S, m) frame."""
    return float(T) * (S * G * H + 2.0 * S * m * m)


def slow_cost(T: int, S: int, G: int, H: int, m: int) -> float:
    """Predicted multiply-adds of the parts of :func:`diagnose` that a caller may reuse from an earlier call
    (``slow=``): the spectrum and the Lyapunov exponents."""
    return spectrum_cost(H) + lyapunov_cost(T, S, G, H, m)


def estimate_error_log10(probes: int) -> float:
    """Bound on the standard deviation of one estimated heatmap entry, in decades (log10 units).

    With m Gaussian probes, X = ‖VP‖²_F/m has mean ‖P‖²_F and variance 2‖PᵀP‖²_F/m ≤ 2‖P‖⁴_F/m, so the relative
    standard deviation of the squared norm is at most √(2/m); log10 ‖P‖ = ½ log10 X then has a standard deviation
    of at most ½·log10(e)·√(2/m) (first order): 0.077 decades for m = 16, 0.019 for m = 256.
    """
    return 0.5 * np.log10(np.e) * np.sqrt(2.0 / probes)


def gradient_flow_log10(net: Network, trace: Trace, dz: np.ndarray, b: int = 0) -> np.ndarray:
    """``F[t, k] = log10 ‖∂E_t/∂s_k‖`` (T, T) for sequence b: how much the loss at step t sends back to step k.

    Computed by vector–Jacobian products from ∂E_t/∂s_t = dz_t W_yh (padded with zeros for the LSTM's c).
    NaN where k > t or where step t carries no loss.
    """
    H, S = net.n_hidden, net.cell.state_size
    W_yh = net.params["W_yh"]

    def seed(t: int):
        g = dz[t, b]
        if not np.any(g):
            return None
        row = np.zeros((1, S))
        row[0, :H] = g @ W_yh
        return row

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
    """The seeds' bound d·log10(γ·σ_max(W_hh)) for d = 0 … T−1 (plus ``offset``, e.g. log10 √S of the diagonal).

    It bounds log10 ‖∂h_t/∂h_{t−d}‖₂ for the vanilla cell; for the leaky, LSTM and GRU cells it is shown for
    comparison only (their Jacobians are not diag(f') W).
    """
    g = net.gamma * net.sigma_max()
    with np.errstate(divide="ignore"):
        return np.arange(T) * np.log10(g) + offset


def grad_norms(grads: dict[str, np.ndarray]) -> dict[str, float]:
    """Frobenius norm of each gradient, plus ``"total"`` = the norm of all of them together."""
    out = {k: float(np.linalg.norm(v)) for k, v in grads.items()}
    out["total"] = float(np.sqrt(sum(v * v for v in out.values())))
    return out


def long_term_split(net: Network, trace: Trace, dz: np.ndarray, L: int,
                    full: np.ndarray | None = None) -> tuple[float, float, float]:
    """Split ∂E/∂W_hh into short-term (lags t − k ≤ L) and long-term (t − k > L) parts (Pascanu et al. eq. 4).

    The short-term part backpropagates each loss term E_t only to steps k ≥ t − L (BPTT(1, L + 1)); the long-term
    part is the full gradient (``full``, computed here when not given) minus it. Returns
    ``(‖short‖, ‖long‖, share)`` with share = ‖long‖ / (‖short‖ + ‖long‖) ∈ [0, 1].
    """
    if full is None:
        full = backward(net, trace, dz)["W_hh"]
    short = backward(net, trace, dz, 1, L + 1)["W_hh"]
    ns, nl = float(np.linalg.norm(short)), float(np.linalg.norm(full - short))
    return ns, nl, (nl / (ns + nl) if ns + nl > 0 else 0.0)


def spectrum(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (complex, sorted by decreasing modulus) and singular values (decreasing) of a square W."""
    W = np.asarray(W, dtype=np.float64)
    ev = np.linalg.eigvals(W)
    ev = ev[np.argsort(-np.abs(ev))]
    return ev, np.linalg.svd(W, compute_uv=False)


def saturation_histogram(net: Network, trace: Trace, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of f'(a) over all steps, units and sequences on [0, γ]: ``(counts, edges)``.

    Values near 0 are saturated units (no gradient passes); values near γ are in the linear regime.
    """
    d = net.cell.saturation(trace.cache)
    return np.histogram(d, bins=bins, range=(0.0, net.gamma))


def lyapunov_spectrum(jacobians: Iterable[np.ndarray], m: int, transient: int = 0,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Top-m Lyapunov exponents (natural log per step) of a product of Jacobians, by QR (Benettin) iteration.

    Q₀ is a random orthonormal (S, m) frame; each step Q ← J_t Q, then Q, R = qr(Q) and log|diag R| is summed
    (after ``transient`` steps). λ_i = (Σ log|R_ii|) / (number of summed steps). Sorted decreasing.
    """
    rng = rng or np.random.default_rng(0)
    Q = None
    acc = None
    n = 0
    for i, J in enumerate(jacobians):
        checkpoint()
        J = np.asarray(J, dtype=np.float64)
        if Q is None:
            S = J.shape[0]
            m = min(m, S)
            Q, _ = np.linalg.qr(rng.standard_normal((S, m)))
            acc = np.zeros(m)
        Q, R = np.linalg.qr(J @ Q)
        if i >= transient:
            with np.errstate(divide="ignore"):
                acc += np.log(np.abs(np.diag(R)))
            n += 1
    if n == 0:
        return np.full(max(m, 0), np.nan)
    return np.sort(acc / n)[::-1]


def network_lyapunov(net: Network, trace: Trace, m: int = 5, b: int = 0) -> np.ndarray:
    """Top-m Lyapunov exponents (per step) of the input-driven state dynamics along the probe sequence b.

    Uses the step Jacobians ∂s_t/∂s_{t−1}; the first 10 % of the steps are a transient. For short sequences
    (T ≲ 100) this is a finite-time estimate.
    """
    T = trace.T
    jac = (net.cell.jacobian(net.params, trace.cache, t, b) for t in range(1, T))
    return lyapunov_spectrum(jac, m, transient=max(1, (T - 1) // 10))


def autonomous_lyapunov(W: np.ndarray, steps: int = 2000, m: int = 5, transient: int = 500,
                        rng: np.random.Generator | None = None, act: str = "tanh") -> np.ndarray:
    """Top-m Lyapunov exponents of the autonomous map h ← f(W h) (f = tanh by default), from a random start.

    The step Jacobian is diag(f'(W h)) W; the first ``transient`` steps are discarded (and let the state reach
    its attractor).
    """
    from .activations import get_activation

    a = get_activation(act)
    rng = rng or np.random.default_rng(0)
    N = W.shape[0]
    h = rng.standard_normal(N)

    def gen():
        nonlocal h
        for _ in range(steps):
            pre = W @ h
            hn = a.f(pre)
            yield a.df(pre, hn)[:, None] * W
            h = hn

    return lyapunov_spectrum(gen(), m, transient=transient, rng=rng)


def regime(gamma_sigma: float, rho: float, gamma: float, linear: bool = False) -> str:
    """A one-line reading of γ·σ_max and ρ for a person (seeds: vanishing if γλ < 1, exploding needs γλ > 1)."""
    if gamma_sigma < 0.95:
        return "vanishing: γ·σ_max < 1, so ‖∂h_t/∂h_k‖ ≤ (γ·σ_max)^(t−k) decays geometrically"
    if linear and rho > 1.05:
        return "exploding: linear units with ρ > 1, ‖∂h_t/∂h_k‖ grows like ρ^(t−k)"
    if gamma * rho > 1.05:
        return "may explode: γ·ρ > 1 (necessary condition γ·σ_max > 1 holds); saturation decides"
    return "near the edge: γ·σ_max ≈ 1 or γ·ρ ≤ 1 < γ·σ_max; gradients neither surely vanish nor explode"


@dataclass(frozen=True)
class Diagnostics:
    """Everything :func:`diagnose` measures on a probe batch: the one bundle that the trainer's snapshots carry,
    ``rnnlab inspect`` writes (under these names) and the views draw. Arrays are copies owned by this object.

    Attributes
    ----------
    jacobian_log10 : (T, T)
        log10 ‖∂s_t/∂s_k‖ of probe sequence b; NaN above the diagonal (:func:`jacobian_log10`).
    lag_profile, lag_bound : (T,)
        Mean of the heatmap's d-th diagonal, and the seeds' bound d·log10(γ σ_max) + log10 ‖I‖.
    gradient_flow_log10 : (T, T)
        log10 ‖∂E_t/∂s_k‖ (:func:`gradient_flow_log10`).
    eigenvalues : (H,) complex, singular_values : (H,)
        Of the cell's recurrent matrix, by decreasing modulus.
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

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field as a named array (what ``rnnlab inspect`` writes; ``grad_norms`` is left out, the
        gradients themselves are written)."""
        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self) if f.name != "grad_norms"}


def diagnose(net: Network, x: np.ndarray, y: np.ndarray, mask: np.ndarray, diag_cfg=None, b: int = 0,
             rng: np.random.Generator | None = None, feedback: np.ndarray | None = None,
             budget: float | None = None, progress: Callable[[float], None] | None = None,
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
            loss, dz = loss_and_dz(net, trace.z, y, mask)
            grads = backward(net, trace, dz)
        offset = 0.5 * np.log10(S) if dc.norm == "frobenius" else 0.0
        with track.stage("heatmap", T):
            heat = jacobian_log10(net, trace, b, dc.norm, plan.mode, plan.probes, rng or np.random.default_rng(0),
                                  plan.stride)
        with track.stage("flow", T):
            flow = gradient_flow_log10(net, trace, dz, b)
        if slow is None:
            with track.stage("spectrum", 1):
                ev, sv = spectrum(net.recurrent_matrix())
            with track.stage("lyapunov", T):
                lyap = network_lyapunov(net, trace, dc.lyapunov, b)
            slow_note = ""
        else:
            ev, sv, lyap = slow.eigenvalues, slow.singular_values, slow.lyapunov
        with track.stage("long_term", T):
            long_term = np.asarray(long_term_split(net, trace, dz, dc.long_lag, full=grads.get("W_hh")))
        counts, edges = saturation_histogram(net, trace)
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
            grad_norms=grad_norms(grads),
            heatmap_mode=plan.mode,
            heatmap_stride=plan.stride,
            heatmap_note=plan.note,
            slow_note=slow_note,
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
