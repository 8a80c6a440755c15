"""The compiled path: the loops over time of the LSTM, the GRU, the vanilla cell, the cells with leaky units, the IndRNN
and the LRU in C (``rnnlab/core/_kernels.c``), called through ctypes.

NumPy spends most of an LSTM step's non-product time in the overhead of its calls (about nine elementwise
operations per step forward, seven backward, each on only B·H = 4,096 values), not in arithmetic. The compiled
loop makes one call per run of steps; its matrix products go to the very ``cblas_?gemm`` NumPy's own ``matmul``
calls (looked up in the OpenBLAS NumPy loaded, see :mod:`._blas`), and between them it does the elementwise work
of the cells' NumPy loops operation for operation (a product and a sum may become one fused multiply–add), so it
gives their results to the rounding of tanh and σ (its own vectorisable ones), of fused multiply–adds and of the
order of a sum.
ctypes releases the GIL during the call, so a worker thread training through it leaves the window's thread free.

It is used when all of these hold, and otherwise the pure-NumPy path runs (same results, same tests):

* the extension was built (``pip install`` compiles it when a C compiler is present; the frozen bundle has it);
* NumPy's BLAS is an OpenBLAS found by :mod:`._blas` (Linux), with a ``cblas_sgemm``/``cblas_dgemm``;
* the cell has a compiled loop: the LSTM and both GRU variants with tanh; with any activation the vanilla cell (and
  the orthogonal cell, which keeps its step), the leaky-integrator cell, the echo state network, the antisymmetric
  cell, the IndRNN and the LRU;
* the CPU runs the loops at 256-bit vectors or more (AVX2, AVX-512: :func:`simd_bits`);
* :func:`mode` allows it: "auto" (the default) uses it for the dtypes where it was measured faster
  (:data:`FASTER`: both); "on" for every dtype it can run; "off" never (the tests run both paths).
  ``RNNLAB_COMPILED=off`` (or ``on``) in the environment sets the mode at start.

Measured (``rnnlab bench``, B = 32, T = 100, H = 128): see docs/cells.md and the README's performance table.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

__all__ = ["kernels", "mode", "set_mode", "using", "available", "why_not", "simd_bits", "tanh", "sig2", "CHUNK",
           "FASTER", "steps_per_call", "run_steps", "row_threads", "over_rows", "RowSums"]

#: most steps per compiled call (between two of them, :func:`~rnnlab.core._interrupt.checkpoint` runs, so that the
#: app can abandon a pass)
CHUNK = 16
#: most floating-point operations per compiled call: about a millisecond, so that a Pause is answered as fast as with
#: a checkpoint every step (at H = 2048 one LSTM step alone is about 10⁹)
MAX_FLOPS_PER_CALL = 1e8


def steps_per_call(flops_per_step: float) -> int:
    """Steps per compiled call for a step of ``flops_per_step``: :data:`CHUNK`, fewer for large steps (at least 1)."""
    return max(1, min(CHUNK, int(MAX_FLOPS_PER_CALL // max(1.0, flops_per_step))))


#: the dtypes the compiled path is used for by default: where it was measured faster (the bench's LSTM step, thread
#: CPU time, median of 31: float32 17.5 ms against NumPy's 22.4, float64 37.5 against 45.2)
FASTER = frozenset({"float32", "float64"})

#: narrowest vectors (bits) at which "auto" uses the compiled path: at SSE2's 128 bits its float64 LSTM step was
#: slower than NumPy's (50.6 ms against 47.0) and the float32 one no faster (22.3 against 23.2); with AVX2 19.1
#: against 23.2, with AVX-512 17.4
MIN_SIMD_BITS = 256

#: fewest batch rows per thread for the two-thread split of :func:`over_rows`
MIN_ROWS = 4

_MODES = ("auto", "on", "off")
_ALIASES = {"1": "auto", "yes": "auto", "true": "auto", "0": "off", "no": "off", "false": "off"}


def _env_mode() -> str:
    v = os.environ.get("RNNLAB_COMPILED", "auto").strip().lower()
    v = _ALIASES.get(v, v)
    return v if v in _MODES else "auto"


_mode = _env_mode()
_state = None  # (lib, {dtype: (gemm address, ilp64)}) once loaded; False if unavailable
_simd = 0  # the loops' vector width on this CPU, once loaded
_why = ""


def mode() -> str:
    """"auto" (the compiled path where it is faster: :data:`FASTER`), "on" (for every dtype it can run: the tests
    run the float64 checks through it) or "off" (pure NumPy)."""
    return _mode


def set_mode(m: str) -> None:
    """Set :func:`mode` for the whole process."""
    global _mode
    if m not in _MODES:
        raise ValueError(f"compiled mode must be one of {', '.join(_MODES)}, got {m!r}")
    _mode = m


@contextmanager
def using(m: str) -> Iterator[None]:
    """Run the block in :func:`mode` ``m``, then restore (the tests run both paths)."""
    prev = _mode
    set_mode(m)
    try:
        yield
    finally:
        set_mode(prev)


def _load():
    global _state, _why, _simd
    if _state is not None:
        return _state
    _state = False
    try:
        from . import _kernels  # the built extension (absent when no C compiler was found at install)

        path = _kernels.__file__
    except ImportError as exc:
        # rnnlab imported from a source tree (the tests in a checkout after ``pip install .``): the library the
        # install built is in the installed package, and the digest check below says whether it fits this source
        path = _installed_library()
        if path is None:
            _why = f"the compiled kernels are not built ({exc})"
            return _state
    from ._blas import blas_library, blas_symbol

    lib_info = blas_library()
    if lib_info is None:
        _why = "NumPy's BLAS is not an OpenBLAS rnnlab can find"
        return _state
    gemms = {}
    for dt, names in (("float32", ("scipy_cblas_sgemm64_", "cblas_sgemm64_", "cblas_sgemm")),
                      ("float64", ("scipy_cblas_dgemm64_", "cblas_dgemm64_", "cblas_dgemm"))):
        found = blas_symbol(names)
        if found is not None:
            name, addr = found
            gemms[dt] = (addr, name.endswith("64_"))
    if not gemms:
        _why = "NumPy's OpenBLAS has no cblas_sgemm/cblas_dgemm"
        return _state
    lib = ctypes.CDLL(path)
    stale = _stale(lib)
    if stale:
        _why = stale
        return _state
    lib.rnnlab_kernels_simd.restype = ctypes.c_int
    i64, ptr, cint = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
    for suf in ("f32", "f64"):
        f = getattr(lib, f"rnnlab_lstm_forward_{suf}")
        f.argtypes = [i64] * 8 + [ptr, i64, i64] + [ptr] * 4 + [ptr, cint]
        f.restype = cint
        b = getattr(lib, f"rnnlab_lstm_backward_{suf}")
        b.argtypes = [i64] * 8 + [ptr] * 3 + [i64, i64] + [ptr] * 7 + [i64, i64, cint, ptr, cint]
        b.restype = cint
    for suf in ("f32", "f64"):
        f = getattr(lib, f"rnnlab_rnn_forward_{suf}")
        f.argtypes = [i64] * 6 + [ptr] * 5 + [cint] + [ptr] * 5 + [ptr, cint]
        f.restype = cint
        b = getattr(lib, f"rnnlab_rnn_backward_{suf}")
        b.argtypes = [i64] * 6 + [ptr] * 10 + [cint, ptr, cint]
        b.restype = cint
    for suf in ("f32", "f64"):
        f = getattr(lib, f"rnnlab_gru_forward_{suf}")
        f.argtypes = [i64] * 7 + [cint] + [ptr] * 6 + [ptr, cint]
        f.restype = cint
        b = getattr(lib, f"rnnlab_gru_backward_{suf}")
        b.argtypes = [i64] * 7 + [cint] + [ptr] * 5 + [i64, i64] + [ptr] * 5 + [ptr, i64, ptr] + [cint, ptr, cint]
        b.restype = cint
    for suf in ("f32", "f64"):
        f = getattr(lib, f"rnnlab_lru_forward_{suf}")
        f.argtypes = [i64] * 6 + [ptr] * 4
        f.restype = cint
        b = getattr(lib, f"rnnlab_lru_backward_{suf}")
        b.argtypes = [i64] * 6 + [ptr] * 6 + [cint]
        b.restype = cint
    for name in ("rnnlab_tanh_f32", "rnnlab_sig2_f32", "rnnlab_tanh_f64", "rnnlab_sig2_f64"):
        getattr(lib, name).argtypes = [ptr, ptr, i64]
        getattr(lib, name).restype = None
    _state = (lib, gemms)
    _simd = int(lib.rnnlab_kernels_simd())  # (asked once: available() runs several times per pass)
    return _state


def _installed_library() -> str | None:
    """The path of the kernels' library in the installed rnnlab distribution, or None."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        found = [f for f in files("rnnlab") or () if f.name.startswith("_kernels.") and f.suffix in (".so", ".pyd")
                 and f.parent.as_posix() == "rnnlab/core"]
    except PackageNotFoundError:
        return None
    for f in found:
        p = f.locate()
        if p.is_file():
            return str(p)
    return None


