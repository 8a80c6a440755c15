"""Recurrent weights: the initialisation of W_hh and its spectral radius, with a live preview of the eigenvalues
of the W_hh the new setting would draw (before it is applied; computed by the training code, not here)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...config import ConfigError
from ...train.setup import recurrent_spectrum, spectrum_cached
from .base import ConfigSection


class RecurrentPanel(ConfigSection):
    section_title = "Recurrent weights W_hh"
    rows = [("Initialisation", "model.init"), ("Spectral radius ρ", "model.spectral_radius"),
            ("Sparse: non-zeros per row", "model.sparse_k"), ("Non-normality η", "model.nonnormality")]

    def build_extras(self) -> None:
        self.rho = self.editors["model.spectral_radius"].widget  # a log slider over config's whole range
        self.rho.moved.connect(self._preview)
        self.preview = pg.PlotWidget(background="w")
        self.preview.setFixedHeight(190)
        self.preview.setAspectLocked(True)
        self.preview.setMouseEnabled(False, False)
        self.preview.hideButtons()
        self.preview.setToolTip("Eigenvalues of the W_hh the slider would draw (same seed), with the unit circle.")
        t = np.linspace(0, 2 * np.pi, 200)
        self.preview.plot(np.cos(t), np.sin(t), pen=pg.mkPen("#888888", width=1, style=QtCore.Qt.PenStyle.DashLine))
        self._scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush("#0072B2"), pen=None)
        self.preview.addItem(self._scatter)
        self.preview_label = QtWidgets.QLabel()
        self.form.addRow(self.preview)
        self.form.addRow(self.preview_label)

    #: the preview is drawn when drawing W_hh and its eigenvalues costs at most this many multiply-adds (H ≲ 330,
    #: ~0.1 s); beyond it would stall the window (H = 2048: ~30 s on one core), and the spectrum view shows the
    #: network's eigenvalues anyway
    INLINE_COST = 1.5e9

    def _preview(self, rho: float | None = None) -> None:
        exp = self.controller.exp
        rho = exp.model.spectral_radius if rho is None else float(rho)
        self.preview_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        if not spectrum_cached(exp) and _preview_cost(exp) > self.INLINE_COST:
            self._scatter.setData([], [])
            self.preview_label.setText(f"no live preview at H = {exp.model.hidden_size} (its eigenvalues would take "
                                       "seconds); the spectrum view shows the network's")
            return
        try:
            ev, smax = recurrent_spectrum(exp, rho)
        except ConfigError as exc:  # the experiment cannot be built (the controller reports it elsewhere)
            self.preview_label.setText(f"no preview: {exc}")
            return
        self._scatter.setData(ev.real, ev.imag)
        if exp.model.source:  # an imported model's own W_hh: nothing to preview, its spectrum as it is
            rho = float(np.abs(ev).max()) if ev.size else 0.0
            self.preview.setRange(xRange=(-max(1.2, rho * 1.15), max(1.2, rho * 1.15)),
                                  yRange=(-max(1.2, rho * 1.15), max(1.2, rho * 1.15)), padding=0)
            self.preview_label.setText(f"the imported W_hh: ρ = {rho:.3g}, σ_max = {smax:.3g}")
            return
        lim = max(1.2, rho * 1.15)
        self.preview.setRange(xRange=(-lim, lim), yRange=(-lim, lim), padding=0)
        pending = abs(rho - exp.model.spectral_radius) > 1e-9 * max(1.0, rho)
        self.preview_label.setText(
            f"preview: ρ = {rho:.3g}, σ_max = {smax:.3g}" + ("  (release to apply)" if pending else ""))

    def sync_extras(self, exp) -> None:
        self._preview(exp.model.spectral_radius)


def _preview_cost(exp) -> float:
    """Multiply-adds of drawing the unit W_hh (two eigenvalue computations per block) and its spectrum."""
    from ...core.diagnostics import spectrum_cost
    from ...train.rules import cell_of

    return spectrum_cost(exp.model.hidden_size) * (2 * cell_of(exp).blocks + 1)
