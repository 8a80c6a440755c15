"""An imported model as an experiment: ``model.source`` names the file, ``model.source_layer`` and
``model.source_direction`` the layer and direction diagnosed, ``model.source_readout`` the readout.

* :func:`experiment_for` makes the experiment of a model file (what ``--model`` and File ▸ Open model… do): the
  cell, its size and GRU variant and, where the file records it, the activation are the file's; with ``data`` the
  task is the ``file`` task on it, else the ``random`` task (noise of the model's input width, nothing scored).
* :func:`build_imported` is what :func:`rnnlab.train.setup.build` does for it: the chosen layer and direction as a
  :class:`~rnnlab.core.network.Network` of rnnlab's own cell (with the readout, when one fits, else none) and the
  task wrapped in :class:`ImportedTask`, which passes every batch through the layers below (the fixed front end),
  so the trainer, the snapshots and ``inspect`` see the chosen layer's exact input and know nothing else.
* :func:`check` and :func:`applies` answer for :mod:`rnnlab.train.rules`: whether the experiment fits its file,
  and which settings the file fixes.
* :func:`export_weights` writes the (fine-tuned) weights back as safetensors under the file's own names and
  layout (Export run does it beside state.npz).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import ConfigError, Experiment, _short
from ..core.cells import get_cell
from ..core.network import Network
from .tasks.base import Batch, Task

__all__ = ["experiment_for", "build_imported", "check", "check_data", "applies", "no_loss", "data_of",
           "ImportedTask", "export_weights", "describe", "FIXED_BY_FILE"]

#: model settings an imported model's file decides (they would draw or shape new weights)
FIXED_BY_FILE = ("model.arch", "model.hidden_size", "model.init", "model.spectral_radius", "model.sparse_k",
                 "model.input_scale", "model.output_scale", "model.leak_min", "model.leak_max",
                 "model.gru_reset_after")


def _model(exp: Experiment):
    from ..models import open_model

    return open_model(exp.model.source)


def experiment_for(path, *, layer: int = 0, direction: str = "forward", readout: str = "", data=None,
                   base: Experiment | None = None, changes: dict | None = None) -> Experiment:
    """The experiment of the model in ``path`` (see the module docstring). ``base`` gives every other setting
    (default: rnnlab's defaults; an rnnlab ``.npz`` brings its own experiment); ``changes`` (dotted keys, e.g.
    ``--set`` values) apply last. A ConfigError names what does not fit."""
    from ..models import open_model

    m = open_model(path)
    exp = m.experiment if m.experiment is not None else (base or Experiment())
    lay = m.check_choice(layer, direction)
    keys = {"model.source": _absolute(path), "model.source_layer": layer, "model.source_direction": direction,
            "model.source_readout": readout, "model.arch": m.arch, "model.hidden_size": lay.n_hidden,
            "model.gru_reset_after": m.reset_after}
    if m.activation:
        keys["model.activation"] = m.activation
    if data is not None:
        keys.update({"task.name": "file", "task.path": _absolute(data)})
    elif m.experiment is None and data_of(exp) is None:
        keys["task.name"] = "random"  # noise of the model's input width (no loss)
    exp = exp.with_changes(keys)
    if changes:
        exp = exp.with_changes(changes)
    check(exp)
    return exp


def _absolute(path) -> str:
    """The file name as an absolute path, so the experiment means the same file in the training process and when
    it is saved and opened elsewhere."""
    try:
        return str(Path(os.fspath(path)).expanduser().resolve())
    except (OSError, ValueError, RuntimeError):
        return os.fspath(path)


def data_of(exp: Experiment) -> str | None:
    """The experiment's data file, when its task reads one (the file task), else None."""
    from .tasks import TASK_CLASSES

    cls = TASK_CLASSES.get(exp.task.name)
    return exp.task.path if cls is not None and cls.reads_file and exp.task.path else None


