"""The phase diagram of a sweep, drawn once: the app's sweep window shows this widget, and ``rnnlab sweep``
renders it offscreen to ``phase.png`` (:func:`phase_png`).

The runs are laid out by :func:`rnnlab.studies.sweep.phase_cells`: the first grid key across, the second up, any
further keys pooled (one rule, stated under the picture). Each cell is coloured by its share of successful runs
(viridis on [0, 1], a fixed colour bar) and shows ``successes/runs`` and the runs' mean held-out success rate;
``!`` marks a cell where a run exploded, grey cells have no finished run (a cancelled sweep). With one key the
diagram is one row of cells; without a grid, one cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ..studies.sweep import axis_label, phase_cells, phase_notes, tick_text
from .plots.base import style_plot

__all__ = ["SweepView", "picture", "phase_png"]

COLORMAP = "viridis"
#: cells with text: at most this many (beyond, the colours alone)
MAX_TEXT_CELLS = 150


def _ink(cmap: pg.ColorMap, v: float) -> str:
    """Black or white text on the colour of ``v`` (by the colour's luminance)."""
    r, g, b = (c / 255 for c in cmap.map(np.array([v]), mode="byte")[0][:3])
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


class SweepView(QtWidgets.QWidget):
    """Title, subtitle, the heat grid with its colour bar, and the notes that say how to read it.

    Parameters
    ----------
    rows, grid
        The runs (rows of ``sweep.csv``) and the grid ``{key: [values]}`` in order.
    title, subtitle
        Shown above the diagram (see :func:`rnnlab.studies.sweep.describe`).
    threshold
        The success threshold, when known (stated in the notes).
    total_runs
        The runs planned: fewer finished rows mark the sweep as partial.
    extra_note
        A last line for the notes (the app says where the sweep came from and that a click opens a cell).

    ``values`` is the (ys, xs) array of shares drawn by ``image``; ``cellClicked(i, j)`` is emitted with the row
    (index into ``ys``) and the column (index into ``xs``) of a clicked cell.
    """

    cellClicked = QtCore.Signal(int, int)

    def __init__(self, rows: Sequence[dict], grid: dict[str, Sequence], *, title: str | None = None,
                 subtitle: str | None = None, threshold: float | None = None, total_runs: int | None = None,
                 extra_note: str | None = None, parent=None):
        super().__init__(parent)
        self.grid = {k: list(v) for k, v in grid.items()}
        self.phase = phase_cells(rows, self.grid)
        ph = self.phase
        self.values = np.array(ph.values(), dtype=np.float64)  # (len(ys), len(xs))
        nx, ny = len(ph.xs), len(ph.ys)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#ffffff"))
        pal.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor("#000000"))
        self.setPalette(pal)

        self.title = QtWidgets.QLabel(title or "Phase diagram: where does training succeed?")
        self.title.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.subtitle = QtWidgets.QLabel(subtitle or "")
        self.subtitle.setStyleSheet("font-size: 11pt; color: #333333;")
        self.subtitle.setVisible(bool(subtitle))
        self.show_text = nx * ny <= MAX_TEXT_CELLS
        notes = phase_notes(ph, self.grid, threshold=threshold, runs=len(rows), total_runs=total_runs,
                            cell_text=self.show_text)
        self.partial = notes[0] if notes[0].startswith("PARTIAL") else ""
        self.banner = QtWidgets.QLabel(self.partial)
        self.banner.setStyleSheet("font-size: 11pt; font-weight: bold; color: #a0281e;")
        self.banner.setVisible(bool(self.partial))
        self.notes = QtWidgets.QLabel("\n".join([n for n in notes if n != self.partial]
                                                + ([extra_note] if extra_note else [])))
        self.notes.setStyleSheet("font-size: 10pt; color: #333333;")
        for lab in (self.title, self.subtitle, self.banner, self.notes):
            lab.setWordWrap(True)
            lab.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
            lab.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.plot = self.graphics.addPlot()
        style_plot(self.plot, "", axis_label(ph.xkey) if ph.xkey else "(no grid: all runs)",
                   axis_label(ph.ykey) if ph.ykey else "")
        self.plot.setTitle(None)  # the title is the label above: no empty title row
        self.plot.showGrid(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.cmap = pg.colormap.get(COLORMAP)
        # cells without a finished run (NaN: transparent in the image) show this grey underneath
        empty = QtWidgets.QGraphicsRectItem(-0.5, -0.5, nx, ny)
        empty.setBrush(QtGui.QBrush(QtGui.QColor("#dddddd")))
        empty.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
        empty.setZValue(-10)
        self.plot.addItem(empty)
        self.image = pg.ImageItem(self.values)
        self.image.setLookupTable(self.cmap.getLookupTable(nPts=256))
        self.image.setLevels((0, 1))
        self.image.setRect(QtCore.QRectF(-0.5, -0.5, nx, ny))
        self.plot.addItem(self.image)
        self.plot.invertY(False)
        white = pg.mkPen("#ffffff", width=2)
        for j in range(1, nx):
            self.plot.addItem(pg.PlotCurveItem([j - 0.5, j - 0.5], [-0.5, ny - 0.5], pen=white))
        for i in range(1, ny):
            self.plot.addItem(pg.PlotCurveItem([-0.5, nx - 0.5], [i - 0.5, i - 0.5], pen=white))
        ax_b, ax_l = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        ax_b.setTicks([[(j, tick_text(v)) for j, v in enumerate(ph.xs)]] if ph.xkey else [[]])
        ax_l.setTicks([[(i, tick_text(v)) for i, v in enumerate(ph.ys)]] if ph.ykey else [[]])
        if not ph.ykey:
            ax_l.setStyle(showValues=False)
        self.plot.setXRange(-0.5, nx - 0.5, padding=0.0)
        self.plot.setYRange(-0.5, ny - 0.5, padding=0.0)
        self.texts: dict[tuple[int, int], pg.TextItem] = {}
        if self.show_text:
            big = nx * ny <= 40
            for (i, j), c in ph.cells.items():
                t = pg.TextItem(html=self._cell_html(c, big), anchor=(0.5, 0.5))
                t.setPos(j, i)
                self.plot.addItem(t)
                self.texts[(i, j)] = t
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=self.cmap, label="share of runs that succeeded",
                                   interactive=False)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(4)
        for w in (self.title, self.subtitle, self.banner):
            lay.addWidget(w)
        lay.addWidget(self.graphics, 1)
        lay.addWidget(self.notes)

    def _cell_html(self, c: dict, big: bool) -> str:
        px_main, px_small = (18, 13) if big else (14, 11)
        if not c["n"]:
            return f'<div style="color:#555555; font-size:{px_small}px;">no run</div>'
        ink = _ink(self.cmap, c["mean_success"])
        main = f"{c['successes']}/{c['n']}" + (" !" if c["exploded"] else "")
        return (f'<table cellspacing="0" cellpadding="0" style="color:{ink};"><tr><td align="center" '
                f'style="font-size:{px_main}px; font-weight:bold;">{main}</td></tr><tr><td align="center" '
                f'style="font-size:{px_small}px;">{c["mean_metric"]:.2f}</td></tr></table>')

    def picture_size(self) -> QtCore.QSize:
        """A size at which every cell is big enough for its text (60–130 px wide and 48–100 px high per cell, a
        plot area at least 240 px high for the colour bar), the title on one line (up to 1600 px) and the other
        labels wrapped to the width."""
        self.ensurePolished()
        nx, ny = len(self.phase.xs), len(self.phase.ys)
        cw = min(130.0, max(60.0, 720 / nx))
        ch = min(100.0, max(48.0, 440 / ny))
        lines = [lab.fontMetrics().horizontalAdvance(lab.text()) + 40 for lab in (self.title, self.subtitle)]
        w = int(min(max(760, nx * cw + 250, *lines), max(1600, nx * cw + 250)))
        inner = w - 24
        text_h = sum(lab.heightForWidth(inner) + 4 for lab in (self.title, self.subtitle, self.banner, self.notes)
                     if not lab.isHidden())
        return QtCore.QSize(w, int(max(ny * ch, 240) + 90 + text_h + 20))

    def save_png(self, path: str | Path) -> Path:
        """Render the widget as it is now to ``path`` (PNG, atomically); raises OSError when Qt cannot write it."""
        from ..io import atomic_path, why_not_written

        path = Path(path)
        pixmap = self.grab()
        with atomic_path(path, check_nonempty=True) as tmp:
            if pixmap.isNull():
                raise OSError("Qt could not draw the picture")
            if not pixmap.save(str(tmp), "PNG"):
                raise why_not_written(tmp)
        return path

    def _clicked(self, ev) -> None:
        p = self.plot.vb.mapSceneToView(ev.scenePos())
        i, j = int(round(p.y())), int(round(p.x()))
        if 0 <= i < self.values.shape[0] and 0 <= j < self.values.shape[1]:
            self.cellClicked.emit(i, j)


