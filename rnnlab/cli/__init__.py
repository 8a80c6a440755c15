"""The ``rnnlab`` command.

Subcommands import only what they need: ``inspect``, ``run``, ``presets``, ``sweep`` and ``bench`` never import Qt
(``sweep`` loads it only to draw its phase picture).
"""

from __future__ import annotations

from ._runtime import tune_process

tune_process()  # before NumPy is imported: one BLAS thread, no page-faulting allocator (see _runtime)

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from . import __version__

__all__ = ["main", "load_experiment"]


class CLIError(Exception):
    """A one-line error for the user (exit status 2)."""


def _add_experiment_args(p: argparse.ArgumentParser, preset: bool = True) -> None:
    if preset:
        p.add_argument("--preset", metavar="NAME", help="start from a built-in preset (see `rnnlab presets`)")
    p.add_argument("--config", metavar="FILE", help="experiment TOML file")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                   help="override one setting, e.g. --set model.spectral_radius=1.5 (repeatable)")


def load_experiment(args: argparse.Namespace):
    """The experiment named by ``--preset`` / ``--config`` / ``--set`` (defaults when none is given)."""
    from .config import ConfigError, Experiment, apply_overrides, load_toml

    preset = getattr(args, "preset", None)
    if preset and args.config:
        raise CLIError("give either --preset or --config, not both")
    try:
        if preset:
            from .presets import load_preset

            exp = load_preset(preset)
        elif args.config:
            exp = load_toml(args.config)
        else:
            exp = Experiment()
        return apply_overrides(exp, args.overrides)
    except ConfigError as exc:
        raise CLIError(str(exc)) from None


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspection import inspect_experiment, summary

    exp = load_experiment(args)
    out = Path(args.out)
    result = inspect_experiment(exp)
    result.save(out)
    print(summary(result))
    print(f"wrote {out}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import print_bench, run_bench

    from .train.bench import bench_training

    extra = [bench_training]
    if args.gui:
        from .gui.bench import bench_gui

        extra.append(bench_gui)
    print_bench(run_bench(args.dtype, quick=args.quick, extra=extra))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnlab",
        description="A laboratory for seeing why recurrent networks are hard to train.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("inspect", help="build a network from a config and write its diagnostics to an .npz file",
                       description="Build the network of an experiment, run a probe batch of its task and write "
                                   "the parameters, states and diagnostics (∂h_t/∂h_k heatmap, lag profile, "
                                   "spectrum, Lyapunov exponents) to an .npz file.")
    _add_experiment_args(p)
    p.add_argument("--out", required=True, metavar="FILE.npz", help="output file")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("bench", help="print speed figures as JSON")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    p.add_argument("--gui", action="store_true", help="also measure the desktop app (UI latency, redraws)")
    p.set_defaults(func=_cmd_bench)

    for name, adder in _EXTRA_COMMANDS:
        adder(sub)
    return parser


#: (name, function(subparsers)) registered by the other parts of the package
_EXTRA_COMMANDS: list = []


def _register_optional_commands() -> None:
    from .train import cli as train_cli

    _EXTRA_COMMANDS[:] = list(train_cli.COMMANDS)
    from . import sweep_cli  # no Qt or NumPy at import; Qt only for phase.png at the end

    _EXTRA_COMMANDS.extend(sweep_cli.COMMANDS)
    from .lessons import add_lesson_command

    _EXTRA_COMMANDS.append(("lesson", add_lesson_command))
    try:
        from .gui import cli as gui_cli  # Qt-free at import time; Qt is imported inside its commands
    except ImportError:  # the gui package is not built yet
        return
    _EXTRA_COMMANDS.extend(gui_cli.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rnnlab`` and ``python -m rnnlab``; returns the exit status."""
    _register_optional_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "gui" in {n for n, _ in _EXTRA_COMMANDS}:
            args = parser.parse_args(["gui", *(argv or sys.argv[1:])])
        else:
            parser.print_help()
            return 0
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"rnnlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