def check(exp: Experiment) -> None:
    """Raise ConfigError if the experiment does not fit the model in ``model.source`` (cheap: the file is read
    once and kept)."""
    m = _model(exp)
    mc = exp.model
    lay = m.check_choice(mc.source_layer, mc.source_direction)
    name = m.path.name
    wrong = []
    if get_cell(mc.arch) is not get_cell(m.arch):
        wrong.append(f"model.arch = {mc.arch!r} ({name} holds a {m.kind}: {m.arch!r})")
    if mc.hidden_size != lay.n_hidden:
        wrong.append(f"model.hidden_size = {mc.hidden_size} (layer {mc.source_layer} has {lay.n_hidden} units)")
    if mc.gru_reset_after != m.reset_after:
        wrong.append(f"model.gru_reset_after = {str(mc.gru_reset_after).lower()} ({name}'s GRU applies the reset "
                     f"{'after' if m.reset_after else 'before'} the recurrent product)")
    if m.activation and mc.activation != m.activation:
        wrong.append(f"model.activation = {mc.activation!r} ({name} uses {m.activation!r})")
    if wrong:
        raise ConfigError(f"{wrong[0]}: the imported model decides it")
    m.readout_for(mc.source_layer, mc.source_direction, mc.source_readout)  # a named readout must exist and fit


def applies(exp: Experiment) -> dict[str, str]:
    """The settings that have no effect on an imported model or on the data file, each with the reason."""
    why: dict[str, str] = {}
    data = data_of(exp)
    if data is not None and not data.lower().endswith(".csv"):
        for key in ("task.id_column", "task.target_columns", "task.feature_columns"):
            why[key] = "only for a .csv data file"
    if not exp.model.source:
        return why
    try:
        m = _model(exp)
    except ConfigError:
        return why
    name = m.path.name
    for key in FIXED_BY_FILE:
        why[key] = f"decided by the imported model ({name})"
    if m.activation:
        why["model.activation"] = f"decided by the imported model ({name}: {m.activation})"
    if len(m.layers) == 1:
        why["model.source_layer"] = f"{name} has one recurrent layer"
    if 0 <= exp.model.source_layer < len(m.layers) and len(m.layers[exp.model.source_layer].directions) == 1:
        why["model.source_direction"] = f"layer {exp.model.source_layer} runs in one direction"
    return why


def no_loss(exp: Experiment) -> str:
    """Why the experiment has no loss (no readout on the chosen layer, no data, no targets), or "" when it has
    one; from the tasks' declarations and what is kept (the model and the data file are read once)."""
    from .tasks import TASK_CLASSES

    cls = TASK_CLASSES.get(exp.task.name)
    if cls is not None and cls.reads_file:
        from .tasks.file import load_sequences

        t = exp.task
        try:
            if load_sequences(t.path, t.target, t.kind, t.id_column, t.target_columns,
                              t.feature_columns).y is None:
                return f"no targets: {Path(t.path).name} holds inputs only, so nothing is scored"
        except ConfigError:
            return ""
    if not exp.model.source:
        return ""
    try:
        m = _model(exp)
        readout, note = m.readout_for(exp.model.source_layer, exp.model.source_direction, exp.model.source_readout)
    except ConfigError:
        return ""
    if cls is not None and cls.imported_no_loss and m.experiment is None:
        return cls.imported_no_loss
    return note


def check_data(exp: Experiment) -> None:
    """Raise ConfigError if the experiment's data cannot be read, or does not fit its imported model (the data
    file is read once and kept; rnnlab's generated tasks are not built here)."""
    from .setup import checked_task
    from .tasks import TASK_CLASSES

    cls = TASK_CLASSES.get(exp.task.name)
    if cls is None or not (cls.reads_file or exp.model.source):
        return
    if not cls.reads_file and cls.imported_no_loss:
        return  # random noise is made to the model's width
    task = checked_task(exp)
    if not exp.model.source:
        return
    m = _model(exp)
    readout, _ = m.readout_for(exp.model.source_layer, exp.model.source_direction, exp.model.source_readout)
    try:
        task.fitted(m.n_in, readout.W.shape[0] if readout is not None else 0)
    except ValueError as exc:
        raise ConfigError(f"{exc} ({m.path.name})") from None


