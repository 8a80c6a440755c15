"""Every text a view shows can be read whole at the sizes a classroom uses (issue 10's promises, issue 14's unrolled
view): captions as tall as their text, never cut (plots/_caption.py); the unrolled view has a heading like every
view, its controls fit a grid cell, and no text it draws leaves its plot or runs into another
(gui/layout_check.py's checks, which the window geometry test and ``rnnlab selftest --layout`` also run)."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from rnnlab.config import Experiment
from rnnlab.gui.layout_check import view_problems, widget_problems
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.plots._caption import MAX_SHARE, Caption
from rnnlab.gui.plots.unrolled import UnrolledPlot
from rnnlab.train.trainer import Trainer

#: the view's size in a window cell: 1920×1080 grid, 1280×720 grid, a lesson's cell, presentation at 1280×720
CELLS = {"grid-1920": (390, 327, 1.0), "grid-1280": (464, 298, 1.0), "lesson": (413, 317, 1.0),
         "presentation-1280": (632, 578, 1.6), "presentation-1920-lesson": (524, 467, 1.6)}
#: a caption as long as the longest the views write (an estimated LSTM heatmap, with its range and hint)
LONG = ("Frobenius norm, estimated with 16 probes (±0.079 decades per entry, bias ≥ -0.014), of the state (h, c) "
        "(the exact one would not stream) · log10 range +0.1 … +1.1 (beyond the colour bar: drag its handles) · "
        "hover for values")


def _placed(qtbot, view, w: int, h: int, scale: float = 1.0):
    """``view`` as the view area places it: in a host, any size (no minimum of its own), at a font scale."""
    host = QtWidgets.QWidget()
    qtbot.addWidget(host)
    host.resize(w, h)
    view.setParent(host)
    view.setMinimumSize(0, 0)
    view.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
    view.setGeometry(0, 0, w, h)
    view._test_host = host  # (the host must live as long as the view)
    host.show()
    qtbot.waitExposed(host)
    if scale != 1.0:
        view.set_scale(scale)
    QtWidgets.QApplication.processEvents()
    return view


def _captions(view) -> list[Caption]:
    return [c for c in view.findChildren(Caption) if c.isVisibleTo(view)]


@pytest.mark.parametrize("cell", ["grid-1920", "presentation-1280"])
def test_every_caption_is_read_whole(qtbot, cell):
    w, h, scale = CELLS[cell]
    seen = 0
    for cls in VIEWS.values():
        view = _placed(qtbot, cls(), w, h, scale)
        caps = _captions(view)
        for cap in caps:
            cap.setText(LONG)
        QtWidgets.QApplication.processEvents()
        assert not widget_problems(view), widget_problems(view)
        for cap in caps:
            assert cap.text() == LONG and cap.text_height() <= cap.height() and not cap.toolTip()
            assert cap.geometry().bottom() < view.height()  # under the plot, inside the view
        seen += len(caps)
    assert seen >= 8  # (heatmap, lag profile, gradient flow, spectrum, hidden states, saturation, memory, ...)


def test_a_caption_keeps_its_height_while_its_text_changes_and_gives_it_back_after(qtbot):
    view = _placed(qtbot, VIEWS["heatmap"](), 390, 327)
    cap = view.readout
    base = cap.height()
    cap.setText(LONG)
    QtWidgets.QApplication.processEvents()
    tall = cap.height()
    assert tall > base and cap.text_height() <= tall
    plot_h = view.layout_widget.height()
    cap.setText("t = 3, k = 1")  # a hover read-out: the plot above must not jump on every frame
    QtWidgets.QApplication.processEvents()
    assert cap.height() == tall and view.layout_widget.height() == plot_h
    cap.setText("")  # a new run
    QtWidgets.QApplication.processEvents()
    assert cap.height() == base


def test_only_a_text_taller_than_half_the_view_is_shortened_and_its_tooltip_holds_it_whole(qtbot):
    view = _placed(qtbot, VIEWS["spectrum"](), 390, 327)
    cap = view.plane_note
    text = " · ".join(f"part {i} of a very long explanation" for i in range(60))
    cap.setText(text)
    QtWidgets.QApplication.processEvents()
    assert cap.height() <= MAX_SHARE * view.height() + 1
    assert cap.text() == text and cap.toolTip() == text  # the whole text, where it can be read
    shown = QtWidgets.QLabel.text(cap)
    assert shown.endswith("…") and text.startswith(shown[:-1].rstrip())
    assert cap.heightForWidth(cap.width()) <= cap.height()  # what is shown is not cut
    cap.setText("short")
    assert not cap.toolTip() and QtWidgets.QLabel.text(cap) == "short"


def _snap(T: int, **changes):
    exp = Experiment().replace(task__length=T, model__hidden_size=8, **changes)
    tr = Trainer(exp)
    tr.step()
    return tr.snapshot(expensive=True)


SNAPS = {"T=20": dict(T=20), "T=100, TBPTT(10, 10)": dict(T=100, task__name="random", remedies__tbptt_k1=10,
                                                            remedies__tbptt_k2=10),
         "T=15, clipped": dict(T=15, remedies__clip="norm", remedies__clip_threshold=1e-3)}


@pytest.fixture(scope="module")
def unrolled_snaps():
    return {name: _snap(**kw) for name, kw in SNAPS.items()}


@pytest.mark.parametrize("snap_name", list(SNAPS))
@pytest.mark.parametrize("cell", list(CELLS))
def test_the_unrolled_view_reads_in_every_cell(qtbot, unrolled_snaps, cell, snap_name):
    w, h, scale = CELLS[cell]
    view = _placed(qtbot, UnrolledPlot(), w, h, scale)
    view.update(unrolled_snaps[snap_name])
    QtWidgets.QApplication.processEvents()
    problems = view_problems(view)  # titles, ticks, colour bar, texts on the plot, widgets (buttons, caption)
    assert not problems, "\n".join(problems)
    # a heading at the top, as every view has, above the picture; the controls under it
    title = view.plot.titleLabel
    assert title.isVisible() and title.text == UnrolledPlot.title
    top = title.item.mapRectToScene(title.item.boundingRect()).top()
    assert top < 20 and view.controls.geometry().top() > view.layout_widget.geometry().bottom() - 1
    # every text drawn on the picture lies inside the plot (none pushed out of sight)
    area = view.plot.vb.sceneBoundingRect().adjusted(-2, -2, 2, 2)
    texts = [it for it in view._extra if hasattr(it, "textItem") and it.isVisible()]
    assert texts
    for it in texts:
        assert area.contains(it.textItem.mapRectToScene(it.textItem.boundingRect())), it.textItem.toPlainText()
    # the nodes of neighbouring steps are apart
    xs = sorted(view._x.values())
    assert min(b - a for a, b in zip(xs, xs[1:])) * view._ppu >= 8 * scale - 1e-9


def test_the_unrolled_controls_take_short_labels_only_when_the_long_ones_do_not_fit(qtbot):
    view = _placed(qtbot, UnrolledPlot(), 1200, 400)
    assert not view.short and view.play_button.text() == "Backward pass" and view.step_button.text() == "Step back"
    assert view.mode_box.currentText().startswith("backward pass")
    view.setGeometry(0, 0, 390, 327)
    QtWidgets.QApplication.processEvents()
    assert view.short and view.play_button.text() == "Play" and view.show_button.text() == "All"
    assert not widget_problems(view)
    assert not view.play_button.icon().isNull() and not view.step_button.icon().isNull()  # icons, not glyphs
    view.setGeometry(0, 0, 1200, 400)
    QtWidgets.QApplication.processEvents()
    assert not view.short and view.show_button.text() == "Show all"
