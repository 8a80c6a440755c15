"""What every task shares: the :class:`Batch` container, the :class:`Baseline` record, the :class:`Task` base
class and small helpers (one-hot coding, batch-size check, sequence NRMSE). NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.config import TaskConfig

__all__ = ["Batch", "Baseline", "Task", "REGRESSION_NRMSE_THRESHOLD"]


# --- containers -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """One minibatch, time-major.

    ``x`` (T, B, I) float64 inputs; ``y`` the targets: (T, B) int64 class indices for classification (0 where
    unscored) or (T, B, O) float64 for regression (0 where unscored); ``mask`` (T, B) float64, 1.0 where the
    output at step t is scored; ``info`` extra arrays for tests and inspection (positions, lengths, ...).
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        """Number of time steps T of this batch (it can differ from ``task.length``)."""
        return int(self.x.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[1])


@dataclass(frozen=True)
class Baseline:
    """What a predictor that ignores the input achieves (in the rnnlab loss units)."""

    loss: float
    success_rate: float
    accuracy: float | None
    note: str


# --- helpers ----------------------------------------------------------------------------------------------------

def _one_hot(symbols: np.ndarray, n: int) -> np.ndarray:
    """``symbols`` (T, B) ints in [0, n) -> (T, B, n) float64 one-hot."""
    out = np.zeros(symbols.shape + (n,), dtype=np.float64)
    np.put_along_axis(out, symbols[..., None], 1.0, axis=-1)
    return out


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r}: expected an integer >= 1")
    return int(batch_size)


#: A regression sequence of the series tasks (sine, mackey_glass, random) is solved when its normalised root
#: mean square error sqrt(mean squared error over its scored steps) / sigma is below this, sigma^2 being the
#: variance of the targets (= the loss of the constant mean predictor). 0.1 means "MSE below 1 % of the
#: variance"; copying the input (x[t] = s_t as the prediction of s_{t+1}) stays above it on both series.
REGRESSION_NRMSE_THRESHOLD = 0.1


# --- base class -------------------------------------------------------------------------------------------------

class Task:
    """Base class of every task. Subclasses set the class attributes and implement :meth:`sample`.

    ``length`` is ``task.length`` (T, or the minimum length for tasks that vary it; memorisation inputs are
    ``length + 2 * n_pos`` long).
    """

    name: str = ""
    n_in: int = 0
    n_out: int = 0
    kind: str = "classification"      # "classification" | "regression"
    readout: str = "last"             # "last" | "every"
    generative: bool = False          # x[t] equals the target of step t-1 (teacher forcing input)
    description: str = ""
    baseline: Baseline
    min_length: int = 1
    #: ``task.*`` keys that only this task reads (the others are greyed out for it: rnnlab.train.rules)
    settings: tuple[str, ...] = ()
    #: ``task.length`` sets T (False: the data decides it)
    reads_length: bool = True
    #: the batches carry targets (False: inputs only, nothing is scored)
    has_targets: bool = True
    #: why this task cannot score a network (empty: it can): the loss-based views show it and training is off
    no_loss: str = ""
    #: why this task scores no imported model (its data are no data for a trained model), "" when it does
    imported_no_loss: str = ""
    #: the task reads the user's file (``task.path``): the rules check it before an experiment switches
    reads_file: bool = False

    def __init__(self, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
            raise ValueError(f"task.length = {length!r}: expected an integer")
        length = int(length)
        if length < self.min_length:
            raise ValueError(f"task.length = {length} is too short for the {self.name} task: it needs "
                             f"task.length >= {self.min_length}{self._min_length_reason()}")
        self.length = length

    @classmethod
    def from_config(cls, cfg: "TaskConfig") -> "Task":
        """The task for the ``[task]`` section ``cfg`` (its ``length``; subclasses read their own keys)."""
        return cls(cfg.length)

    def _min_length_reason(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(length={self.length})"

    # -- interface ---------------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample_heldout(self, rng: np.random.Generator, batch_size: int) -> Batch:
        """A batch for the held-out success rate: a fresh sample for generated tasks (every batch is new data);
        tasks with a fixed set of sequences draw from the part they hold out."""
        return self.sample(rng, batch_size)

    def fitted(self, n_in: int, n_out: int) -> "Task":
        """This task for a given network with ``n_in`` inputs and ``n_out`` outputs (an imported model's; 0
        outputs: no readout). Raises ValueError naming what does not fit; tasks whose widths are free adapt."""
        if n_in != self.n_in:
            raise ValueError(f"the {self.name} task has {self.n_in} input features per step, the model takes {n_in}")
        if n_out and n_out != self.n_out:
            what = "classes" if self.kind == "classification" else "target values per step"
            raise ValueError(f"the {self.name} task has {self.n_out} {what}, the model's readout has {n_out} outputs")
        return self

    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """(B,) bool: did each sequence pass the task's own criterion.

        ``out`` is (T, B, O): softmax probabilities (classification) or predictions (regression).
        Default for classification: every scored step has argmax equal to the target.
        """
        out = self._check_out(out, batch)
        if self.kind == "classification":
            scored = batch.mask > 0
            right = np.argmax(out, axis=-1) == batch.y
            return np.all(right | ~scored, axis=0)
        return self._regression_success(out, batch)

    # -- shared pieces -----------------------------------------------------------------------------------------
    def _check_out(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        out = np.asarray(out)
        expected = batch.x.shape[:2] + (self.n_out,)
        if out.shape != expected:
            raise ValueError(f"{self.name}: output has shape {out.shape}, expected {expected} (T, B, n_out)")
        return out

    def _regression_success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """Series tasks: sequence NRMSE over its scored steps below :data:`REGRESSION_NRMSE_THRESHOLD`."""
        return _sequence_nrmse(out, batch, self.baseline.loss) < REGRESSION_NRMSE_THRESHOLD


def _sequence_nrmse(out: np.ndarray, batch: Batch, variance: float) -> np.ndarray:
    """(B,) sqrt(mean over scored steps of the per-step loss) / sqrt(variance)."""
    per_step = np.mean((out - batch.y) ** 2, axis=-1)                  # (T, B)
    count = np.maximum(batch.mask.sum(axis=0), 1.0)
    mse = (per_step * batch.mask).sum(axis=0) / count
    return np.sqrt(mse / variance)
