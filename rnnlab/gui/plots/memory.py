"""The curse of memory (Zucchet & Orvieto 2024): how much the state moves when the recurrence's own parameters move,
‖ds_t/dθ_rec‖ along the probe sequence, beside how much it depends on its past, ‖∂s_t/∂s_{t−d}‖.

``snap.diagnostics.param_sensitivity[t]`` is log10 ‖ds_t/dθ_rec‖_F (forward-mode tangents, computed in
:func:`rnnlab.core.diagnostics.param_sensitivity`; θ_rec is the cell's ``recurrent_params``: W_hh, the IndRNN's
u, the LRU's ν and θ, …) drawn against t, and ``lag_profile[d]`` (the heatmap's mean diagonal) against the lag d
on the same axis. Fixing ∂s_t/∂s_k (keeping it ≤ 1) is not the end of the story: the sensitivity sums the
contributions of every past step, so as |λ| → 1 it can explode while every ‖∂s_t/∂s_k‖ stays ≤ 1; the LRU's
normalisation γ = √(1 − |λ|²) keeps it bounded.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.cells import get_cell
from ._caption import add_caption
from .base import COLORS, PEN_WIDTH, Log10Axis, SnapshotPlot, axis_html, style_plot

__all__ = ["MemoryPlot"]

# the caption's quantities, set as formulas (rich text)
_SENS = axis_html(r"$\|ds_t/d\theta_{\mathrm{rec}}\|$")
_LAG = axis_html(r"$\|\partial s_t/\partial s_{t-d}\|$")
_REC = axis_html(r"$\theta_{\mathrm{rec}}$")


class MemoryPlot(SnapshotPlot):
    """log10 ‖ds_t/dθ_rec‖ against t and the lag profile log10 ‖∂s_t/∂s_{t−d}‖ against d, on one log axis."""

    title = "Curse of memory"
    view_id = "memory"
    label = "the curse-of-memory view"
    description = r'''The curse of memory (Zucchet & Orvieto, 2024). One curve is $\log_{10} \|\mathrm{d}
s_t/\mathrm{d} \theta_{\mathrm{rec}}\|$ against $t$: how much the state moves when the recurrence's own parameters
move ($W_{hh}$, the IndRNN's $u$, the LRU's $\nu$ and $\theta$). The other is the lag profile $\log_{10} \|\partial
s_t/\partial s_{t-d}\|$ against $d$, on the same axis. The sensitivity sums the contributions of every past step,

$$\frac{\mathrm{d} s_t}{\mathrm{d} \theta_{\mathrm{rec}}} = \sum_{k \le t} \frac{\partial s_t}{\partial s_k}
\frac{\partial^+ s_k}{\partial \theta_{\mathrm{rec}}}$$

so keeping every $\|\partial s_t/\partial s_k\| \le 1$ is not enough: as $|\lambda| \to 1$ the sum can still
explode. The LRU's normalisation $\gamma = \sqrt{1 - |\lambda|^2}$ keeps it bounded.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the sensitivity is computed with the heatmap)"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.layout_widget.addPlot(row=0, col=0, axisItems={"left": Log10Axis("left")})
        style_plot(self.plot, "Sensitivity to the recurrence", "$t$ (sensitivity) · $d$ (lag profile)", "norm")
        self.plot.setMenuEnabled(False)
        self.sens = self.plot.plot([], [], pen=pg.mkPen(COLORS[3], width=PEN_WIDTH + 1), skipFiniteCheck=True)
        self.lag = self.plot.plot([], [], pen=pg.mkPen(COLORS[0], width=PEN_WIDTH,
                                                       style=QtCore.Qt.PenStyle.DashLine), skipFiniteCheck=True)
        self.one = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen("#555555", width=1.5))
        self.plot.addItem(self.one, ignoreBounds=True)
        # the key is the caption's first words, in the curves' colours (a legend would take the short plot's height)
        self.caption = add_caption(self)
        self.caption.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self._sens = np.zeros(0)
        self._lag = np.zeros(0)
        self.set_has_data(False)

    def update_snapshot(self, snap) -> None:
        d = snap.diagnostics
        sens = None if d is None else getattr(d, "param_sensitivity", None)
        if sens is None:
            if not self.has_data:
                self.set_empty_text(self.waiting_text)
            return  # keep the previous drawing
        self._sens = np.asarray(sens, dtype=np.float64)
        self._lag = np.asarray(d.lag_profile, dtype=np.float64)
        x = np.arange(len(self._sens), dtype=np.float64)
        ok = np.isfinite(self._sens)
        self.sens.setData(x[ok], self._sens[ok], skipFiniteCheck=True)
        xl = np.arange(len(self._lag), dtype=np.float64)
        okl = np.isfinite(self._lag)
        self.lag.setData(xl[okl], self._lag[okl], skipFiniteCheck=True)
        cfg = getattr(snap, "config", None)
        names = ", ".join(get_cell(cfg.model.arch).recurrent_params) if cfg is not None else "θ_rec"
        mode = html.escape(str(getattr(d, "sensitivity_mode", "exact")))
        text = (f"<span style='color:{COLORS[3]}'><b>━ {_SENS}</b></span> against <i>t</i>, "
                f"<span style='color:{COLORS[0]}'><b>╌ {_LAG}</b></span> against <i>d</i>")
        if ok.any() and okl.any():
            text += (f": at most {_fmt(np.max(self._sens[ok]))} and {_fmt(np.max(self._lag[okl]))} · "
                     f"{_REC} = {html.escape(names)} ({mode})")
        self.caption.setText(text)
        self.caption.setToolTip(
            "‖ds_t/dθ_rec‖: how much the state at step t moves when the recurrence's own parameters move "
            "(forward-mode tangents along the probe sequence). ‖∂s_t/∂s_(t−d)‖: the heatmap's mean diagonal. "
            "The sensitivity adds up every past step, so it can grow where ∂s/∂s stays ≤ 1 (the curse of memory).")
        self.set_has_data(True)

    def clear_data(self) -> None:
        self.sens.setData([], [])
        self.lag.setData([], [])
        self.caption.setText("")
        self._sens = self._lag = np.zeros(0)
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        n = max(len(self._sens), len(self._lag))
        out = np.full((n, 3), np.nan)
        out[:, 0] = np.arange(n)
        out[: len(self._sens), 1] = self._sens
        out[: len(self._lag), 2] = self._lag
        return ["t_or_d", "log10_sensitivity", "log10_lag_profile"], out


def _fmt(log10v: float) -> str:
    """10^x as a short number (1.3·10⁴, 0.02)."""
    if not np.isfinite(log10v):
        return "0" if log10v < 0 else "∞"
    if -3.0 <= log10v < 4.0:
        return f"{10.0 ** log10v:.3g}"
    return f"10^{log10v:.1f}"  # (no power: an exploding run reaches 10^500)
