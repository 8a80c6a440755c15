"""From an :class:`~rnnlab.config.Experiment` to a task, a network and the random streams they draw from."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..config import ConfigError, Experiment
from ..core.cells import get_cell
from ..core.network import build_network

__all__ = ["Streams", "streams", "build", "checked_task", "output_kind", "apply_readout", "recurrent_spectrum",
           "memory_needed", "check_memory", "validate", "spectrum_cached", "probe_batch"]


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
    (:func:`rnnlab.train.imported.build_imported`).

    An experiment that validates but cannot be built (a task that needs longer sequences, a spectral radius too
    small to represent) raises :class:`ConfigError` saying why; nothing else escapes.
    """
    rngs = rngs or streams(exp.seed)
    task = checked_task(exp)
    if exp.model.source:
        from .imported import build_imported

        task, net = build_imported(exp, task)
        return task, net, rngs
    m = exp.model
    try:
        with np.errstate(all="raise"):
            net = build_network(m, task.n_in, task.n_out, output_kind(task), rngs.weights)
    except (ArithmeticError, ValueError) as exc:  # ZeroDivisionError, FloatingPointError, a refused draw
        why = str(exc) or type(exc).__name__
        if isinstance(exc, (FloatingPointError, ZeroDivisionError)):
            why = f"the weights are not representable in floating point ({why})"
        raise ConfigError(f"the network cannot be built with model.init = {m.init!r}, model.spectral_radius = "
                          f"{m.spectral_radius!r}: {why[:120]}") from None
    bad = [k for k, v in net.params.items() if not np.all(np.isfinite(v))]
    if bad:
        raise ConfigError(f"the network cannot be built: {', '.join(bad)} are not finite (model.spectral_radius = "
                          f"{m.spectral_radius!r}, model.input_scale = {m.input_scale!r})")
    return task, net, rngs


def validate(exp: Experiment, build_cost: float = 1e9, what: str = "app") -> None:
    """Everything that can be checked before switching to ``exp``: the rules (:func:`rnnlab.train.rules.check`),
    the task, the memory it would need (:func:`check_memory`) and, when drawing its network costs at most
    ``build_cost`` multiply-adds (the spectral rescaling of W_hh: H ≲ 300 for one block, ~0.1 s), building the
    network itself. Raises :class:`ConfigError` with the reason; larger networks are built by the engine, which
    refuses them the same way."""
    from ..core.diagnostics import spectrum_cost
    from .rules import cell_of, check

    check(exp)
    checked_task(exp)
    check_memory(exp, what)
    if 2 * cell_of(exp).blocks * spectrum_cost(exp.model.hidden_size) <= build_cost:
        build(exp)


# --- what an experiment needs ---------------------------------------------------------------------------------

def _sizes(exp: Experiment) -> dict[str, int]:
    from ..core.cells import get_cell

    cell = get_cell(exp.model.arch)
    H = exp.model.hidden_size
    task = checked_task(exp)
    return {"T": exp.task.length, "B": exp.task.batch_size, "H": H, "S": H * len(cell.state_parts),
            "G": H * cell.blocks, "I": task.n_in, "O": task.n_out, "E": exp.training.eval_batch_size}


#: bytes of one (T, rows, state) array of the held-out evaluation: the batch is run this many rows at a time
EVAL_CHUNK_BYTES = 64 * 1024 * 1024


