"""The random probe: i.i.d. noise in and out, nothing to learn (the network's own dynamics, for diagnostics).
"""

from __future__ import annotations

import math

import numpy as np

from .base import REGRESSION_NRMSE_THRESHOLD, Baseline, Batch, Task, _check_batch_size


__all__ = ["RandomTask"]


def _chi2_even_cdf(x: float, dof: int) -> float:
    """P(χ²_dof < x) for even ``dof``: the Poisson tail e^{-y} Σ_{j >= dof/2} y^j / j!, y = x/2 (log space)."""
    y = x / 2.0
    m = dof // 2
    if y <= 0:
        return 0.0
    if y > m:  # not the small-tail regime: use the complement, a finite sum
        term = math.exp(-y)
        acc = term
        for j in range(1, m):
            term *= y / j
            acc += term
        return max(0.0, 1.0 - acc)
    log_term = -y + m * math.log(y) - math.lgamma(m + 1)
    total, j = 0.0, m
    while True:
        t = math.exp(log_term)
        total += t
        j += 1
        log_term += math.log(y) - math.log(j)
        if t < 1e-300 or t < total * 1e-17:
            break
    return min(1.0, total)


class RandomTask(Task):
    """A neutral probe: inputs and regression targets i.i.d. N(0, 1), 8 channels each, scored at every step.

    Nothing can be learned, so it isolates the network's own dynamics for the diagnostics. Success uses the same
    rule as the series tasks (sequence NRMSE below :data:`REGRESSION_NRMSE_THRESHOLD`, σ = 1), which no
    predictor reaches except by chance. ``info``: length (int).

    Reference: none (rnnlab's neutral diagnostic probe).
    """

    name = "random"
    n_in = 8
    n_out = 8
    kind = "regression"
    readout = "every"
    generative = False
    min_length = 1

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self._variance = 1.0
        # zero predictor: sequence MSE = χ²_{8L}/(8L); passes if that is < 0.01
        rate = _chi2_even_cdf(REGRESSION_NRMSE_THRESHOLD ** 2 * 8 * L, 8 * L)
        self.description = (
            f"Random numbers in, unrelated random numbers out (8 channels, {L} steps, every step scored). There is "
            f"nothing to learn, so this task shows the network's own dynamics and gradient flow, with no signal "
            f"pulling the weights in any direction."
        )
        self.baseline = Baseline(
            loss=1.0,
            success_rate=rate,
            accuracy=None,
            note=(f"The targets are N(0, 1) and independent of everything, so the constant 0 is optimal with MSE 1; "
                  f"it passes NRMSE < {REGRESSION_NRMSE_THRESHOLD} when χ²_{8 * L} < {0.08 * L:g}, probability "
                  f"{rate:.3g}."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        x = rng.standard_normal((L, B, 8))
        y = rng.standard_normal((L, B, 8))
        return Batch(x=x, y=y, mask=np.ones((L, B)), info={"length": L})
