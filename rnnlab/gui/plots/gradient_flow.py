"""Gradient flow: how much the loss at step t sends back to the state at an earlier step k.

``snap.gradient_flow`` is the (T, T) array ``F[t, k] = log10 ‖∂E_t/∂h_k‖``: NaN above the diagonal and on the rows
of steps that carry no loss. It is drawn like the ∂h_t/∂h_k heatmap (rows t from the top, columns k, the same
diverging colours and fixed levels, so equal colours mean equal decades in both maps).

Tasks scored only at the last step (temporal order, addition, …) have a single defined row, one pixel high in the
image. So a strip below the image always draws the last scored row as a curve against k (sharing the image's k
axis): "how far back does the final loss reach?", readable for every task.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .base import PEN_WIDTH, Log10Axis, axis_html, style_plot
from .heatmap import LEFT_AXIS_WIDTH, LogMatrixPlot

__all__ = ["GradientFlowPlot"]


class GradientFlowPlot(LogMatrixPlot):
    """``snap.gradient_flow``: log10 ‖∂E_t/∂h_k‖ (rows t with a loss, columns k ≤ t) plus the last scored row as a
    curve."""

    title = "Gradient flow ∂E_t/∂h_k"
    field = "gradient_flow_log10"
    view_id = "gradient_flow"
    label = "the gradient flow ∂E_t/∂h_k"
    description = r'''How much of the loss at step $t$ reaches the state at an earlier step $k$: row $t$, column $k
\le t$, colour $\log_{10} \|\partial E_t/\partial h_k\|$, in the heatmap's colours (equal colours mean equal decades
in both maps). By the chain rule,

$$\frac{\partial E_t}{\partial h_k} = \frac{\partial E_t}{\partial h_t} \frac{\partial h_t}{\partial h_k}$$

so each row is the heatmap's row $t$ seen through the error at step $t$. Only steps with a loss have a row. A task
scored at the last step has just one, so the strip below draws the last scored row as a curve against $k$: how far
back the final loss reaches. The terms with $k \ll t$ are the long-term contributions to $\partial E/\partial W$.'''
    quantity = "log10 ‖∂E_t/∂h_k‖"
    bar_title = r"$\log_{10} \|\partial E_t/\partial h_k\|$"
    plot_title = "Gradient flow"
    waiting_text = ("Waiting for the first diagnostics snapshot\n(the gradient flow is computed every few steps)")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.strip = self.layout_widget.addPlot(row=1, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.strip, "", "step $k$ (earlier)", r"$\|\partial E_t/\partial h_k\|$")
        self.strip.setXLink(self.plot)
        self.strip.setMenuEnabled(False)
        self.strip.hideButtons()
        self.strip.setMaximumHeight(150)
        self.strip.setMinimumHeight(80)
        self.strip.getAxis("left").setWidth(LEFT_AXIS_WIDTH)  # k axis lines up with the image's
        self.plot.setLabel("bottom", "")
        self.plot.getAxis("bottom").setHeight(28)
        self.row_curve = self.strip.plot([], [], pen=pg.mkPen("#0072B2", width=PEN_WIDTH), symbol="o",
                                         symbolSize=5, symbolBrush="#0072B2", symbolPen=None,
                                         skipFiniteCheck=True)
        self.row_t: int | None = None
        self.rows_defined: np.ndarray = np.zeros(0, dtype=int)
        self.one_row = False

    def update_snapshot(self, snap) -> None:
        super().update_snapshot(snap)
        if self.note_no_loss(snap, "gradient flow") and snap.diagnostics is not None:
            self.set_has_data(False)  # an all-NaN image would look like a blank plot: say why instead
        elif snap.diagnostics is None and self._data is None:
            self.set_empty_text(self.waiting_text)

    def _after_data(self, snap, data: np.ndarray) -> None:
        defined = np.flatnonzero(np.any(np.isfinite(data), axis=1))
        self.rows_defined = defined
        if defined.size == 0:
            self.row_t = None
            self.row_curve.setData([], [])
            self.strip.setTitle("no finite loss gradient", size=self.pt(11), color="#D55E00")
            self.detail = "no step carries a finite loss gradient"
            return
        f = self.picture_scale  # > 1: the engine averaged the picture over f × f steps (T > 1024)
        i = int(defined[-1])
        t = i * f
        self.row_t = t
        self._set_one_row(defined.size == 1)
        row = data[i, : i + 1]
        ok = np.isfinite(row)
        k = np.arange(i + 1, dtype=np.float64) * f
        self.row_curve.setSymbol("o" if ok.sum() <= 200 else None)  # thousands of dots: slow, and a line reads
        self.row_curve.setData(k[ok], row[ok], skipFiniteCheck=True)
        if self.one_row:  # the map is not shown: the curve's k axis spans the steps it has
            self.strip.setXRange(-0.5, t + 0.5, padding=0.02)
        rows = f"rows t = {t} … {t + f - 1}, averaged" if f > 1 else f"row t = {t}"
        if f > 1:
            self.strip.setTitle(f"{rows} as a curve", size=self.pt(11), color="#333333")
            self.detail = f"the last scored steps: {rows} over blocks of {f} steps"
        elif defined.size == 1:
            self.strip.setTitle(axis_html(rf"$\|\partial E/\partial h_k\|$ of the loss at $t = {t}$"), size=self.pt(12),
                                color="#000000")
            self.detail = (f"Only t = {t} carries a loss, so only its row is defined: the map would be one line, "
                           "drawn here as a curve")
        else:
            self.strip.setTitle(f"row t = {t} as a curve", size=self.pt(11), color="#333333")
            self.detail = f"{defined.size} steps carry a loss; the curve is row t = {t}"

    def _set_one_row(self, one: bool) -> None:
        """A task scored at one step only: the map (one defined row, an empty triangle) and its colour bar give
        their space to that row's curve; with several rows the map comes back."""
        if one == self.one_row:
            return
        self.one_row = one
        ci = self.layout_widget.ci
        left = self.strip.getAxis("left")
        if one:
            self.strip.setXLink(None)  # (a view box out of the scene would drive the curve's k range)
            ci.removeItem(self.plot)
            ci.removeItem(self.bar)
            self.strip.setMaximumHeight(100000)
            left.setWidth(None)  # nothing to line up with: as wide as its labels
        else:
            ci.addItem(self.plot, row=0, col=0)
            ci.addItem(self.bar, row=0, col=1)
            self.strip.setXLink(self.plot)
            self.strip.setMaximumHeight(150)
            left.setWidth(int(LEFT_AXIS_WIDTH * self.scale))  # the k axis lines up with the map's

    def _on_mouse_moved(self, pos) -> None:
        if not self.one_row:
            super()._on_mouse_moved(pos)

    def clear_data(self) -> None:
        super().clear_data()
        self._set_one_row(False)
        self.row_curve.setData([], [])
        self.strip.setTitle("")
        self.row_t = None
        self.rows_defined = np.zeros(0, dtype=int)
