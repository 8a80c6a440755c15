"""What every plot widget shares: the snapshot contract, log10 axes, growing time series, event markers,
empty states and exports.

Contract: a plot is a :class:`SnapshotPlot`; its only entry point is :meth:`SnapshotPlot.update` with a
:class:`~rnnlab.train.snapshot.Snapshot` (the controller merges the snapshots of one frame into one with
:meth:`Snapshot.merge`). Time-series plots append ``snap.history`` (rows since the previous snapshot); a row whose
step is not after the last one stored (a reset or a rewind) first truncates the stored series. Expensive fields
(heatmap, spectrum, …) are ``None`` when not computed for this snapshot: a plot then keeps what it shows.

The GUI holds no science: plots only draw arrays the core computed. Values arrive in log10 where they may
overflow (the heatmap, norms); :class:`Log10Axis` labels such an axis in powers of ten.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...texmath import TexError, tex_inline
from ...train.snapshot import DecimatedTable

__all__ = ["SnapshotPlot", "Log10Axis", "SeriesBuffer", "EventMarkers", "SteppedRange", "PEN_WIDTH", "COLORS",
           "style_plot", "log10_safe"]

PEN_WIDTH = 2
#: colour-blind-safe palette (Okabe–Ito), in the order curves are added
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
AXIS_FONT_PT = 11
TITLE_SIZE = "12pt"


def log10_safe(v: np.ndarray) -> np.ndarray:
    """log10 of positive values; NaN for non-positive or non-finite ones (so they are not drawn)."""
    v = np.asarray(v, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


class Log10Axis(pg.AxisItem):
    """An axis whose values are log10 of the quantity; ticks read as 10⁻⁶, 1, 10³ …"""

    _SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    _plain = False

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        out = []
        for v in values:
            if not math.isfinite(v):
                out.append("")
                continue
            e = round(v)
            if abs(v - e) > 1e-6 or (self._plain and -3 <= e < 4):
                out.append(self._mantissa_label(v))  # sub-decade ticks (short ranges only)
            elif e == 0:
                out.append("1")
            elif e == 1:
                out.append("10")
            else:
                out.append("10" + str(e).translate(self._SUP))
        return out

    def _mantissa_label(self, v: float) -> str:
        x = 10.0 ** v
        if 1e-3 <= x < 1e4:
            return f"{x:.4g}"
        e = math.floor(v + 1e-9)
        return f"{x / 10.0 ** e:.3g}·10" + str(e).translate(self._SUP)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
            return super().tickValues(minVal, maxVal, size)
        span = maxVal - minVal
        self._plain = span < 3.0  # short ranges read as plain numbers (0.002, 0.005, 0.01)
        if span < 1.0 and maxVal < 300:
            # less than a decade: ticks of the quantity itself (e.g. 1.3, 1.35, 1.4), placed at their log10
            lin = super().tickValues(10.0 ** minVal, 10.0 ** maxVal, size)
            vals = [math.log10(x) for x in (lin[0][1] if lin else []) if x > 0]
            if len(vals) >= 2:
                return [(span, vals)]
        elif span < 3.0:
            # one to three decades: 1, 2, 5 × 10ⁿ (or 1, 3 × 10ⁿ when the axis is short), at least ~28 px apart
            for mants in ((1, 2, 5), (1, 3)):
                vals = [math.log10(m) + e for e in range(math.floor(minVal), math.ceil(maxVal) + 1) for m in mants]
                vals = [v for v in vals if minVal <= v <= maxVal]
                if len(vals) <= max(3.0, size / 28.0):
                    return [(1.0, vals)]
        step = max(1, int(math.ceil(span / min(6.0, max(2.0, size / 28.0)))))
        # round the step to 1, 2, 5, 10, 20, 50, ... decades
        for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
            if s >= step:
                step = s
                break
        first = math.ceil(minVal / step) * step
        major = list(np.arange(first, maxVal + 1e-9, step))
        return [(step, major)]


def axis_html(text: str) -> str:
    """A plot title or axis label written with ``$…$`` formulas as rich text (subscripts set as subscripts, not
    ``h_t``); text that is not valid TeX is escaped as it is."""
    try:
        return tex_inline(text)
    except TexError:
        import html

        return html.escape(text)


def style_plot(plot: pg.PlotItem, title: str, xlabel: str, ylabel: str, xunits: str | None = None,
               yunits: str | None = None) -> None:
    """Projector-readable axes: titles, labelled axes with units, 11 pt tick fonts, a light grid. The texts may
    hold ``$…$`` formulas (:func:`axis_html`)."""
    title, xlabel, ylabel = axis_html(title), axis_html(xlabel), axis_html(ylabel)
    plot.setTitle(title, size=TITLE_SIZE)
    font = QtGui.QFont()
    font.setPointSize(AXIS_FONT_PT)
    for name, label, units in (("bottom", xlabel, xunits), ("left", ylabel, yunits)):
        ax = plot.getAxis(name)
        ax.setLabel(label, units=units, **{"font-size": f"{AXIS_FONT_PT}pt"})
        ax.setTickFont(font)
        # pyqtgraph's SI prefixes ("k", "µ") would make log and step axes unreadable
        ax.enableAutoSIPrefix(False)
    plot.showGrid(x=True, y=True, alpha=0.25)
    cache_axes(plot)


def _thinned(specs, ax: pg.AxisItem | None = None):
    """Drop tick labels that would overlap one drawn before them (pyqtgraph emits the major level first, so the
    labels kept are the round ones): at any size and font scale, no tick label runs into another; and those that
    would stick out of the view (pyqtgraph lets an end label overhang its axis)."""
    if specs is None:
        return specs
    axis_spec, tick_specs, text_specs = specs
    visible = None
    view = ax.getViewWidget() if ax is not None and ax.scene() is not None else None
    if view is not None:
        visible = ax.mapRectFromScene(view.mapToScene(view.viewport().rect()).boundingRect())
    kept: list = []
    for spec in text_specs:
        if visible is not None and not visible.contains(QtCore.QRectF(spec[0])):
            continue
        r = QtCore.QRectF(spec[0]).adjusted(-3, -1, 3, 1)  # a little space between neighbours
        if any(r.intersects(k[0]) for k in kept):
            continue
        kept.append((r, spec))
    return axis_spec, tick_specs, [spec for _, spec in kept]


def no_overlapping_ticks(ax: pg.AxisItem) -> None:
    """Make ``ax`` drop tick labels that would overlap (idempotent)."""
    if getattr(ax, "_rnnlab_thinned", False):
        return
    generate = ax.generateDrawSpecs
    ax.generateDrawSpecs = lambda p, _g=generate: _thinned(_g(p), ax)
    ax._rnnlab_thinned = True
    # pyqtgraph reserves 0.8 × the axis title's height and moves the title 5 px back: with large fonts the title
    # then sits on the tick labels. Reserve the whole height (plus a 3 px gap) instead.
    for name, fn in (("_updateHeight", ax._updateHeight), ("_updateWidth", ax._updateWidth)):
        setattr(ax, name, lambda _f=fn, _w=(name == "_updateWidth"): _with_gap(ax, _f, _w))
    ax.picture = None


def _with_gap(ax: pg.AxisItem, update, horizontal: bool) -> None:
    update()
    fixed = ax.fixedWidth if horizontal else ax.fixedHeight
    if fixed is not None or not ax.isVisible() or not ax.label.isVisible():
        return
    extra = max(0.0, 0.2 * ax.label.boundingRect().height() - 5 + 3)
    if horizontal:
        w = ax.maximumWidth() + extra
        ax.setMaximumWidth(w)
        ax.setMinimumWidth(w)
    else:
        h = ax.maximumHeight() + extra
        ax.setMaximumHeight(h)
        ax.setMinimumHeight(h)


def plot_axes(layout: pg.GraphicsLayout) -> list[pg.AxisItem]:
    """Every axis of the plots and colour bars in a GraphicsLayout."""
    out = []
    for item in layout.items:
        if isinstance(item, pg.PlotItem):
            out += [item.getAxis(n) for n in ("left", "bottom", "right", "top")]
        elif isinstance(item, pg.ColorBarItem):
            out.append(item.axis)
    return out


def cache_axes(plot: pg.PlotItem) -> None:
    """No overlapping tick labels; keep each axis (ticks, labels and grid) as a cached pixmap: while streaming, a curve changes every frame but
    the axes rarely do, and replaying their drawing was most of the paint time (measured: ≈ 1 ms per axis per
    frame)."""
    for name in ("left", "bottom", "right", "top"):
        ax = plot.getAxis(name)
        no_overlapping_ticks(ax)
        ax.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _nice_ceil(v: float) -> float:
    """The next of 1, 2, 5 × 10ⁿ at or above v."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if m * e >= v:
            return m * e
    return 10 * e


