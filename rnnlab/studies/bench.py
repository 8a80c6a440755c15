"""Speed figures of the numeric core and the trainer (``rnnlab bench`` prints them as one JSON object).

Figures (milliseconds are medians of repeats):

* ``bptt_ms``: one full forward + backward pass (loss and every gradient) of a vanilla tanh RNN,
  B = 32, T = 100, H = 128, I = O = 8;
* ``floor_ms``: the 2·T recurrent matrix products (B×H)·(H×H) alone, the unavoidable part of ``bptt_ms``;
  ``bptt_over_floor`` is their ratio (target ≤ 1.5);
* ``heatmap_ms``: the exact ∂h_t/∂h_k heatmap, T = 128, H = 128, with its FLOP rate ``heatmap_gflops`` and
  ``heatmap_efficiency`` = that rate ÷ the rate of one (H×H)·(H×H) product (``gemm_gflops``; target ≥ 0.6);
* ``heatmap_estimated_ms``: the same heatmap estimated with 16 random probes;
* ``heatmap_indrnn_ms``: the exact heatmap of an IndRNN (diagonal step Jacobians, H = 32) at T = 10,000, every
  entry, and ``heatmap_indrnn_every10th_ms`` every 10th row (the window's plan at that length);
* ``train_step_ms``: one trainer step (no diagnostics) of the same network on a random task, against
  ``train_raw_bptt_ms``, the bare forward + backward pass on its batch; ``train_step_over_bptt`` is their ratio
  (target ≤ 1.1); ``snapshot_expensive_ms``: a snapshot with every diagnostic.
* ``cells.<arch>.<dtype>``: every registered cell (and the GRU's reset-after variant, ``gru_reset_after``) in
  float32 and float64, B = 32, T = 100, H = 128, I = O = 8, softmax readout at every step, forward + loss + full
  BPTT: ``bptt_ms``, ``floor_ms`` (T times the cell's own recurrent products, forward and backward, as its passes
  do them: :meth:`~rnnlab.core.cells.Cell.recurrent_products`; for the IndRNN and the LRU, whose recurrences are
  diagonal, 2T elementwise products as NumPy calls, which their compiled loops do inside a row pass) and
  ``bptt_over_floor`` (target ≤ 2); ``path``: "compiled" where the compiled loops ran (rnnlab/core/_compiled.py:
  every registered cell, the LSTM and the GRUs with φ = tanh only), with ``numpy_ms`` the pure-NumPy
  path's time beside them; ``compiled``: the kernels' mode and whether they are built; with
  ``--compare-torch``, ``torch_ms`` (PyTorch eager, one thread: ``nn.RNN``/``nn.LSTM``/``nn.GRU``, the other cells
  written as a loop of PyTorch operations, see :mod:`._torch_ref`) and ``speedup`` = torch_ms / bptt_ms (target
  ≥ 1.2), measured interleaved with rnnlab's so that a busy machine slows both alike;
* ``library_path``: the vanilla float64 and LSTM float32 steps measured in a fresh ``python`` that imports
  ``rnnlab.core`` the way a notebook does (no ``rnnlab`` command, no process tuning, NumPy's default threads),
  against the same in this process (``*_over_command``; target ≤ 1.1);
* ``threads``: the vanilla float64 and LSTM float32 steps with one and with two core threads (BLAS threads; for
  the compiled loops, the batch's rows split over two threads of one BLAS thread each), the default rnnlab uses
  (``core_threads``), and with ``--compare-torch`` PyTorch at its default thread count;
* ``heatmaps.<arch>``: the exact ∂s_t/∂s_k heatmap of each cell (T = 64, H = 64, float64) and
  ``over_scaled_vanilla`` = its time ÷ (the vanilla's × (S/H)³) (target ≤ 1.5 for the gated cells);
* ``startup``: seconds from starting ``python -m rnnlab`` to its window drawn (offscreen, median of 5; target
  ≤ 1.2 s from source), and for a frozen bundle when ``--frozen PATH`` names its executable (target ≤ 2 s).

The app's figures (``rnnlab bench --gui``) come from :mod:`rnnlab.gui.bench` and are passed in as ``extra``.
"""

