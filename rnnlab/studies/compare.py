"""Compare two runs that differ only in the settings the user picked (no Qt).

Both experiments keep the same seed, so they draw the same initial weights (when the model is unchanged) and the
same training batches; any difference on screen comes from the changed settings.

The app's compare window feeds :class:`RunStats` with the snapshots of two live runs; ``rnnlab compare`` trains
both headless with :func:`rnnlab.train.run.run` (:func:`compare`) and fills the same statistics from the trainers'
histories, so both print the same paragraph (:func:`summarize`) after the same number of steps::

    from rnnlab.presets import get_preset
    from rnnlab.studies.compare import compare

    p = get_preset("clipping")
    print(compare(p.experiment, dict(p.contrast), steps=400).text)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import Experiment, parse_override
from ..train.run import tail_mean

__all__ = ["make_pair", "RunStats", "summarize", "compare", "Comparison"]


def make_pair(exp: Experiment, changes: dict | list[str]) -> tuple[Experiment, Experiment, dict]:
    """A = ``exp``; B = ``exp`` with ``changes`` (``{key: value}`` or ``["key=value", ...]``), validated as a whole.
    Returns ``(A, B, diff)`` with ``diff = {key: (value in A, value in B)}``."""
    if isinstance(changes, (list, tuple)):
        changes = dict(parse_override(c) for c in changes)
    b = exp.with_changes(changes)
    diff = {k: (va, vb) for k, (vb, va) in b.diff(exp).items()}
    if not diff:
        raise ValueError("B is identical to A: pick a setting with a different value")
    return exp, b, diff


@dataclass
class RunStats:
    """What a run did so far, accumulated from its snapshots (row i is step i + 1; a reset or a rewind
    truncates)."""

    step: int = 0
    losses: list = field(default_factory=list)
    grads: list = field(default_factory=list)
    clips: list = field(default_factory=list)
    metric: float = float("nan")
    explosion: object = None

    def update(self, snap) -> None:
        """Add a snapshot's history rows (``snap.history``: column -> (n,) array) and its latest scalars."""
        self._add_rows(snap.history, snap.step)
        self.step = snap.step
        if snap.metric == snap.metric or snap.step == 0:
            self.metric = snap.metric
        self.explosion = snap.explosion

    @classmethod
    def from_trainer(cls, trainer) -> "RunStats":
        """The statistics of a trainer's whole run, as the app accumulates them from its snapshots: every history
        row (the one of an explosion included), the step count, the held-out success rate as last measured
        (every ``training.eval_every`` steps) and the explosion."""
        s = cls()
        s._add_rows(trainer.history.since(0), trainer.step_count)
        s.step, s.metric, s.explosion = trainer.step_count, trainer.metric, trainer.explosion
        return s

    def _add_rows(self, h: dict, step: int) -> None:
        steps = np.asarray(h.get("step", ()), dtype=float)
        if steps.size:
            keep = int(steps[0]) - 1  # rows before the first new step stay
            del self.losses[keep:], self.grads[keep:], self.clips[keep:]
            self.losses.extend(float(v) for v in h["loss"])
            self.grads.extend(float(v) for v in h["grad_norm"])
            self.clips.extend(float(v) for v in h["clipped"])
        elif step < len(self.losses):
            del self.losses[step:], self.grads[step:], self.clips[step:]

    @property
    def max_grad(self) -> float:
        g = [v for v in self.grads if v == v]
        return max(g) if g else 0.0

    @property
    def clipped(self) -> int:
        return int(np.nansum(self.clips)) if self.clips else 0

    def recent_loss(self) -> float:
        """The loss at the end of the run: :func:`rnnlab.train.run.tail_mean` of the losses (NaN before the first
        step, ``inf`` when none of the tail is finite)."""
        return tail_mean(self.losses)


def _fmt(v: float) -> str:
    return "—" if v != v else ("∞" if math.isinf(v) else f"{v:.3g}")


def summarize(a: RunStats, b: RunStats, diff: dict, baseline=None) -> str:
    """One paragraph stating the difference (plain text)."""
    changed = "; ".join(f"{k}: A = {va!r}, B = {vb!r}" for k, (va, vb) in diff.items())
    parts = [f"B differs from A only in {changed} (same seed, same data)."]
    for name, s in (("A", a), ("B", b)):
        if s.explosion is not None:
            parts.append(f"{name} exploded at step {s.explosion.step} ({s.explosion.what}).")
    parts.append(f"Loss over the last 10 % of steps: A {_fmt(a.recent_loss())}, B {_fmt(b.recent_loss())}"
                 + (f" (baseline {baseline.loss:.3g})." if baseline is not None else "."))
    parts.append(f"Held-out success: A {_fmt(100 * a.metric)} %, B {_fmt(100 * b.metric)} %"
                 + (f" (baseline {100 * baseline.success_rate:.0f} %)." if baseline is not None else "."))
    if a.max_grad > 0 and b.max_grad > 0 and math.isfinite(a.max_grad) and math.isfinite(b.max_grad):
        ratio = max(a.max_grad, b.max_grad) / min(a.max_grad, b.max_grad)
        bigger = "A" if a.max_grad > b.max_grad else "B"
        parts.append(f"Largest gradient norm: A {_fmt(a.max_grad)}, B {_fmt(b.max_grad)} "
                     f"({bigger} {ratio:.3g}× larger).")
    else:
        parts.append(f"Largest gradient norm: A {_fmt(a.max_grad)}, B {_fmt(b.max_grad)}.")
    if a.clipped or b.clipped:
        parts.append(f"Clipping fired on {a.clipped} steps of A and {b.clipped} of B.")
    return " ".join(parts)


@dataclass
class Comparison:
    """Two headless runs and their statement: ``a``, ``b`` (:class:`RunStats`), ``diff`` (``{key: (value in A,
    value in B)}``), the task's ``baseline``, ``interrupted`` (Ctrl-C stopped a run) and ``text``, the paragraph
    of :func:`summarize`."""

    a: RunStats
    b: RunStats
    diff: dict
    baseline: object
    interrupted: bool
    text: str


def compare(exp: Experiment, changes: dict | list[str], steps: int, on_step=None) -> Comparison:
    """Train A = ``exp`` and B = ``exp`` with ``changes`` (see :func:`make_pair`) for ``steps`` updates each, one
    after the other, with :func:`rnnlab.train.run.run`, and state the difference as the app's compare window does.

    ``on_step(run, trainer)`` (``run`` is ``"A"`` or ``"B"``) is called after every update. A run that explodes
    stops there (as in the app); Ctrl-C stops the comparison with what was done so far (``interrupted``).
    Raises ConfigError for a bad change and ValueError when B equals A.
    """
    from ..train.run import run

    a_exp, b_exp, diff = make_pair(exp, changes)
    stats: dict = {}
    interrupted = False
    baseline = None
    for name, e in (("A", a_exp), ("B", b_exp)):
        if interrupted:
            break
        cb = None if on_step is None else (lambda tr, name=name: on_step(name, tr))
        res = run(e, steps, cb, evaluate=False)  # the held-out success as last measured, as the window shows
        stats[name] = RunStats.from_trainer(res.trainer)
        interrupted = res.interrupted
        if baseline is None:
            baseline = res.baseline
    a, b = stats.get("A", RunStats()), stats.get("B", RunStats())
    return Comparison(a, b, diff, baseline, interrupted, summarize(a, b, diff, baseline))
