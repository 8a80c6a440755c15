"""The session: an experiment trained interactively, without Qt. Typed commands in, snapshots out.

:class:`Session` owns a :class:`~rnnlab.train.trainer.Trainer`. Its user never touches the trainer: it sends
commands (:meth:`Session.send`, e.g. ``Step(10)``, ``Configure(new_experiment)``) and collects snapshots
(:meth:`Session.take`). The same object runs in three ways, behind one interface (``send``, ``take``,
``take_messages``, ``is_alive``, ``stop``):

* synchronously: the caller ticks it (:meth:`Session.run_until_idle`; tests, ``rnnlab screenshot``);
* :class:`ThreadSession`: ticked by a Python thread of the caller's process (the "worker thread" of the brief; the
  app's fallback where a process cannot be started). Training and drawing then share the GIL: measured in 0.1,
  14 redraws/s and training at 0.37 of headless speed;
* :class:`ProcessSession`: ticked in a process of its own (the app's default), which keeps the window smooth.

Snapshots are produced at most ``fps`` times a second (time-based, so a fast trainer does not flood the window);
the expensive diagnostics at most ``expensive_fps`` times a second and never more than ``expensive_share`` of
the loop's time, measured as it runs.
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
from .snapshot import Snapshot
from .trainer import Trainer

#: multiply-adds one streamed heatmap may cost: about 0.1–0.3 s on the development machine, so that a command
#: (Pause, Reset) waits at most that long; above it the heatmap is estimated and its view says so
SNAPSHOT_BUDGET = 3e9

__all__ = ["SNAPSHOT_BUDGET", "Session", "ThreadSession", "ProcessSession", "Command", "Play", "Pause", "Step", "RunSteps", "Reset", "Rewind",
           "Configure", "Speed", "RequestSnapshot", "ExportRun", "Stop", "SUCCESS_RATE"]


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


# --- the session ---------------------------------------------------------------------------------------------------

class Session:
    """An experiment being trained, driven by commands; see the module docstring."""

    def __init__(self, exp: Experiment, fps: float = 30.0, expensive_fps: float = 4.0,
                 expensive_share: float = 0.1, clock=time.perf_counter):
        self.trainer = Trainer(exp, spectrum_every=0)
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
        self._messages: collections.deque[str] = collections.deque()
        self._last_snap = -1e9
        self._last_expensive = -1e9
        self._expensive_cost = 0.0
        self._next_step_time = 0.0
        self._force_snapshot = True
        self._force_expensive = True
        self.wake = threading.Event()

    # --- the caller's side (thread-safe) ------------------------------------------------------------------------
    def send(self, cmd: Command) -> None:
        """Queue a command."""
        self._cmds.put(cmd)
        self.wake.set()

    def take(self) -> list[Snapshot]:
        """All snapshots produced since the last call, oldest first."""
        return _drain(self._out)

    def take_messages(self) -> list[str]:
        """Messages for the user (a refused setting, an export, an error), oldest first."""
        return _drain(self._messages)

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

    def _handle(self, cmd: Command) -> None:
        tr = self.trainer
        match cmd:
            case Play(until_step, until_success):
                self.stop_at, self.stop_at_success = until_step, bool(until_success)
                if tr.explosion is None and not self._target_reached():
                    self.playing = True
            case Pause():
                self.playing = False
                self._force()
            case Step(n):
                self.stop_at, self.stop_at_success = None, False
                self.pending_steps += int(n)
            case RunSteps(n, until_success):
                self.stop_at, self.stop_at_success = None, bool(until_success)
                self.pending_steps += max(0, int(n))
            case Reset(exp):
                tr.reset(exp or tr.exp)
                self.playing = False
                self.pending_steps = 0
                self._force()
            case Rewind(step):
                tr.rewind(step)  # an event marks it on every time-series view
                self.playing = False
                self.pending_steps = 0
                self._force()
            case Configure(exp):
                try:
                    tr.apply_config(exp, allow_reset=True)
                except ConfigError as exc:
                    self._messages.append(str(exc))
                self._force()
            case Speed(v):
                self.speed = float(v or 0.0)
            case RequestSnapshot(expensive):
                self._force_snapshot = True
                self._force_expensive = bool(expensive)
            case ExportRun(folder):
                from .outputs import write_run

                try:
                    paths = write_run(tr, folder)
                    self._messages.append("Exported the run: " + ", ".join(str(p) for p in paths))
                except OSError as exc:
                    self._messages.append(f"Could not export the run to {folder}: {exc.strerror or exc}")
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
        """One iteration of the loop: commands, at most one training step, maybe a snapshot."""
        self.drain()
        if self.stopped:
            return
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
            t0 = self.clock()
            snap = tr.snapshot(expensive=exp_due)
            if self._stopped_why:
                snap = dataclasses.replace(snap, stopped=self._stopped_why)
                self._stopped_why = ""
            if exp_due:
                self._expensive_cost = self.clock() - t0
                self._last_expensive = now
            self._out.append(snap)
            self._last_snap = now
            self._force_snapshot = self._force_expensive = False

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


# --- the session on a thread of this process -----------------------------------------------------------------------

class ThreadSession:
    """A :class:`Session` ticked by a thread of this process (same interface as :class:`ProcessSession`).

    The thread sleeps on an event that a command wakes while there is nothing to do, and checks the stop flag
    between steps, so :meth:`stop` is prompt. An exception in the training code ends the thread with a message.
    """

    def __init__(self, exp: Experiment, fps: float = 30.0):
        self.session = Session(exp, fps=fps)
        self._stop = False
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
            s._messages.append("Training stopped on an internal error:\n" + traceback.format_exc(limit=6))
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

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the loop to end and wait for it; True when the thread has finished."""
        self._stop = True
        self.session.send(Stop())
        self._thread.join(timeout_ms / 1000)
        return not self._thread.is_alive()


