"""The ``rnnlab`` command: one module per subcommand, registered from a fixed list.

Each module in :data:`COMMAND_MODULES` defines ``add_parser(subparsers)`` (its sub-parser, with ``func=`` set)
and imports NumPy, Qt or the app only inside its command function, so ``rnnlab presets`` or ``rnnlab --help``
load neither. Shared helpers (the one-line :class:`CLIError`, the experiment arguments, the progress bar) are in
:mod:`._common`. Nothing outside this package imports it; ``python -m rnnlab`` and the ``rnnlab`` script call
:func:`main`. Without a command, ``rnnlab`` opens the app (``rnnlab gui``).
"""

from __future__ import annotations

import sys as _sys

from .._runtime import HEADLESS_COMMANDS, tune_process

# before NumPy is imported: BLAS threads for the context (one for the app; the recorded count for headless
# commands), no page-faulting allocator (see _runtime)
tune_process(headless=len(_sys.argv) > 1 and _sys.argv[1] in HEADLESS_COMMANDS)

import argparse  # noqa: E402
import sys  # noqa: E402

from .. import __version__  # noqa: E402
from ._common import CLIError, load_experiment  # noqa: E402

__all__ = ["main", "build_parser", "load_experiment", "CLIError", "COMMAND_MODULES"]

#: the command modules, in the order ``rnnlab --help`` lists them
COMMAND_MODULES = ("gui", "run", "inspect", "presets", "sweep", "compare", "lesson", "screenshot", "record",
                   "selftest", "bench")


def _command_modules() -> list:
    """The command modules in the order of :data:`COMMAND_MODULES`. They are imported by name here, so that
    PyInstaller sees them without a hidden import; a test checks that the two lists agree."""
    from . import bench, compare, gui, inspect, lesson, presets, record, run, screenshot, selftest, sweep

    mods = {m.__name__.rpartition(".")[2]: m
            for m in (bench, compare, gui, inspect, lesson, presets, record, run, screenshot, selftest, sweep)}
    return [mods[name] for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command of :data:`COMMAND_MODULES`."""
    parser = argparse.ArgumentParser(
        prog="rnnlab",
        description="A laboratory for seeing why recurrent networks are hard to train.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rnnlab`` and ``python -m rnnlab``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(sys.argv[1:] if argv is None else argv)])
    import warnings

    # numbers that overflow are detected and reported by rnnlab itself (an explosion), never as a warning
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    from ..config import ConfigError
    from ..io import one_line

    try:
        return int(args.func(args) or 0)
    except (CLIError, ConfigError) as exc:  # (a list of the valid keys may be long: one line, not cut short)
        print(f"rnnlab: error: {one_line(str(exc), 2000)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a write that failed (rnnlab.io.WriteError: one line saying why), or a read
        print(f"rnnlab: error: {one_line(str(exc), 2000)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("rnnlab: error: out of memory (make task.length, task.batch_size or model.hidden_size smaller)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