from __future__ import annotations

import json
import platform
import time
from typing import Callable

import numpy as np

__all__ = ["run_bench", "median_ms", "interleaved_ms", "blocked_ms", "bench_core", "bench_training", "bench_cells",
           "bench_library_path", "bench_threads", "thread_choice", "bench_heatmaps", "bench_startup", "print_bench",
           "CELL_VARIANTS"]


def median_ms(f: Callable[[], object], repeats: int = 15, warmup: int = 2) -> float:
    """Median wall time of ``f()`` in milliseconds."""
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts) * 1e3)


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int = 15, warmup: int = 2) -> dict[str, float]:
    """Median wall time (ms) of each function, the functions called in turn within every repeat (so that a load
    that comes and goes on a shared machine falls on all of them alike)."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    ts: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v) * 1e3) for k, v in ts.items()}


def blocked_ms(fns: dict[str, Callable[[], object]], repeats: int = 11, rounds: int = 2, warmup: int = 2,
               pause: float = 0.3) -> dict[str, float]:
    """Median wall time (ms) of each function, measured in blocks (``rounds`` blocks of ``repeats`` calls each,
    the blocks of the functions in turn, a ``pause`` between blocks). For multi-threaded runs: interleaving calls
    of two thread pools (OpenBLAS's, PyTorch's OpenMP threads, which spin for a while after each call) makes each
    one wait for the other, which measured PyTorch's two-thread vanilla step at 55 ms instead of 15."""
    ts: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            time.sleep(pause)  # (the other pool's threads go idle)
            for _ in range(warmup):
                f()
            for _ in range(repeats):
                t0 = time.perf_counter()
                f()
                ts[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v) * 1e3) for k, v in ts.items()}


#: the benchmarked cells: every registered cell, and the GRU's reset-after variant (PyTorch's and ONNX's GRU)
def _variants() -> dict[str, dict]:
    from ..core.cells import CELLS

    out = {name: {"arch": name} for name in CELLS}
    out["gru_reset_after"] = {"arch": "gru", "gru_reset_after": True}
    return out


CELL_VARIANTS = _variants()
#: the cell the others' heatmap cost is scaled against
VANILLA = next(iter(CELL_VARIANTS))


def _cell_net(key: str, H: int, I: int, dtype: str, seed: int = 0):
    from ..config import ModelConfig
    from ..core import build_network

    return build_network(ModelConfig(hidden_size=H, dtype=dtype, **CELL_VARIANTS[key]), I, I, "softmax",
                         np.random.default_rng(seed))


def _softmax_batch(T: int, B: int, I: int, dtype: str, seed: int = 1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, B, I)).astype(dtype), rng.integers(0, I, (T, B)), np.ones((T, B)))


