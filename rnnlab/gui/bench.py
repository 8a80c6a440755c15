"""``rnnlab bench --gui``: responsiveness of the window while training runs flat out with every view on.

* ``ui_latency_p50_ms`` / ``ui_latency_p99_ms``: how late a 1 ms single-shot timer on the UI thread fires
  (measured lateness = elapsed − 1 ms), re-armed continuously during the measurement;
* ``redraws_per_s``: frames drawn per second (each frame updates every plot);
* ``gui_throughput_ratio``: training steps per second inside the app ÷ the same trainer headless.
Targets: p99 ≤ 30 ms, ≥ 30 redraws/s, ratio ≥ 0.85. The cost of recording the window while it trains:
:func:`bench_record` (``record_throughput_ratio`` ≥ 0.9).

``rnnlab bench --soak N`` (:func:`soak_gui`): the window (offscreen) trains N steps through its own engine path
(the training process, every view on, diagnostics streamed), and the resident memory of both processes is
sampled as it goes: the growth per process is the figure (target: < 30 MB over 100,000 steps).
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["bench_gui", "bench_record", "soak_gui", "rss_bytes"]


def _headless_rate(exp, seconds: float) -> float:
    """Steps per second of the same experiment trained headless by the one run loop (:func:`rnnlab.train.run.run`),
    for about ``seconds``."""
    from ..train.run import run

    probe = run(exp, 20, evaluate=False)
    res = run(exp, max(20, int(seconds * 20 / probe.wall_time_s)), evaluate=False)
    return res.steps / res.wall_time_s


def bench_gui(quick: bool = False) -> dict:
    from PySide6 import QtCore, QtWidgets

    from ..config import Experiment
    from .app import get_app
    from .main_window import MainWindow

    seconds = 1.5 if quick else 6.0
    exp = Experiment().replace(training__eval_every=10**6)  # the default experiment, no held-out pauses
    headless = _headless_rate(exp, seconds / 2)
    app = get_app()
    win = MainWindow(exp, mode="process", remember=False)
    win.resize(1600, 1000)
    win.show()
    app.processEvents()
    ctrl = win.controller
    lateness: list[float] = []
    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setSingleShot(True)
    armed = [0.0]

    def fired():
        lateness.append((time.perf_counter() - armed[0]) * 1e3 - 1.0)
        armed[0] = time.perf_counter()
        timer.start(1)

    timer.timeout.connect(fired)
    ctrl.stop_at_steps = False  # flat out, past training.steps
    ctrl.play()
    t_end = time.perf_counter() + 0.5  # warm-up
    while time.perf_counter() < t_end:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    frames0, steps0 = ctrl.frames, ctrl.last_snapshot.step
    t0 = time.perf_counter()
    armed[0] = t0
    timer.start(1)
    while time.perf_counter() - t0 < seconds:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    elapsed = time.perf_counter() - t0
    timer.stop()
    frames = ctrl.frames - frames0
    steps = ctrl.last_snapshot.step - steps0
    ctrl.pause()
    win.close()
    QtWidgets.QApplication.processEvents()
    lat = np.asarray(lateness) if lateness else np.asarray([np.nan])
    return {
        "ui_latency_p50_ms": float(np.percentile(lat, 50)),
        "ui_latency_p99_ms": float(np.percentile(lat, 99)),
        "redraws_per_s": frames / elapsed,
        "gui_steps_per_s": steps / elapsed,
        "headless_steps_per_s": headless,
        "gui_throughput_ratio": (steps / elapsed) / headless,
    }


def bench_record(quick: bool = False) -> dict:
    """The cost of recording the window (File ▸ Record) while training runs flat out in its own process:

    * ``record_capture_ms``: median time to grab one frame of the window at 1280 × 720 (on the window's thread);
    * ``record_encode_ms``: mean time to encode one GIF frame (on the writer's thread);
    * ``record_throughput_ratio``: training steps per second while recording the window at 10 fps ÷ without,
      measured in alternating windows of time (target ≥ 0.9: recording slows training by at most 10 %);
    * ``record_cpu_share``: the share of one core that capturing and encoding take (at 10 fps), the work added to
      the window's process; ``record_window_cores_plain`` / ``_recording``: the cores the window's process uses
      without and with it (the training process has a core of its own while these stay below one on two cores).
    """
    import tempfile
    from pathlib import Path

    from PySide6 import QtCore, QtWidgets

    from ..config import Experiment
    from .app import get_app
    from .main_window import MainWindow
    from .recorder import Recorder

    seconds = 1.5 if quick else 2.0
    rounds = 1 if quick else 8  # short windows, alternating: a machine shared with other work drifts
    exp = Experiment().replace(training__eval_every=10**6)
    app = get_app()
    win = MainWindow(exp, mode="process", remember=False)
    win.resize(1280, 720)
    win.show()
    app.processEvents()
    ctrl = win.controller

    cpu = {True: 0.0, False: 0.0}  # CPU seconds of the window's process (all its threads), recording or not

    def rate(span: float, recording: bool = False) -> float:
        while ctrl.last_snapshot is None:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        s0, t0, c0 = ctrl.last_snapshot.step, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < span:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        cpu[recording] += time.process_time() - c0
        return (ctrl.last_snapshot.step - s0) / (time.perf_counter() - t0)

    ctrl.stop_at_steps = False  # flat out, past training.steps
    ctrl.play()
    rate(0.5)  # warm-up
    plain, recording, capture, encode, frames = [], [], 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            plain.append(rate(seconds))
            rec = Recorder(win, Path(tmp) / f"r{i}.gif", fps=10, size=(1280, 720))
            rec.start()
            recording.append(rate(seconds, True))
            rec.stop()
            capture += rec.capture_seconds
            encode += rec.writer.encode_seconds
            frames += rec.writer.frames
    ctrl.pause()
    win.close()
    QtWidgets.QApplication.processEvents()
    return {
        "record_capture_ms": 1e3 * capture / max(1, frames),
        "record_encode_ms": 1e3 * encode / max(1, frames),
        "record_steps_per_s": float(np.mean(recording)),
        "record_plain_steps_per_s": float(np.mean(plain)),
        "record_throughput_ratio": float(np.sum(recording) / np.sum(plain)),
        "record_cpu_share": (capture + encode) / (rounds * seconds),
        "record_window_cores_plain": cpu[False] / (rounds * seconds),
        "record_window_cores_recording": cpu[True] / (rounds * seconds),
    }


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (Linux: /proc; elsewhere psutil when installed; else None)."""
    from .._runtime import proc_kib

    rss = proc_kib(f"/proc/{pid}/status", "VmRSS")
    if rss is not None:
        return rss
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # noqa: BLE001 - no psutil, or the process is gone
        return None


def soak_gui(steps: int, warmup: int = 2000, report=None) -> dict:
    """Train ``steps`` steps in the window (process engine, diagnostics on) and measure both processes' memory:
    at the start (after ``warmup`` steps, when every view has drawn and every buffer has its working size), every
    tenth of the way (``report(done, sample)`` is called with each sample) and at the end."""
    import os

    from PySide6 import QtCore, QtWidgets

    from ..config import Experiment
    from .app import get_app
    from .main_window import MainWindow

    app = get_app()
    exp = Experiment()  # the default experiment: a tanh RNN on temporal order, T = 20, H = 32
    win = MainWindow(exp, mode="process", remember=False)
    win.resize(1600, 1000)
    win.show()
    ctrl = win.controller

    def spin(until, timeout: float) -> bool:
        end = time.perf_counter() + timeout
        while not until():
            if time.perf_counter() > end:
                return False
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        return True

    def step() -> int:
        return ctrl.last_snapshot.step if ctrl.last_snapshot is not None else 0

    try:
        spin(lambda: ctrl.last_snapshot is not None and getattr(ctrl.session, "pid", None), 120)
        child = ctrl.session.pid
        ctrl.stop_at_steps = False  # a soak runs past training.steps
        ctrl.play()
        spin(lambda: step() >= min(warmup, steps), 3600)
        samples = []

        def sample() -> dict:
            app.processEvents()
            w, e = rss_bytes(os.getpid()), rss_bytes(child)
            s = {"step": step(), "window_mb": None if w is None else w / 2**20,
                 "engine_mb": None if e is None else e / 2**20}
            samples.append(s)
            if report:
                report(s)
            return s

        start = sample()
        t0 = time.perf_counter()
        target = start["step"] + steps
        for k in range(1, 11):
            mark = start["step"] + k * steps // 10
            if not spin(lambda: step() >= mark or ctrl.dead, 24 * 3600):
                break
            sample()
            if ctrl.dead:
                break
        elapsed = time.perf_counter() - t0
        ctrl.pause()
        end = samples[-1]
    finally:
        win.close()
        QtWidgets.QApplication.processEvents()

    def growth(key: str):
        if start[key] is None or end[key] is None:
            return None
        return end[key] - start[key]

    def peak(key: str):
        vals = [s[key] for s in samples if s[key] is not None]
        return max(vals) - start[key] if vals and start[key] is not None else None

    return {
        "soak_steps": end["step"] - start["step"], "soak_requested": steps, "soak_warmup_steps": start["step"],
        "soak_seconds": elapsed, "soak_steps_per_s": (end["step"] - start["step"]) / max(elapsed, 1e-9),
        "soak_frames": ctrl.frames,
        "window_rss_start_mb": start["window_mb"], "window_rss_end_mb": end["window_mb"],
        "window_growth_mb": growth("window_mb"), "window_peak_growth_mb": peak("window_mb"),
        "engine_rss_start_mb": start["engine_mb"], "engine_rss_end_mb": end["engine_mb"],
        "engine_growth_mb": growth("engine_mb"), "engine_peak_growth_mb": peak("engine_mb"),
        "soak_reached_target": end["step"] >= target, "soak_samples": samples,
    }
