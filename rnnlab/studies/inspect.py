"""Inspect a network (``rnnlab inspect``): build it from an experiment, run a probe batch, collect every diagnostic.

The ``.npz`` file holds the parameters, the probe batch, its loss and gradients and every diagnostic; its keys and
shapes are the table in :mod:`rnnlab.train.outputs` (``rnnlab run``'s ``state.npz`` holds the same arrays). Load
it with ``np.load(path, allow_pickle=False)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Experiment
from ..core.diagnostics import Diagnostics
from ..train.outputs import probe_arrays, save_npz

__all__ = ["InspectResult", "inspect_experiment", "collect", "summary", "predicted_seconds"]


@dataclass
class InspectResult:
    experiment: Experiment
    arrays: dict[str, np.ndarray]
    diagnostics: Diagnostics
    task_name: str
    arch: str
    linear: bool

    def save(self, path: str | Path) -> None:
        """Write :attr:`arrays` to ``path`` (``.npz``, atomically)."""
        save_npz(self.arrays, path)


def inspect_experiment(exp: Experiment, progress=None) -> InspectResult:
    """Build the experiment's network, sample one probe batch of its task and run :func:`diagnose` on it;
    ``progress(fraction)`` follows the work (see :func:`rnnlab.core.diagnostics.diagnose`).

    An imported model (``model.source``) is diagnosed on the probe batch the window shows
    (:func:`rnnlab.train.setup.probe_batch`), passed through its front end; an rnnlab ``.npz`` opened without other
    data on the probe batch stored in it, so a run's ``state.npz`` gives back its own diagnostics.
    """
    from ..train.setup import apply_readout, build, probe_batch

    task, net, rngs = build(exp)
    if exp.model.source:
        x, y, mask = _stored_probe(exp, task) or probe_batch(task, exp, rngs)
        return collect(exp, task.name, net, x, y, mask, rngs.extra, no_loss=task.no_loss, progress=progress)
    batch = task.sample(rngs.probe, exp.task.batch_size)
    mask = apply_readout(batch.mask, exp.model.readout)
    return collect(exp, task.name, net, batch.x, batch.y, mask, rngs.extra, progress=progress)


def predicted_seconds(exp: Experiment, rate: float = 2e9) -> float:
    """A rough prediction of :func:`inspect_experiment`'s wall time from its multiply-adds (at ``rate`` per
    second, about one core of the development machine): to decide whether to show progress."""
    from ..core.cells import get_cell
    from ..core.diagnostics import bptt_cost, heatmap_cost, slow_cost

    cell = get_cell(exp.model.arch)
    H = exp.model.hidden_size
    S, G, T, B = H * len(cell.state_parts), H * cell.blocks, exp.task.length, exp.task.batch_size
    m = min(exp.diagnostics.lyapunov, S)
    width = S if exp.diagnostics.mode == "exact" else exp.diagnostics.probes
    ops = 2 * bptt_cost(T, B, G, H) + heatmap_cost(T, S, G, H, width) + heatmap_cost(T, S, G, H, 1) \
        + slow_cost(T, S, G, H, m)
    return ops / rate


def _stored_probe(exp: Experiment, task):
    """The probe batch of an rnnlab .npz, when the experiment diagnoses it on the task it was made with."""
    from ..models import open_model

    m = open_model(exp.model.source)
    if m.probe is None or m.experiment is None or exp.task != m.experiment.task:
        return None
    x, y, mask = m.probe
    return task.front_end(x), y, mask


def collect(exp: Experiment, task_name: str, net, x, y, mask, rng=None, no_loss: str = "",
            progress=None) -> InspectResult:
    """Diagnostics and arrays of ``net`` on the probe batch ``x`` (T, B, I), ``y``, ``mask`` (T, B) (see
    :func:`rnnlab.train.outputs.probe_arrays`)."""
    arrays, diag = probe_arrays(exp, net, x, y, mask, rng, no_loss=no_loss, progress=progress)
    return InspectResult(exp, arrays, diag, task_name, net.arch, exp.model.activation == "linear")


def summary(res: InspectResult) -> str:
    """A few lines for a person: ρ and σ_max of W_hh, the step bound the cell states (only where one holds) and
    the regime it forces (:func:`rnnlab.core.diagnostics.regime`)."""
    d = res.diagnostics
    gs = d.gamma * d.sigma_max
    heat = d.jacobian_log10
    T = heat.shape[0]
    from ..train.imported import describe

    lines = [describe(res.experiment)] if res.experiment.model.source else []
    lines += [
        f"{res.arch} network on task {res.task_name!r}, T = {T}",
        f"  ρ(W_hh) = {d.rho:.4g}   σ_max(W_hh) = {d.sigma_max:.4g}   γ = {d.gamma:g}   γ·σ_max = {gs:.4g}",
    ]
    if d.recurrence_matrix and d.recurrence_matrix != "W_hh" and d.recurrence_eigenvalues.size:
        lines.append(f"  ρ({d.recurrence_matrix}) = {np.max(np.abs(d.recurrence_eigenvalues)):.4g}"
                     "   (the effective linear recurrence)")
    if d.step_bound_formula:
        lines.append(f"  step bound: ‖∂s_t/∂s_{{t−1}}‖₂ ≤ b = {d.step_bound_formula} = {d.step_bound:.4g}")
    else:
        lines.append("  step bound: none is stated for this cell")
    lines.append(f"  regime: {d.regime}")
    far = f"  log10 ‖∂s_T/∂s_1‖ = {heat[T - 1, 0]:.4g}"
    if np.isfinite(d.lag_bound[T - 1]):
        far += f"   (bound: {d.lag_bound[T - 1]:.4g})"
    lines += [
        far,
        f"  top Lyapunov exponent (per step) = {d.lyapunov[0]:.4g}",
        f"  long-term share of ‖∂E/∂W_hh‖ (lags > L) = {d.long_term[2]:.3f}",
    ]
    if d.loss_note:
        lines[-1] = "  long-term share of ‖∂E/∂W_hh‖: no loss"
        lines.append(f"  loss: none ({d.loss_note})")
    else:
        lines.append(f"  loss = {d.loss:.4g}   ‖∇‖ = {d.grad_norms['total']:.4g}")
    return "\n".join(lines)
