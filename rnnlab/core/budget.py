"""What each diagnostic costs, and the plans that keep a snapshot within a budget (NumPy only).

The costs are predicted multiply-adds from the sizes alone (T steps, B sequences, S state, G gate and H hidden
units): :func:`bptt_cost`, :func:`heatmap_cost`, :func:`spectrum_cost`, :func:`lyapunov_cost`,
:func:`slow_cost`. :func:`plan_heatmap` and :func:`plan_sensitivity` choose the cheapest faithful computation
within a budget (exact, estimated with random probes, every n-th row), and :func:`estimate_error_log10` states the
error of an estimated heatmap entry. :mod:`rnnlab.core.diagnostics` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

__all__ = ["HeatmapPlan", "heatmap_cost", "plan_heatmap", "bptt_cost", "spectrum_cost", "lyapunov_cost",
           "slow_cost", "estimate_error_log10", "estimate_error_text", "SENSITIVITY_MAX_EXACT", "plan_sensitivity"]


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
    average half of the sequence. Gated cells (G > H) form the dense (S × S) step Jacobian once per step (S rows
    through the cell, S·G·H) and then pay S² per row (see :func:`log_norm_sweep`)."""
    rows_t = -(-T // max(1, stride))
    rows = float(width) * rows_t * (T + 1) / 2.0
    if G > H:
        return rows * S * S + float(T) * S * G * H
    return rows * G * H


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


def _digamma_half(m: int) -> tuple[float, float]:
    """ψ(m/2) and ψ₁(m/2) (digamma and trigamma) for an integer m ≥ 1, in closed form: for n = m/2 an integer,
    ψ(n) = −γ_E + Σ_{k<n} 1/k and ψ₁(n) = π²/6 − Σ_{k<n} 1/k²; for n = j + ½, ψ(n) = −γ_E − 2 ln 2 +
    Σ_{k≤j} 2/(2k − 1) and ψ₁(n) = π²/2 − Σ_{k≤j} 4/(2k − 1)²."""
    euler = 0.5772156649015329
    if m % 2 == 0:
        k = np.arange(1, m // 2, dtype=np.float64)
        return -euler + float(np.sum(1.0 / k)), np.pi ** 2 / 6 - float(np.sum(1.0 / k ** 2))
    k = np.arange(1, (m - 1) // 2 + 1, dtype=np.float64)
    return (-euler - 2 * np.log(2.0) + float(np.sum(2.0 / (2 * k - 1))),
            np.pi ** 2 / 2 - float(np.sum(4.0 / (2 * k - 1) ** 2)))


def estimate_error_log10(probes: int) -> tuple[float, float]:
    """The error of one entry of the estimated heatmap, in decades (log10 units): ``(spread, bias)``.

    With m Gaussian probes V (m × S, entries N(0, 1)), the estimate of ‖P‖²_F is X = ‖VP‖²_F / m. Write P's
    singular values σ_i and w_i = σ_i² / Σσ²: then X / ‖P‖²_F = Σ_i w_i χ²_{m,i} / m with independent χ²_m
    variables. The entry drawn is ½·log10 X, so its error is ½·log10(Σ_i w_i χ²_{m,i} / m).

    When one direction dominates (w_1 = 1, a product of many step Jacobians: the long lags of the heatmap) the law
    is exactly ½·log10(χ²_m / m), whose mean and standard deviation are

        bias   = ½·log10(e)·(ψ(m/2) − ln(m/2))      (−0.014 decades for m = 16; always negative)
        spread = ½·log10(e)·√ψ₁(m/2)               (0.079 decades for m = 16; 0.019 for m = 256)

    (ψ, ψ₁ the digamma and trigamma functions). Spreading the weight over more directions averages independent
    χ² variables and narrows the law (near the diagonal, ∂s_t/∂s_t = I, the error is that of χ²_{mS}/(mS)): the
    rank-one bias is the largest of any entry (−ln is convex, and a weighted mean of i.i.d. variables is smaller
    in the convex order than one of them), and so is the rank-one spread (checked numerically for random
    weights; not proved here). (The first-order figure
    ½·log10(e)·√(2/m) = 0.077 for m = 16 that rnnlab stated before is smaller than the exact rank-one spread.)
    Measured in ``tests/core/test_diagnostics.py`` against the spread of many estimates of one heatmap.
    """
    m = int(probes)
    if m < 1:
        raise ValueError(f"probes = {probes!r}: expected an integer >= 1")
    psi, psi1 = _digamma_half(m)
    c = 0.5 * np.log10(np.e)
    return c * float(np.sqrt(psi1)), c * (psi - float(np.log(m / 2.0)))


def estimate_error_text(probes: int) -> str:
    """The error of the estimated heatmap as a person reads it (:func:`estimate_error_log10`)."""
    spread, bias = estimate_error_log10(probes)
    return (f"{int(probes)} random probes: each entry within ±{spread:.2g} decades (one standard deviation) and "
            f"biased low by at most {abs(bias):.2g}")


#: most entries of θ_rec for which the exact sensitivity is computed (its directions take P² numbers)
SENSITIVITY_MAX_EXACT = 1024


def plan_sensitivity(net: Network, T: int, probes: int = 16, budget: float | None = None) -> tuple[str, int]:
    """``(mode, directions)`` for :func:`param_sensitivity`: ``("exact", P)`` with one direction per entry of
    θ_rec when P ≤ :data:`SENSITIVITY_MAX_EXACT` and its cost (≈ T·P·(S·G + G·H) multiply-adds) fits ``budget``,
    else ``("estimated", probes)``."""
    cell = net.cell
    P = sum(int(np.size(net.params[k])) for k in cell.recurrent_params)
    cost = float(T) * P * (cell.state_size * cell.gate_size + cell.gate_size * cell.n_hidden)
    if P <= SENSITIVITY_MAX_EXACT and (budget is None or cost <= budget):
        return "exact", P
    return "estimated", int(probes)
