"""The session: an experiment trained interactively, without Qt. Typed commands in, snapshots out.

:class:`Session` owns a :class:`~rnnlab.train.trainer.Trainer`. Its user never touches the trainer: it sends
commands (:meth:`Session.send`, e.g. ``Step(10)``, ``Configure(new_experiment)``) and collects snapshots
(:meth:`Session.take`). The same object runs in three ways, behind one interface (``send``, ``take``,
``take_messages``, ``take_refusals``, ``is_alive``, ``stop``):

* synchronously: the caller ticks it (:meth:`Session.run_until_idle`; tests, ``rnnlab screenshot``);
* :class:`ThreadSession`: ticked by a Python thread of the caller's process (the "worker thread" of the brief; the
  app's fallback where a process cannot be started). Training and drawing then share the GIL: measured in 0.1,
  14 redraws/s and training at 0.37 of headless speed;
* :class:`~rnnlab.train.process_session.ProcessSession` (its own module): ticked in a process of its own (the
  app's default), which keeps the window smooth.

Snapshots are produced at most ``fps`` times a second (time-based, so a fast trainer does not flood the window);
the expensive diagnostics at most ``expensive_fps`` times a second and never more than ``expensive_share`` of
the loop's time, measured as it runs. Their heatmap keeps to :data:`SNAPSHOT_BUDGET`
(:func:`~rnnlab.core.diagnostics.plan_heatmap`); their O(H³) parts (the spectrum, the Lyapunov exponents), when
predicted above the budget, are recomputed only when they cost at most ``expensive_share`` of the time since the
last time, and the snapshot says which step they belong to (``Diagnostics.slow_note``).

Commands are answered at once, whatever the engine is computing: :meth:`Session.send` stops playing on Pause
before the command is even queued (the step in progress completes), and a Reset, a new experiment, Rewind or
Stop abandon the step or diagnostics in progress at its next time step (:mod:`rnnlab.core._interrupt`), so they
act within a step (measured at H = 2048: ≤ 10 ms per time step) instead of after a whole diagnostic. In the
training process a listener thread receives the commands while the main thread computes, so this holds even
inside a single multi-second LAPACK call (the spectrum at H = 2048).

The training process and its supervision (both ways, bounded queues, checkpoints for Restart) are in
:mod:`rnnlab.train.process_session`.
"""

from __future__ import annotations

import collections
import dataclasses
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ..config import ConfigError, Experiment
from ..core._interrupt import Interrupted, hooked
from .snapshot import Snapshot, for_display
from .timeline import DEFAULT_BUDGET, Timeline
from .trainer import Trainer

#: multiply-adds one streamed heatmap may cost: about 0.1–0.3 s on the development machine, so that a command
#: (Pause, Reset) waits at most that long; above it the heatmap is estimated and its view says so
SNAPSHOT_BUDGET = 3e9

__all__ = ["SNAPSHOT_BUDGET", "Session", "ThreadSession", "Command", "Play", "Pause", "Step", "RunSteps", "Reset",
           "Rewind", "Configure", "Speed", "RequestSnapshot", "ExportRun", "Stop", "SUCCESS_RATE"]


# --- commands ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Play:
    """Train continuously until paused or an explosion; with ``until_step`` stop once the run has made that many
    steps (the app passes ``training.steps`` when "Stop at training.steps" is on), with ``until_success`` stop once
    the held-out success rate reaches :data:`SUCCESS_RATE`."""

    until_step: int | None = None
    until_success: bool = False


@dataclass(frozen=True)
class Pause:
    """Stop training after the current step; a full snapshot follows."""


@dataclass(frozen=True)
class Step:
    """Train ``n`` more steps, then pause with a full snapshot."""

    n: int = 1


@dataclass(frozen=True)
class RunSteps:
    """Train ``n`` more steps (stopping early at success when ``until_success``), then pause with a snapshot."""

    n: int
    until_success: bool = False


@dataclass(frozen=True)
class Reset:
    """New weights and history from ``experiment`` (or the current one); paused at step 0."""

    experiment: Experiment | None = None


@dataclass(frozen=True)
class Rewind:
    """Back to the kept checkpoint at or before ``step``; with no step, to the last one before the trouble began
    (:meth:`rnnlab.train.trainer.Trainer.rewind_target`)."""

    step: int | None = None


@dataclass(frozen=True)
class Configure:
    """Apply a new experiment between two steps (keys that need new weights reset the run)."""

    experiment: Experiment


@dataclass(frozen=True)
class Speed:
    """Limit training to ``steps_per_second`` (0: as fast as possible)."""

    steps_per_second: float = 0.0


