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


def _chi2_cdf(x: float, dof: int) -> float:
    """P(χ²_dof < x) for any dof: the even formula, or for odd dof the series of the lower incomplete gamma
    P(a, y) = y^a e^{-y} Σ_j y^j / Γ(a + j + 1) with a = dof/2, y = x/2 (in log space; fast for y ≤ a)."""
    if dof % 2 == 0:
        return _chi2_even_cdf(x, dof)
    a, y = dof / 2.0, x / 2.0
    if y <= 0:
        return 0.0
    log_term = a * math.log(y) - y - math.lgamma(a + 1)
    total, j = 0.0, 0
    while True:
        t = math.exp(log_term)
        total += t
        j += 1
        log_term += math.log(y) - math.log(a + j)
        if t < 1e-300 or t < total * 1e-17 or j > 100000:
            break
    return min(1.0, total)


class RandomTask(Task):
    """A neutral probe: inputs and regression targets i.i.d. N(0, 1), 8 channels each (an imported model's input
    width, see :meth:`fitted`), scored at every step.

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

    def __init__(self, length: int, n_in: int = 8, n_out: int = 8) -> None:
        super().__init__(length)
        L = self.length
        self.n_in, self.n_out = int(n_in), int(n_out)
        self._variance = 1.0
        # zero predictor: sequence MSE = χ²_{OL}/(OL); passes if that is < 0.01
        dof = self.n_out * L
        rate = _chi2_cdf(REGRESSION_NRMSE_THRESHOLD ** 2 * dof, dof) if dof else 0.0
        self.description = (
            f"Random numbers in, unrelated random numbers out ({self.n_in} channels in, {self.n_out} out, {L} "
            f"steps, every step scored). There is nothing to learn, so this task shows the network's own dynamics "
            f"and gradient flow, with no signal pulling the weights in any direction."
        )
        self.baseline = Baseline(
            loss=1.0,
            success_rate=rate,
            accuracy=None,
            note=(f"The targets are N(0, 1) and independent of everything, so the constant 0 is optimal with MSE 1; "
                  f"it passes NRMSE < {REGRESSION_NRMSE_THRESHOLD} when χ²_{dof} < {0.01 * dof:g}, probability "
                  f"{rate:.3g}."),
        )

    imported_no_loss = ("no data: the probe is random noise of the model's input width; open your sequences "
                        "(--data, File ▸ Open data…) for the loss, the gradient flow and fine-tuning")

    def fitted(self, n_in: int, n_out: int) -> "RandomTask":
        """Noise of the model's input width: the probe of an imported model without data. Random targets are no
        data for a trained model, so nothing is scored (:attr:`no_loss` says so)."""
        task = RandomTask(self.length, n_in, max(n_out, 1))
        task.no_loss = self.imported_no_loss
        return task

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        x = rng.standard_normal((L, B, self.n_in))
        y = rng.standard_normal((L, B, self.n_out))
        return Batch(x=x, y=y, mask=np.ones((L, B)), info={"length": L})
