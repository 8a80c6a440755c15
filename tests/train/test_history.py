"""The run's history in bounded memory: recent steps at full resolution, older ones decimated with their extremes
kept (so spikes, explosions and clipping stay visible), rows handed out exactly once across decimations."""

from __future__ import annotations

import numpy as np

from rnnlab.train.snapshot import (CHUNK_ROWS, COARSE_ROWS, HISTORY_COLUMNS, RECENT_ROWS, DecimatedTable, History)

LIMIT = RECENT_ROWS + CHUNK_ROWS + COARSE_ROWS


def _row(step, loss):
    return {"step": step, "loss": loss, "grad_norm": 1.0, "clipped": 0.0}


def test_memory_is_bounded_whatever_the_run_length():
    h = History()
    for s in range(1, 300_001):
        h.append(_row(s, 1.0))
    assert h.n <= LIMIT
    assert h._t._data.shape[0] <= LIMIT + 2  # the storage itself stops growing
    steps = h.table()["step"]
    assert steps[0] == 1 and steps[-1] == 300_000 and np.all(np.diff(steps) >= 0)
    # the most recent RECENT_ROWS steps are there one by one
    np.testing.assert_array_equal(steps[-RECENT_ROWS:], np.arange(300_001 - RECENT_ROWS, 300_001))


def test_spikes_dips_explosions_and_clipping_survive_decimation():
    h = History()
    for s in range(1, 120_001):
        row = _row(s, 1.0)
        if s == 777:
            row["loss"] = 1e6  # a spike far back
        if s == 5_001:
            row["loss"] = 1e-9  # a dip
        if s == 9_999:
            row["grad_norm"] = np.inf  # an explosion
        if s == 42_000:
            row["clipped"] = 1.0
        h.append(row)
    t = h.table()
    assert h.n < 30_000
    assert t["loss"].max() == 1e6 and t["loss"].min() == 1e-9
    assert np.isposinf(t["grad_norm"]).sum() == 1 and t["clipped"].max() == 1.0
    i = int(np.argmax(t["loss"]))  # the spike is drawn near where it happened
    assert abs(t["step"][i] - 777) < 120_000 * 0.02
    assert np.isnan(t["metric"]).all()  # columns never measured stay empty (and no warning was raised)


def test_rows_since_a_serial_arrive_exactly_once():
    h = History()
    got = []
    serial = 0
    for s in range(1, 60_001):
        h.append(_row(s, float(s)))
        if s % 997 == 0 or s == 60_000:
            rows = h.since_serial(serial)
            got.extend(rows["step"])
            serial = h.serial_end
    np.testing.assert_array_equal(got, np.arange(1, 60_001))


def test_truncate_after_a_step_and_go_on():
    h = History()
    for s in range(1, 40_001):
        h.append(_row(s, 1.0))
    h.truncate_after(39_990)
    assert h.table()["step"][-1] == 39_990
    h.append(_row(39_991, 2.0))
    assert h.since_serial(h.serial_end - 1)["loss"].tolist() == [2.0]
    h.truncate_after(100)  # far back, into the decimated part: whole blocks only
    assert h.table()["step"][-1] <= 100


def test_arrays_round_trip():
    h = History()
    for s in range(1, 20_001):
        h.append(_row(s, np.sin(s)))
    g = History.from_arrays(h.arrays())
    for c in HISTORY_COLUMNS:
        np.testing.assert_array_equal(g.table()[c], h.table()[c])
    assert g.serial_end == h.serial_end


def test_the_decimated_extremes_are_exact_per_block():
    t = DecimatedTable(2, recent=100, chunk=100, block=10, coarse=1000)
    x = np.random.default_rng(0).standard_normal(400)
    t.append_rows(np.column_stack([np.arange(400.0), x]))
    d = t.data
    # the first 200 rows became 20 blocks of (min, max)
    lo, hi = d[0:40:2, 1], d[1:40:2, 1]
    np.testing.assert_array_equal(lo, x[:200].reshape(20, 10).min(axis=1))
    np.testing.assert_array_equal(hi, x[:200].reshape(20, 10).max(axis=1))
    np.testing.assert_array_equal(d[40:, 1], x[200:])


