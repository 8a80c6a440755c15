"""Pascanu's addition and multiplication problems: two marked numbers in a long sequence, their sum or product
read at the end (SCIENCE.md §1.7).
"""

from __future__ import annotations

import math

import numpy as np

from .base import Baseline, Batch, Task, _check_batch_size


__all__ = ["AdditionTask", "MultiplicationTask"]


class AdditionTask(Task):
    """Pascanu's addition problem (reference code ``addition.py``; SCIENCE.md §1.7).

    The actual length ``l = L + randint(⌊0.1L⌋)`` is drawn once per minibatch (so ``x.shape[0]`` varies).
    Channel 0 is the marker (0 except two 1s at ``p0`` in [0, ⌊0.1l⌋) and ``p1`` in
    [⌊0.1l⌋, ⌊0.1l⌋ + ⌊0.4l⌋)); channel 1 holds U[0, 1) values. The target, read by a linear unit at the last
    step, is (x[p0] + x[p1]) / 2. A sequence is wrong if its squared error exceeds 0.04 (|error| > 0.2).
    ``info``: p0, p1 (B,), length (int, = l).

    Reference: SCIENCE.md §1.7, ``addition.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "addition"
    n_in = 2
    n_out = 1
    kind = "regression"
    readout = "last"
    generative = False
    min_length = 10
    tolerance = 0.04          # squared error above which a sequence is wrong

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self.description = (
            f"Each step carries a random number in [0, 1) and a marker bit. Two steps are marked: one among the "
            f"first 10 % of the sequence and one between 10 % and 50 %. At the last step (the length is {L} to "
            f"{L + L // 10 - 1}, drawn per minibatch) the network must output {self._target_words}. A sequence "
            f"counts as solved when the squared error is at most {self.tolerance} (|error| <= 0.2). The network "
            f"must hold the marked values over at least half the sequence."
        )
        self.baseline = self._make_baseline()

    _target_words = "the average of the two marked numbers"

    def _make_baseline(self) -> Baseline:
        # target = (U1 + U2)/2, triangular on [0, 1] with density 4t (t < 1/2), 4(1 - t) (t > 1/2).
        # Best constant 1/2; its loss is Var = (1/12)/2 = 1/24. It is right when |T - 1/2| <= 0.2:
        # 1 - 2 P(T < 0.3) = 1 - 2 * 2 * 0.3^2 = 0.64.
        return Baseline(
            loss=1.0 / 24.0,
            success_rate=1.0 - 4.0 * 0.3 ** 2,
            accuracy=None,
            note=("The constant 1/2 (the mean of the triangular target (U1+U2)/2) has MSE Var = 1/24 ≈ 0.0417 and "
                  "passes |error| <= 0.2 with probability 1 - 2·P(target < 0.3) = 1 - 4·0.3² = 0.64 (36 % of "
                  "sequences are wrong)."),
        )

    def _min_length_reason(self) -> str:
        return " (the extra length is randint(⌊0.1·length⌋), which needs ⌊0.1·length⌋ >= 1)"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a + b) / 2.0

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        l = L + int(rng.integers(L // 10))           # draw order as in the reference: l, p0, p1, data
        d1, d4 = l // 10, (4 * l) // 10
        p0 = rng.integers(d1, size=B)
        p1 = rng.integers(d4, size=B) + d1
        x = rng.uniform(size=(l, B, 2))
        x[:, :, 0] = 0.0
        cols = np.arange(B)
        x[p0, cols, 0] = 1.0
        x[p1, cols, 0] = 1.0
        y = np.zeros((l, B, 1))
        y[-1, :, 0] = self._combine(x[p0, cols, 1], x[p1, cols, 1])
        mask = np.zeros((l, B))
        mask[-1] = 1.0
        return Batch(x=x, y=y, mask=mask, info={"p0": p0, "p1": p1, "length": l})

    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """Right unless the squared error at a scored step (the last) exceeds 0.04."""
        out = self._check_out(out, batch)
        err2 = (out[..., 0] - batch.y[..., 0]) ** 2
        return np.all((err2 <= self.tolerance) | (batch.mask <= 0), axis=0)


class MultiplicationTask(AdditionTask):
    """Pascanu's multiplication problem (reference code ``multiplication.py``; SCIENCE.md §1.7).

    Identical to :class:`AdditionTask` except the target is x[p0] · x[p1] (no halving); same 0.04 criterion.

    Reference: SCIENCE.md §1.7, ``multiplication.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "multiplication"
    _target_words = "the product of the two marked numbers"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def _make_baseline(self) -> Baseline:
        # Z = U1 U2: mean 1/4, E[Z^2] = 1/9, Var = 7/144. CDF F(z) = z - z ln z on (0, 1].
        # The mean 1/4 is right when 0.05 <= Z <= 0.45.
        F = lambda z: z - z * math.log(z)  # noqa: E731
        rate = F(0.45) - F(0.05)
        best_c = F(0.4)  # the constant 0.2 maximises P(|Z - c| <= 0.2) (the density -ln z decreases)
        return Baseline(
            loss=7.0 / 144.0,
            success_rate=rate,
            accuracy=None,
            note=(f"The constant 1/4 (the mean of U1·U2) has MSE Var = 1/9 - 1/16 = 7/144 ≈ 0.0486 and passes "
                  f"|error| <= 0.2 when 0.05 <= U1·U2 <= 0.45, probability F(0.45) - F(0.05) = {rate:.4f} with "
                  f"F(z) = z - z ln z (the constant 0.2 would pass {best_c:.4f} of the time at a higher loss)."),
        )
