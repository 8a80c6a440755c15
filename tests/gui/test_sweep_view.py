"""The sweep's phase diagram, drawn once (rnnlab.gui.sweep_view): the PNG of ``rnnlab sweep`` for any number of
grid keys, and the app's sweep window and the PNG showing the same cells (extra keys pooled by one rule)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from rnnlab.config import Experiment, save_toml
from rnnlab.gui.app import dispose
from rnnlab.gui.sweep_view import SweepView, phase_png, picture
from rnnlab.gui.sweep_window import SweepWindow
from rnnlab.studies.sweep import phase_cells, summarize, write_csv
from tests.studies.helpers import fake_rows

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("grid", [
    {},
    {"model.spectral_radius": [0.5, 1.0, 2.0]},
    {"model.spectral_radius": [0.5, 1.0, 2.0], "task.length": [10, 20]},
    {"model.spectral_radius": [0.5, 1.0, 1.5, 2.0], "task.length": [10, 30, 50]},  # the science test's grid
    {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.activation": ["tanh", "relu"]},
    {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.hidden_size": list(range(1, 8)),
     "training.learning_rate": [0.1, 0.01, 0.001, 0.0001, 1e-5, 1e-6]},  # 42 combinations of the extra keys
])
def test_phase_png_for_any_number_of_axes(tmp_path, grid):
    rows = fake_rows(grid)
    path = phase_png(rows[:-1], grid, tmp_path / "p.png", total_runs=len(rows))  # one run missing: partial
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 3000
    summary = summarize(rows[:-1], grid)
    assert sum(c["n"] for c in summary.values()) == len(rows) - 1
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]  # written atomically: no temporary file left
    img = QtGui.QImage(str(path))
    assert img.width() >= 760 and img.height() >= 380


def test_the_view_states_what_it_shows():
    grid = {"model.spectral_radius": [0.5, 1.0], "task.length": [10, 20], "model.activation": ["tanh", "relu"]}
    rows = fake_rows(grid)
    view = picture(rows[:-2], grid, title="T", subtitle="S", threshold=0.5, total_runs=len(rows))
    try:
        assert view.title.text() == "T" and view.subtitle.text() == "S"
        assert view.banner.text().startswith(f"PARTIAL: {len(rows) - 2} of {len(rows)} runs")
        assert "reached 0.5" in view.notes.text() and "Pooled over model.activation (2 values)" in view.notes.text()
        # text in every cell: k/n and the mean held-out success rate, as phase_cells counts them
        for (i, j), c in view.phase.cells.items():
            html = view.texts[(i, j)].textItem.toPlainText()
            assert f"{c['successes']}/{c['n']}" in html and f"{c['mean_metric']:.2f}" in html
        # every label fits the picture's width; the title is on one line
        for lab in (view.title, view.subtitle, view.banner, view.notes):
            assert lab.geometry().right() <= view.width() and lab.geometry().bottom() <= view.height()
        assert view.title.height() < 2 * view.title.fontMetrics().height()
    finally:
        dispose(view)


def _cell_pixel(view: SweepView, i: int, j: int) -> QtCore.QPoint:
    """A pixel of cell (i, j) in the view's own picture, away from its text and its border."""
    scene = view.plot.vb.mapViewToScene(QtCore.QPointF(j - 0.35, i - 0.35))
    p = view.graphics.mapFromScene(scene)
    return view.graphics.mapTo(view, p)


def test_window_and_png_show_the_same_cells_with_extra_keys_pooled(qtbot, tmp_path):
    """Four keys: the window (from sweep.csv) and phase.png pool the third and fourth the same way: the same
    values, and the PNG's cells have the colours of the window's values (grey where no run finished)."""
    grid = {"model.spectral_radius": [0.5, 1.0, 2.0], "task.length": [10, 20], "model.activation": ["tanh", "relu"],
            "model.hidden_size": [4, 8]}
    rows = [r for r in fake_rows(grid, seeds=3) if not (r["model.spectral_radius"] == 2.0 and r["task.length"] == 20)]
    write_csv(rows, tmp_path / "sweep.csv", grid)
    save_toml(Experiment(), tmp_path / "config.toml")
    win = SweepWindow(tmp_path)
    qtbot.addWidget(win)
    expected = np.array(phase_cells(rows, grid).values(), dtype=float)
    assert np.array_equal(win.values, expected, equal_nan=True)
    assert np.isnan(win.values[1, 2]) and np.isnan(win.values).sum() == 1
    assert "Pooled over model.activation (2 values), model.hidden_size (2 values)" in win.view.notes.text()
    kwargs = dict(title="t", subtitle="s", threshold=0.5, total_runs=len(rows) + 24)
    path = phase_png(rows, grid, tmp_path / "phase.png", **kwargs)
    img = QtGui.QImage(str(path))
    twin = picture(rows, grid, **kwargs)  # the same layout as the picture: where its cells are
    try:
        assert np.array_equal(twin.values, win.values, equal_nan=True)
        twin.grab()  # rendered once, as phase_png renders: the view's geometry is final
        assert (img.width(), img.height()) == (twin.width(), twin.height())
        for i in range(2):
            for j in range(3):
                px = img.pixelColor(_cell_pixel(twin, i, j))
                v = win.values[i, j]
                want = QtGui.QColor("#dddddd") if np.isnan(v) else twin.cmap.map(v, mode="qcolor")
                assert max(abs(px.red() - want.red()), abs(px.green() - want.green()),
                           abs(px.blue() - want.blue())) <= 6, (i, j, v, px.name(), want.name())
    finally:
        dispose(twin)
