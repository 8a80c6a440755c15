"""Hidden states of the probe sequence: ``snap.hidden`` (T, H) as an image, time t to the right and unit i down.

The colour scale is fixed while training streams (the colour bar owns it; drag its handles to change it), with
white at f(0), the state of a unit with no input:

* tanh: [−1, 1], the whole range of the unit (white = 0);
* sigmoid: [0, 1] (white = 0.5 = σ(0));
* ReLU and linear units are unbounded: symmetric [−m, m] around 0, with m the smallest of 0.1, 0.2, 0.5, 1, 2, …
  that holds every state seen so far in this run. m only grows (so the colours of one run stay comparable and do
  not flicker), and it is chosen afresh on a new run or a new activation. Once the user drags the colour bar, the
  user's scale is kept.

For LSTM and GRU cells the states are the h part (the activation decides their range as well).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.cells import get_cell

from ._caption import add_caption
from .base import SnapshotPlot, style_plot
from .heatmap import NonFiniteOverlay, make_colorbar

__all__ = ["HiddenStatesPlot", "STATE_MAP", "nice_ceiling"]

#: a diverging map different from the heatmap's (whose blue/red means vanishing/exploding)
STATE_MAP = "CET-D2"
BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


def nice_ceiling(v: float) -> float:
    """The smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10, … that is ≥ v (at least 0.1; 1 for non-finite v)."""
    if not math.isfinite(v):
        return 1.0
    if v <= 0.1:
        return 0.1
    e = math.floor(math.log10(v))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0 ** e >= v * (1 - 1e-12):
            return m * 10.0 ** e
    return 10.0 ** (e + 1)  # pragma: no cover


class HiddenStatesPlot(SnapshotPlot):
    """The probe sequence's hidden states h_t[i] as an image (x = step t, y = unit i) with a fixed colour scale."""

    title = "Hidden states"
    view_id = "hidden_states"
    label = "the hidden states"
    description = r'''The states of the probe sequence as an image: time $t$ to the right, hidden unit $i$ down,
colour $h_{t,i}$ on a fixed scale with white at $f(0)$, the state of a unit with no input (tanh: $[-1, 1]$; sigmoid:
$[0, 1]$; ReLU and linear units: a symmetric range that only grows). For the vanilla RNN,

$$h_t = f(a_t), \qquad a_t = W h_{t-1} + U x_t + b$$

Units held at the ends of the range are saturated: $f'(a) \approx 0$, so they pass almost no gradient back in time.
For LSTM and GRU cells the image shows the $h$ part of the state.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the hidden states are recorded every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        self.plot = lw.addPlot(row=0, col=0)
        style_plot(self.plot, "Hidden states $h_t$", "step $t$", "hidden unit $i$ ↓")
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.bar = make_colorbar(self.image, lw.ci, 0, 1, "state $h_t[i]$", BOUNDED["tanh"], cmap=STATE_MAP,
                                 rounding=0.05)
        self.bar.sigLevelsChangeFinished.connect(self._user_levels)
        self.note = add_caption(self)
        self.overlay = NonFiniteOverlay(self.plot)  # overflowed states: hatched grey, never white (= f(0))
        self.plot.vb.setRange(xRange=(-0.5, 19.5), yRange=(-0.5, 31.5), padding=0)
        self.hidden: np.ndarray | None = None
        self.activation: str | None = None
        self._max_abs = 0.0
        self.scale_rule = ""
        self._user_set = False
        self._shape: tuple[int, ...] | None = None
        self.set_has_data(False)

    def _user_levels(self, *_):
        self._user_set = True
        self.scale_rule = "set by hand"

    def levels(self) -> tuple[float, float]:
        return tuple(float(v) for v in self.bar.levels())  # type: ignore[return-value]

    def _choose_levels(self, act: str, h: np.ndarray) -> None:
        if act != self.activation:
            self.activation = act
            self._user_set = False
            self._max_abs = 0.0
        if self._user_set:
            return
        if act in BOUNDED:
            lo, hi = BOUNDED[act]
            self.scale_rule = f"[{lo:g}, {hi:g}] = the range of {act}"
        else:
            fin = np.abs(h[np.isfinite(h)])
            self._max_abs = max(self._max_abs, float(fin.max()) if fin.size else 0.0)
            m = nice_ceiling(self._max_abs)
            lo, hi = -m, m
            self.scale_rule = f"[−{m:g}, {m:g}] ({act} is unbounded: grows to hold every state)"
        if (lo, hi) != self.levels():
            self.bar.setLevels((lo, hi))

    def update_snapshot(self, snap) -> None:
        h = snap.diagnostics.hidden if snap.diagnostics is not None else None
        if h is None:
            if self.hidden is None:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        h = np.asarray(h, dtype=np.float64)
        if any(ev.text.startswith("reset") for ev in getattr(snap, "events", ())):
            self._max_abs = 0.0  # new weights: an unbounded unit's scale is chosen afresh
        cfg = getattr(snap, "config", None)
        act = cfg.model.activation if cfg is not None else "tanh"
        self.hidden = h.copy()
        self._choose_levels(act, h)
        self.image.setImage(self.hidden.T, autoLevels=False, levels=self.bar.levels())
        f = max(1, int(getattr(snap, "picture_scale", 1) or 1))  # > 1: averaged over blocks of f steps (T > 1024)
        T, H = h.shape[0] * f, h.shape[1]
        bad_cells = ~np.isfinite(self.hidden.T)
        self.overlay.set(bad_cells, np.zeros_like(bad_cells), QtCore.QRectF(-0.5, -0.5, T, H))
        if (h.shape, f) != self._shape:
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, T, H))
            self.plot.vb.setRange(xRange=(-0.5, T - 0.5), yRange=(-0.5, H - 0.5), padding=0)
            self._shape = (h.shape, f)
        cell = get_cell(cfg.model.arch) if cfg is not None else None
        parts = cell.state_parts if cell is not None else ("h",)
        if cell is not None and not cell.hidden_is_state:  # the LRU: h is read out of the state, not part of it
            what = f"the read-out h, not the recurrent state ({', '.join(parts)}), "
        else:
            what = f"the h part of the state ({', '.join(parts)}), " if len(parts) > 1 else ""
        n_bad = self.overlay.counts["over"]
        bad = "" if np.all(np.isfinite(h)) else f" · states that overflowed: hatched grey ({n_bad} cells)"
        mean = f" · means over blocks of {f} steps" if f > 1 else ""
        self.note.setText(f"{what}{act} units · colours {self.scale_rule} · white = f(0){bad}{mean}")
        self.set_has_data(True)

    def clear_data(self) -> None:
        self.hidden = None
        self._shape = None
        self.activation = None
        self._user_set = False
        self.image.clear()
        self.overlay.clear()
        self.note.setText("")
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        if self.hidden is None:
            return ["t"], np.zeros((0, 1))
        T, H = self.hidden.shape
        return ["t"] + [f"h_{i}" for i in range(H)], np.column_stack([np.arange(T, dtype=np.float64), self.hidden])
