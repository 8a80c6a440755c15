"""Lag profile: how fast the dependence on the past decays (or grows) with the distance d = t − k.

``diagnostics.lag_profile[d]`` is the mean over t of log10 ‖∂s_t/∂s_{t−d}‖ (the heatmap's diagonals), and
``diagnostics.lag_bound[d] = d·log10(b) + log10 ‖I‖`` the bound the cell states, b its ``step_bound``
(‖∂s_t/∂s_{t−1}‖₂ ≤ b: γ·σ_max(W_hh) for the vanilla cell, max α + max(1−α)·γ·σ_max(W_hh) for leaky units): a
straight line in this log plot whose slope is log10 b. When b < 1 the bound forces the measured curve down
(vanishing gradients); when b ≥ 1 it allows, but does not force, growth. A cell that states no bound (LSTM, GRU)
gets no line, and the caption says that none applies.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.cells import get_cell

from ..maths import set_math_text
from ._caption import add_caption
from .base import COLORS, PEN_WIDTH, Log10Axis, SnapshotPlot, style_plot

__all__ = ["LagProfilePlot"]


class LagProfilePlot(SnapshotPlot):
    """Measured log10 ‖∂s_t/∂s_{t−d}‖ (mean over t) against lag d, beside the cell's stated bound d·log10 b + offset."""

    title = "Lag profile"
    view_id = "lag_profile"
    label = "the lag profile"
    description = r'''How fast the dependence on the past decays, or grows, with the lag $d = t - k$. The measured
curve is the mean over $t$ of $\log_{10} \|\partial s_t/\partial s_{t-d}\|$: the heatmap's diagonals. The dashed
line is the bound the cell states: if one step's Jacobian has norm at most $b$,

$$\log_{10} \left\|\frac{\partial s_t}{\partial s_{t-d}}\right\| \le d \log_{10} b + \log_{10} \|I\|$$

a straight line of slope $\log_{10} b$; for the vanilla RNN $b = \gamma\, \sigma_{\max}(W_{hh})$. When $b < 1$ the
bound forces the measured curve down: vanishing gradients. When $b \ge 1$ it allows growth but does not force it.
LSTM and GRU cells state no bound, and no line is drawn.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the lag profile is computed with the heatmap)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.plot, "Decay with the lag", "lag $d = t - k$",
                   r"$\|\partial h_t/\partial h_{t-d}\|$")
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
        self._cell_label = "cell"
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
        self._cell_label = get_cell(cfg.model.arch).label if cfg is not None else "cell"
        d = snap.diagnostics
        set_math_text(self.caption, self._caption_text(d))
        self.set_has_data(True)

    def _caption_text(self, d) -> str:
        """What the bound line is, from the bundle (the cell states it; the view only reads it), in TeX: the
        formulas are typeset, the numbers are prose."""
        text = "measured: geometric mean over $t$"
        formula, b = getattr(d, "step_bound_tex", ""), float(getattr(d, "step_bound", np.nan))
        if not formula or not np.isfinite(self._bound).any():
            label = self._cell_label
            self.legend.getLabel(self.bound).setText("no bound stated")
            return (f"{text} · no bound on $\\|\\partial s_t/\\partial s_{{t-1}}\\|$ is stated for the {label}, so no "
                    "line is drawn")
        self.legend.getLabel(self.bound).setText("stated bound")
        bs = f"{b:.3g}" if 1e-300 < b < 1e300 else f"{b:.1e}"
        # what the bound forces is the core's reading (diagnostics.regime: "verdict: why"), quoted, not re-derived
        verdict = str(getattr(d, "regime", "")).split(":", 1)[0].strip()
        side = "<" if b < 1 else "≥"
        return (f"{text} · bound $d \\log_{{10}} b + \\log_{{10}} \\|I\\|$, $b = {formula}$ = {bs} {side} 1"
                + (f": {verdict}" if verdict else ""))

    def clear_data(self) -> None:
        self.measured.setData([], [])
        self.bound.setData([], [])
        set_math_text(self.caption, "")
        self._d = self._prof = self._bound = np.zeros(0)
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        return (["lag_d", "mean_log10_norm", "log10_bound"],
                np.column_stack([self._d, self._prof, self._bound]) if self._d.size else np.zeros((0, 3)))
