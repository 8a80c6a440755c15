"""Views are always true: a new run (preset with another T, Reset, File ▸ Open, a lesson step) clears every time
series and refits every matrix view before its first step; exports then hold only the new run."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from rnnlab.config import Experiment, save_toml
from rnnlab.gui.main_window import MainWindow
from rnnlab.gui.plots.base import SeriesBuffer
from rnnlab.gui.plots.heatmap import LogMatrixPlot
from rnnlab.presets import get_preset
from rnnlab.train.snapshot import Event, Snapshot


@pytest.fixture
def win(qtbot):
    w = MainWindow(Experiment().replace(model__hidden_size=8, training__eval_every=5), mode="sync", remember=False)
    w.controller.confirm = lambda text: True
    qtbot.addWidget(w)
    w.show()
    w.controller.step(30)
    yield w
    w.close()


def _series_rows(view, after: float = 0) -> int:
    """Rows stored at steps after ``after`` (a new run has at most its step-0 row)."""
    return sum(int(np.sum(b.column(b.columns[0]) > after)) for b in vars(view).values()
               if isinstance(b, SeriesBuffer))


def _curve_points_after(view, step: float) -> int:
    """Points drawn at x > step on the view's time-series plots (plots with a SteppedRange)."""
    n = 0
    for item in view.layout_widget.ci.items:
        if isinstance(item, pg.PlotItem) and any(getattr(r, "plot", None) is item for r in vars(view).values()):
            for di in item.listDataItems():
                x = di.getData()[0] if hasattr(di, "getData") else None
                if x is not None and len(x):
                    n += int(np.sum(np.asarray(x) > step))
    return n


def assert_new_run(win, T: int) -> None:
    assert win.controller.last_snapshot.step == 0
    for vid, view in win.views.items():
        assert _series_rows(view) == 0, f"{vid}: rows of the previous run"
        assert _curve_points_after(view, 0) == 0, f"{vid}: curve points of the previous run"
        header, rows = view.data_table()
        if header and header[0] == "step":  # the CSV export of a time series
            step_col = rows[:, 0] if rows.size else np.zeros(0)
            assert not np.any(step_col[np.isfinite(step_col)] > 0), f"{vid}: export holds old steps"
        if isinstance(view, LogMatrixPlot):
            assert view._data is not None and view._data.shape == (T, T), vid
            (x0, x1), (y0, y1) = view.plot.vb.viewRange()
            assert x0 <= 0 and x1 >= T - 1 and y0 <= 0 and y1 >= T - 1, f"{vid}: range {x0, x1, y0, y1} not [0, {T})"


def test_switch_from_T20_to_a_T80_preset_clears_and_refits_every_view(win):
    assert win.controller.exp.task.length == 20
    assert _series_rows(win.views["loss"]) > 0  # the old run was drawn
    preset = get_preset("exploding-tanh")
    assert preset.experiment.task.length == 80
    assert win.load_preset(preset)
    assert_new_run(win, 80)
    win.controller.step(3)  # the new run draws from step 1 on, nothing older
    steps = win.views["loss"].data_table()[1][:, 0]
    assert list(steps) == [1, 2, 3]


def test_reset_open_and_lesson_step_start_a_new_run(win, tmp_path):
    win.controller.reset()
    assert_new_run(win, 20)
    win.controller.step(10)
    f = tmp_path / "long.toml"
    save_toml(Experiment().replace(task__length=40, model__hidden_size=8), f)
    assert win.files.open(str(f))
    assert_new_run(win, 40)
    win.controller.step(10)
    win.open_lesson("exploding-and-clipping", index=0)
    T = win.controller.exp.task.length
    assert_new_run(win, T)


def test_a_reset_between_merged_snapshots_drops_the_old_runs_rows():
    from rnnlab.train.trainer import Trainer

    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=4))
    for _ in range(5):
        tr.step()
    old = tr.snapshot()
    tr.reset()
    new = tr.snapshot()
    merged = Snapshot.merge([old, new])
    assert len(merged.history["step"]) == 0 and any(e.starts_run for e in merged.events)
    assert not Event(3, "training.lr: 0.1 → 0.2").starts_run


def test_frames_of_the_old_run_after_a_reset_command_are_not_drawn(win):
    old = win.controller.last_snapshot
    win.view_area.new_run(commanded=True)
    assert not win.view_area.on_frame(old, sync=True)
    assert _series_rows(win.views["loss"]) == 0


