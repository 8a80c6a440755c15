"""The controller: the window's single source of truth for the experiment, and its link to the training session.

Data flow one way: session (its own process, a thread, or synchronous) → snapshots → :attr:`Controller.frame`
(one merged snapshot per frame) → views. Commands the other way, as typed commands carrying whole new
:class:`~rnnlab.config.Experiment` objects (:meth:`Controller.set_value`), never as shared mutable state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6 import QtCore

from ..config import ConfigError, Experiment
from ..train import rules
from ..train.session import (
    Configure,
    ExportRun,
    Pause,
    Play,
    ProcessSession,
    RequestSnapshot,
    Reset,
    Rewind,
    Session,
    Speed,
    Step,
    ThreadSession,
)
from ..train.snapshot import Snapshot
from ..train.trainer import needs_reset

__all__ = ["Controller"]

#: how long a training process may take to answer for the first time before the thread engine takes over
PROCESS_START_TIMEOUT_S = 20.0


class Controller(QtCore.QObject):
    """Owns the training session and the current experiment.

    Parameters
    ----------
    exp : the experiment to start with
    mode : ``"process"`` (the app: training in its own process), ``"thread"`` (a thread of this process: the
        fallback, and ``rnnlab gui --engine thread``) or ``"sync"`` (commands run at once; screenshots, tests)
    confirm : ``confirm(text) -> bool`` asked before a change that needs new weights (the window shows a dialog)
    """

    frame = QtCore.Signal(object)  # merged Snapshot
    experimentChanged = QtCore.Signal(object)  # Experiment
    playingChanged = QtCore.Signal(bool)
    exploded = QtCore.Signal(object)  # Explosion
    message = QtCore.Signal(str)
    runStarted = QtCore.Signal()  # a Reset was sent: what the views show belongs to the previous run

    MODES = ("process", "thread", "sync")

    def __init__(self, exp: Experiment, mode: str = "process", confirm: Callable[[str], bool] | None = None,
                 parent: QtCore.QObject | None = None, fps: float = 36.0):
        super().__init__(parent)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        rules.check(exp)
        self.exp = exp
        self.confirm = confirm or (lambda text: True)
        self.fps = fps
        self.mode = mode
        self.session = self._start(mode, exp)
        self._playing = False
        self.last_snapshot: Snapshot | None = None
        self.frames = 0
        self._timer = QtCore.QTimer(self)
        # poll faster than frames are produced, so a frame is drawn as soon as it exists (an empty poll is free)
        self._timer.setInterval(max(5, int(500 / fps)))
        self._timer.timeout.connect(self.poll)
        self._started = QtCore.QElapsedTimer()
        self._started.start()
        if mode == "sync":
            self._sync()
        else:
            self._timer.start()

    def _start(self, mode: str, exp: Experiment):
        if mode == "sync":
            return Session(exp, fps=self.fps)
        if mode == "thread":
            return ThreadSession(exp, fps=self.fps)
        try:
            return ProcessSession(exp, fps=self.fps)
        except (OSError, RuntimeError) as exc:  # e.g. a locked-down machine refuses to start processes
            self.mode = "thread"
            text = self._fallback_text(str(exc))
            QtCore.QTimer.singleShot(0, lambda: self.message.emit(text))  # after the window has connected
            return ThreadSession(exp, fps=self.fps)

    @staticmethod
    def _fallback_text(why: str) -> str:
        return (f"The training process could not be started ({why}); training runs in a thread of the window "
                "instead, so drawing may be slower.")

    def _check_process(self) -> None:
        """A training process that dies before its first answer (an antivirus, a sandbox) is replaced by the
        thread engine, with a message."""
        s = self.session
        if getattr(s, "answered", True):  # only a process session can be waiting for its first answer
            return
        dead = not s.is_alive()
        if dead or self._started.elapsed() > PROCESS_START_TIMEOUT_S * 1000:
            s.stop(1000)
            self.mode = "thread"
            self.session = ThreadSession(self.exp, fps=self.fps)
            self._set_playing(False)
            self.message.emit(self._fallback_text("it ended before answering" if dead else "it did not answer"))

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
            rules.check(new)
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
            self.session.send(Reset(new))
            self.runStarted.emit()
        else:
            self.session.send(Configure(new))
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
        self.session.send(Play())
        self._set_playing(True)

    def pause(self) -> None:
        self.session.send(Pause())
        self._set_playing(False)
        self._sync()

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def step(self, n: int = 1) -> None:
        if self._playing:
            self.pause()
        self.session.send(Step(n))
        self._sync()

    def reset(self) -> None:
        self.session.send(Reset(self.exp))
        self.runStarted.emit()
        self._set_playing(False)
        self._sync()

    def rewind(self) -> None:
        self.session.send(Rewind())
        self._sync()

    def set_speed(self, steps_per_second: float) -> None:
        """0 = as fast as possible."""
        self.session.send(Speed(steps_per_second))

    def request_snapshot(self, expensive: bool = True) -> None:
        self.session.send(RequestSnapshot(expensive))
        self._sync()

    def export_run(self, folder: str | Path) -> None:
        """Write the run's config.toml, metrics.csv and state.npz into ``folder`` (a message says the outcome)."""
        self.session.send(ExportRun(Path(folder)))
        self._sync()

    # --- frames ---------------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        if self.mode == "sync":
            self.session.run_until_idle()
            self.poll()

    def poll(self) -> None:
        """Collect the snapshots the session produced and emit one merged frame (called by the timer)."""
        self._check_process()
        for msg in self.session.take_messages():
            self.message.emit(msg)
        snaps = self.session.take()
        if not snaps:
            return
        snap = Snapshot.merge(snaps)
        self.last_snapshot = snap
        self.frames += 1
        self.frame.emit(snap)
        if snap.explosion is not None:
            self._set_playing(False)
            self.exploded.emit(snap.explosion)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the training session and wait for it (called when the window closes)."""
        self._timer.stop()
        return self.session.stop(timeout_ms)
