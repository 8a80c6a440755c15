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
from ..train.process_session import ProcessSession
from ..train.session import (
    Configure,
    ExportRun,
    Pause,
    Play,
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
    def set_locks(self, locks: Locks) -> None:
        """Lock keys (a classroom file); locks only grow (:meth:`Locks.added`)."""
        self.locks = locks
        self.locksChanged.emit(locks)

    def validate(self, new: Experiment) -> None:
        """Everything that can be checked before switching (:func:`rnnlab.train.setup.validate`: the rules, the
        task, the memory the app would need and, where it is quick (:data:`BUILD_HERE_COST`), building the
        network itself). Raises ConfigError with the reason. (Larger networks are built by the engine, which
        refuses them the same way and keeps the run.)"""
        from ..train.setup import validate

        validate(new, BUILD_HERE_COST)

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
            if ask and not self.confirm(self.change_prompt(new)):
                self.experimentChanged.emit(self.exp)
                return False
            self.session.send(Reset(new))
            self.runStarted.emit()
        else:
            self.session.send(Configure(new))
        old, self.exp = self.exp, new
        self._set_playing(False if resets else self._playing)
        self.experimentChanged.emit(new)
        self._sync()
        if record and self.exp == new:  # (the synchronous engine has answered already: a refusal is not recorded)
            self.applied.emit(old, new, what or _what(old, new))
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
        snap = self.last_snapshot
        if snap is not None and snap.explosion is not None:
            self.message.emit("The run exploded: rewind or reset before playing again.")
            return
        budget = self.exp.training.steps if self.stop_at_steps else None
        if budget is not None and snap is not None and snap.step >= budget:
            budget = None  # Play again after the run stopped at its budget: train on, past it
        if self._send(Play(until_step=budget, until_success=self.stop_at_success)):
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

    def rewind(self, step: int | None = None) -> None:
        """Back to the kept step at or before ``step``; None: the last checkpoint before the trouble began."""
        if self._playing:
            self.pause()
        self._send(Rewind(step))
        self._sync()

    def run_steps(self, n: int, until_success: bool | None = None) -> None:
        """Train ``n`` steps (stopping early at success when asked; by default as Run ▸ Stop at success says)."""
        if self._playing:
            self.pause()
        self._send(RunSteps(int(n), self.stop_at_success if until_success is None else until_success))
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
        elif snap.stopped:  # a step budget or success reached
            self._set_playing(False)
        self._check_alive()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop the training session and wait for it (called when the window closes)."""
        self._stopping = True
        self._timer.stop()
        return self.session.stop(timeout_ms)


def _what(old: Experiment, new: Experiment) -> str:
    """A short name for a change (the undo stack's text)."""
    diff = old.diff(new)
    if len(diff) == 1:
        (k, (_, b)), = diff.items()
        return f"{k} = {_short(b, 40)}"
    return f"{len(diff)} settings" if diff else "description"
