"""``rnnlab sweep``: a grid of headless runs on a local process pool or a Dask cluster, with a phase diagram.

No Qt is imported until the picture is drawn at the end; no NumPy until the runs are planned.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

__all__ = ["COMMANDS"]

DASK_HINT = "pip install rnnlab[dask]"


def _progress_class():
    from .train.cli import Progress

    class RunProgress(Progress):
        """The Progress bar counting runs (with an ETA) instead of training steps."""

        def update(self, done: int, text: str = "") -> None:
            if not self.tty:
                super().update(done, text)
                return
            n = int(min(1.0, done / self.total) * self.width)
            elapsed = time.perf_counter() - self._t0
            eta = f"ETA {elapsed / done * (self.total - done):.0f} s" if done else ""
            self.stream.write(f"\r[{'#' * n}{'.' * (self.width - n)}] {done}/{self.total} runs  {text}  {eta}   ")
            self.stream.flush()

    return RunProgress


def _describe(exp, grid: dict, steps: int, seeds: int) -> tuple[str, str]:
    """Title and subtitle of the picture: the task, the network and the settings that are not swept."""
    m, t, tr, r = exp.model, exp.task, exp.training, exp.remedies
    title = f"Where does training succeed?  {t.name}, {m.arch} ({m.activation}) network"
    shown = [("model.hidden_size", f"H = {m.hidden_size}"), ("task.length", f"T = {t.length}"),
             ("model.spectral_radius", f"ρ = {m.spectral_radius:g}"), ("model.init", f"{m.init} init"),
             ("training.optimizer", f"{tr.optimizer}"), ("training.learning_rate", f"η = {tr.learning_rate:g}"),
             ("remedies.clip", f"clip {r.clip}" + (f" {r.clip_threshold:g}" if r.clip != "none" else ""))]
    parts = [text for key, text in shown if key not in grid]
    s0 = exp.seed
    seeds_txt = f"seed {s0}" if seeds == 1 else f"seeds {s0}–{s0 + seeds - 1}"
    parts += [f"{steps} steps", seeds_txt]
    return title, ", ".join(parts)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .cli import CLIError, load_experiment
    from .config import ConfigError, save_toml

    if not args.preset and not args.config:
        raise CLIError("give --preset NAME or --config FILE (see `rnnlab presets`)")
    if not args.grid:
        raise CLIError("give at least one --grid KEY=V1,V2,..., e.g. --grid model.spectral_radius=0.5,1,1.5,2")
    if args.seeds < 1:
        raise CLIError(f"--seeds {args.seeds}: expected an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise CLIError(f"--workers {args.workers}: expected an integer >= 1")
    if not 0.0 <= args.success_threshold <= 1.0:
        raise CLIError(f"--success-threshold {args.success_threshold:g}: expected a number in [0, 1]")
    if args.steps is not None and args.steps < 1:
        raise CLIError(f"--steps {args.steps}: expected an integer >= 1")
    exp = load_experiment(args)
    steps = args.steps or exp.training.steps

    from .sweep import SweepInterrupted, check_grid, format_summary, parse_grid, phase_png, plan_runs, run_sweep

    try:
        grid = check_grid(exp, parse_grid(args.grid))
        total = len(plan_runs(exp, grid, args.seeds))  # every combination is validated before anything runs
    except ConfigError as exc:
        raise CLIError(str(exc)) from None

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
    out.mkdir(parents=True, exist_ok=True)
    save_toml(exp, out / "config.toml")
    cells = total // args.seeds
    print(f"sweep: {total} runs ({cells} grid point{'s' if cells != 1 else ''} × {args.seeds} "
          f"seed{'s' if args.seeds != 1 else ''}), {steps} steps each, on {where}", flush=True)

    bar = None if args.quiet else _progress_class()(total)
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
        rows = run_sweep(exp, grid, args.seeds, steps, executor=client, workers=args.workers,
                         success_threshold=args.success_threshold, csv_path=out / "sweep.csv", on_result=on_result)
    except SweepInterrupted as exc:
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

    title, subtitle = _describe(exp, grid, steps, args.seeds)
    phase_png(rows, grid, out / "phase.png", title=title, subtitle=subtitle, threshold=args.success_threshold,
              total_runs=total)
    print(format_summary(rows, grid, args.seeds))
    run_time = sum(r["wall_time_s"] for r in rows)
    print(f"{len(rows)} of {total} runs in {wall:.1f} s wall ({run_time:.1f} s of run time)")
    print(f"wrote {out / 'sweep.csv'}, {out / 'phase.png'}, {out / 'config.toml'}")
    if interrupted:
        print(f"interrupted: the pending runs were cancelled; sweep.csv and phase.png hold the {len(rows)} of "
              f"{total} runs that finished")
        return 130
    return 0


def _add_sweep(sub) -> None:
    from .cli import _add_experiment_args

    p = sub.add_parser(
        "sweep", help="train a grid of settings × seeds headless and draw a phase diagram",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Train every combination of the --grid values (their cartesian product) for each
of --seeds seeds (offsets 0..S-1 added to the experiment's seed), headless, on
a local process pool or on a Dask cluster (--scheduler). Writes:

  DIR/sweep.csv    one row per run, written (and flushed) as runs finish, sorted
                   by run at the end: run, the grid values, seed, final_loss
                   (mean training loss over the last 10% of the steps; inf if
                   the run exploded), final_metric (held-out success rate; 0 if
                   exploded), success (final_metric >= --success-threshold),
                   exploded, steps (updates done), wall_time_s
  DIR/phase.png    the phase diagram: mean success per grid cell over the seeds
                   (a heat grid for two axes, bars for one, small multiples of
                   heat grids over the extra axes for three or more)
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
    _add_experiment_args(p)
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


COMMANDS = [("sweep", _add_sweep)]
