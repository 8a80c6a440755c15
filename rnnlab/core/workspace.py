"""A network's workspace: the large (T, B, ·) buffers of a forward and backward pass, kept from one call to the
next so that a training loop touches the same memory every step.

Why: a fresh multi-megabyte NumPy array is served by the C allocator straight from the kernel (``mmap``) and
every page of it faults on first touch; with glibc's default thresholds the heap also hands freed blocks back to
the kernel, so each training step paid for its temporaries again (measured: the bench network's BPTT step
19.8 ms instead of 11.2 ms, the difference being page faults). Keeping the buffers makes the library path as
fast as a process with a tuned allocator, without tuning anything process-wide.

Safety: a buffer is handed out again only when nothing outside the workspace holds it — no :class:`Trace`, no
view, no caller's variable (its reference count says so; a view keeps its base alive and counted). A trace that a
caller keeps therefore never changes under it: the next pass simply gets new buffers. Buffers are keyed by name,
shape and dtype; each name keeps the last two shapes (a training batch and an evaluation batch alternate without
reallocating). At most :data:`MAX_BYTES` are kept (the least recently used buffers go first), and
:meth:`Workspace.clear` lets go of everything (a notebook that is done with a large network). Pickling or copying a
workspace gives an empty one.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict

import numpy as np

from ._align import aligned_empty

__all__ = ["Workspace", "take"]

#: buffers smaller than this are not kept (the allocator's free lists serve them without page faults)
_MIN_BYTES = 32 * 1024
#: shapes kept per name
_PER_NAME = 2
#: bytes a workspace keeps at most (least recently used buffers are let go beyond it; a larger single buffer is
#: never kept): the process tuning of the ``rnnlab`` command kept up to 512 MB of freed memory in the heap too
MAX_BYTES = 512 * 1024 * 1024


def _holders(slot: OrderedDict, key) -> tuple[int, int]:
    """Reference counts of the kept array ``slot[key]`` and of the raw memory under it, as seen from here."""
    arr = slot[key]
    base = arr.base
    return sys.getrefcount(arr), (0 if base is None else sys.getrefcount(base))


def _calibrate() -> tuple[int, int]:
    """The counts of a buffer that nothing else holds (measured, not assumed: they depend on the interpreter)."""
    slot = OrderedDict(k=aligned_empty((8, 8), np.float64))
    return _holders(slot, "k")


#: what :func:`_holders` reports for a free buffer
_FREE = _calibrate()


class Workspace:
    """Reusable buffers of one network (see the module docstring)."""

    def __init__(self) -> None:
        self._bufs: dict[str, OrderedDict] = {}
        self._used: dict[tuple, int] = {}  # (name, key) -> when last handed out
        self._clock = 0
        self._lock = threading.Lock()  # two threads running passes of one network never get the same buffer

    def __reduce__(self):
        return (Workspace, ())

    def __deepcopy__(self, memo):
        return Workspace()

    def __copy__(self):
        return Workspace()

    def clear(self) -> None:
        """Let go of every buffer (the memory returns once no trace holds it)."""
        self._bufs.clear()
        self._used.clear()

    @property
    def nbytes(self) -> int:
        """Bytes held (the buffers themselves, whether free or in use)."""
        return sum(a.nbytes for d in self._bufs.values() for a in d.values())

    def empty(self, name: str, shape, dtype) -> np.ndarray:
        """An uninitialised 64-byte aligned C-contiguous array: the kept one if it is free, else a new one (kept)."""
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        nbytes = dtype.itemsize * math.prod(shape)  # (np.prod of a tuple: 3 µs a call)
        if nbytes < _MIN_BYTES:
            return aligned_empty(shape, dtype)
        with self._lock:
            return self._take(name, (shape, dtype.str), shape, dtype, nbytes)

    def _take(self, name, key, shape, dtype, nbytes):
        slot = self._bufs.get(name)
        if slot is None:
            slot = self._bufs[name] = OrderedDict()
        if key in slot and _holders(slot, key) == _FREE:
            slot.move_to_end(key)
            self._clock += 1
            self._used[(name, key)] = self._clock
            return slot[key]
        new = aligned_empty(shape, dtype)
        if nbytes > MAX_BYTES:
            return new
        slot[key] = new
        slot.move_to_end(key)
        self._clock += 1
        self._used[(name, key)] = self._clock
        while len(slot) > _PER_NAME:
            old, _ = slot.popitem(last=False)
            self._used.pop((name, old), None)
        total = self.nbytes
        for (n, k), _ in sorted(self._used.items(), key=lambda kv: kv[1]):
            if total <= MAX_BYTES:
                break
            if (n, k) == (name, key):
                continue
            total -= self._bufs[n].pop(k).nbytes
            del self._used[(n, k)]
        return new

    def zeros(self, name: str, shape, dtype) -> np.ndarray:
        out = self.empty(name, shape, dtype)
        out.fill(0)
        return out


def take(ws: Workspace | None, name: str, shape, dtype, zero: bool = False) -> np.ndarray:
    """``ws.empty`` (or ``ws.zeros``), or a fresh array when there is no workspace."""
    if ws is None:
        return np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
    return ws.zeros(name, shape, dtype) if zero else ws.empty(name, shape, dtype)
