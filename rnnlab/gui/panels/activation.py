"""Activation: the nonlinearity and its bound γ on |f'| (the seeds: ‖∂h_t/∂h_k‖ ≤ (γ·σ_max)^(t−k))."""

from ...core.activations import get_activation
from ..maths import MathLabel, set_math_tooltip
from .base import ConfigSection

_GAMMA_TEXT = {1.0: "1", 0.25: "1/4"}
#: the tooltip of the bound (equations typeset)
GAMMA_TIP = r"""$\gamma = \sup_a |f'(a)|$ bounds each factor of the product of Jacobians:

$$\left\|\mathrm{diag}(f'(a_j))\, W_{hh}\right\| \le \gamma\, \sigma_{\max}(W_{hh}), \qquad
\left\|\frac{\partial h_t}{\partial h_k}\right\| \le (\gamma\, \sigma_{\max})^{t-k}$$

so gradients surely vanish when $\gamma\, \sigma_{\max} < 1$."""


class ActivationPanel(ConfigSection):
    section_title = "Activation"
    rows = [("f", "model.activation")]

    def build_extras(self) -> None:
        self.gamma_label = MathLabel()
        set_math_tooltip(self.gamma_label, GAMMA_TIP)
        self.form.addRow("bound γ", self.gamma_label)

    def sync_extras(self, exp) -> None:
        g = get_activation(exp.model.activation).gamma
        value = _GAMMA_TEXT.get(g, f"{g:g}")
        self.gamma_label.set_tex(rf"$\gamma = {value}$ (vanishing guaranteed when " + r"$\gamma\, \sigma_{\max} < 1$)")
