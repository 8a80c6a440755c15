"""Pascanu's temporal order problems: two symbols (2 bits, 4 classes) or three (3 bits, 8 classes) to order
across a long sequence of distractors (SCIENCE.md §1.7).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import Baseline, Batch, Task, _check_batch_size, _one_hot


__all__ = ["TemporalOrderTask", "TemporalOrder3BitTask"]


class TemporalOrderTask(Task):
    """Pascanu's temporal order problem (reference code ``tempOrder.py``; SCIENCE.md §1.7).

    Six one-hot input symbols: 0, 1 = A, B (informative), 2..5 = distractors. Every step carries a uniform
    distractor except ``p0`` in [⌊0.1L⌋, 2⌊0.1L⌋) and ``p1`` in [⌊0.5L⌋, ⌊0.5L⌋ + ⌊0.1L⌋), which carry
    ``v0, v1`` in {A, B}. The class ``v0 + 2 v1`` (4 classes) is read by a softmax at the last step.
    The code's ranges are followed, not its docstring ("p0 in [1, L/10]"). ``info``: p0, p1, v0, v1 (B,),
    length (int).

    Reference: SCIENCE.md §1.7, ``tempOrder.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "temporal_order"
    n_in = 6
    n_out = 4
    kind = "classification"
    readout = "last"
    generative = False
    min_length = 10
    # (start fraction in tenths) of each informative position; each window is ⌊0.1L⌋ wide
    _starts: tuple[int, ...] = (1, 5)

    def __init__(self, length: int) -> None:
        super().__init__(length)
        n_bits = len(self._starts)
        n_cls = 2 ** n_bits
        L = self.length
        d = L // 10
        windows = ", ".join(f"p{i} in [{(s * L) // 10}, {(s * L) // 10 + d})" for i, s in enumerate(self._starts))
        self.description = (
            f"A sequence of {L} random symbols: {n_bits} positions ({windows}) hold A or B, every other "
            f"position holds one of four distractors c, d, e, f. At the last step the network must say in which "
            f"order the A/B symbols came ({n_cls} classes). The informative symbols are far from the end, so the "
            f"gradient that tells the network what to remember must travel back about "
            f"{L - (self._starts[-1] * L) // 10 - d} to {L - 1 - (self._starts[0] * L) // 10} steps."
        )
        self.baseline = Baseline(
            loss=math.log(n_cls),
            success_rate=1.0 / n_cls,
            accuracy=1.0 / n_cls,
            note=(f"The {n_cls} classes are equally likely, so the best input-free predictor outputs 1/{n_cls} for "
                  f"each: cross-entropy ln {n_cls} = {math.log(n_cls):.4f} and argmax right 1/{n_cls} of the time "
                  f"(chance error {100 * (1 - 1 / n_cls):g} %)."),
        )

    def _min_length_reason(self) -> str:
        return " (the informative positions are drawn from windows ⌊0.1·length⌋ wide, empty below 10)"

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        d = L // 10
        cols = np.arange(B)
        ps, vs = [], []
        for s in self._starts:                       # draw order as in the reference code: p0, v0, p1, v1, ...
            ps.append(rng.integers(d, size=B) + (s * L) // 10)
            vs.append(rng.integers(2, size=B))
        symbols = rng.integers(4, size=(L, B)) + 2
        cls = np.zeros(B, dtype=np.int64)
        for i, (p, v) in enumerate(zip(ps, vs)):
            symbols[p, cols] = v
            cls += v << i
        x = _one_hot(symbols, 6)
        y = np.zeros((L, B), dtype=np.int64)
        y[-1] = cls
        mask = np.zeros((L, B))
        mask[-1] = 1.0
        info: dict[str, Any] = {"length": L, "symbols": symbols}
        for i, (p, v) in enumerate(zip(ps, vs)):
            info[f"p{i}"] = p
            info[f"v{i}"] = v
        return Batch(x=x, y=y, mask=mask, info=info)


class TemporalOrder3BitTask(TemporalOrderTask):
    """Pascanu's 3-bit temporal order problem (reference code ``tempOrder3bit.py``; SCIENCE.md §1.7).

    As :class:`TemporalOrderTask` with three informative positions p0 in [⌊0.1L⌋, ⌊0.1L⌋+⌊0.1L⌋),
    p1 in [⌊0.3L⌋, ⌊0.3L⌋+⌊0.1L⌋), p2 in [⌊0.6L⌋, ⌊0.6L⌋+⌊0.1L⌋); class v0 + 2 v1 + 4 v2 (8 classes).
    ``info``: p0, p1, p2, v0, v1, v2 (B,), length (int).

    Reference: SCIENCE.md §1.7, ``tempOrder3bit.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "temporal_order_3bit"
    n_out = 8
    _starts = (1, 3, 6)
