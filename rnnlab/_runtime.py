"""Process-wide tuning applied by the ``rnnlab`` command and the app (never on ``import rnnlab``).

* One BLAS thread unless the user chose otherwise (set before NumPy loads): the matrices are small, the app
  trains in a worker beside the UI thread, and a multi-threaded OpenBLAS under contention was measured 50×
  slower (eigvals of a 100×100 matrix: 190 ms instead of 4 ms).
* glibc ``mallopt``: keep freed memory in the heap instead of returning multi-megabyte blocks to the kernel.
  Every fresh (T, B, H) array otherwise page-faults on first touch; measured: one BPTT step of the bench
  network 19.4 ms → 12.1 ms, ``1 − h²`` over (100, 32, 128) 2.4 ms → 0.55 ms.
"""

from __future__ import annotations

import os
import sys

__all__ = ["tune_process", "available_memory"]

_done = False


def tune_process() -> None:
    """Apply the tuning once (idempotent; harmless where glibc is absent)."""
    global _done
    if _done:
        return
    _done = True
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if sys.platform.startswith("linux") and os.environ.get("RNNLAB_NO_MALLOPT") is None:
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
            libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024)
            libc.mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)
        except (OSError, AttributeError):  # pragma: no cover - not glibc
            pass


def available_memory() -> int | None:
    """Bytes of memory a new allocation can use without swapping (Linux: ``MemAvailable``; elsewhere the physical
    memory, or None when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
