"""Parameter sweeps (:mod:`rnnlab.studies.sweep`): the science, determinism across executors, partial results
after a cancellation, the CSV files and the phase-diagram layout (``rnnlab sweep`` itself: tests/cli; the picture:
tests/gui/test_sweep_view.py)."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import sys

import pytest

from rnnlab.config import ConfigError, Experiment
from rnnlab.studies.sweep import (
    RESULT_COLUMNS,
    SweepInterrupted,
    check_grid,
    describe,
    parse_grid,
    phase_cells,
    phase_notes,
    plan_runs,
    read_csv,
    run_one,
    run_sweep,
    summarize,
    write_csv,
)
from tests.studies.helpers import fake_rows


def _strip(rows):
    """Everything but the wall time (the only number that may differ between executors)."""
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]


def _tiny(**changes) -> Experiment:
    """A network small enough that a run of 40 steps takes a few tens of milliseconds."""
    exp = Experiment().replace(model__hidden_size=8, training__optimizer="adam", remedies__clip="norm",
                               training__eval_every=1000, training__eval_batch_size=100)
    return exp.replace(**changes) if changes else exp


TINY_GRID = {"model.spectral_radius": [0.5, 2.0], "task.length": [10, 20]}


# --- 1. the science -------------------------------------------------------------------------------------------

SCIENCE_GRID = {"model.spectral_radius": [0.5, 1.0, 1.5, 2.0], "task.length": [10, 30, 50]}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])  # two disjoint seed sets: seeds 0-2 and 3-5
def test_trainable_region_shrinks_as_the_lag_grows(seed, tmp_path):
    """A vanilla tanh RNN (H = 16, Adam η = 0.01, norm clipping at 1, 600 updates) on the temporal-order task:
    with T = 10 every ρ(W_hh) in {0.5, 1, 1.5, 2} trains; at T = 30 only some seeds do, mostly near ρ ≈ 1–1.5;
    at T = 50 none does (the symbols sit ~0.4T–0.9T steps before the answer and the gradient across that lag
    has vanished or is too erratic). Observed (successful runs of 12 per T, mean held-out success):
    seeds 0-2: 12 (1.00), 3 (0.58), 0 (0.30); seeds 3-5: 12 (1.00), 4 (0.62), 0 (0.25); seeds 6-8: 12, 8, 0;
    seeds 9-11: 12, 5, 0. About 25 s on 2 cores per seed set."""
    exp = Experiment().replace(seed=seed, model__arch="rnn", model__activation="tanh", model__hidden_size=16,
                               task__name="temporal_order", training__optimizer="adam",
                               training__learning_rate=0.01, remedies__clip="norm", remedies__clip_threshold=1.0,
                               training__eval_every=1000)
    rows = run_sweep(exp, SCIENCE_GRID, seeds=3, steps=600, workers=2, csv_path=tmp_path / "sweep.csv")
    assert len(rows) == 4 * 3 * 3
    Ts = SCIENCE_GRID["task.length"]
    successes = [sum(r["success"] for r in rows if r["task.length"] == T) for T in Ts]
    metric = [sum(r["final_metric"] for r in rows if r["task.length"] == T) / 12 for T in Ts]
    report = f"successes per T {dict(zip(Ts, successes))}, mean held-out success {dict(zip(Ts, metric))}"
    # the trainable region shrinks strictly as T grows: all of it at T = 10, part at T = 30, none at T = 50
    assert successes[0] > successes[1] > successes[2], report
    assert successes[0] >= 11 and successes[2] <= 1, report
    assert metric[0] > metric[1] > metric[2], report
    assert not any(r["exploded"] for r in rows), report  # clipping is on: the failures are not explosions
    cells = summarize(rows, SCIENCE_GRID)
    assert all(cells[(rho, 10)]["mean_success"] >= 2 / 3 for rho in SCIENCE_GRID["model.spectral_radius"])
    # the phase diagram's cells are the same counts (its picture: tests/gui/test_sweep_view.py)
    phase = phase_cells(rows, SCIENCE_GRID)
    for (i, j), c in phase.cells.items():
        assert c["n"] == 3 and c["successes"] == cells[(phase.xs[j], phase.ys[i])]["successes"]


# --- 2. the same numbers everywhere -----------------------------------------------------------------------------

def test_runs_are_pure_functions():
    exp = _tiny()
    a, b = run_one(exp, 30), run_one(exp, 30)
    a.pop("wall_time_s"), b.pop("wall_time_s")
    assert a == b
    assert a["steps"] == 30 and not a["exploded"] and 0.0 <= a["final_metric"] <= 1.0


def test_process_pool_and_thread_pool_give_identical_numbers():
    exp = _tiny()
    pool = run_sweep(exp, TINY_GRID, seeds=2, steps=40, workers=2)
    with cf.ThreadPoolExecutor(2) as ex:
        threads = run_sweep(exp, TINY_GRID, seeds=2, steps=40, executor=ex)
    assert _strip(pool) == _strip(threads)
    assert [r["run"] for r in pool] == list(range(8))
    assert [r["seed"] for r in pool] == [0, 1] * 4


# --- 3. partial results -----------------------------------------------------------------------------------------

def test_cancelled_sweep_keeps_the_finished_rows(tmp_path):
    exp = _tiny()
    path = tmp_path / "sweep.csv"
    seen = []

    def stop_after_three(row, done, total):
        # every finished row is already on disk, in sweep.partial.csv (sweep.csv is replaced only when complete)
        with open(tmp_path / "sweep.partial.csv", newline="", encoding="utf-8") as fh:
            assert len(list(csv.reader(fh))) == 1 + done
        seen.append(row)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(exp, TINY_GRID, seeds=2, steps=40, workers=2, csv_path=path, on_result=stop_after_three)
    exc = info.value
    assert isinstance(exc, KeyboardInterrupt)
    assert exc.total == 8 and len(exc.rows) == 3
    assert exc.rows == sorted(seen, key=lambda r: r["run"])
    rows, keys = read_csv(path)
    assert not (tmp_path / "sweep.partial.csv").exists()
    assert keys == list(TINY_GRID)
    assert _strip(rows) == _strip(exc.rows)  # the file holds exactly the finished runs, in run order
    # and they are the same numbers a full sweep gives for those runs
    full = {r["run"]: r for r in _strip(run_sweep(exp, TINY_GRID, seeds=2, steps=40, workers=2))}
    assert all(full[r["run"]] == r for r in _strip(rows))


def test_sweep_module_imports_no_qt_and_no_numpy():
    import subprocess

    code = ("import sys, rnnlab.studies.sweep; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'numpy', 'PySide6', 'shiboken6', 'pyqtgraph', 'distributed', 'dask'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# --- the API pieces ---------------------------------------------------------------------------------------------

def test_grid_parsing_and_planning():
    grid = parse_grid(["model.spectral_radius=0.5,1,2", "task.name=addition,temporal_order"])
    assert grid == {"model.spectral_radius": [0.5, 1.0, 2.0], "task.name": ["addition", "temporal_order"]}
    assert check_grid(Experiment(), {"model.spectral_radius": [1, "2"]}) == {"model.spectral_radius": [1.0, 2.0]}
    runs = plan_runs(Experiment(seed=10), grid, seeds=2)
    assert len(runs) == 12
    assert [r.seed for r in runs[:4]] == [10, 11, 10, 11]
    r = runs[3]
    assert r.values == {"model.spectral_radius": 0.5, "task.name": "temporal_order"}
    assert r.experiment.model.spectral_radius == 0.5 and r.experiment.task.name == "temporal_order"
    assert r.experiment.seed == 11
    with pytest.raises(ConfigError, match="unknown key"):
        plan_runs(Experiment(), {"model.nope": [1]})


def test_write_and_read_csv_round_trip(tmp_path):
    rows = [{"run": 1, "model.spectral_radius": 2.0, "seed": 0, "final_loss": float("inf"), "final_metric": 0.0,
             "success": False, "exploded": True, "steps": 7, "wall_time_s": 0.5},
            {"run": 0, "model.spectral_radius": 0.5, "seed": 0, "final_loss": 0.125, "final_metric": 0.96,
             "success": True, "exploded": False, "steps": 20, "wall_time_s": 0.25}]
    path = write_csv(rows, tmp_path / "s.csv", {"model.spectral_radius": [0.5, 2.0]})
    back, keys = read_csv(path)
    assert keys == ["model.spectral_radius"]
    assert back == sorted(rows, key=lambda r: r["run"])
    assert "inf" in path.read_text() and "true" in path.read_text()
    assert list(RESULT_COLUMNS)[:3] == ["seed", "final_loss", "final_metric"]




# --- the phase diagram's layout (one rule for extra keys, used by the window and by phase.png) ---------------

def test_phase_cells_two_keys_are_the_summary():
    grid = {"model.spectral_radius": [0.5, 1.0, 2.0], "task.length": [10, 20]}
    rows = fake_rows(grid, seeds=3)
    phase = phase_cells(rows, grid)
    assert (phase.xkey, phase.ykey, phase.pooled) == ("model.spectral_radius", "task.length", [])
    assert phase.xs == [0.5, 1.0, 2.0] and phase.ys == [10, 20]
    summary = summarize(rows, grid)
    values = phase.values()
    assert len(values) == 2 and len(values[0]) == 3
    for (i, j), c in phase.cells.items():
        s = summary[(phase.xs[j], phase.ys[i])]
        assert (c["n"], c["successes"], c["exploded"]) == (s["n"], s["successes"], s["exploded"])
        assert c["mean_success"] == s["mean_success"] == values[i][j]
        assert c["mean_metric"] == pytest.approx(s["mean_metric"])


def test_phase_cells_pool_the_extra_keys():
    """Three or more keys: each (x, y) cell counts every run with those two values, over all values of the other
    keys and all seeds; its share is successes / runs."""
    grid = {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.activation": ["tanh", "relu"],
            "model.hidden_size": [4, 8, 16]}
    rows = fake_rows(grid, seeds=2)
    phase = phase_cells(rows[:-1], grid)  # one run missing (a cancelled sweep): it simply does not count
    assert phase.pooled == ["model.activation", "model.hidden_size"]
    for (i, j), c in phase.cells.items():
        mine = [r for r in rows[:-1] if r["model.spectral_radius"] == phase.xs[j] and r["task.length"] == phase.ys[i]]
        assert c["n"] == len(mine) and c["n"] in (11, 12)
        assert c["successes"] == sum(r["success"] for r in mine)
        assert c["exploded"] == sum(r["exploded"] for r in mine)
        assert c["mean_success"] == c["successes"] / c["n"]
        assert c["mean_metric"] == pytest.approx(sum(r["final_metric"] for r in mine) / len(mine))
    assert sum(c["n"] for c in phase.cells.values()) == len(rows) - 1
    notes = phase_notes(phase, grid, threshold=0.9, runs=len(rows) - 1, total_runs=len(rows))
    assert notes[0].startswith(f"PARTIAL: {len(rows) - 1} of {len(rows)} runs")
    assert "reached 0.9" in notes[1]
    assert notes[-1].startswith("Pooled over model.activation (2 values), model.hidden_size (3 values)")


def test_phase_cells_with_one_key_or_none():
    grid = {"model.spectral_radius": [0.5, 1.0, 2.0]}
    one = phase_cells(fake_rows(grid), grid)
    assert one.ykey is None and one.ys == [None] and len(one.values()) == 1 and len(one.values()[0]) == 3
    assert [one.cells[(0, j)]["n"] for j in range(3)] == [2, 2, 2]
    none = phase_cells(fake_rows({}, seeds=3), {})
    assert none.xkey is None and none.cells[(0, 0)]["n"] == 3
    empty = phase_cells([], grid)  # no run finished: every cell is NaN, drawn grey
    assert all(c["n"] == 0 and c["mean_success"] != c["mean_success"] for c in empty.cells.values())
    assert phase_notes(empty, grid) == [phase_notes(empty, grid)[0]] and "threshold" in phase_notes(empty, grid)[0]


def test_describe_names_what_is_not_swept():
    exp = Experiment(seed=3).replace(model__hidden_size=16)
    title, sub = describe(exp, {"model.spectral_radius": [1.0]}, 600, 2)
    assert title == "Where does training succeed?  temporal_order, rnn (tanh) network"
    assert "H = 16" in sub and "ρ =" not in sub and sub.endswith("600 steps, seeds 3–4")
    assert describe(exp, {}, None, 1)[1].endswith("clip none, seed 3")
    # a swept setting is not named in the title either
    assert describe(exp, {"model.activation": ["tanh", "relu"]}, 5, 1)[0].endswith("temporal_order, rnn network")
    assert describe(exp, {"model.arch": ["rnn"], "task.name": ["addition"]}, 5, 1)[0].endswith("?  tanh network")


@pytest.mark.parametrize("make,needle", [
    (lambda d: (d / "sweep.csv").write_text("run,seed,final_loss,final_metric,success,exploded,steps,wall_time_s\n"
                                             "0,0,1.0,0.5,false,false,3,0.1\n"), "no grid column"),
    (lambda d: (d / "sweep.csv").write_text("run,model.spectral_radius,seed,final_loss,final_metric,success,exploded,"
                                             "steps,wall_time_s\n"), "no runs: the table has a header and no rows"),
    (lambda d: (d / "sweep.csv").mkdir(), "a folder, not a regular file"),
    (lambda d: (d / "sweep.csv").write_text("run,model.spectral_radius,seed,final_loss,final_metric,success,exploded,"
                                             "steps,wall_time_s\n0,abc,0,1.0,0.5,false,false,3,0.1\n"),
     "line 2, column 'model.spectral_radius': 'abc'"),
    (lambda d: (d / "sweep.csv").write_bytes(b"run,\xff\n"), "not a UTF-8 text file"),
])
def test_broken_sweep_folders_are_one_line_errors(tmp_path, make, needle):
    from rnnlab.config import ConfigError, save_toml
    from rnnlab.studies.sweep import load_folder

    save_toml(_tiny(), tmp_path / "config.toml")
    make(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_folder(tmp_path)
    msg = str(info.value)
    assert needle in msg and "\n" not in msg and len(msg) <= 300, msg
