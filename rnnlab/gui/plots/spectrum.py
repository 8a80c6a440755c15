"""The true spectrum of the recurrence: eigenvalues in the complex plane, and ρ and σ_max over training.

Left, the complex plane (equal aspect, so circles look like circles), with the unit circle and the circle of
radius 1/γ (γ = ``snap.gamma`` bounds |f'|: 1 for tanh, ReLU and linear units, 1/4 for the sigmoid, so 1/γ = 4):

* large dots: ``diagnostics.recurrence_eigenvalues``, the eigenvalues of the cell's *effective* linear recurrence,
  the matrix named by ``diagnostics.recurrence_matrix`` (vanilla: W_hh; leaky units: diag(α) + diag(1−α)·W_hh,
  whose spectrum decides their stability, not W_hh's). Cells without one (LSTM, GRU) draw none and say so;
* a cloud of small dots: ``diagnostics.jacobian_eigenvalues``, the eigenvalues of the actual step Jacobian
  ∂s_t/∂s_{t−1} at the probe sequence's states, one set per step t of ``diagnostics.jacobian_steps``, for every
  cell. Saturated units pull this cloud inside the circles (f' < γ); linear units put it on the large dots.

Right: ρ (largest |λ|) and σ_max (largest singular value) of W_hh, the matrix ``model.spectral_radius`` sets (its
candidate block for gated cells), from ``history["spectral_radius"]`` and ``history["sigma_max"]`` on a log axis,
with lines at 1 and at 1/γ, and the setting changes (``snap.events``).

The caption under the plots says which matrices are drawn. Nothing is computed here: the core's diagnostics fill
the bundle.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ...core.cells import get_cell

from ._caption import add_caption
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
from .grad_norms import FAST

__all__ = ["SpectrumPlot"]

COLUMNS = ["step", "spectral_radius", "sigma_max"]
_THETA = np.linspace(0.0, 2.0 * np.pi, 361)
UNIT_COLOR = "#333333"
GAMMA_COLOR = COLORS[1]
CLOUD_COLOR = (204, 121, 167, 150)  # COLORS[3], translucent: many points overlap


class SpectrumPlot(SnapshotPlot):
    """Eigenvalues of the effective recurrence and of the step Jacobians, with the circles |λ| = 1 and |λ| = 1/γ;
    ρ and σ_max of W_hh over training."""

    title = "Spectrum"
    view_id = "spectrum"
    label = "the spectrum of the recurrence"
    description = r'''Left, the complex plane. The large dots are the eigenvalues $\lambda$ of the cell's recurrence
matrix ($W_{hh}$ for the vanilla RNN; $\mathrm{diag}(\alpha) + \mathrm{diag}(1 - \alpha)\, W_{hh}$ for leaky units),
with the unit circle and the circle of radius $1/\gamma$, where $\gamma$ bounds $|f'|$ (1 for tanh, 1/4 for the
sigmoid). The cloud of small dots are the eigenvalues of the actual step Jacobians $\partial s_t/\partial s_{t-1}$
along the probe sequence; saturated units pull it inside the circles. Since

$$\left\|\frac{\partial h_j}{\partial h_{j-1}}\right\| \le \|\mathrm{diag}(f'(a_j))\|\, \|W_{hh}\| \le \gamma\,
\sigma_{\max}(W_{hh})$$

$\sigma_{\max}(W_{hh}) < 1/\gamma$ is sufficient for vanishing gradients, and $\sigma_{\max}(W_{hh}) > 1/\gamma$ is
necessary for exploding ones (Pascanu et al., 2013).

Right: the spectral radius $\rho$ (the largest $|\lambda|$) and $\sigma_{\max}$ of $W_{hh}$ over training, with
lines at 1 and $1/\gamma$.'''
    waiting_text = "Waiting for the first diagnostics snapshot\n(the eigenvalues are computed every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        # --- the complex plane ---
        # one title over both plots (two titles side by side would not fit a narrow dock)
        self.heading = lw.addLabel("Spectrum", row=0, col=0, colspan=2, size="12pt")
        self.plane = lw.addPlot(row=1, col=0)
        style_plot(self.plane, "", r"$\mathrm{Re}\,\lambda$", r"$\mathrm{Im}\,\lambda$")
        self.plane.setTitle(None)
        self.plane.setAspectLocked(True)
        self.plane.setMenuEnabled(False)
        self.unit = pg.PlotCurveItem(np.cos(_THETA), np.sin(_THETA), pen=pg.mkPen(UNIT_COLOR, width=PEN_WIDTH))
        self.inv_gamma = pg.PlotCurveItem(4 * np.cos(_THETA), 4 * np.sin(_THETA),
                                          pen=pg.mkPen(GAMMA_COLOR, width=PEN_WIDTH, style=QtCore.Qt.PenStyle.DashLine))
        self.plane.addItem(self.unit)
        self.plane.addItem(self.inv_gamma)
        self.eigs = pg.ScatterPlotItem(size=8, symbol="o", pen=pg.mkPen("#FFFFFF", width=0.5),
                                       brush=pg.mkBrush(COLORS[0]))
        self.eigs.setZValue(5)
        self.cloud = pg.ScatterPlotItem(size=5, symbol="o", pen=None, brush=pg.mkBrush(*CLOUD_COLOR))
        self.cloud.setZValue(6)  # over the (larger) dots: where J ≈ the recurrence, both stay visible
        self.plane.addItem(self.cloud)
        self.plane.addItem(self.eigs)
        # --- ρ and σ_max over training ---
        self.series = lw.addPlot(row=1, col=1, axisItems={"left": Log10Axis("left")})
        style_plot(self.series, "", "step", r"$\rho$, $\sigma_{\max}$")  # (short: the half of a narrow view)
        self.series.setTitle(None)
        self.series.getAxis("bottom").setTickDensity(0.3)  # a narrow column: few step labels
        self.series.setDownsampling(auto=True, mode="peak")
        self.series.setClipToView(True)
        self.series.setMenuEnabled(False)
        self.rho_curve = self.series.plot([], [], pen=pg.mkPen(COLORS[0], width=PEN_WIDTH), **FAST)
        self.sigma_curve = self.series.plot([], [], pen=pg.mkPen(COLORS[2], width=PEN_WIDTH), **FAST)
        self.one_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen(UNIT_COLOR, width=1.5),
                                        label="1", labelOpts={"position": 0.02, "color": UNIT_COLOR,
                                                              "anchors": [(0, 0), (0, 1)],
                                                              "fill": pg.mkBrush(255, 255, 255, 200)})
        self.gamma_line = pg.InfiniteLine(pos=math.log10(4.0), angle=0, movable=False,
                                          pen=pg.mkPen(GAMMA_COLOR, width=1.5, style=QtCore.Qt.PenStyle.DashLine),
                                          label="1/γ", labelOpts={"position": 0.02, "color": GAMMA_COLOR,
                                                                  "anchors": [(0, 0), (0, 1)],
                                                                  "fill": pg.mkBrush(255, 255, 255, 200)})
        self.series.addItem(self.one_line)
        self.series.addItem(self.gamma_line)
        # the complex plane keeps a square-ish share of the width (its aspect is locked)
        lw.ci.layout.setColumnStretchFactor(0, 1)
        lw.ci.layout.setColumnStretchFactor(1, 1)
        self.legend = pg.LegendItem(labelTextSize="10pt", colCount=3, frame=False)
        lw.addItem(self.legend, row=2, col=0, colspan=2)
        # the circles are named in the legend (text inside a small complex plane would hide eigenvalues)
        # short entries (a legend is as wide as its text); the caption names the matrices
        self.legend.addItem(self.eigs, "recurrence")
        self.legend.addItem(self.cloud, axis_html(r"$\partial s_t/\partial s_{t-1}$"))
        self.legend.addItem(self.rho_curve, axis_html(r"$\rho(W_{hh})$"))
        self.legend.addItem(self.sigma_curve, axis_html(r"$\sigma_{\max}(W_{hh})$"))
        self.legend.addItem(self.unit, "|λ| = 1")
        # which matrices are drawn, ρ, σ_max: a plain label under the scene (wraps; never widens a column)
        self.plane_note = add_caption(self)
        self.events = EventMarkers(self.series)
        self.range = SteppedRange(self.series)
        self.buf = SeriesBuffer(COLUMNS)
        self.eigenvalues: np.ndarray | None = None  # of the effective recurrence (empty: the cell has none)
        self.cloud_values = np.zeros((0, 0), dtype=np.complex128)  # (n_t, S) of the step Jacobians
        self.cloud_steps = np.zeros(0)
        self.gamma = 1.0
        self._radius = 0.0
        self._set_gamma(1.0)
        self._fit_plane(1.0)
        self.set_has_data(False)

    # --- updates ---
    def _set_gamma(self, gamma: float) -> None:
        self.gamma = gamma
        r = 1.0 / gamma if gamma > 0 else math.inf
        same = math.isfinite(r) and abs(r - 1.0) < 1e-12
        self.inv_gamma.setVisible(not same and math.isfinite(r))
        self.gamma_line.setVisible(not same and math.isfinite(r))
        self.one_line.label.setFormat("1 = 1/γ" if same else "1")
        self.legend.getLabel(self.unit).setText("|λ| = 1 = 1/γ" if same else "|λ| = 1")
        self.legend.removeItem(self.inv_gamma)  # (no-op when absent) listed only when it is drawn
        if math.isfinite(r) and not same:
            self.inv_gamma.setData(r * np.cos(_THETA), r * np.sin(_THETA))
            self.legend.addItem(self.inv_gamma, f"|λ| = 1/γ = {r:g}")
            self.gamma_line.setValue(math.log10(r))
            self.gamma_line.label.setFormat(f"1/γ = {r:g}")

    def _fit_plane(self, radius: float) -> None:
        if self._radius and abs(radius - self._radius) <= 0.05 * self._radius:
            return
        self._radius = radius
        R = 1.2 * radius
        self.plane.setRange(xRange=(-R, R), yRange=(-R, R), padding=0)

    def update_snapshot(self, snap) -> None:
        self.buf.append(snap.history)
        self.events.add(snap.events)
        g = float(getattr(snap, "gamma", 1.0) or 1.0)
        if g != self.gamma:
            self._set_gamma(g)
            self._radius = 0.0
        d = snap.diagnostics
        if d is not None:
            ev = np.asarray(d.recurrence_eigenvalues).astype(np.complex128).ravel()
            cloud = np.asarray(d.jacobian_eigenvalues).astype(np.complex128)
            self.eigenvalues = ev
            self.cloud_values = cloud.reshape(len(d.jacobian_steps), -1) if cloud.size else cloud.reshape(0, 0)
            self.cloud_steps = np.asarray(d.jacobian_steps, dtype=np.float64)
            ok = np.isfinite(ev.real) & np.isfinite(ev.imag)
            self.eigs.setData(ev.real[ok], ev.imag[ok])
            flat = self.cloud_values.ravel()
            okc = np.isfinite(flat.real) & np.isfinite(flat.imag)
            self.cloud.setData(flat.real[okc], flat.imag[okc])
            rho_rec = float(np.max(np.abs(ev[ok]))) if ok.any() else 0.0
            rho_jac = float(np.max(np.abs(flat[okc]))) if okc.any() else 0.0
            self._fit_plane(max(1.0, 1.0 / g if g > 0 else 1.0, rho_rec, rho_jac))
            note = self._note(snap, d, ev[ok], rho_rec, rho_jac, g)
            slow = getattr(d, "slow_note", "")  # at large H the eigenvalues are recomputed at a lower rate ...
            if slow:  # ... and the view says which weights they are of
                note += f" · {slow}"
            self.plane_note.setText(note)
        x = self.buf.column("step")
        ys = [np.array([0.0])]  # the line at 1 stays in view
        for name, c in (("spectral_radius", self.rho_curve), ("sigma_max", self.sigma_curve)):
            y = log10_safe(self.buf.column(name))
            ok = np.isfinite(y)
            c.setData(x[ok], y[ok], skipFiniteCheck=True)
            ys.append(y)
        self.range.update(x, ys)
        if self.eigenvalues is None:
            self.set_empty_text(self.waiting_text)
        self.set_has_data(self.eigenvalues is not None or self.buf.n > 0)

    def _note(self, snap, d, ev: np.ndarray, rho_rec: float, rho_jac: float, g: float) -> str:
        """The caption (short: a narrow column): which matrices are drawn, and their largest |λ|."""
        n_t = len(d.jacobian_steps)
        cloud = (axis_html(r"cloud: eig of $\partial s_t/\partial s_{t-1}$") +
                 f" at {n_t} probe step{'s' if n_t != 1 else ''}, max |λ| = {rho_jac:.3g}")
        if d.recurrence_matrix:
            dots = f"dots: eig of {html.escape(d.recurrence_matrix)}, ρ = {rho_rec:.3g}"
        else:
            cfg = getattr(snap, "config", None)
            label = get_cell(cfg.model.arch).label if cfg is not None else "cell"
            dots = f"no dots: the {html.escape(label)} has no state-independent recurrence"
        far = max(rho_rec, rho_jac)
        small = " (circles too small to see)" if far > 50 * max(1.0, 1.0 / g if g > 0 else 1.0) else ""
        return f"{dots} · {cloud}{small}"

    def clear_data(self) -> None:
        self.range.reset()
        self.buf.clear()
        self.events.truncate(-np.inf)
        self.eigenvalues = None
        self.cloud_values = np.zeros((0, 0), dtype=np.complex128)
        self.cloud_steps = np.zeros(0)
        self.eigs.setData([], [])
        self.cloud.setData([], [])
        self.rho_curve.setData([], [])
        self.sigma_curve.setData([], [])
        self.plane_note.setText("")
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """Three tables side by side (padded with NaN): the series ``step, spectral_radius, sigma_max``, the
        eigenvalues of the effective recurrence ``eig_re, eig_im``, and the cloud ``jac_step, jac_re, jac_im``
        (one row per eigenvalue of ∂s_t/∂s_{t−1} at step ``jac_step``)."""
        header = COLUMNS + ["eig_re", "eig_im", "jac_step", "jac_re", "jac_im"]
        _, series = self.buf.table()
        ev = self.eigenvalues if self.eigenvalues is not None else np.zeros(0, dtype=complex)
        cloud = self.cloud_values
        jt = np.repeat(self.cloud_steps, cloud.shape[1]) if cloud.size else np.zeros(0)
        flat = cloud.ravel()
        n = max(len(series), len(ev), len(flat))
        out = np.full((n, 8), np.nan)
        out[: len(series), :3] = series
        out[: len(ev), 3] = ev.real
        out[: len(ev), 4] = ev.imag
        out[: len(flat), 5] = jt
        out[: len(flat), 6] = flat.real
        out[: len(flat), 7] = flat.imag
        return header, out