def bench_cells(quick: bool = False, torch: bool = False, dtypes=("float32", "float64"),
                cells: list[str] | None = None) -> dict:
    """``cells.<arch>.<dtype>``: bptt_ms, floor_ms, bptt_over_floor, path ("compiled" or "numpy"; for the compiled
    ones also numpy_ms, the pure-NumPy path's time) and, with ``torch``, torch_ms and speedup; ``compiled``: the
    compiled kernels' mode and whether they are built."""
    from ..core import _compiled, loss_and_grads

    B, T, H, I = (8, 20, 32, 4) if quick else (32, 100, 128, 8)
    reps = 3 if quick else 15
    ref = None
    if torch:
        from . import _torch_ref as ref

        ref.set_threads(1)
    out: dict = {}
    for key in cells or CELL_VARIANTS:
        out[key] = {}
        for dtype in dtypes:
            net = _cell_net(key, H, I, dtype)
            x, y, mask = _softmax_batch(T, B, I, dtype)
            prod = net.cell.recurrent_products(net.params, B, dtype, np.random.default_rng(2))

            def floor(prod=prod):
                for _ in range(T):
                    prod()

            def bptt(net=net, x=x, y=y, mask=mask):
                net.cell.forget()  # (a pass as after a trainer's update: the expRNN's eigendecomposition redone)
                loss_and_grads(net, x, y, mask)

            fns = {"floor": floor, "bptt": bptt}
            compiled = net.cell.compiled(net.dtype)  # (the cells and dtypes the compiled path runs)
            if compiled:
                def numpy_path(net=net, x=x, y=y, mask=mask):
                    net.cell.forget()
                    with _compiled.using("off"):
                        loss_and_grads(net, x, y, mask)

                fns["numpy"] = numpy_path
            if ref is not None:
                step = ref.make_step(net, x, y)
                if step is not None:
                    fns["torch"] = step
            ms = interleaved_ms(fns, reps)
            r = {"bptt_ms": ms["bptt"], "floor_ms": ms["floor"], "bptt_over_floor": ms["bptt"] / ms["floor"],
                 "path": "compiled" if compiled else "numpy"}
            if compiled:
                r["numpy_ms"] = ms["numpy"]
            if "torch" in ms:
                r["torch_ms"] = ms["torch"]
                r["speedup"] = ms["torch"] / ms["bptt"]
            out[key][dtype] = r
    return {"cells": out, "compiled": {"mode": _compiled.mode(), "kernels": _compiled.kernels() is not None,
                                       "why_not": _compiled.why_not()}}


_LIBRARY_PROBE = """
import json, sys, time
import numpy as np
import rnnlab.core
from rnnlab.studies.bench import _cell_net, _softmax_batch
from rnnlab.core import loss_and_grads
steps = []
for key, dtype in json.loads(sys.argv[1]):
    net = _cell_net(key, 128, 8, dtype)
    x, y, mask = _softmax_batch(100, 32, 8, dtype)
    steps.append(lambda net=net, x=x, y=y, mask=mask: loss_and_grads(net, x, y, mask))
print("ready", flush=True)
for line in sys.stdin:  # "<case> <calls>": time that many calls, print their times (ms); the parent's turn meanwhile
    case, calls = map(int, line.split())
    ts = []
    for _ in range(calls):
        t0 = time.perf_counter()
        steps[case]()
        ts.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps(ts), flush=True)
"""

_LIBRARY_CASES = (("rnn", "float64"), ("lstm", "float32"))
#: seconds after which the library path's probe interpreter is ended (it takes about 5)
_PROBE_TIMEOUT_S = 600.0


