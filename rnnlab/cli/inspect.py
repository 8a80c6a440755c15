"""``rnnlab inspect``: build a network, run a probe batch and write every diagnostic to an .npz (no Qt)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import FractionProgress, add_experiment_args, add_model_args, config_errors, load_experiment

__all__ = ["add_parser"]


def _cmd_inspect(args: argparse.Namespace) -> int:
    from ..studies.inspect import inspect_experiment, predicted_seconds, summary
    from ..train.setup import check_memory

    exp = load_experiment(args)
    out = Path(args.out)
    with config_errors():
        check_memory(exp, "inspect")  # refused before anything is allocated, saying how much it would need
    bar = None
    if not args.quiet and predicted_seconds(exp) > 2.0:
        bar = FractionProgress("inspect")
    try:
        with config_errors():
            result = inspect_experiment(exp, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    result.save(out)
    print(summary(result))
    print(f"wrote {out}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("inspect", help="build a network (or open a trained one) and write its diagnostics to an .npz",
                       description="Build the network of an experiment, or open a trained model with --model, run "
                                   "a probe batch of its task (or of your sequences, --data) and write the "
                                   "parameters, states and diagnostics (∂h_t/∂h_k heatmap, lag profile, spectrum, "
                                   "Lyapunov exponents) to an .npz file.")
    add_experiment_args(p)
    add_model_args(p)
    p.add_argument("--out", required=True, metavar="FILE.npz", help="output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar on long work")
    p.set_defaults(func=_cmd_inspect)
