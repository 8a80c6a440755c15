"""The command line at its limits: step counts (0 trains 0 steps, negative is refused), sizes and counts bounded,
memory that would not fit refused before anything is allocated, progress on long work, every write failure one
line, and no RuntimeWarning on stderr."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.config import Experiment
from tests import faults


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: ") and err.count("\n") == 1, err
    return err


def test_steps_zero_trains_zero_steps_and_writes_the_untrained_network(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--preset", "clipping", "--steps", "0", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("0 steps: ")
    rows = list(csv.reader(open(out / "metrics.csv")))
    assert len(rows) == 1 and rows[0][0] == "step"  # the header, no step
    state = np.load(out / "state.npz", allow_pickle=False)
    assert "W_hh" in state.files
    assert sorted(p.name for p in out.iterdir()) == ["config.toml", "metrics.csv", "state.npz"]


@pytest.mark.parametrize("argv,needle", [
    (["run", "--preset", "clipping", "--steps", "-5", "--out", "X"], "--steps -5: expected an integer in [0, "),
    (["run", "--preset", "clipping", "--steps", str(10**12), "--out", "X"], "expected an integer in [0, 100000000]"),
    (["sweep", "--preset", "clipping", "--grid", "model.spectral_radius=1,2", "--seeds", "0", "--out", "X"],
     "--seeds 0: expected an integer in [1, 100000]"),
    (["sweep", "--preset", "clipping", "--grid", "model.spectral_radius=1,2", "--seeds", str(10**9), "--out", "X"],
     "--seeds 1000000000"),
    (["sweep", "--preset", "clipping", "--grid", "model.spectral_radius=1,2", "--workers", "100000", "--out", "X"],
     "--workers 100000: expected an integer in [1, 256]"),
    (["sweep", "--preset", "clipping", "--grid", "task.length=" + ",".join(map(str, range(10, 400))),
      "--grid", "model.spectral_radius=" + ",".join(str(0.01 * i) for i in range(1, 400)), "--out", "X"],
     "a sweep may have at most 100000"),
    (["screenshot", "--size", "100000x100000", "--out", "X.png"], "--size 100000x100000: each side must be 200 to 8192"),
    (["screenshot", "--size", "0x10", "--out", "X.png"], "each side must be 200 to 8192"),
    (["screenshot", "--steps", "-1", "--out", "X.png"], "--steps -1"),
    (["compare", "--preset", "clipping", "--steps", "-3"], "--steps -3"),
    (["selftest", "--steps", str(10**9)], "--steps 1000000000"),
])
def test_counts_are_bounded_in_one_line(tmp_path, capsys, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert needle in err, err
    assert not any(tmp_path.iterdir())  # refused before anything was written


@pytest.mark.parametrize("argv", [
    ["run", "--preset", "clipping", "--set", "task.length=10000", "--set", "task.batch_size=10000",
     "--set", "model.hidden_size=2048", "--out", "X"],
    ["inspect", "--set", "task.length=10000", "--set", "task.batch_size=10000", "--set", "model.hidden_size=2048",
     "--out", "X.npz"],
])
def test_sizes_that_do_not_fit_are_refused_before_allocating(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert "this experiment needs about" in err and "TB of memory" in err and "are available" in err, err
    assert not any(tmp_path.iterdir())


def test_inspect_shows_progress_on_long_work(tmp_path, capsys):
    rc = main(["inspect", "--set", "task.length=600", "--set", "model.hidden_size=48", "--set", "task.batch_size=2",
               "--out", str(tmp_path / "x.npz")])
    assert rc == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    fractions = [int(ln.split("%")[0].split()[-1]) for ln in lines if "%" in ln]  # "inspect  40% (3 s, ~4 s left)"
    assert len(fractions) >= 5 and fractions == sorted(fractions) and fractions[-1] == 100, err


@pytest.mark.parametrize("mode", faults.MODES)
@pytest.mark.parametrize("command", ["run", "inspect", "config"])
def test_every_command_line_write_failure_is_one_line(tmp_path, capsys, monkeypatch, mode, command):
    name = {"run": "config.toml", "inspect": "x.npz", "config": "config.toml"}[command]
    target = faults.setup(mode, tmp_path, monkeypatch, name)
    try:
        if command == "run":
            argv = ["run", "--preset", "clipping", "--steps", "3", "--quiet", "--out", str(target.parent)]
        elif command == "inspect":
            argv = ["inspect", "--set", "task.length=10", "--set", "model.hidden_size=4", "--out", str(target)]
        else:  # sweep writes its config.toml first
            argv = ["sweep", "--preset", "clipping", "--grid", "model.spectral_radius=1,2", "--steps", "2",
                    "--quiet", "--out", str(target.parent)]
        assert main(argv) in (1, 2)
        err = _one_line_error(capsys)
        assert "could not write" in err and "Traceback" not in err
        assert any(r in err for r in faults.REASONS[mode]), err
        if mode in ("readonly", "enospc"):
            assert target.read_bytes() == faults.OLD
    finally:
        faults.restore(tmp_path)


EXTREMES = [  # found by a random search over presets × extreme settings (RuntimeWarnings before this issue)
    dict(model__activation="linear", remedies__omega=100.0, diagnostics__norm="spectral", model__spectral_radius=30.0),
    dict(model__activation="linear", model__spectral_radius=50.0, task__length=200),
    dict(task__name="addition", model__activation="relu", model__spectral_radius=30.0, training__learning_rate=100.0),
    dict(task__name="sine", remedies__teacher_forcing=0.0, model__activation="linear", model__spectral_radius=9.0),
    dict(model__arch="lstm", model__spectral_radius=100.0, model__input_scale=100.0, training__learning_rate=100.0),
    dict(task__name="random", model__hidden_size=1, task__length=2, task__batch_size=1, training__eval_batch_size=1,
         model__output_scale=0.0, model__input_scale=0.0),
]


@pytest.mark.parametrize("changes", EXTREMES)
def test_no_runtime_warning_from_training_at_extreme_settings(tmp_path, changes):
    from rnnlab.cli.run import run_experiment

    exp = Experiment().replace(**changes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, from any module, fails the test
        run_experiment(exp, tmp_path / "out", 6, progress=False)


def test_no_runtime_warning_reaches_stderr(tmp_path):
    r = subprocess.run([sys.executable, "-W", "always", "-m", "rnnlab", "run", "--preset", "exploding-tanh",
                        "--set", "model.activation=linear", "--set", "model.spectral_radius=50", "--steps", "5",
                        "--quiet", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr
