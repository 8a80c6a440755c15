"""Process-wide tuning applied by the ``rnnlab`` command and the app (never on ``import rnnlab``).

* BLAS threads, per context (set before NumPy loads, unless the user set ``OPENBLAS_NUM_THREADS`` etc.):
  - the app, its training process and sweep workers: one. The app trains beside the UI thread, and a
    multi-threaded OpenBLAS under contention was measured 50× slower (eigvals of a 100×100 matrix: 190 ms
    instead of 4 ms); a sweep runs one worker per core.
  - headless commands (``run``, ``inspect``, ``compare``, ``bench``): the count ``rnnlab bench`` measured faster
    on this machine and recorded in ``threads.json`` in rnnlab's configuration folder (:func:`recorded_threads`;
    ``RNNLAB_THREADS`` overrides it), else one. On the 2-core development machine two threads were faster while
    the other core was idle (the vanilla step 10.4 against 12.5 ms) and two to three times slower while another
    process ran (24 against 13 ms): a measurement records the state of the machine at the time.
  The numeric core's passes use :func:`rnnlab.core._blas.blas_threads` (``RNNLAB_CORE_THREADS``, set here).
* glibc ``mallopt``: keep freed memory in the heap instead of returning multi-megabyte blocks to the kernel.
  The numeric core no longer depends on it (each network keeps its buffers: :mod:`rnnlab.core.workspace`); it
  still spares the app's other large temporaries their page faults.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

__all__ = ["tune_process", "SET_HERE", "HEADLESS_COMMANDS", "threads_file", "recorded_threads",
           "available_memory", "proc_kib"]

#: the commands that open no window and run no pool: they may use the recorded thread count
HEADLESS_COMMANDS = frozenset({"run", "inspect", "compare", "bench"})

_done = False
#: the environment variables that :func:`tune_process` set (those the user had set are not in it)
SET_HERE: set[str] = set()


def threads_file() -> Path:
    """Where ``rnnlab bench`` records the faster headless thread count."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "rnnlab" / "threads.json"


def recorded_threads() -> int | None:
    """The headless thread count: ``RNNLAB_THREADS``, else the one recorded by ``rnnlab bench``, else None."""
    env = os.environ.get("RNNLAB_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            return None
    try:
        n = json.loads(threads_file().read_text(encoding="utf-8")).get("headless")
    except (OSError, ValueError, AttributeError):
        return None
    return int(n) if isinstance(n, int) and 1 <= n <= 256 else None


def tune_process(headless: bool = False) -> None:
    """Apply the tuning once (idempotent; harmless where glibc is absent). ``headless``: a command without a
    window or a pool (its thread count may be the recorded one)."""
    global _done
    if _done:
        return
    _done = True
    n = (recorded_threads() or 1) if headless else 1
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RNNLAB_CORE_THREADS"):
        if var not in os.environ:
            os.environ[var] = str(n)
            SET_HERE.add(var)
    if sys.platform.startswith("linux") and os.environ.get("RNNLAB_NO_MALLOPT") is None:
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
            libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024)
            libc.mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass


def proc_kib(path: str, key: str) -> int | None:
    """Bytes of a ``key:  N kB`` line of a Linux /proc file (``/proc/meminfo``, ``/proc/<pid>/status``), or None
    when there is no such file or line."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> int | None:
    """Bytes of memory a new allocation can use without swapping (Linux: ``MemAvailable``; elsewhere the physical
    memory, or None when unknown)."""
    have = proc_kib("/proc/meminfo", "MemAvailable")
    if have is not None:
        return have
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
