"""``rnnlab sweep``: the command line over :mod:`rnnlab.studies.sweep` (files, progress, errors, cancellation,
the same numbers on a Dask cluster) and its phase.png, the app's view rendered offscreen."""

from __future__ import annotations

import csv
import sys

import pytest

from rnnlab.cli import main
from rnnlab.config import Experiment
from rnnlab.studies.sweep import columns, read_csv, run_sweep

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


def test_process_pool_and_dask_give_identical_numbers(tmp_path, capsys):
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
        assert main([*args, "--out", str(tmp_path / "pool"), "--workers", "2"]) == 0
        assert main([*args, "--out", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address]) == 0
    assert _strip(pool) == _strip(dask_rows)
    assert "Dask scheduler" in capsys.readouterr().out
    from_pool, keys = read_csv(tmp_path / "pool" / "sweep.csv")
    from_dask, _ = read_csv(tmp_path / "dask" / "sweep.csv")
    assert keys == list(TINY_GRID)
    assert _strip(from_pool) == _strip(from_dask) == _strip(pool)


def test_cancelled_sweep_on_the_command_line_exits_130(tmp_path, monkeypatch, capsys):
    import rnnlab.studies.sweep as sweep_mod

    real = sweep_mod.run_sweep

    def cancel_after_two(*args, on_result=None, **kw):
        def cb(row, done, total):
            on_result(row, done, total)
            if done == 2:
                raise KeyboardInterrupt  # what Ctrl-C does in the waiting loop

        return real(*args, on_result=cb, **kw)

    monkeypatch.setattr(sweep_mod, "run_sweep", cancel_after_two)
    out = tmp_path / "cut"
    rc = main(["sweep", "--preset", "exploding-tanh", "--set", "model.hidden_size=8", "--set",
                     "training.eval_batch_size=50", "--grid", "model.spectral_radius=0.5,1,2", "--steps", "20",
                     "--out", str(out), "--workers", "1"])
    assert rc == 130
    text = capsys.readouterr().out
    assert "interrupted" in text and "2 of 3 runs" in text
    rows, _ = read_csv(out / "sweep.csv")
    assert len(rows) == 2
    assert (out / "phase.png").read_bytes()[:8] == PNG


def test_cli_writes_csv_and_phase_png(tmp_path, capsys):
    out = tmp_path / "sw"
    rc = main(["sweep", "--preset", "exploding-tanh", "--set", "model.hidden_size=8", "--set",
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
def test_cli_bad_grid_is_a_one_line_error(tmp_path, capsys, grid, needles):
    args = [a for g in grid for a in ("--grid", g)]
    rc = main(["sweep", "--preset", "exploding-tanh", *args, "--out", str(tmp_path / "x")])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnnlab: error: ") and "\n" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not (tmp_path / "x" / "sweep.csv").exists()  # nothing ran


def test_cli_other_errors(tmp_path, capsys, monkeypatch):
    base = ["sweep", "--grid", "task.length=10,20", "--out", str(tmp_path / "x")]
    assert main(base) == 2
    assert "give --preset NAME or --config FILE" in capsys.readouterr().err
    assert main([*base, "--preset", "exploding-tanh", "--seeds", "0"]) == 2
    assert "--seeds 0" in capsys.readouterr().err
    assert main([*base, "--preset", "exploding-tanh", "--success-threshold", "2"]) == 2
    assert "--success-threshold 2" in capsys.readouterr().err
    # a combination the trainer refuses is caught before anything runs, naming the grid point
    assert main([*base, "--preset", "exploding-tanh", "--grid", "model.arch=rnn,lstm",
                       "--set", "remedies.omega=1"]) == 2
    err = capsys.readouterr().err
    assert "grid point" in err and "model.arch=lstm" in err and "remedies.omega" in err
    # no Dask: one line that says how to get it
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main([*base, "--preset", "exploding-tanh", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install rnnlab[dask]" in err and "\n" not in err


def test_cli_help_describes_the_outputs(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    for needle in ("--grid KEY=V1,V2,...", "--seeds S", "--scheduler ADDRESS", "--workers K", "sweep.csv",
                   "phase.png", "--success-threshold", "130"):
        assert needle in text
