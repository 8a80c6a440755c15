"""``rnnlab selftest``: open the main window offscreen, train a few steps of a preset, render every view, export
a plot, and report. Exit status 0 when everything passed; otherwise each failure is printed."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

__all__ = ["selftest", "layout_selftest"]


def selftest(preset: str = "clipping", steps: int = 20, verbose: bool = True) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the self-test never needs a screen
    import faulthandler

    faulthandler.enable()  # a crash inside Qt still says where it happened
    failures: list[str] = []
    log = (lambda *a: print(*a, flush=True)) if verbose else (lambda *a, **k: None)
    t0 = time.perf_counter()

    def check(name: str, fn) -> object:
        try:
            out = fn()
            log(f"ok    {name}")
            return out
        except Exception as exc:  # report and carry on with the other checks
            failures.append(f"{name}: {exc}")
            log(f"FAIL  {name}: {exc}")
            if verbose:
                traceback.print_exc(limit=3)
            return None

    from .. import __version__
    from ..resources import resources_dir

    log(f"rnnlab {__version__} self-test (Python {sys.version.split()[0]}, frozen={getattr(sys, 'frozen', False)})")
    check("resources found", lambda: resources_dir())
    from ..core import _compiled

    # (information, not a failure: without a C compiler at build time the pure-NumPy path runs, same results)
    log(f"info  compiled kernels: {'yes' if _compiled.kernels() else 'no, ' + _compiled.why_not()}")
    exp = check(f"preset {preset!r} loads", lambda: __import__("rnnlab.presets", fromlist=["load_preset"])
                .load_preset(preset))
    if exp is None:
        return _report(failures, t0, log)
    app = check("Qt application starts", lambda: __import__("rnnlab.gui.app", fromlist=["get_app"]).get_app())
    if app is None:
        return _report(failures, t0, log)
    mw = check("app modules import", lambda: __import__("rnnlab.gui.main_window", fromlist=["MainWindow"]))
    if mw is None:
        return _report(failures, t0, log)
    win = check("main window opens", lambda: mw.MainWindow(exp, mode="sync", remember=False))
    if win is None:
        return _report(failures, t0, log)
    win.resize(1600, 1000)
    win.show()
    check("window drawn", lambda: _render(win))
    log(f"      start-up to a drawn window: {process_age():.2f} s")
    check(f"{steps} training steps", lambda: _train(win, steps))
    check("training process starts and answers", lambda: _process_engine(exp))
    with tempfile.TemporaryDirectory() as tmp:
        for plot in win.plots:
            check(f"view renders: {plot.title}", lambda p=plot: _render(p))
        check("export plot (PNG)", lambda: _export(win.plots[0], Path(tmp) / "heatmap.png"))
        check("export plot (SVG)", lambda: _export(win.plots[0], Path(tmp) / "heatmap.svg"))
        check("window renders", lambda: _render(win))
        check("record a GIF", lambda: _record(win.plots[0], Path(tmp) / "heatmap.gif"))
    check("typeset an equation (vector)", _typeset)
    from .app import dispose

    dispose(win)
    return _report(failures, t0, log)


def layout_selftest(preset: str = "clipping", steps: int = 40, verbose: bool = True) -> int:
    """``rnnlab selftest --layout``: the geometry checks of the tests, on this screen. The window is opened on the
    user's display (offscreen when there is none) at the screen's available size, in normal, lesson and
    presentation modes; every page of views is checked (titles, axis titles, tick labels and colour bars inside
    their view, no overlapping labels, the window inside the screen). Prints each problem; exit status 1 if any."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    log = (lambda *a: print(*a, flush=True)) if verbose else (lambda *a, **k: None)
    t0 = time.perf_counter()
    from ..presets import load_preset
    from .app import dispose, get_app

    app = get_app()
    from .layout_check import all_pages_problems, fit_to
    from .main_window import MainWindow

    exp = load_preset(preset)
    failures: list[str] = []
    for mode in ("normal", "lesson", "presentation"):
        win = MainWindow(exp, mode="sync", remember=False)
        try:
            win.show()
            screen = win.available_geometry()
            if mode == "lesson":
                win.open_lesson("main", index=5)
            elif mode == "presentation":
                win.presentation.set(True, fullscreen=False)  # (checked in the available geometry: never larger
                # than the full screen it takes)
            fit_to(win, screen)
            win.controller.step(steps)
            app.processEvents()
            probs = all_pages_problems(win, screen)
            pages = len(win.view_area.pages())
            log(f"{'ok  ' if not probs else 'FAIL'}  {mode} at {screen.width()}×{screen.height()} "
                f"({app.platformName()}): {pages} page(s) of views")
            for p in probs:
                log(f"        {p}")
            failures += [f"{mode}: {p}" for p in probs]
        finally:
            win.presentation.set(False)
            if mode == "normal":  # compare mode: its window on this screen
                probs = _compare_layout(win, exp, steps)
                log(f"{'ok  ' if not probs else 'FAIL'}  compare at {win.available_geometry().width()}×"
                    f"{win.available_geometry().height()}")
                for p in probs:
                    log(f"        {p}")
                failures += [f"compare: {p}" for p in probs]
            dispose(win)
    return _report(failures, t0, log)


