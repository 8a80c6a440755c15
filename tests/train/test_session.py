"""The session behind the window (no Qt): typed commands, throttled snapshots, explosions, rewind, config changes;
the same session on a thread."""

from __future__ import annotations

import numpy as np

from rnnlab.config import Experiment
import pytest

from rnnlab.train.session import (Configure, Pause, Play, RequestSnapshot, Reset, Rewind, Session, Step, Stop,
                                  ThreadSession)


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def small():
    return Experiment().replace(task__length=12, model__hidden_size=8, training__eval_every=10)


def test_step_command_runs_exactly_n_steps_and_ends_with_an_expensive_snapshot():
    eng = Session(small())
    eng.send(Step(7))
    eng.run_until_idle()
    snaps = eng.take()
    assert eng.trainer.step_count == 7
    assert snaps[-1].step == 7 and snaps[-1].diagnostics is not None
    # every step's row arrives exactly once across the snapshots
    steps = np.concatenate([s.history["step"] for s in snaps])
    assert list(steps) == list(range(1, 8))


def test_snapshots_are_throttled_by_time_not_by_steps():
    clock = FakeClock()
    eng = Session(small(), fps=10, clock=clock)
    eng.send(Play())
    for i in range(100):  # 100 steps within 0.05 s of fake time: at most one or two snapshots
        clock.t = i * 0.0005
        eng.tick()
    assert eng.trainer.step_count == 100
    assert len(eng.take()) <= 3
    clock.t = 1.0
    eng.tick()
    assert len(eng.take()) == 1


def test_snapshots_own_their_arrays():
    eng = Session(small())
    eng.send(Step(2))
    eng.run_until_idle()
    snap = eng.take()[-1]
    heat = snap.diagnostics.jacobian_log10.copy()
    hist = snap.history["loss"].copy()
    eng.send(Step(20))
    eng.run_until_idle()
    np.testing.assert_array_equal(snap.diagnostics.jacobian_log10, heat)
    np.testing.assert_array_equal(snap.history["loss"], hist)


def test_explosion_stops_playing_and_rewind_restores_finite_weights():
    exp = Experiment().replace(task__name="addition", task__length=20, model__activation="linear",
                               model__spectral_radius=3.0, training__learning_rate=0.5)
    eng = Session(exp)
    eng.send(Play())
    for _ in range(2000):
        eng.tick()
        if eng.trainer.explosion is not None:
            break
    eng.tick()
    snaps = eng.take()
    assert snaps[-1].explosion is not None and not eng.playing
    ck = snaps[-1].explosion.checkpoint_step
    eng.send(Play())  # refused while exploded
    eng.tick()
    assert not eng.playing
    eng.send(Rewind())
    eng.tick()
    assert eng.trainer.explosion is None and eng.trainer.step_count == ck
    assert all(np.all(np.isfinite(v)) for v in eng.trainer.net.params.values())


def test_config_change_applies_without_reset_and_is_an_event():
    eng = Session(small())
    eng.send(Step(5))
    eng.run_until_idle()
    eng.take()
    W = eng.trainer.net.params["W_hh"].copy()
    eng.send(Configure(eng.experiment.replace("remedies.clip", "norm")))
    eng.send(Step(1))
    eng.run_until_idle()
    snaps = eng.take()
    assert eng.trainer.step_count == 6
    texts = [e.text for s in snaps for e in s.events]
    assert any("remedies.clip" in t for t in texts)
    assert snaps[-1].remedies[0].startswith("clip norm")
    assert not np.array_equal(W, eng.trainer.net.params["W_hh"])  # trained on, not re-drawn


def test_incompatible_config_is_a_message_not_a_crash():
    eng = Session(small().replace("remedies.hessian_free", True))
    eng.send(Step(1))
    eng.run_until_idle()
    before = eng.trainer.step_count
    # an LSTM cannot run Hessian-free here: the engine says so and keeps the current run
    eng.send(Configure(eng.experiment.replace("model.arch", "lstm")))
    eng.run_until_idle()
    msgs = eng.take_messages()
    assert len(msgs) == 1 and "hessian_free" in msgs[0] and "'rnn'" in msgs[0]
    assert eng.experiment.model.arch == "rnn" and eng.trainer.step_count == before


def test_stop_ends_the_loop():
    eng = Session(small())
    eng.send(Play())
    eng.tick()
    eng.send(Stop())
    eng.tick()
    assert eng.stopped and not eng.busy()


