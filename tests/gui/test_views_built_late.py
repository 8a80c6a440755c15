"""Views are built when first needed (gui/view_area.py's ``Views``): the first page before the window is drawn,
the others after it. A view built late must show exactly what it would show had it been built at the start:
every frame of the current run (through a rewind, not across a reset), the window's scale, a lesson's frame."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from rnnlab.config import Experiment
from rnnlab.gui.app import dispose
from rnnlab.gui.main_window import MainWindow
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.view_area import ViewArea
from rnnlab.train.trainer import Trainer


def _frames(kind: str) -> list:
    """Real snapshots as the engine sends them: cheap ones, now and then one with diagnostics, a change of a
    setting, and a rewind (``kind="rewind"``) or a reset (``"reset"``) half-way."""
    exp = Experiment().replace(task__length=12, model__hidden_size=6, training__eval_every=4)
    tr = Trainer(exp)
    out = [tr.snapshot(expensive=True)]
    for i in range(12):
        for _ in range(3):
            tr.step()
        if i == 4:
            tr.apply_config(exp.replace(training__learning_rate=0.005))
        if i == 7:
            tr.rewind(9) if kind == "rewind" else tr.reset()
        out.append(tr.snapshot(expensive=i % 3 == 2))
    return out


def _image_arrays(item: pg.GraphicsObject) -> list:
    return [np.asarray(c.image) for c in item.childItems() if isinstance(c, pg.ImageItem) and c.image is not None]


def _drawn(view) -> list:
    """What a view shows: its exported table, whether it has data, every curve's points and every image."""
    header, rows = view.data_table()
    out: list = [tuple(header), np.asarray(rows, dtype=np.float64), view.has_data]
    for item in view.layout_widget.ci.items:
        if isinstance(item, pg.PlotItem):
            for di in item.listDataItems():
                if hasattr(di, "getData"):
                    x, y = di.getData()
                    out += [None if x is None else np.asarray(x, dtype=np.float64),
                            None if y is None else np.asarray(y, dtype=np.float64)]
            out += _image_arrays(item.vb.childGroup)
    return out


def _same(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or np.shape(x) != np.shape(y) or not np.array_equal(x, y, equal_nan=True):
                return False
        elif x != y:
            return False
    return True


@pytest.fixture
def areas():
    """Two view areas, not shown; deleted at the end with the QGraphicsScenes of their views (gui/app.py)."""
    pair = ViewArea(VIEWS), ViewArea(VIEWS)
    yield pair
    for area in pair:
        dispose(area)


@pytest.mark.parametrize("kind", ["rewind", "reset"])
def test_a_view_built_after_frames_arrived_shows_what_one_built_at_the_start_shows(areas, kind):
    frames = _frames(kind)
    eager, late = areas
    list(eager.views.values())  # every view built before the first frame
    not_built = [vid for vid in VIEWS if not late.views.is_built(vid)]
    assert not_built  # (the area, not shown, builds its first page only)
    for snap in frames:  # as the window receives them (no event loop: nothing is built in between)
        eager.on_frame(snap)
        late.on_frame(snap)
    eager.flush()
    late.flush()
    assert [vid for vid in VIEWS if not late.views.is_built(vid)] == not_built
    for vid in VIEWS:
        want, got = _drawn(eager.views[vid]), _drawn(late.views[vid])
        assert want[2], f"{vid}: nothing drawn"
        assert _same(want, got), f"{vid}: built after the frames, it shows something else"


def test_the_first_page_is_built_before_the_window_is_drawn_the_others_after(qtbot):
    win = MainWindow(Experiment().replace(model__hidden_size=8), mode="thread", remember=False)
    qtbot.addWidget(win)
    win.resize(800, 700)
    built = set(win.views.built())
    assert built and len(built) < len(win.views)
    # the menus name every view without building it
    assert [a.text() for a in win.view_help_menu.actions()] == [cls.title for cls in VIEWS.values()]
    assert set(win.views.built()) == built
    win.show()
    qtbot.waitUntil(lambda: len(win.views.built()) == len(win.views), timeout=10000)
    shown = win.view_area.shown_ids()
    assert all(win.views[v].isVisible() for v in shown)
    assert not any(v.isVisible() for vid, v in win.views.items() if vid not in shown)
    win.close()


def test_a_view_built_in_presentation_mode_or_for_a_lesson_is_scaled_and_framed(qtbot):
    from rnnlab.gui.lesson_panel import highlighted
    from rnnlab.gui.presentation import SCALE

    win = MainWindow(Experiment().replace(model__hidden_size=8), mode="thread", remember=False)
    qtbot.addWidget(win)
    win.resize(800, 700)
    win.presentation.set(True)
    late = [vid for vid in VIEWS if not win.views.is_built(vid)]
    assert late
    view = win.views[late[-1]]
    assert view.scale == SCALE
    win.presentation.set(False)
    assert view.scale == 1.0
    # a lesson step that watches views not built yet builds them and frames them
    assert not win.views.is_built("saturation")
    win.open_lesson("exploding-and-clipping", index=1)
    watched = win.lesson_panel.step.watch
    assert "saturation" in watched and all(win.views.is_built(v) for v in watched)
    assert set(highlighted()) == {win.views[v] for v in watched}
    assert win.view_area.shown_ids()[:len(watched)] == list(watched)
    win.close()


def test_once_a_view_is_drawn_the_others_are_built_without_any_frame(areas, qtbot):
    area = areas[0]
    area.resize(400, 300)  # one view per page
    assert len(area.views.built()) == 1
    qtbot.wait(50)
    assert len(area.views.built()) == 1  # (not shown: nothing drawn, nothing built)
    area.show()
    qtbot.waitUntil(lambda: len(area.views.built()) == len(area.views), timeout=10000)
    assert area.shown_ids() == ["heatmap"] and not any(area.views[v].isVisible() for v in VIEWS if v != "heatmap")
