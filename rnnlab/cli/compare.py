"""``rnnlab compare``: train A and B, which differ only in the given settings, headless from the same seed and
data, and print the paragraph the app's compare window shows (:mod:`rnnlab.studies.compare`; no Qt)."""

from __future__ import annotations

import argparse

from ._common import (MAX_STEPS, CLIError, Progress, add_experiment_args, check_at_least, config_errors,
                      load_experiment, require_source)

__all__ = ["add_parser"]


def _cmd_compare(args: argparse.Namespace) -> int:
    require_source(args)
    check_at_least("--steps", args.steps, 1, MAX_STEPS)
    exp = load_experiment(args)
    changes = list(args.changes)
    if not changes:
        if not args.preset:
            raise CLIError("give the setting B changes: --change KEY=VALUE (repeatable)")
        from ..presets import get_preset

        contrast = dict(get_preset(args.preset).contrast)
        print("B: the preset's contrast, " + ", ".join(f"{k} = {v!r}" for k, v in contrast.items()), flush=True)
        changes = contrast
    steps = exp.training.steps if args.steps is None else args.steps

    from ..studies.compare import compare, make_pair

    with config_errors():
        try:
            make_pair(exp, changes)  # a bad or empty change fails before anything trains
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    bar = None if args.quiet else Progress(2 * steps)

    def on_step(run: str, tr) -> None:
        if bar and (tr.step_count % 10 == 0 or tr.explosion is not None):
            bar.update(tr.step_count + (steps if run == "B" else 0), f"{run}: loss {tr.last_loss:.4g}")

    try:
        with config_errors():
            res = compare(exp, changes, steps, on_step=on_step)
    finally:
        if bar:
            bar.close()
    print(res.text)
    if res.interrupted:
        print("interrupted: the statement covers the steps done so far")
        return 130
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="train A and B (one setting changed) headless and state the difference",
        description="Train the experiment (A) and a copy with the --change settings (B) from the same seed, so "
                    "both see the same initial weights (when the model is unchanged) and the same batches, for "
                    "--steps updates each, one after the other. Prints the paragraph the app's compare window "
                    "(Ctrl+K) shows: the loss over the last 10 % of the steps, the held-out success rate as last "
                    "measured (every training.eval_every steps), the largest gradient norm, explosions and "
                    "clipping. With --preset and no --change, B flips the preset's contrast.")
    add_experiment_args(p)
    p.add_argument("--change", metavar="KEY=VALUE", action="append", default=[], dest="changes",
                   help="a setting B changes, e.g. --change remedies.clip=none (repeatable; all apply at once)")
    p.add_argument("--steps", type=int, metavar="N", help="updates per run (default: training.steps)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_compare)
