"""The results of ``rnnlab sweep`` inside the app: the phase diagram (mean success per cell over the seeds), and
any cell opened as an experiment with a click."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..config import ConfigError, Experiment, load_toml
from ..sweep import read_csv, summarize
from .plots.base import style_plot

__all__ = ["SweepWindow", "load_sweep"]


def load_sweep(folder: str | Path) -> tuple[Experiment, list[dict], dict]:
    """``(base experiment, rows, grid)`` of a sweep folder (sweep.csv and config.toml)."""
    folder = Path(folder)
    try:
        rows, keys = read_csv(folder / "sweep.csv")
    except FileNotFoundError:
        raise ConfigError(f"{folder}: no sweep.csv (is this a folder written by rnnlab sweep?)") from None
    except (ValueError, KeyError, StopIteration) as exc:
        raise ConfigError(f"{folder / 'sweep.csv'}: not a sweep table: {exc}") from None
    base = load_toml(folder / "config.toml")
    grid = {k: sorted({r[k] for r in rows}) for k in keys}
    return base, rows, grid


class SweepWindow(QtWidgets.QWidget):
    """Phase diagram of a sweep; clicking a cell emits ``cellOpened(Experiment)``."""

    cellOpened = QtCore.Signal(object)

    def __init__(self, folder: str | Path, parent=None):
        super().__init__(parent)
        self.setWindowFlag(QtCore.Qt.WindowType.Window)
        self.folder = Path(folder)
        self.base, self.rows, self.grid = load_sweep(folder)
        self.setWindowTitle(f"rnnlab — sweep {self.folder.name}")
        keys = list(self.grid)
        self.xkey = keys[0]
        self.ykey = keys[1] if len(keys) > 1 else None
        cells = summarize(self.rows, self.grid)
        xs = self.grid[self.xkey]
        ys = self.grid[self.ykey] if self.ykey else [None]
        self.values = np.full((len(ys), len(xs)), np.nan)
        self.counts = {}
        for (combo, c) in cells.items():
            i = ys.index(combo[1]) if self.ykey else 0
            j = xs.index(combo[0])
            # extra axes (3 or more) are averaged
            prev = self.counts.get((i, j), (0, 0))
            self.counts[(i, j)] = (prev[0] + c["successes"], prev[1] + c["n"])
        for (i, j), (s, n) in self.counts.items():
            self.values[i, j] = s / n if n else math.nan
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.plot = self.view.addPlot()
        style_plot(self.plot, "Success per cell (fraction of seeds; click a cell to open it)", self.xkey,
                   self.ykey or "")
        self.image = pg.ImageItem(self.values)
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.image.setLevels((0, 1))
        self.plot.addItem(self.image)
        self.plot.invertY(False)
        ax_b, ax_l = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        ax_b.setTicks([[(j, f"{v:g}" if isinstance(v, float) else str(v)) for j, v in enumerate(xs)]])
        ax_l.setTicks([[(i, f"{v:g}" if isinstance(v, float) else str(v)) for i, v in enumerate(ys)]]
                      if self.ykey else [[]])
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, len(xs), len(ys)))
        for (i, j), (s, n) in self.counts.items():
            t = pg.TextItem(f"{s}/{n}", anchor=(0.5, 0.5), color="w" if (n and s / n < 0.6) else "k")
            t.setPos(j, i)
            self.plot.addItem(t)
        bar = pg.ColorBarItem(values=(0, 1), colorMap="viridis", label="success (fraction of seeds)",
                              interactive=False)
        bar.setImageItem(self.image, insert_in=self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        note = QtWidgets.QLabel(self._note())
        note.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.view, 1)
        lay.addWidget(note)
        self.resize(900, 700)

    def _note(self) -> str:
        extra = [k for k in self.grid if k not in (self.xkey, self.ykey)]
        seeds = len({r["seed"] for r in self.rows})
        s = f"{len(self.rows)} runs, {seeds} seed(s) per cell, from {self.folder}."
        if extra:
            s += f" Averaged over {', '.join(extra)}."
        return s

    def cell_experiment(self, i: int, j: int) -> Experiment:
        """The base experiment with cell (row i, column j)'s grid values (extra axes: their first value)."""
        values = {self.xkey: self.grid[self.xkey][j]}
        if self.ykey:
            values[self.ykey] = self.grid[self.ykey][i]
        for k in self.grid:
            values.setdefault(k, self.grid[k][0])
        return self.base.replace(**{k.replace(".", "__"): v for k, v in values.items()})

    def _clicked(self, ev) -> None:
        p = self.plot.vb.mapSceneToView(ev.scenePos())
        i, j = int(round(p.y())), int(round(p.x()))
        if 0 <= i < self.values.shape[0] and 0 <= j < self.values.shape[1]:
            self.cellOpened.emit(self.cell_experiment(i, j))