def _stale(lib) -> str:
    """Why the library does not match the C source beside it (an editable install after the source changed), or ""
    (also when there is no source to compare with: an installed wheel keeps it, the frozen bundle does not)."""
    import hashlib
    from pathlib import Path

    src = Path(__file__).with_name("_kernels.c")
    try:
        digest = int(hashlib.sha256(src.read_bytes()).hexdigest()[:15], 16)
    except OSError:
        return ""
    lib.rnnlab_kernels_source.restype = ctypes.c_uint64
    if lib.rnnlab_kernels_source() != digest:
        return "the compiled kernels were built from another version of _kernels.c (run pip install -e . again)"
    return ""


def kernels():
    """``(ctypes library, {dtype name: (gemm address, ilp64)})``, or None when the compiled path cannot run."""
    return _load() or None


def why_not() -> str:
    """Why :func:`kernels` is None ("" when it is not)."""
    _load()
    return _why


_NAMES = {"f": "float32", "d": "float64"}


def available(dtype) -> bool:
    """True when the compiled path is to be used for arrays of ``dtype`` (by :func:`mode`) and can run."""
    if _mode == "off":
        return False
    name = _NAMES.get(np.dtype(dtype).char)  # (dtype.name is a Python property, several µs a call)
    if name is None:
        return False
    if _mode == "auto" and name not in FASTER:
        return False
    k = _load()
    if not k or name not in k[1]:
        return False
    return _mode == "on" or simd_bits() >= MIN_SIMD_BITS


