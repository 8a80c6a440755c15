"""The unrolled network: the recurrent layer drawn unrolled over the probe sequence, with the backward pass on it.

Columns are the steps t of probe sequence 0: the input x_t below, the state h_t in the middle, the loss E_t above
(only where step t has one), and between two states the recurrent arrow h_{k−1} → h_k. The gradient travels the
arrows backwards (right to left, the arrow heads): each arrow's colour and width encode a log10 norm, on the
diverging scale of the heatmap (blue ≪ 1, white = 1, red ≫ 1), in one of three readings:

* **backward pass** — what crosses the arrow into k: the part of ∂E/∂h_{k−1} that comes through h_k, every loss
  together, as the experiment's BPTT sums it (the states are coloured by the whole ‖∂E/∂h_k‖);
* **one loss** — ‖∂E_t/∂h_{k−1}‖ for the loss at step t (hover a loss node to preview a t, click to choose it);
* **∂h_t/∂h_k** — the product of Jacobians ‖∂h_t/∂h_{k−1}‖ (seeds eq. 8) for that t.

Truncated BPTT cuts the arrow at the start of each window (a red mark: nothing crosses it); clipping acts on the
total ∂E/∂θ, drawn at the right with its norm before and after. **Step back** and **Backward pass** (play), under
the picture, move the gradient back one step at a time from the chosen loss and print the factor just multiplied,
‖∂h_{k+1}/∂h_k‖ (for the vanilla RNN diag(f'(a_{k+1}))·W_hh; for every cell its step Jacobian), and the running
product ‖∂h_t/∂h_k‖ beside the product of the factors' norms that bounds it: eq. 8 multiplied out.

Every number comes from the snapshot's :class:`~rnnlab.core.unrolled.UnrolledPass` (``snap.diagnostics.unrolled``);
the view only picks entries and draws them. Up to :data:`MAX_COLUMNS` steps are drawn; a longer sequence shows its
first steps, an elided gap with the range of what crosses it, and a window of steps that follows the animation.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ._caption import add_caption
from .base import AXIS_FONT_PT, SnapshotPlot, style_plot
from .heatmap import DEFAULT_LEVELS, DIVERGING_MAP

__all__ = ["UnrolledPlot", "MAX_COLUMNS", "MODES"]

#: steps drawn at most; beyond, the middle of the sequence is elided
MAX_COLUMNS = 30
#: the first steps always drawn when the middle is elided
HEAD = 2
#: the fewest pixels between two steps (at font scale 1): a narrower view elides more of the middle
MIN_COLUMN_PX = 8
#: the margins left of the first step and right of the last one, in steps
LEFT, RIGHT = 0.8, 0.6
#: the readings of the arrows: key, label in the chooser
MODES = (("total", "backward pass ∂E/∂h"), ("loss", "one loss ∂E_t/∂h_k"), ("product", "product ∂h_t/∂h_k"))
#: the controls' short labels, for a narrow view (the long ones: MODES, "Backward pass", "Step back", "Show all")
SHORT = {"total": "∂E/∂h", "loss": "∂Eₜ/∂hₖ", "product": "∂hₜ/∂hₖ", "play": "Play", "step": "Back", "all": "All"}
#: milliseconds per step of the slow-motion backward pass
TICK_MS = 700
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_GREY = "#9a9a9a"


def _sub(n: int) -> str:
    return str(int(n)).translate(_SUB)


def _num(v: float) -> str:
    """A log10 value as the number a person reads: 0.83, 3.1·10⁻⁵, 0 (exactly), overflow."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if v == -np.inf:
        return "0"
    if v == np.inf:
        return "∞"
    if -3 <= v < 4:
        return f"{10.0 ** v:.3g}"
    e = math.floor(v)
    m = 10.0 ** (v - e)
    if m >= 9.995:
        m, e = 1.0, e + 1
    return f"{m:.2g}·10" + str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


class _Chooser(QtWidgets.QComboBox):
    """A combo box as wide as its items now (QComboBox keeps the minimum width of its first, longer items)."""

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        return self.sizeHint()


