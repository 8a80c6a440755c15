"""Can this experiment run, and which settings apply to it: answered in one place, from what the cells, tasks,
optimisers and remedies declare.

* :func:`check` raises :class:`~rnnlab.config.ConfigError` for an experiment the engine cannot train (e.g.
  Hessian-free on a cell without an R-operator), naming the setting and the reason.
* :func:`applies` says, for every setting, whether it has an effect on this experiment, and if not, why (the
  panels grey such controls out with the reason as tooltip; sweeps and lessons can ask the same).

The trainer, the app's controller, the panels, the sweeps and the lessons all ask these two functions; nothing
else in rnnlab compares architecture, task or optimiser names.
"""

from __future__ import annotations

from ..config import ConfigError, Experiment, describe_keys
from ..core.cells import CELLS, get_cell
from .optim import OPTIMIZER_KINDS
from .tasks import TASK_CLASSES

__all__ = ["check", "applies", "applies_to", "cell_of", "remedies_on"]


def cell_of(exp: Experiment):
    """The cell class of the experiment (its declarations: capabilities, settings, badges)."""
    return get_cell(exp.model.arch)


def check(exp: Experiment) -> None:
    """Raise :class:`ConfigError` if the engine cannot train ``exp`` as set (cheap: nothing is built; an imported
    model and a data file are read once and kept, and must fit each other)."""
    cell = cell_of(exp)
    r = exp.remedies
    task_cls = TASK_CLASSES.get(exp.task.name)
    if exp.model.source or (task_cls is not None and task_cls.reads_file):
        from . import imported

        if exp.model.source:
            imported.check(exp)
        imported.check_data(exp)  # the data file can be read and fits the model (it is read once and kept)
    if r.hessian_free and not cell.supports_hessian_free:
        able = [n for n, c in CELLS.items() if c.supports_hessian_free]
        raise ConfigError(f"remedies.hessian_free = true needs a cell with an R-operator (model.arch = "
                          f"{' or '.join(repr(a) for a in able)}), got {cell.name!r}")
    if r.omega > 0 and not cell.supports_omega:
        able = [n for n, c in CELLS.items() if c.supports_omega]
        raise ConfigError(f"remedies.omega = {r.omega!r} needs a cell whose step Jacobian is diag(f') W_hh "
                          f"(model.arch = {' or '.join(repr(a) for a in able)}), got {cell.name!r}")


def _cell_keys() -> set[str]:
    return {k for c in CELLS.values() for k in c.settings}


def _task_keys() -> set[str]:
    return {k for t in TASK_CLASSES.values() for k in t.settings}


def _optimizer_keys() -> set[str]:
    return {k for o in OPTIMIZER_KINDS.values() for k in o.settings}


