"""Training figures for ``rnnlab bench``: trainer step time against raw BPTT (target: within 10 %)."""

from __future__ import annotations

import numpy as np

__all__ = ["bench_training"]


def bench_training(quick: bool = False) -> dict:
    from ..bench import median_ms
    from ..config import Experiment
    from ..core import loss_and_grads
    from .trainer import Trainer

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