def simd_bits() -> int:
    """The vector width (bits) of the compiled loops on this CPU (0: no compiled kernels)."""
    return _simd if _load() else 0


def _elementwise(name: str, x: np.ndarray, dtype) -> np.ndarray:
    k = _load()
    if not k:
        raise RuntimeError(why_not())
    x = np.ascontiguousarray(x, dtype=dtype)
    y = np.empty_like(x)
    getattr(k[0], name)(x.ctypes.data, y.ctypes.data, x.size)
    return y


def tanh(x: np.ndarray) -> np.ndarray:
    """The compiled tanh the kernels use (float32 or float64, by ``x``'s dtype; others as float64), for the
    tests."""
    dt = np.float32 if np.asarray(x).dtype == np.float32 else np.float64
    return _elementwise("rnnlab_tanh_f32" if dt == np.float32 else "rnnlab_tanh_f64", x, dt)


def sig2(x: np.ndarray) -> np.ndarray:
    """The compiled gate σ(2x) = ½ tanh(x) + ½ the LSTM and GRU kernels use (dtype as :func:`tanh`), for the tests."""
    dt = np.float32 if np.asarray(x).dtype == np.float32 else np.float64
    return _elementwise("rnnlab_sig2_f32" if dt == np.float32 else "rnnlab_sig2_f64", x, dt)


# --- two threads over the batch's rows ------------------------------------------------------------------------
_pool = None
_pool_lock = threading.Lock()


#: least work a step of a pass (floating-point operations in float32; float64's count double) for which
#: :func:`run_steps` splits the batch's rows over two threads when the core may use two: below it the second
#: thread's hand-over cost more than its half saved (float32, T = 100, whole bench steps at one and at two threads,
#: blocks of 6 × 4: vanilla H = 32, B = 8 0.58 against 1.12 ms, H = 64, B = 32 2.1 against 2.9, H = 128, B = 32 6.5
#: against 7.1 (its forward pass 1.05 · 10⁶ a step), H = 256 18.8 against 13.7; LSTM H = 64, B = 32 6.2 against 6.3
#: (1.2 · 10⁶), H = 128 15.8 against 10.1 (4.5 · 10⁶); the IndRNN, whose loop is elementwise, 1.75 against 2.04)
MIN_SPLIT_FLOPS = 2e6