def _clean_env() -> dict:
    """The environment of a plain ``python``: without the thread limits the ``rnnlab`` command sets."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS", "RNNLAB_CORE_THREADS")}
    return env


def bench_library_path(quick: bool = False) -> dict:
    """The same steps in a fresh interpreter that only imports ``rnnlab.core`` (a notebook) and in this process,
    in alternating blocks of a few calls each (the other process waits on a pipe meanwhile), so that a load that
    comes and goes on the machine falls on both alike: medians of 20 calls each, in ten rounds of two (measured one
    after the other, the ratio moved by ±10 % from run to run on the development machine; in five rounds of three,
    0.94–1.20 over seven runs on a machine of the same kind whose load came in bursts)."""
    import subprocess
    import sys
    import tempfile
    import threading

    from ..core import loss_and_grads

    rounds, block = (1, 3) if quick else (10, 2)
    cases = _LIBRARY_CASES[:1] if quick else _LIBRARY_CASES
    steps = []
    for key, dtype in cases:
        net = _cell_net(key, 128, 8, dtype)
        x, y, mask = _softmax_batch(100, 32, 8, dtype)
        steps.append(lambda net=net, x=x, y=y, mask=mask: loss_and_grads(net, x, y, mask))
    here: list[list[float]] = [[] for _ in cases]
    there: list[list[float]] = [[] for _ in cases]
    try:
        with tempfile.TemporaryFile("w+") as err, subprocess.Popen(
                [sys.executable, "-c", _LIBRARY_PROBE, json.dumps(cases)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=err, text=True, env=_clean_env()) as proc:
            watchdog = threading.Timer(_PROBE_TIMEOUT_S, proc.kill)  # (a probe that hangs ends; its answer is missing)
            watchdog.start()
            try:
                if proc.stdout.readline().strip() != "ready":
                    proc.wait(timeout=60)
                    err.seek(0)
                    raise ValueError((err.read().strip().splitlines() or ["no answer"])[-1])

                def probe(case: int, calls: int) -> list[float]:
                    proc.stdin.write(f"{case} {calls}\n")
                    proc.stdin.flush()
                    return [float(v) for v in json.loads(proc.stdout.readline())]

                for case, step in enumerate(steps):  # (warm-up, both sides)
                    probe(case, 2)
                    step(), step()
                for _ in range(rounds):
                    for case, step in enumerate(steps):
                        there[case] += probe(case, block)
                        for _ in range(block):
                            t0 = time.perf_counter()
                            step()
                            here[case].append((time.perf_counter() - t0) * 1e3)
            finally:
                watchdog.cancel()
                try:
                    proc.stdin.close()
                except OSError:  # (a probe that died: its pipe is broken)
                    pass
                proc.wait(timeout=60)
    except (subprocess.SubprocessError, ValueError, TypeError, IndexError, OSError) as exc:
        return {"library_path": {"error": f"the probe interpreter failed: {exc}"}}
    res: dict = {}
    for case, (key, dtype) in enumerate(cases):
        nb, cmd = float(np.median(there[case])), float(np.median(here[case]))
        res[f"{key}.{dtype}"] = {"notebook_ms": nb, "command_ms": cmd, "notebook_over_command": nb / cmd}
    return {"library_path": res}


def bench_threads(quick: bool = False, torch: bool = False, record: bool = False) -> dict:
    """One and two BLAS threads for the headless steps, and PyTorch at its default threads (with ``torch``).
    ``headless_choice``: :func:`thread_choice` (two threads when no step is slower at two and both together are at
    least 10 % faster); ``record`` writes it to rnnlab's ``threads.json``, which headless commands read
    (``rnnlab/_runtime.py``). Per step: ``default_ms`` at the threads in force for this run (``core_threads``) and
    ``choice_ms`` at the choice, with PyTorch's ``speedup_at_defaults`` and ``speedup_at_choice``."""
    from ..core import _blas, loss_and_grads

    # (four blocks of six calls each, in turn, so that a load that comes and goes within a minute falls on every
    # function more evenly than in two blocks of eleven, with which the LSTM's ratio to PyTorch at two threads moved
    # between 1.04 and 1.45 over fourteen runs)
    reps, rounds = (3, 2) if quick else (6, 4)
    before = _blas.core_threads()
    res: dict = {"core_threads": before, "openblas": bool(_blas.blas_library())}
    ref = None
    if torch:
        from . import _torch_ref as ref

        ref.set_threads(None)  # PyTorch's default
        res["torch_default_threads"] = ref.threads()
    for key, dtype in _LIBRARY_CASES[:1] if quick else _LIBRARY_CASES:
        net = _cell_net(key, 128, 8, dtype)
        x, y, mask = _softmax_batch(100, 32, 8, dtype)
        fns = {}
        for n in (1, 2):
            def f(n=n):
                _blas.set_core_threads(n)
                try:
                    loss_and_grads(net, x, y, mask)
                finally:
                    _blas.set_core_threads(before)
            fns[f"threads_{n}"] = f
        if ref is not None:
            step = ref.make_step(net, x, y)
            if step is not None:
                fns["torch_default"] = step
        ms = blocked_ms(fns, reps, rounds)  # (not interleaved: two thread pools in turn slow each other down)
        r = {f"{k}_ms": v for k, v in ms.items()}
        r["default_ms"] = ms[f"threads_{max(1, before) if before in (1, 2) else 1}"]
        if "torch_default" in ms:
            r["speedup_at_defaults"] = ms["torch_default"] / r["default_ms"]
        res[f"{key}.{dtype}"] = r
    if ref is not None:
        ref.set_threads(1)
    both = [res[k] for k in res if isinstance(res[k], dict)]
    faster = thread_choice(both)
    res["headless_choice"] = faster
    for r in both:  # what headless commands run at once the choice is recorded (default_ms: at the threads in force)
        r["choice_ms"] = r[f"threads_{faster}_ms"]
        if "torch_default_ms" in r:
            r["speedup_at_choice"] = r["torch_default_ms"] / r["choice_ms"]
    if record:
        res["recorded_in"] = _record_threads(faster, both)
    return {"threads": res}


