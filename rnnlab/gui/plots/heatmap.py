"""The ∂h_t/∂h_k heatmap: how strongly the state at step t depends on the state at an earlier step k.

``snap.heatmap`` is the (T, T) array ``L[t, k] = log10 ‖∂h_t/∂h_k‖`` (NaN above the diagonal, where k > t and the
derivative is undefined; −inf where the product of Jacobians is exactly zero). It is drawn as an image with rows
t (t = 0 at the top, as in a matrix: later steps further down) and columns k, so the defined part is the lower-left
triangle and the diagonal (k = t, the identity) runs from the top left to the bottom right. Each row reads from the
distant past (left) to the present (the diagonal).

Colours: a diverging map centred on log10 = 0 (‖·‖ = 1): blue is vanishing (the past is forgotten), red is
exploding. The colour bar owns the levels; they stay fixed while training streams (default −8 … +8 decades),
the user drags the bar's handles, and :meth:`LogMatrixPlot.auto_levels` fits them once to the data shown.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from ...core.cells import get_cell
from ...train.snapshot import block_mean
from ...core.diagnostics import estimate_error_log10
from ._caption import add_caption
from .base import AXIS_FONT_PT, SnapshotPlot, axis_html, no_overlapping_ticks, style_plot

__all__ = ["HeatmapPlot", "LogMatrixPlot", "DIVERGING_MAP", "DEFAULT_LEVELS", "make_colorbar", "LEFT_AXIS_WIDTH",
           "MAX_DISPLAY"]

#: diverging, centred on 0: blue = small (vanishing), white = 1, red = large (exploding)
DIVERGING_MAP = "CET-D1A"
DEFAULT_LEVELS = (-8.0, 8.0)
#: fixed width of the left axis, so plots stacked under an image line up with it
LEFT_AXIS_WIDTH = 64


def make_colorbar(image: pg.ImageItem, layout: pg.GraphicsLayout, row: int, col: int, label: str,
                  levels: tuple[float, float], cmap: str = DIVERGING_MAP, rounding: float = 0.5) -> pg.ColorBarItem:
    """A vertical, interactive colour bar at (row, col) of ``layout`` that owns the levels of ``image``."""
    bar = pg.ColorBarItem(values=levels, colorMap=cmap, label=None, interactive=True, rounding=rounding,
                          width=18, pen=pg.mkPen("#333333", width=2), hoverPen=pg.mkPen("#D55E00", width=3),
                          hoverBrush="#D55E0030", colorMapMenu=False)
    bar.setImageItem(image)
    layout.addItem(bar, row=row, col=col)
    no_overlapping_ticks(bar.axis)
    bar.axis.setWidth(None)  # pyqtgraph fixes 45 px, too narrow for tick labels and a title at large fonts
    font = QtGui.QFont()
    font.setPointSize(AXIS_FONT_PT - 1)
    bar.axis.setTickFont(font)
    bar.axis.enableAutoSIPrefix(False)
    bar.axis.setLabel(axis_html(label), **{"font-size": f"{AXIS_FONT_PT}pt"})

    ref = weakref.ref(bar)  # (no reference cycle through the signal)

    def fit_title(*_):  # a bar shorter than its title (a long sequence in a small view) drops the title, not cut it
        bar = ref()
        if bar is None:
            return
        ax = bar.axis
        show = bool(ax.labelText) and ax.label.boundingRect().width() <= ax.geometry().height()
        if show != ax.label.isVisible():  # (showing it changes the axis' width, which calls this again)
            ax.showLabel(show)

    bar.axis.geometryChanged.connect(fit_title)
    bar.setToolTip("Drag the handles to change the colour scale; it then stays fixed while training runs.")
    return bar


#: non-finite cells: overflow (+∞, NaN where the value is defined) in hatched grey, exact zeros (−∞) in hatched
#: dark grey; never a colour of the map (a vanished gradient and an overflowed one must not look alike)
OVERFLOW_RGBA = (150, 150, 150, 255)
ZERO_RGBA = (70, 70, 70, 255)
HATCH_RGBA = (235, 235, 235, 255)


class NonFiniteOverlay:
    """An image over a matrix view painting its non-finite cells (hatched where cells are large enough), and a
    legend naming them."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(5)
        plot.addItem(self.image)
        self.legend = pg.LegendItem(offset=None, labelTextSize="9pt", brush=pg.mkBrush(255, 255, 255, 220),
                                    pen=pg.mkPen("#999999"))
        self.legend.setParentItem(plot.vb)
        self.counts = {"over": 0, "zero": 0}
        self._placing = False
        # in the view's top right corner, 6 px in, whatever its size: pyqtgraph re-anchors only when the parent's
        # geometry changes, so a legend that grew (longer text, presentation mode's larger font) stuck out past
        # the view's right edge, its border cut
        self._place()
        self.legend.geometryChanged.connect(self._place)
        plot.vb.sigResized.connect(self._place)
        self._samples = {}
        for key, rgba, text in (("over", OVERFLOW_RGBA, "overflow (∞ or NaN)"),
                                ("zero", ZERO_RGBA, "exactly 0 (underflow)")):
            brush = QtGui.QBrush(QtGui.QColor(*rgba), QtCore.Qt.BrushStyle.BDiagPattern)
            sample = pg.ScatterPlotItem(symbol="s", size=12, brush=brush, pen=pg.mkPen(QtGui.QColor(*rgba)))
            self._samples[key] = (sample, text)

    def _place(self) -> None:
        """Anchor the legend; hide it where the view is too small to hold it whole (the caption gives the same
        counts, :meth:`summary`)."""
        if self._placing:  # (moving or showing it signals a geometry change)
            return
        self._placing = True
        try:
            self.legend.anchor((1, 0), (1, 0), offset=(-6, 6))
            vb = self.plot.vb.boundingRect()
            fits = self.legend.width() <= vb.width() - 12 and self.legend.height() <= vb.height() - 12
            self.legend.setVisible(bool(self.counts["over"] or self.counts["zero"]) and fits)
        finally:
            self._placing = False

    def summary(self) -> str:
        """The counts in words, for a caption: "grey hatched: 12 cells overflowed (∞ or NaN), 3 cells exactly 0
        (underflow)", or "" when every cell is finite and nonzero."""
        parts = [f"{self.counts['over']} cells overflowed (∞ or NaN)"] if self.counts["over"] else []
        if self.counts["zero"]:
            parts.append(f"{self.counts['zero']} cells exactly 0 (underflow)")
        return f"grey hatched: {', '.join(parts)}" if parts else ""

    def set(self, overflow: np.ndarray, zero: np.ndarray, rect: QtCore.QRectF) -> None:
        """``overflow`` and ``zero``: boolean (rows, cols) masks of the cells to paint."""
        self.counts = {"over": int(overflow.sum()), "zero": int(zero.sum())}
        if not (self.counts["over"] or self.counts["zero"]):
            self.clear()
            return
        rows, cols = overflow.shape
        s = 4 if max(rows, cols) <= 200 else 1  # pixels per cell: hatching where it can be seen
        rgba = np.zeros((rows * s, cols * s, 4), dtype=np.ubyte)
        for mask, colour in ((overflow, OVERFLOW_RGBA), (zero, ZERO_RGBA)):
            big = np.kron(mask, np.ones((s, s), dtype=bool))
            rgba[big] = colour
        if s > 1:  # a light diagonal every 4 pixels
            yy, xx = np.mgrid[: rows * s, : cols * s]
            stripe = ((xx + yy) % 4 == 0) & (rgba[..., 3] > 0)
            rgba[stripe] = HATCH_RGBA
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(rect)
        self.image.setVisible(True)
        self.legend.clear()
        for key in ("over", "zero"):
            if self.counts[key]:
                sample, text = self._samples[key]
                self.legend.addItem(sample, f"{text}:<br>{self.counts[key]} cells")  # (narrow: presentation mode)
        self._place()  # (visible if it fits)

    def clear(self) -> None:
        self.counts = {"over": 0, "zero": 0}
        self.image.clear()
        self.image.setVisible(False)
        self.legend.clear()
        self.legend.setVisible(False)


