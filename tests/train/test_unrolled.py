"""The unrolled pass in snapshots and in written files: the experiment's truncation and clipping, as trained."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.config import Experiment
from rnnlab.core.bptt import backward, forward, loss_and_dz
from rnnlab.core.diagnostics import grad_norms
from rnnlab.presets import get_preset
from rnnlab.train.trainer import Trainer


def _small(**kw) -> Experiment:
    return Experiment().replace(task__length=12, model__hidden_size=8, **kw)


def test_a_snapshot_carries_the_pass_of_its_own_probe_batch():
    tr = Trainer(_small(remedies__tbptt_k1=4, remedies__tbptt_k2=5))
    d = tr.snapshot(expensive=True).diagnostics
    up = d.unrolled
    assert up is not None and (up.k1, up.k2) == (4, 5) and up.T == 12
    # temporal order is scored at the last step: the window (11, 7, 8) carries it, and nothing crosses into 7
    assert up.scored.tolist() == [False] * 11 + [True] and up.cuts.tolist() == [7] and up.reach[11] == 7
    assert np.all(up.total_log10[:7] == -np.inf) and np.all(np.isfinite(up.total_log10[7:]))
    np.testing.assert_array_equal(up.flow_log10[11, 7:], d.gradient_flow_log10[11, 7:])
    # the probe batch's gradient norm, by the same truncated BPTT
    x, y, mask = tr.probe
    trace = forward(tr.net, x)
    _, dz = loss_and_dz(tr.net, trace.z, y, mask)
    g = backward(tr.net, trace, dz, 4, 5)
    assert up.grad_norm == pytest.approx(grad_norms({k: g[k] for k in tr.net.trainable})["total"], rel=1e-12)
    assert up.clip == "none" and up.grad_norm_clipped == up.grad_norm


def test_clipping_states_the_rescaled_total():
    exp = get_preset("clipping").experiment
    up = Trainer(exp).snapshot(expensive=True).diagnostics.unrolled
    assert up.clip == "norm" and up.clip_threshold == exp.remedies.clip_threshold
    assert up.grad_norm > exp.remedies.clip_threshold  # the preset's first gradients are large ...
    assert up.grad_norm_clipped == pytest.approx(exp.remedies.clip_threshold)  # ... and rescaled to c


def test_where_a_remedy_does_not_apply_the_pass_does_not_pretend_it_does():
    # an echo state network is not trained by gradient steps: no clipping, no truncation
    exp = get_preset("echo-state").experiment.with_changes({"remedies.clip": "norm", "task.length": 30,
                                                           "model.hidden_size": 20})
    up = Trainer(exp).snapshot(expensive=True).diagnostics.unrolled
    assert up.clip == "none" and (up.k1, up.k2) == (0, 0)


def test_inspect_writes_the_pass_as_plain_arrays(tmp_path):
    from rnnlab.studies.inspect import inspect_experiment

    res = inspect_experiment(_small(remedies__tbptt_k1=3, remedies__tbptt_k2=3))
    res.save(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert z["unrolled_cuts"].tolist() == [9] and z["unrolled_k2"] == 3
        np.testing.assert_array_equal(z["unrolled_total_log10"], res.diagnostics.unrolled.total_log10)
        assert str(z["unrolled_norm"]) == "spectral" and z["unrolled_product_log10"].shape[1] == 12
