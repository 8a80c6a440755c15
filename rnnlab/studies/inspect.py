"""``rnnlab inspect``: build a network from an experiment, run a probe batch and collect every diagnostic.

The ``.npz`` file (load it with ``np.load(path, allow_pickle=False)``) holds:

======================  ===================  =========================================================
key                     shape                meaning
======================  ===================  =========================================================
W_hx, W_hh, b_h         see core.network     the parameters under their documented names
W_yh, b_y, (alpha)
x                       (T, B, I)            probe inputs
y                       (T, B) or (T, B, O)  targets (class indices or values)
mask                    (T, B)               1 where the output is scored
h                       (T, B, H)            hidden states, h[t] the state after input t
z                       (T, B, O)            readout pre-activations (logits or predictions)
loss                    ()                   loss of the probe batch
grad_<name>             like <name>          gradient of that loss (full BPTT)
jacobian_log10          (T, T)               log10 ‖∂s_t/∂s_k‖ of probe sequence 0; NaN above the diagonal
lag_profile             (T,)                 mean over t of jacobian_log10[t, t − d], d = 0 … T−1
lag_bound               (T,)                 d·log10(γ σ_max) + log10 ‖I‖ (the seeds' bound)
gradient_flow_log10     (T, T)               log10 ‖∂E_t/∂s_k‖ of probe sequence 0
eigenvalues             (H,) complex         of W_hh (LSTM/GRU: the candidate block), by modulus
singular_values         (H,)                 of the same matrix, decreasing
lyapunov                (m,)                 top Lyapunov exponents of the driven dynamics (per step)
saturation_counts       (20,)                histogram of f'(a) on [0, γ] ...
saturation_edges        (21,)                ... and its bin edges
long_term               (3,)                 ‖∂E/∂W_hh short‖, ‖long‖ (lags > L), long share
rho, sigma_max, gamma   ()                   ρ(W_hh), σ_max(W_hh), γ
config                  () str               the experiment as TOML
======================  ===================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Experiment, dumps_toml
from .core.diagnostics import Diagnostics, diagnose, regime

__all__ = ["InspectResult", "inspect_experiment", "collect", "summary", "diagnostics_arrays"]


@dataclass
class InspectResult:
    experiment: Experiment
    arrays: dict[str, np.ndarray]
    diagnostics: Diagnostics
    task_name: str
    arch: str
    linear: bool

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez(fh, **self.arrays)


def diagnostics_arrays(d: Diagnostics) -> dict[str, np.ndarray]:
    """The diagnostics as named arrays (the keys of the table above)."""
    return {
        "jacobian_log10": d.jacobian_log10,
        "lag_profile": d.lag_profile,
        "lag_bound": d.lag_bound,
        "gradient_flow_log10": d.gradient_flow_log10,
        "eigenvalues": d.eigenvalues,
        "singular_values": d.singular_values,
        "lyapunov": d.lyapunov,
        "saturation_counts": d.saturation_counts,
        "saturation_edges": d.saturation_edges,
        "long_term": np.asarray(d.long_term, dtype=np.float64),
        "rho": np.asarray(d.rho),
        "sigma_max": np.asarray(d.sigma_max),
        "gamma": np.asarray(d.gamma),
    }


def inspect_experiment(exp: Experiment) -> InspectResult:
    """Build the experiment's network, sample one probe batch of its task and run :func:`diagnose` on it."""
    from .train.setup import apply_readout, build

    task, net, rngs = build(exp)
    batch = task.sample(rngs.probe, exp.task.batch_size)
    mask = apply_readout(batch.mask, exp.model.readout)
    return collect(exp, task.name, net, batch.x, batch.y, mask, rngs.extra)


def collect(exp: Experiment, task_name: str, net, x, y, mask, rng=None) -> InspectResult:
    """Diagnostics and arrays of ``net`` on the probe batch (x, y, mask) (used by inspect and run)."""
    diag, trace, grads = diagnose(net, x, y, mask, exp.diagnostics, rng=rng)
    arrays: dict[str, np.ndarray] = {k: v for k, v in net.params.items()}
    arrays.update(x=trace.x, y=y, mask=mask, h=np.ascontiguousarray(trace.hidden(net)), z=trace.z,
                  loss=np.asarray(diag.loss))
    arrays.update({f"grad_{k}": v for k, v in grads.items()})
    arrays.update(diagnostics_arrays(diag))
    arrays["config"] = np.asarray(dumps_toml(exp))
    return InspectResult(exp, arrays, diag, task_name, net.arch, exp.model.activation == "linear")


def summary(res: InspectResult) -> str:
    """A few lines for a person: ρ, σ_max, γ·σ_max and the regime they predict."""
    d = res.diagnostics
    gs = d.gamma * d.sigma_max
    heat = d.jacobian_log10
    T = heat.shape[0]
    lines = [
        f"{res.arch} network on task {res.task_name!r}, T = {T}",
        f"  ρ(W_hh) = {d.rho:.4g}   σ_max(W_hh) = {d.sigma_max:.4g}   γ = {d.gamma:g}   γ·σ_max = {gs:.4g}",
        f"  regime: {regime(gs, d.rho, d.gamma, res.linear)}",
        f"  log10 ‖∂h_T/∂h_1‖ = {heat[T - 1, 0]:.4g}   (bound: {d.lag_bound[T - 1]:.4g})",
        f"  top Lyapunov exponent (per step) = {d.lyapunov[0]:.4g}",
        f"  long-term share of ‖∂E/∂W_hh‖ (lags > L) = {d.long_term[2]:.3f}",
        f"  loss = {d.loss:.4g}   ‖∇‖ = {d.grad_norms['total']:.4g}",
    ]
    return "\n".join(lines)
