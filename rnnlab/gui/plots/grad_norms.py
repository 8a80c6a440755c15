"""Gradient norms over training, on a log axis: the total ‖∂E/∂θ‖ (before clipping), its parts for W_hh, W_hx and
W_yh, the total after clipping where clipping fired, the clipping threshold, explosions and the setting changes.

Values are drawn as log10 (the axis reads in powers of ten); non-finite or zero norms are skipped. An explosion is
a history row whose ``grad_norm`` is +inf: a red star at the last finite total norm and a text naming the step.
"""

from __future__ import annotations

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
    axis_html,
    log10_safe,
    style_plot,
)

__all__ = ["GradNormsPlot"]

COLUMNS = ["step", "grad_W_hh", "grad_W_hx", "grad_W_yh", "grad_norm", "grad_norm_clipped", "clipped"]
#: their log10 (what is drawn), computed once per row as the rows arrive; "lg_after" is NaN where clipping did
#: not fire
LOG_COLUMNS = ["lg_W_hh", "lg_W_hx", "lg_W_yh", "lg_total", "lg_after"]
#: at most this many clip markers are drawn (evenly thinned beyond), so a run that always clips stays fast
MAX_CLIP_MARKERS = 400
EXPLOSION_RED = "#D00000"
#: the threshold and the clip markers (not a colour of the curves)
CLIP_COLOR = "#A23B72"
#: noisy per-step curves: Qt paints an antialiased pen wider than 1 px over thousands of zig-zagging points in
#: seconds (4 s for 4,000 points at 500 px), without antialiasing in ~15 ms; so streaming curves draw aliased
FAST = {"antialias": False, "skipFiniteCheck": True}


