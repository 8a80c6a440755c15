"""The numeric core of rnnlab (NumPy only, never Qt).

Build a network, run it, backpropagate exactly, and measure ∂h_t/∂h_k::

    import numpy as np
    from rnnlab.config import ModelConfig
    from rnnlab.core import build_network, loss_and_grads, diagnose

    net = build_network(ModelConfig(hidden_size=32, spectral_radius=1.5), n_in=8, n_out=8, output="linear",
                        rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((100, 16, 8))        # (T, B, I)
    y = np.zeros((100, 16, 8)); mask = np.ones((100, 16))
    loss, grads, trace = loss_and_grads(net, x, y, mask)             # full BPTT
    diag, trace, grads = diagnose(net, x, y, mask)
    diag.jacobian_log10                                              # (T, T) log10 ‖∂h_t/∂h_k‖, NaN above diagonal
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .bptt import Trace, backward, forward, loss_and_dz, loss_and_grads, outputs, tbptt_windows
from .diagnostics import (
    Diagnostics,
    autonomous_lyapunov,
    diagnose,
    estimate_error_log10,
    estimate_error_text,
    grad_norms,
    gradient_flow_log10,
    jacobian_eigenvalues,
    jacobian_log10,
    lag_bound,
    lag_profile,
    log_norm_sweep,
    long_term_split,
    lyapunov_spectrum,
    network_lyapunov,
    param_sensitivity,
    regime,
    saturation_histogram,
    spectrum,
)
from .init import init_recurrent, orthogonal, sigma_max, spectral_radius
from .network import Network, build_network

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "Trace", "forward", "backward", "loss_and_dz", "loss_and_grads", "outputs", "tbptt_windows",
    "Diagnostics", "diagnose", "jacobian_log10", "jacobian_eigenvalues", "estimate_error_log10",
    "estimate_error_text", "gradient_flow_log10", "lag_profile", "lag_bound", "log_norm_sweep", "grad_norms",
    "long_term_split", "param_sensitivity", "spectrum", "saturation_histogram",
    "lyapunov_spectrum", "network_lyapunov", "autonomous_lyapunov", "regime",
    "init_recurrent", "orthogonal", "sigma_max", "spectral_radius",
    "Network", "build_network",
]
