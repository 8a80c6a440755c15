"""Trainer behaviour not covered by the preset contrasts."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert tr.rewind(25) == 25  # a kept step (the timeline keeps every step of a network this small)
    np.testing.assert_array_equal(tr.net.params["W_hh"], W)
    assert tr.history.n == 25 and tr.opt.state_dict()["t"] == opt["t"]
    assert max(tr.timeline.steps()) == 25  # the abandoned future is forgotten
    assert tr.rewind() == 24  # no trouble: Rewind goes one kept step back


def _esn_experiment(**kw):
    base = dict(model__arch="esn", model__hidden_size=12, task__name="sine", task__length=40, task__batch_size=3,
                remedies__esn_washout=5, training__eval_batch_size=2)
    base.update(kw)
    return Experiment().replace(**base)


def test_esn_readout_is_the_ridge_solution_over_every_state_so_far():
    """After k updates the readout is argmin ‖ZW − Y‖² + β‖W‖² over all k batches' states (after the washout), with
    β = remedies.esn_ridge itself: it does not grow with the number of states (it used to be β·n)."""
    from rnnlab.core.bptt import forward

    beta = 1e-3
    tr = Trainer(_esn_experiment(remedies__esn_ridge=beta))
    rows, targets = [], []
    for _ in range(3):
        state = tr.rngs.data.bit_generator.state
        batch = tr.task.sample(tr.rngs.data, 3)
        tr.rngs.data.bit_generator.state = state  # the trainer draws the same batch
        h = forward(tr.net, batch.x).cache["S"][1:][5:]
        rows.append(np.concatenate([h.reshape(-1, 12), np.ones((h.shape[0] * 3, 1))], axis=1))
        targets.append(batch.y[5:].reshape(-1, 1))
        tr.step()
    Z, Y = np.concatenate(rows), np.concatenate(targets)
    assert Z.shape == (3 * 3 * 35, 13)
    W = np.linalg.solve(Z.T @ Z + beta * np.eye(13), Z.T @ Y)
    np.testing.assert_allclose(tr.net.params["W_yh"], W[:12].T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(tr.net.params["b_y"], W[12], rtol=1e-8, atol=1e-10)
    # the old weighting (ZᵀZ/n + βI) is a different, more strongly regularised solution
    n = Z.shape[0]
    old = np.linalg.solve(Z.T @ Z / n + beta * np.eye(13), Z.T @ Y / n)
    assert np.max(np.abs(old[:12].T - tr.net.params["W_yh"])) > 1e-3


def test_esn_ridge_solve_is_stable_where_the_normal_equations_fail():
    """cond(Z) = 10⁹: ZᵀZ (cond 10¹⁸) loses every digit at a tiny β; the QR route keeps the least-squares answer."""
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.standard_normal((400, 6)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    Z = U @ np.diag(np.logspace(0, -9, 6)) @ V.T
    w = rng.standard_normal((6, 1))
    Y = Z @ w
    Q, R = np.linalg.qr(Z)
    got = Trainer._ridge_solve(R, Q.T @ Y, 1e-30)
    np.testing.assert_allclose(got, w, rtol=1e-5)
    assert Trainer._ridge_solve(R, Q.T @ Y, 0.0) == pytest.approx(w, rel=1e-5)


def test_esn_bias_input_is_drawn_once_and_changes_nothing_else():
    from rnnlab.train.rules import applies

    plain = Trainer(_esn_experiment()).net.params
    biased = Trainer(_esn_experiment(model__esn_bias=0.5)).net.params
    assert np.all(plain["b_h"] == 0)
    b = biased["b_h"]
    assert b.shape == (12,) and np.all(np.abs(b) <= 0.5) and np.ptp(b) > 0.3
    for k in plain:
        if k != "b_h":
            np.testing.assert_array_equal(plain[k], biased[k])
    # it is the ESN's own setting: greyed out for the other cells
    assert applies(_esn_experiment())["model.esn_bias"] is None
    assert applies(_esn_experiment(model__arch="leaky"))["model.esn_bias"]


@pytest.mark.parametrize("changes", [{}, {"model__arch": "lstm"}, {"task__name": "sine"}],
                         ids=["rnn", "lstm", "free-running"])
def test_the_held_out_batch_run_in_rows_gives_the_whole_batch_outputs(monkeypatch, changes):
    """A long held-out batch is run a few rows at a time (bounded memory, no page-faulting buffers): the rows of a
    batch are independent, so the outputs are those of one pass over the whole batch, free-running ones too."""
    from rnnlab.core.bptt import forward, outputs
    from rnnlab.train import setup

    exp = Experiment().replace(task__length=30, model__hidden_size=8, training__eval_batch_size=37, **changes)
    tr = Trainer(exp)
    x = tr.task.sample_heldout(np.random.default_rng(1), 37).x
    fb = None
    if tr.task.generative:
        fb = np.zeros(x.shape[:2])
        fb[:7] = 1.0
    whole = outputs(tr.net, forward(tr.net, x, fb).z).copy()
    monkeypatch.setattr(setup, "EVAL_CHUNK_BYTES", 1)  # 16 rows per pass: three passes, the last one short
    assert setup.eval_rows(30, tr.net.cell.state_size, 37) == 16
    calls = []

    def counted(net, xx, f=None):
        calls.append(xx.shape[1])
        return forward(net, xx, f)

    monkeypatch.setattr("rnnlab.train.trainer.forward", counted)
    rows = tr._outputs_in_rows(x, fb)
    assert calls == [16, 16, 5]
    np.testing.assert_allclose(rows, whole, rtol=0, atol=1e-13)
