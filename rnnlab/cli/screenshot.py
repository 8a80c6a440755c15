"""``rnnlab screenshot``: render the main window offscreen to a PNG after N training steps (optionally on a
lesson step or in presentation mode). The app is imported inside the command only."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import (MAX_STEPS, CLIError, add_experiment_args, check_at_least, lesson_step, load_experiment,
                      offscreen_qt)

__all__ = ["add_parser", "screenshot", "MIN_SIDE", "MAX_SIDE"]

#: the smallest and largest side of a screenshot, in pixels (8192² × 4 bytes = 256 MB)
MIN_SIDE, MAX_SIDE = 200, 8192


def screenshot(exp, steps: int | None, size: tuple[int, int], out: Path, lesson: tuple[str, int] | None = None,
               presentation: bool = False) -> Path:
    """Render the main window offscreen after ``steps`` training steps and save it as PNG (atomically); with
    ``lesson = (name, k)`` the window shows step k (1-based) of that lesson, trained for the step's ``train``."""
    offscreen_qt()
    from ..gui.app import dispose, get_app
    from ..io import atomic_path, why_not_written

    app = get_app()
    from ..gui.main_window import MainWindow

    if lesson is not None:
        from ..lessons import load_lesson, step_experiment

        step = load_lesson(lesson[0]).steps[lesson[1] - 1]
        exp = step_experiment(step)
        steps = steps if steps is not None else step.train
    win = MainWindow(exp, mode="sync", remember=False)
    try:
        win.resize(*size)
        win.show()
        if lesson is not None:
            win.open_lesson(lesson[0], index=lesson[1] - 1)
        steps = steps or 0
        if presentation:
            win.presentation.set(True, fullscreen=False)  # the picture keeps the requested size
        if steps:
            win.controller.step(steps)
        win.controller.request_snapshot(True)
        for _ in range(5):
            app.processEvents()
        pixmap = win.grab()
        fmt = out.suffix.lstrip(".").upper() or "PNG"  # the format the file name asks for, as Qt reads it
        with atomic_path(out, check_nonempty=True) as tmp:
            if pixmap.isNull():
                raise OSError("Qt could not draw the window")
            if not pixmap.save(str(tmp), fmt):
                raise why_not_written(tmp)
    finally:
        dispose(win)
    return out


def _cmd_screenshot(args: argparse.Namespace) -> int:
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise CLIError(f"--size {args.size[:40]!r}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise CLIError(f"--size {w}x{h}: each side must be {MIN_SIDE} to {MAX_SIDE} pixels (a {MAX_SIDE}² picture "
                       f"takes {MAX_SIDE * MAX_SIDE * 4 // 2**20} MB)")
    check_at_least("--steps", args.steps, 0, MAX_STEPS)
    exp = load_experiment(args)
    lesson = lesson_step(args)
    if args.steps is None and lesson is None:
        args.steps = 200
    out = screenshot(exp, args.steps, (w, h), Path(args.out), lesson=lesson, presentation=args.presentation)
    print(f"wrote {out}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("screenshot", help="render the main window offscreen to a PNG after N training steps")
    add_experiment_args(p)
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="training steps before the picture (default 200; a lesson step's own count)")
    p.add_argument("--lesson", metavar="NAME", help="show a guided lesson (see `rnnlab lesson --list`)")
    p.add_argument("--step", type=int, default=1, metavar="K", help="the lesson step to show (1-based)")
    p.add_argument("--size", default="1600x1000", metavar="WxH")
    p.add_argument("--presentation", action="store_true", help="in presentation mode (large fonts, thick lines)")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=_cmd_screenshot)
