"""From an :class:`~rnnlab.config.Experiment` to a task, a network and the random streams they draw from."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..config import ConfigError, Experiment
from ..core.cells import get_cell
from ..core.network import Network, build_network

__all__ = ["Streams", "streams", "build", "checked_task", "output_kind", "apply_readout", "recurrent_spectrum",
           "probe_batch"]


@dataclass
class Streams:
    """Independent random streams spawned from the experiment seed (same seed, same draws)."""

    weights: np.random.Generator
    data: np.random.Generator
    eval: np.random.Generator
    probe: np.random.Generator
    extra: np.random.Generator


def streams(seed: int) -> Streams:
    """Five independent generators from ``SeedSequence(seed)``: weights, data, eval, probe, extra."""
    return Streams(*(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)))


def output_kind(task) -> str:
    """``softmax`` for classification tasks, ``linear`` for regression."""
    return "softmax" if task.kind == "classification" else "linear"


def checked_task(exp: Experiment):
    """The experiment's task, with the checks that involve the task (length, readout) as :class:`ConfigError`."""
    from .tasks import make_task

    try:
        task = make_task(exp.task)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if exp.model.readout == "every" and task.readout == "last":
        raise ConfigError(f"model.readout = 'every': task {task.name!r} has a target only at its last step; "
                          "expected 'task' or 'last'")
    return task


def build(exp: Experiment, rngs: Streams | None = None):
    """The task and a freshly drawn network of the experiment: ``(task, net, rngs)``. With ``model.source`` the
    network is the imported model's chosen layer and the task feeds it through the layers below
    (:func:`rnnlab.train.imported.build_imported`)."""
    rngs = rngs or streams(exp.seed)
    task = checked_task(exp)
    if exp.model.source:
        from .imported import build_imported

        task, net = build_imported(exp, task)
    else:
        net = build_network(exp.model, task.n_in, task.n_out, output_kind(task), rngs.weights)
    return task, net, rngs


def probe_batch(task, exp: Experiment, rngs: Streams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fixed probe batch ``(x, y, mask)`` that snapshots, ``state.npz`` and ``inspect --model`` diagnose:
    min(batch size, 8) sequences from the probe stream of the seed."""
    probe = task.sample(rngs.probe, min(exp.task.batch_size, 8))
    return probe.x, probe.y, apply_readout(probe.mask, exp.model.readout)


def apply_readout(mask: np.ndarray, readout: str) -> np.ndarray:
    """Restrict the task's mask (T, B) to the last scored step of each sequence when ``readout == "last"``."""
    if readout != "last":
        return mask
    T = mask.shape[0]
    out = np.zeros_like(mask)
    scored = mask > 0
    last = T - 1 - np.argmax(scored[::-1], axis=0)  # last scored step per sequence
    has = scored.any(axis=0)
    out[last[has], np.flatnonzero(has)] = 1.0
    return out


def recurrent_spectrum(exp: Experiment, spectral_radius: float | None = None) -> tuple[np.ndarray, float]:
    """Eigenvalues (complex (H,)) and σ_max of the recurrent matrix (:meth:`Cell.recurrent_matrix`) that a reset
    of ``exp`` with ``model.spectral_radius = spectral_radius`` (default: its own) would draw: same seed, same
    stream, same draw order.

    Every initialisation scheme draws W_hh independently of the target radius and then scales it linearly to it,
    so the matrix is drawn once per experiment and its spectrum rescaled (a preview that follows a slider costs
    nothing after the first call, even at H = 2048). Equal to drawing again up to rounding.
    """
    if exp.model.source:  # an imported model's weights are what they are: its own spectrum, never rescaled
        return _unit_spectrum(exp)
    cell = get_cell(exp.model.arch)
    rho = exp.model.spectral_radius if spectral_radius is None else float(spectral_radius)
    if "model.spectral_radius" in cell.unused_settings:  # (an orthogonal or LRU recurrence: ρ does not apply)
        return _unit_spectrum(exp)
    if not cell.radius_scales_recurrence:  # not linear in ρ: draw it at that radius
        return _unit_spectrum(exp.replace("model.spectral_radius", rho))
    ev, sv = _unit_spectrum(exp.replace("model.spectral_radius", 1.0))
    return ev * rho, sv * rho


@functools.lru_cache(maxsize=4)
def _unit_spectrum(exp: Experiment) -> tuple[np.ndarray, float]:
    from ..core.diagnostics import spectrum

    _, net, _ = build(exp)
    ev, sv = spectrum(net.recurrent_matrix())
    ev.setflags(write=False)
    return ev, float(sv[0])
