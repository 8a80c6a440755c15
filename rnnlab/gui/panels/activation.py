"""Activation: the nonlinearity and its bound γ on |f'| (the seeds: ‖∂h_t/∂h_k‖ ≤ (γ·σ_max)^(t−k))."""

from PySide6 import QtWidgets

from ...core.activations import get_activation
from .base import ConfigSection

_GAMMA_TEXT = {1.0: "1", 0.25: "1/4"}


class ActivationPanel(ConfigSection):
    section_title = "Activation"
    rows = [("f", "model.activation")]

    def build_extras(self) -> None:
        self.gamma_label = QtWidgets.QLabel()
        self.gamma_label.setToolTip("γ = sup |f'(a)| bounds each factor: ‖diag(f'(a_j)) W_hh‖ ≤ γ·σ_max(W_hh), so "
                                    "‖∂h_t/∂h_k‖ ≤ (γ·σ_max)^(t−k): vanishing when γ·σ_max < 1.")
        self.form.addRow("bound γ", self.gamma_label)

    def sync_extras(self, exp) -> None:
        g = get_activation(exp.model.activation).gamma
        self.gamma_label.setText(f"γ = {_GAMMA_TEXT.get(g, f'{g:g}')}   (vanishing guaranteed when γ·σ_max < 1)")
