"""Series prediction: a sum of sines, one step ahead.
"""

from __future__ import annotations

import numpy as np

from .base import REGRESSION_NRMSE_THRESHOLD, Baseline, Batch, Task, _check_batch_size


__all__ = ["SineTask"]


class SineTask(Task):
    """Next-step prediction of a mixture of sines with a random phase per sequence (rnnlab's own task).

    s(t) = Σ_k A_k sin(2π t / P_k + φ_k) with periods P = (10, 23, 57) steps, amplitudes A_k = 1/3 and
    φ_k ~ U[0, 2π) per sequence and component; x[t] = s(t), y[t] = s(t+1), t = 0..T-1, scored at every step
    (a generative task: x[t+1] = y[t]). Success: the sequence's NRMSE (root of its mean squared error over
    σ, σ² = Σ A_k²/2 = 1/6 the variance of s) is below :data:`REGRESSION_NRMSE_THRESHOLD`.
    ``info``: phase (K, B), length (int).

    Reference: none (a smooth sanity-check series defined here); loss units and criterion as SCIENCE.md §4.1
    uses for Mackey–Glass (NRMSE).
    """

    name = "sine"
    n_in = 1
    n_out = 1
    kind = "regression"
    readout = "every"
    generative = True
    min_length = 1
    periods = (10.0, 23.0, 57.0)
    amplitudes = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0)

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        var = float(sum(a * a / 2.0 for a in self.amplitudes))
        self._variance = var
        self.description = (
            f"A sum of three sine waves (periods {', '.join(f'{p:g}' for p in self.periods)} steps, amplitude 1/3 "
            f"each, random phases per sequence). At each of {L} steps the network sees the current value and "
            f"predicts the next one. A linear recurrence of order 6 predicts it exactly, so this is a check that "
            f"the network can learn smooth dynamics rather than a long-memory test. A sequence is solved when its "
            f"RMSE is below {REGRESSION_NRMSE_THRESHOLD} times the signal's standard deviation."
        )
        # success rate of the zero predictor: Monte Carlo with a fixed generator (it is 0 unless T is tiny)
        n_mc = int(min(2000, max(200, 400_000 // L)))
        mc_rng = np.random.default_rng(20130617)
        b = self._sample(mc_rng, n_mc, L)
        nrmse = np.sqrt(np.mean(b.y[..., 0] ** 2, axis=0) / var)
        rate = float(np.mean(nrmse < REGRESSION_NRMSE_THRESHOLD))
        self.baseline = Baseline(
            loss=var,
            success_rate=rate,
            accuracy=None,
            note=(f"With random phases s(t) has mean 0 and variance Σ A_k²/2 = 1/6 ≈ 0.1667 at every t, so the "
                  f"constant 0 has MSE 1/6; a sequence passes only if its mean power is below 1 % of that, which "
                  f"happened in {rate:.4f} of {n_mc} Monte-Carlo sequences of this length."),
        )

    def _sample(self, rng: np.random.Generator, B: int, L: int) -> Batch:
        K = len(self.periods)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=(K, B))
        t = np.arange(L + 1, dtype=np.float64)
        omega = 2.0 * np.pi / np.asarray(self.periods)
        amp = np.asarray(self.amplitudes)
        s = np.zeros((L + 1, B))
        for kk in range(K):
            s += amp[kk] * np.sin(omega[kk] * t[:, None] + phase[kk][None, :])
        x = s[:-1, :, None].copy()
        y = s[1:, :, None].copy()
        return Batch(x=x, y=y, mask=np.ones((L, B)), info={"phase": phase, "length": L})

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        return self._sample(rng, _check_batch_size(batch_size), self.length)
