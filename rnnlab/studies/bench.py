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

The app's figures (``rnnlab bench --gui``) come from :mod:`rnnlab.gui.bench` and are passed in as ``extra``.
"""

from __future__ import annotations

import json
import platform
import time
from typing import Callable

import numpy as np

__all__ = ["run_bench", "median_ms", "bench_core", "bench_training", "print_bench"]


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
    raw = median_ms(lambda: loss_and_grads(net, batch.x, batch.y, batch.mask), reps)
    step = median_ms(tr.step, reps)
    snap = median_ms(lambda: tr.snapshot(expensive=True), 3 if not quick else 1, warmup=1)
    return {"train_step_ms": step, "train_raw_bptt_ms": raw, "train_step_over_bptt": step / raw,
            "snapshot_expensive_ms": snap}


def run_bench(dtype: str = "float64", quick: bool = False, extra: list[Callable[[bool], dict]] | None = None) -> dict:
    """All figures as a dict (``rnnlab bench`` prints it as JSON): the core's, the trainer's, then those of each
    ``extra(quick)`` (the app's, with ``--gui``)."""
    res = {"python": platform.python_version(), "numpy": np.__version__}
    res.update(bench_core(dtype, quick))
    res.update(bench_training(quick))
    for f in extra or []:
        res.update(f(quick))
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}


def print_bench(res: dict) -> None:
    print(json.dumps(res, indent=2))
