"""Where the runs of a sweep execute: a local process pool (started with ``spawn``, one BLAS thread per worker) or
a Dask cluster (a ``distributed.Client``), behind four calls (:func:`submit`, :func:`as_completed`,
:func:`cancel`, :func:`end_pool`). Any ``concurrent.futures.Executor`` works too. No NumPy, no Qt.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from typing import Iterable

__all__ = ["local_pool", "submit", "as_completed", "cancel", "end_pool", "is_dask", "limit_blas_threads",
           "worker_init"]

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> None:
    """One BLAS thread in a worker process (before NumPy loads if possible; via threadpoolctl if it is there).
    Nothing is changed in the caller's own process (a thread pool there, or no pool)."""
    import multiprocessing

    if multiprocessing.parent_process() is None:
        return
    for var in BLAS_VARS:
        os.environ.setdefault(var, "1")
    try:
        from threadpoolctl import threadpool_limits  # optional; present on most Dask installs
    except ImportError:
        return
    threadpool_limits(1)


def worker_init() -> None:
    """Initializer of the local pool's worker processes: one BLAS thread, and Ctrl-C is the parent's business
    (it cancels the sweep and ends the workers; a KeyboardInterrupt traceback per worker helps nobody)."""
    import signal

    for var in BLAS_VARS:
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def is_dask(executor) -> bool:
    """Is ``executor`` a ``distributed.Client``?"""
    return type(executor).__module__.split(".")[0] == "distributed"


def submit(executor, fn, run, steps: int):
    """Submit ``fn(run.experiment, steps)`` for one planned run; returns its future."""
    if is_dask(executor):
        # pure=False: a fresh task per run (Dask would otherwise hash the arguments, which is fine but slow)
        return executor.submit(fn, run.experiment, steps, pure=False, key=f"rnnlab-run-{run.index}-"
                               f"{os.getpid()}-{time.monotonic_ns()}")
    return executor.submit(fn, run.experiment, steps)


def as_completed(executor, futures: list):
    """The futures in the order they finish."""
    if is_dask(executor):
        from distributed import as_completed

        return as_completed(futures)
    return cf.as_completed(futures)


def cancel(executor, futures: Iterable) -> None:
    """Cancel the futures that have not finished."""
    pending = [f for f in futures if not f.done()]
    if is_dask(executor):
        if pending:
            executor.cancel(pending)
        return
    for f in pending:
        f.cancel()


def local_pool(workers: int | None = None) -> cf.ProcessPoolExecutor:
    """The default executor: ``workers`` processes (default ``os.cpu_count()``), started with ``spawn`` (no Qt or
    thread state inherited), one BLAS thread each, Ctrl-C ignored in the workers."""
    import multiprocessing

    n = workers or os.cpu_count() or 1
    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=worker_init)


def end_pool(pool: cf.ProcessPoolExecutor, interrupted: bool) -> None:
    """Shut down a pool this module started; after an interruption, end its workers (by process id) at once
    instead of waiting for the runs in progress."""
    if interrupted:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
    pool.shutdown(wait=True, cancel_futures=True)
