"""The Lyapunov spectrum: how fast nearby trajectories of the state separate (> 0) or merge (< 0).

Left: ``diagnostics.lyapunov``, the top exponents λ_1 ≥ λ_2 ≥ … ≥ λ_m (natural log per step) of the dynamics
driven by the probe sequence, against their index i, with the line λ = 0 marked. They come from the core's QR
(Benettin) iteration over the step Jacobians ∂s_t/∂s_{t−1} along the probe (:func:`rnnlab.core.diagnostics.
network_lyapunov`; the first 10 % of the steps are a transient, so short sequences give finite-time estimates).
λ_1 < 0: every small perturbation of the state dies out (ordered, the heatmap fades with the lag); λ_1 > 0: some
perturbation grows like e^(λ_1·(t−k)) (chaotic, the heatmap brightens with the lag); e^(λ_1) is the average growth
factor per step of ‖∂s_t/∂s_k‖ along the most expanding direction.

Right: λ_1 over training, one point per diagnostics snapshot (``snap.step``), with the line at 0 and the setting
changes (``snap.events``). A reset or rewind removes the points after it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ._caption import add_caption
from .base import COLORS, PEN_WIDTH, EventMarkers, SeriesBuffer, SnapshotPlot, SteppedRange, style_plot

__all__ = ["LyapunovPlot"]

COLUMNS = ["step", "lambda_1"]
ZERO_COLOR = "#555555"


class LyapunovPlot(SnapshotPlot):
    """Lyapunov exponents λ_i against i (0 marked), and λ_1 over training."""

    title = "Lyapunov exponents"
    view_id = "lyapunov"
    label = "the Lyapunov exponents"
    description = r'''Left: the top Lyapunov exponents $\lambda_1 \ge \lambda_2 \ge \dots$ (natural log per step) of
the network driven by the probe sequence, against their index $i$, with the line $\lambda = 0$. Right: $\lambda_1$
over training. They say how fast nearby trajectories of the state separate or merge; along the most expanding
direction, on average,

$$\left\|\frac{\partial s_t}{\partial s_k}\right\| \sim e^{\lambda_1 (t - k)}$$

$\lambda_1 < 0$: every small perturbation dies out (ordered: the heatmap fades with the lag, gradients vanish).
$\lambda_1 > 0$: some perturbation grows (chaotic: the heatmap brightens with the lag, gradients explode). They come
from a QR (Benettin) iteration over the step Jacobians; a short sequence gives finite-time estimates.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the Lyapunov exponents are computed every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        self.heading = lw.addLabel("Lyapunov exponents", row=0, col=0, colspan=2, size="12pt")
        # --- λ_i against i ---
        self.spec = lw.addPlot(row=1, col=0)
        style_plot(self.spec, "", "index $i$", r"$\lambda_i$ per step")
        self.spec.setTitle(None)
        self.spec.setMenuEnabled(False)
        self.spec.showGrid(x=False, y=True, alpha=0.25)
        self.curve = self.spec.plot([], [], pen=pg.mkPen(COLORS[0], width=PEN_WIDTH), symbol="o", symbolSize=8,
                                    symbolBrush=COLORS[0], symbolPen=None)
        # λ = 0: the border between ordered (below) and chaotic (above) dynamics
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen(ZERO_COLOR, width=2))
        self.spec.addItem(self.zero)  # in the bounds: 0 always stays in view
        # --- λ_1 over training ---
        self.series = lw.addPlot(row=1, col=1)
        style_plot(self.series, "", "training step", r"$\lambda_1$")
        self.series.setTitle(None)
        self.series.getAxis("bottom").setTickDensity(0.3)  # a narrow column: few step labels
        self.series.setMenuEnabled(False)
        self.l1_curve = self.series.plot([], [], pen=pg.mkPen(COLORS[1], width=PEN_WIDTH), symbol="o",
                                         symbolSize=5, symbolBrush=COLORS[1], symbolPen=None)
        self.zero_t = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen(ZERO_COLOR, width=2))
        self.series.addItem(self.zero_t)
        lw.ci.layout.setColumnStretchFactor(0, 2)  # a handful of exponents need less width than a series
        lw.ci.layout.setColumnStretchFactor(1, 3)
        self.caption = add_caption(self)
        self.events = EventMarkers(self.series)
        self.range = SteppedRange(self.series)
        self.buf = SeriesBuffer(COLUMNS)
        self.exponents = np.zeros(0)
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        self.events.add(snap.events)
        for ev in snap.events:  # a reset or a rewind removes the points after it (as the markers)
            if ev.text.startswith("reset"):
                self.buf.clear()
            elif ev.text.startswith("rewound"):
                self.buf.truncate_after(ev.step)
        d = snap.diagnostics
        if d is None:
            if not self.has_data:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        lam = np.asarray(d.lyapunov, dtype=np.float64).ravel()
        self.exponents = lam.copy()
        ok = np.isfinite(lam)
        i = np.arange(1, len(lam) + 1, dtype=np.float64)
        self.curve.setData(i[ok], lam[ok])
        self.spec.setXRange(0.5, max(len(lam), 1) + 0.5, padding=0.02)
        l1 = float(lam[0]) if lam.size else math.nan
        self.buf.append({"step": np.array([float(snap.step)]), "lambda_1": np.array([l1])})
        x, y = self.buf.column("step"), self.buf.column("lambda_1")
        fin = np.isfinite(y)
        self.l1_curve.setData(x[fin], y[fin])
        self.range.update(x, [y, np.array([0.0])])
        self.caption.setText(self._note(l1, len(lam), snap))
        self.set_has_data(True)

    @staticmethod
    def _note(l1: float, m: int, snap) -> str:
        """The caption (short: a narrow column)."""
        if not math.isfinite(l1):
            return "λ_1 is not finite (the state overflowed)"
        d = snap.diagnostics
        T = int(np.asarray(d.hidden).shape[0]) if d is not None and getattr(d, "hidden", None) is not None else 0
        growth = math.exp(l1) if l1 < 700 else math.inf
        if l1 < 0:
            verdict = "< 0: perturbations die out (ordered)"
        elif l1 > 0:
            verdict = "> 0: a perturbation grows (chaotic)"
        else:
            verdict = "= 0: neutral"
        along = f" over the {T} probe steps" if T else ""
        return f"λ_1 = {l1:.3g} {verdict}; ×{growth:.3g} per step · top {m} exponents{along}"

    def clear_data(self) -> None:
        self.range.reset()
        self.buf.clear()
        self.events.truncate(-np.inf)
        self.exponents = np.zeros(0)
        self.curve.setData([], [])
        self.l1_curve.setData([], [])
        self.caption.setText("")
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """Two tables side by side (padded with NaN): the exponents ``i, lambda_i`` of the last snapshot and the
        series ``step, lambda_1``."""
        header = ["i", "lambda_i"] + COLUMNS
        _, series = self.buf.table()
        lam = self.exponents
        n = max(len(series), len(lam))
        out = np.full((n, 4), np.nan)
        out[: len(lam), 0] = np.arange(1, len(lam) + 1)
        out[: len(lam), 1] = lam
        out[: len(series), 2:] = series
        return header, out
