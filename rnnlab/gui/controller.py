"""The controller: the window's single source of truth for the experiment, and its link to the training thread.

Data flow one way: engine (worker thread) → snapshots → :attr:`Controller.frame` (30 Hz, one merged snapshot per
frame) → plots. Commands the other way, as whole new :class:`~rnnlab.config.Experiment` objects
(:meth:`Controller.set_value`), never as shared mutable state.
"""

from __future__ import annotations

from typing import Callable

from PySide6 import QtCore

from ..config import ConfigError, Experiment
from ..train.snapshot import Snapshot
from ..train.trainer import check_compatible, needs_reset
from .engine import Engine, ProcessEngine
from .worker import TrainingThread

__all__ = ["Controller"]


class Controller(QtCore.QObject):
    """Owns the engine (and its thread) and the current experiment.

    Parameters
    ----------
    exp : the experiment to start with
    mode : ``"process"`` (the app: the engine trains in its own process), ``"thread"`` (a :class:`TrainingThread`
        in this process; tests inspect its trainer) or ``"sync"`` (commands run at once; screenshots, tests)
    confirm : ``confirm(text) -> bool`` asked before a change that needs new weights (the window shows a dialog)
    """

    frame = QtCore.Signal(object)  # merged Snapshot
    experimentChanged = QtCore.Signal(object)  # Experiment
    playingChanged = QtCore.Signal(bool)
    exploded = QtCore.Signal(object)  # Explosion
    message = QtCore.Signal(str)

    MODES = ("process", "thread", "sync")

    def __init__(self, exp: Experiment, mode: str = "process", confirm: Callable[[str], bool] | None = None,
                 parent: QtCore.QObject | None = None, fps: float = 36.0):
        super().__init__(parent)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        check_compatible(exp)
        self.exp = exp
        self.confirm = confirm or (lambda text: True)
        self.mode = mode
        self.engine = ProcessEngine(exp, fps=fps) if mode == "process" else Engine(exp, fps=fps)
        self.thread: TrainingThread | None = None
        self._playing = False
        self.last_snapshot: Snapshot | None = None
        self.frames = 0
        self._timer = QtCore.QTimer(self)
        # poll faster than frames are produced, so a frame is drawn as soon as it exists (an empty poll is free)
        self._timer.setInterval(max(5, int(500 / fps)))
        self._timer.timeout.connect(self.poll)
        if mode == "thread":
            self.thread = TrainingThread(self.engine)
            self.thread.failed.connect(self._on_failed)
            self.thread.start()
        if mode == "sync":
            self._sync()
        else:
            self._timer.start()

    # --- experiment -----------------------------------------------------------------------------------------------
    def set_value(self, key: str, value) -> bool:
        """Change one setting. Invalid values, incompatible combinations and declined resets are refused with a
        message (the current experiment stays as it was). Returns whether the change was applied."""
        try:
            new = self.exp.replace(key, value)
        except ConfigError as exc:
            self.message.emit(str(exc))
            self.experimentChanged.emit(self.exp)  # widgets follow the unchanged experiment back
            return False
        return self.set_experiment(new)

    def set_experiment(self, new: Experiment, ask: bool = True) -> bool:
        """Replace the whole experiment (a preset, an opened file, or one changed key)."""
        if new == self.exp:
            return True
        try:
            check_compatible(new)
        except ConfigError as exc:
            self.message.emit(str(exc))
            self.experimentChanged.emit(self.exp)
            return False
        resets = needs_reset(self.exp, new)
        if resets:
            if ask and not self.confirm(
                    f"Changing {', '.join(resets)} needs new weights: the run restarts from step 0. Continue?"):
                self.experimentChanged.emit(self.exp)
                return False
            self.engine.send("reset", new)
        else:
            self.engine.send("config", new)
        self.exp = new
        self._set_playing(False if resets else self._playing)
        self.experimentChanged.emit(new)
        self._sync()
        return True

    # --- transport ------------------------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    def _set_playing(self, on: bool) -> None:
        if on != self._playing:
            self._playing = on
            self.playingChanged.emit(on)

    def play(self) -> None:
        if self.last_snapshot is not None and self.last_snapshot.explosion is not None:
            self.message.emit("The run exploded: rewind or reset before playing again.")
            return
        self.engine.send("play")
        self._set_playing(True)

    def pause(self) -> None:
        self.engine.send("pause")
        self._set_playing(False)
        self._sync()

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def step(self, n: int = 1) -> None:
        if self._playing:
            self.pause()
        self.engine.send("step", n)
        self._sync()

    def reset(self) -> None:
        self.engine.send("reset", self.exp)
        self._set_playing(False)
        self._sync()

    def rewind(self) -> None:
        self.engine.send("rewind")
        self._sync()

    def set_speed(self, steps_per_second: float) -> None:
        """0 = as fast as possible."""
        self.engine.send("speed", steps_per_second)

    def request_snapshot(self, expensive: bool = True) -> None:
        self.engine.send("snapshot", expensive)
        self._sync()

    # --- frames ---------------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        if self.mode == "sync":
            self.engine.run_until_idle()
            self.poll()

    def poll(self) -> None:
        """Collect the snapshots the engine produced and emit one merged frame (called by the 30 Hz timer)."""
        for msg in self.engine.take_messages():
            self.message.emit(msg)
        snaps = self.engine.take()
        if not snaps:
            return
        snap = Snapshot.merge(snaps)
        self.last_snapshot = snap
        self.frames += 1
        self.frame.emit(snap)
        if snap.explosion is not None:
            self._set_playing(False)
            self.exploded.emit(snap.explosion)

    def _on_failed(self, text: str) -> None:  # pragma: no cover - a bug in the engine
        self._set_playing(False)
        self.message.emit("Training stopped on an internal error:\n" + text)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the training thread or process and wait for it (called when the window closes)."""
        self._timer.stop()
        if self.thread is not None:
            ok = self.thread.stop(timeout_ms)
            self.thread = None
            return ok
        if isinstance(self.engine, ProcessEngine):
            return self.engine.stop(timeout_ms)
        return True