def picture(rows: Sequence[dict], grid: dict[str, Sequence], **kwargs) -> SweepView:
    """A :class:`SweepView` (``kwargs`` as for it) laid out at its :meth:`~SweepView.picture_size` without being
    shown (no window is created; ``grab()`` renders it). The caller disposes of it
    (:func:`rnnlab.gui.app.dispose`)."""
    from .app import get_app

    app = get_app()
    view = SweepView(rows, grid, **kwargs)
    for _ in range(2):  # the second pass: the labels' heights at the final width
        view.resize(view.picture_size())
        view.layout().activate()
        app.processEvents()
    return view


def phase_png(rows: Sequence[dict], grid: dict[str, Sequence], path: str | Path, *, title: str | None = None,
              subtitle: str | None = None, threshold: float | None = 0.9, total_runs: int | None = None) -> Path:
    """Render the :class:`SweepView` of ``rows`` over ``grid`` offscreen to ``path`` (PNG) and return the path.

    Uses the running QApplication or creates one; without one, the caller chooses the platform first (``rnnlab
    sweep`` sets ``QT_QPA_PLATFORM=offscreen`` before Qt loads). Raises OSError when the file cannot be written.
    """
    from .app import dispose

    view = picture(rows, grid, title=title, subtitle=subtitle, threshold=threshold, total_runs=total_runs)
    try:
        return view.save_png(path)
    finally:
        dispose(view)