class SteppedRange:
    """The view range of a streaming time series, changed in jumps instead of every frame.

    x grows to the next round number above 1.25 × the last step; y widens (with a 10 % margin) only when data leave
    the range, and narrows only when the data fill less than a quarter of it. The axes, and their cached pictures,
    therefore change a few times per run instead of 30 times a second (repainting them was most of the frame time).
    A zoom or pan by the user is respected until the plot's "A" (auto-range) button is pressed or the run resets.
    """

    def __init__(self, plot: pg.PlotItem, manage_y: bool = True):
        self.plot, self.manage_y = plot, manage_y
        self.vb = plot.getViewBox()
        self.user = False
        self.vb.sigRangeChangedManually.connect(self._manual)
        self._off()
        self.reset()

    def _off(self) -> None:
        self.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
        if self.manage_y:
            self.vb.disableAutoRange(axis=pg.ViewBox.YAxis)

    def _manual(self, *args) -> None:
        self.user = True

    def reset(self) -> None:
        self.xmax = None
        self.ylo = self.yhi = None
        self.user = False

    def update(self, x: np.ndarray, ys: list[np.ndarray] | None = None) -> None:
        auto = self.vb.state["autoRange"]
        if auto[0] or (self.manage_y and auto[1]):  # the "A" button: take over again
            self.user = False
            self.xmax = self.ylo = self.yhi = None
            self._off()
        if self.user or len(x) == 0:
            return
        last = float(np.nanmax(x))
        if self.xmax is None or last > self.xmax or last < 0.2 * self.xmax:
            self.xmax = _nice_ceil(max(10.0, 1.25 * last))
            self.vb.setXRange(0, self.xmax, padding=0.02)
        if not self.manage_y or not ys:
            return
        vals = np.concatenate([np.asarray(y, dtype=np.float64).ravel() for y in ys])
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            return
        lo, hi = float(vals.min()), float(vals.max())
        span = max(hi - lo, 0.1)
        if (self.ylo is None or lo < self.ylo or hi > self.yhi
                or (hi - lo) < 0.25 * (self.yhi - self.ylo) and self.yhi - self.ylo > 0.5):
            self.ylo, self.yhi = lo - 0.1 * span, hi + 0.1 * span
            self.vb.setYRange(self.ylo, self.yhi, padding=0)


