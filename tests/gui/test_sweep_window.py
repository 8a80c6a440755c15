"""The sweep's phase diagram in the app, and opening a cell as an experiment."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np

from rnnlab.config import Experiment, save_toml
from rnnlab.gui.main_window import MainWindow
from rnnlab.studies.sweep import run_sweep, summarize, write_csv


def test_phase_diagram_and_open_a_cell(qtbot, tmp_path):
    base = Experiment().replace(task__length=10, model__hidden_size=6, training__eval_every=1000,
                                training__eval_batch_size=50)
    grid = {"model.spectral_radius": [0.5, 1.5], "task.length": [10, 12]}
    with cf.ThreadPoolExecutor(2) as ex:
        rows = run_sweep(base, grid, seeds=2, steps=5, executor=ex)
    write_csv(rows, tmp_path / "sweep.csv", grid)
    save_toml(base, tmp_path / "config.toml")
    win = MainWindow(base, mode="sync", remember=False)
    win.controller.confirm = lambda text: True  # opening a cell needs new weights: the app asks first
    qtbot.addWidget(win)
    sw = win.open_sweep(str(tmp_path))
    qtbot.addWidget(sw)
    cells = summarize(rows, grid)
    for (rho, T), c in cells.items():
        i, j = grid["task.length"].index(T), grid["model.spectral_radius"].index(rho)
        assert sw.values[i, j] == c["mean_success"]
    assert np.array_equal(sw.image.image, sw.values, equal_nan=True)
    exp = sw.cell_experiment(1, 1)
    assert exp.model.spectral_radius == 1.5 and exp.task.length == 12
    sw.cellOpened.emit(exp)
    assert win.controller.exp.model.spectral_radius == 1.5 and win.controller.exp.task.length == 12


def test_a_folder_without_a_sweep_is_a_clear_error(qtbot, tmp_path):
    win = MainWindow(Experiment().replace(task__length=10, model__hidden_size=6), mode="sync", remember=False)
    qtbot.addWidget(win)
    errors = []
    win.files.error = lambda title, text: errors.append(text)
    assert win.open_sweep(str(tmp_path)) is None
    assert "no sweep.csv" in errors[0]