def _compare_layout(win, exp, steps: int) -> list[str]:
    from .layout_check import compare_problems, fit_to

    try:
        cw = win.open_compare({"seed": exp.seed + 1}, mode="sync")
    except Exception as exc:  # noqa: BLE001 - reported, the other checks go on
        return [f"compare window did not open: {exc}"]
    try:
        screen = win.available_geometry()
        fit_to(cw, screen)
        cw.step(steps)
        return compare_problems(cw, screen)
    finally:
        cw.close()


def process_age() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere: since rnnlab was imported)."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return time.perf_counter() - _IMPORTED


_IMPORTED = time.perf_counter()


def _train(win, steps: int) -> None:
    win.controller.step(steps)
    snap = win.controller.last_snapshot
    if snap is None or snap.step != steps:
        raise RuntimeError(f"expected step {steps}, got {None if snap is None else snap.step}")
    if snap.diagnostics is None:
        raise RuntimeError("no heatmap in the last snapshot")


def _process_engine(exp, timeout: float = 60.0) -> None:
    """The app trains in a spawned child process: start one, train 3 steps, get the snapshot back, stop it."""
    from ..train.process_session import ProcessSession
    from ..train.session import Step

    eng = ProcessSession(exp)
    try:
        eng.send(Step(3))
        t_end = time.perf_counter() + timeout
        while time.perf_counter() < t_end:
            snaps = eng.take()
            if any(s.step == 3 for s in snaps):
                return
            time.sleep(0.02)
        raise RuntimeError(f"no snapshot of step 3 from the training process within {timeout:.0f} s")
    finally:
        if not eng.stop(5000):
            raise RuntimeError("the training process did not stop")


def _typeset() -> None:
    """The maths typesetter and its font are there: a fraction draws stacked, as vector graphics."""
    from PySide6 import QtGui

    from .maths import formula_image

    def ink_height(img) -> int:
        rows = [y for y in range(img.height()) if any(img.pixelColor(x, y).alpha() > 128 for x in range(img.width()))]
        if not rows:
            raise RuntimeError("the typeset equation is empty")
        return rows[-1] - rows[0]

    frac = formula_image(r"\frac{\partial h_t}{\partial h_k}", 20).convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    flat = formula_image(r"\partial h_t", 20).convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    if not ink_height(frac) > 1.8 * ink_height(flat):
        raise RuntimeError("the fraction is not stacked")


def _render(widget) -> None:
    img = widget.grab().toImage()
    if img.isNull() or img.width() < 50 or img.height() < 50:
        raise RuntimeError("empty picture")
    # a rendered plot is not a single flat colour
    if len({img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}) < 3:
        raise RuntimeError("the picture is blank")


def _export(plot, path: Path) -> None:
    plot.export_image(path)
    if not path.exists() or path.stat().st_size < 100:
        raise RuntimeError(f"{path.name} was not written")


def _record(widget, path: Path) -> None:
    """Three frames of a view into an animated GIF (File ▸ Record's writer), read back."""
    from PIL import Image

    from .recorder import FrameWriter, grab_frame

    writer = FrameWriter(path, (240, 160), 10)
    for _ in range(3):
        writer.add(grab_frame(widget, writer.size))
    writer.close()
    with Image.open(path) as im:
        if im.format != "GIF" or im.size != (240, 160):
            raise RuntimeError(f"{path.name}: {im.format} {im.size}")


def _report(failures: list[str], t0: float, log) -> int:
    if failures:
        log(f"\nself-test FAILED ({len(failures)} problem(s)):")
        for f in failures:
            log(f"  - {f}")
        return 1
    log(f"\nself-test passed in {time.perf_counter() - t0:.1f} s")
    return 0
