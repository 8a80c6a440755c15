"""Compare two runs that differ only in the settings the user picked (no Qt).

Both experiments keep the same seed, so they draw the same initial weights (when the model is unchanged) and the
same training batches; any difference on screen comes from the changed settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .config import Experiment, flat_dict, parse_override

__all__ = ["make_pair", "RunStats", "summarize"]


def make_pair(exp: Experiment, changes: dict | list[str]) -> tuple[Experiment, Experiment, dict]:
    """A = ``exp``; B = ``exp`` with ``changes`` (``{key: value}`` or ``["key=value", ...]``), validated as a whole.
    Returns ``(A, B, diff)`` with ``diff = {key: (value in A, value in B)}``."""
    if isinstance(changes, (list, tuple)):
        changes = dict(parse_override(c) for c in changes)
    b = exp.replace(**{k.replace(".", "__"): v for k, v in changes.items()})
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
        h = snap.history
        steps = np.asarray(h.get("step", ()), dtype=float)
        if steps.size:
            keep = int(steps[0]) - 1  # rows before the first new step stay
            del self.losses[keep:], self.grads[keep:], self.clips[keep:]
            self.losses.extend(float(v) for v in h["loss"])
            self.grads.extend(float(v) for v in h["grad_norm"])
            self.clips.extend(float(v) for v in h["clipped"])
        elif snap.step < len(self.losses):
            del self.losses[snap.step:], self.grads[snap.step:], self.clips[snap.step:]
        self.step = snap.step
        if snap.metric == snap.metric or snap.step == 0:
            self.metric = snap.metric
        self.explosion = snap.explosion

    @property
    def max_grad(self) -> float:
        g = [v for v in self.grads if v == v]
        return max(g) if g else 0.0

    @property
    def clipped(self) -> int:
        return int(np.nansum(self.clips)) if self.clips else 0

    def recent_loss(self) -> float:
        if not self.losses:
            return float("nan")
        k = max(1, len(self.losses) // 10)
        vals = [v for v in self.losses[-k:] if math.isfinite(v)]
        return float(np.mean(vals)) if vals else float("inf")


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