@dataclass(frozen=True)
class RequestSnapshot:
    """Produce a snapshot now (with the diagnostics when ``expensive``)."""

    expensive: bool = True


@dataclass(frozen=True)
class ExportRun:
    """Write config.toml, metrics.csv and state.npz of the run into ``folder``; a message says what happened."""

    folder: Path


@dataclass(frozen=True)
class Stop:
    """End the session."""


Command = Union[Play, Pause, Step, RunSteps, Reset, Rewind, Configure, Speed, RequestSnapshot, ExportRun, Stop]

#: "stop at success": the held-out success rate (the task's own criterion) at or above this
SUCCESS_RATE = 0.99
#: commands that make the work in progress pointless: it is abandoned at its next time step
_INTERRUPTING = (Reset, Rewind, Configure, Stop)


# --- the session ---------------------------------------------------------------------------------------------------

class Session:
    """An experiment being trained, driven by commands; see the module docstring.

    ``resume``: the arrays of a checkpoint (:meth:`Trainer.checkpoint_arrays`) to go on from (Restart).
    """

    def __init__(self, exp: Experiment, fps: float = 30.0, expensive_fps: float = 4.0,
                 expensive_share: float = 0.1, clock=time.perf_counter, resume: dict | None = None):
        from .setup import check_memory

        check_memory(exp, "app")
        self.trainer = Trainer(exp, spectrum_every=0, timeline=Timeline(DEFAULT_BUDGET))  # the app's rewinds
        self.trainer.diagnostics_budget = SNAPSHOT_BUDGET
        self.fps = fps
        self.expensive_fps = expensive_fps
        self.expensive_share = expensive_share
        self.clock = clock
        self.playing = False
        self.pending_steps = 0
        self.speed = 0.0  # steps per second limit; 0 = as fast as possible
        self.stop_at: int | None = None  # Play(until_step): stop at this step count
        self.stop_at_success = False  # Play / RunSteps(until_success)
        self._stopped_why = ""  # for the next snapshot: training stopped at a target
        self.stopped = False
        self._cmds: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._out: collections.deque[Snapshot] = collections.deque()
        self._messages: collections.deque[str] = collections.deque(maxlen=100)
        self._refusals: collections.deque[tuple[Experiment, str]] = collections.deque(maxlen=100)
        self._interrupt = threading.Event()
        self._last_snap = -1e9
        self._last_expensive = -1e9
        self._last_slow = -1e9
        self._expensive_cost = 0.0
        self._next_step_time = 0.0
        self._force_snapshot = True
        self._force_expensive = True
        self.wake = threading.Event()
        if resume is not None:
            try:
                step = self.trainer.restore(resume)
                self._messages.append(f"Restarted from the checkpoint of step {step}.")
            except ConfigError as exc:
                self._messages.append(f"Restarted from step 0: {exc}")

    # --- the caller's side (thread-safe) ------------------------------------------------------------------------
    def send(self, cmd: Command) -> None:
        """Queue a command. Pause is answered here and now (no further step starts); a Reset, Configure, Rewind or
        Stop abandons the computation in progress at its next time step."""
        if isinstance(cmd, Pause):
            self.playing = False
        if isinstance(cmd, _INTERRUPTING):
            self._interrupt.set()
        self._cmds.put(cmd)
        self.wake.set()

    def take(self) -> list[Snapshot]:
        """All snapshots produced since the last call, oldest first."""
        return _drain(self._out)

    def take_messages(self) -> list[str]:
        """Messages for the user (a refused setting, an export, an error), oldest first."""
        return _drain(self._messages)

    def take_refusals(self) -> list[tuple[Experiment, str]]:
        """Experiments the engine could not switch to, as ``(the experiment it kept, why)``, oldest first."""
        return _drain(self._refusals)

    def is_alive(self) -> bool:
        return not self.stopped

    def stop(self, timeout_ms: int = 0) -> bool:
        self.stopped = True
        self.playing = False
        return True

    @property
    def experiment(self) -> Experiment:
        return self.trainer.exp

    # --- the worker's side --------------------------------------------------------------------------------------
    def _force(self) -> None:
        self._force_snapshot = self._force_expensive = True

    def _refuse(self, exc: ConfigError) -> None:
        self._refusals.append((self.trainer.exp, str(exc)))
        self._messages.append(f"Cannot switch to that experiment: {exc}")

    def _hook(self) -> None:
        if self._interrupt.is_set():
            raise Interrupted

    def _handle(self, cmd: Command) -> None:
        from .setup import check_memory

        tr = self.trainer
        match cmd:
            case Play(until_step, until_success):
                # a budget already reached is no stop: Play again after stopping there trains on, past it
                self.stop_at = until_step if until_step is not None and tr.step_count < until_step else None
                self.stop_at_success = bool(until_success)
                if tr.explosion is None and not self._target_reached():
                    self.playing = True
            case Pause():
                self.playing = False
                self._force()
            case Step(n):
                self.stop_at, self.stop_at_success = None, False
                self.pending_steps += max(0, int(n))
            case RunSteps(n, until_success):
                self.stop_at, self.stop_at_success = None, bool(until_success)
                self.pending_steps += max(0, int(n))
            case Reset(exp):
                self.playing = False
                self.pending_steps = 0
                try:
                    if exp is not None:
                        check_memory(exp, "app")
                    tr.reset(exp or tr.exp)  # builds first: a failure keeps the current run as it was
                except ConfigError as exc:
                    self._refuse(exc)
                self._force()
            case Rewind(step):
                tr.rewind(step)  # an event marks it on every time-series view
                self.playing = False
                self.pending_steps = 0
                self._force()
            case Configure(exp):
                try:
                    check_memory(exp, "app")
                    tr.apply_config(exp, allow_reset=True)
                except ConfigError as exc:
                    self._refuse(exc)
                self._force()
            case Speed(v):
                self.speed = float(v or 0.0)
            case RequestSnapshot(expensive):
                self._force_snapshot = True
                self._force_expensive = self._force_expensive or bool(expensive)
            case ExportRun(folder):
                from .outputs import write_run

                try:
                    paths = write_run(tr, folder)
                    self._messages.append("Exported the run: " + ", ".join(str(p) for p in paths))
                except OSError as exc:  # a WriteError: one line saying why; the old files are kept
                    self._messages.append(f"Could not export the run: {exc}")
            case Stop():
                self.stopped = True
                self.playing = False
            case _:
                raise TypeError(f"not a session command: {cmd!r}")

    def drain(self) -> None:
        while True:
            try:
                cmd = self._cmds.get_nowait()
            except queue.Empty:
                return
            self._handle(cmd)

    def _target_reached(self) -> str:
        """Why training should stop now (a step budget or success reached), or ''."""
        tr = self.trainer
        if self.stop_at is not None and tr.step_count >= self.stop_at:
            return f"Stopped at step {tr.step_count}: training.steps = {self.stop_at} reached."
        if self.stop_at_success and tr.metric == tr.metric and tr.metric >= SUCCESS_RATE:
            return f"Stopped at step {tr.step_count}: success rate {tr.metric:.0%} (stop at success)."
        return ""

    def busy(self) -> bool:
        """Whether :meth:`tick` has work to do now (otherwise a worker may sleep until a command)."""
        return (self.playing or self.pending_steps > 0 or self._force_snapshot or not self._cmds.empty()) \
            and not self.stopped

    def tick(self) -> None:
        """One iteration of the loop: commands, at most one training step, maybe a snapshot. A command that
        arrives meanwhile and makes the work pointless abandons it (the next tick handles the command)."""
        self._interrupt.clear()  # commands from now on interrupt what follows; those before are handled here
        self.drain()
        if self.stopped:
            return
        with hooked(self._hook):
            try:
                self._work()
            except Interrupted:
                pass

    def _work(self) -> None:
        tr = self.trainer
        stepped = False
        now = self.clock()
        if (self.playing or self.pending_steps > 0) and tr.explosion is None:
            if self.speed > 0 and self.pending_steps == 0 and now < self._next_step_time:
                pass  # rate-limited
            else:
                ok = tr.step()
                stepped = True
                if self.pending_steps > 0:
                    self.pending_steps -= 1
                    if self.pending_steps == 0:
                        self._force()
                if self.speed > 0:
                    self._next_step_time = max(now, self._next_step_time) + 1.0 / self.speed
                if not ok:
                    self.playing = False
                    self.pending_steps = 0
                    self._force()
                elif (why := self._target_reached()) and (self.playing or self.pending_steps > 0):
                    self.playing = False
                    self.pending_steps = 0
                    self._messages.append(why)
                    self._stopped_why = why
                    self._force()
        elif tr.explosion is not None:
            self.playing = False
            self.pending_steps = 0
        now = self.clock()
        due = now - self._last_snap >= 1.0 / self.fps
        if self._force_snapshot or (stepped and due):
            budget_ok = (now - self._last_expensive) * self.expensive_share >= self._expensive_cost
            exp_due = self._force_expensive or (now - self._last_expensive >= 1.0 / self.expensive_fps and budget_ok)
            slow = exp_due and self._slow_due(now)
            t0 = self.clock()
            snap = for_display(tr.snapshot(expensive=exp_due, reuse_slow=not slow))  # T > 1024: pictures averaged
            snap = dataclasses.replace(snap, stopped=self._stopped_why,
                                       running=(self.playing or self.pending_steps > 0) and not self.stopped)
            self._stopped_why = ""
            if exp_due:
                self._expensive_cost = self.clock() - t0
                self._last_expensive = now
                if slow:
                    self._last_slow = now
            self._out.append(snap)
            self._last_snap = now
            self._force_snapshot = self._force_expensive = False

    def _slow_due(self, now: float) -> bool:
        """Whether this expensive snapshot recomputes the spectrum and the Lyapunov exponents: when they fit the
        budget, after new weights, or when they cost at most ``expensive_share`` of the time since the last."""
        tr = self.trainer
        if tr.slow_parts_due(SNAPSHOT_BUDGET):
            return True
        return (now - self._last_slow) * self.expensive_share >= tr.slow_seconds

    def run_until_idle(self, max_ticks: int = 10_000_000) -> None:
        """Synchronous use: tick until nothing is pending (not while playing)."""
        for _ in range(max_ticks):
            self.tick()
            if not (self.pending_steps > 0 or self._force_snapshot) or self.stopped:
                if self.playing:
                    continue
                return


