"""The timeline: a ring of checkpoints under a memory budget (dense recent, sparser back), where the trouble began,
and the Must-show rescue: rewind after the clipping preset's explosion (clipping off), then clipping on trains."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.config import Experiment
from rnnlab.presets import get_preset
from rnnlab.train.session import Play, RunSteps, Rewind, Session
from rnnlab.train.timeline import RECOVERY, Timeline, trouble_start
from rnnlab.train.trainer import Trainer


def tick_until(s: Session, done, limit: int) -> None:
    """Tick the session (the app's engine loop, synchronously) until ``done()`` or ``limit`` ticks."""
    for _ in range(limit):
        s.tick()
        if done():
            return


def test_ring_stays_under_budget_and_count_dense_recent_sparse_back():
    state = {"w": np.zeros(1000)}  # 8000 bytes a checkpoint
    tl = Timeline(budget_bytes=8000 * 60, max_count=1000)
    for s in range(5001):
        tl.add(s, s, state)
        assert len(tl) <= 60 and tl.nbytes <= 8000 * 60
    steps = np.array(tl.steps())
    assert steps[0] == 0 and steps[-1] == 5000
    gaps = np.diff(steps)
    assert gaps[-1] <= 2 and gaps[-5:].max() <= 5  # dense recent ...
    assert gaps[:5].min() >= 100  # ... sparse far back
    ages = 5000 - steps[1:-1]
    assert np.all(gaps[1:] <= 0.5 * ages + 2)  # the gaps grow with age (a geometric spacing)


def test_count_limit_and_dropping_the_abandoned_future():
    tl = Timeline(max_count=20)
    for s in range(300):
        tl.add(s, s, {"w": np.zeros(3)})
    assert len(tl) == 20 and tl.steps()[0] == 0 and tl.steps()[-1] == 299
    tl.drop_after(250)
    assert tl.steps()[-1] <= 250
    tl.add(260, 260, {"w": np.zeros(3)})
    assert tl.steps()[-1] == 260 and tl.at_or_before(259).step <= 250


def test_trouble_start_finds_the_start_of_the_unrecovered_excursion():
    n = 400
    steps = np.arange(1, n + 1)
    loss = np.full(n, 1.0)
    gn = np.full(n, 2.0)
    assert trouble_start(steps, loss, gn) is None
    gn[100] = 1e4  # a spike the run recovered from ...
    assert trouble_start(steps, loss, gn) is None
    gn[300:] = np.logspace(2, 30, n - 300)  # ... then an explosion from row 300 (step 301) on
    gn[-1] = np.inf
    assert trouble_start(steps, loss, gn) == 301
    loss2 = np.full(n, 1.0)
    loss2[350:] = 10.0 ** np.arange(n - 350)  # the loss leaves its range first when it does
    assert trouble_start(steps, loss2, np.full(n, 2.0)) == 352
    gn3 = np.full(n, 2.0)
    gn3[200] = 1e5
    assert trouble_start(steps[: 200 + RECOVERY - 1], loss[: 200 + RECOVERY - 1], gn3[: 200 + RECOVERY - 1]) == 201


def test_rewind_after_the_clipping_preset_explosion_then_clipping_on_trains():
    """Must show: clipping off, the run explodes (non-finite gradient near step 200–230, ρ ≈ 10³ or more long before,
    as the preset's description says: 3.6·10³ on the compiled loops, 3.2·10²³ on the NumPy ones, whose last bits
    differ along an exploding trajectory);
    Rewind returns to a state from before the blow-up (same weights, ρ and loss as that step of the run), and turning
    clipping on from there trains: the loss goes back under the constant-guess baseline."""
    preset = get_preset("clipping")
    exp = preset.contrast_experiment()
    assert exp.remedies.clip == "none"
    tr = Trainer(exp)
    while tr.step():
        pass
    assert tr.explosion is not None and tr.step_count > 100
    h = tr.history.since(0)
    assert np.nanmax(h["spectral_radius"]) > 1e3  # ρ blew up along the way (from 1.5)
    target = tr.explosion.checkpoint_step
    assert tr.rewind() == target
    assert target < 6  # before the first step whose loss or gradient norm left its running range
    blow = int(np.argmax(h["grad_norm"] > 100 * h["grad_norm"][0]))  # the row where the blow-up shows
    assert target < h["step"][blow]
    # the same state as the run had at that step: weights, ρ (the history's row) and the loss on the probe batch
    ref = Trainer(exp)
    for _ in range(target):
        ref.step()
    for k in ref.net.params:
        np.testing.assert_array_equal(tr.net.params[k], ref.net.params[k])
    assert tr._rho == pytest.approx(h["spectral_radius"][target - 1] if target else ref._rho, rel=1e-12)
    assert tr._rho < 3.0
    x, y, mask = tr.probe
    from rnnlab.core.bptt import forward, loss_and_dz

    lp = loss_and_dz(tr.net, forward(tr.net, x).z, y, mask)[0]
    lr = loss_and_dz(ref.net, forward(ref.net, x).z, y, mask)[0]
    assert lp == lr and np.isfinite(lp) and lp < 10
    assert tr.history.n == target and tr.explosion is None
    # clipping on from there: it trains
    tr.apply_config(exp.replace("remedies.clip", "norm"))
    for _ in range(1000):
        assert tr.step()
    recent = tr.history.since(0)["loss"][-100:]
    assert np.mean(recent) < tr.task.baseline.loss


def test_rewind_to_any_kept_step_and_the_snapshot_lists_them():
    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=6))
    for _ in range(40):
        tr.step()
    snap = tr.snapshot()
    assert snap.checkpoints == tuple(range(41))
    assert tr.rewind(17) == 17 and tr.step_count == 17 and tr.history.n == 17
    assert tr.snapshot().checkpoints == tuple(range(18))