class SeriesBuffer:
    """Columns of per-step values (the first is the step) in bounded memory, truncated on reset or rewind: the
    most recent rows at full resolution, older rows decimated with their per-column extremes kept, so a spike
    stays visible (:class:`rnnlab.train.snapshot.DecimatedTable`; at most 23,000 rows whatever the run length)."""

    def __init__(self, columns: list[str], capacity: int = 1024, **table_options):
        self.columns = list(columns)
        self._t = DecimatedTable(len(self.columns), capacity, **table_options)

    @property
    def n(self) -> int:
        return self._t.n

    def clear(self) -> None:
        self._t.clear()

    def truncate_after(self, step: float) -> None:
        """Drop the rows after ``step`` (a rewind)."""
        self._t.truncate_after(step)

    @property
    def last_step(self) -> float:
        return self._t.data[-1, 0] if self._t.n else -np.inf

    def append(self, hist: dict[str, np.ndarray], step_key: str = "step") -> None:
        """Append rows ``{column: (m,) array}``; the first column must be the step."""
        if not hist or step_key not in hist or len(hist[step_key]) == 0:
            return
        steps = np.asarray(hist[step_key], dtype=np.float64)
        rows = np.column_stack([np.asarray(hist.get(c, np.full(len(steps), np.nan)), dtype=np.float64)
                                for c in self.columns])
        # split where the step goes backwards (a reset or a rewind happened in between)
        cuts = np.flatnonzero(np.diff(steps) <= 0) + 1
        for seg in np.split(np.arange(len(steps)), cuts):
            if seg.size == 0:
                continue
            first = steps[seg[0]]
            if self._t.n and first <= self.last_step:
                self._t.truncate_after(first - 0.5)  # steps are whole numbers: keep those before `first`
            self._t.append_rows(rows[seg])

    def column(self, name: str) -> np.ndarray:
        """A view of one column (valid until the next append)."""
        return self._t.data[:, self.columns.index(name)]

    def table(self) -> tuple[list[str], np.ndarray]:
        return list(self.columns), self._t.data.copy()