def row_threads(B: int, flops_per_step: float = math.inf, itemsize: int = 4) -> int:
    """Threads :func:`over_rows` uses for a batch of B rows and a pass of ``flops_per_step`` on values of
    ``itemsize`` bytes: 2 when rnnlab's core may use two (:func:`~rnnlab.core._blas.core_threads`: headless commands
    on a machine where two were measured faster), each gets at least :data:`MIN_ROWS` rows and the step has at
    least :data:`MIN_SPLIT_FLOPS` of work, else 1."""
    from ._blas import core_threads

    return 2 if (core_threads() >= 2 and B >= 2 * MIN_ROWS
                 and flops_per_step * itemsize / 4 >= MIN_SPLIT_FLOPS) else 1


def _worker():
    global _pool
    with _pool_lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(1, thread_name_prefix="rnnlab-rows")
        return _pool


def over_rows(fn: Callable[[int, int, threading.Event | None], None], B: int, n: int | None = None) -> int:
    """Run ``fn(b0, b1, stop)`` over the rows 0 ≤ b < B: in this thread, or split in two halves, the second in a
    worker thread (the compiled calls release the GIL, so both run at once), each with one BLAS thread. Rows are
    independent in the compiled forward and backward loops, so the halves need no synchronisation. ``stop`` (None
    when there is one thread) is set when this thread's half raised (an interruption): the other half then ends at
    its next chunk, and the exception propagates once it has. ``n``: the threads (default :func:`row_threads`).
    Returns the number of threads used."""
    n = row_threads(B) if n is None else n
    if n == 1:
        fn(0, B, None)
        return 1
    from ._blas import blas_threads

    h = B // 2
    stop = threading.Event()

    def second():
        with blas_threads(1):
            fn(h, B, stop)

    fut = _worker().submit(second)
    try:
        with blas_threads(1):
            fn(0, h, stop)
    except BaseException:
        stop.set()
        try:
            fut.result()
        except Exception:  # (the first exception is the one reported)
            pass
        raise
    fut.result()
    return 2


class RowSums:
    """A sum that the compiled loops form over the batch's rows, such as a weight gradient summed step by step: one
    buffer ``name`` of ``shape`` (from the pass's cache), and a second one for the second thread when
    :func:`over_rows` uses two (taken when that thread first asks for it), each written by its thread's first step
    and added to after. :meth:`ptr` is the buffer of the thread whose rows start at b0; :meth:`total` adds the
    second to the first and returns it."""

    def __init__(self, cache, name: str, shape, B: int):
        self.first = cache.buf(name, shape)
        self.second = None
        self._take = lambda: cache.buf(name + ".2", shape)

    def ptr(self, b0: int) -> int:
        if b0 == 0:
            return self.first.ctypes.data
        if self.second is None:
            self.second = self._take()
        return self.second.ctypes.data

    def total(self) -> np.ndarray:
        if self.second is not None:
            self.first += self.second
        return self.first


def run_steps(call: Callable[[int, int, int, int, int], object], T: int, B: int, flops_per_step: float,
              backward: bool = False, itemsize: int = 4) -> None:
    """Run a compiled loop over the T steps of the batch's B rows: ``call(a, b, b0, b1, first)`` does the steps
    a ≤ t < b forward (``backward``: t_hi = a ≥ t ≥ b = t_lo) of the rows b0 ≤ b < b1, :func:`steps_per_call` steps
    a call, with :func:`~rnnlab.core._interrupt.checkpoint` between calls; ``first`` is 1 on a thread's first call.
    The rows run in one thread or two (:func:`over_rows`, :func:`row_threads` for a step of ``flops_per_step`` on
    values of ``itemsize`` bytes)."""
    from ._interrupt import checkpoint

    k = steps_per_call(flops_per_step)
    starts = range(T - 1, -1, -k) if backward else range(0, T, k)

    def rows(b0, b1, stop):
        first = 1
        for a in starts:
            checkpoint()
            if stop is not None and stop.is_set():
                return
            call(a, max(0, a - k + 1) if backward else min(T, a + k), b0, b1, first)
            first = 0

    over_rows(rows, B, row_threads(B, flops_per_step, itemsize))
