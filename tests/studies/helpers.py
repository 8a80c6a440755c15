"""Sweep rows without training: for the phase-diagram tests here and in tests/gui."""

from __future__ import annotations

import itertools


def fake_rows(grid: dict, seeds: int = 2) -> list[dict]:
    """One row per grid point × seed, with varied metrics (success when ≥ 0.5, exploded below 0.1)."""
    rows = []
    for combo in itertools.product(*grid.values()):
        for s in range(seeds):
            m = (len(rows) * 37 % 100) / 100
            rows.append({"run": len(rows), **dict(zip(grid, combo)), "seed": s, "final_loss": 1.0,
                         "final_metric": m, "success": m >= 0.5, "exploded": m < 0.1, "steps": 5,
                         "wall_time_s": 0.1})
    return rows