class EventMarkers:
    """Vertical dashed lines, labelled, at the steps where a setting changed (on one or more plots)."""

    def __init__(self, *plots: pg.PlotItem):
        self.plots = plots
        self.items: list[tuple[float, list]] = []

    def add(self, events) -> None:
        for ev in events:
            # a reset or rewind removes the markers after it
            if ev.text.startswith("reset") or ev.text.startswith("rewound"):
                self.truncate(ev.step if ev.text.startswith("rewound") else -1)
                if ev.text.startswith("reset"):
                    continue
            if self.items and self.items[-1][0] == ev.step and self.items[-1][1]:
                # several changes at one step: one marker, one label (no overlapping texts)
                for i, (_, line) in enumerate(self.items[-1][1]):
                    if i == 0 and line.label is not None:
                        line.label.setFormat(self._short(line.toolTip().split(": ", 1)[-1] + "; " + ev.text))
                    line.setToolTip(line.toolTip() + "; " + ev.text)
                continue
            lines = []
            for i, p in enumerate(self.plots):
                line = pg.InfiniteLine(pos=ev.step, angle=90, movable=False,
                                       pen=pg.mkPen("#7f7f7f", width=1.5, style=QtCore.Qt.PenStyle.DashLine),
                                       label=self._short(ev.text) if i == 0 else None,
                                       labelOpts={"position": 0.97, "color": "#444444", "rotateAxis": (1, 0),
                                                  "anchors": [(1, 0), (1, 0)],  # reads downwards from the top
                                                  "fill": pg.mkBrush(255, 255, 255, 200)})
                line.setToolTip(f"step {ev.step}: {ev.text}")
                p.addItem(line, ignoreBounds=True)
                lines.append((p, line))
            self.items.append((ev.step, lines))

    @staticmethod
    def _short(text: str, n: int = 30) -> str:
        """Labels longer than a short plot is high are cut (the tooltip has the whole text)."""
        return text if len(text) <= n else text[: n - 1] + "…"

    def truncate(self, step: float) -> None:
        keep = []
        for s, lines in self.items:
            if s > step:
                for p, line in lines:
                    p.removeItem(line)
            else:
                keep.append((s, lines))
        self.items = keep

    def texts(self) -> list[tuple[float, str]]:
        out = []
        for s, lines in self.items:
            # the whole text (labels may be cut): the tooltip reads "step N: text"
            out.append((s, lines[0][1].toolTip().split(": ", 1)[-1] if lines else ""))
        return out


def _text_items(plot: pg.PlotItem) -> list:
    """The text items drawn in a plot: TextItems and the labels of its InfiniteLines."""
    out = []
    for it in plot.items:
        if isinstance(it, pg.TextItem):
            out.append(it)
        elif isinstance(it, pg.InfiniteLine) and getattr(it, "label", None) is not None:
            out.append(it.label)
    return out


