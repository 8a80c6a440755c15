"""``rnnlab gui`` (the default command) and ``rnnlab screenshot``. Qt is imported inside the commands only."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["COMMANDS", "screenshot"]


def _cmd_gui(args: argparse.Namespace) -> int:
    import os
    import sys

    from ..cli import CLIError, load_experiment

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        raise CLIError("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                       "run it on a desktop, or render offscreen with `rnnlab screenshot --out FILE.png`")
    exp = load_experiment(args) if (args.preset or args.config or args.overrides) else None
    room = None
    if args.classroom:
        from ..config import ConfigError
        from .presentation import load_classroom

        try:
            room = load_classroom(args.classroom)
        except ConfigError as exc:
            raise CLIError(str(exc)) from None
        exp = room.experiment or exp
    from .app import get_app

    app = get_app()
    from .files import FileActions
    from .main_window import MainWindow

    exp = exp or FileActions.last_experiment() or load_experiment(args)
    try:
        win = MainWindow(exp)
    except Exception as exc:  # an unsupported combination in a remembered file, for instance
        raise CLIError(str(exc)) from None
    win.show()
    if room is not None:
        win.apply_classroom(room)
    rc = app.exec()
    from .app import dispose

    dispose(win)
    return rc


def screenshot(exp, steps: int, size: tuple[int, int], out: Path, lesson: tuple[str, int] | None = None,
               presentation: bool = False) -> Path:
    """Render the main window offscreen after ``steps`` training steps and save it as PNG; with
    ``lesson = (name, k)`` the window shows step k (1-based) of that lesson, trained for the step's ``train``."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # effective when no QApplication exists yet
    from PySide6 import QtWidgets

    from .app import get_app

    get_app()
    from .main_window import MainWindow

    if lesson is not None:
        from ..lessons import load_lesson, step_experiment

        step = load_lesson(lesson[0]).steps[lesson[1] - 1]
        exp = step_experiment(step)
        steps = steps if steps is not None else step.train
    win = MainWindow(exp, mode="sync", remember=False)
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
        QtWidgets.QApplication.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    from .app import dispose

    dispose(win)
    if not ok:
        raise OSError(f"could not write {out}")
    return out


def _cmd_screenshot(args: argparse.Namespace) -> int:
    from ..cli import CLIError, load_experiment

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise CLIError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1600x1000") from None
    exp = load_experiment(args)
    lesson = None
    if args.lesson:
        from ..lessons import LessonError, load_lesson

        try:
            n = len(load_lesson(args.lesson).steps)
        except (LessonError, FileNotFoundError, ValueError) as exc:
            raise CLIError(str(exc)) from None
        if not 1 <= args.step <= n:
            raise CLIError(f"--step {args.step}: lesson {args.lesson!r} has steps 1 to {n}")
        lesson = (args.lesson, args.step)
    if args.steps is None and lesson is None:
        args.steps = 200
    out = screenshot(exp, args.steps, (w, h), Path(args.out), lesson=lesson, presentation=args.presentation)
    print(f"wrote {out}")
    return 0


def _add_gui(sub) -> None:
    from ..cli import _add_experiment_args

    p = sub.add_parser("gui", help="the desktop app (the default command)")
    _add_experiment_args(p)
    p.add_argument("--classroom", metavar="FILE", help="a teacher's classroom file (see docs/classroom.md)")
    p.set_defaults(func=_cmd_gui)


def _add_screenshot(sub) -> None:
    from ..cli import _add_experiment_args

    p = sub.add_parser("screenshot", help="render the main window offscreen to a PNG after N training steps")
    _add_experiment_args(p)
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="training steps before the picture (default 200; a lesson step's own count)")
    p.add_argument("--lesson", metavar="NAME", help="show a guided lesson (see `rnnlab lesson --list`)")
    p.add_argument("--step", type=int, default=1, metavar="K", help="the lesson step to show (1-based)")
    p.add_argument("--size", default="1600x1000", metavar="WxH")
    p.add_argument("--presentation", action="store_true", help="in presentation mode (large fonts, thick lines)")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=_cmd_screenshot)


def _cmd_selftest(args: argparse.Namespace) -> int:
    from .selftest import selftest

    return selftest(args.preset, args.steps)


def _add_selftest(sub) -> None:
    p = sub.add_parser("selftest", help="open the window offscreen, train, render every view, export a plot")
    p.add_argument("--preset", default="clipping", metavar="NAME")
    p.add_argument("--steps", type=int, default=20, metavar="N")
    p.set_defaults(func=_cmd_selftest)


COMMANDS = [("gui", _add_gui), ("screenshot", _add_screenshot), ("selftest", _add_selftest)]
