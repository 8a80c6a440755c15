"""Gradient remedies: clipping, L1/L2 penalties on W_hh and Pascanu's vanishing-gradient regulariser Ω.

All functions are pure: they take arrays and return new values; the trainer decides when to apply them.
Order in a training step (as in Pascanu et al.'s reference code): loss gradient → + penalty and Ω gradients →
clip the total → optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ClipReport", "clip_gradients", "penalty", "omega", "omega_grad", "omega_and_grad", "OMEGA_BOUND"]

#: ‖δ‖² below this marks a (t, b) pair as invalid in Ω (the reference code's ``bound``)
OMEGA_BOUND = 1e-20


@dataclass(frozen=True)
class ClipReport:
    """What clipping did: the global gradient norm before and after, and whether it fired."""

    norm_before: float
    norm_after: float
    fired: bool


def _global_norm(grads: dict[str, np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))


def clip_gradients(grads: dict[str, np.ndarray], mode: str, threshold: float,
                   norm: float | None = None) -> tuple[dict, ClipReport]:
    """Clip a gradient dict.

    ``mode="norm"`` (Pascanu et al. Algorithm 1): ĝ ← (c/‖ĝ‖) ĝ if ‖ĝ‖ > c, with ‖·‖ the norm of all parameters
    together (the reference code tests ``norm > c``); the direction never changes.
    ``mode="value"`` (Mikolov): each component clamped to [−c, c].
    ``mode="none"``: unchanged.

    ``norm``: the global norm of ``grads`` when the caller already has it (it is not computed again).

    Returns ``(new grads, ClipReport)``; the input dict is not modified.
    """
    before = _global_norm(grads) if norm is None else float(norm)
    if mode == "none" or not np.isfinite(before):
        return grads, ClipReport(before, before, False)
    if mode == "norm":
        if before > threshold:
            s = threshold / before
            out = {k: g * s for k, g in grads.items()}
            return out, ClipReport(before, _global_norm(out), True)
        return grads, ClipReport(before, before, False)
    if mode == "value":
        fired = any(float(np.max(np.abs(g), initial=0.0)) > threshold for g in grads.values())
        if not fired:
            return grads, ClipReport(before, before, False)
        out = {k: np.clip(g, -threshold, threshold) for k, g in grads.items()}
        return out, ClipReport(before, _global_norm(out), True)
    raise ValueError(f"unknown clip mode {mode!r}")


def penalty(W: np.ndarray, l1: float, l2: float) -> tuple[float, np.ndarray]:
    """Value and gradient of l1·Σ|W| + (l2/2)·‖W‖²_F (the gradient of |w| at 0 is taken as 0)."""
    value = l1 * float(np.sum(np.abs(W))) + 0.5 * l2 * float(np.sum(W * W))
    return value, l1 * np.sign(W) + l2 * W


def _omega_terms(W_hh, deltas, fprime):
    v = deltas * fprime
    a = v @ W_hh
    d2 = np.sum(deltas * deltas, axis=-1)
    valid = d2 >= OMEGA_BOUND
    r = np.sum(a * a, axis=-1)[valid] / d2[valid]
    return v, a, d2, valid, r


def omega_and_grad(W_hh: np.ndarray, deltas: np.ndarray, fprime: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Pascanu's Ω as the reference code computes it (SCIENCE.md §1.4), in the column convention, and its
    gradient, from one pass.

    With δ_t = ∂E/∂h_t (T, B, H) the total BPTT derivatives and f'(a_t) (T, B, H):
    v_t = δ_t ⊙ f'(a_t),  a_t = v_t W_hh (= ∂E/∂h_{t−1} through step t),
    r_{t,b} = ‖a_{t,b}‖² / ‖δ_{t,b}‖²  where ‖δ_{t,b}‖² ≥ 1e−20 (valid pairs), and
    Ω = Σ_valid (r − 1)² / N_valid.
    The gradient holds δ and h fixed (the "immediate" derivative of Pascanu eq. 10, as the code takes it):
    ∂Ω/∂W_hh = Σ_valid 4 (r − 1) / (N_valid ‖δ‖²) · v_{t,b}ᵀ a_{t,b}     (entry (i, j) = v_i a_j)

    Returns ``(Ω, fraction of valid pairs (the code's "steps in the past"), ∂Ω/∂W_hh)``.
    """
    v, a, d2, valid, r = _omega_terms(W_hh, deltas, fprime)
    nv = int(valid.sum())
    if nv == 0:
        return 0.0, 0.0, np.zeros_like(W_hh)
    coef = np.zeros_like(d2)
    coef[valid] = 4.0 * (r - 1.0) / (nv * d2[valid])
    H = W_hh.shape[0]
    grad = (v * coef[..., None]).reshape(-1, H).T @ a.reshape(-1, H)
    return float(np.sum((r - 1.0) ** 2) / nv), nv / valid.size, grad


def omega(W_hh: np.ndarray, deltas: np.ndarray, fprime: np.ndarray) -> tuple[float, float]:
    """Ω and the fraction of valid pairs (see :func:`omega_and_grad`)."""
    _, a, d2, valid, r = _omega_terms(W_hh, deltas, fprime)
    nv = int(valid.sum())
    return (float(np.sum((r - 1.0) ** 2) / nv), nv / valid.size) if nv else (0.0, 0.0)


def omega_grad(W_hh: np.ndarray, deltas: np.ndarray, fprime: np.ndarray) -> np.ndarray:
    """∂Ω/∂W_hh with δ and h held fixed (see :func:`omega_and_grad`)."""
    return omega_and_grad(W_hh, deltas, fprime)[2]
