"""Trainer behaviour not covered by the preset contrasts."""

from __future__ import annotations

import numpy as np

from rnnlab.config import Experiment
from rnnlab.train.trainer import Trainer


def test_free_running_evaluation_scores_only_the_free_running_steps(monkeypatch):
    exp = Experiment().replace(task__name="sine", task__length=40, model__hidden_size=8,
                               training__eval_batch_size=5)
    tr = Trainer(exp)
    seen = {}

    def spy(out, batch):
        seen["mask"] = batch.mask.copy()
        return np.ones(batch.mask.shape[1], dtype=bool)

    monkeypatch.setattr(tr.task, "success", spy)
    tr.evaluate()
    m = seen["mask"]
    assert np.all(m[:10] == 0) and np.all(m[10:] == 1)  # T/4 = 10 driven steps are not scored
    esn = Trainer(exp.replace(model__arch="esn", remedies__esn_washout=15))
    monkeypatch.setattr(esn.task, "success", spy)
    esn.evaluate()
    assert np.all(seen["mask"][:15] == 0) and np.all(seen["mask"][15:] == 1)


def test_event_text_reads_old_to_new():
    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=4))
    tr.snapshot()
    tr.apply_config(tr.exp.replace("remedies.clip", "norm"))
    assert [e.text for e in tr.snapshot().events] == ["remedies.clip: none → norm"]


def test_rewind_restores_weights_optimizer_and_history():
    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=4, training__optimizer="adam"))
    for _ in range(25):
        tr.step()
    W = tr.net.params["W_hh"].copy()
    opt = tr.opt.state_dict()
    for _ in range(10):
        tr.step()
    assert tr.rewind() == 25
    np.testing.assert_array_equal(tr.net.params["W_hh"], W)
    assert tr.history.n == 25 and tr.opt.state_dict()["t"] == opt["t"]
