"""``rnnlab gui`` (the default command): the desktop app. The app is imported inside the command only."""

from __future__ import annotations

import argparse

from ._common import CLIError, add_experiment_args, add_model_args, config_errors, load_experiment

__all__ = ["add_parser"]


def _cmd_gui(args: argparse.Namespace) -> int:
    import os
    import sys

    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        raise CLIError("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                       "run it on a desktop, or render offscreen with `rnnlab screenshot --out FILE.png`")
    exp = load_experiment(args) if (args.preset or args.config or args.overrides or args.model or args.data) else None
    room = None
    if args.classroom:
        from ..lessons.classroom import load_classroom

        with config_errors():
            room = load_classroom(args.classroom)
        exp = room.experiment or exp
    from ..gui.app import dispose, get_app

    app = get_app()
    from ..gui.files import FileActions
    from ..gui.main_window import MainWindow

    from ..config import ConfigError
    from ..train.setup import validate

    remembered = None if exp is not None else FileActions.last_experiment()
    exp = exp or remembered or load_experiment(args)
    try:
        validate(exp)  # refused in one line before a window opens
    except ConfigError as exc:
        if remembered is None:
            raise CLIError(str(exc)) from None
        print(f"rnnlab: the remembered experiment cannot run here ({exc}); starting from the defaults",
              file=sys.stderr)
        exp = load_experiment(args)
    from ..gui import maths

    maths.defer_typesetting()  # the window is drawn first, its few typeset labels a moment later
    try:
        try:
            win = MainWindow(exp, mode=args.engine)
        except Exception as exc:  # noqa: BLE001 - an unsupported combination, for instance
            raise CLIError(str(exc)) from None
        win.show()
        maths.typeset_pending(after_ms=100)
        if room is not None:
            win.apply_classroom(room)
        if os.environ.get("RNNLAB_STARTUP_PROBE"):  # `rnnlab bench`: say when the window is drawn, then quit
            app.processEvents()  # the show and expose events
            win.grab()  # the whole window rendered once
            print("rnnlab: window drawn", flush=True)
            dispose(win)
            return 0
        rc = app.exec()
        dispose(win)
        return rc
    finally:
        maths.typeset_pending()  # (whatever happened: later windows of this process typeset at once)


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="the desktop app (the default command)")
    add_experiment_args(p)
    add_model_args(p)
    p.add_argument("--classroom", metavar="FILE", help="a teacher's classroom file (see docs/classroom.md)")
    p.add_argument("--engine", choices=("process", "thread"), default="process",
                   help="where training runs: its own process (default: the window stays smooth) or a thread of "
                        "the window (for machines that do not allow a second process; the app also falls back to "
                        "it by itself when the process cannot start)")
    p.set_defaults(func=_cmd_gui)
