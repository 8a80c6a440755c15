"""The session in a training process of its own (the app's default engine), supervised both ways.

:class:`ProcessSession` has the interface of :class:`~rnnlab.train.session.ThreadSession` (``send``, ``take``,
``take_messages``, ``take_refusals``, ``is_alive``, ``stop``, ``exit_text``) and runs a
:class:`~rnnlab.train.session.Session` in a ``multiprocessing`` spawn process, which keeps the window smooth
(with a thread, Python's GIL held the window to 14 redraws/s).

Supervision: the training process exits by itself within a second when the window's process is gone (a watchdog
thread on the parent; on Linux also the parent-death signal), and its output queue is bounded: when the window does
not read, snapshots merge into one pending snapshot (latest wins; its history rows are decimated, min/max kept,
beyond :data:`PENDING_ROWS`) instead of piling up. The window notices a dead training process
(:meth:`ProcessSession.is_alive`, :meth:`ProcessSession.exit_text`) and can start a new one from the last
checkpoint, which the process writes now and then (:func:`~rnnlab.train.checkpoint.save_checkpoint`). A listener
thread receives the commands while the main thread computes, so Pause and Reset act even inside a long LAPACK call.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ..config import ConfigError, Experiment
from .snapshot import Snapshot
from .session import Command, Pause, Session, Stop, _drain, _internal_error

__all__ = ["ProcessSession", "OUT_QUEUE_SIZE", "PENDING_ROWS", "CHECKPOINT_SECONDS", "WATCHDOG_SECONDS"]

#: items (snapshots, messages) the training process may have in flight to the window; beyond, they merge
OUT_QUEUE_SIZE = 4
#: history rows a pending (unsent) snapshot holds at most; beyond, its older rows are decimated (min/max kept)
PENDING_ROWS = 20_000
#: seconds between two checkpoint files at least (and at least 20 times the time the last one took to write)
CHECKPOINT_SECONDS = 5.0
#: how often the training process looks for its parent
WATCHDOG_SECONDS = 0.2


class _Outbox:
    """The training process's side of its bounded output queue: items go out while there is room; otherwise
    snapshots merge into one pending snapshot (latest wins, history concatenated and decimated beyond
    :data:`PENDING_ROWS`), the playing state keeps its latest value and messages wait (at most 50)."""

    def __init__(self, q):
        self.q = q
        self.lock = threading.Lock()
        self.snap: Snapshot | None = None
        self.status: bool | None = None
        self.items: collections.deque = collections.deque(maxlen=50)  # messages and refusals, in order

    def add_snapshot(self, snap: Snapshot) -> None:
        with self.lock:
            self.snap = snap if self.snap is None else _bounded(Snapshot.merge([self.snap, snap]))

    def add(self, kind: str, value) -> None:
        with self.lock:
            if kind == "status":
                self.status = bool(value)
            else:
                self.items.append((kind, value))

    def pump(self) -> None:
        """Send what fits: the playing state first, then messages, then the pending snapshot."""
        with self.lock:
            try:
                if self.status is not None:
                    self.q.put_nowait(("status", self.status))
                    self.status = None
                while self.items:
                    self.q.put_nowait(self.items[0])
                    self.items.popleft()
                if self.snap is not None:
                    self.q.put_nowait(("snap", self.snap))
                    self.snap = None
            except queue.Full:
                pass

    def close(self, timeout: float = 0.1) -> None:
        """Send what fits within ``timeout`` (messages first: a stopping window does not wait for pictures),
        then the end marker."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            if self.snap is None and not self.items and self.status is None:
                break
            time.sleep(0.005)
        with contextlib.suppress(queue.Full):
            self.q.put(("stopped", None), timeout=max(0.0, end - time.monotonic()))


