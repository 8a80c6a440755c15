"""Lag profile: how fast the dependence on the past decays (or grows) with the distance d = t − k.

``snap.lag_profile[d]`` is the mean over t of log10 ‖∂h_t/∂h_{t−d}‖ (the heatmap's diagonals), and
``snap.lag_bound[d] = d·log10(γ·σ_max(W_hh)) + offset`` the seeds' upper bound for the vanilla cell: a straight line
in this log plot whose slope is log10(γσ_max). When γσ_max < 1 the bound forces the measured curve down
(vanishing gradients); when it is > 1 the bound allows, but does not force, explosion.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.cells import get_cell

from ._caption import add_caption
from .base import COLORS, PEN_WIDTH, Log10Axis, SnapshotPlot, style_plot

__all__ = ["LagProfilePlot"]


class LagProfilePlot(SnapshotPlot):
    """Measured log10 ‖∂h_t/∂h_{t−d}‖ (mean over t) against lag d, beside the bound d·log10(γσ_max) + offset."""

    title = "Lag profile"
    view_id = "lag_profile"
    label = "the lag profile"
    waiting_text = "Waiting for the first diagnostics snapshot\n(the lag profile is computed with the heatmap)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.plot, "Decay with the lag", "lag d = t − k",
                   "‖∂h_t/∂h_{t−d}‖")
        self.plot.setMenuEnabled(False)
        # the legend sits under the plot (never over the curves)
        self.legend = pg.LegendItem(labelTextSize="11pt", colCount=2, frame=False)
        self.layout_widget.addItem(self.legend, row=1, col=0)
        self.measured = self.plot.plot([], [], pen=pg.mkPen(COLORS[0], width=PEN_WIDTH + 1), symbol="o",
                                       symbolSize=6, symbolBrush=COLORS[0], symbolPen=None,
                                       skipFiniteCheck=True)
        self.bound = self.plot.plot([], [], pen=pg.mkPen(COLORS[1], width=PEN_WIDTH, style=QtCore.Qt.PenStyle.DashLine),
                                    skipFiniteCheck=True)
        self.legend.addItem(self.measured, "measured")
        self.legend.addItem(self.bound, "bound")
        self.caption = add_caption(self)
        # ‖·‖ = 1: above it the past is amplified, below it forgotten
        self.one = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen("#555555", width=1.5))
        self.plot.addItem(self.one, ignoreBounds=True)
        self._d = np.zeros(0)
        self._prof = np.zeros(0)
        self._bound = np.zeros(0)
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        d = snap.diagnostics
        prof, bound = (d.lag_profile, d.lag_bound) if d is not None else (None, None)
        if prof is None and bound is None:
            if not self.has_data:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        prof = np.asarray(prof if prof is not None else np.full(len(bound), np.nan), dtype=np.float64)
        bound = np.asarray(bound if bound is not None else np.full(len(prof), np.nan), dtype=np.float64)
        n = max(len(prof), len(bound))
        d = np.arange(n, dtype=np.float64)
        self._d, self._prof, self._bound = d, np.resize(prof, n), np.resize(bound, n)
        ok = np.isfinite(self._prof)
        self.measured.setSymbol("o" if n <= 60 else None)
        self.measured.setData(d[ok], self._prof[ok], skipFiniteCheck=True)
        ok = np.isfinite(self._bound)
        self.bound.setData(d[ok], self._bound[ok], skipFiniteCheck=True)
        cfg = getattr(snap, "config", None)
        text = ""
        if n > 1 and np.all(np.isfinite(self._bound[:2])):
            slope = float(self._bound[1] - self._bound[0])  # log10(γσ_max)
            gs = f"{10.0 ** slope:.3g}" if abs(slope) < 300 else f"10^{slope:.0f}"
            if slope < 0:
                text = f"bound d·log10(γσ_max) + offset, γσ_max = {gs} < 1: vanishing is forced"
            else:
                text = f"bound d·log10(γσ_max) + offset, γσ_max = {gs} ≥ 1: explosion is possible, not forced"
        text = "measured: geometric mean over t · " + text
        cell = get_cell(cfg.model.arch) if cfg is not None else None
        if cell is not None and not cell.seeds_bound_holds:
            text += f" · the bound is the vanilla RNN's ({cell.label} shown for comparison)"
        self.caption.setText(text)
        self.set_has_data(True)

    def clear_data(self) -> None:
        self.measured.setData([], [])
        self.bound.setData([], [])
        self.caption.setText("")
        self._d = self._prof = self._bound = np.zeros(0)
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        return (["lag_d", "mean_log10_norm", "log10_bound"],
                np.column_stack([self._d, self._prof, self._bound]) if self._d.size else np.zeros((0, 3)))
