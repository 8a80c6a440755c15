"""Compare mode in the app: two runs that differ in one setting show the expected difference, and say what the
headless ``rnnlab compare`` says (the statistics themselves: tests/studies/test_compare.py)."""

from __future__ import annotations

import numpy as np

from rnnlab.gui.compare_window import CompareWindow
from rnnlab.presets import get_preset
from rnnlab.studies.compare import compare


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
    # the headless comparison (rnnlab compare) trains the same two runs and states the same paragraph
    headless = compare(p.experiment, dict(p.contrast), 400)
    assert headless.text == text
    assert headless.a.losses == a.losses and headless.b.step == b.step
    win.close()