def set_finite(curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """``curve.setData`` with the finite points only (so the finite check can be skipped)."""
    ok = np.isfinite(y) & np.isfinite(x)
    curve.setData(x[ok], y[ok], skipFiniteCheck=True)


class GradNormsPlot(SnapshotPlot):
    """Per-step gradient norms (log10), clipping threshold and firings, explosions and events."""

    title = "Gradient norms"
    view_id = "grad_norms"
    label = "the gradient norms"
    description = r'''The gradient's norm at every training step, on a log axis: the total $\|\partial E/\partial
\theta\|$ before clipping (black) and its parts for $W_{hh}$, $W_{hx}$ and $W_{yh}$. With clipping on, the threshold
$c$ is drawn as a line, and the steps where clipping fired show the total after clipping:

$$\text{if } \|g\| > c: \quad g \leftarrow \frac{c}{\|g\|}\, g$$

A spike of several decades is an exploding gradient; a red star marks an explosion to infinity (then Rewind).
Vertical marks are setting changes.'''

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.plot, "Gradient norms", "training step", r"$\|\partial E/\partial\theta\|$ before clipping")
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.plot.setMenuEnabled(False)
        self.legend = pg.LegendItem(labelTextSize="11pt", colCount=3, frame=False)
        self.layout_widget.addItem(self.legend, row=1, col=0)
        self.parts = {}
        for i, name in enumerate(("grad_W_hh", "grad_W_hx", "grad_W_yh")):
            c = self.plot.plot([], [], pen=pg.mkPen(COLORS[i], width=PEN_WIDTH), **FAST)
            self.parts[name] = c
            # W_hh, W_hx, W_yh, set as formulas (the y axis says ‖∂E/∂θ‖)
            self.legend.addItem(c, axis_html(f"$W_{{{name[7:]}}}$"))
        self.total = self.plot.plot([], [], pen=pg.mkPen("#000000", width=PEN_WIDTH + 1), **FAST)
        self.legend.addItem(self.total, "total")
        # after clipping: NaN where clipping did not fire, so segments appear only where it acted
        # (solid: a dashed pen over thousands of noisy points takes seconds to paint)
        self.after = self.plot.plot([], [], pen=pg.mkPen(COLORS[4], width=PEN_WIDTH), connect="finite",
                                    antialias=False)
        self.legend.addItem(self.after, "after clip")
        self.clip_marks = pg.ScatterPlotItem(size=7, symbol="t", pen=None, brush=pg.mkBrush(CLIP_COLOR))
        self.plot.addItem(self.clip_marks)
        self.legend.addItem(self.clip_marks, "clip fired")
        self.threshold = pg.InfiniteLine(pos=0.0, angle=0, movable=False,
                                         pen=pg.mkPen(CLIP_COLOR, width=PEN_WIDTH, style=QtCore.Qt.PenStyle.DashLine),
                                         label="clip threshold",
                                         labelOpts={"position": 0.98, "color": CLIP_COLOR, "anchors": [(1, 0), (1, 1)],
                                                    "fill": pg.mkBrush(255, 255, 255, 210)})
        self.threshold.setZValue(15)
        self.threshold.setVisible(False)
        self.plot.addItem(self.threshold)
        self.boom = pg.ScatterPlotItem(size=22, symbol="star", pen=pg.mkPen("#000000", width=1),
                                       brush=pg.mkBrush(EXPLOSION_RED))
        self.boom.setZValue(20)
        self.plot.addItem(self.boom)
        self.boom_text = pg.TextItem("", color=EXPLOSION_RED, anchor=(1.0, 1.2))
        font = self.boom_text.textItem.font()
        font.setPointSize(12)
        font.setBold(True)
        self.boom_text.setFont(font)
        self.boom_text.setZValue(20)
        self.plot.addItem(self.boom_text, ignoreBounds=True)
        self.events = EventMarkers(self.plot)
        self.range = SteppedRange(self.plot)
        self.buf = SeriesBuffer(COLUMNS + LOG_COLUMNS)
        self.threshold_value: float | None = None
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        self.note_no_loss(snap, "gradient norms")
        h = snap.history
        if h and len(h.get("step", ())):
            nan = np.full(len(h["step"]), np.nan)
            rows = {c: h.get(c, nan) for c in COLUMNS}
            for c in ("W_hh", "W_hx", "W_yh"):
                rows["lg_" + c] = log10_safe(rows["grad_" + c])
            rows["lg_total"] = log10_safe(rows["grad_norm"])
            fired = np.asarray(rows["clipped"]) == 1
            rows["lg_after"] = np.where(fired, log10_safe(rows["grad_norm_clipped"]), np.nan)
            self.buf.append(rows)
        self.events.add(snap.events)
        r = snap.config.remedies if getattr(snap, "config", None) is not None else None
        if r is not None and r.clip == "norm" and not r.hessian_free:
            self.threshold_value = float(r.clip_threshold)
            self.threshold.setValue(float(np.log10(r.clip_threshold)))
            self.threshold.label.setFormat(f"clip threshold c = {r.clip_threshold:g}")
            self.threshold.setVisible(True)
        else:
            self.threshold_value = None
            self.threshold.setVisible(False)
        self._redraw()

    def _redraw(self) -> None:
        b = self.buf
        x = b.column("step")
        for name, c in self.parts.items():
            set_finite(c, x, b.column("lg_" + name[5:]))
        g = b.column("grad_norm")
        lg = b.column("lg_total")
        set_finite(self.total, x, lg)
        fired = b.column("clipped") == 1
        self.after.setData(x, b.column("lg_after"), connect="finite")
        idx = np.flatnonzero(fired & np.isfinite(lg))
        if idx.size > MAX_CLIP_MARKERS:
            idx = idx[np.linspace(0, idx.size - 1, MAX_CLIP_MARKERS).astype(int)]
        self.clip_marks.setData(x[idx], lg[idx])
        self._draw_explosions(x, g, lg)
        ys = [b.column("lg_" + n[5:]) for n in self.parts] + [lg]
        if self.threshold_value is not None:
            ys.append(np.array([np.log10(self.threshold_value)]))
        self.range.update(x, ys)
        self.set_has_data(b.n > 0)

    def _draw_explosions(self, x: np.ndarray, g: np.ndarray, lg: np.ndarray) -> None:
        boom = np.flatnonzero(np.isposinf(g))
        if boom.size == 0:
            self.boom.setData([], [])
            self.boom_text.setText("")
            return
        ys = []
        for i in boom:
            prev = lg[:i][np.isfinite(lg[:i])]
            ys.append(prev[-1] if prev.size else 0.0)
        self.boom.setData(x[boom], ys)
        last = boom[-1]
        self.boom_text.setText(f"exploded at step {int(x[last])}: ‖∂E/∂θ‖ = ∞")
        self.boom_text.setPos(float(x[last]), float(ys[-1]))

    def clear_data(self) -> None:
        self.range.reset()
        self.buf.clear()
        self.events.truncate(-np.inf)
        self._redraw()
        self.threshold.setVisible(False)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """The history columns drawn (before the log10): step, the three parts, total, after clipping, fired."""
        header, data = self.buf.table()
        return header[: len(COLUMNS)], data[:, : len(COLUMNS)]