def test_overflow_and_exact_zeros_are_drawn_grey_with_a_legend_never_as_a_colour_of_the_map(qtbot):
    import dataclasses

    from rnnlab.gui.plots.heatmap import OVERFLOW_RGBA, ZERO_RGBA, HeatmapPlot
    from rnnlab.train.trainer import Trainer

    tr = Trainer(Experiment().replace(task__length=12, model__hidden_size=6))
    snap = tr.snapshot(expensive=True)
    L = np.array(snap.diagnostics.jacobian_log10, dtype=np.float64)
    L[8:, :3] = np.inf
    L[10, 5] = np.nan
    L[6, :2] = -np.inf
    diag = dataclasses.replace(snap.diagnostics, jacobian_log10=L)
    view = HeatmapPlot()
    qtbot.addWidget(view)
    view.update(dataclasses.replace(snap, diagnostics=diag))
    ov = view.overlay
    assert ov.counts == {"over": 4 * 3 + 1, "zero": 2}
    assert ov.legend.isVisible() and len(ov.legend.items) == 2
    img = ov.image.image  # 4 pixels per cell at this size
    assert tuple(img[8 * 4 + 1, 0 * 4 + 2]) in (OVERFLOW_RGBA, (235, 235, 235, 255))
    assert tuple(img[6 * 4 + 1, 0 * 4 + 2]) in (ZERO_RGBA, (235, 235, 235, 255))
    assert img[0, 0, 3] == 0 and img[3 * 4, 11 * 4, 3] == 0  # finite and undefined cells: the map shows through
    assert "grey hatched" in view.readout.text()
    view.clear_data()
    assert ov.counts == {"over": 0, "zero": 0} and not ov.legend.isVisible()


def test_the_legend_of_non_finite_cells_stays_whole_inside_the_view_at_any_font_scale(qtbot):
    """The legend is re-anchored whenever it changes size: a longer text or presentation mode's larger font had
    left it where the shorter one fitted, its right border cut by the view's edge."""
    import dataclasses

    from PySide6 import QtCore

    from rnnlab.gui.plots.heatmap import HeatmapPlot
    from rnnlab.train.trainer import Trainer

    tr = Trainer(Experiment().replace(task__length=12, model__hidden_size=6))
    snap = tr.snapshot(expensive=True)
    view = HeatmapPlot()
    qtbot.addWidget(view)
    view.resize(520, 420)
    view.show()

    def draw(n_zero: int):
        L = np.array(snap.diagnostics.jacobian_log10, dtype=np.float64)
        rows, cols = np.tril_indices(12, -1)
        L[rows[:n_zero], cols[:n_zero]] = -np.inf
        view.update(dataclasses.replace(snap, diagnostics=dataclasses.replace(snap.diagnostics, jacobian_log10=L)))
        qtbot.wait(1)

    def inside() -> bool:
        vb = view.overlay.plot.vb
        box = view.overlay.legend.mapRectToItem(vb, view.overlay.legend.boundingRect())
        return QtCore.QRectF(vb.boundingRect()).contains(box) and box.width() > 50

    draw(1)
    assert inside()
    draw(60)  # another count
    assert inside()
    width = view.overlay.legend.width()
    view.set_scale(1.6)
    qtbot.wait(1)
    assert view.overlay.legend.width() > 1.3 * width  # its text scaled, readable on a projector
    assert inside()
    draw(3)
    assert inside()
    view.set_scale(1.0)
    qtbot.wait(1)
    assert inside()
    # too small a view for the whole legend: it is hidden, and the caption gives the counts it would have shown
    view.resize(200, 170)
    qtbot.waitUntil(lambda: not view.overlay.legend.isVisible())
    assert "3 cells exactly 0 (underflow)" in view.readout.text()
    view.resize(520, 420)
    qtbot.waitUntil(lambda: view.overlay.legend.isVisible() and inside())


def test_a_last_step_task_draws_its_one_row_large_over_its_steps(win):
    flow = win.views["gradient_flow"]
    assert flow.one_row and flow.row_t == 19  # temporal_order: only t = 19 carries a loss
    assert flow.plot.scene() is None  # the one-line map gives its space to the curve
    assert win.load_preset(get_preset("exploding-tanh"))
    (x0, x1), _ = flow.strip.vb.viewRange()
    assert flow.row_t == 79 and x0 <= 0 and 79 <= x1 <= 90, (x0, x1)


def test_overflowed_hidden_states_are_grey_not_white(qtbot):
    import dataclasses

    from rnnlab.gui.plots.hidden_states import HiddenStatesPlot
    from rnnlab.train.trainer import Trainer

    tr = Trainer(Experiment().replace(task__length=10, model__hidden_size=5))
    snap = tr.snapshot(expensive=True)
    h = np.array(snap.diagnostics.hidden, dtype=np.float64)
    h[6:, 2] = np.nan
    view = HiddenStatesPlot()
    qtbot.addWidget(view)
    view.update(dataclasses.replace(snap, diagnostics=dataclasses.replace(snap.diagnostics, hidden=h)))
    assert view.overlay.counts["over"] == 4 and view.overlay.legend.isVisible()
    assert "hatched grey (4 cells)" in view.note.text()  # (the legend may be hidden in a small view)