class UnrolledPlot(SnapshotPlot):
    """``snap.diagnostics.unrolled``: the backward pass drawn on the unrolled network, and its slow motion."""

    title = "Unrolled network"
    view_id = "unrolled"
    label = "the unrolled network"
    description = r'''The recurrent layer unrolled over the probe sequence: the inputs $x_t$ below, the states $h_t$
in the middle, the losses $E_t$ above, the recurrent arrows $h_{k-1} \to h_k$ between. The gradient travels the
arrows backwards. Each arrow's colour and width is a $\log_{10}$ norm on the heatmap's scale (blue $\ll 1$, white $=
1$, red $\gg 1$): the backward pass $\partial E/\partial h$ of every loss together, one loss $\partial E_t/\partial
h_k$ (click a loss node to choose $t$), or the product of Jacobians

$$\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}$$

**Step back** and **Backward pass** (under the picture) move the gradient back one step at a time and print the
factor just multiplied ($\mathrm{diag}(f'(a_j))\, W_{hh}$ for the vanilla RNN; for every cell its step Jacobian) and
the running product.
Truncated BPTT cuts the arrow where each window starts; clipping rescales the total $\partial E/\partial \theta$
drawn at the right.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the backward pass is computed every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.up = None  # the UnrolledPass drawn
        self.loss_note = ""  # why the snapshot has no loss, if it has none
        self.mode = "total"
        self.t_sel: int | None = None  # the chosen loss step (None: the last one)
        self.t_hover: int | None = None
        self.anim_k: int | None = None  # the slow motion: the gradient has reached h_k (None: all shown)
        self._columns: list[int] = []  # the steps drawn, in order
        self._compact = False  # short texts for the gap and the total (see _layout)
        self._gap: int | None = None  # the x of the elided gap (None: nothing elided)
        self._x: dict[int, float] = {}  # step -> x
        self._arrows: dict[int, tuple] = {}  # (line, head, edge) by the step k they lead into
        self._drawn: dict[int, float] = {}  # what each visible arrow shows (log10), by k
        self._extra: list[QtWidgets.QGraphicsItem] = []  # cut marks, gap, total, texts: of the last drawing
        self._pool: dict[str, list] = {"text": [], "curve": [], "scatter": []}  # ... drawn from these
        self._used = {kind: 0 for kind in self._pool}
        self._colours: dict[float, QtGui.QColor] = {}
        self._brushes: dict[int, QtGui.QBrush] = {}
        self._pens: dict[tuple, QtGui.QPen] = {}
        self._build_controls()
        self.plot = self.layout_widget.addPlot(row=0, col=0)
        style_plot(self.plot, self.title, "", "")  # the view's heading, as every view has
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=False, y=False)
        left = self.plot.getAxis("left")
        left.setTicks([[(0, "xₜ"), (1, "hₜ"), (2, "Eₜ")]])
        left.setWidth(40)
        self.skeleton = pg.PlotCurveItem(pen=pg.mkPen("#c8c8c8", width=1, style=QtCore.Qt.PenStyle.DotLine),
                                         connect="pairs")
        self.plot.addItem(self.skeleton)
        self.nodes = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.nodes)
        self.cmap = pg.colormap.get(DIVERGING_MAP)
        self.bar = pg.ColorBarItem(values=DEFAULT_LEVELS, colorMap=self.cmap, interactive=True, rounding=0.5,
                                   width=14, pen=pg.mkPen("#333333", width=1), colorMapMenu=False)
        self.layout_widget.ci.addItem(self.bar, row=0, col=1)
        font = QtGui.QFont()
        font.setPointSize(AXIS_FONT_PT - 2)
        self.bar.axis.setTickFont(font)
        self.bar.axis.enableAutoSIPrefix(False)
        self.bar.setToolTip("log10 of the norm an arrow carries; drag the handles to change the scale")
        self.bar.sigLevelsChanged.connect(lambda *_: self._draw())
        self._refresh_text()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.plot.vb.sigResized.connect(self._on_resized)  # the gap and the right panel are sized in pixels
        self.layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.layout_widget.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.layout_widget.viewport().installEventFilter(self)  # the mouse leaving the picture ends its read-out
        self.set_has_data(False)

    # --- controls -------------------------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        """Under the picture, like a player's transport bar: the reading of the arrows, Backward pass (play),
        Step back, Show all, and
        the numbers of the slow motion in a caption as tall as they need. In a narrow view (a grid cell, large
        fonts) the buttons take their short labels (:data:`SHORT`) rather than being cut."""
        bar = QtWidgets.QWidget(self)
        bar.setAutoFillBackground(True)  # white like the plots (a style sheet here would stop the app's font)
        pal = bar.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("white"))
        bar.setPalette(pal)
        row = QtWidgets.QHBoxLayout(bar)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        self.mode_box = _Chooser()
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.mode_box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.mode_box.setToolTip("What the arrows show: the whole backward pass, the gradient of one loss E_t, or "
                                 "the product of Jacobians ∂h_t/∂h_k (hover a loss node to preview a t, click to "
                                 "choose it)")
        self.mode_box.currentIndexChanged.connect(lambda i: self.set_mode(self.mode_box.itemData(i)))
        sp = QtWidgets.QStyle.StandardPixmap
        self._icons = {"play": self.style().standardIcon(sp.SP_MediaPlay),  # icons, not glyphs a font may lack
                       "pause": self.style().standardIcon(sp.SP_MediaPause),
                       "step": self.style().standardIcon(sp.SP_MediaSeekBackward)}

        def button(icon=None, text=""):  # tool buttons: no style minimum width, so a narrow view holds them all
            b = QtWidgets.QToolButton()
            b.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if icon is not None:
                b.setIcon(icon)
            b.setText(text)
            return b

        self.play_button = button()
        self.play_button.setToolTip("Slow motion: the gradient travels back one step per tick")
        self.play_button.clicked.connect(self.toggle_play)
        self.step_button = button(self._icons["step"])
        self.step_button.setToolTip("Move the gradient back by one step (multiply by one more factor)")
        self.step_button.clicked.connect(self.step_back)
        self.show_button = button(text="Show all")
        self.show_button.setToolTip("End the slow motion: draw the whole pass")
        self.show_button.clicked.connect(self.show_all)
        for w in (self.mode_box, self.play_button, self.step_button, self.show_button):
            w.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space and → stay the trainer's
            w.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
            row.addWidget(w)
        row.addStretch(1)
        self.short = False  # the short labels are shown
        self._sync_buttons()
        self.layout().addWidget(bar)
        self.controls = bar
        # the slow motion's numbers, a hover read-out, or what the arrows show: a caption under the buttons
        self.numbers = add_caption(self, lines=2)
        self.numbers.setStyleSheet(f"color: #111111; font-size: {AXIS_FONT_PT}pt; background: white; "
                                   "padding: 1px 6px;")
        self.readout = self.numbers  # (the hover read-out of the other views is this same line here)
        self._hover_text = ""

    def _labels(self, short: bool) -> None:
        """The long or the short labels of the controls."""
        for i, (key, text) in enumerate(MODES):
            self.mode_box.setItemText(i, SHORT[key] if short else text)
        playing = self._timer.isActive() if hasattr(self, "_timer") else False
        self.play_button.setText("Pause" if playing else (SHORT["play"] if short else "Backward pass"))
        self.step_button.setText(SHORT["step"] if short else "Step back")  # (the toolbar's Step trains)
        self.show_button.setText(SHORT["all"] if short else "Show all")
        self.mode_box.updateGeometry()

    def _play_label(self) -> str:
        return SHORT["play"] if self.short else "Backward pass"

    def _step_label(self) -> str:
        return SHORT["step"] if self.short else "Step back"

    def _fit_controls(self) -> None:
        """The long labels where they fit the view's width, else the short ones."""
        lay = self.controls.layout()
        m = lay.contentsMargins()
        room = self.width() - m.left() - m.right()

        def needed() -> int:
            ws = [w.sizeHint().width() for w in (self.mode_box, self.play_button, self.step_button,
                                                 self.show_button)]
            return sum(ws) + lay.spacing() * (len(ws) - 1)

        was = self.short
        if self.short:
            self._labels(False)
            if needed() > room:
                self._labels(True)
            else:
                self.short = False
        elif needed() > room:
            self._labels(True)
            self.short = True
        if self.short != was:
            self._refresh_text()  # (it names the button)

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        if ev.size().width() != ev.oldSize().width():
            self._fit_controls()

    def set_mode(self, mode: str) -> None:
        """``"total"``, ``"loss"`` or ``"product"`` (see the module docstring)."""
        if mode not in dict(MODES):
            raise ValueError(f"mode {mode!r}: expected one of {', '.join(dict(MODES))}")
        self.mode = mode
        i = [k for k, _ in MODES].index(mode)
        if self.mode_box.currentIndex() != i:
            self.mode_box.setCurrentIndex(i)
        self._draw()

    def choose_loss(self, t: int | None) -> None:
        """Choose the loss step t that "one loss", "∂h_t/∂h_k" and the slow motion start from (None: the last)."""
        self.t_sel = None if t is None else int(t)
        if self.anim_k is not None:
            self.anim_k = self._start()
        self._draw()

    # --- the slow motion ------------------------------------------------------------------------------------------
    def _t(self) -> int | None:
        """The loss step in use: hovered, else chosen, else the last scored step (else the last step)."""
        up = self.up
        if up is None or up.T == 0:
            return None
        for t in (self.t_hover, self.t_sel):
            if t is not None and 0 <= t < up.T:
                return t
        scored = np.flatnonzero(up.scored)
        return int(scored[-1]) if scored.size else up.T - 1

    def _start(self) -> int | None:
        """Where the slow motion starts: at the end of the sequence for the whole pass, at t for one loss."""
        if self.up is None or self.up.T == 0:
            return None
        return self.up.T - 1 if self.mode == "total" else self._t()

    def _end(self) -> int:
        """Where the slow motion stops: the earliest step the gradient reaches (a truncation cut stops it)."""
        up = self.up
        if up is None:
            return 0
        if self.mode == "loss":
            t = self._t()
            return max(0, int(up.reach[t])) if t is not None and up.reach[t] >= 0 else (t or 0)
        if self.mode == "total":
            return int(up.windows[:, 1].min()) if len(up.windows) else 0
        return 0

    def step_back(self) -> None:
        """One tick of the slow motion: the gradient moves from h_k to h_{k−1} (the first tick starts it)."""
        if self.up is None:
            return
        if self.anim_k is None:
            self.anim_k = self._start()
        elif self.anim_k > self._end():
            self.anim_k -= 1
        if self.anim_k is not None and self.anim_k <= self._end():
            self._timer.stop()
        self._sync_buttons()
        self._draw()

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
        else:
            if self.anim_k is None or self.anim_k <= self._end():
                self.anim_k = None  # from the start again
            self.step_back()
            if self.anim_k is not None and self.anim_k > self._end():
                self._timer.start()
        self._sync_buttons()

    def show_all(self) -> None:
        self._timer.stop()
        self.anim_k = None
        self._sync_buttons()
        self._draw()

    def _tick(self) -> None:
        self.step_back()

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def _sync_buttons(self) -> None:
        playing = hasattr(self, "_timer") and self._timer.isActive()
        self.play_button.setIcon(self._icons["pause" if playing else "play"])
        self._labels(self.short)

    # --- the snapshot ---------------------------------------------------------------------------------------------
    def update_snapshot(self, snap) -> None:
        d = snap.diagnostics
        if d is None:
            if self.up is None:
                self.set_empty_text(self.waiting_text)
            return
        up = getattr(d, "unrolled", None)
        if up is None or up.T == 0:
            if self.up is None:
                self.set_empty_text("No backward pass in this snapshot")
            return
        if self.up is None or up.T != self.up.T:
            self.t_hover = None
            if self.t_sel is not None and self.t_sel >= up.T:
                self.t_sel = None
            if self.anim_k is not None:
                self.anim_k = None
                self._timer.stop()
                self._sync_buttons()
        self.up = up
        self.loss_note = d.loss_note
        self._draw()
        self.set_has_data(True)

    def clear_data(self) -> None:
        self._timer.stop()
        self.up = None
        self.anim_k = self.t_sel = self.t_hover = None
        self._columns, self._x, self._drawn, self._gap = [], {}, {}, None
        for items in self._arrows.values():
            for item in items:
                self.plot.removeItem(item)
        self._arrows = {}
        self._clear_extra()
        self.nodes.setData([], [])
        self.skeleton.setData([], [])
        self._hover_text = ""
        self._refresh_text()
        self._sync_buttons()
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    # --- what is drawn --------------------------------------------------------------------------------------------
    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """``(arrows, states)``, each (T,) log10: what the arrow into k and the state k show in the current reading
        (NaN: nothing to draw). Entries picked from the snapshot's pass, never computed here."""
        up = self.up
        T = up.T
        arrows, states = np.full(T, np.nan), np.full(T, np.nan)
        t = self._t()
        if self.mode == "total":
            arrows[1:], states[:] = up.arrow_log10[1:], up.total_log10
        elif self.mode == "loss" and t is not None:
            states[:] = up.flow_log10[t]
            arrows[1 : t + 1] = up.flow_log10[t, :t]  # the arrow into k carries ∂E_t/∂h_{k−1}
        elif self.mode == "product" and t is not None:
            row = up.product_row(t)
            if row is not None:
                states[:] = row
                arrows[1 : t + 1] = row[:t]
        return arrows, states

    def arrow_values(self) -> dict[int, float]:
        """The arrows drawn now: ``{k: log10 value}`` for every visible arrow (by the step it leads into)."""
        return dict(self._drawn)

    def _layout(self, T: int) -> None:
        """Choose the steps drawn (all, or head + gap + a window around the slow motion) and their x.

        One step is one unit of x. The elided gap and the panel at the right (the total ∂E/∂θ) are as wide as
        their texts, in pixels at the plot's width and the current font scale, so that no text runs past the
        plot's edge or into the nodes beside it; the steps share what is left (:attr:`_ppu` pixels each)."""
        W = float(self.plot.vb.width())
        least = MIN_COLUMN_PX * self.scale
        self._compact = False  # the short texts of the gap and the total (a plot too narrow for the long ones)
        panel = self._total_width()  # px
        most = MAX_COLUMNS
        if W > 0 and T > (W - panel) / least - LEFT - RIGHT + 1:  # no more steps than can be told apart
            fit = (W - panel - self._gap_width_at_most(T)) / least - LEFT - RIGHT + 1
            if fit < HEAD + 6:
                self._compact = True
                panel = self._total_width()
                fit = (W - panel - self._gap_width_at_most(T)) / least - LEFT - RIGHT + 1
            most = max(HEAD + 4, min(MAX_COLUMNS, int(fit)))
        if T <= most:
            cols, gap = list(range(T)), None
        else:
            width = most - HEAD - 1
            focus = self.anim_k if self.anim_k is not None else (self._t() if self.mode != "total" else T - 1)
            hi = min(T - 1, max(focus + width // 3, width + HEAD))
            lo = max(HEAD + 1, hi - width + 1)
            cols, gap = list(range(HEAD)) + list(range(lo, hi + 1)), HEAD
            if lo == HEAD + 1:  # only one step elided: draw it
                cols, gap = list(range(hi + 1)), None
        self._columns, self._gap = cols, gap
        n = len(cols)
        gap_px = self._gap_width(cols, gap) if gap is not None else 0.0
        extra = 0.0  # the gap's extra units (besides the one unit of a step)
        if W <= 0:  # not laid out yet: a guess, redrawn when the plot gets its size (see _on_resized)
            ppu = 20.0
            extra = 1.5 if gap is not None else 0.0
        elif gap is None:
            ppu = (W - panel) / (n - 1 + LEFT + RIGHT)
        else:
            ppu = (W - panel) / (n - 1 + LEFT + RIGHT + 1.5)
            extra = 1.5
            if gap_px / max(ppu, 1e-9) > extra:  # the gap's texts need more: as many pixels as they need
                ppu = (W - panel - gap_px) / (n - 1 + LEFT + RIGHT)
                extra = gap_px / max(ppu, 1e-9)
        self._ppu = max(ppu, 4.0)
        self._x = {}
        x = 0.0
        for i, k in enumerate(cols):
            if gap is not None and i == gap:
                x += extra
            self._x[k] = x
            x += 1.0
        right = x - 1.0
        self._panel_x = right + RIGHT + 0.5 * panel / self._ppu  # the centre of the total's panel
        self._xrange = (-LEFT, right + RIGHT + panel / self._ppu)

    def _ppu_y(self) -> float:
        """Pixels per unit of y (the rows are 1 apart; the plot shows y from −0.6 to 2.6)."""
        return max(1.0, float(self.plot.vb.height()) / 3.2)

    def _font(self, size: float, bold: bool = False) -> QtGui.QFont:
        f = QtGui.QFont()
        f.setPointSizeF(size * self.scale)
        f.setBold(bold)
        return f

    def _px(self, text: str, size: float, bold: bool = False) -> float:
        """The width in pixels of a (multi-line) text drawn by :meth:`_text` at ``size``."""
        fm = QtGui.QFontMetricsF(self._font(size, bold))
        # (+ the text item's document margin, 4 px a side)
        return max((fm.horizontalAdvance(line) for line in text.split("\n")), default=0.0) + 10.0

    def _gap_texts(self, cols: list[int], gap: int) -> tuple[str, str | None]:
        """The gap's two texts: how many steps it hides, and the range of what crosses them (None: nothing)."""
        a, b = cols[gap - 1], cols[gap]
        arrows, _ = self.values()
        inside = arrows[a + 1 : b]  # the arrows into a + 1 … b − 1, hidden in the gap
        fin = inside[np.isfinite(inside)]
        shown = fin.size and (self.anim_k is None or self.anim_k < b) and not self._compact
        rng = f"{_num(float(fin.min()))} …\n… {_num(float(fin.max()))}" if shown else None
        return (f"{b - a - 1} steps" if self._compact else f"⋯ {b - a - 1} steps ⋯"), rng

    def _gap_width(self, cols: list[int], gap: int) -> float:
        count, rng = self._gap_texts(cols, gap)
        return max(self._px(count, 8.5), self._px(rng, 8) if rng else 0.0) + 10.0

    def _gap_width_at_most(self, T: int) -> float:
        """The widest the gap's texts can be for a sequence of T steps (before the columns are chosen)."""
        if self._compact:
            return self._px(f"{T} steps", 8.5) + 10.0
        return max(self._px(f"⋯ {T} steps ⋯", 8.5), self._px("8.8·10⁻⁸⁸ …\n… 8.8·10⁻⁸⁸", 8)) + 10.0

    def _total_lines(self) -> list[str]:
        """The texts under the total ∂E/∂θ: its norm, and what clipping did to it."""
        up = self.up
        if up is None or not math.isfinite(up.grad_norm):
            return []
        lines = [f"‖·‖ = {_num(math.log10(up.grad_norm)) if up.grad_norm > 0 else '0'}"]
        clipped = up.grad_norm_clipped < up.grad_norm
        if up.clip in ("norm", "value") and clipped:
            lines.append(f"clipped → {up.grad_norm_clipped:.3g}")
        if self._compact:
            return lines
        if up.clip == "norm" and clipped:
            lines.append(f"(arrows × {up.grad_norm_clipped / up.grad_norm:.2g})")
        elif up.clip == "value" and clipped:
            lines.append("(entry by entry)")
        elif up.clip in ("norm", "value"):
            lines.append(f"≤ {up.clip_threshold:g}: not clipped")
        return lines

    def _total_width(self) -> float:
        lines = self._total_lines()
        if not lines:
            return 0.0
        return max(self._px("\n".join(lines), 8), self._px("∂E/∂θ", 9, bold=True), 22 * self.scale) + 8.0

    def _on_resized(self, *_) -> None:
        size = (round(self.plot.vb.width()), round(self.plot.vb.height()))
        if self.up is not None and size != getattr(self, "_drawn_size", None):
            self._draw()

    def _pen_for(self, v: float) -> tuple[QtGui.QColor, float]:
        """Colour and width of a log10 value on the colour bar's scale (the scale cut into 64 shades, so that the
        drawn symbols are cached instead of rendered anew for every value)."""
        lo, hi = (float(a) for a in self.bar.levels())
        f = min(1.0, max(0.0, (v - lo) / (hi - lo))) if math.isfinite(v) else (1.0 if v > 0 else 0.0)
        f = round(f * 64) / 64
        colour = self._colours.get(f)
        if colour is None:
            colour = self._colours[f] = self.cmap.map(f, mode="qcolor")
        width = (1.0 + 9.0 * f) * self.scale  # the larger the norm, the thicker
        return colour, width

    def _brush(self, colour) -> QtGui.QBrush:
        key = QtGui.QColor(colour).rgba()
        b = self._brushes.get(key)
        if b is None:
            b = self._brushes[key] = pg.mkBrush(colour)
        return b

    def _pen(self, colour: str, width: float) -> QtGui.QPen:
        key = (colour, width)
        p = self._pens.get(key)
        if p is None:
            p = self._pens[key] = pg.mkPen(colour, width=width)
        return p

    def _clear_extra(self) -> None:
        """Hide the cut marks, gap, total and texts of the last drawing (kept for reuse: creating pyqtgraph items
        anew on every frame was most of the view's drawing time)."""
        for items in self._pool.values():
            for it in items:
                it.setVisible(False)
        self._used = {kind: 0 for kind in self._pool}
        self._extra = []

    def _take(self, kind: str):
        """A pooled item of ``kind`` ("text", "curve", "scatter"), made visible."""
        items, i = self._pool[kind], self._used[kind]
        if i == len(items):
            item = {"text": lambda: pg.TextItem(""), "curve": pg.PlotCurveItem,
                    "scatter": lambda: pg.ScatterPlotItem(pxMode=True)}[kind]()
            self.plot.addItem(item)
            items.append(item)
        item = items[i]
        self._used[kind] = i + 1
        item.setVisible(True)
        self._extra.append(item)
        return item

    def _text(self, text: str, x: float, y: float, anchor=(0.5, 0.5), colour="#222222", size: float = 9.0,
              bold: bool = False) -> pg.TextItem:
        item = self._take("text")
        item.setFont(self._font(size, bold))
        item.setColor(colour)
        item.setAnchor(anchor)
        item.setText(text)
        item.setPos(x, y)
        return item

    def _draw(self) -> None:
        up = self.up
        if up is None:
            return
        T = up.T
        self._layout(T)
        cols, X = self._columns, self._x
        arrows, states = self.values()
        t = self._t()
        k_anim = self.anim_k
        shown_from = k_anim if k_anim is not None else -1  # arrows into k > shown_from are revealed
        self._clear_extra()
        # nodes: inputs, states (coloured by what reaches them), losses
        xs, ys, brushes, symbols, sizes, pens = [], [], [], [], [], []
        node = min(16 * self.scale, 0.8 * self._ppu)  # neighbours never overlap
        for k in cols:
            x = X[k]
            xs += [x, x]
            ys += [0, 1]
            symbols += ["s", "o"]
            sizes += [0.7 * node, node]
            brushes.append(self._brush("#e8e8e8"))
            v = states[k]
            revealed = k_anim is None or k >= k_anim
            brushes.append(self._brush(self._pen_for(v)[0] if math.isfinite(v) and revealed else "#ffffff"))
            pens += [self._pen("#777777", 1.0), self._pen("#333333", 1.5 * self.scale)]
            if up.scored[k]:
                xs.append(x)
                ys.append(2)
                symbols.append("d")
                sizes.append(node)
                sel = k == t and self.mode != "total"
                brushes.append(self._brush("#E69F00" if sel else "#f4d9a6"))
                pens.append(self._pen("#D55E00" if sel else "#999999", (2.5 if sel else 1) * self.scale))
        self.nodes.setData(xs, ys, symbol=symbols, size=sizes, brush=brushes, pen=pens)
        # the structure: x → h, h → E, and every recurrent connection, faint
        seg = []
        for k in cols:
            seg += [(X[k], 0.12), (X[k], 0.85)]
            if up.scored[k]:
                seg += [(X[k], 1.15), (X[k], 1.85)]
        for a, b in zip(cols, cols[1:]):
            seg += [(X[a] + 0.15, 1.0), (X[b] - 0.15, 1.0)]
        seg = np.asarray(seg, dtype=float).reshape(-1, 2)
        self.skeleton.setData(seg[:, 0], seg[:, 1], connect="pairs")
        # the gradient arrows: into k from k − 1 (drawn when both are columns), coloured by what they carry
        wanted = {k for k in cols if k - 1 in X}
        for k in list(self._arrows):
            if k not in wanted:
                for item in self._arrows.pop(k):
                    self.plot.removeItem(item)
        self._drawn = {}
        for k in sorted(wanted):
            if k not in self._arrows:
                edge = pg.PlotCurveItem()  # a grey edge, so an arrow near 1 (white on the scale) stays visible
                line = pg.PlotCurveItem()
                head = pg.ArrowItem(angle=0, headLen=12, tipAngle=40, tailLen=None)
                for item in (edge, line, head):
                    self.plot.addItem(item)
                self._arrows[k] = (line, head, edge)
            line, head, edge = self._arrows[k]
            v = arrows[k]
            visible = bool(not math.isnan(v) and v != -np.inf and k > shown_from)
            for item in (line, head, edge):
                item.setVisible(visible)
            if not visible:
                continue
            colour, width = self._pen_for(v)
            x0, x1 = X[k - 1] + 0.18, X[k] - 0.18
            edge.setData([x0, x1], [1.0, 1.0], pen=pg.mkPen("#8a8a8a", width=width + 2 * self.scale))
            line.setData([x0, x1], [1.0, 1.0], pen=pg.mkPen(colour, width=width))
            head.setStyle(brush=pg.mkBrush(colour), headLen=min(6 + 1.2 * width, 0.35 * self._ppu),
                          pen=pg.mkPen("#8a8a8a", width=self.scale))
            head.setPos(x0, 1.0)
            self._drawn[k] = float(v)
        self._draw_gap(arrows)
        self._draw_cuts()
        self._draw_total()
        if k_anim is not None and k_anim in X:  # where the gradient is now
            self._take("scatter").setData([X[k_anim]], [1.0], symbol="o", size=26 * self.scale,
                                          brush=pg.mkBrush(0, 0, 0, 0),
                                          pen=pg.mkPen("#D55E00", width=3 * self.scale))
        self._axis(cols, X)
        self.plot.vb.setRange(xRange=self._xrange, yRange=(-0.6, 2.6), padding=0)
        self._drawn_size = (round(self.plot.vb.width()), round(self.plot.vb.height()))
        self._refresh_text()

    def _refresh_text(self) -> None:
        """The line beside the buttons: a hover read-out, else the slow motion's numbers, else the legend."""
        if self._hover_text:
            text = self._hover_text
        elif self.up is not None and (self.anim_k is not None or getattr(self, "loss_note", "")):
            text = self.numbers_text()
        else:
            text = self._idle_text()
        self.numbers.setText(text)

    def _draw_gap(self, arrows: np.ndarray) -> None:
        if self._gap is None:
            return
        a, b = self._columns[self._gap - 1], self._columns[self._gap]
        xa, xb = self._x[a], self._x[b]
        mid = 0.5 * (xa + xb)
        count, rng = self._gap_texts(self._columns, self._gap)
        dy = 5 / self._ppu_y()
        self._text(count, mid, 1.0 + dy, anchor=(0.5, 1.0), size=8.5)
        inside = arrows[a + 1 : b]  # the arrows hidden in the gap: the largest colours the dashed line
        fin = inside[np.isfinite(inside)]
        if fin.size and (self.anim_k is None or self.anim_k < b):
            colour, width = self._pen_for(float(fin.max()))
            self._take("curve").setData([xa + 0.2, xb - 0.2], [1.0, 1.0],
                                        pen=pg.mkPen(colour, width=width, style=QtCore.Qt.PenStyle.DashLine))
        if rng is not None:
            self._text(rng, mid, 1.0 - dy, anchor=(0.5, 0.0), size=8)

    def cuts(self) -> list[int]:
        """The cuts drawn: every window's start for the whole pass; for one loss, where its own window starts;
        none for the product of Jacobians (a quantity of the network, not of the training)."""
        up = self.up
        if up is None or self.mode == "product":
            return []
        if self.mode == "loss":
            t = self._t()
            return [int(up.reach[t])] if t is not None and up.reach[t] > 0 else []
        return [int(k) for k in up.cuts]

    def _draw_cuts(self) -> None:
        up = self.up
        cuts = self.cuts()
        for k in cuts:
            if k not in self._x or k - 1 not in self._x:
                continue
            x = 0.5 * (self._x[k - 1] + self._x[k])
            self._take("curve").setData([x, x], [0.72, 1.28], pen=pg.mkPen("#D55E00", width=3 * self.scale))
            self._text("✂", x, 1.42, colour="#D55E00", size=11, bold=True)
        if cuts:
            first = max(cuts)
            if first in self._x:
                text = f"TBPTT({up.k1}, {up.k2}): cut"
                half = 0.5 * self._px(text, 8.5) / self._ppu
                lo, hi = self._xrange
                x = min(max(self._x[first] - 0.5, lo + half), hi - half)  # inside the plot
                self._text(text, x, -0.42, colour="#D55E00", size=8.5)

    def _draw_total(self) -> None:
        """At the right: the gradient of the weights, the sum of what reached every step, and what clipping does
        to it."""
        lines = self._total_lines()
        if not self._x or not lines:
            return
        x = self._panel_x
        self._take("scatter").setData([x], [1.0], symbol="s", size=18 * self.scale, brush=pg.mkBrush("#dddddd"),
                                      pen=pg.mkPen("#333333", width=1.5))
        dy = (9 * self.scale + 3) / self._ppu_y()  # half the box and a little space, in units of y
        self._text("∂E/∂θ", x, 1.0 + dy, anchor=(0.5, 1.0), size=9, bold=True)
        self._text("\n".join(lines), x, 1.0 - dy, anchor=(0.5, 0.0), size=8)

    def _axis(self, cols: list[int], X: dict[int, float]) -> None:
        step = 1 if len(cols) <= 16 else 5
        major = [(X[k], str(k)) for i, k in enumerate(cols)
                 if k % step == 0 or i == 0 or i == len(cols) - 1 or k == self._t()]
        minor = [(X[k], "") for k in cols]
        self.plot.getAxis("bottom").setTicks([major, minor])

    # --- the numbers ----------------------------------------------------------------------------------------------
    def numbers_text(self) -> str:
        """The slow motion's line: the factor just multiplied, the running product and its bound, the gradient."""
        up = self.up
        if up is None:
            return ""
        if self.loss_note and self.mode != "product":
            return f"No loss: {self.loss_note}"
        t = self._t()
        k = self.anim_k
        if k is None:
            return self._idle_text()
        norm = "₂" if up.norm == "spectral" else "_F"
        est = "" if not up.probes else " (est.)"
        parts = [f"k = {k}"]
        if k + 1 < up.T:
            formula = f" = {up.factor.format(j=_sub(k + 1))}" if up.factor else ""
            parts.append(f"factor ‖∂h{_sub(k + 1)}/∂h{_sub(k)}{formula}‖{norm} = {_num(up.step_log10[k + 1])}{est}")
        if t is not None and k <= t:
            row, bound = up.product_row(t), up.bound_row(t)
            if row is not None:
                parts.append(f"product ‖∂h{_sub(t)}/∂h{_sub(k)}‖{norm} = {_num(row[k])} ≤ "
                             f"Π‖factors‖ = {_num(bound[k])}")
            else:
                parts.append(f"product for t = {t}: not computed ({up.note or 'cost'})")
        if self.mode == "total":
            parts.append(f"‖∂E/∂h{_sub(k)}‖ = {_num(up.total_log10[k])}")
        elif t is not None:
            parts.append(f"‖∂E{_sub(t)}/∂h{_sub(k)}‖ = {_num(up.flow_log10[t, k])}")
        if k == self._end() and k > 0 and k in self.cuts():
            parts.append(f"truncated: BPTT({up.k1}, {up.k2}) stops here")
        return " · ".join(parts)

    def _idle_text(self) -> str:
        up = self.up
        if up is None:
            return f"Blue: the gradient vanishes (≪ 1) · red: it explodes (≫ 1) · {self._play_label()}: slow motion"
        t = self._t()
        what = {"total": "Arrows: the gradient going back (all losses), states ‖∂E/∂hₖ‖",
                "loss": f"Arrows: the gradient of E{_sub(t)} going back",
                "product": f"Arrows: ‖∂h{_sub(t)}/∂hₖ‖, the product from step {t} back"}[self.mode]
        if self.mode == "product" and up.product_row(t) is None:
            what += f" (not computed for t = {t}: {up.note})"
        how = "" if up.norm == "spectral" else f" · norms estimated ({up.probes} probes)"
        return f"{what}{how} · {self._play_label()} / {self._step_label()}: slow motion · click a loss ◆ to choose t"

    # --- mouse ----------------------------------------------------------------------------------------------------
    def _hit(self, pos) -> tuple[int | None, int | None]:
        """(step, row) under a scene position: row 0 input, 1 state (or the arrow on its left), 2 loss."""
        if self.up is None or not self._x:
            return None, None
        vb = self.plot.vb
        if not vb.sceneBoundingRect().contains(pos):
            return None, None
        p = vb.mapSceneToView(pos)
        row = int(round(p.y()))
        best = min(self._x, key=lambda k: abs(self._x[k] - p.x()))
        if abs(self._x[best] - p.x()) > 0.6 or row not in (0, 1, 2):
            return None, None
        return best, row

    def _on_mouse_moved(self, pos) -> None:
        k, row = self._hit(pos)
        hover = k if (row == 2 and k is not None and self.up.scored[k]) else None
        self._hover_text = self.hover_text(k, row) if k is not None else ""
        if hover != self.t_hover and (hover is not None or self.t_hover is not None):
            self.t_hover = hover
            self._draw()
        else:
            self._refresh_text()

    def mouse_left(self) -> None:
        """The mouse left the picture (for the buttons, say): no hover read-out, no previewed loss."""
        if not self._hover_text and self.t_hover is None:
            return
        self._hover_text = ""
        if self.t_hover is not None:
            self.t_hover = None
            self._draw()
        else:
            self._refresh_text()

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QtCore.QEvent.Type.Leave and obj is self.layout_widget.viewport():
            self.mouse_left()
        return super().eventFilter(obj, ev)

    def _on_mouse_clicked(self, ev) -> None:
        k, row = self._hit(ev.scenePos())
        if row == 2 and k is not None and self.up.scored[k]:
            self.t_hover = None
            if self.mode == "total":
                self.set_mode("loss")
            self.choose_loss(k)

    def hover_text(self, k: int, row: int) -> str:
        up = self.up
        arrows, states = self.values()
        if row == 2 and not up.scored[k]:
            return f"no loss at step {k} (the task scores only the steps with a ◆)"
        if row == 2:
            return (f"loss E{_sub(k)}: its gradient reaches back to step {int(up.reach[k])} "
                    f"(‖∂E{_sub(k)}/∂h{_sub(k)}‖ = {_num(up.flow_log10[k, k])}); click to choose it")
        if row == 0:
            return f"input x{_sub(k)}"
        text = f"h{_sub(k)}: {_num(states[k])}"
        if k >= 1:
            text += f" · arrow h{_sub(k - 1)} → h{_sub(k)} carries back {_num(arrows[k])}"
            text += f" · factor ‖∂h{_sub(k)}/∂h{_sub(k - 1)}‖ = {_num(up.step_log10[k])}"
        return text

    # --- presentation, exports ------------------------------------------------------------------------------------
    def set_scale(self, scale: float) -> None:
        super().set_scale(scale)  # (the caption of the numbers refits to its new font there)
        self._fit_controls()
        self._draw()

    def changeEvent(self, ev) -> None:  # noqa: N802
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.FontChange and hasattr(self, "controls"):  # presentation's app font
            self._fit_controls()

    def data_table(self) -> tuple[list[str], np.ndarray]:
        header = ["k", "total_log10", "arrow_log10", "factor_log10", "flow_t_log10", "product_t_log10"]
        up = self.up
        if up is None:
            return header, np.zeros((0, len(header)))
        t = self._t()
        prod = up.product_row(t)
        T = up.T
        return header, np.column_stack([np.arange(T), up.total_log10, up.arrow_log10, up.step_log10,
                                        up.flow_log10[t], prod if prod is not None else np.full(T, np.nan)])
