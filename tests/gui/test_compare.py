"""Compare mode: two runs that differ in one setting show the expected difference."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.compare import RunStats, make_pair, summarize
from rnnlab.config import Experiment
from rnnlab.gui.compare_window import CompareWindow
from rnnlab.presets import get_preset


def test_make_pair_keeps_the_seed_and_states_the_difference():
    a, b, diff = make_pair(Experiment(seed=4), ["remedies.clip=norm", "remedies.clip_threshold=0.5"])
    assert a.seed == b.seed == 4
    assert diff == {"remedies.clip": ("none", "norm"), "remedies.clip_threshold": (1.0, 0.5)}
    with pytest.raises(ValueError, match="identical"):
        make_pair(Experiment(), {"remedies.clip": "none"})


def test_clipping_on_versus_off_shows_the_explosion_and_the_difference(qtbot):
    """The clipping preset: A (clipping on) trains, B (clip = none) explodes with the same seed and data."""
    p = get_preset("clipping")
    win = CompareWindow(p.experiment, dict(p.contrast), mode="sync")
    qtbot.addWidget(win)
    win.step(400)
    a, b = win.stats["A"], win.stats["B"]
    assert b.explosion is not None and a.explosion is None
    assert a.step == 400 and b.step == b.explosion.step - 1
    text = win.summary_text()
    assert "B differs from A only in remedies.clip: A = 'norm', B = 'none'" in text
    assert f"B exploded at step {b.explosion.step}" in text
    assert "same seed, same data" in text
    # the first steps saw the same data and weights: identical losses until clipping first fired in A
    la, lb = np.array(a.losses), np.array(b.losses[: len(a.losses)])
    assert la[0] == lb[0]
    # heatmaps side by side, overlay curves one colour each
    assert win.heat["A"].has_data and win.heat["B"].has_data
    xa, _ = win.overlay.curves[("loss", "A")].getData()
    xb, _ = win.overlay.curves[("loss", "B")].getData()
    assert len(xa) == 400 and 0 < len(xb) < 400
    win.close()


def test_summary_statistics():
    class S:
        def __init__(self, step, loss, g, clip, metric=float("nan"), explosion=None):
            self.history = {"step": np.arange(step - len(loss) + 1, step + 1, dtype=float), "loss": np.array(loss),
                            "grad_norm": np.array(g), "clipped": np.array(clip, dtype=float)}
            self.step, self.metric, self.explosion = step, metric, explosion

    a, b = RunStats(), RunStats()
    a.update(S(2, [1.0, 0.5], [2.0, 3.0], [0, 1], metric=0.9))
    b.update(S(2, [1.0, 0.9], [2.0, 300.0], [0, 0], metric=0.2))
    text = summarize(a, b, {"remedies.clip": ("norm", "none")})
    assert "B 100× larger" in text and "Clipping fired on 1 steps of A and 0 of B" in text
    a.update(S(1, [1.0], [2.0], [0]))  # a rewind to step 1 truncates
    assert a.losses == [1.0] and a.max_grad == 2.0
