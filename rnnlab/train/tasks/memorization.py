"""Pascanu's noiseless memorisation problem: reproduce a pattern after a long blank stretch (SCIENCE.md §1.7).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .base import Baseline, Batch, Task, _check_batch_size, _one_hot

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.config import TaskConfig

__all__ = ["MemorizationTask"]


class MemorizationTask(Task):
    """Pascanu's noiseless memorisation problem (reference code ``memorization.py``; SCIENCE.md §1.7).

    Input length ``L + 2n`` (n = ``n_pos``). Channels: ``n_values`` symbol channels, then blank (index -2) and
    trigger (index -1). Steps 0..n-1 carry the pattern (each step uniform over the values); steps n.. carry
    blank, except step L+n, which carries the trigger. Targets (``n_values + 1`` classes, the last is blank)
    are blank except in the last n steps (L+n .. L+2n-1), which must reproduce the pattern. Softmax at every
    step; a sequence is wrong if any step is wrong (the reference's ``report='all'``). ``info``: pattern (n, B),
    trigger (int, = L+n), length (int, = L+2n).

    Reference: SCIENCE.md §1.7, ``memorization.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "memorization"
    kind = "classification"
    readout = "every"
    generative = False
    min_length = 1
    settings = ("task.mem_values", "task.mem_positions")

    @classmethod
    def from_config(cls, cfg: "TaskConfig") -> "MemorizationTask":
        return cls(cfg.length, n_values=cfg.mem_values, n_pos=cfg.mem_positions)

    def __init__(self, length: int, n_values: int = 5, n_pos: int = 10) -> None:
        super().__init__(length)
        for key, val in (("task.mem_values", n_values), ("task.mem_positions", n_pos)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{key} = {val!r}: expected an integer >= 1")
        if n_values < 2:
            raise ValueError(f"task.mem_values = {n_values}: expected >= 2 (one value carries no information)")
        self.n_values = int(n_values)
        self.n_pos = int(n_pos)
        self.n_in = self.n_values + 2
        self.n_out = self.n_values + 1
        L, n, k = self.length, self.n_pos, self.n_values
        total = L + 2 * n
        bits = n * math.log2(k)
        self.description = (
            f"The first {n} steps show a pattern of {n} symbols out of {k} ({bits:.1f} bits). Then come {L} blank "
            f"steps; at step {L + n} a trigger appears, and from there on the network must play the pattern back, "
            f"one symbol per step ({total} steps in all). Before that it must output 'blank'. Every step is scored "
            f"and a single wrong step fails the sequence. The lag between a symbol and its recall is {L + n} steps."
        )
        # Best predictor that uses only the time step (not the input): blank with certainty for the first L+n
        # steps, uniform over the k values in the last n steps (the pattern is uniform and independent).
        loss = n * math.log(k) / total
        acc = (L + n + n / k) / total
        p_blank = (L + n) / total
        marg = -(p_blank * math.log(p_blank) + (n / total) * math.log(n / (k * total)))
        self.baseline = Baseline(
            loss=loss,
            success_rate=float(k) ** (-n),
            accuracy=acc,
            note=(f"The best predictor that knows only the time step outputs blank for the first {L + n} steps and "
                  f"1/{k} per value in the last {n}: loss n·ln k/(L+2n) = {loss:.4f}, step accuracy "
                  f"(L+n+n/k)/(L+2n) = {acc:.4f}, and it recalls a whole pattern with probability k^-n = "
                  f"{float(k) ** (-n):.3g} (a fully constant predictor, ignoring time too, has loss {marg:.4f})."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L, n, k = self.length, self.n_pos, self.n_values
        total = L + 2 * n
        pattern = rng.integers(k, size=(n, B))
        in_sym = np.full((total, B), k, dtype=np.int64)          # blank
        in_sym[:n] = pattern
        in_sym[L + n] = k + 1                                     # trigger
        x = _one_hot(in_sym, k + 2)
        y = np.full((total, B), k, dtype=np.int64)                # blank class
        y[total - n:] = pattern
        mask = np.ones((total, B))
        return Batch(x=x, y=y, mask=mask, info={"pattern": pattern, "trigger": L + n, "length": total})
