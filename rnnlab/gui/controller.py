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
#: the window builds a new experiment's network itself before switching when that costs at most this many
#: multiply-adds (the spectral rescaling of W_hh: H ≲ 300 for one block, ~0.1 s); beyond, the engine builds it
#: (seconds at H = 2048) and refuses it the same way if it cannot
BUILD_HERE_COST = 1e9


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
    message = QtCore.Signal(str)  # plain text
    engineDied = QtCore.Signal(str)  # plain text: what is known about how the engine ended
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
        self.dead = False  # the engine ended without being asked to (see poll)
        self.last_refusal = ""  # why the last experiment was refused (plain text)
        self._stopping = False
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

    def _start(self, mode: str, exp: Experiment, resume=None):
        """A new engine of ``mode`` for ``exp``; ``resume``: a restart's checkpoint (arrays for the in-process
        engines, the old process engine's folder for a new process)."""
        if mode == "sync":
            return Session(exp, fps=self.fps, resume=resume)
        if mode == "thread":
            return ThreadSession(exp, fps=self.fps, resume=resume)
        try:
            if resume is not None:
                return ProcessSession(exp, fps=self.fps, folder=resume, resume=True)
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

    # --- supervision ----------------------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        """A training process (or thread) that ended without being asked to: say so once, with what is known, and
        offer Restart (:meth:`restart`). Called by every poll, so it is noticed within a poll interval."""
        s = self.session
        if self.dead or self._stopping or self.mode == "sync" or s.is_alive():
            return
        if not getattr(s, "answered", True):
            return  # never answered: _check_process falls back to the thread engine
        for msg in s.take_messages():  # what it said before it ended
            self.message.emit(msg)
        self.dead = True
        self._set_playing(False)
        step = self.last_snapshot.step if self.last_snapshot is not None else 0
        what = s.exit_text()
        text = (f"{what[:1].upper()}{what[1:]} at step {step}. The window and the experiment are kept; Restart "
                "starts a new engine from the last checkpoint.")
        self.engineDied.emit(text)

    def restart(self) -> bool:
        """Start a new engine of the same kind from the current experiment and the dead engine's last checkpoint
        (or from step 0 without one). Returns whether an engine runs again."""
        if not self.dead and self.session.is_alive():
            return True
        old = self.session
        resume = None
        if isinstance(old, ProcessSession):
            resume = old.folder if old.checkpoint() else None
            old.stop(0, remove_folder=resume is None)
        elif isinstance(old, ThreadSession):
            resume = old.checkpoint()
            old.stop(1000)
        try:
            self.session = self._start(self.mode, self.exp, resume=resume)
        except ConfigError as exc:
            self.message.emit(f"Could not restart: {exc}")
            return False
        self.dead = False
        self._started.restart()
        self._set_playing(False)
        self.session.send(RequestSnapshot(True))
        self._sync()
        return True

    def _send(self, cmd) -> bool:
        """Send a command to the engine; with a dead engine, say so (again) instead of doing nothing."""
        if self.dead:
            self.engineDied.emit("The training engine has ended: press Restart to go on from the last checkpoint.")
            return False
        self.session.send(cmd)
        return True

    # --- experiment -----------------------------------------------------------------------------------------------
    def validate(self, new: Experiment) -> None:
        """Everything that can be checked before switching (:func:`rnnlab.train.setup.validate`: the rules, the
        task, the memory the app would need and, where it is quick (:data:`BUILD_HERE_COST`), building the
        network itself). Raises ConfigError with the reason. (Larger networks are built by the engine, which
        refuses them the same way and keeps the run.)"""
        from ..train.setup import validate

        validate(new, BUILD_HERE_COST)

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
        self.last_refusal = ""
        try:
            self.validate(new)
        except ConfigError as exc:
            self.last_refusal = str(exc)
            self.message.emit(str(exc))
            self.experimentChanged.emit(self.exp)
            return False
        if self.dead:
            self._send(Reset(new))
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
        return self.exp == new  # the synchronous engine has answered already (a refusal puts the old one back)

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
        if self._send(Play()):
            self._set_playing(True)

    def pause(self) -> None:
        self._send(Pause())
        self._set_playing(False)
        self._sync()

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def step(self, n: int = 1) -> None:
        if self._playing:
            self.pause()
        self._send(Step(n))
        self._sync()

    def reset(self) -> None:
        if self._send(Reset(self.exp)):
            self.runStarted.emit()
        self._set_playing(False)
        self._sync()

    def rewind(self) -> None:
        self._send(Rewind())
        self._sync()

    def set_speed(self, steps_per_second: float) -> None:
        """0 = as fast as possible."""
        if not self.dead:
            self.session.send(Speed(steps_per_second))

    def request_snapshot(self, expensive: bool = True) -> None:
        if not self.dead:
            self.session.send(RequestSnapshot(expensive))
        self._sync()

    def export_run(self, folder: str | Path) -> None:
        """Write the run's config.toml, metrics.csv and state.npz into ``folder`` (a message says the outcome)."""
        self._send(ExportRun(Path(folder)))
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
        for kept, why in self.session.take_refusals():
            self.last_refusal = why
            if kept != self.exp:  # the engine kept its run: so does the window
                self.exp = kept
                self.experimentChanged.emit(kept)
        snaps = self.session.take()
        if not snaps:
            self._check_alive()
            return
        snap = Snapshot.merge(snaps)
        self.last_snapshot = snap
        self.frames += 1
        self.frame.emit(snap)
        if snap.explosion is not None:
            self._set_playing(False)
            self.exploded.emit(snap.explosion)
        self._check_alive()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the training session and wait for it (called when the window closes)."""
        self._stopping = True
        self._timer.stop()
        return self.session.stop(timeout_ms)