def eval_rows(T: int, width: int, n: int, itemsize: int = 8) -> int:
    """Sequences per forward pass of the held-out evaluation: all ``n`` when a (T, n, width) array fits in
    :data:`EVAL_CHUNK_BYTES`, else as many as fit (at least 16). Measured at T = 2000, H = 32, 500 sequences: the
    whole batch at once took 1.3–2.5 s (its 768 MB of buffers page-faulted on every evaluation), rows of 64 took
    0.29–0.33 s."""
    return int(max(1, min(n, max(16, EVAL_CHUNK_BYTES // max(1, T * width * itemsize)))))


def memory_needed(exp: Experiment, what: str = "train") -> int:
    """Bytes an experiment needs at its peak, roughly (within a factor of about 2): ``"train"`` a training step
    (forward cache, backward temporaries, the held-out batch, parameters and optimiser state), ``"inspect"`` the
    diagnostics of ``rnnlab inspect`` on a batch of ``task.batch_size`` sequences with the exact heatmap, and
    ``"app"`` the app's engine (a training step and the budgeted diagnostics on 8 probe sequences, with the
    (T, T) pictures in the snapshot, its copy in transit and the window's copy)."""
    z = _sizes(exp)
    T, B, H, S, G, I, O, E = (z[k] for k in ("T", "B", "H", "S", "G", "I", "O", "E"))
    params = 8 * (G * (H + I + 1) + O * (H + 1))
    step = 8 * T * B * (3 * S + 4 * G + 2 * O + 2 * I) + 4 * params
    evaluate = 8 * T * (eval_rows(T, S, E) * (S + 2 * G) + E * (O + I))  # the batch whole, its passes in rows
    train = step + evaluate
    pictures = 8 * T * T * 2  # the heatmap and the gradient flow, (T, T) each
    # the timeline's checkpoints (rnnlab.train.timeline): weights and optimiser state, up to 400 of them within
    # its budget, or the newest alone when larger
    from .timeline import DEFAULT_BUDGET, HEADLESS_BUDGET, MAX_COUNT

    ring = lambda budget: max(3 * params, min(budget, MAX_COUNT * 3 * params))  # noqa: E731
    if what == "train":
        return int(train + ring(HEADLESS_BUDGET))
    if what == "inspect":
        width = S  # the exact heatmap: T blocks of S rows alive at the end of the sweep, two buffers
        sweep = 8 * 2 * T * width * S
        lyap = 8 * 2 * S * S
        return int(8 * T * B * (3 * S + 4 * G + 2 * O + 2 * I) + sweep + lyap + 2 * pictures + 4 * params)
    if what == "app":
        probes = min(S, exp.diagnostics.probes)
        sweep = 8 * 2 * T * probes * S
        return int(train + sweep + 8 * 2 * S * S + 3 * pictures + ring(DEFAULT_BUDGET))
    raise ValueError(f"what must be 'train', 'inspect' or 'app', got {what!r}")


def _bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def check_memory(exp: Experiment, what: str = "train", available: int | None = None) -> int:
    """Refuse (:class:`ConfigError`, before anything is allocated) an experiment whose :func:`memory_needed`
    exceeds the memory available now, saying how much it would need; returns the estimate."""
    from .._runtime import available_memory

    need = memory_needed(exp, what)
    have = available_memory() if available is None else available
    if have is not None and need > have:
        z = _sizes(exp)
        doing = {"train": "to train", "inspect": "to inspect", "app": "to train and draw"}[what]
        raise ConfigError(f"this experiment needs about {_bytes(need)} of memory {doing} (T = {z['T']}, "
                          f"B = {z['B']}, H = {z['H']}, held-out batch {z['E']}); {_bytes(have)} are available")
    return need


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


#: the last few unit spectra drawn (experiment with ρ = 1 → (eigenvalues, σ_max)), most recent last
_cache: list[tuple[Experiment, tuple[np.ndarray, float]]] = []
_cache_lock = threading.Lock()


def spectrum_cached(exp: Experiment) -> bool:
    """Whether :func:`recurrent_spectrum` of ``exp`` (any radius) is answered from the cache (instantly)."""
    key = exp.replace("model.spectral_radius", 1.0)
    with _cache_lock:
        return any(k == key for k, _ in _cache)


def _unit_spectrum(exp: Experiment) -> tuple[np.ndarray, float]:
    """The unit spectrum, cached (thread-safe: the window's preview computes large ones on a worker thread)."""
    with _cache_lock:
        for k, v in _cache:
            if k == exp:
                return v
    value = _compute_unit_spectrum(exp)
    with _cache_lock:
        _cache.append((exp, value))
        del _cache[:-4]
    return value


def _compute_unit_spectrum(exp: Experiment) -> tuple[np.ndarray, float]:
    from ..core.diagnostics import spectrum

    _, net, _ = build(exp)
    ev, sv = spectrum(net.recurrent_matrix())
    ev.setflags(write=False)
    return ev, float(sv[0])
