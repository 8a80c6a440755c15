"""Two runs on the same axes (compare mode): loss, total gradient norm, held-out success and ρ(W_hh), A and B
one colour each. Fed with pairs of snapshots through :meth:`OverlayPlot.update_pair`."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .base import (
    COLORS,
    PEN_WIDTH,
    EventMarkers,
    Log10Axis,
    SeriesBuffer,
    SnapshotPlot,
    SteppedRange,
    log10_safe,
    style_plot,
)

__all__ = ["OverlayPlot"]

COLUMNS = ["step", "loss", "grad_norm", "metric", "spectral_radius"]
PANELS = (("loss", "Training loss", "loss E", True), ("grad_norm", "Gradient norm (before clipping)", "‖∂E/∂θ‖", True),
          ("metric", "Held-out success rate", "solved (%)", False), ("spectral_radius", "Spectral radius ρ(W_hh)",
                                                                         "ρ", True))
RUN_COLORS = {"A": COLORS[0], "B": COLORS[1]}


class OverlayPlot(SnapshotPlot):
    title = "Compare A and B"
    description = r'''Two runs on the same axes, A and B one colour each: the training loss, the total gradient norm
$\|\partial E/\partial \theta\|$ before clipping, the held-out success rate and the spectral radius of the
recurrence,

$$\rho(W_{hh}) = \max_i |\lambda_i(W_{hh})|$$

Both runs start from the same seed and data and differ by one setting, so a difference between the curves is that
setting's effect.'''
    empty_text = "Press Play to train both runs"

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.ranges: dict[str, SteppedRange] = {}
        self.bufs = {run: SeriesBuffer(COLUMNS) for run in "AB"}
        for i, (col, title, ylabel, log) in enumerate(PANELS):
            p = lw.addPlot(row=i // 2, col=i % 2, axisItems={"left": Log10Axis("left")} if log else None)
            style_plot(p, title, "training step", ylabel)
            p.addLegend(offset=(-10, 10))
            for run in "AB":
                self.curves[(col, run)] = p.plot([], [], pen=pg.mkPen(RUN_COLORS[run], width=PEN_WIDTH),
                                                 name=run, antialias=False, skipFiniteCheck=True)
            self.plots[col] = p
            self.ranges[col] = SteppedRange(p, manage_y=log)
            if not log:
                p.setYRange(0, 100, padding=0.05)
        self.events = {run: EventMarkers(self.plots["loss"]) for run in "AB"}
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:  # a single run draws as A
        self.update_pair(snap, None)

    def update_pair(self, snap_a, snap_b) -> None:
        for run, snap in (("A", snap_a), ("B", snap_b)):
            if snap is not None:
                self.bufs[run].append(snap.history)
        for col, _, _, log in PANELS:
            xs, ys = [], []
            for run in "AB":
                b = self.bufs[run]
                x, y = b.column("step"), b.column(col)
                y = log10_safe(y) if log else 100.0 * y
                ok = np.isfinite(y)
                self.curves[(col, run)].setData(x[ok], y[ok])
                xs.append(x)
                ys.append(y)
            self.ranges[col].update(np.concatenate(xs), ys if log else None)
        self.set_has_data(self.bufs["A"].n + self.bufs["B"].n > 0)

    def clear_data(self) -> None:
        for b in self.bufs.values():
            b.clear()
        for r in self.ranges.values():
            r.reset()
        self.update_pair(None, None)
        self.set_has_data(False)

    def data_table(self):
        ha, ra = self.bufs["A"].table()
        hb, rb = self.bufs["B"].table()
        n = max(len(ra), len(rb))
        pad = lambda r: np.vstack([r, np.full((n - len(r), r.shape[1]), np.nan)]) if len(r) < n else r  # noqa: E731
        return [f"A_{c}" for c in ha] + [f"B_{c}" for c in hb], np.hstack([pad(ra), pad(rb)])