def _bounded(snap: Snapshot) -> Snapshot:
    """The snapshot with at most :data:`PENDING_ROWS` history rows (older ones decimated, min/max kept)."""
    n = len(snap.history.get("step", ()))
    if n <= PENDING_ROWS:
        return snap
    import dataclasses

    from .snapshot import DecimatedTable

    cols = list(snap.history)
    t = DecimatedTable(len(cols), recent=PENDING_ROWS // 2, chunk=5000, block=50, coarse=PENDING_ROWS // 4)
    order = ["step"] + [c for c in cols if c != "step"]
    t.append_rows(np.column_stack([snap.history[c] for c in order]))
    data = t.data
    hist = {c: data[:, i].copy() for i, c in enumerate(order)}
    return dataclasses.replace(snap, history=hist)


def _parent_alive(parent_pid: int) -> bool:
    import multiprocessing as mp

    if os.name == "posix" and os.getppid() != parent_pid:
        return False  # re-parented: the window's process is gone
    parent = mp.parent_process()
    return parent is None or parent.is_alive()


def _supervise(parent_pid: int, on_death, use_pdeathsig: bool = True) -> None:
    """End this process when its parent is gone: the parent-death signal (Linux) and a watchdog thread (every
    OS; it also acts while the main thread is inside a long LAPACK call)."""

    def die(*_args) -> None:
        try:
            on_death()
        finally:
            os._exit(0)

    if use_pdeathsig and sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            libc = ctypes.CDLL(None, use_errno=True)
            signal.signal(signal.SIGTERM, die)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError, ValueError):  # pragma: no cover - no prctl
            pass
    if not _parent_alive(parent_pid):  # the parent died before the signal was armed
        die()

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if not _parent_alive(parent_pid):
                die()

    threading.Thread(target=watch, name="rnnlab-watchdog", daemon=True).start()


def _process_main(exp: Experiment, fps: float, cmd_q, out_q, parent_pid: int | None = None,
                  folder: str | None = None, resume: bool = False,
                  use_pdeathsig: bool = True) -> None:  # pragma: no cover - runs in the child
    """The training process: a listener thread receives commands (Pause is answered at once), the main thread
    ticks the session and sends snapshots through the bounded outbox, and writes a checkpoint now and then."""
    from .._runtime import tune_process

    tune_process()
    ckpt = Path(folder) / "checkpoint.npz" if folder else None
    if parent_pid is not None:
        _supervise(parent_pid, lambda: shutil.rmtree(folder, ignore_errors=True) if folder else None,
                   use_pdeathsig)
    out = _Outbox(out_q)
    out.add("status", False)  # "started": the window stops waiting for a process that never ran; building the
    out.pump()  # experiment may take a while (H = 2048: ~20 s)
    arrays = None
    if resume and ckpt is not None and ckpt.exists():
        from .checkpoint import load_checkpoint

        try:
            arrays = load_checkpoint(ckpt)
        except ConfigError as exc:
            out.add("msg", f"The checkpoint could not be read: {exc}")
    try:
        s = Session(exp, fps=fps, resume=arrays)
    except ConfigError as exc:
        out.add("msg", f"The training process could not build the experiment: {exc}")
        out.close()
        return

    def listen() -> None:
        while not s.stopped:
            try:
                cmd = cmd_q.get(timeout=0.25)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):  # the parent went away
                os._exit(0)
            s.send(cmd)
            if isinstance(cmd, Pause):  # answered now, even while the main thread is inside a long computation
                out.add("status", False)
                out.pump()
            elif isinstance(cmd, Stop):
                # the main thread ends at its next time step; a single long LAPACK call is not waited for
                threading.Timer(0.15, os._exit, (0,)).start()
                return

    threading.Thread(target=listen, name="rnnlab-commands", daemon=True).start()
    last_status = None
    last_save, save_cost, saved_step = time.monotonic(), 0.0, -1
    while not s.stopped:
        if not s.busy():
            s.wake.wait(0.05)
            s.wake.clear()
        try:
            s.tick()
        except Exception:
            s.playing = False
            out.add("msg", f"Training stopped on an internal error: {_internal_error()}")
        for snap in s.take():
            out.add_snapshot(snap)
        for m in s.take_messages():
            out.add("msg", m)
        for kept, why in s.take_refusals():
            out.add("refused", (kept, why))
        if s.playing != last_status:
            last_status = s.playing
            out.add("status", s.playing)
        out.pump()
        step = s.trainer.timeline.latest().step  # the newest kept checkpoint
        now = time.monotonic()
        if ckpt is not None and step != saved_step and now - last_save >= max(CHECKPOINT_SECONDS, 20 * save_cost):
            from .checkpoint import save_checkpoint

            t0 = time.monotonic()
            try:
                save_checkpoint(s.trainer, ckpt)
                saved_step = step
            except OSError as exc:
                out.add("msg", f"Could not write the training checkpoint: {exc}")
                saved_step = step
            save_cost, last_save = time.monotonic() - t0, time.monotonic()
    out.close()


