"""``rnnlab bench --gui``: responsiveness of the window while training runs flat out with every view on.

* ``ui_latency_p50_ms`` / ``ui_latency_p99_ms``: how late a 1 ms single-shot timer on the UI thread fires
  (measured lateness = elapsed − 1 ms), re-armed continuously during the measurement;
* ``redraws_per_s``: frames drawn per second (each frame updates every plot);
* ``gui_throughput_ratio``: training steps per second inside the app ÷ the same trainer headless.
Targets: p99 ≤ 30 ms, ≥ 30 redraws/s, ratio ≥ 0.85.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["bench_gui"]


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
