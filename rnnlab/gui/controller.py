"""The controller: the window's single source of truth for the experiment, and its link to the training session.

Data flow one way: session (its own process, a thread, or synchronous) → snapshots → :attr:`Controller.frame`
(one merged snapshot per frame) → views. Commands the other way, as typed commands carrying whole new
:class:`~rnnlab.config.Experiment` objects (:meth:`Controller.set_value`), never as shared mutable state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6 import QtCore

from ..config import ConfigError, Experiment, _short
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
    RunSteps,
    Session,
    Speed,
    Step,
    ThreadSession,
)
from ..train.snapshot import Snapshot
from ..train.trainer import needs_reset
from .locks import Locks

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
    #: (old, new, what) after a change was applied from outside the undo stack (the undo stack records it)
    applied = QtCore.Signal(object, object, str)
    locksChanged = QtCore.Signal(object)  # Locks

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
        #: a classroom file's locked keys: every route that changes the experiment keeps them (gui/locks.py)
        self.locks = Locks()
        #: Play stops at ``training.steps`` (Run ▸ Stop at training.steps) and at success (Run ▸ Stop at success)
        self.stop_at_steps = True
        self.stop_at_success = False
        #: the locked keys the last change wanted to change and were kept (for the caller's banner)
        self.kept_locked: list[str] = []
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
    def set_locks(self, locks: Locks) -> None:
        """Lock keys (a classroom file); locks only grow (:meth:`Locks.added`)."""
        self.locks = locks
        self.locksChanged.emit(locks)

    def set_value(self, key: str, value) -> bool:
        """Change one setting. Invalid values, incompatible combinations, locked keys and declined resets are
        refused with a message (the current experiment stays as it was). Returns whether the change was applied."""
        if key in self.locks and value != self.exp.get(key):
            self.message.emit(f"{self.locks.why(key)}: not changed.")
            self.experimentChanged.emit(self.exp)
            return False
        try:
            new = self.exp.replace(key, value)
        except ConfigError as exc:
            self.message.emit(str(exc))
            self.experimentChanged.emit(self.exp)  # widgets follow the unchanged experiment back
            return False
        return self.set_experiment(new, what=f"{key} = {_short(value, 40)}")

    def change_prompt(self, new: Experiment) -> str:
        """The question asked before a change that needs new weights: every key that changes, with its values."""
        diff = self.exp.diff(new)
        resets = needs_reset(self.exp, new)
        lines = [f"  {k}: {_short(a, 40)} → {_short(b, 40)}" for k, (a, b) in diff.items()]
        if new.description != self.exp.description and not lines:  # pragma: no cover - description only
            lines = ["  description"]
        return (f"This changes {len(diff)} setting{'s' if len(diff) != 1 else ''}:\n" + "\n".join(lines) +
                f"\n\n{', '.join(resets)} need{'s' if len(resets) == 1 else ''} new weights: the run restarts "
                "from step 0. Continue?")

    def set_experiment(self, new: Experiment, ask: bool = True, what: str = "", record: bool = True) -> bool:
        """Replace the whole experiment (a preset, an opened file, a lesson step, or one changed key). Locked keys
        keep their values (:meth:`Locks.enforce`); ``record`` False for undo and redo themselves."""
        self.kept_locked = []
        if self.locks:
            try:
                new, self.kept_locked = self.locks.enforce(self.exp, new)
            except ConfigError as exc:
                self.message.emit(str(exc))
                self.experimentChanged.emit(self.exp)
                return False
            if self.kept_locked:
                self.message.emit(f"Kept the locked setting{'s' if len(self.kept_locked) > 1 else ''} "
                                  f"{', '.join(self.kept_locked)} ({self.locks.files(self.kept_locked)}).")
        if new == self.exp:
            self.experimentChanged.emit(self.exp)
            return True
        try:
            rules.check(new)
        except ConfigError as exc:
            self.message.emit(str(exc))
            self.experimentChanged.emit(self.exp)
            return False
        resets = needs_reset(self.exp, new)
        if resets:
            if ask and not self.confirm(self.change_prompt(new)):
                self.experimentChanged.emit(self.exp)
                return False
            self.session.send(Reset(new))
        else:
            self.session.send(Configure(new))
        old, self.exp = self.exp, new
        self._set_playing(False if resets else self._playing)
        self.experimentChanged.emit(new)
        if record:
            self.applied.emit(old, new, what or _what(old, new))
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
        snap = self.last_snapshot
        if snap is not None and snap.explosion is not None:
            self.message.emit("The run exploded: rewind or reset before playing again.")
            return
        budget = self.exp.training.steps if self.stop_at_steps else None
        if budget is not None and snap is not None and snap.step >= budget:
            budget = None  # Play again after the run stopped at its budget: train on, past it
        self.session.send(Play(until_step=budget, until_success=self.stop_at_success))
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
        self._set_playing(False)
        self._sync()

    def rewind(self, step: int | None = None) -> None:
        """Back to the kept step at or before ``step``; None: the last checkpoint before the trouble began."""
        if self._playing:
            self.pause()
        self.session.send(Rewind(step))
        self._sync()

    def run_steps(self, n: int, until_success: bool | None = None) -> None:
        """Train ``n`` steps (stopping early at success when asked; by default as Run ▸ Stop at success says)."""
        if self._playing:
            self.pause()
        self.session.send(RunSteps(int(n), self.stop_at_success if until_success is None else until_success))
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
        elif snap.stopped:  # a step budget or success reached
            self._set_playing(False)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the training session and wait for it (called when the window closes)."""
        self._timer.stop()
        return self.session.stop(timeout_ms)


def _what(old: Experiment, new: Experiment) -> str:
    """A short name for a change (the undo stack's text)."""
    diff = old.diff(new)
    if len(diff) == 1:
        (k, (_, b)), = diff.items()
        return f"{k} = {_short(b, 40)}"
    return f"{len(diff)} settings" if diff else "description"
