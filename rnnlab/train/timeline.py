"""The run's timeline: a ring of checkpoints under a memory budget, dense for recent steps and sparser further back,
and where the trouble began (for Rewind).

A checkpoint is the whole state of training after some step: weights, optimiser and Hessian-free state, an ESN's
regression so far, and the scalars a snapshot shows. :class:`Timeline` keeps them under ``budget_bytes`` and
``max_count``: when either is exceeded it drops the interior checkpoint whose neighbours are closest together
relative to its age (``(s[i+1] − s[i−1]) / (now − s[i])`` smallest), so the gaps between kept steps grow in
proportion to their age (a geometric spacing: every step of the last few, every tenth a hundred steps back, …).
The first checkpoint (step 0) and the newest are kept, unless two checkpoints do not fit in the budget (a very
large network): then only the newest. The app's engine gives its trainer :data:`DEFAULT_BUDGET`; a trainer
without a session (``rnnlab run``, sweeps, preset checks) keeps a smaller ring, :data:`HEADLESS_BUDGET`.

:func:`trouble_start` reads the history: the first step of the current unrecovered excursion, where the gradient
norm or the loss left its running range (more than :data:`GRAD_FACTOR` or :data:`LOSS_FACTOR` times the largest
value of the last :data:`WINDOW` ordinary steps, or non-finite). A row's loss and gradient norm are measured on
the weights *before* that row's update, so the last sound state is the one two steps before the row that left the
range: :meth:`rnnlab.train.trainer.Trainer.rewind` goes to the last checkpoint at or before it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Checkpoint", "Timeline", "trouble_start", "state_nbytes", "DEFAULT_BUDGET", "HEADLESS_BUDGET",
           "GRAD_FACTOR", "LOSS_FACTOR", "WINDOW",
           "RECOVERY"]

#: memory the checkpoints of one run in the app may take (bytes) ...
DEFAULT_BUDGET = 128 * 2**20
#: ... and of a run without a window (rnnlab run, sweeps: nobody rewinds it, but an explosion names its target)
HEADLESS_BUDGET = 16 * 2**20
#: at most this many checkpoints (the oldest of a dense stretch go first)
MAX_COUNT = 400
#: a step leaves the running range when its gradient norm exceeds this many times the window's largest ...
GRAD_FACTOR = 10.0
#: ... or its loss this many times the window's largest loss
LOSS_FACTOR = 5.0
#: the running range: the last this many ordinary steps (steps that left the range are not part of it)
WINDOW = 50
#: this many ordinary steps in a row after an excursion: it is over (a later Rewind looks at later trouble only)
RECOVERY = 50
#: steps needed before a step can leave the range
WARMUP = 3


@dataclass
class Checkpoint:
    step: int
    history_n: int
    state: dict = field(repr=False)
    nbytes: int = 0


def state_nbytes(obj) -> int:
    """Bytes of the arrays in a (nested) state; 8 for every other leaf."""
    return _nbytes(obj)


def _nbytes(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v) for v in obj)
    return 8


class Timeline:
    """Checkpoints of one run, oldest first, thinned geometrically to fit the budget."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET, max_count: int = MAX_COUNT):
        self.budget_bytes = int(budget_bytes)
        self.max_count = max(3, int(max_count))
        self._cks: list[Checkpoint] = []
        self._total = 0  # bytes held

    # --- keeping ----------------------------------------------------------------------------------------------
    def add(self, step: int, history_n: int, state: dict, nbytes: int | None = None) -> Checkpoint:
        """Keep the state after ``step`` (checkpoints after it, from an abandoned future, are dropped). ``nbytes``:
        the state's size when the caller knows it (measuring it walks the whole state)."""
        self.drop_after(step - 1)
        ck = Checkpoint(int(step), int(history_n), state, _nbytes(state) if nbytes is None else int(nbytes))
        self._cks.append(ck)
        self._total += ck.nbytes
        self._thin()
        return ck

    def _thin(self) -> None:
        cks = self._cks
        while len(cks) > 2 and (len(cks) > self.max_count or self._total > self.budget_bytes):
            s = np.fromiter((c.step for c in cks), float, len(cks))
            score = (s[2:] - s[:-2]) / (s[-1] - s[1:-1] + 1.0)
            i = 1 + int(np.argmin(score))
            self._total -= cks[i].nbytes
            del cks[i]
        while len(cks) > 1 and self._total > self.budget_bytes:  # checkpoints so large that two do not fit:
            self._total -= cks.pop(0).nbytes  # the newest alone (the first is given up too)

    def drop_after(self, step: int) -> None:
        """Forget the checkpoints after ``step`` (a rewind: they belong to a future that will not happen)."""
        while self._cks and self._cks[-1].step > step:
            self._total -= self._cks.pop().nbytes

    def clear(self) -> None:
        self._cks.clear()
        self._total = 0

    # --- reading ----------------------------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        return self._total

    def steps(self) -> tuple[int, ...]:
        return tuple(c.step for c in self._cks)

    def __len__(self) -> int:
        return len(self._cks)

    def at_or_before(self, step: int) -> Checkpoint | None:
        """The latest checkpoint at or before ``step`` (None if there is none)."""
        i = bisect.bisect_right([c.step for c in self._cks], step)
        return self._cks[i - 1] if i else None

    def oldest(self) -> Checkpoint | None:
        return self._cks[0] if self._cks else None

    def latest(self) -> Checkpoint | None:
        return self._cks[-1] if self._cks else None


def _leaves(values: np.ndarray, factor: float) -> np.ndarray:
    """Per row: whether the value left its running range (non-finite, or above ``factor`` × the largest of the last
    :data:`WINDOW` ordinary rows). NaN rows (not measured) are ordinary and not part of the range."""
    out = np.zeros(len(values), dtype=bool)
    window: list[float] = []
    for i, v in enumerate(values):
        if np.isnan(v):
            continue
        if not np.isfinite(v) or (len(window) >= WARMUP and abs(v) > factor * max(window)):
            out[i] = True
            continue
        window.append(abs(v))
        if len(window) > WINDOW:
            window.pop(0)
    return out


def trouble_start(steps: np.ndarray, loss: np.ndarray, grad_norm: np.ndarray) -> int | None:
    """The step of the first row of the current unrecovered excursion (gradient norm or loss out of its running
    range), or None when the run is in range now. ``steps``, ``loss`` and ``grad_norm`` are history columns."""
    if len(steps) == 0:
        return None
    bad = _leaves(np.asarray(grad_norm, float), GRAD_FACTOR) | _leaves(np.asarray(loss, float), LOSS_FACTOR)
    if not bad.any():
        return None
    start, good_run = None, 0
    for i, b in enumerate(bad):
        if b:
            if start is None:
                start = i
            good_run = 0
        elif start is not None:
            good_run += 1
            if good_run >= RECOVERY:  # the run came back: that excursion is over
                start, good_run = None, 0
    return None if start is None else int(steps[start])
