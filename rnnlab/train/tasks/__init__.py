"""The benchmark tasks: minibatch generators, success criteria and "learned nothing" baselines.

Every task turns a :class:`numpy.random.Generator` into a :class:`Batch` of time-major arrays
(``x`` is ``(T, B, I)``) and knows

* which outputs are scored (``Batch.mask``),
* whether a sequence is solved (:meth:`Task.success`, the task's own criterion from its reference), and
* the loss and success rate of the best predictor that ignores the input (:attr:`Task.baseline`), the
  horizontal "chance" line of the learning curves.

Loss units used everywhere in rnnlab: the loss is the mean, over the scored ``(t, b)`` pairs, of the per-step
loss; the per-step loss is ``-log p(target)`` for classification and the mean over output dimensions of the
squared error for regression.

Pascanu's six tasks follow the reference code of Pascanu, Mikolov & Bengio (2013),
``github.com/pascanur/trainingRNNs`` (``tempOrder.py``, ``tempOrder3bit.py``, ``addition.py``,
``multiplication.py``, ``permutation.py``, ``memorization.py``), as summarised in SCIENCE.md §1.7; where the
module docstrings there disagree with their code, the code is followed. The embedded Reber grammar follows
Hochreiter & Schmidhuber (1997, Exp. 1), Mackey–Glass follows Jaeger (2001) (SCIENCE.md §4.1).

A task is a file: :mod:`.base` holds what they share (:class:`Batch`, :class:`Baseline`, :class:`Task`), each
other module one task (or two close variants); :data:`TASKS` below is the registry, whose names are the choices
of ``task.name`` in :mod:`rnnlab.config` (a test keeps them equal). To add a task: a file here, one line in
:data:`TASKS`, its name in ``rnnlab.config.TASKS``.

This package imports only NumPy and the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .addition import AdditionTask, MultiplicationTask
from .base import REGRESSION_NRMSE_THRESHOLD, Baseline, Batch, Task
from .file import FileTask
from .mackey_glass import MackeyGlassTask, mackey_glass_series
from .memorization import MemorizationTask
from .permutation import PermutationTask
from .random import RandomTask
from .reber import REBER_SYMBOLS, ReberTask
from .sine import SineTask
from .temporal_order import TemporalOrder3BitTask, TemporalOrderTask

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.config import TaskConfig

__all__ = [
    "Batch",
    "Baseline",
    "Task",
    "TemporalOrderTask",
    "TemporalOrder3BitTask",
    "AdditionTask",
    "MultiplicationTask",
    "PermutationTask",
    "MemorizationTask",
    "ReberTask",
    "SineTask",
    "MackeyGlassTask",
    "RandomTask",
    "FileTask",
    "TASKS",
    "TASK_CLASSES",
    "make_task",
    "mackey_glass_series",
    "REBER_SYMBOLS",
    "REGRESSION_NRMSE_THRESHOLD",
]

#: the registry: ``task.name`` -> task class, in the order of the config's choices (``rnnlab.config.TASKS``)
TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (RandomTask, TemporalOrderTask, TemporalOrder3BitTask, AdditionTask, MultiplicationTask,
                PermutationTask, MemorizationTask, ReberTask, SineTask, MackeyGlassTask, FileTask)
}
#: the registry's name before issue 9 (kept for existing imports)
TASK_CLASSES = TASKS


def make_task(cfg: "TaskConfig") -> Task:
    """The task named by ``cfg.name``, built from the task section (:meth:`Task.from_config`: ``cfg.length``, and
    ``cfg.mem_values``, ``cfg.mem_positions`` for memorisation, ``cfg.path`` … for the file task)."""
    name = cfg.name
    if name not in TASKS:
        raise ValueError(f"task.name = {name!r}: expected one of {', '.join(TASKS)}")
    return TASKS[name].from_config(cfg)
