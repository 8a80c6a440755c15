"""Compare two runs (rnnlab.studies.compare): the pair, the statistics, "the loss at the end" and the headless
comparison behind ``rnnlab compare`` (the window: tests/gui/test_compare.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.config import ConfigError, Experiment
from rnnlab.presets import get_preset
from rnnlab.studies.compare import RunStats, compare, make_pair, summarize
from rnnlab.train.run import tail_mean


def test_make_pair_keeps_the_seed_and_states_the_difference():
    a, b, diff = make_pair(Experiment(seed=4), ["remedies.clip=norm", "remedies.clip_threshold=0.5"])
    assert a.seed == b.seed == 4
    assert diff == {"remedies.clip": ("none", "norm"), "remedies.clip_threshold": (1.0, 0.5)}
    with pytest.raises(ValueError, match="identical"):
        make_pair(Experiment(), {"remedies.clip": "none"})


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


@pytest.mark.parametrize("losses", [[], [2.0], [3.0, 2.0, 1.0], list(np.linspace(5, 1, 37)),
                                    [1.0] * 20 + [math.inf] * 2, [1.0] * 25 + [math.nan, 0.5, math.inf]])
def test_recent_loss_is_the_run_loops_tail_mean(losses):
    s = RunStats()
    s.losses = list(losses)
    want = tail_mean(losses)
    got = s.recent_loss()
    assert (math.isnan(got) and math.isnan(want)) or got == want


def test_headless_compare_of_the_clipping_preset():
    """A (norm clipping) trains, B (clip = none) explodes, from the same seed and data; the paragraph says so."""
    p = get_preset("clipping")
    seen = {"A": 0, "B": 0}
    res = compare(p.experiment, dict(p.contrast), 400, on_step=lambda run, tr: seen.__setitem__(run, tr.step_count))
    assert res.a.explosion is None and res.a.step == 400 and len(res.a.losses) == 400
    assert res.b.explosion is not None and res.b.step == res.b.explosion.step - 1
    assert len(res.b.losses) == res.b.explosion.step  # the exploding step's row is kept, as the window keeps it
    assert seen == {"A": 400, "B": res.b.step} and not res.interrupted
    assert res.diff == {"remedies.clip": ("norm", "none")}
    assert res.text == summarize(res.a, res.b, res.diff, res.baseline)
    assert "B differs from A only in remedies.clip: A = 'norm', B = 'none' (same seed, same data)." in res.text
    assert f"B exploded at step {res.b.explosion.step}" in res.text
    assert (f"Loss over the last 10 % of steps: A {res.a.recent_loss():.3g}, B {res.b.recent_loss():.3g} "
            f"(baseline {res.baseline.loss:.3g})") in res.text
    assert res.a.losses[0] == res.b.losses[0]  # the same first batch and weights


def test_headless_compare_errors():
    with pytest.raises(ValueError, match="identical"):
        compare(Experiment(), ["remedies.clip=none"], 5)
    with pytest.raises(ConfigError, match="remedies.clip"):
        compare(Experiment(), ["remedies.clip=sometimes"], 5)