# --- the session in its own process -------------------------------------------------------------------------------

def _process_main(exp: Experiment, fps: float, cmd_q, out_q) -> None:  # pragma: no cover - runs in the child
    """The child process: tick the session, forward snapshots, messages and the playing state to the parent."""
    from .._runtime import tune_process

    tune_process()
    s = Session(exp, fps=fps)
    last_status = None
    while not s.stopped:
        try:
            block = not s.busy()
            item = cmd_q.get(timeout=0.05) if block else cmd_q.get_nowait()
            while True:
                s.send(item)
                item = cmd_q.get_nowait()
        except queue.Empty:
            pass
        except (EOFError, OSError):  # the parent went away
            break
        try:
            s.tick()
        except Exception:
            s.playing = False
            out_q.put(("msg", "Training stopped on an internal error:\n" + traceback.format_exc(limit=6)))
        for snap in s.take():
            out_q.put(("snap", snap))
        for m in s.take_messages():
            out_q.put(("msg", m))
        status = s.playing
        if status != last_status:
            out_q.put(("status", status))
            last_status = status
    out_q.put(("stopped", None))


class ProcessSession:
    """A :class:`Session` in a separate process, behind the same interface as :class:`ThreadSession`.

    Training and drawing are both Python-heavy; in one process they take turns on the GIL and the window stutters.
    In its own process the session has a core to itself and the window keeps the other. Commands and snapshots
    cross as pickles (snapshots own their arrays). ``answered`` turns true with the child's first message, so a
    caller can tell a process that never started from one that stopped.
    """

    def __init__(self, exp: Experiment, fps: float = 30.0, target=None):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # never fork a process that has Qt threads
        self._cmd_q = ctx.Queue()
        self._out_q = ctx.Queue()
        self._snaps: collections.deque[Snapshot] = collections.deque()
        self._messages: collections.deque[str] = collections.deque()
        self.playing = False
        self.stopped = False
        self.answered = False
        # ``target`` replaces the child's main function (tests: a child that dies before answering)
        self._proc = ctx.Process(target=target or _process_main, args=(exp, fps, self._cmd_q, self._out_q),
                                 daemon=True, name="rnnlab-training")
        self._proc.start()

    def send(self, cmd: Command) -> None:
        if not self.stopped:
            self._cmd_q.put(cmd)

    def _pump(self) -> None:
        while True:
            try:
                kind, val = self._out_q.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError):  # pragma: no cover
                return
            self.answered = True
            if kind == "snap":
                self._snaps.append(val)
            elif kind == "msg":
                self._messages.append(val)
            elif kind == "status":
                self.playing = bool(val)
            elif kind == "stopped":
                self.stopped = True

    def take(self) -> list[Snapshot]:
        self._pump()
        return _drain(self._snaps)

    def take_messages(self) -> list[str]:
        self._pump()
        return _drain(self._messages)

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the child to stop, wait for it (terminate it if it does not answer); True when it has ended."""
        if self._proc.is_alive():
            self.send(Stop())
            self._proc.join(timeout_ms / 1000)
            if self._proc.is_alive():  # pragma: no cover - a hung child
                self._proc.terminate()
                self._proc.join(1.0)
        self.stopped = True
        for q in (self._cmd_q, self._out_q):
            q.cancel_join_thread()
            q.close()
        return not self._proc.is_alive()
