"""Immutable snapshots of a training run: what the trainer hands to its consumers (the app, the CLI, a notebook).

A :class:`Snapshot` owns copies of every array it holds (never views of arrays the trainer keeps changing), so a
consumer on another thread may keep it as long as it likes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["HISTORY_COLUMNS", "Event", "Explosion", "Snapshot", "History"]

#: per-step columns of the history (and of ``metrics.csv``)
HISTORY_COLUMNS = (
    "step",
    "loss",
    "metric",
    "accuracy",
    "grad_norm",
    "grad_norm_clipped",
    "clipped",
    "spectral_radius",
    "sigma_max",
    "regularizer",
    "penalty",
    "learning_rate",
    "grad_W_hh",
    "grad_W_hx",
    "grad_W_yh",
)


@dataclass(frozen=True)
class Event:
    """A setting that changed at a step (drawn as a marker on every time-series view)."""

    step: int
    text: str


@dataclass(frozen=True)
class Explosion:
    """What became non-finite, and when."""

    step: int
    what: str
    last_finite_grad_norm: float
    checkpoint_step: int

    def message(self) -> str:
        return (f"{self.what} at step {self.step}; the last finite gradient norm was "
                f"{self.last_finite_grad_norm:.3g}. Rewind restores the weights of step {self.checkpoint_step}, "
                "before the trouble began.")


class History:
    """Per-step scalars in preallocated columns that double when full."""

    def __init__(self, capacity: int = 1024):
        self._data = np.full((capacity, len(HISTORY_COLUMNS)), np.nan)
        self.n = 0

    def append(self, row: dict) -> None:
        if self.n == self._data.shape[0]:
            grown = np.full((2 * self.n, len(HISTORY_COLUMNS)), np.nan)
            grown[: self.n] = self._data
            self._data = grown
        r = self._data[self.n]
        for i, c in enumerate(HISTORY_COLUMNS):
            v = row.get(c)
            r[i] = np.nan if v is None else v
        self.n += 1

    def set_last(self, column: str, value: float) -> None:
        if self.n:
            self._data[self.n - 1, HISTORY_COLUMNS.index(column)] = value

    def since(self, start: int) -> dict[str, np.ndarray]:
        """Copies of the rows from index ``start`` on, one array per column."""
        block = self._data[start : self.n].copy()
        return {c: block[:, i] for i, c in enumerate(HISTORY_COLUMNS)}

    def truncate(self, n: int) -> None:
        self.n = min(self.n, n)


@dataclass(frozen=True)
class Snapshot:
    """The state of a run at one step: what the window draws and writes, nothing more.

    ``diagnostics`` (a :class:`~rnnlab.core.diagnostics.Diagnostics`) is ``None`` when the expensive part was not
    computed for this snapshot (it is computed only every so many steps); views then keep what they show.
    """

    step: int
    config: object  # Experiment
    history: dict  # column -> (n,) array: the per-step rows since the previous snapshot
    loss: float
    metric: float  # latest held-out success rate (NaN before the first measurement)
    rho: float
    sigma_max: float
    gamma: float
    remedies: tuple  # short texts: what acts against vanishing/exploding gradients now (status bar)
    events: tuple = ()
    explosion: Explosion | None = None
    baseline: object = None  # tasks.Baseline
    task_name: str = ""
    steps_per_second: float = float("nan")
    diagnostics: object = None  # Diagnostics | None
    checkpoints: tuple = ()  # the kept steps Rewind can go to (rnnlab.train.timeline)
    stopped: str = ""  # why training stopped on its own at this snapshot (a step budget, success), or ""

    @property
    def exploded(self) -> bool:
        return self.explosion is not None

    @staticmethod
    def merge(snaps: "list[Snapshot]") -> "Snapshot":
        """One snapshot standing for several consecutive ones: the latest scalars, the concatenated history, all
        events, and the latest diagnostics that were computed."""
        if not snaps:
            raise ValueError("nothing to merge")
        if len(snaps) == 1:
            return snaps[0]
        last = snaps[-1]
        hist = {k: np.concatenate([s.history[k] for s in snaps]) for k in last.history}
        events = tuple(e for s in snaps for e in s.events)
        diag = next((s.diagnostics for s in reversed(snaps) if s.diagnostics is not None), None)
        stopped = next((s.stopped for s in reversed(snaps) if s.stopped), "")
        return dataclasses.replace(last, history=hist, events=events, diagnostics=diag, stopped=stopped)
