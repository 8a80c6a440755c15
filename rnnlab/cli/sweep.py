"""``rnnlab sweep``: a grid of headless runs on a local process pool or a Dask cluster, with a phase diagram.

The runs are :mod:`rnnlab.studies.sweep`; ``phase.png`` is the app's own view
(:class:`rnnlab.gui.sweep_view.SweepView`) rendered offscreen. No Qt is imported until the picture is drawn at
the end; no NumPy until the runs are planned.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ._common import (MAX_STEPS, CLIError, RunProgress, add_experiment_args, check_at_least, config_errors,
                      load_experiment, offscreen_qt, require_source)

__all__ = ["add_parser"]

DASK_HINT = "pip install rnnlab[dask]"


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..config import ConfigError, save_toml

    require_source(args)
    if not args.grid:
        raise CLIError("give at least one --grid KEY=V1,V2,..., e.g. --grid model.spectral_radius=0.5,1,1.5,2")
    from ..studies.sweep import MAX_RUNS

    check_at_least("--seeds", args.seeds, 1, MAX_RUNS)
    check_at_least("--workers", args.workers, 1, 256)
    if not 0.0 <= args.success_threshold <= 1.0:
        raise CLIError(f"--success-threshold {args.success_threshold:g}: expected a number in [0, 1]")
    check_at_least("--steps", args.steps, 1, MAX_STEPS)
    exp = load_experiment(args)
    steps = exp.training.steps if args.steps is None else args.steps

    from ..studies import sweep as study

    with config_errors():
        grid = study.check_grid(exp, study.parse_grid(args.grid))
        total = len(study.plan_runs(exp, grid, args.seeds))  # every combination is validated before anything runs

    client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise CLIError(f"--scheduler needs Dask, which is not installed: {DASK_HINT}") from None
        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise CLIError(f"cannot connect to the Dask scheduler at {args.scheduler}: {exc}") from None
        n_workers = len(client.scheduler_info().get("workers", {}))
        where = f"the Dask scheduler {args.scheduler} ({n_workers} worker{'s' if n_workers != 1 else ''})"
    else:
        k = min(args.workers or os.cpu_count() or 1, total)
        where = f"{k} local process{'es' if k != 1 else ''}"

    out = Path(args.out)
    save_toml(exp, out / "config.toml")  # creates the folder; a failure is one line (rnnlab.io.WriteError)
    cells = total // args.seeds
    print(f"sweep: {total} runs ({cells} grid point{'s' if cells != 1 else ''} × {args.seeds} "
          f"seed{'s' if args.seeds != 1 else ''}), {steps} steps each, on {where}", flush=True)

    bar = None if args.quiet else RunProgress(total)
    counts = {"ok": 0, "exploded": 0}

    def on_result(row: dict, done: int, n: int) -> None:
        counts["ok"] += bool(row["success"])
        counts["exploded"] += bool(row["exploded"])
        if bar:
            bar.update(done, f"{counts['ok']} succeeded, {counts['exploded']} exploded")

    if bar:
        bar.update(0)
    t0 = time.perf_counter()
    interrupted = False
    try:
        rows = study.run_sweep(exp, grid, args.seeds, steps, executor=client, workers=args.workers,
                               success_threshold=args.success_threshold, csv_path=out / "sweep.csv",
                               on_result=on_result)
    except study.SweepInterrupted as exc:
        rows, interrupted = exc.rows, True
    except ConfigError as exc:
        raise CLIError(str(exc)) from None
    except ImportError as exc:  # rnnlab (or NumPy) missing on a Dask worker
        if client is None:
            raise
        raise CLIError(f"a run failed on the Dask cluster: {exc} (install rnnlab on every worker)") from None
    finally:
        if bar:
            bar.close()
        if client is not None:
            client.close()
    wall = time.perf_counter() - t0

    title, subtitle = study.describe(exp, grid, steps, args.seeds)
    offscreen_qt()
    from ..gui.sweep_view import phase_png

    try:
        phase_png(rows, grid, out / "phase.png", title=title, subtitle=subtitle, threshold=args.success_threshold,
                  total_runs=total)
    except OSError as exc:  # a WriteError: one line saying why
        raise CLIError(str(exc)) from None
    print(study.format_summary(rows, grid, args.seeds))
    run_time = sum(r["wall_time_s"] for r in rows)
    print(f"{len(rows)} of {total} runs in {wall:.1f} s wall ({run_time:.1f} s of run time)")
    print(f"wrote {out / 'sweep.csv'}, {out / 'phase.png'}, {out / 'config.toml'}")
    if interrupted:
        print(f"interrupted: the pending runs were cancelled; sweep.csv and phase.png hold the {len(rows)} of "
              f"{total} runs that finished")
        return 130
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train a grid of settings × seeds headless and draw a phase diagram",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Train every combination of the --grid values (their cartesian product) for each
of --seeds seeds (offsets 0..S-1 added to the experiment's seed), headless, on
a local process pool or on a Dask cluster (--scheduler). Writes:

  DIR/sweep.csv    one row per run (streamed to DIR/sweep.partial.csv as runs
                   finish, then sorted by run into sweep.csv, atomically, at
                   the end; a crash keeps the partial file): run, the grid
                   values, seed, final_loss
                   (mean training loss over the last 10% of the steps; inf if
                   the run exploded), final_metric (held-out success rate; 0 if
                   exploded), success (final_metric >= --success-threshold),
                   exploded, steps (updates done), wall_time_s
  DIR/phase.png    the phase diagram: the share of successful runs per grid
                   cell (a heat grid of the first two keys, one row for one
                   key; the runs of any further keys are pooled into each
                   cell), as the app's File > Open sweep results shows it
  DIR/config.toml  the base experiment (--config it, --set a row's values and
                   seed, and `rnnlab run` repeats that run)

Every run is a pure function of its settings, so local processes and Dask give
identical numbers. Ctrl-C cancels the pending runs, keeps the finished ones in
sweep.csv and phase.png, and exits with status 130.""",
        epilog="""\
example (the trainable region of a tanh RNN shrinks as the lag grows):
  rnnlab sweep --preset exploding-tanh --set model.hidden_size=16 \\
      --set training.optimizer=adam --set remedies.clip=norm \\
      --grid model.spectral_radius=0.5,1,1.5,2 --grid task.length=10,30,50 \\
      --seeds 2 --steps 600 --out sweep-rho-T""")
    add_experiment_args(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="one axis of the grid: a setting and its values (repeatable; see docs/config.md)")
    p.add_argument("--seeds", type=int, default=1, metavar="S", help="seeds per grid point (default 1)")
    p.add_argument("--steps", type=int, metavar="N", help="updates per run (default: training.steps)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--workers", type=int, metavar="K",
                   help="local worker processes (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask scheduler, e.g. tcp://10.0.0.5:8786, instead of local processes "
                        f"(needs `{DASK_HINT}`, and rnnlab installed on the workers)")
    p.add_argument("--success-threshold", type=float, default=0.9, metavar="X",
                   help="a run succeeded when its held-out success rate is >= X (default 0.9)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)