def _fmt(v: float) -> str:
    if np.isnan(v):
        return "undefined"
    if v == -np.inf:
        return "−∞ (exactly 0)"
    if v == np.inf:
        return "+∞ (overflow)"
    return f"{v:+.2f}"


def _bands(data: np.ndarray) -> np.ndarray:
    """For display: a row t that was not computed (all NaN; a heatmap computed one row in n) shows the next
    computed row below it, restricted to k ≤ t, so the picture has bands instead of stripes. The data (hover,
    exports) keep their NaN rows."""
    missing = np.all(np.isnan(data), axis=1)
    if not missing.any() or missing.all():
        return data
    out = data.copy()
    T = data.shape[0]
    src = None
    for t in range(T - 1, -1, -1):
        if not missing[t]:
            src = t
        elif src is not None:
            out[t, : t + 1] = data[src, : t + 1]
    return out


#: the image drawn has at most this many pixels a side: a larger (T, T) array is averaged over square blocks first
#: (measured at T = 2000: converting and painting the full picture took 0.1–0.5 s of the window's time per frame)
MAX_DISPLAY = 1024


def _reduce(data: np.ndarray, limit: int = MAX_DISPLAY) -> np.ndarray:
    """For display only: ``data`` averaged over f × f blocks (f = ⌈side / limit⌉; NaN entries left out, so the
    upper triangle stays empty). The data themselves (hover, exports) are untouched."""
    f = max(1, -(-max(data.shape) // limit))
    return block_mean(data, f) if f > 1 else data


class LogMatrixPlot(SnapshotPlot):
    """A lower-triangular (T, T) array of log10 norms against (t, k), with a fixed-level colour bar and a hover
    read-out. Subclasses name the field (``field``) and the labels."""

    title = "log10 matrix"
    field = "jacobian_log10"  # the field of the snapshot's Diagnostics bundle
    quantity = "log10 ‖∂h_t/∂h_k‖"  # (plain: the hover read-out and the CSV header)
    #: the colour bar's title, set as a formula
    bar_title = r"$\log_{10} \|\partial h_t/\partial h_k\|$"
    #: short (a pyqtgraph title is as wide as its text, and plots sit three in a row)
    plot_title = r"$\|\partial h_t/\partial h_k\|$ heatmap"
    waiting_text = ("Waiting for the first diagnostics snapshot\n(the heatmap is computed every few steps)")
    bar_levels = DEFAULT_LEVELS
    #: steps per row and column of the data drawn (not ``scale``: that is presentation mode's font scale)
    picture_scale = 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0)
        style_plot(self.plot, self.plot_title, "step $k$ (earlier)", "step $t$ (later) ↓")
        self.plot.invertY(True)  # t = 0 at the top: a matrix, the present (diagonal) runs down to the right
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.vb.setAspectLocked(False)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(False)
        self.plot.addItem(self.image)
        self.plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.bar = make_colorbar(self.image, self.layout_widget.ci, 0, 1, self.bar_title, self.bar_levels)
        self.overlay = NonFiniteOverlay(self.plot)
        # the hover read-out: a plain label under the scene (it never pushes the plot around)
        self.readout = add_caption(self)
        self.detail = ""  # which norm, estimated or exact, which state (from the config)
        self.bar.sigLevelsChangeFinished.connect(self._refresh_idle)
        self._data: np.ndarray | None = None
        self._shape: tuple[int, ...] | None = None
        self._hint = "hover for values"
        self._idle_text = f"Blue: vanishing (≪ 1) · red: exploding (≫ 1) · {self._hint}"
        self.readout.setText(self._idle_text)
        self.plot.vb.setRange(xRange=(-0.5, 19.5), yRange=(-0.5, 19.5), padding=0)  # an empty 20 × 20 frame
        self.layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.set_has_data(False)

    # --- the snapshot ---------------------------------------------------------------------------------------------
    def _detail_for(self, snap) -> str:
        return ""

    def _display(self, snap, data: np.ndarray) -> np.ndarray:
        """The array drawn (the data themselves; the heatmap fills the rows it did not compute)."""
        return data

    def update_snapshot(self, snap) -> None:
        data = getattr(snap.diagnostics, self.field) if snap.diagnostics is not None else None
        if data is None:
            if self._data is None:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        data = np.asarray(data, dtype=np.float64)
        self._data = data.copy()
        #: steps per row and column of the data (> 1 when the engine averaged a long sequence, T > 1024)
        self.picture_scale = f = max(1, int(getattr(snap, "picture_scale", 1) or 1))
        shown = _reduce(self._display(snap, self._data))
        self.image.setImage(shown, autoLevels=False, levels=self.bar.levels())
        T, K = data.shape[0] * f, data.shape[1] * f  # in steps: a reduced image still covers every (t, k)
        defined = np.tril(np.ones(shown.shape, dtype=bool))  # k ≤ t; a NaN there is an overflow, not "undefined"
        # rows left NaN on purpose (not computed this time, no loss at that step) are not overflow; a map that is
        # NaN everywhere is (the state itself overflowed)
        rows_computed = ~np.all(np.isnan(shown), axis=1, keepdims=True)
        if not np.any(np.isfinite(shown[defined])) and np.isnan(shown[defined]).all():
            rows_computed[:] = True
        over = defined & rows_computed & (np.isnan(shown) | np.isposinf(shown))
        self.overlay.set(over, defined & np.isneginf(shown), QtCore.QRectF(-0.5, -0.5, K, T))
        if (data.shape, f) != self._shape:
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, K, T))
            # the limits first: the old ones (a shorter T) would clamp the new range
            self.plot.vb.setLimits(xMin=-0.5 - 0.25 * K, xMax=K - 0.5 + 0.25 * K, yMin=-0.5 - 0.25 * T,
                                   yMax=T - 0.5 + 0.25 * T)
            self.plot.vb.setRange(xRange=(-0.5, K - 0.5), yRange=(-0.5, T - 0.5), padding=0)
            self._shape = (data.shape, f)
        self.detail = self._detail_for(snap)
        self._after_data(snap, self._data)
        self._idle_text = self._range_text(self._data)
        self.readout.setText(self._idle_text)
        self.set_has_data(True)

    def _range_text(self, data: np.ndarray) -> str:
        fin = data[np.isfinite(data)]
        if fin.size == 0:
            return f"{self.detail or 'no finite value to show'} · {self._hint}"
        lo, hi = float(fin.min()), float(fin.max())
        blo, bhi = self.levels()
        beyond = " (beyond the colour bar: drag its handles)" if lo < blo or hi > bhi else ""
        nonfinite = self.overlay.summary()
        zero = f" · {nonfinite}" if nonfinite else ""
        detail = f"{self.detail} · " if self.detail else ""
        return f"{detail}log10 range {lo:+.1f} … {hi:+.1f}{beyond}{zero} · {self._hint}"

    def _refresh_idle(self, *_) -> None:
        if self._data is not None:
            self._idle_text = self._range_text(self._data)
            self.readout.setText(self._idle_text)

    def _after_data(self, snap, data: np.ndarray) -> None:
        """Hook for subclasses (drawn after the image is set)."""

    def clear_data(self) -> None:
        self._data = None
        self._shape = None
        self.image.clear()
        self.overlay.clear()
        self._idle_text = f"Blue: vanishing (≪ 1) · red: exploding (≫ 1) · {self._hint}"
        self.readout.setText(self._idle_text)
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """(t, k, value) for k ≤ t; with a picture averaged over f × f steps, one row per block at its first
        (t, k)."""
        header = ["t", "k", self.quantity.replace(" ", "_")]
        if self._data is None:
            return header, np.zeros((0, 3))
        t, k = np.nonzero(np.tril(np.ones(self._data.shape, dtype=bool)))
        f = self.picture_scale
        return header, np.column_stack([t * f, k * f, self._data[t, k]]).astype(np.float64)

    # --- levels ---------------------------------------------------------------------------------------------------
    def levels(self) -> tuple[float, float]:
        return tuple(float(v) for v in self.bar.levels())  # type: ignore[return-value]

    def set_levels(self, lo: float, hi: float) -> None:
        """Fix the colour scale to [lo, hi] decades (it then stays while training streams)."""
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            raise ValueError(f"colour levels must be finite with lo < hi, got ({lo}, {hi})")
        self.bar.setLevels((float(lo), float(hi)))
        self._refresh_idle()

    def auto_levels(self) -> tuple[float, float]:
        """Fit the colour scale once to the data shown: ±(largest |finite value|, rounded up to a whole decade),
        so 0 (‖·‖ = 1) stays the neutral colour. Returns the new levels."""
        m = 1.0
        if self._data is not None:
            v = self._data[np.isfinite(self._data)]
            if v.size:
                m = max(1.0, float(math.ceil(np.max(np.abs(v)))))
        self.set_levels(-m, m)
        return -m, m

    # --- hover read-out -------------------------------------------------------------------------------------------
    def value_at(self, t: int, k: int) -> float:
        """The value at steps (t, k) (with an averaged picture: of their block)."""
        f = self.picture_scale
        i, j = t // f, k // f
        if self._data is None or not (0 <= i < self._data.shape[0] and 0 <= j < self._data.shape[1]):
            return float("nan")
        return float(self._data[i, j])

    def readout_text(self, t: int, k: int) -> str:
        v = self.value_at(t, k)
        if k > t:
            return f"t = {t}, k = {k}: undefined (k is after t)"
        extra = ""
        if math.isfinite(v):
            extra = f"   (‖·‖ = {10.0 ** v:.3g})" if abs(v) < 300 else ""
        f = self.picture_scale
        mean = f" (mean over {f} × {f} steps)" if f > 1 else ""
        return f"t = {t}, k = {k}, {self.quantity} = {_fmt(v)}{extra}{mean}"

    def _on_mouse_moved(self, pos) -> None:
        if self._data is None:
            return
        vb = self.plot.vb
        if not vb.sceneBoundingRect().contains(pos):
            self.readout.setText(self._idle_text)
            return
        p = vb.mapSceneToView(pos)
        k, t = int(round(p.x())), int(round(p.y()))
        T, K = self._data.shape[0] * self.picture_scale, self._data.shape[1] * self.picture_scale
        if 0 <= t < T and 0 <= k < K:
            self.readout.setText(self.readout_text(t, k))
        else:
            self.readout.setText(self._idle_text)


class HeatmapPlot(LogMatrixPlot):
    """``snap.heatmap``: log10 ‖∂h_t/∂h_k‖ on the probe sequence (rows t, columns k ≤ t)."""

    title = "∂h_t/∂h_k heatmap"
    view_id = "heatmap"
    label = "the ∂h_t/∂h_k heatmap"
    description = r'''Each pixel is a pair of steps: row $t$ (later steps further down) and column $k \le t$
(earlier). Its colour is $\log_{10}$ of the norm of the Jacobian that carries a change of the state at step $k$ to
the state at step $t$, a product of $t - k$ one-step Jacobians (for the vanilla RNN, $\mathrm{diag}(f'(a_j))\, W$):

$$\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}$$

The diagonal ($k = t$) is the identity: norm 1, white. Blue is vanishing, $\|\partial h_t/\partial h_k\| \ll 1$:
step $t$ has forgotten step $k$. Red is exploding. Each row reads from the distant past (left) to the present (the
diagonal); every step away from the diagonal multiplies by one more factor, so a steady fade means a factor below 1
at every step.

The colour bar's levels stay fixed while training; drag its handles to change them. Hover a pixel for its value.'''
    quantity = "log10 ‖∂h_t/∂h_k‖"

    def _display(self, snap, data: np.ndarray) -> np.ndarray:
        return _bands(data) if snap.diagnostics.heatmap_stride > 1 else data

    def _detail_for(self, snap) -> str:
        cfg = getattr(snap, "config", None)
        if cfg is None:
            return ""
        d = snap.diagnostics
        norm = "spectral" if cfg.diagnostics.norm == "spectral" else "Frobenius"
        how = ""
        if d.heatmap_mode == "estimated":
            m = int(d.heatmap_probes or cfg.diagnostics.probes)
            spread, bias = estimate_error_log10(m)
            how = f", estimated with {m} probes (±{spread:.2g} decades per entry, bias ≥ {bias:.2g})"
        if d.heatmap_stride > 1:
            how += f", one row t in {d.heatmap_stride}"
        parts = get_cell(cfg.model.arch).state_parts
        state = f", of the state ({', '.join(parts)})" if len(parts) > 1 else ""
        note = " (the exact one would not stream)" if d.heatmap_note else ""
        return f"{norm} norm{how}{state}{note}"