class ImportedTask(Task):
    """A task seen through an imported model's front end: every batch's inputs become the chosen layer's exact
    input (:meth:`rnnlab.models.ImportedModel.front_end`); for a backward direction the batch is reversed in time,
    so the network's step t is the sequence's step T − 1 − t. Everything else is the inner task's."""

    def __init__(self, inner: Task, front_end, n_in: int, backward: bool, no_loss: str = ""):
        self.inner = inner
        self.front_end = front_end
        self.backward = backward
        self.name = inner.name
        self.length = inner.length
        self.n_in = n_in
        self.n_out = inner.n_out
        self.kind = inner.kind
        self.readout = inner.readout
        self.generative = False  # the model's own input is not its output: no closed loop through a front end
        self.description = inner.description
        self.baseline = inner.baseline
        self.settings = inner.settings
        self.reads_length = inner.reads_length
        self.has_targets = inner.has_targets
        self.no_loss = no_loss or inner.no_loss

    def __repr__(self) -> str:
        return f"ImportedTask({self.inner!r})"

    def _map(self, batch: Batch) -> Batch:
        x = self.front_end(batch.x)
        if not self.backward:
            return Batch(x=x, y=batch.y, mask=batch.mask, info=batch.info)
        return Batch(x=x, y=np.ascontiguousarray(batch.y[::-1]), mask=np.ascontiguousarray(batch.mask[::-1]),
                     info=batch.info)

    def sample(self, rng, batch_size):
        return self._map(self.inner.sample(rng, batch_size))

    def sample_heldout(self, rng, batch_size):
        return self._map(self.inner.sample_heldout(rng, batch_size))

    def success(self, out, batch):
        if self.backward:
            out = out[::-1]
            batch = Batch(x=batch.x[::-1], y=batch.y[::-1], mask=batch.mask[::-1], info=batch.info)
        return self.inner.success(out, batch)


def build_imported(exp: Experiment, task: Task) -> tuple[ImportedTask, Network]:
    """The task and network of an imported experiment (see the module docstring)."""
    from .setup import output_kind

    check(exp)
    m = _model(exp)
    mc = exp.model
    k, d = mc.source_layer, mc.source_direction
    lay = m.layers[k]
    readout, note = m.readout_for(k, d, mc.source_readout)
    n_out = readout.W.shape[0] if readout is not None else 0
    try:
        fitted = task.fitted(m.n_in, n_out)
    except ValueError as exc:
        raise ConfigError(f"{exc} ({m.path.name})") from None
    dtype = np.dtype(mc.dtype)
    wrapped = ImportedTask(fitted, m.front_end(mc, k, d, dtype), lay.n_in, d == "backward",
                           fitted.no_loss or note)
    net = m.network(mc, k, d, readout, output_kind(fitted), dtype)
    return wrapped, net


def describe(exp: Experiment) -> str:
    """The badge of an imported experiment: "Imported: lstm.safetensors · layer 1 of 2 · backward · no readout"
    (empty for rnnlab's own networks)."""
    if not exp.model.source:
        return ""
    try:
        m = _model(exp)
    except ConfigError:
        return f"Imported: {Path(exp.model.source).name}"
    k, d = exp.model.source_layer, exp.model.source_direction
    parts = [f"Imported: {m.path.name}", f"layer {k} of {len(m.layers)}"]
    if len(m.layers[k].directions) > 1 or d == "backward":
        parts.append(d)
    try:
        readout, _ = m.readout_for(k, d, exp.model.source_readout)
    except ConfigError:
        readout = None
    parts.append(f"readout {readout.name}" if readout is not None else "no readout")
    return " · ".join(parts)


def export_weights(trainer, path) -> Path:
    """Write the trainer's weights as safetensors in the imported file's own names, layout and dtype (every tensor
    of the file, the chosen layer's and the readout's replaced), atomically. Returns the path."""
    from ..models import open_model
    from .outputs import atomic_path

    exp = trainer.exp
    if not exp.model.source:
        raise ConfigError("export_weights: the experiment has no imported model (model.source)")
    try:
        from safetensors.numpy import save
    except ImportError:  # pragma: no cover - a runtime dependency
        raise ConfigError("writing .safetensors needs the safetensors package (pip install safetensors)") from None
    m = open_model(exp.model.source)
    k, d = exp.model.source_layer, exp.model.source_direction
    net = trainer.net
    cell_params = {n: net.params[n] for n in net.cell.param_shapes()}
    for extra in ("alpha",):
        if extra in net.params:
            cell_params[extra] = net.params[extra]
    readout, _ = m.readout_for(k, d, exp.model.source_readout)
    ro = {"W_yh": net.params["W_yh"], "b_y": net.params["b_y"]} if readout is not None else None
    tensors = m.export(k, d, cell_params, readout, ro)
    data = save({n: np.ascontiguousarray(a) for n, a in tensors.items()},
                metadata={"source": _short(str(m.path.name), 200), "written_by": "rnnlab Export run",
                          "layer": str(k), "direction": d})
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
