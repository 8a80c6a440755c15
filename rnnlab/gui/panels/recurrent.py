"""Recurrent weights: the initialisation of W_hh and its spectral radius, with a live preview of the eigenvalues
of the W_hh that the new setting would draw (before it is applied)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from superqt import QLabeledDoubleSlider

from ...core.init import sigma_max
from ...core.network import build_network
from ...train.setup import output_kind, streams
from ...train.tasks import make_task
from .base import ConfigSection, _tooltip


class RecurrentPanel(ConfigSection):
    section_title = "Recurrent weights W_hh"
    rows = [("Initialisation", "model.init"), ("Sparse: non-zeros per row", "model.sparse_k")]

    def build_extras(self) -> None:
        self.rho = QLabeledDoubleSlider(QtCore.Qt.Orientation.Horizontal)
        self.rho.setRange(0.05, 4.0)
        self.rho.setSingleStep(0.05)
        self.rho.setDecimals(2)
        self.rho.setToolTip(_tooltip("model.spectral_radius") + "<br>Drag to preview the eigenvalues; release to apply.")
        self.rho.setObjectName("model.spectral_radius")
        self.form.addRow("Spectral radius ρ", self.rho)
        self.rho.valueChanged.connect(self._preview)
        self.rho.sliderReleased.connect(self._apply_rho)
        self.rho.editingFinished.connect(self._apply_rho)  # typed values commit too
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

    def _apply_rho(self) -> None:
        self.controller.set_value("model.spectral_radius", round(float(self.rho.value()), 4))

    def _preview(self, rho: float | None = None) -> None:
        exp = self.controller.exp
        m = exp.model
        rho = float(self.rho.value()) if rho is None else float(rho)
        if rho <= 0:
            return
        # exactly the W_hh a reset would draw: same seed, same stream, same draw order
        if getattr(self, "_task_key", None) != exp.task:
            self._task, self._task_key = make_task(exp.task), exp.task
        net = build_network(exp.model.__class__(**{**m.to_dict(), "spectral_radius": rho}), self._task.n_in,
                            self._task.n_out, output_kind(self._task), streams(exp.seed).weights)
        W = net.recurrent_matrix()
        ev = np.linalg.eigvals(W)
        self._scatter.setData(ev.real, ev.imag)
        lim = max(1.2, rho * 1.15)
        self.preview.setRange(xRange=(-lim, lim), yRange=(-lim, lim), padding=0)
        pending = abs(rho - m.spectral_radius) > 1e-9
        self.preview_label.setText(
            f"preview: ρ = {rho:.2f}, σ_max = {sigma_max(W):.2f}" + ("  (release to apply)" if pending else ""))

    def sync_extras(self, exp) -> None:
        with QtCore.QSignalBlocker(self.rho):
            self.rho.setValue(min(max(exp.model.spectral_radius, 0.05), 4.0))
        self._preview(exp.model.spectral_radius)
        sparse = exp.model.init == "sparse"
        w = self.editors["model.sparse_k"].widget
        w.setEnabled(sparse)
        self.form.labelForField(w).setEnabled(sparse)
