"""One home for every idea: the registries are the lists of choices, cells declare their capabilities, and one
module answers "can this run, which settings apply"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rnnlab import config
from rnnlab.config import ConfigError, Experiment, describe_keys
from rnnlab.core.activations import ACTIVATIONS
from rnnlab.core.cells import CELLS
from rnnlab.core.init import INIT_SCHEMES
from rnnlab.train import rules
from rnnlab.train.optim import OPTIMIZER_KINDS
from rnnlab.train.tasks import TASK_CLASSES

PKG = Path(rnnlab_file := config.__file__).resolve().parent


def test_the_configs_choices_are_the_registries():
    assert config.ARCHS == tuple(CELLS)
    assert config.ACTIVATIONS == tuple(ACTIVATIONS)
    assert config.INITS == tuple(INIT_SCHEMES)
    assert config.TASKS == tuple(TASK_CLASSES)
    assert config.OPTIMIZERS == tuple(OPTIMIZER_KINDS)


def test_no_source_file_outside_the_cells_compares_an_architecture_name():
    names = "|".join(CELLS)
    pattern = re.compile(rf"""arch\w*\s*(==|!=|\bin\b|\bnot in\b)|["']({names})["']\s*(==|!=)|(==|!=)\s*["']({names})["']""")
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("core/cells/"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_cell_declares_consistent_capabilities():
    for name, cell in CELLS.items():
        assert cell.name == name and cell.label
        assert set(cell.trainable) <= {"W_hx", "W_hh", "b_h"} | set(getattr(cell, "extra_params", ()))
        assert cell.fixed_recurrence == (cell.trainable == ())
        assert all(k.startswith("model.") for k in cell.settings)
        assert 0 <= cell.candidate < cell.blocks


@pytest.mark.parametrize("arch", list(CELLS))
def test_check_follows_the_declarations(arch):
    cell = CELLS[arch]
    exp = Experiment().replace("model.arch", arch)
    for key, able in (("remedies.hessian_free", cell.supports_hessian_free), ("remedies.omega", cell.supports_omega)):
        changed = exp.replace(key, True if key.endswith("free") else 1.0)
        if able:
            rules.check(changed)
        else:
            with pytest.raises(ConfigError, match=key):
                rules.check(changed)


def test_applies_names_every_key_and_gives_reasons():
    exp = Experiment()
    why = rules.applies(exp)
    assert set(why) == {row["key"] for row in describe_keys()}
    assert why["model.arch"] is None and why["training.learning_rate"] is None
    assert "leaky" in why["model.leak_min"]  # a cell's own setting
    assert "sparse" in why["model.sparse_k"]
    assert "momentum" in why["training.momentum"]  # an optimiser's own setting
    assert "memorization" in why["task.mem_values"]  # a task's own setting
    assert why["remedies.clip_threshold"] and why["remedies.hf_mu"] and why["remedies.esn_ridge"]
    assert why["remedies.teacher_forcing"]  # temporal order is not generative


@pytest.mark.parametrize("changes,key,applies", [
    ({"model.arch": "leaky"}, "model.leak_min", True),
    ({"model.arch": "esn"}, "model.leak_max", True),
    ({"model.arch": "esn"}, "remedies.esn_ridge", True),
    ({"model.arch": "esn"}, "remedies.clip", False),
    ({"model.arch": "esn"}, "training.learning_rate", False),
    ({"model.init": "sparse"}, "model.sparse_k", True),
    ({"training.optimizer": "nesterov"}, "training.momentum", True),
    ({"training.optimizer": "adam"}, "training.beta1", True),
    ({"training.optimizer": "rmsprop"}, "training.beta1", False),
    ({"training.optimizer": "rmsprop"}, "training.eps", True),
    ({"remedies.clip": "value"}, "remedies.clip_threshold", True),
    ({"remedies.hessian_free": True}, "remedies.hf_mu", True),
    ({"remedies.hessian_free": True}, "remedies.clip", False),
    ({"remedies.tbptt_k1": 5, "remedies.tbptt_k2": 5}, "remedies.tbptt_k2", True),
    ({"task.name": "sine"}, "remedies.teacher_forcing", True),
    ({"task.name": "memorization"}, "task.mem_positions", True),
    ({"model.arch": "lstm"}, "remedies.omega", False),
    ({"diagnostics.mode": "estimated"}, "diagnostics.probes", True),
])
def test_applies_to(changes, key, applies):
    assert rules.applies_to(Experiment().with_changes(changes), key) is applies


def test_remedies_in_force_come_from_the_settings_and_the_cell():
    exp = Experiment().with_changes({"model.arch": "esn", "remedies.clip": "norm"})
    on = rules.remedies_on(exp, generative=False)
    assert "echo state" in on and "leaky units" in on
    assert not any(r.startswith("clip") for r in on)  # the ESN takes no gradient step: clipping does nothing
    assert rules.remedies_on(Experiment().replace("remedies.clip", "norm"), False)[0].startswith("clip norm")