def test_an_unknown_command_is_a_type_error_not_silence():
    eng = Session(small())
    eng.send("play")  # the 0.1 string commands are gone
    with pytest.raises(TypeError, match="not a session command"):
        eng.tick()


def test_snapshots_say_whether_training_goes_on_after_them():
    """``running``: true while playing or while asked-for steps remain, false on the snapshot a Pause forces (the
    window waits for that one to know the run has settled)."""
    clock = FakeClock()
    eng = Session(small(), clock=clock)
    eng.run_until_idle()
    assert not eng.take()[-1].running  # the first snapshot: nothing asked for yet
    eng.send(Step(3))
    clock.t += 1.0
    eng.tick()
    assert [x.running for x in eng.take()] == [True]  # two more steps to make
    eng.run_until_idle()
    assert not eng.take()[-1].running
    eng.send(Play())
    clock.t += 1.0
    eng.tick()
    playing = eng.take()
    assert playing and all(x.running for x in playing)
    eng.send(Pause())
    eng.tick()
    (last,) = eng.take()
    assert not last.running and last.step == eng.trainer.step_count


def test_the_thread_session_trains_pauses_and_stops_promptly():
    s = ThreadSession(small())
    try:
        s.send(Step(5))
        snaps = []
        while not any(x.step == 5 for x in snaps):  # the thread answers; no fixed sleep
            snaps += s.take()
            s.session.wake.wait(0.01)
        s.send(Play())
        while s.trainer.step_count < 20:
            s.session.wake.wait(0.01)
        s.send(Pause())
        assert not s.playing  # answered at once (the step in progress, if any, completes)

        def round_trip():  # a no-op command: handled after everything sent before it
            s.send(Step(0))
            while not s.session._cmds.empty() or s.session._interrupt.is_set():
                s.session.wake.wait(0.01)
            s.send(RequestSnapshot(False))
            while s.session._force_snapshot or not s.session._cmds.empty():
                s.session.wake.wait(0.01)

        round_trip()
        n = s.trainer.step_count
        round_trip()
        assert s.trainer.step_count == n  # paused: no step after the pause was handled
    finally:
        assert s.stop(5000)
    assert not s.is_alive()


def test_costly_spectra_are_recomputed_at_a_lower_rate_and_say_so(monkeypatch):
    """Above the budget the spectrum and the Lyapunov exponents are reused from an earlier snapshot (the note says
    which step) and recomputed only when they cost at most a tenth of the time since the last time."""
    from rnnlab.train import session as session_module

    monkeypatch.setattr(session_module, "SNAPSHOT_BUDGET", 1e3)  # every spectrum is "costly" now
    clock = FakeClock()
    eng = Session(small(), clock=clock, expensive_fps=1000.0)
    eng.run_until_idle()
    first = eng.take()[-1].diagnostics
    assert first.slow_note == ""  # computed for these weights
    eng.trainer.slow_seconds = 1.0  # as if it took a second
    eng.send(Step(2))
    eng.run_until_idle()
    snap = eng.take()[-1]
    assert snap.step == 2 and "of step 0" in snap.diagnostics.slow_note
    np.testing.assert_array_equal(snap.diagnostics.eigenvalues, first.eigenvalues)  # reused
    clock.t = 10.0  # ten seconds later a 1 s computation is a tenth of the time: due again
    eng.send(Step(1))
    eng.run_until_idle()
    snap = eng.take()[-1]
    assert snap.diagnostics.slow_note == ""
    assert not np.array_equal(snap.diagnostics.eigenvalues, first.eigenvalues)  # the trained weights'


def test_a_reset_abandons_the_diagnostics_in_progress():
    """A command that makes the work pointless interrupts it at its next time step."""
    from rnnlab.core._interrupt import hooked

    eng = Session(Experiment().replace(task__length=400, model__hidden_size=16))
    eng.run_until_idle()
    eng.take()
    calls = []

    def spy():
        calls.append(1)
        if len(calls) == 50:
            eng.send(Reset())  # arrives while the heatmap sweep runs

    eng.send(RequestSnapshot(True))
    with hooked(spy):
        eng.tick()
    assert not eng.take()  # abandoned: no snapshot of the old weights
    assert 50 <= len(calls) < 60  # within a few time steps of the command
    eng.run_until_idle()
    snaps = eng.take()
    assert snaps and snaps[-1].step == 0 and snaps[-1].diagnostics is not None
