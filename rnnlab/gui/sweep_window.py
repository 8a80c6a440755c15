"""The results of ``rnnlab sweep`` inside the app: the phase diagram (:class:`~rnnlab.gui.sweep_view.SweepView`,
the same picture as ``phase.png``), and any cell opened as an experiment with a click."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..config import ConfigError, Experiment
from ..studies.sweep import describe, load_folder
from .sweep_view import SweepView

__all__ = ["SweepWindow", "load_sweep"]


def load_sweep(folder: str | Path) -> tuple[Experiment, list[dict], dict]:
    """``(base experiment, rows, grid)`` of a sweep folder (sweep.csv and config.toml), validated as a whole
    (:func:`rnnlab.studies.sweep.load_folder`); a ConfigError names the file and the problem."""
    return load_folder(folder)


class SweepWindow(QtWidgets.QWidget):
    """Phase diagram of a sweep folder; clicking a cell emits ``cellOpened(Experiment)``."""

    cellOpened = QtCore.Signal(object)
    cellRefused = QtCore.Signal(str)  # plain text: why a cell's experiment cannot be opened

    def __init__(self, folder: str | Path, parent=None):
        super().__init__(parent)
        self.setWindowFlag(QtCore.Qt.WindowType.Window)
        self.folder = Path(folder)
        self.base, self.rows, self.grid = load_sweep(folder)
        self.setWindowTitle(f"rnnlab — sweep {self.folder.name}")
        keys = list(self.grid)
        self.xkey = keys[0] if keys else None
        self.ykey = keys[1] if len(keys) > 1 else None
        seeds = len({r["seed"] for r in self.rows}) or 1
        # the requested step count is not in sweep.csv; a run that did not explode did all of them
        done = {r["steps"] for r in self.rows if not r["exploded"]}
        title, subtitle = describe(self.base, self.grid, max(done) if done else None, seeds)
        self.view = SweepView(self.rows, self.grid, title=title, subtitle=subtitle,
                              extra_note=f"{len(self.rows)} runs from {self.folder}. Click a cell to open its "
                                         "experiment (pooled keys: their first value).")
        self.values, self.image = self.view.values, self.view.image
        self.view.cellClicked.connect(self._open_cell)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.resize(900, 700)

    def _open_cell(self, i: int, j: int) -> None:
        try:
            exp = self.cell_experiment(i, j)
        except ConfigError as exc:  # (load_folder validated every grid point; kept as the last guard)
            self.cellRefused.emit(str(exc))
            return
        self.cellOpened.emit(exp)

    def cell_experiment(self, i: int, j: int) -> Experiment:
        """The base experiment with cell (row i, column j)'s grid values (pooled keys: their first value)."""
        values = {}
        if self.xkey:
            values[self.xkey] = self.grid[self.xkey][j]
        if self.ykey:
            values[self.ykey] = self.grid[self.ykey][i]
        for k in self.grid:
            values.setdefault(k, self.grid[k][0])
        return self.base.with_changes(values) if values else self.base
