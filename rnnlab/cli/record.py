"""``rnnlab record``: train headless and record the window (or one view) as an animated GIF or an MP4, for slides.

The window is rendered offscreen (as ``rnnlab screenshot`` does); the run is cut into ``--frames`` equal parts and
a frame is drawn after each, so the recording shows the whole run whatever its length. ``--backward-pass`` then
adds the unrolled view's slow-motion backward pass, one frame per step back. The app is imported inside the
command only.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from ._common import CLIError, add_experiment_args, lesson_step, load_experiment, offscreen_qt

__all__ = ["add_parser", "record", "frame_steps", "RecordResult", "DEFAULT_SIZE"]

#: the frame size when none is given: a 16:9 slide
DEFAULT_SIZE = (1280, 720)


def frame_steps(steps: int, frames: int) -> list[int]:
    """The training step after which each frame is drawn: ``min(frames, steps)`` frames at round(steps·i/F),
    i = 1 … F (the last one after the last step); one frame at step 0 when ``steps`` is 0."""
    if steps <= 0:
        return [0]
    n = max(1, min(int(frames), int(steps)))
    return [int(round(steps * (i + 1) / n)) for i in range(n)]


@dataclass
class RecordResult:
    path: Path
    frames: int
    size: tuple[int, int]
    fps: float
    seconds_total: float  # wall time of the whole recording
    seconds_capture: float  # grabbing the frames (on the window's thread)
    seconds_encode: float  # encoding them (on the writer's thread)


def record(exp, steps: int, out: Path, size: tuple[int, int] = DEFAULT_SIZE, fps: float = 10.0, frames: int = 50,
           view: str | None = None, lesson: tuple[str, int] | None = None, presentation: bool = False,
           backward_pass: bool = False) -> RecordResult:
    """Record ``exp`` trained for ``steps`` steps (see the module docstring); writes ``out`` atomically."""
    from ..gui.recorder import FrameWriter, RecordError, check_format

    try:
        check_format(out)
    except RecordError as exc:
        raise CLIError(str(exc)) from None
    offscreen_qt()
    from ..gui.app import dispose, get_app
    from ..gui.recorder import grab_frame

    t_start = time.perf_counter()
    app = get_app()
    from ..gui.main_window import MainWindow
    from ..gui.plots import VIEWS
    from ..gui.presentation import SCALE

    if lesson is not None:
        from ..lessons import load_lesson, step_experiment

        exp = step_experiment(load_lesson(lesson[0]).steps[lesson[1] - 1])
    win = MainWindow(exp, mode="sync", remember=False)
    target = win
    try:
        win.resize(*(DEFAULT_SIZE if view else size))
        win.show()
        if lesson is not None:
            win.open_lesson(lesson[0], index=lesson[1] - 1)
        if presentation:
            win.presentation.set(True, fullscreen=False)
        if view:
            target = VIEWS[view]()  # the view alone, at the size asked for, fed the window's frames
            target.resize(*size)
            target.show()
            if presentation:
                target.set_scale(SCALE)
            win.controller.frame.connect(target.update)
        try:
            writer = FrameWriter(out, size, fps)
        except RecordError as exc:
            raise CLIError(str(exc)) from None
        capture = 0.0

        def frame() -> None:
            nonlocal capture
            for _ in range(3):
                app.processEvents()
            t0 = time.perf_counter()
            writer.add(grab_frame(target, writer.size), block=True)
            capture += time.perf_counter() - t0

        try:
            win.controller.request_snapshot(True)
            done = 0
            for n in frame_steps(steps, frames):
                if n > done:
                    win.controller.step(n - done)
                    done = n
                frame()
            if backward_pass:
                unrolled = target if view == "unrolled" else win.views["unrolled"]
                unrolled.show_all()
                unrolled.step_back()
                frame()
                while unrolled.anim_k is not None and unrolled.anim_k > unrolled._end():
                    unrolled.step_back()
                    frame()
            path = writer.close()
        except BaseException:
            writer.abort()
            raise
    except RecordError as exc:
        raise CLIError(str(exc)) from None
    finally:
        if target is not win:
            target.close()
            target.deleteLater()
        dispose(win)
    return RecordResult(path, writer.frames, writer.size, writer.fps, time.perf_counter() - t_start, capture,
                        writer.encode_seconds)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CLIError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x720") from None
    if not (16 <= w <= 7680 and 16 <= h <= 7680):
        raise CLIError(f"--size {text!r}: expected 16 to 7680 pixels a side")
    return w, h


def _cmd_record(args: argparse.Namespace) -> int:
    size = _size(args.size) if args.size else None
    from ..gui.plots import VIEWS  # (Qt is imported by the command only)

    if args.view and args.view not in VIEWS:
        raise CLIError(f"--view {args.view!r}: expected one of {', '.join(VIEWS)}")
    if args.backward_pass and args.view not in (None, "unrolled"):
        raise CLIError("--backward-pass animates the unrolled view: record the window or --view unrolled")
    if not 1 <= args.frames <= 10000:
        raise CLIError(f"--frames {args.frames}: expected 1 to 10000")
    if not 0.1 <= args.fps <= 60:
        raise CLIError(f"--fps {args.fps:g}: expected 0.1 to 60")
    if args.steps is not None and args.steps < 0:
        raise CLIError(f"--steps {args.steps}: expected 0 or more")
    exp = load_experiment(args)
    lesson = lesson_step(args)
    steps = args.steps
    if steps is None:  # a lesson step's own count (as for `rnnlab screenshot`), else 200
        from ..lessons import load_lesson

        steps = load_lesson(args.lesson).steps[args.step - 1].train if lesson else 200
    from ..config import ConfigError
    from ..train import rules
    from ..train.setup import checked_task

    try:  # what the window would refuse when it builds the network: a one-line error here
        rules.check(exp)
        checked_task(exp)
    except ConfigError as exc:
        raise CLIError(str(exc)) from None
    res = record(exp, steps, Path(args.out), size or DEFAULT_SIZE, args.fps, args.frames, args.view, lesson,
                 args.presentation, args.backward_pass)
    if not args.quiet:
        print(f"wrote {res.path}: {res.frames} frames, {res.size[0]}x{res.size[1]}, {res.fps:g} fps "
              f"({res.frames / res.fps:.1f} s); {res.seconds_total:.1f} s in all, of which {res.seconds_capture:.1f} s "
              f"grabbing frames (encoding: {res.seconds_encode:.1f} s on its own thread)")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("record", help="train headless and record the window or one view as a GIF or an MP4")
    add_experiment_args(p)
    p.add_argument("--lesson", metavar="NAME", help="show a guided lesson (see `rnnlab lesson --list`)")
    p.add_argument("--step", type=int, default=1, metavar="K", help="the lesson step to show (1-based)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="training steps recorded (default 200; a lesson step's own count)")
    p.add_argument("--view", metavar="ID", help="record one view (e.g. unrolled, heatmap) instead of the window")
    p.add_argument("--size", default=None, metavar="WxH",
                   help=f"frame size in pixels (default {DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}; an MP4's is made even)")
    p.add_argument("--fps", type=float, default=10.0, metavar="F", help="frames per second of the playback (10)")
    p.add_argument("--frames", type=int, default=50, metavar="F",
                   help="frames over the training (default 50; at most one per step)")
    p.add_argument("--presentation", action="store_true", help="in presentation mode (large fonts, thick lines)")
    p.add_argument("--backward-pass", action="store_true",
                   help="after training, add the unrolled view's slow-motion backward pass, a frame per step back")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.add_argument("--out", required=True, metavar="FILE.gif|FILE.mp4")
    p.set_defaults(func=_cmd_record)
