"""Loss and task metric over training, in two stacked plots sharing the step axis.

Top: the minibatch loss (``history["loss"]``) on a log axis (losses fall over decades; log10 reads well for every
task), with the task's baseline loss (what a predictor that ignores the input achieves) as a dashed line.
Bottom: the held-out success rate (``history["metric"]``, measured every ``training.eval_every`` steps, NaN on the
others: only the measured points are drawn, connected) in percent, with the baseline success rate. Setting changes
(``snap.events``) are marked on both.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

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
from .grad_norms import FAST

__all__ = ["LossPlot"]

COLUMNS = ["step", "loss", "metric"]
BASELINE_TEXT = "baseline (learned nothing)"


def _baseline_line(color: str) -> pg.InfiniteLine:
    line = pg.InfiniteLine(pos=0.0, angle=0, movable=False,
                           pen=pg.mkPen(color, width=PEN_WIDTH, style=QtCore.Qt.PenStyle.DashLine),
                           label=BASELINE_TEXT,
                           # the text on the side facing the view's centre (never cut by the plot's edge)
                           labelOpts={"position": 0.98, "color": color, "anchors": [(1, 0), (1, 1)],
                                      "fill": pg.mkBrush(255, 255, 255, 210)})
    line.setZValue(15)
    line.setVisible(False)
    return line


class LossPlot(SnapshotPlot):
    """Minibatch loss (log10) and held-out success rate (%) against the training step, with baselines and
    events."""

    title = "Loss and success rate"
    view_id = "loss"
    label = "the loss and success rate"
    description = r'''Top: the minibatch loss on a log axis, with a dashed baseline, the loss of a predictor that
ignores the input. Bottom: the held-out success rate in percent, measured every few steps, with the baseline success
rate (chance). The loss is a sum over time,

$$E = \sum_t E_t$$

A loss that stays at the baseline means the network has not learned to use the input yet: on a long-range task, this
is what vanishing gradients look like from outside. Vertical marks are setting changes.'''

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        self.loss_plot = lw.addPlot(row=0, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.loss_plot, "Training loss", "", "loss $E$")
        self.metric_plot = lw.addPlot(row=1, col=0)
        style_plot(self.metric_plot, "Held-out success rate", "training step", "solved", yunits="%")
        self.metric_plot.setXLink(self.loss_plot)
        self.range = SteppedRange(self.loss_plot)  # x is shared with the success plot
        for p in (self.loss_plot, self.metric_plot):
            p.setDownsampling(auto=True, mode="peak")
            p.setClipToView(True)
            p.setMenuEnabled(False)
            p.getAxis("left").setWidth(70)  # the two step axes line up
        self.metric_plot.setYRange(0, 100, padding=0.06)
        self.metric_plot.getAxis("left").setTicks([[(v, f"{v}") for v in (0, 25, 50, 75, 100)],
                                                   [(v, "") for v in range(0, 101, 5)]])
        self.metric_plot.vb.setMouseEnabled(x=True, y=False)
        self.metric_plot.enableAutoRange(y=False)
        lw.ci.layout.setRowStretchFactor(0, 3)
        lw.ci.layout.setRowStretchFactor(1, 2)
        # aliased: noisy curves with an antialiased wide pen paint in seconds (see grad_norms.FAST)
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen(COLORS[0], width=PEN_WIDTH), symbolSize=5,
                                              symbolBrush=COLORS[0], symbolPen=None, **FAST)
        self.metric_curve = self.metric_plot.plot([], [], pen=pg.mkPen(COLORS[2], width=PEN_WIDTH), symbol="o",
                                                  symbolSize=5, symbolBrush=COLORS[2], symbolPen=None, **FAST)
        self.loss_base = _baseline_line("#555555")
        self.metric_base = _baseline_line("#555555")
        self.loss_plot.addItem(self.loss_base)
        self.metric_plot.addItem(self.metric_base, ignoreBounds=True)
        self.events = EventMarkers(self.loss_plot, self.metric_plot)
        self.buf = SeriesBuffer(COLUMNS)
        self.baseline = None
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        self.note_no_loss(snap, "loss")
        self.buf.append(snap.history)
        self.events.add(snap.events)
        self._set_baseline(getattr(snap, "baseline", None))
        name = getattr(snap, "task_name", "")
        if name:
            self.loss_plot.setTitle(f"Loss — {name}", size=self.pt(12))
        self._redraw()

    def _set_baseline(self, base) -> None:
        self.baseline = base
        lo = float(getattr(base, "loss", np.nan)) if base is not None else np.nan
        sr = float(getattr(base, "success_rate", np.nan)) if base is not None else np.nan
        ok_l = math.isfinite(lo) and lo > 0
        self.loss_base.setVisible(ok_l)
        if ok_l:
            self.loss_base.setValue(math.log10(lo))
            self.loss_base.label.setFormat(f"{BASELINE_TEXT}: {lo:.3g}")
        ok_s = math.isfinite(sr)
        self.metric_base.setVisible(ok_s)
        if ok_s:
            self.metric_base.setValue(100.0 * sr)
            self.metric_base.label.setFormat(f"{BASELINE_TEXT}: {100 * sr:.0f} %")

    def _redraw(self) -> None:
        b = self.buf
        x = b.column("step")
        ly = log10_safe(b.column("loss"))
        ok = np.isfinite(ly)
        self.loss_curve.setSymbol("o" if ok.sum() <= 30 else None)  # a few points: visible as dots
        self.loss_curve.setData(x[ok], ly[ok], skipFiniteCheck=True)
        m = b.column("metric")
        ok = np.isfinite(m)
        self.metric_curve.setSymbol("o" if ok.sum() <= 200 else None)
        self.metric_curve.setData(x[ok], 100.0 * m[ok], skipFiniteCheck=True)
        base = [log10_safe(np.array([self.baseline.loss]))] if self.baseline is not None else []
        self.range.update(x, [ly] + base)
        self.set_has_data(b.n > 0)

    def clear_data(self) -> None:
        self.range.reset()
        self.buf.clear()
        self.events.truncate(-np.inf)
        self._redraw()
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        return self.buf.table()
