"""The spectrum of W_hh: eigenvalues in the complex plane, and ρ and σ_max over training.

Left: ``snap.eigenvalues`` (complex) with the unit circle and the circle of radius 1/γ (γ = ``snap.gamma`` bounds
|f'|: 1 for tanh, ReLU and linear units, 1/4 for the sigmoid, so 1/γ = 4). Eigenvalues inside 1/γ mean
γ·|λ| < 1; the seeds' argument says vanishing gradients are then certain when even the largest singular value
satisfies γσ_max < 1, and exploding needs |λ| > 1/γ. Equal aspect, so circles look like circles.

Right: the spectral radius ρ (largest |λ|) and σ_max (largest singular value) from ``history["spectral_radius"]``
and ``history["sigma_max"]`` on a log axis, with lines at 1 and at 1/γ, and the setting changes (``snap.events``).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from ._caption import add_caption
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

__all__ = ["SpectrumPlot"]

COLUMNS = ["step", "spectral_radius", "sigma_max"]
_THETA = np.linspace(0.0, 2.0 * np.pi, 361)
UNIT_COLOR = "#333333"
GAMMA_COLOR = COLORS[1]


class SpectrumPlot(SnapshotPlot):
    """Eigenvalues of W_hh with the circles |λ| = 1 and |λ| = 1/γ; ρ and σ_max over training."""

    title = "Spectrum of W_hh"
    view_id = "spectrum"
    label = "the spectrum of W_hh"
    waiting_text = "Waiting for the first diagnostics snapshot\n(the eigenvalues are computed every few steps)"

    def __init__(self, parent=None):
        super().__init__(parent)
        lw = self.layout_widget
        # --- the complex plane ---
        # one title over both plots (two titles side by side would not fit a narrow dock)
        self.heading = lw.addLabel("Spectrum of W_hh", row=0, col=0, colspan=2, size="12pt")
        self.plane = lw.addPlot(row=1, col=0)
        style_plot(self.plane, "", "Re λ", "Im λ")
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
        self.plane.addItem(self.eigs)
        # --- ρ and σ_max over training ---
        self.series = lw.addPlot(row=1, col=1, axisItems={"left": Log10Axis("left")})
        style_plot(self.series, "", "training step", "ρ, σ_max")
        self.series.setTitle(None)
        self.series.getAxis("bottom").setTickDensity(0.6)  # a narrow column: fewer step labels
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
        self.legend = pg.LegendItem(labelTextSize="11pt", colCount=2, frame=False)
        lw.addItem(self.legend, row=2, col=0, colspan=2)
        # the circles are named in the legend (text inside a small complex plane would hide eigenvalues)
        self.legend.addItem(self.rho_curve, "ρ = max |λ|")
        self.legend.addItem(self.sigma_curve, "σ_max")
        self.legend.addItem(self.unit, "circle |λ| = 1")
        # ρ, σ_max, γσ_max as numbers: a plain label under the scene (wraps; never widens a column)
        self.plane_note = add_caption(self)
        self.events = EventMarkers(self.series)
        self.range = SteppedRange(self.series)
        self.buf = SeriesBuffer(COLUMNS)
        self.eigenvalues: np.ndarray | None = None
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
        self.legend.getLabel(self.unit).setText("circle |λ| = 1 = 1/γ" if same else "circle |λ| = 1")
        self.legend.removeItem(self.inv_gamma)  # (no-op when absent) listed only when it is drawn
        if math.isfinite(r) and not same:
            self.inv_gamma.setData(r * np.cos(_THETA), r * np.sin(_THETA))
            self.legend.addItem(self.inv_gamma, f"circle |λ| = 1/γ = {r:g}")
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
        ev = snap.diagnostics.eigenvalues if snap.diagnostics is not None else None
        if ev is not None:
            ev = np.asarray(ev).astype(np.complex128).ravel()
            self.eigenvalues = ev
            ok = np.isfinite(ev.real) & np.isfinite(ev.imag)
            self.eigs.setData(ev.real[ok], ev.imag[ok])
            rho = float(np.max(np.abs(ev[ok]))) if ok.any() else 0.0
            self._fit_plane(max(1.0, 1.0 / g if g > 0 else 1.0, rho))
        rho, sig = float(snap.rho), float(snap.sigma_max)
        if math.isfinite(rho) and math.isfinite(sig):
            note = f"ρ = {rho:.3g} · σ_max = {sig:.3g} · γ·σ_max = {g * sig:.3g}"
            if abs(g - 1.0) < 1e-12:
                note += " · 1/γ = 1"
            if rho > 50 * max(1.0, 1.0 / g if g > 0 else 1.0):
                note += " (circles too small to see)"
            if snap.diagnostics is not None:  # at large H the eigenvalues are recomputed at a lower rate
                self._slow_note = getattr(snap.diagnostics, "slow_note", "")
            if getattr(self, "_slow_note", ""):  # ... and the view says which weights they are of
                note += f" · {self._slow_note}"
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

    def clear_data(self) -> None:
        self.range.reset()
        self.buf.clear()
        self.events.truncate(-np.inf)
        self.eigenvalues = None
        self.eigs.setData([], [])
        self.rho_curve.setData([], [])
        self.sigma_curve.setData([], [])
        self.plane_note.setText("")
        self.set_empty_text(self.empty_text)
        self.set_has_data(False)

    def data_table(self) -> tuple[list[str], np.ndarray]:
        """Two tables side by side (padded with NaN): the series ``step, spectral_radius, sigma_max`` and the
        eigenvalues ``eig_re, eig_im``."""
        header = COLUMNS + ["eig_re", "eig_im"]
        _, series = self.buf.table()
        ev = self.eigenvalues if self.eigenvalues is not None else np.zeros(0, dtype=complex)
        n = max(len(series), len(ev))
        out = np.full((n, 5), np.nan)
        out[: len(series), :3] = series
        out[: len(ev), 3] = ev.real
        out[: len(ev), 4] = ev.imag
        return header, out
