"""Saturation: the histogram of f'(a) over every step, unit and probe sequence, on [0, γ].

``snap.saturation = (counts, edges)``. Bars show the share of all values in each bin. Values near 0 are saturated
units (tanh or sigmoid driven far from 0, or ReLU units that are off): the Jacobian diag(f'(a))·W_hh passes no
gradient through them. Values near γ are units in their linear regime. The lowest bin is drawn in the warning
colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ._caption import add_caption
from .base import COLORS, SnapshotPlot, style_plot

__all__ = ["SaturationPlot"]

SATURATED = COLORS[1]
NORMAL = COLORS[0]


class SaturationPlot(SnapshotPlot):
    """Histogram of f'(a) on [0, γ] as bars (share of values, %), the saturated bin highlighted."""

    title = "Saturation"
    view_id = "saturation"
    label = "the saturation histogram"
    description = r'''The histogram of the derivative $f'(a)$ over every step, unit and probe sequence, on $[0,
\gamma]$; each bar is the share of all values in its bin. Every step of the backward pass multiplies by

$$\frac{\partial h_j}{\partial h_{j-1}} = \mathrm{diag}(f'(a_j))\, W$$

so a value near 0 (the lowest bin, in orange) is a saturated unit (tanh or sigmoid driven far from 0, or a ReLU that
is off): it passes no gradient back in time. Values near $\gamma$ are units in their linear regime.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the saturation histogram is computed every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0)
        style_plot(self.plot, "Saturation: $f'(a)$ of the units", "$f'(a)$", "share of values", yunits="%")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        # one shared pen (pyqtgraph 0.14 fails on an empty ``pens`` list); per-bar brushes
        self.bars = pg.BarGraphItem(x0=[], x1=[], height=[], pen=pg.mkPen("#FFFFFF", width=1), brush=NORMAL)
        self.plot.addItem(self.bars)
        self.note = add_caption(self, "Near 0: saturated units, which pass no gradient back in time · "
                                      "near γ: linear regime")
        self.counts = np.zeros(0)
        self.edges = np.zeros(0)
        self.gamma = 1.0
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        d = snap.diagnostics
        sat = (d.saturation_counts, d.saturation_edges) if d is not None else None
        if sat is None:
            if not self.has_data:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        counts, edges = (np.asarray(a, dtype=np.float64) for a in sat)
        self.counts, self.edges = counts.copy(), edges.copy()
        total = counts.sum()
        share = 100.0 * counts / total if total > 0 else np.zeros_like(counts)
        brushes = [pg.mkBrush(SATURATED if i == 0 else NORMAL) for i in range(len(counts))]
        self.bars.setOpts(x0=edges[:-1], x1=edges[1:], height=share, brushes=brushes)
        self.gamma = float(getattr(snap, "gamma", edges[-1]) or edges[-1])
        self.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        self.plot.setYRange(0.0, max(5.0, float(share.max()) * 1.08) if share.size else 100.0, padding=0)
        low = share[0] if share.size else 0.0
        self.note.setText(f"{low:.0f} % near 0 (orange): saturated units, which pass no gradient back in time · "
                          f"near γ = {self.gamma:g}: linear regime")
        self.set_has_data(True)

    def clear_data(self) -> None:
        self.counts = np.zeros(0)
        self.edges = np.zeros(0)
        self.bars.setOpts(x0=[], x1=[], height=[], brushes=None, brush=NORMAL)
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        header = ["bin_lo", "bin_hi", "count", "share_percent"]
        if self.counts.size == 0:
            return header, np.zeros((0, 4))
        total = self.counts.sum()
        share = 100.0 * self.counts / total if total > 0 else np.zeros_like(self.counts)
        return header, np.column_stack([self.edges[:-1], self.edges[1:], self.counts, share])
