"""``rnnlab selftest``: open the window offscreen, train, render every view, export a plot; exit 0 or list what
failed (the work is :func:`rnnlab.gui.selftest.selftest`)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def _cmd_selftest(args: argparse.Namespace) -> int:
    from ..gui.selftest import selftest
    from ._common import check_at_least

    check_at_least("--steps", args.steps, 0, 100_000)

    return selftest(args.preset, args.steps)


def add_parser(sub) -> None:
    p = sub.add_parser("selftest", help="open the window offscreen, train, render every view, export a plot")
    p.add_argument("--preset", default="clipping", metavar="NAME")
    p.add_argument("--steps", type=int, default=20, metavar="N")
    p.set_defaults(func=_cmd_selftest)