def applies(exp: Experiment) -> dict[str, str | None]:
    """Every setting key → ``None`` when it has an effect on ``exp``, else a short reason why it has none."""
    cell = cell_of(exp)
    task = TASK_CLASSES.get(exp.task.name)
    r, m, tr = exp.remedies, exp.model, exp.training
    gradient_steps = not (r.hessian_free or cell.fixed_recurrence)
    why: dict[str, str | None] = {row["key"]: None for row in describe_keys()}

    def off(key: str, reason: str) -> None:
        if why.get(key, "") is None:
            why[key] = reason

    # the cell's own settings apply to the cells that declare them
    for key in _cell_keys() - set(cell.settings):
        owners = [c.label for c in CELLS.values() if key in c.settings]
        off(key, f"only for the {' and the '.join(owners)}")
    for key, reason in cell.unused_settings.items():
        off(key, reason)
    if m.init != "sparse":
        off("model.sparse_k", "only for model.init = 'sparse'")
    if m.init != "nonnormal":
        off("model.nonnormality", "only for model.init = 'nonnormal'")
    # the task's own settings
    for key in _task_keys() - set(task.settings if task else ()):
        owners = [t.name for t in TASK_CLASSES.values() if key in t.settings]
        off(key, f"only for the {', '.join(owners)} task")
    if not (task is not None and task.generative):
        off("remedies.teacher_forcing", "only for generative tasks (the input is the previous target)")
    # how the weights are updated
    if cell.fixed_recurrence:
        reason = f"the {cell.label}'s readout is solved by ridge regression, not by gradient steps"
        for key in ("training.optimizer", "training.learning_rate", "remedies.clip", "remedies.clip_threshold",
                    "remedies.tbptt_k1", "remedies.tbptt_k2", "remedies.l1", "remedies.l2", "remedies.omega",
                    "remedies.hessian_free", *_optimizer_keys()):
            off(key, reason)
    else:
        off("remedies.esn_washout", "only for an echo state network (model.arch = 'esn')")
        off("remedies.esn_ridge", "only for an echo state network (model.arch = 'esn')")
    if r.hessian_free:
        reason = "Hessian-free training has its own damping instead"
        for key in ("training.optimizer", "training.learning_rate", "remedies.clip", "remedies.clip_threshold",
                    "remedies.l1", "remedies.l2", "remedies.omega", *_optimizer_keys()):
            off(key, reason)
    else:
        for key in ("remedies.hf_damping", "remedies.hf_mu", "remedies.hf_max_cg"):
            off(key, "only with remedies.hessian_free = true")
    if gradient_steps:
        used = set(OPTIMIZER_KINDS[tr.optimizer].settings) if tr.optimizer in OPTIMIZER_KINDS else set()
        for key in _optimizer_keys() - used:
            owners = [n for n, o in OPTIMIZER_KINDS.items() if key in o.settings]
            off(key, f"only for training.optimizer = {' or '.join(repr(o) for o in owners)}")
        if r.clip == "none":
            off("remedies.clip_threshold", "only with remedies.clip = 'norm' or 'value'")
    if "W_hh" not in cell.trainable:
        for key in ("remedies.l1", "remedies.l2"):
            off(key, f"the {cell.label} trains no W_hh to penalise")
    if not cell.supports_hessian_free:
        off("remedies.hessian_free", f"not for the {cell.label} (the R-operator is written for the vanilla RNN)")
    if not cell.supports_omega:
        off("remedies.omega", f"not for the {cell.label} (Ω is defined on the Jacobian diag(f') W_hh)")
    if r.tbptt_k1 == 0:
        off("remedies.tbptt_k2", "only with remedies.tbptt_k1 > 0")
    if exp.diagnostics.mode != "estimated":
        off("diagnostics.probes", "only with diagnostics.mode = 'estimated'")
    if task is not None and not task.reads_length:
        off("task.length", "the data file decides the sequence length")
    if exp.model.source or (task is not None and task.reads_file):
        from . import imported

        for key, reason in imported.applies(exp).items():
            off(key, reason)
        nothing = imported.no_loss(exp)
        if nothing:
            for key in _TRAINING_KEYS + tuple(_optimizer_keys()):
                off(key, f"nothing to train: {nothing}")
    if not exp.model.source:
        for key in ("model.source_layer", "model.source_direction", "model.source_readout"):
            off(key, "only for an imported model (model.source)")
    return why


#: the settings that only act on training (greyed out when an experiment has no loss to train on)
_TRAINING_KEYS = ("training.optimizer", "training.learning_rate", "training.steps", "training.eval_every",
                  "training.eval_batch_size", "remedies.clip", "remedies.clip_threshold", "remedies.tbptt_k1",
                  "remedies.tbptt_k2", "remedies.l1", "remedies.l2", "remedies.omega", "remedies.teacher_forcing",
                  "remedies.esn_washout", "remedies.esn_ridge", "remedies.hessian_free", "remedies.hf_damping",
                  "remedies.hf_mu", "remedies.hf_max_cg")


def applies_to(exp: Experiment, key: str) -> bool:
    """Whether ``key`` has an effect on ``exp`` (see :func:`applies`)."""
    reason = applies(exp).get(key)
    return reason is None


def remedies_on(exp: Experiment, generative: bool) -> tuple[str, ...]:
    """Short texts naming what acts against vanishing or exploding gradients in ``exp`` (shown in the app)."""
    cell = cell_of(exp)
    r = exp.remedies
    on: list[str] = []
    if r.hessian_free:
        on.append(f"Hessian-free (μ={r.hf_mu:g})")
    elif not cell.fixed_recurrence:
        if r.clip != "none":
            on.append(f"clip {r.clip} {r.clip_threshold:g}")
        if r.l1 > 0:
            on.append(f"L1 {r.l1:g}")
        if r.l2 > 0:
            on.append(f"L2 {r.l2:g}")
        if r.omega > 0:
            on.append(f"Ω α={r.omega:g}")
    if r.tbptt_k1 > 0 and not cell.fixed_recurrence:
        on.append(f"TBPTT({r.tbptt_k1},{r.tbptt_k2})")
    if generative:
        on.append(f"teacher forcing {r.teacher_forcing:g}" if r.teacher_forcing < 1 else "teacher forcing")
    on.extend(cell.badges)
    if exp.model.init in ("orthogonal", "identity"):
        on.append(f"{exp.model.init} init")
    return tuple(on)
