"""The status bar: step, steps per second, loss, ρ, σ_max, γ·σ_max and the clip rate of the recent steps."""

from __future__ import annotations

import collections
import math

import numpy as np
from PySide6 import QtWidgets

from .maths import set_math_tooltip
from .numbers import fmt, fmt_int

__all__ = ["StatusBar"]

#: the tooltip of γ·σ_max (equations typeset)
FACTOR_TIP = r"""The seeds' factor: every step back in time multiplies by at most $\gamma\, \sigma_{\max}$, so

$$\left\|\frac{\partial h_t}{\partial h_k}\right\| \le (\gamma\, \sigma_{\max})^{t-k}$$

Below 1, gradients surely vanish."""


def _f(v: float, fmt: str = ".4g") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


class StatusBar(QtWidgets.QStatusBar):
    FIELDS = ("step", "steps/s", "loss", "ρ", "σ_max", "γ·σ_max", "clip rate")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: dict[str, QtWidgets.QLabel] = {}
        for name in self.FIELDS:
            lab = QtWidgets.QLabel(f"{name}: —")
            lab.setMinimumWidth(90)
            lab.setStyleSheet("QLabel { padding: 0 6px; border-left: 1px solid palette(mid); }")  # fields apart
            self.addPermanentWidget(lab)
            self.labels[name] = lab
        self.labels["clip rate"].setToolTip("Fraction of the last 100 steps on which clipping fired")
        set_math_tooltip(self.labels["γ·σ_max"], FACTOR_TIP)
        self._clips: collections.deque[float] = collections.deque(maxlen=100)
        self._rate = float("nan")
        self._playing = False

    def set_playing(self, on: bool) -> None:
        """Paused: steps/s is 0 at once (a paused run sends no snapshots that would say so)."""
        self._playing = on
        if not on:
            self._rate = 0.0
            self.labels["steps/s"].setText("steps/s: 0")

    def update_snapshot(self, snap) -> None:
        clipped = snap.history.get("clipped")
        steps = snap.history.get("step")
        if steps is not None and len(steps) and self._clips and steps[0] <= self._last_step:
            self._clips.clear()
        if clipped is not None and len(clipped):
            self._clips.extend(float(c) for c in clipped if not math.isnan(c))
            self._last_step = float(steps[-1])
        if not self._playing:
            self._rate = 0.0
        elif snap.steps_per_second == snap.steps_per_second and snap.steps_per_second > 0:
            self._rate = snap.steps_per_second
        gs = snap.gamma * snap.sigma_max
        vals = {
            "step": fmt_int(snap.step),
            "steps/s": fmt_int(round(self._rate)) if self._rate == self._rate else "—",
            "loss": fmt(snap.loss, 4),
            "ρ": fmt(snap.rho),
            "σ_max": fmt(snap.sigma_max),
            "γ·σ_max": fmt(gs),
            "clip rate": _f(float(np.mean(self._clips)) if self._clips else float("nan"), ".0%"),
        }
        for k, v in vals.items():
            self.labels[k].setText(f"{k}: {v}")

    _last_step = -math.inf
