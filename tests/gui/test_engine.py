"""The engine behind the window (no Qt): commands, throttled snapshots, explosions, rewind, config changes."""

from __future__ import annotations

import numpy as np

from rnnlab.config import Experiment
from rnnlab.gui.engine import Engine


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def small():
    return Experiment().replace(task__length=12, model__hidden_size=8, training__eval_every=10)


def test_step_command_runs_exactly_n_steps_and_ends_with_an_expensive_snapshot():
    eng = Engine(small())
    eng.send("step", 7)
    eng.run_until_idle()
    snaps = eng.take()
    assert eng.trainer.step_count == 7
    assert snaps[-1].step == 7 and snaps[-1].heatmap is not None
    # every step's row arrives exactly once across the snapshots
    steps = np.concatenate([s.history["step"] for s in snaps])
    assert list(steps) == list(range(1, 8))


def test_snapshots_are_throttled_by_time_not_by_steps():
    clock = FakeClock()
    eng = Engine(small(), fps=10, clock=clock)
    eng.send("play")
    for i in range(100):  # 100 steps within 0.05 s of fake time: at most one or two snapshots
        clock.t = i * 0.0005
        eng.tick()
    assert eng.trainer.step_count == 100
    assert len(eng.take()) <= 3
    clock.t = 1.0
    eng.tick()
    assert len(eng.take()) == 1


def test_snapshots_own_their_arrays():
    eng = Engine(small())
    eng.send("step", 2)
    eng.run_until_idle()
    snap = eng.take()[-1]
    heat = snap.heatmap.copy()
    hist = snap.history["loss"].copy()
    eng.send("step", 20)
    eng.run_until_idle()
    np.testing.assert_array_equal(snap.heatmap, heat)
    np.testing.assert_array_equal(snap.history["loss"], hist)


def test_explosion_stops_playing_and_rewind_restores_finite_weights():
    exp = Experiment().replace(task__name="addition", task__length=20, model__activation="linear",
                               model__spectral_radius=3.0, training__learning_rate=0.5)
    eng = Engine(exp)
    eng.send("play")
    for _ in range(2000):
        eng.tick()
        if eng.trainer.explosion is not None:
            break
    eng.tick()
    snaps = eng.take()
    assert snaps[-1].explosion is not None and not eng.playing
    ck = snaps[-1].explosion.checkpoint_step
    eng.send("play")  # refused while exploded
    eng.tick()
    assert not eng.playing
    eng.send("rewind")
    eng.tick()
    assert eng.trainer.explosion is None and eng.trainer.step_count == ck
    assert all(np.all(np.isfinite(v)) for v in eng.trainer.net.params.values())


def test_config_change_applies_without_reset_and_is_an_event():
    eng = Engine(small())
    eng.send("step", 5)
    eng.run_until_idle()
    eng.take()
    W = eng.trainer.net.params["W_hh"].copy()
    eng.send("config", eng.experiment.replace("remedies.clip", "norm"))
    eng.send("step", 1)
    eng.run_until_idle()
    snaps = eng.take()
    assert eng.trainer.step_count == 6
    texts = [e.text for s in snaps for e in s.events]
    assert any("remedies.clip" in t for t in texts)
    assert snaps[-1].remedies[0].startswith("clip norm")
    assert not np.array_equal(W, eng.trainer.net.params["W_hh"])  # trained on, not re-drawn


def test_incompatible_config_is_a_message_not_a_crash():
    eng = Engine(small().replace("remedies.hessian_free", True))
    eng.send("step", 1)
    eng.run_until_idle()
    before = eng.trainer.step_count
    # an LSTM cannot run Hessian-free here: the engine says so and keeps the current run
    eng.send("config", eng.experiment.replace("model.arch", "lstm"))
    eng.run_until_idle()
    msgs = eng.take_messages()
    assert len(msgs) == 1 and "hessian_free" in msgs[0] and "'rnn'" in msgs[0]
    assert eng.experiment.model.arch == "rnn" and eng.trainer.step_count == before


def test_stop_ends_the_loop():
    eng = Engine(small())
    eng.send("play")
    eng.tick()
    eng.send("stop")
    eng.tick()
    assert eng.stopped and not eng.busy()