def thread_choice(figures: list[dict]) -> int:
    """The headless thread count from ``threads_1_ms`` and ``threads_2_ms`` of each step: 2 when no step is slower at
    two threads and together they take at least 10 % less time, else 1. (Before, each step had to be 10 % faster:
    in one run of seven the other core was busy during the vanilla step's figures, two threads gave it only 5 %
    (9.37 against 9.84 ms), and the float32 LSTM's step then ran at one thread, 0.74× PyTorch at its default.)"""
    if not figures or any(r["threads_2_ms"] > r["threads_1_ms"] for r in figures):
        return 1
    return 2 if sum(r["threads_2_ms"] for r in figures) <= 0.9 * sum(r["threads_1_ms"] for r in figures) else 1


def _record_threads(n: int, figures: list) -> str:
    """Write the headless thread count to rnnlab's ``threads.json`` (atomically); returns the path, or why not."""
    import json

    from .._runtime import threads_file
    from ..train.outputs import atomic_path

    path = threads_file()
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({"headless": n, "measured": figures,
                                       "when": time.strftime("%Y-%m-%d %H:%M:%S")}), encoding="utf-8")
    except OSError as exc:
        return f"not recorded: {exc}"
    return str(path)


def bench_heatmaps(quick: bool = False) -> dict:
    """The exact heatmap of every cell's first sequence (T = H = 64, float64) and its cost against the vanilla's
    scaled by (S/H)³."""
    from ..core import forward, jacobian_log10

    T, H, I = (16, 16, 4) if quick else (64, 64, 8)

    def heat(key: str) -> dict:
        net = _cell_net(key, H, I, "float64", seed=3)
        tr = forward(net, np.random.default_rng(4).standard_normal((T, 1, I)))
        ms = median_ms(lambda: jacobian_log10(net, tr), 3 if not quick else 1, warmup=1)
        return {"ms": ms, "S": net.cell.state_size,
                "exact_any_T": net.cell.jacobian_moduli(net.params, tr.cache) is not None}

    base = heat(VANILLA)["ms"]
    res: dict = {}
    for key in CELL_VARIANTS:
        r = res[key] = heat(key)
        r["over_scaled_vanilla"] = r["ms"] / (base * (r["S"] / H) ** 3)
    return {"heatmaps": res, "heatmaps_T": T, "heatmaps_H": H}


