"""The training loop behind the window, without Qt: commands in, snapshots out.

:class:`Engine` owns the :class:`~rnnlab.train.trainer.Trainer`. The GUI never touches the trainer: it sends
commands (:meth:`Engine.send`) and collects snapshots (:meth:`Engine.take`). The same object runs synchronously
(tests, ``rnnlab screenshot``) or inside :class:`~rnnlab.gui.worker.TrainingThread`.

Snapshots are produced at most ``fps`` times a second (time-based, so a fast trainer does not flood the window);
the expensive diagnostics (heatmap, gradient flow, spectrum, Lyapunov) at most ``expensive_fps`` times a second and
never more than ``expensive_share`` of the loop's time, measured as it runs.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, Experiment
from ..train.snapshot import Snapshot
from ..train.trainer import Trainer

__all__ = ["Engine", "ProcessEngine", "Command"]


@dataclass(frozen=True)
class Command:
    """``kind`` is one of play, pause, step, reset, rewind, config, speed, snapshot, export, stop."""

    kind: str
    arg: Any = None


class Engine:
    def __init__(self, exp: Experiment, fps: float = 30.0, expensive_fps: float = 4.0,
                 expensive_share: float = 0.1, clock=time.perf_counter):
        self.trainer = Trainer(exp, spectrum_every=0)
        self.fps = fps
        self.expensive_fps = expensive_fps
        self.expensive_share = expensive_share
        self.clock = clock
        self.playing = False
        self.pending_steps = 0
        self.speed = 0.0  # steps per second limit; 0 = as fast as possible
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

    # --- GUI side -----------------------------------------------------------------------------------------------
    def send(self, kind: str, arg: Any = None) -> None:
        """Queue a command (thread-safe)."""
        self._cmds.put(Command(kind, arg))
        self.wake.set()

    def take(self) -> list[Snapshot]:
        """All snapshots produced since the last call, oldest first (thread-safe)."""
        out = []
        while True:
            try:
                out.append(self._out.popleft())
            except IndexError:
                return out

    def take_messages(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self._messages.popleft())
            except IndexError:
                return out

    @property
    def experiment(self) -> Experiment:
        return self.trainer.exp

    # --- worker side --------------------------------------------------------------------------------------------
    def _handle(self, cmd: Command) -> None:
        tr = self.trainer
        k = cmd.kind
        if k == "play":
            if tr.explosion is None:
                self.playing = True
        elif k == "pause":
            self.playing = False
            self._force_snapshot = self._force_expensive = True
        elif k == "step":
            self.pending_steps += int(cmd.arg or 1)
        elif k == "reset":
            exp = cmd.arg or tr.exp
            tr.reset(exp)
            self.playing = False
            self.pending_steps = 0
            self._force_snapshot = self._force_expensive = True
        elif k == "rewind":
            tr.rewind()
            self._force_snapshot = self._force_expensive = True
        elif k == "config":
            try:
                tr.apply_config(cmd.arg, allow_reset=True)
            except ConfigError as exc:
                self._messages.append(str(exc))
            self._force_snapshot = self._force_expensive = True
        elif k == "speed":
            self.speed = float(cmd.arg or 0.0)
        elif k == "snapshot":
            self._force_snapshot = True
            self._force_expensive = bool(cmd.arg)
        elif k == "export":
            from ..train.cli import write_run

            try:
                paths = write_run(tr, cmd.arg)
                self._messages.append("Exported the run: " + ", ".join(str(p) for p in paths))
            except OSError as exc:
                self._messages.append(f"Could not export the run to {cmd.arg}: {exc.strerror or exc}")
        elif k == "stop":
            self.stopped = True
            self.playing = False

    def drain(self) -> None:
        while True:
            try:
                cmd = self._cmds.get_nowait()
            except queue.Empty:
                return
            self._handle(cmd)

    def busy(self) -> bool:
        """Whether :meth:`tick` has work to do now (otherwise the thread may sleep until a command)."""
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
                        self._force_snapshot = True
                        self._force_expensive = True
                if self.speed > 0:
                    self._next_step_time = max(now, self._next_step_time) + 1.0 / self.speed
                if not ok:
                    self.playing = False
                    self.pending_steps = 0
                    self._force_snapshot = self._force_expensive = True
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


# --- the engine in its own process -------------------------------------------------------------------------------

def _process_main(exp: Experiment, fps: float, cmd_q, out_q) -> None:  # pragma: no cover - runs in the child
    """The child process: tick the engine, forward snapshots, messages and the playing state to the window."""
    from .._runtime import tune_process

    tune_process()
    eng = Engine(exp, fps=fps)
    last_status = None
    while not eng.stopped:
        try:
            block = not eng.busy()
            item = cmd_q.get(timeout=0.05) if block else cmd_q.get_nowait()
            while True:
                eng.send(*item)
                item = cmd_q.get_nowait()
        except queue.Empty:
            pass
        except (EOFError, OSError):  # the window went away
            break
        try:
            eng.tick()
        except Exception:
            import traceback

            eng.playing = False
            out_q.put(("msg", "Training stopped on an internal error:\n" + traceback.format_exc(limit=6)))
        for s in eng.take():
            out_q.put(("snap", s))
        for m in eng.take_messages():
            out_q.put(("msg", m))
        status = eng.playing
        if status != last_status:
            out_q.put(("status", status))
            last_status = status
    out_q.put(("stopped", None))


class ProcessEngine:
    """The :class:`Engine` in a separate process, behind the same ``send`` / ``take`` / ``take_messages``.

    Training and drawing are both Python-heavy; in one process they take turns on the GIL and the window stutters
    (measured: 14 redraws/s and in-app training at 0.37 of headless speed with a thread). In its own process the
    engine has a core to itself and the window keeps the other. Snapshots cross as pickles (they own their arrays).
    """

    def __init__(self, exp: Experiment, fps: float = 30.0):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # never fork a process that has Qt threads
        self._cmd_q = ctx.Queue()
        self._out_q = ctx.Queue()
        self._snaps: collections.deque[Snapshot] = collections.deque()
        self._messages: collections.deque[str] = collections.deque()
        self.playing = False
        self.stopped = False
        self._proc = ctx.Process(target=_process_main, args=(exp, fps, self._cmd_q, self._out_q), daemon=True,
                                 name="rnnlab-engine")
        self._proc.start()

    def send(self, kind: str, arg: Any = None) -> None:
        if not self.stopped:
            self._cmd_q.put((kind, arg))

    def _pump(self) -> None:
        while True:
            try:
                kind, val = self._out_q.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError):  # pragma: no cover
                return
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
        out = list(self._snaps)
        self._snaps.clear()
        return out

    def take_messages(self) -> list[str]:
        self._pump()
        out = list(self._messages)
        self._messages.clear()
        return out

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Ask the child to stop, wait for it (terminate it if it does not answer); True when it has ended."""
        if self._proc.is_alive():
            self.send("stop")
            self._proc.join(timeout_ms / 1000)
            if self._proc.is_alive():  # pragma: no cover - a hung child
                self._proc.terminate()
                self._proc.join(1.0)
        self.stopped = True
        for q in (self._cmd_q, self._out_q):
            q.cancel_join_thread()
            q.close()
        return not self._proc.is_alive()