def test_checkpoint_arrays_restore_every_optimiser_exactly(tmp_path):
    """Restart goes on where the checkpoint was: weights, optimiser state, data streams and history."""
    import pytest

    from rnnlab.config import Experiment
    from rnnlab.train.checkpoint import load_checkpoint, save_checkpoint
    from rnnlab.train.trainer import Trainer

    for opt in ("sgd", "momentum", "nesterov", "rmsprop", "adam"):
        exp = Experiment().replace(training__optimizer=opt, task__length=12, model__hidden_size=6)
        a = Trainer(exp)
        for _ in range(60):
            a.step()
        save_checkpoint(a, tmp_path / "ck.npz")
        b = Trainer(exp)
        # the newest checkpoint of the timeline (a network this small is kept after every step)
        assert b.restore(load_checkpoint(tmp_path / "ck.npz")) == 60
        c = Trainer(exp)
        for _ in range(60):
            c.step()
        for _ in range(7):
            b.step()
            c.step()
        assert b.last_loss == c.last_loss and b.step_count == c.step_count == 67, opt
        np.testing.assert_array_equal(b.history.table()["loss"], c.history.table()["loss"])
    other = Trainer(Experiment().replace(task__length=12, model__hidden_size=7))
    with pytest.raises(Exception, match="does not fit this experiment"):
        other.restore(load_checkpoint(tmp_path / "ck.npz"))
    assert other.step_count == 0


def test_block_means_keep_nan_out_and_infinities_in():
    from rnnlab.train.snapshot import block_mean

    a = np.tril(np.arange(16.0).reshape(4, 4))
    a[np.triu_indices(4, 1)] = np.nan
    a[3, 0], a[1, 1] = -np.inf, np.inf
    np.testing.assert_array_equal(block_mean(a, 2), [[np.inf, np.nan], [10.0, 13.0]])
    only = np.full((5, 5), np.nan)
    only[4, 0] = -np.inf  # an exact zero alone in its block stays visible
    assert block_mean(only, 3)[1, 0] == -np.inf and np.isnan(block_mean(only, 3)[0, 0])
    np.testing.assert_array_equal(block_mean(np.arange(10.0).reshape(5, 2), 2, (0,)), [[1, 2], [5, 6], [8, 9]])


def test_long_sequences_travel_to_the_window_averaged_over_blocks():
    """At T > 1024 the app's engine sends its (T, T) pictures and hidden states averaged over f steps (f = ⌈T/1024⌉);
    the lag profile, computed from the full heatmap, stays exact; a merged snapshot keeps the scale of its
    diagnostics."""
    import pickle

    from rnnlab.config import Experiment
    from rnnlab.train.session import Session
    from rnnlab.train.snapshot import Snapshot, block_mean

    eng = Session(Experiment().replace(task__name="random", task__length=2100, model__hidden_size=4))
    eng.run_until_idle()
    snap = eng.take()[-1]
    full = eng.trainer.diagnostics()
    assert snap.picture_scale == 3 and snap.diagnostics.jacobian_log10.shape == (700, 700)
    assert snap.diagnostics.hidden.shape == (700, 4) and snap.diagnostics.lag_profile.shape == (2100,)
    np.testing.assert_allclose(snap.diagnostics.gradient_flow_log10, block_mean(full.gradient_flow_log10, 3))
    back = pickle.loads(pickle.dumps(Snapshot.merge([snap, eng.trainer.snapshot(False)])))
    assert back.picture_scale == 3 and back.diagnostics.jacobian_log10.shape == (700, 700)
    np.testing.assert_array_equal(back.diagnostics.hidden, snap.diagnostics.hidden)
