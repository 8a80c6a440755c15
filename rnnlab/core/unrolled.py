"""The backward pass along the unrolled network, step by step: what the unrolled-network view draws.

BPTT carries one covector back along the chain s_{T−1} → … → s_0 (seeds eqs. 5–9)::

    δ_k = ∂E/∂s_k = g_k + δ_{k+1} · ∂s_{k+1}/∂s_k,      g_k = ∂E_k/∂s_k (the loss at step k, if it has one)

and every factor ∂s_{k+1}/∂s_k (vanilla: diag(f'(a_{k+1}))·W_hh) multiplies it once: the product of eq. 8 is
multiplied out one step at a time. :func:`unrolled_pass` follows that loop on one probe sequence, as the
experiment's BPTT runs it (full, or truncated BPTT(k1, k2) in :func:`~rnnlab.core.bptt.tbptt_windows`' windows),
and keeps, for every step, what crosses each recurrent arrow. It keeps the covector as a unit vector times
10^e, so the numbers stay exact where the plain product over- or underflows (ρ = 4, T = 1000).

Alongside it measures the factors themselves, ‖∂s_j/∂s_{j−1}‖, and the running products ‖∂s_t/∂s_k‖ for some
loss steps t (by :func:`~rnnlab.core.diagnostics.log_norm_sweep`), in the spectral norm of the seeds' eqs. 10–12
while that is cheap (one SVD per entry), else in the Frobenius norm estimated with random probes (the note says
which).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bptt import Trace, tbptt_windows
from .network import Network

__all__ = ["UnrolledPass", "UNROLLED_ALLOWANCE", "plan_unrolled", "unrolled_pass"]

#: multiply-adds the step norms and the running products of one :func:`unrolled_pass` may cost (an SVD of an
#: S × S block counted as 4·S³): measured 5–70 ms at H = 32 (T = 15 … 100), a fraction of the rest of a snapshot
UNROLLED_ALLOWANCE = 1.5e8


def _empty(shape=(0,), dtype=np.float64):
    return field(default_factory=lambda: np.zeros(shape, dtype=dtype))


@dataclass(frozen=True)
class UnrolledPass:
    """The backward pass of one probe sequence along the unrolled network (:func:`unrolled_pass`).

    Steps are t = 0 … T−1 (s_t the state after input t, s_{−1} = 0); the recurrent arrow "into k" joins s_{k−1} to
    s_k and carries the gradient back from s_k to s_{k−1}. All values are log10 of norms of the whole state
    (h, c for the LSTM): NaN where undefined, −inf where exactly zero (nothing crosses).

    Attributes
    ----------
    scored : (T,) bool
        The steps whose loss E_t is not zero for this sequence.
    windows : (n, 3) int
        The backward windows that carry a loss, ``(t_end, t_low, inject_low)`` as in
        :func:`~rnnlab.core.bptt.tbptt_windows`: the losses of steps inject_low … t_end travel back to t_low.
    reach : (T,) int
        For a scored step t, the earliest step its loss reaches (the low end of its window); −1 elsewhere.
    cuts : (m,) int
        The arrows (by the step k they lead into) at which truncation stops the gradient: a window starts at k > 0.
    flow_log10 : (T, T)
        log10 ‖∂E_t/∂s_k‖ as the experiment's BPTT computes it: the gradient flow of the Diagnostics bundle for
        reach[t] ≤ k ≤ t, NaN elsewhere (beyond a cut, above the diagonal, rows without a loss).
    total_log10 : (T,)
        log10 ‖∂E/∂s_k‖, the whole gradient that reaches s_k (all losses, all windows): δ_k of the backward pass.
    arrow_log10 : (T,)
        At k ≥ 1: log10 of the part of ∂E/∂s_{k−1} that arrives through s_k (what crosses the arrow into k,
        after its factor); NaN at k = 0.
    step_log10 : (T,)
        At j ≥ 1: log10 ‖∂s_j/∂s_{j−1}‖, the factor of step j (vanilla: diag(f'(a_j))·W_hh); NaN at j = 0.
    product_rows : (R,) int, product_log10 : (R, T)
        log10 ‖∂s_t/∂s_k‖ = log10 ‖Π_{j=k+1..t} ∂s_j/∂s_{j−1}‖ for t = product_rows[i] and k ≤ t (0 at k = t in
        the spectral norm: the empty product is I), NaN for k > t.
    bound_log10 : (R, T)
        log10 Π_{j=k+1..t} ‖∂s_j/∂s_{j−1}‖ for the same rows: the product of the factors' norms, which bounds the
        norm of their product (seeds eq. 12 along the actual trajectory; 0 at k = t), NaN for k > t.
    norm : str
        "spectral" or "frobenius" (the norm of step_log10 and product_log10; the gradients are vectors, whose
        norm is the Euclidean one either way).
    probes : int
        0 when the factors and products are exact, else the number of random probes of their estimate.
    note : str
        Empty, or a sentence saying what was computed instead of the full set and why.
    factor : str
        The factor ∂s_j/∂s_{j−1} written out with ``{j}`` for the step (the cell's
        :attr:`~rnnlab.core.cells.base.Cell.step_jacobian`; "" when the cell gives none).
    k1, k2 : int
        The truncation the pass followed (0, 0: full BPTT).
    grad_norm, grad_norm_clipped : float
        ‖∂E/∂θ‖ of the probe batch's loss gradient (by this BPTT) before and after the experiment's clipping
        (NaN until the training layer states them: clipping is a remedy of :mod:`rnnlab.train`).
    clip : str
        What clipping does to this gradient ("none", "norm", "value"; "" when not stated).
    clip_threshold : float
    """

    scored: np.ndarray = _empty(dtype=bool)
    windows: np.ndarray = _empty((0, 3), np.int64)
    reach: np.ndarray = _empty(dtype=np.int64)
    cuts: np.ndarray = _empty(dtype=np.int64)
    flow_log10: np.ndarray = _empty((0, 0))
    total_log10: np.ndarray = _empty()
    arrow_log10: np.ndarray = _empty()
    step_log10: np.ndarray = _empty()
    product_rows: np.ndarray = _empty(dtype=np.int64)
    product_log10: np.ndarray = _empty((0, 0))
    bound_log10: np.ndarray = _empty((0, 0))
    norm: str = "spectral"
    probes: int = 0
    note: str = ""
    factor: str = ""
    k1: int = 0
    k2: int = 0
    grad_norm: float = float("nan")
    grad_norm_clipped: float = float("nan")
    clip: str = ""
    clip_threshold: float = float("nan")

    @property
    def T(self) -> int:
        return int(self.scored.shape[0])

    def product_row(self, t: int) -> np.ndarray | None:
        """log10 ‖∂s_t/∂s_k‖ for k = 0 … T−1 (NaN for k > t), or None when row t was not computed."""
        hit = np.flatnonzero(self.product_rows == int(t))
        return self.product_log10[hit[0]] if hit.size else None

    def bound_row(self, t: int) -> np.ndarray | None:
        """log10 Π_{j=k+1..t} ‖∂s_j/∂s_{j−1}‖ for k = 0 … T−1 (NaN for k > t), or None when not computed."""
        hit = np.flatnonzero(self.product_rows == int(t))
        return self.bound_log10[hit[0]] if hit.size else None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field as a named array (``rnnlab inspect`` writes them prefixed with ``unrolled_``)."""
        from dataclasses import fields

        return {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}


# --- the plan ------------------------------------------------------------------------------------------------------
def plan_unrolled(T: int, S: int, G: int, H: int, rows: list[int], probes: int = 16,
                  allowance: float = UNROLLED_ALLOWANCE) -> tuple[str, int, list[int], str]:
    """How :func:`unrolled_pass` measures the factors and running products within ``allowance`` multiply-adds:
    ``(norm, probes, rows kept, note)``.

    Spectral norms cost one S × S block per entry (a vector–Jacobian product of S rows, ≈ S·G·H, and an SVD,
    counted 4·S³); the step norms take T entries and a row t takes t + 1. If the step norms and the last of
    ``rows`` fit, the norm is spectral (probes 0); else the Frobenius norm estimated with ``probes`` random rows
    (≈ probes·G·H per entry). Then rows are kept, the last first, then evenly spaced, while they fit.
    """
    rows = sorted(set(int(t) for t in rows))
    spectral = S * G * H + 4.0 * S ** 3
    norm, m, unit = "spectral", 0, spectral
    if T * spectral + (rows[-1] + 1 if rows else 0) * spectral > allowance:
        m = int(probes)
        norm, unit = "frobenius", m * G * H
    cost = T * unit
    kept: list[int] = []
    if rows:
        cost += (rows[-1] + 1) * unit
        rest = rows[:-1]
        extra = sum((t + 1) * unit for t in rest)
        if rest and cost + extra > allowance:  # as many as fit, evenly spaced (by their mean cost)
            n = int(max(0.0, (allowance - cost) // (extra / len(rest))))
            rest = [rest[int(i)] for i in np.unique(np.linspace(0, len(rest) - 1, n).round())] if n > 0 else []
        kept = rest + [rows[-1]]
    notes = []
    if norm == "frobenius":
        notes.append(f"Frobenius norms estimated with {m} random probes (the spectral ones would cost "
                     f"~{T * spectral:.1g} operations)")
    if len(kept) < len(rows):
        notes.append(f"running products for {len(kept)} of the {len(rows)} loss steps")
    return norm, m, kept, "; ".join(notes)


# --- the pass ------------------------------------------------------------------------------------------------------
class _Scaled:
    """A covector kept as a unit vector v times 10^e (e = −inf: exactly zero)."""

    __slots__ = ("v", "e")

    def __init__(self, S: int):
        self.v = np.zeros(S)
        self.e = -np.inf

    def add(self, w: np.ndarray, ew: float) -> None:
        """self += w·10^ew."""
        n = float(np.sqrt(np.sum(w * w)))
        if not n > 0 or not np.isfinite(ew):
            return
        w, ew = w / n, ew + np.log10(n)
        if self.e == -np.inf:
            self.v, self.e = w.copy(), ew
            return
        m = max(self.e, ew)
        self.v = self.v * 10.0 ** (self.e - m) + w * 10.0 ** (ew - m)
        self.e = m
        self._normalise()

    def _normalise(self) -> None:
        n = float(np.sqrt(np.sum(self.v * self.v)))
        if n > 0 and np.isfinite(n):
            self.v = self.v / n
            self.e += np.log10(n)
        else:
            self.v[:] = 0.0
            self.e = -np.inf

    def log10(self) -> float:
        return float(self.e)


def unrolled_pass(net: Network, trace: Trace, dz: np.ndarray | None, b: int = 0, k1: int = 0, k2: int = 0,
                  flow: np.ndarray | None = None, probes: int = 16,
                  allowance: float = UNROLLED_ALLOWANCE, rng: np.random.Generator | None = None) -> UnrolledPass:
    """The backward pass of probe sequence ``b`` along the unrolled network (see :class:`UnrolledPass`).

    Parameters
    ----------
    net, trace : the network and its forward :class:`~rnnlab.core.bptt.Trace` on the probe batch
    dz : (T, B, O) ∂E/∂z of the probe batch (:func:`~rnnlab.core.bptt.loss_and_dz`), or None without a loss
    b : the probe sequence drawn
    k1, k2 : truncated BPTT as the experiment trains (0: full BPTT); the windows of
        :func:`~rnnlab.core.bptt.tbptt_windows`, so δ_k summed over them is what
        :func:`~rnnlab.core.bptt.backward` accumulates (its ``deltas``)
    flow : the Diagnostics bundle's ``gradient_flow_log10`` of the same network and batch (computed when None)
    probes, allowance, rng : for :func:`plan_unrolled` and its estimate (fixed seed by default)
    """
    with np.errstate(all="ignore"):
        return _pass(net, trace, dz, b, k1, k2, flow, probes, allowance, rng)


def _pass(net, trace, dz, b, k1, k2, flow, probes, allowance, rng):
    from .diagnostics import gradient_flow_log10, log_norm_sweep

    cell, p, cache = net.cell, net.params, trace.cache
    T, S = trace.T, cell.state_size
    W_yh = p["W_yh"]
    if dz is not None:
        scored = np.any(dz[:, b] != 0, axis=-1)
    else:
        scored = np.zeros(T, dtype=bool)
    windows = [w for w in tbptt_windows(T, k1, k2) if scored[w[2] : w[0] + 1].any()]
    reach = np.full(T, -1, dtype=np.int64)
    for te, tlo, inj in windows:
        reach[inj : te + 1][scored[inj : te + 1]] = tlo
    cuts = np.asarray(sorted({tlo for _, tlo, _ in windows if tlo > 0}), dtype=np.int64)

    # the gradient flow, restricted to what each loss's window reaches
    if dz is not None and flow is None:
        flow = gradient_flow_log10(net, trace, dz, b)
    F = np.full((T, T), np.nan)
    if dz is not None:
        for t in np.flatnonzero(scored):
            F[t, reach[t] : t + 1] = flow[t, reach[t] : t + 1]

    # the backward pass itself, window by window, in scaled form
    total = [_Scaled(S) for _ in range(T)]
    arrow = [_Scaled(S) for _ in range(T)]
    for te, tlo, inj in windows:
        ds = _Scaled(S)
        for t in range(te, tlo - 1, -1):
            if inj <= t and scored[t]:
                g = cell.hidden_vjp(p, (dz[t, b] @ W_yh)[None], cache, t, b, ds_out=np.zeros((1, S)))[0]
                ds.add(g, 0.0)
            total[t].add(ds.v, ds.e)
            if t > tlo and ds.e > -np.inf:
                prev = _Scaled(S)
                prev.add(np.asarray(cell.vjp(p, ds.v[None], cache, t, b), dtype=np.float64)[0], ds.e)
                arrow[t].add(prev.v, prev.e)
                ds = prev
            elif t > tlo:
                ds = _Scaled(S)
    total_log10 = np.array([s.log10() for s in total])
    arrow_log10 = np.array([s.log10() for s in arrow])
    if T:
        arrow_log10[0] = np.nan
    if dz is None:
        total_log10[:] = np.nan
        arrow_log10[:] = np.nan

    # the factors and the running products
    rows = [int(t) for t in np.flatnonzero(scored)] or [T - 1]
    norm, m, kept, note = plan_unrolled(T, S, cell.gate_size, cell.n_hidden, rows, probes, allowance)
    rng = rng or np.random.default_rng(0)
    block = np.eye(S) if norm == "spectral" else rng.standard_normal((m, S)) / np.sqrt(m)
    step = np.full(T, np.nan)
    for j in range(1, T):  # the factor of step j: rows of the identity (or the probes) times ∂s_j/∂s_{j−1}
        J = np.asarray(cell.vjp(p, block, cache, j, b), dtype=np.float64)
        step[j] = _log10(np.linalg.norm(J, 2) if norm == "spectral" else np.sqrt(np.sum(J * J)))
    kept_set = set(kept)
    prod = (log_norm_sweep(net, trace, b, lambda t: block if t in kept_set else None, norm) if kept
            else np.full((T, T), np.nan))
    rows_arr = np.asarray(kept, dtype=np.int64)
    bound = np.full((rows_arr.size, T), np.nan)
    for i, t in enumerate(rows_arr):  # Σ_{j=k+1..t} log10 ‖J_j‖, from k = t (the empty sum) down to 0
        bound[i, t] = 0.0
        bound[i, :t] = np.cumsum(step[t:0:-1])[::-1]
    return UnrolledPass(
        scored=scored.astype(bool),
        windows=np.asarray(windows, dtype=np.int64).reshape(-1, 3),
        reach=reach,
        cuts=cuts,
        flow_log10=F,
        total_log10=total_log10,
        arrow_log10=arrow_log10,
        step_log10=step,
        product_rows=rows_arr,
        product_log10=prod[rows_arr] if rows_arr.size else np.zeros((0, T)),
        bound_log10=bound,
        norm=norm,
        probes=m,
        note=note,
        factor=cell.step_jacobian,
        k1=int(k1),
        k2=int(k2),
    )


def _log10(v: float) -> float:
    if v > 0 and np.isfinite(v):
        return float(np.log10(v))
    return -np.inf if v == 0 else float("nan")