def bench_startup(quick: bool = False, frozen: str | None = None) -> dict:
    """Seconds from starting the app's process to its window drawn (offscreen; median of 5, 1 when quick), after
    one start that is not timed. The app starts as an installed one does, with Python's bytecode cache
    (``pip install`` and the bundle compile every module once): a ``PYTHONDONTWRITEBYTECODE`` of this shell is not
    passed on, or every start would compile rnnlab's modules again (~0.2 s here)."""
    import os
    import subprocess
    import sys
    import tempfile

    from pathlib import Path

    n = 1 if quick else 5
    # the app started is this rnnlab (`python -m rnnlab` would take a checkout in the working folder first)
    root = str(Path(__file__).resolve().parents[2])

    def measure(cmd: list[str]) -> float | str:
        times = []
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNNLAB_STARTUP_PROBE="1", XDG_CONFIG_HOME=home)
            if cmd[0] == sys.executable:
                env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            for i in range(n + 1):
                t0 = time.perf_counter()
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                        cwd=home)
                line = ""
                try:
                    for line in proc.stdout:  # type: ignore[union-attr]
                        if "window drawn" in line:
                            break
                    t = time.perf_counter() - t0
                finally:
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                if "window drawn" not in line:
                    return f"no window: {' '.join(cmd)} exited with {proc.returncode} (is PySide6 installed?)"
                if i > 0:  # (the first start writes the bytecode cache where it is missing)
                    times.append(t)
        return float(np.median(times))

    res: dict = {}
    for key, cmd in (("window_s", [sys.executable, "-m", "rnnlab", "gui", "--engine", "process"]),
                     ("frozen_window_s", [frozen, "gui"] if frozen else None)):
        if cmd is None:
            continue
        try:
            v = measure(cmd)
        except OSError as exc:
            v = f"could not start {cmd[0]}: {exc}"
        res[key if isinstance(v, float) else key.replace("_s", "_error")] = v
    return {"startup": res}


def _vanilla(H: int, I: int, dtype: str, seed: int = 0):
    from ..config import ModelConfig
    from ..core import build_network

    return build_network(ModelConfig(hidden_size=H, dtype=dtype, spectral_radius=1.0), I, I, "linear",
                         np.random.default_rng(seed))


def bench_core(dtype: str = "float64", quick: bool = False) -> dict:
    from ..core import forward, jacobian_log10, loss_and_grads

    reps = 5 if quick else 21
    B, T, H, I = 32, 100, 128, 8
    net = _vanilla(H, I, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, I)).astype(dtype)
    y = rng.standard_normal((T, B, I)).astype(dtype)
    mask = np.ones((T, B))
    from ..core._align import aligned_copy

    W = aligned_copy(net.params["W_hh"])  # the fastest layout for the floor (as the cells use it)
    h = rng.standard_normal((B, H)).astype(dtype)
    out = np.empty((B, H), dtype=dtype)

    def floor():
        for _ in range(2 * T):
            np.matmul(h, W, out=out)

    res: dict = {"dtype": dtype, "B": B, "T": T, "H": H, "I": I}
    res["floor_ms"] = median_ms(floor, reps)
    res["bptt_ms"] = median_ms(lambda: loss_and_grads(net, x, y, mask), reps)
    res["bptt_over_floor"] = res["bptt_ms"] / res["floor_ms"]

    Th, Hh = (32, 64) if quick else (128, 128)
    hnet = _vanilla(Hh, I, "float64", seed=2)
    tr = forward(hnet, np.random.default_rng(3).standard_normal((Th, 1, I)))
    A = np.random.default_rng(4).standard_normal((Hh, Hh))
    gemm_ms = median_ms(lambda: A @ A, 300 if not quick else 5, warmup=20)
    res["gemm_gflops"] = 2 * Hh**3 / (gemm_ms * 1e-3) / 1e9
    res["heatmap_T"], res["heatmap_H"] = Th, Hh
    res["heatmap_ms"] = median_ms(lambda: jacobian_log10(hnet, tr), 3 if not quick else 1, warmup=1)
    flops = Th * (Th - 1) / 2 * 2 * Hh**3  # one (H×H)·(H×H) product per (t, k) pair with k < t
    res["heatmap_gflops"] = flops / (res["heatmap_ms"] * 1e-3) / 1e9
    res["heatmap_efficiency"] = res["heatmap_gflops"] / res["gemm_gflops"]
    res["heatmap_estimated_ms"] = median_ms(
        lambda: jacobian_log10(hnet, tr, mode="estimated", probes=16, rng=np.random.default_rng(0)), 3, warmup=1)
    # a diagonal step Jacobian (IndRNN): the exact heatmap at O(H) per entry, at a length no dense cell reaches
    from ..config import ModelConfig
    from ..core import build_network

    Td = 2000 if quick else 10_000
    inet = build_network(ModelConfig(arch="indrnn", hidden_size=32, spectral_radius=1.0), I, I, "linear",
                         np.random.default_rng(5))
    itr = forward(inet, np.random.default_rng(6).standard_normal((Td, 1, I)))
    res["heatmap_indrnn_T"] = Td
    res["heatmap_indrnn_ms"] = median_ms(lambda: jacobian_log10(inet, itr), 1, warmup=0)
    res["heatmap_indrnn_every10th_ms"] = median_ms(lambda: jacobian_log10(inet, itr, stride=10), 3, warmup=1)
    return res