def _drain(dq: collections.deque) -> list:
    out = []
    while True:
        try:
            out.append(dq.popleft())
        except IndexError:
            return out


def _internal_error() -> str:
    """The exception being handled as one line for the window (its type and message, shortened); the whole
    traceback goes to stderr, for a bug report."""
    from ..io import one_line

    traceback.print_exc(file=sys.stderr)
    exc = sys.exc_info()[1]
    return one_line(f"{type(exc).__name__}: {exc}", 200)


# --- the session on a thread of this process -----------------------------------------------------------------------

class ThreadSession:
    """A :class:`Session` ticked by a thread of this process (same interface as :class:`ProcessSession`).

    The thread sleeps on an event that a command wakes while there is nothing to do, and checks the stop flag
    between steps, so :meth:`stop` is prompt. An exception in the training code ends the thread with a message;
    :meth:`exit_text` then says so and :meth:`checkpoint` holds what a restart goes on from.
    """

    def __init__(self, exp: Experiment, fps: float = 30.0, resume: dict | None = None):
        self.session = Session(exp, fps=fps, resume=resume)
        self._stop = False
        self.error = ""
        self._thread = threading.Thread(target=self._loop, name="rnnlab-training")
        self._thread.start()

    def _loop(self) -> None:
        s = self.session
        # the caller's thread (a window) must get the GIL back quickly while NumPy-heavy Python code runs here
        old = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        try:
            while not self._stop and not s.stopped:
                if s.busy():
                    s.tick()
                    if s.playing and s.speed > 0:
                        s.wake.wait(0.001)
                else:
                    s.wake.wait(0.05)
                    s.wake.clear()
                    s.tick()
        except Exception:
            s.playing = False
            self.error = _internal_error()
            s._messages.append(f"Training stopped on an internal error: {self.error}")
        finally:
            sys.setswitchinterval(old)

    @property
    def trainer(self) -> Trainer:
        """The trainer (in this process; for tests and inspection, never to be changed from outside)."""
        return self.session.trainer

    @property
    def playing(self) -> bool:
        return self.session.playing

    def send(self, cmd: Command) -> None:
        self.session.send(cmd)

    def take(self) -> list[Snapshot]:
        return self.session.take()

    def take_messages(self) -> list[str]:
        return self.session.take_messages()

    def take_refusals(self) -> list[tuple[Experiment, str]]:
        return self.session.take_refusals()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def exit_text(self) -> str:
        """What is known about how the training thread ended."""
        return f"the training thread ended on an internal error ({self.error})" if self.error else \
            "the training thread ended"

    def checkpoint(self) -> dict | None:
        """The arrays a restart goes on from (the last finite checkpoint of the trainer)."""
        try:
            return self.session.trainer.checkpoint_arrays()
        except Exception:  # noqa: BLE001 - a trainer broken by the error that ended the thread
            return None

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the loop to end and wait for it; True when the thread has finished."""
        self._stop = True
        self.session.send(Stop())
        self._thread.join(timeout_ms / 1000)
        return not self._thread.is_alive()