def test_session_rewind_step_and_run_steps_until_success_and_play_until_step():
    exp = Experiment().replace(task__length=10, model__hidden_size=6, training__eval_every=5)
    s = Session(exp)
    s.send(RunSteps(30))
    s.run_until_idle()
    assert s.trainer.step_count == 30
    s.send(Rewind(12))
    s.run_until_idle()
    assert s.trainer.step_count == 12
    s.send(Play(until_step=20))
    tick_until(s, lambda: not s.playing, 1000)
    assert s.trainer.step_count == 20 and not s.playing
    assert any("training.steps" in m for m in s.take_messages())
    # stop at success: a metric already at success stops a long RunSteps at the next step
    s.trainer.evaluate = lambda *a, **k: (setattr(s.trainer, "metric", 1.0), (1.0, 1.0))[1]
    s.trainer.metric = 1.0
    s.send(RunSteps(500, until_success=True))
    s.run_until_idle()
    assert s.trainer.step_count == 21
    assert any("success" in m for m in s.take_messages())


def test_checkpoints_too_large_for_two_keep_the_newest_only():
    tl = Timeline(budget_bytes=10_000)
    for s in range(10):
        tl.add(s, s, {"w": np.zeros(1000)})  # 8000 bytes: two would not fit
        assert tl.nbytes <= 10_000 and tl.steps() == (s,)
    assert tl.at_or_before(3) is None and tl.oldest().step == 9


def test_the_app_session_keeps_a_larger_ring_than_a_headless_run():
    from rnnlab.train.timeline import DEFAULT_BUDGET, HEADLESS_BUDGET

    exp = Experiment().replace(task__length=10, model__hidden_size=6)
    assert Trainer(exp).timeline.budget_bytes == HEADLESS_BUDGET < DEFAULT_BUDGET
    assert Session(exp).trainer.timeline.budget_bytes == DEFAULT_BUDGET


def test_play_with_a_budget_already_reached_trains_on():
    s = Session(Experiment().replace(task__length=10, model__hidden_size=6))
    s.send(RunSteps(12))
    s.run_until_idle()
    s.send(Play(until_step=10))  # (e.g. a restarted engine, its checkpoint past training.steps)
    tick_until(s, lambda: s.trainer.step_count >= 20, 200)
    assert s.playing and s.trainer.step_count >= 20
    s.send(Play(until_step=25))
    tick_until(s, lambda: not s.playing, 200)
    assert s.trainer.step_count == 25 and not s.playing