class ProcessSession:
    """A :class:`Session` in a separate process, behind the same interface as :class:`ThreadSession`.

    Training and drawing are both Python-heavy; in one process they take turns on the GIL and the window stutters.
    In its own process the session has a core to itself and the window keeps the other. Commands and snapshots
    cross as pickles (snapshots own their arrays). ``answered`` turns true with the child's first message, so a
    caller can tell a process that never started from one that stopped.

    ``folder``: the private folder (created when None) where the child writes its checkpoint; ``resume``: start
    from the checkpoint in it (Restart). :meth:`stop` removes the folder.
    """

    def __init__(self, exp: Experiment, fps: float = 30.0, target=None, folder: str | None = None,
                 resume: bool = False, use_pdeathsig: bool = True):
        import multiprocessing as mp
        import tempfile

        ctx = mp.get_context("spawn")  # never fork a process that has Qt threads
        self._cmd_q = ctx.Queue()
        self._out_q = ctx.Queue(maxsize=OUT_QUEUE_SIZE)
        self._snaps: collections.deque[Snapshot] = collections.deque()
        self._messages: collections.deque[str] = collections.deque(maxlen=100)
        self._refusals: collections.deque = collections.deque(maxlen=100)
        self.playing = False
        self.stopped = False
        self.answered = False
        self.folder = folder or tempfile.mkdtemp(prefix="rnnlab-engine-")
        self.experiment = exp
        # ``target`` replaces the child's main function (tests: a child that dies before answering)
        self._proc = ctx.Process(target=target or _process_main,
                                 args=(exp, fps, self._cmd_q, self._out_q, os.getpid(), self.folder, resume,
                                       use_pdeathsig),
                                 daemon=True, name="rnnlab-training")
        self._proc.start()
        # The window only reads the output queue. Its own copy of the queue's write end is closed now that the
        # child has its own: when the child dies in the middle of sending a snapshot, reading the rest then ends
        # in EOFError instead of waiting forever for bytes nobody will write (measured: the window froze for good
        # when a training process was killed while it streamed).
        try:
            self._out_q._writer.close()  # noqa: SLF001 - multiprocessing.Queue keeps both ends in the parent
        except (AttributeError, OSError):  # pragma: no cover - another multiprocessing implementation
            pass

    def send(self, cmd: Command) -> None:
        if not self.stopped and self._proc.is_alive():  # a dead child: nothing piles up in the pipe
            self._cmd_q.put(cmd)

    def _pump(self) -> None:
        while True:
            try:
                kind, val = self._out_q.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError, ValueError):  # pragma: no cover - the pipe broke with the child
                return
            self.answered = True
            if kind == "snap":
                self._snaps.append(val)
                self.experiment = val.config
            elif kind == "msg":
                self._messages.append(val)
            elif kind == "refused":
                self._refusals.append(val)
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

    def take_refusals(self) -> list[tuple[Experiment, str]]:
        self._pump()
        return _drain(self._refusals)

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def exitcode(self) -> int | None:
        return self._proc.exitcode

    def exit_text(self) -> str:
        """What is known about how the training process ended: its exit status or the signal that killed it."""
        code = self._proc.exitcode
        if code is None:
            return "the training process is running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the training process was killed ({name})"
        return f"the training process exited with status {code}"

    def checkpoint(self) -> bool:
        """Whether a checkpoint file exists for a restart (:class:`ProcessSession` with ``resume=True``)."""
        return (Path(self.folder) / "checkpoint.npz").exists()

    def stop(self, timeout_ms: int = 5000, remove_folder: bool = True) -> bool:
        """Ask the child to stop, wait for it (terminate it if it does not answer); True when it has ended.
        ``remove_folder=False`` keeps the checkpoint folder (a restart goes on from it)."""
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
        if remove_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        return not self._proc.is_alive()
