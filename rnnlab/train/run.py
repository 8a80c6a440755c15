"""The one run loop: train an experiment for a number of steps, headless, with a callback after every step.

Every caller that trains to the end and then measures uses it: ``rnnlab run``, sweeps, preset contrast checks,
headless compare and the benches. The app's session (:mod:`rnnlab.train.session`) steps the same
:class:`~rnnlab.train.trainer.Trainer` one command at a time instead, because it must answer Pause between steps::

    from rnnlab.presets import load_preset
    from rnnlab.train.run import run

    res = run(load_preset("clipping"), 500)
    res.final_loss, res.final_metric, res.exploded
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..config import Experiment
from .snapshot import Explosion
from .trainer import Trainer

__all__ = ["RunResult", "run", "tail_mean", "TAIL_SHARE"]

#: "the end of a run" means its last 10 % of steps (at least one)
TAIL_SHARE = 0.1


def tail_mean(values, share: float = TAIL_SHARE) -> float:
    """Mean of the finite values among the last ``share`` of ``values`` (at least one value): NaN for no values,
    ``inf`` when none of the tail is finite. This is "the loss at the end of a run" everywhere in rnnlab."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return math.nan
    tail = v[-max(1, int(v.size * share)):]
    tail = tail[np.isfinite(tail)]
    return float(tail.mean()) if tail.size else math.inf


@dataclass
class RunResult:
    """What a finished (or stopped) run did.

    Attributes
    ----------
    trainer : Trainer
        In its final state (weights, history, probe): for further measurements or for writing the run.
    steps : int
        Updates done.
    losses, grad_norms : (steps,) arrays
        Training loss and global gradient norm (before clipping) of every update done.
    exploded : bool
        The run stopped on a non-finite loss or gradient (``explosion`` says what and when).
    interrupted : bool
        Stopped by Ctrl-C (KeyboardInterrupt); everything up to then is kept.
    stopped_early : bool
        ``on_step`` asked to stop.
    final_metric : float
        Held-out success rate at the end on a fresh batch (0 after an explosion; NaN with ``evaluate=False``).
    wall_time_s : float
    """

    trainer: Trainer
    steps: int
    losses: np.ndarray
    grad_norms: np.ndarray
    exploded: bool
    explosion: Explosion | None
    interrupted: bool
    stopped_early: bool
    final_metric: float
    wall_time_s: float
    extra: dict = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        """Mean training loss over the last 10 % of the updates (``inf`` after an explosion)."""
        return math.inf if self.exploded else tail_mean(self.losses)

    @property
    def max_grad_norm(self) -> float:
        """Largest gradient norm before clipping over the run (``inf`` after an explosion)."""
        if self.exploded:
            return math.inf
        g = self.grad_norms[np.isfinite(self.grad_norms)]
        return float(g.max()) if g.size else math.nan

    @property
    def baseline(self):
        return self.trainer.task.baseline


def run(exp: Experiment, steps: int, on_step: Callable[[Trainer], object] | None = None, *,
        trainer: Trainer | None = None, evaluate: bool = True, spectrum_every: int = 0) -> RunResult:
    """Train ``exp`` from scratch (or go on with ``trainer``) until ``trainer.step_count == steps``.

    Parameters
    ----------
    on_step : callable or None
        Called as ``on_step(trainer)`` after every update, including the one that exploded; a true return value
        stops the run there (e.g. stop at success). Exceptions propagate, except KeyboardInterrupt, which ends the
        run and is reported as ``interrupted``.
    evaluate : bool
        Measure the held-out success rate at the end (one fresh batch of ``training.eval_batch_size``).
    spectrum_every : int
        Passed to a new :class:`Trainer` (0: ρ and σ_max only when asked).
    """
    t0 = time.perf_counter()
    tr = trainer if trainer is not None else Trainer(exp, spectrum_every=spectrum_every)
    losses: list[float] = []
    grads: list[float] = []
    interrupted = stopped = False
    try:
        while tr.step_count < steps:
            ok = tr.step()
            if ok:
                losses.append(float(tr.last_loss))
                grads.append(float(tr.grad_norms.get("total", math.nan)))
            if on_step is not None and on_step(tr):
                stopped = True
                break
            if not ok:
                break
    except KeyboardInterrupt:
        interrupted = True
    exploded = tr.explosion is not None
    metric = math.nan
    if evaluate:
        metric = 0.0 if exploded else float(tr.evaluate()[0])
    return RunResult(trainer=tr, steps=tr.step_count, losses=np.asarray(losses), grad_norms=np.asarray(grads),
                     exploded=exploded, explosion=tr.explosion, interrupted=interrupted, stopped_early=stopped,
                     final_metric=metric, wall_time_s=time.perf_counter() - t0)
