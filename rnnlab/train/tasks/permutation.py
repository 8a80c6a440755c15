"""Pascanu's random permutation problem: predict at the end the symbol shown at the start (SCIENCE.md §1.7).
"""

from __future__ import annotations

import math

import numpy as np

from .base import Baseline, Batch, Task, _check_batch_size, _one_hot


__all__ = ["PermutationTask"]


class PermutationTask(Task):
    """Pascanu's "random permutation" problem (reference code ``permutation.py``; SCIENCE.md §1.7).

    L+1 symbols are drawn uniformly in {2..99}; symbols 0 and L are then set to the same v in {0, 1}. The inputs
    are symbols 0..L-1 (one-hot, 100 channels); the target, read by a softmax at the last input step, is
    symbol L (= v). ``info``: v (B,), symbols (L+1, B), length (int).

    Reference: SCIENCE.md §1.7, ``permutation.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "permutation"
    n_in = 100
    n_out = 100
    kind = "classification"
    readout = "last"
    generative = False
    min_length = 1

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self.description = (
            f"A stream of {L} random symbols out of 100. The first symbol is 0 or 1, all the others are in 2..99. "
            f"At the last step the network must name the next symbol, which is always equal to the first one, "
            f"{L - 1} steps back. Everything in between is noise, so only a memory spanning the whole sequence "
            f"helps. Pascanu et al. solved it in only 2 of 5 runs."
        )
        self.baseline = Baseline(
            loss=math.log(2.0),
            success_rate=0.5,
            accuracy=0.5,
            note=("The target is 0 or 1 with probability 1/2 each, so the best input-free predictor puts 1/2 on each: "
                  "cross-entropy ln 2 ≈ 0.6931 and argmax right half of the time."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        symbols = rng.integers(98, size=(L + 1, B)) + 2
        v = rng.integers(2, size=B)
        symbols[0] = v
        symbols[L] = v
        x = _one_hot(symbols[:-1], 100)
        y = np.zeros((L, B), dtype=np.int64)
        y[-1] = v
        mask = np.zeros((L, B))
        mask[-1] = 1.0
        return Batch(x=x, y=y, mask=mask, info={"v": v, "symbols": symbols, "length": L})
