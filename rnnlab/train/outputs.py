"""``rnnlab run`` and ``rnnlab presets`` (no Qt)."""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

__all__ = ["COMMANDS", "run_experiment", "write_run", "write_metrics_csv", "write_state", "Progress"]


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, every 10 % otherwise)."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.width = max(1, total), width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1
        self._t0 = time.perf_counter()

    def update(self, done: int, text: str = "") -> None:
        frac = min(1.0, done / self.total)
        if self.tty:
            n = int(frac * self.width)
            rate = done / max(1e-9, time.perf_counter() - self._t0)
            self.stream.write(f"\r[{'#' * n}{'.' * (self.width - n)}] {done}/{self.total} "
                              f"{rate:6.0f} steps/s {text}   ")
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{int(frac * 100):3d}% ({done}/{self.total}) {text}\n")
                self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def write_metrics_csv(history, path: Path, start: int = 0, fh=None) -> int:
    """Write history rows from index ``start`` (with the header when ``start == 0``); returns the rows written."""
    from .snapshot import HISTORY_COLUMNS

    own = fh is None
    fh = fh or open(path, "w", newline="", encoding="utf-8")
    try:
        w = csv.writer(fh)
        if start == 0:
            w.writerow(HISTORY_COLUMNS)
        rows = history.since(start)
        for i in range(len(rows["step"])):
            w.writerow([_fmt(rows[c][i]) for c in HISTORY_COLUMNS])
        fh.flush()
        return len(rows["step"])
    finally:
        if own:
            fh.close()


def write_state(trainer, path: Path) -> None:
    """state.npz: final parameters, the probe batch, its loss and gradients, and the inspect diagnostics."""
    from ..inspection import collect

    x, y, mask = trainer.probe
    collect(trainer.exp, trainer.task.name, trainer.net, x, y, mask).save(path)


def write_run(trainer, out: Path) -> list[Path]:
    """What ``rnnlab run`` writes, from a trainer in any state: config.toml, metrics.csv, state.npz."""
    from ..config import save_toml

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_toml(trainer.exp, out / "config.toml")
    write_metrics_csv(trainer.history, out / "metrics.csv")
    write_state(trainer, out / "state.npz")
    return [out / "config.toml", out / "metrics.csv", out / "state.npz"]


def run_experiment(exp, out: Path, steps: int, progress: bool = True) -> dict:
    """Train ``exp`` for ``steps`` updates and write config.toml, metrics.csv and state.npz into ``out``.

    metrics.csv is written as the run goes (flushed every 50 rows), so an explosion or an interruption keeps
    every row so far. Returns a small summary dict.
    """
    from ..config import save_toml
    from .trainer import Trainer

    out.mkdir(parents=True, exist_ok=True)
    save_toml(exp, out / "config.toml")
    trainer = Trainer(exp, spectrum_every=1)
    bar = Progress(steps) if progress else None
    written = 0
    interrupted = False
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as fh:

        def flush_rows():
            nonlocal written
            written += write_metrics_csv(trainer.history, out / "metrics.csv", written, fh)

        try:
            while trainer.step_count < steps:
                ok = trainer.step()
                if trainer.step_count % 50 == 0 or not ok:
                    flush_rows()
                if bar and (trainer.step_count % 10 == 0 or not ok):
                    bar.update(trainer.step_count, f"loss {trainer.last_loss:.4g}")
                if not ok:
                    break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            flush_rows()
            if bar:
                bar.close()
    trainer.evaluate()
    write_state(trainer, out / "state.npz")
    return {"steps": trainer.step_count, "loss": trainer.last_loss, "metric": trainer.metric,
            "explosion": trainer.explosion, "interrupted": interrupted, "baseline": trainer.task.baseline}


def _cmd_run(args: argparse.Namespace) -> int:
    from ..cli import CLIError, load_experiment

    if not args.preset and not args.config:
        raise CLIError("give --preset NAME or --config FILE (see `rnnlab presets`)")
    exp = load_experiment(args)
    steps = args.steps or exp.training.steps
    out = Path(args.out)
    from ..config import ConfigError

    try:
        res = run_experiment(exp, out, steps, progress=not args.quiet)
    except ConfigError as exc:
        raise CLIError(str(exc)) from None
    base = res["baseline"]
    print(f"{res['steps']} steps: loss {res['loss']:.4g} (baseline {base.loss:.4g}), "
          f"held-out success {res['metric']:.3f} (baseline {base.success_rate:.3f})")
    if res["explosion"] is not None:
        print(f"EXPLODED: {res['explosion'].message()}")
        print("Everything up to the explosion is kept in the output folder.")
    if res["interrupted"]:
        print("interrupted: the files hold the steps done so far")
    print(f"wrote {out / 'config.toml'}, {out / 'metrics.csv'}, {out / 'state.npz'}")
    return 130 if res["interrupted"] else 0


def _cmd_presets(args: argparse.Namespace) -> int:
    import textwrap

    from ..presets import all_presets

    for p in all_presets():
        print(p.name)
        print(textwrap.indent(textwrap.fill(p.description, 96), "    "))
        flip = ", ".join(f"{k} = {v!r}" for k, v in p.contrast.items())
        print(f"    Contrast: set {flip}.")
        print()
    return 0


def _add_run(sub) -> None:
    from ..cli import _add_experiment_args

    p = sub.add_parser("run", help="train headless and write config.toml, metrics.csv and state.npz",
                       description="Train an experiment without the window. Writes DIR/config.toml (the resolved "
                                   "experiment; --config reloads it), DIR/metrics.csv (one row per step) and "
                                   "DIR/state.npz (final parameters, a probe batch and the diagnostics).")
    _add_experiment_args(p)
    p.add_argument("--steps", type=int, metavar="N", help="number of updates (default: training.steps)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)


def _add_presets(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in presets with their descriptions")
    p.set_defaults(func=_cmd_presets)


COMMANDS = [("run", _add_run), ("presets", _add_presets)]
