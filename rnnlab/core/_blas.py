"""The number of BLAS threads rnnlab's own passes use, set for the calling thread only.

rnnlab's products are small ((32 × 128)·(128 × 128) per step): a second OpenBLAS thread does not pay for its
synchronisation, and on a busy machine it costs a lot (measured on the 2-core development machine with another
process running: the bench's vanilla BPTT step 24 ms with two threads, 13 ms with one; the LSTM 125 ms against
50 ms). The ``rnnlab`` command and the app set one thread for the whole process (``rnnlab/_runtime.py``), but a
notebook that imports ``rnnlab.core`` keeps NumPy's default (one thread per core). So the forward and backward
passes run inside :func:`blas_threads`, which uses OpenBLAS's per-thread setting
(``openblas_set_num_threads_local``, OpenBLAS ≥ 0.3.27, shipped with NumPy's wheels): the caller's other NumPy
work keeps its own thread count, and the previous value is restored on exit. Where NumPy's BLAS is not OpenBLAS
(or too old), this does nothing. The heatmap's sweep is left to the process's threads: its products are large
((rows × S)·(S × S) with thousands of rows), and a second thread made it faster on an idle machine (0.66 s
against 1.05 s for T = H = 128).

:func:`set_core_threads` changes the count (``RNNLAB_CORE_THREADS`` in the environment sets the initial value; 0
leaves the BLAS alone).
"""

from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager

__all__ = ["blas_threads", "set_core_threads", "core_threads", "set_process_threads", "blas_library", "blas_symbol"]

_lib = None  # (path, set_local, set_global, get) once looked up; False when there is none
_threads = 1


def _read_env() -> int:
    try:
        return max(0, int(os.environ.get("RNNLAB_CORE_THREADS", "1")))
    except ValueError:
        return 1


_threads = _read_env()


def blas_library():
    """``(path, set_local, set_global, get)`` of the OpenBLAS that NumPy loaded, or None."""
    global _lib
    if _lib is None:
        _lib = _find() or False
    return _lib or None


def _find():
    if not sys.platform.startswith("linux"):
        return None
    import numpy  # noqa: F401  (loads the BLAS)

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        local = _sym(lib, ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_"))
        setg = _sym(lib, ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                          "openblas_set_num_threads"))
        get = _sym(lib, ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                         "openblas_get_num_threads"))
        if local is not None:
            local.argtypes, local.restype = [ctypes.c_int], ctypes.c_int
            if setg is not None:
                setg.argtypes, setg.restype = [ctypes.c_int], None
            if get is not None:
                get.argtypes, get.restype = [], ctypes.c_int
            return path, local, setg, get
    return None


def blas_symbol(names) -> tuple[str, int] | None:
    """``(name, address)`` of the first of ``names`` that NumPy's OpenBLAS exports, or None (the compiled path's
    ``cblas_?gemm``)."""
    lib = blas_library()
    if lib is None:
        return None
    try:
        handle = ctypes.CDLL(lib[0])
    except OSError:
        return None
    for n in names:
        f = getattr(handle, n, None)
        if f is not None:
            return n, ctypes.cast(f, ctypes.c_void_p).value
    return None


def _sym(lib, names):
    for n in names:
        f = getattr(lib, n, None)
        if f is not None:
            return f
    return None


def core_threads() -> int:
    """The BLAS threads of rnnlab's passes (0: whatever the process uses)."""
    return _threads


def set_core_threads(n: int) -> None:
    """Use ``n`` BLAS threads in rnnlab's passes (0: leave the BLAS alone)."""
    global _threads
    _threads = max(0, int(n))


def set_process_threads(n: int) -> bool:
    """Set OpenBLAS's process-wide thread count (the bench's comparison of 1 and 2 threads). True if it could."""
    lib = blas_library()
    if lib is None or lib[2] is None:
        return False
    lib[2](int(n))
    return True


@contextmanager
def blas_threads(n: int | None = None):
    """Run the block with ``n`` (default :func:`core_threads`) BLAS threads in this thread, then restore."""
    n = _threads if n is None else n
    lib = blas_library() if n else None
    if lib is None:
        yield
        return
    prev = lib[1](int(n))
    try:
        yield
    finally:
        lib[1](prev)