def bench_training(quick: bool = False) -> dict:
    """Trainer step time against raw BPTT (target: within 10 %), and the cost of an expensive snapshot."""
    from ..config import Experiment
    from ..core import loss_and_grads
    from ..train.trainer import Trainer

    T, B, H = (20, 8, 32) if quick else (100, 32, 128)
    exp = Experiment().replace(task__name="random", task__length=T, task__batch_size=B, model__hidden_size=H,
                               training__eval_every=10**6, training__learning_rate=1e-4)
    tr = Trainer(exp, spectrum_every=0)
    batch = tr.task.sample(np.random.default_rng(0), B)
    net = tr.net
    reps = 5 if quick else 41
    # interleaved, so that a load that comes and goes falls on both (measured one after the other, the ratio moved
    # between 0.85 and 1.15 over fourteen runs)
    ms = interleaved_ms({"raw": lambda: loss_and_grads(net, batch.x, batch.y, batch.mask), "step": tr.step}, reps)
    raw, step = ms["raw"], ms["step"]
    snap = median_ms(lambda: tr.snapshot(expensive=True), 3 if not quick else 1, warmup=1)
    return {"train_step_ms": step, "train_raw_bptt_ms": raw, "train_step_over_bptt": step / raw,
            "snapshot_expensive_ms": snap}


def run_bench(dtype: str = "float64", quick: bool = False, extra: list[Callable[[bool], dict]] | None = None,
              compare_torch: bool = False, frozen: str | None = None, cells: bool = True,
              record_threads: bool = False) -> dict:
    """All figures as a dict (``rnnlab bench`` prints it as JSON): the core's, the trainer's, every cell's, the
    library path, threads, heatmaps, start-up, then those of each ``extra(quick)`` (the app's, with ``--gui``).
    ``compare_torch`` adds PyTorch's figures (a RuntimeError when PyTorch cannot be imported); ``record_threads``
    records the faster headless thread count (:func:`bench_threads`)."""
    res: dict = {"python": platform.python_version(), "numpy": np.__version__}
    if compare_torch:
        from . import _torch_ref

        res["torch"] = _torch_ref.version()
    res.update(bench_core(dtype, quick))
    res.update(bench_training(quick))
    if cells:
        res.update(bench_cells(quick, torch=compare_torch))
        res.update(bench_library_path(quick))
        res.update(bench_threads(quick, torch=compare_torch, record=record_threads and not quick))
        res.update(bench_heatmaps(quick))
        res.update(bench_startup(quick, frozen))
    for f in extra or []:
        res.update(f(quick))
    return _rounded(res)


def _rounded(v):
    if isinstance(v, dict):
        return {k: _rounded(x) for k, x in v.items()}
    return round(v, 4) if isinstance(v, float) else v


def print_bench(res: dict) -> None:
    print(json.dumps(res, indent=2))
