"""Parameter sweeps (``rnnlab sweep`` and :mod:`rnnlab.sweep`): the science, determinism across executors,
partial results after a cancellation, the command line and the phase diagram."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import sys

import pytest

from rnnlab import cli as rcli
from rnnlab import sweep_cli
from rnnlab.config import ConfigError, Experiment
from rnnlab.sweep import (
    RESULT_COLUMNS,
    SweepInterrupted,
    check_grid,
    columns,
    parse_grid,
    phase_png,
    plan_runs,
    read_csv,
    run_one,
    run_sweep,
    summarize,
    write_csv,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _strip(rows):
    """Everything but the wall time (the only number that may differ between executors)."""
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]


def _tiny(**changes) -> Experiment:
    """A network small enough that a run of 40 steps takes a few tens of milliseconds."""
    exp = Experiment().replace(model__hidden_size=8, training__optimizer="adam", remedies__clip="norm",
                               training__eval_every=1000, training__eval_batch_size=100)
    return exp.replace(**changes) if changes else exp


TINY_GRID = {"model.spectral_radius": [0.5, 2.0], "task.length": [10, 20]}


@pytest.fixture
def sweep_main(monkeypatch):
    """``rnnlab.cli.main`` with the sweep command registered (whether or not cli.py registers it itself)."""
    orig = rcli._register_optional_commands

    def register():
        orig()
        if "sweep" not in {name for name, _ in rcli._EXTRA_COMMANDS}:
            rcli._EXTRA_COMMANDS.extend(sweep_cli.COMMANDS)

    monkeypatch.setattr(rcli, "_register_optional_commands", register)
    return rcli.main


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
    out = phase_png(rows, SCIENCE_GRID, tmp_path / "phase.png", title="ρ × T", threshold=0.9)
    assert out.read_bytes()[:8] == PNG


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


def test_process_pool_and_dask_give_identical_numbers(tmp_path, sweep_main, capsys):
    pytest.importorskip("distributed", reason="dask is not installed (pip install rnnlab[dask])")
    from distributed import Client, LocalCluster

    exp = _tiny()
    pool = run_sweep(exp, TINY_GRID, seeds=2, steps=40, workers=2)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            dask_rows = run_sweep(exp, TINY_GRID, seeds=2, steps=40, executor=client)
        # and through the command line, against the local pool
        cfg = tmp_path / "tiny.toml"
        from rnnlab.config import save_toml

        save_toml(exp, cfg)
        args = ["sweep", "--config", str(cfg), "--grid", "model.spectral_radius=0.5,2", "--grid",
                "task.length=10,20", "--seeds", "2", "--steps", "40", "--quiet"]
        assert sweep_main([*args, "--out", str(tmp_path / "pool"), "--workers", "2"]) == 0
        assert sweep_main([*args, "--out", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address]) == 0
    assert _strip(pool) == _strip(dask_rows)
    assert "Dask scheduler" in capsys.readouterr().out
    from_pool, keys = read_csv(tmp_path / "pool" / "sweep.csv")
    from_dask, _ = read_csv(tmp_path / "dask" / "sweep.csv")
    assert keys == list(TINY_GRID)
    assert _strip(from_pool) == _strip(from_dask) == _strip(pool)


# --- 3. partial results -----------------------------------------------------------------------------------------

def test_cancelled_sweep_keeps_the_finished_rows(tmp_path):
    exp = _tiny()
    path = tmp_path / "sweep.csv"
    seen = []

    def stop_after_three(row, done, total):
        with open(path, newline="", encoding="utf-8") as fh:  # every finished row is already on disk
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
    assert keys == list(TINY_GRID)
    assert _strip(rows) == _strip(exc.rows)  # the file holds exactly the finished runs, in run order
    # and they are the same numbers a full sweep gives for those runs
    full = {r["run"]: r for r in _strip(run_sweep(exp, TINY_GRID, seeds=2, steps=40, workers=2))}
    assert all(full[r["run"]] == r for r in _strip(rows))


def test_cancelled_sweep_on_the_command_line_exits_130(tmp_path, sweep_main, monkeypatch, capsys):
    import rnnlab.sweep as sweep_mod

    real = sweep_mod.run_sweep

    def cancel_after_two(*args, on_result=None, **kw):
        def cb(row, done, total):
            on_result(row, done, total)
            if done == 2:
                raise KeyboardInterrupt  # what Ctrl-C does in the waiting loop

        return real(*args, on_result=cb, **kw)

    monkeypatch.setattr(sweep_mod, "run_sweep", cancel_after_two)
    out = tmp_path / "cut"
    rc = sweep_main(["sweep", "--preset", "exploding-tanh", "--set", "model.hidden_size=8", "--set",
                     "training.eval_batch_size=50", "--grid", "model.spectral_radius=0.5,1,2", "--steps", "20",
                     "--out", str(out), "--workers", "1"])
    assert rc == 130
    text = capsys.readouterr().out
    assert "interrupted" in text and "2 of 3 runs" in text
    rows, _ = read_csv(out / "sweep.csv")
    assert len(rows) == 2
    assert (out / "phase.png").read_bytes()[:8] == PNG


# --- 4. the command line ----------------------------------------------------------------------------------------

def test_cli_writes_csv_and_phase_png(tmp_path, sweep_main, capsys):
    out = tmp_path / "sw"
    rc = sweep_main(["sweep", "--preset", "exploding-tanh", "--set", "model.hidden_size=8", "--set",
                     "training.eval_batch_size=50", "--grid", "model.spectral_radius=0.5,1,2",
                     "--grid", "task.length=10,20", "--seeds", "2", "--steps", "20", "--workers", "2",
                     "--success-threshold", "0.5", "--out", str(out)])
    assert rc == 0
    cap = capsys.readouterr()
    assert "12 runs (6 grid points × 2 seeds), 20 steps each, on 2 local processes" in cap.out
    assert "100% (12/12)" in cap.err  # the progress bar (every 10 % when not on a terminal)
    with open(out / "sweep.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["run", "model.spectral_radius", "task.length", "seed", "final_loss", "final_metric",
                        "success", "exploded", "steps", "wall_time_s"]
    assert table[0] == columns(["model.spectral_radius", "task.length"])
    assert len(table) == 1 + 12
    rows, _ = read_csv(out / "sweep.csv")
    assert [r["run"] for r in rows] == list(range(12))
    assert {(r["model.spectral_radius"], r["task.length"]) for r in rows} == {
        (rho, T) for rho in (0.5, 1.0, 2.0) for T in (10, 20)}
    assert {r["seed"] for r in rows} == {0, 1}
    for r in rows:
        assert r["steps"] == 20 or r["exploded"]
        assert r["success"] == (not r["exploded"] and r["final_metric"] >= 0.5)
        assert r["wall_time_s"] > 0
    png = (out / "phase.png").read_bytes()
    assert png[:8] == PNG and len(png) > 5000
    assert (out / "config.toml").exists()


@pytest.mark.parametrize("grid,needles", [
    (["model.spectral_radiuss=1,2"], ["unknown key 'model.spectral_radiuss'", "spectral_radius, sparse_k"]),
    (["modle.spectral_radius=1,2"], ["unknown key 'modle.spectral_radius'", "model.spectral_radius",
                                     "task.length"]),
    (["task.length=10,abc"], ["task.length", "'abc'", "expected an integer"]),
    (["model.spectral_radius=1,-1"], ["model.spectral_radius = -1.0", "expected a number in (0.0, 100.0]"]),
    (["model.arch=rnn,transformer"], ["model.arch = 'transformer'", "expected one of 'rnn'"]),
    (["model.spectral_radius"], ["expected KEY=V1,V2"]),
    (["task.length=10,,20"], ["comma-separated"]),
    (["task.length=10", "task.length=20"], ["given twice"]),
    (["seed=1,2"], ["--seeds"]),
    ([], ["give at least one --grid"]),
])
def test_cli_bad_grid_is_a_one_line_error(tmp_path, sweep_main, capsys, grid, needles):
    args = [a for g in grid for a in ("--grid", g)]
    rc = sweep_main(["sweep", "--preset", "exploding-tanh", *args, "--out", str(tmp_path / "x")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnnlab: error: ") and "\n" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not (tmp_path / "x" / "sweep.csv").exists()  # nothing ran


def test_cli_other_errors(tmp_path, sweep_main, capsys, monkeypatch):
    base = ["sweep", "--grid", "task.length=10,20", "--out", str(tmp_path / "x")]
    assert sweep_main(base) == 2
    assert "give --preset NAME or --config FILE" in capsys.readouterr().err
    assert sweep_main([*base, "--preset", "exploding-tanh", "--seeds", "0"]) == 2
    assert "--seeds 0" in capsys.readouterr().err
    assert sweep_main([*base, "--preset", "exploding-tanh", "--success-threshold", "2"]) == 2
    assert "--success-threshold 2" in capsys.readouterr().err
    # a combination the trainer refuses is caught before anything runs, naming the grid point
    assert sweep_main([*base, "--preset", "exploding-tanh", "--grid", "model.arch=rnn,lstm",
                       "--set", "remedies.omega=1"]) == 2
    err = capsys.readouterr().err
    assert "grid point" in err and "model.arch=lstm" in err and "remedies.omega" in err
    # no Dask: one line that says how to get it
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert sweep_main([*base, "--preset", "exploding-tanh", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install rnnlab[dask]" in err and "\n" not in err


def test_cli_help_describes_the_outputs(sweep_main, capsys):
    with pytest.raises(SystemExit):
        sweep_main(["sweep", "--help"])
    text = capsys.readouterr().out
    for needle in ("--grid KEY=V1,V2,...", "--seeds S", "--scheduler ADDRESS", "--workers K", "sweep.csv",
                   "phase.png", "--success-threshold", "130"):
        assert needle in text


def test_sweep_modules_import_no_qt_and_no_numpy():
    import subprocess

    code = ("import sys, rnnlab.sweep, rnnlab.sweep_cli; "
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


def _fake_rows(grid, seeds=2):
    import itertools

    rows = []
    for combo in itertools.product(*grid.values()):
        for s in range(seeds):
            m = (len(rows) * 37 % 100) / 100
            rows.append({"run": len(rows), **dict(zip(grid, combo)), "seed": s, "final_loss": 1.0,
                         "final_metric": m, "success": m >= 0.5, "exploded": m < 0.1, "steps": 5,
                         "wall_time_s": 0.1})
    return rows


@pytest.mark.parametrize("grid", [
    {},
    {"model.spectral_radius": [0.5, 1.0, 2.0]},
    {"model.spectral_radius": [0.5, 1.0, 2.0], "task.length": [10, 20]},
    {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.activation": ["tanh", "relu"]},
    {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.hidden_size": list(range(1, 8)),
     "training.learning_rate": [0.1, 0.01, 0.001, 0.0001, 1e-5, 1e-6]},  # > 36 panels: averaged
])
def test_phase_png_for_any_number_of_axes(tmp_path, grid):
    rows = _fake_rows(grid)
    path = phase_png(rows[:-1], grid, tmp_path / "p.png", total_runs=len(rows))  # one run missing: partial
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 3000
    summary = summarize(rows[:-1], grid)
    assert sum(c["n"] for c in summary.values()) == len(rows) - 1
