"""``rnnlab run``: train an experiment headless and write config.toml, metrics.csv and state.npz (no Qt)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._common import (MAX_STEPS, Progress, add_experiment_args, add_model_args, check_at_least, config_errors,
                      load_experiment, require_source)

__all__ = ["add_parser", "run_experiment"]

#: metrics.csv gets the new rows every this many steps (and at the end), so a crash loses at most these
FLUSH_EVERY = 50


def run_experiment(exp, out: Path, steps: int, progress: bool = True) -> dict:
    """Train ``exp`` for ``steps`` updates with :func:`rnnlab.train.run.run` and write config.toml, metrics.csv
    and state.npz into ``out`` (see :mod:`rnnlab.train.outputs`).

    metrics.csv is written as the run goes (flushed every 50 rows), so an explosion or an interruption keeps
    every row so far. Returns a small summary dict.
    """
    from ..config import save_toml
    from ..train.outputs import MetricsStream, write_state
    from ..train.run import run
    from ..train.setup import check_memory
    from ..train.trainer import Trainer

    from ..config import ConfigError

    check_memory(exp, "train")  # before anything is allocated or written
    if progress and exp.model.hidden_size >= 512:
        print(f"drawing the network (H = {exp.model.hidden_size}: the spectral rescaling takes a while)…",
              file=sys.stderr, flush=True)
    trainer = Trainer(exp, spectrum_every=1)
    if trainer.untrainable:
        raise ConfigError(f"nothing to train: {trainer.untrainable}")
    save_toml(exp, out / "config.toml")  # (creates the folder; a failure is one line)
    bar = Progress(steps) if progress else None
    metrics = MetricsStream(out / "metrics.csv")

    every = max(1, min(10, steps // 100))
    last = [time.perf_counter()]

    def on_step(tr) -> None:
        ok = tr.explosion is None
        if tr.step_count % FLUSH_EVERY == 0 or not ok:
            metrics.flush(tr.history)
        now = time.perf_counter()
        if bar and (tr.step_count % every == 0 or not ok or now - last[0] > 1.0):
            last[0] = now
            bar.update(tr.step_count, f"loss {tr.last_loss:.4g}")

    try:
        res = run(exp, steps, on_step, trainer=trainer, evaluate=False)
    finally:
        metrics.close(trainer.history)
        if bar:
            bar.close()
    trainer.evaluate()  # the held-out success rate at the end (also of the last finite weights after an explosion)
    write_state(trainer, out / "state.npz")
    paths = [out / "config.toml", out / "metrics.csv", out / "state.npz"]
    if exp.model.source:  # an imported model: its fine-tuned weights in the file's own names and layout
        from ..train.imported import export_weights

        paths.append(export_weights(trainer, out / "weights.safetensors"))
    return {"paths": paths, "steps": trainer.step_count, "loss": trainer.last_loss, "metric": trainer.metric,
            "explosion": trainer.explosion, "interrupted": res.interrupted, "baseline": trainer.task.baseline}


def _cmd_run(args: argparse.Namespace) -> int:
    require_source(args)
    check_at_least("--steps", args.steps, 0, MAX_STEPS)  # 0: the files of the untrained network
    exp = load_experiment(args)
    steps = exp.training.steps if args.steps is None else args.steps
    out = Path(args.out)
    with config_errors():
        res = run_experiment(exp, out, steps, progress=not args.quiet)
    base = res["baseline"]
    print(f"{res['steps']} steps: loss {res['loss']:.4g} (baseline {base.loss:.4g}), "
          f"held-out success {res['metric']:.3f} (baseline {base.success_rate:.3f})")
    if res["explosion"] is not None:
        print(f"EXPLODED: {res['explosion'].message()}")
        print("Everything up to the explosion is kept in the output folder.")
    if res["interrupted"]:
        print("interrupted: the files hold the steps done so far")
    print("wrote " + ", ".join(str(p) for p in res["paths"]))
    return 130 if res["interrupted"] else 0


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train headless and write config.toml, metrics.csv and state.npz",
                       description="Train an experiment without the window. Writes DIR/config.toml (the resolved "
                                   "experiment; --config reloads it), DIR/metrics.csv (one row per step) and "
                                   "DIR/state.npz (final parameters, a probe batch and the diagnostics).")
    add_experiment_args(p)
    add_model_args(p)
    p.add_argument("--steps", type=int, metavar="N",
                   help="number of updates, 0 to 100,000,000 (default: training.steps; 0 writes the untrained "
                        "network's files)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)