def _scale_legend(legend: pg.LegendItem, scale: float) -> None:
    size = f"{9 * scale:.0f}pt"
    legend.setLabelTextSize(size)
    for _, label in legend.items:
        label.setText(label.text, size=size)


class _crisp_images:
    """While exporting to a vector format: every small image of the scene is enlarged by repeating its cells
    (nearest neighbour, at least ~1200 pixels across), so viewers that smooth embedded images keep sharp cells."""

    def __init__(self, scene):
        self.scene = scene
        self.saved = []

    def __enter__(self):
        for item in self.scene.items():
            if isinstance(item, pg.ImageItem) and item.image is not None and item.image.size:
                img = item.image
                rep = int(max(1, min(16, 1200 // max(img.shape[0], img.shape[1], 1))))
                if rep <= 1:
                    continue
                rect = QtCore.QRectF(item.mapRectToParent(item.boundingRect()))
                levels = item.levels
                self.saved.append((item, img, rect, levels))
                big = np.repeat(np.repeat(img, rep, axis=0), rep, axis=1)
                item.setImage(big, autoLevels=False, **({"levels": levels} if levels is not None else {}))
                item.setRect(rect)
        return self

    def __exit__(self, *exc):
        for item, img, rect, levels in self.saved:
            item.setImage(img, autoLevels=False, **({"levels": levels} if levels is not None else {}))
            item.setRect(rect)
        return False


def _export_pdf(view: pg.GraphicsView, path: Path) -> None:
    """The view's scene as a one-page vector PDF of the widget's size."""
    writer = QtGui.QPdfWriter(str(path))
    size = view.size()
    writer.setPageSize(QtGui.QPageSize(QtCore.QSizeF(size.width(), size.height()), QtGui.QPageSize.Unit.Point))
    writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
    writer.setResolution(72)
    painter = QtGui.QPainter(writer)
    try:
        view.scene().render(painter, QtCore.QRectF(0, 0, size.width(), size.height()),
                            QtCore.QRectF(view.mapToScene(view.rect()).boundingRect()))
    finally:
        painter.end()


#: behind the empty view's text ("Press Play …"): light, so that the plot's grid and labels under it recede
EMPTY_BACK = "rgba(255, 255, 255, 215)"


class SnapshotPlot(QtWidgets.QWidget):
    """Base class of the plot widgets.

    Subclasses build their pyqtgraph items once in ``__init__`` (inside ``self.layout_widget``, a
    ``pg.GraphicsLayoutWidget``) and implement :meth:`update_snapshot`, :meth:`clear_data` and :meth:`data_table`.
    """

    title = "plot"
    #: stable id of the view (lessons' ``watch``, layouts, exports, presentation mode) and how a lesson names it
    view_id = ""
    label = ""
    #: "What am I looking at?" (the view's context menu): what is drawn, how to read it, its equation; lesson-style
    #: text, ``$…$`` and ``$$…$$`` equations typeset (docs/lessons.md)
    description = ""
    #: shown over the plot until the first data arrive
    empty_text = "Press Play (Space) to start training"

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground("w")
        # plots are driven by the mouse; keyboard focus stays with the window so Space / → / S / R always work
        self.layout_widget.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.layout_widget)
        # "What am I looking at?": the view's right-click menu (and pyqtgraph's plot menu, where a view enables it)
        self.help_action = QtGui.QAction("What am I looking at?", self)
        self.help_action.triggered.connect(self.show_help)
        self.layout_widget.scene().contextMenu.append(self.help_action)
        self._empty = QtWidgets.QLabel(self.empty_text, self)
        self._empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)  # large fonts in a small view: wrapped, never clipped
        self._empty.setStyleSheet(f"color: #777777; font-size: 13pt; background: {EMPTY_BACK};")
        self._empty.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._empty_vb = None  # the viewbox the empty text follows (:meth:`_place_empty`)
        self.has_data = False

    # --- help -------------------------------------------------------------------------------------------------
    def show_help(self) -> QtWidgets.QDialog:
        """Open this view's "What am I looking at?" window (its :attr:`description`)."""
        from ..help import show_view_help

        return show_view_help(self)

    def contextMenuEvent(self, ev: QtGui.QContextMenuEvent) -> None:  # noqa: N802 (Qt naming)
        # a plot whose pyqtgraph menu is on shows that menu, which carries the entry (see __init__); everywhere
        # else (the views switch that menu off) a menu with the entry
        pos = self.layout_widget.mapFrom(self, ev.pos())
        if self.layout_widget.rect().contains(pos):
            under = self.layout_widget.scene().items(self.layout_widget.mapToScene(pos))
            if any(isinstance(i, pg.ViewBox) and i.menuEnabled() for i in under):
                ev.ignore()
                return
        menu = QtWidgets.QMenu(self)
        menu.addAction(self.help_action)
        menu.exec(ev.globalPos())
        ev.accept()

    # --- the entry point --------------------------------------------------------------------------------------
    def update(self, snap) -> None:  # type: ignore[override]  (QWidget.update() without arguments still works)
        """Draw a (merged) snapshot."""
        if snap is None:
            return super().update()
        self.update_snapshot(snap)

    def update_snapshot(self, snap) -> None:
        raise NotImplementedError

    def clear_data(self) -> None:
        """Forget everything drawn (a new run)."""
        raise NotImplementedError

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """The plotted data as (header, rows) for CSV export."""
        raise NotImplementedError

    # --- empty state ------------------------------------------------------------------------------------------
    def set_has_data(self, has: bool) -> None:
        self.has_data = has
        self._empty.setVisible(not has)

    def set_empty_text(self, text: str) -> None:
        self._empty.setText(text)
        self._place_empty()

    def _place_empty(self, *_args) -> None:
        """The empty view's text over the first plot's data area, where it fits (in a view of two stacked plots,
        centred on the whole view it lay across the lower plot's title), else over the whole view."""
        area = self.rect()
        for item in self.layout_widget.ci.items:
            if not isinstance(item, pg.PlotItem) or not item.isVisible():
                continue
            vb = item.vb
            if self._empty_vb is not vb:
                self._empty_vb = vb
                vb.sigResized.connect(self._place_empty)  # the layout settles after the view's own resize
            poly = self.layout_widget.mapFromScene(vb.sceneBoundingRect()).boundingRect()
            r = QtCore.QRect(self.layout_widget.mapTo(self, poly.topLeft()), poly.size()) & self.rect()
            if r.width() >= 120 and self._empty.heightForWidth(r.width()) <= r.height():
                area = r
            break
        # a box just around the text, centred in the area: on its light background the text stays readable over
        # the plot's own labels (a baseline's, in a low plot, where the text wraps)
        lab = self._empty
        w = min(area.width(), lab.fontMetrics().horizontalAdvance(lab.text()) + 24)
        box = QtCore.QRect(0, 0, w, min(area.height(), lab.heightForWidth(w)))
        box.moveCenter(area.center())
        lab.setGeometry(box)

    _no_loss = ""

    def note_no_loss(self, snap, what: str) -> bool:
        """For the views drawn from the loss: when the snapshot's diagnostics say there is no loss (an imported
        layer without a readout, data without targets), the empty view says why. Returns whether there is none."""
        d = getattr(snap, "diagnostics", None)
        if d is not None:
            self._no_loss = getattr(d, "loss_note", "")
        self._empty.setWordWrap(True)
        # over the empty axes, on white: a long reason must stay readable
        back = "rgba(255, 255, 255, 235); padding: 12px" if self._no_loss else EMPTY_BACK
        self._empty.setStyleSheet(f"color: #555555; font-size: {13 * self.scale:.0f}pt; background: {back};")
        self.set_empty_text(f"No {what}: {self._no_loss}." if self._no_loss else self.empty_text)
        return bool(self._no_loss)

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        self._place_empty()
        if ev.size().height() != ev.oldSize().height():  # a caption may take up to a share of the height
            for lab in self.findChildren(QtWidgets.QLabel):
                if hasattr(lab, "refit"):
                    lab.refit()

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        """A word-wrapped caption must not make the view claim a height for its width: the plot area shares its
        rows out evenly (otherwise a row of captioned views squeezes the next row to nothing)."""
        return False

    # --- presentation ---------------------------------------------------------------------------------------------
    scale = 1.0

    def pt(self, size: float) -> str:
        """A font size scaled for the current mode (for titles a plot sets while streaming)."""
        return f"{size * self.scale:.0f}pt"

    def set_scale(self, scale: float) -> None:
        """Scale fonts and line widths for a projector (1 = normal, about 1.6 for presentation mode).

        Works on what was built: every PlotItem's title, axis labels and tick fonts, and every curve's pen width,
        relative to the widths they had at scale 1.
        """
        scale = float(scale)
        self.scale = scale
        for item in self.layout_widget.ci.items:
            if isinstance(item, pg.LabelItem) and item.text:  # headings made with addLabel
                item.setText(item.text, size=f"{12 * scale:.0f}pt")
            if isinstance(item, pg.LegendItem):
                _scale_legend(item, scale)
            if not isinstance(item, pg.PlotItem):
                continue
            t = item.titleLabel
            if t.text:
                t.setText(t.text, size=f"{12 * scale:.0f}pt")
            if item.legend is not None:
                _scale_legend(item.legend, scale)
            for child in item.vb.childItems():  # legends over the data (the heatmaps' non-finite cells)
                if isinstance(child, pg.LegendItem) and child is not item.legend:
                    _scale_legend(child, scale)
            for name in ("left", "bottom", "right", "top"):
                ax = item.getAxis(name)
                if not ax.isVisible():
                    continue
                for attr, setter in (("fixedWidth", ax.setWidth), ("fixedHeight", ax.setHeight)):
                    base = ax.property(f"rnnlab_base_{attr}")
                    if base is None and getattr(ax, attr) is not None:
                        base = getattr(ax, attr)
                        ax.setProperty(f"rnnlab_base_{attr}", base)
                    if base is not None and getattr(ax, attr) is not None:  # (still fixed)
                        setter(int(base * scale))
                saved = ax.property("rnnlab_base_axis")  # what the axis had at scale 1: restored exactly
                if saved is None:
                    tf = ax.style.get("tickFont")
                    saved = {"tick": QtGui.QFont(tf) if tf is not None else None, "label": dict(ax.labelStyle),
                             "pen": pg.mkPen(ax.pen())}
                    ax.setProperty("rnnlab_base_axis", saved)
                if scale == 1.0:
                    ax.setTickFont(saved["tick"])
                    ax.setLabel(ax.labelText, units=ax.labelUnits, unitPrefix=ax.labelUnitPrefix, **saved["label"])
                    ax.setPen(saved["pen"])
                    continue
                f = QtGui.QFont(saved["tick"]) if saved["tick"] is not None else QtGui.QFont()
                f.setPointSizeF((saved["tick"].pointSizeF() if saved["tick"] is not None else AXIS_FONT_PT) * scale)
                f.setBold(scale > 1.2)
                ax.setTickFont(f)
                style = {**saved["label"], "font-size": f"{AXIS_FONT_PT * scale:.0f}pt"}
                ax.setLabel(ax.labelText, units=ax.labelUnits, unitPrefix=ax.labelUnitPrefix, **style)
                ax.setPen(pg.mkPen("k", width=scale))
            for ti in _text_items(item):  # reference labels, marker labels, annotations
                f = ti.textItem.font()
                base = ti.property("rnnlab_base_pt")
                if base is None:
                    base = f.pointSizeF() if f.pointSizeF() > 0 else QtGui.QFont().pointSizeF()
                    ti.setProperty("rnnlab_base_pt", base)
                f.setPointSizeF(base * scale)
                ti.setFont(f) if hasattr(ti, "setFont") else ti.textItem.setFont(f)
            for di in item.listDataItems():
                pen = di.opts.get("pen")
                if pen is None or not hasattr(di, "setPen"):
                    continue
                pen = pg.mkPen(pen)
                base = di.property("rnnlab_base_width")
                if base is None:
                    base = pen.widthF() or 1.0
                    di.setProperty("rnnlab_base_width", base)
                pen.setWidthF(base * scale)
                di.setPen(pen)
        for lab in self.findChildren(QtWidgets.QLabel):
            if lab is self._empty:
                lab.setStyleSheet(f"color: #555555; font-size: {13 * scale:.0f}pt; background: {EMPTY_BACK};")
                self._place_empty()  # (a larger text may need the whole view)
            elif "font-size" in lab.styleSheet():
                base = lab.property("rnnlab_base_css")
                if base is None:
                    base = lab.styleSheet()
                    lab.setProperty("rnnlab_base_css", base)
                import re as _re

                lab.setStyleSheet(_re.sub(r"font-size: *([0-9.]+)pt",
                                          lambda m: f"font-size: {float(m.group(1)) * scale:.0f}pt", base))
                if hasattr(lab, "refit"):  # a caption: as tall as its text at the new font (plots/_caption.py)
                    lab.refit()

    # --- exports ----------------------------------------------------------------------------------------------
    #: default PNG size: twice the widget (slides and papers want more pixels than the screen shows)
    EXPORT_SCALE = 2.0

    def export_image(self, path: str | Path, width: int | None = None, scale: float | None = None) -> Path:
        """PNG (``.png``, ``width`` pixels wide, or ``scale`` × the widget: default 2×), SVG (``.svg``) or PDF
        (``.pdf``) of the whole widget's scene. Texts and curves are drawn again at the size asked (not a scaled
        screenshot); in SVG and PDF the image cells of a matrix view stay crisp squares. Written atomically and
        checked (:func:`rnnlab.io.atomic_path`): a failure raises :class:`rnnlab.io.WriteError` with one line
        saying why, and leaves the old file as it was."""
        from pyqtgraph import exporters

        from ...io import atomic_path, atomic_write, why_not_written

        path = Path(path)
        scene = self.layout_widget.scene()
        suffix = path.suffix.lower()
        if suffix == ".svg":
            with _crisp_images(scene):
                data = exporters.SVGExporter(scene).export(toBytes=True)
            with atomic_write(path, "wb") as fh:
                fh.write(data)
            return path
        if suffix == ".pdf":
            with _crisp_images(scene), atomic_path(path, check_nonempty=True) as tmp:
                _export_pdf(self.layout_widget, tmp)
            return path
        # the widget drawn again at a higher pixel ratio (pyqtgraph's ImageExporter re-lays out texts at its own
        # scale and cut the colour bar's title): the picture is the view as on screen, sharper
        src = self.layout_widget
        k = (int(width) / max(1, src.width())) if width else (scale or self.EXPORT_SCALE)
        image = QtGui.QImage(max(1, round(src.width() * k)), max(1, round(src.height() * k)),
                             QtGui.QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(k)
        image.fill(QtGui.QColor("white"))
        QtWidgets.QWidget.render(src, image)  # (QGraphicsView.render would take a painter)
        fmt = (suffix.lstrip(".") or "png").upper()
        with atomic_path(path, check_nonempty=True) as tmp:
            if image.isNull():
                raise OSError("Qt could not draw the picture")
            if not image.save(str(tmp), fmt if fmt in ("PNG", "JPG", "JPEG", "BMP") else "PNG"):
                raise why_not_written(tmp)
        return path

    def export_csv(self, path: str | Path) -> Path:
        """The :meth:`data_table` as CSV, written atomically (see :meth:`export_image`)."""
        from ...io import atomic_write

        path = Path(path)
        header, rows = self.data_table()
        with atomic_write(path, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow(["" if (isinstance(v, float) and math.isnan(v)) else repr(float(v)) for v in r])
        return path
