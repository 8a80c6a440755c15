"""The unrolled-network view: what its arrows draw is the core's numbers (the gradient flow of the same snapshot,
the truncation's cut, the running products), and the slow-motion backward pass steps through them."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from rnnlab.config import Experiment
from rnnlab.gui.plots.unrolled import MAX_COLUMNS, UnrolledPlot, _num, _sub
from rnnlab.train.trainer import Trainer


def _snap(steps: int = 3, **changes):
    exp = Experiment().replace(task__length=changes.pop("T", 12), model__hidden_size=8, **changes)
    tr = Trainer(exp)
    for _ in range(steps):
        tr.step()
    return tr.snapshot(expensive=True)


def _view(qtbot, snap):
    w = UnrolledPlot()
    qtbot.addWidget(w)
    w.resize(1100, 300)
    w.show()
    qtbot.waitExposed(w)
    w.update(snap)
    return w


def test_the_arrows_are_the_gradient_flow_of_the_same_snapshot(qtbot):
    snap = _snap()
    d = snap.diagnostics
    F = d.gradient_flow_log10
    T = F.shape[0]
    w = _view(qtbot, snap)
    assert w.has_data and w.mode == "total"
    # temporal order: one loss, at T − 1; the arrow into k carries ∂E_{T−1}/∂h_{k−1}
    drawn = w.arrow_values()
    assert sorted(drawn) == list(range(1, T))
    for k, v in drawn.items():  # (the pass's own log-domain loop: equal to the last few bits)
        assert v == pytest.approx(F[T - 1, k - 1], abs=1e-12)
    assert all(w._arrows[k][0].isVisible() for k in drawn)
    # one loss, chosen: the same row
    w.set_mode("loss")
    assert w.arrow_values() == {k: F[T - 1, k - 1] for k in range(1, T)}
    # the product for t, in the spectral norm: the heatmap's row when the heatmap is spectral too
    snap = _snap(**{"diagnostics__norm": "spectral"})
    w.update(snap)
    w.set_mode("product")
    heat = snap.diagnostics.jacobian_log10
    for k, v in w.arrow_values().items():
        assert v == pytest.approx(heat[T - 1, k - 1], abs=1e-9)


def test_truncated_bptt_k2_5_shows_no_arrow_beyond_5_steps_back(qtbot):
    T = 20
    snap = _snap(T=T, remedies__tbptt_k1=5, remedies__tbptt_k2=5)
    up = snap.diagnostics.unrolled
    w = _view(qtbot, snap)
    for mode in ("total", "loss"):
        w.set_mode(mode)
        drawn = w.arrow_values()
        # the loss at T − 1 reaches h_{T−5} … h_{T−1}: arrows into T−4 … T−1 only
        assert sorted(drawn) == list(range(T - 4, T)), mode
        assert not any(w._arrows[k][0].isVisible() for k in range(1, T - 4))
        assert all(w._arrows[k][0].isVisible() for k in range(T - 4, T))
    assert up.cuts.tolist() == [T - 5]
    assert any(getattr(it, "textItem", None) is not None and "✂" in it.textItem.toPlainText()
               for it in w._extra)
    assert w.cuts() == [T - 5]
    w.set_mode("product")
    assert w.cuts() == []  # ∂h_t/∂h_k is the network's, whatever the training truncates
    # the slow motion stops at the cut and says so
    w.set_mode("total")
    for _ in range(T):
        w.step_back()
    assert w.anim_k == T - 5 and "stops here" in w.numbers.text()


def test_one_loss_shows_the_cut_of_its_own_window(qtbot):
    """T = 24, TBPTT(10, 10): windows end at 9, 19 and 23 and start at 0, 10 and 14. The loss at 15 travels back
    to 10 (its window's start) across 14, where only the last window is cut."""
    snap = _snap(T=24, task__name="random", remedies__tbptt_k1=10, remedies__tbptt_k2=10)
    up = snap.diagnostics.unrolled
    assert up.cuts.tolist() == [10, 14]
    w = _view(qtbot, snap)
    assert w.cuts() == [10, 14]
    w.set_mode("loss")
    w.choose_loss(15)
    assert w.cuts() == [10] and sorted(w.arrow_values()) == list(range(11, 16))
    F = snap.diagnostics.gradient_flow_log10
    assert w.arrow_values() == {k: F[15, k - 1] for k in range(11, 16)}


def test_the_slow_motion_multiplies_one_factor_per_tick(qtbot):
    snap = _snap()
    up = snap.diagnostics.unrolled
    T = up.T
    w = _view(qtbot, snap)
    w.step_back()
    assert w.anim_k == T - 1 and w.arrow_values() == {}  # nothing travelled yet
    for n in range(1, 5):
        w.step_back()
        k = T - 1 - n
        assert w.anim_k == k
        assert sorted(w.arrow_values()) == list(range(k + 1, T))  # the arrows the gradient has crossed
        text = w.numbers.text()
        assert f"= {_num(up.step_log10[k + 1])}" in text  # the factor just multiplied ...
        assert f"= diag(f′(a{_sub(k + 1)}))·W_hh‖₂" in text  # ... written out (the vanilla RNN's)
        assert f"= {_num(up.product_row(T - 1)[k])} ≤" in text  # the running product ...
        assert f"Π‖factors‖ = {_num(up.bound_row(T - 1)[k])}" in text  # ... and its bound
        assert f"= {_num(up.total_log10[k])}" in text  # the gradient that has arrived
    w.show_all()
    assert w.anim_k is None and len(w.arrow_values()) == T - 1
    # Play runs the ticks on a timer to the end, then stops
    w._timer.setInterval(5)
    w.toggle_play()
    assert w.playing
    qtbot.waitUntil(lambda: not w.playing, timeout=5000)
    assert w.anim_k == 0 and "Backward pass" in w.play_button.text()


def test_a_long_sequence_is_summarised_and_follows_the_slow_motion(qtbot):
    T = 80
    snap = _snap(T=T)
    w = _view(qtbot, snap)
    assert len(w._columns) <= MAX_COLUMNS and w._gap is not None
    assert w._columns[:2] == [0, 1] and w._columns[-1] == T - 1
    assert any("steps ⋯" in it.textItem.toPlainText() for it in w._extra if hasattr(it, "textItem"))
    for _ in range(60):
        w.step_back()
    assert w.anim_k == T - 60 and w.anim_k in w._columns  # the window moved with the gradient
    assert len(w._columns) <= MAX_COLUMNS


def test_hovering_and_clicking_a_loss_node_chooses_t(qtbot):
    snap = _snap(T=10, task__name="random")  # a loss at every step
    up = snap.diagnostics.unrolled
    assert up.scored.all()
    w = _view(qtbot, snap)
    t = 5
    w._on_mouse_moved(w.plot.vb.mapViewToScene(QtCore.QPointF(w._x[t], 2.0)))
    assert w.t_hover == t and "E₅" in w.numbers.text() and "reaches back to step 0" in w.numbers.text()
    F = snap.diagnostics.gradient_flow_log10
    w.set_mode("loss")  # hovering previews t = 5 ...
    assert w.arrow_values() == {k: F[t, k - 1] for k in range(1, t + 1)}
    w._on_mouse_moved(w.plot.vb.mapViewToScene(QtCore.QPointF(-5.0, -5.0)))
    assert w.t_hover is None and w._t() == 9  # ... until the mouse leaves: the last loss again
    w.choose_loss(3)  # what a click on E₃ does
    assert w._t() == 3 and w.arrow_values() == {k: F[3, k - 1] for k in range(1, 4)}


def test_presentation_scale_keeps_the_numbers_whole(qtbot):
    w = _view(qtbot, _snap())
    h = w.numbers.sizeHint().height()
    w.set_scale(1.6)
    assert w.numbers.sizeHint().height() > 1.3 * h and w.has_data  # (a 1.6× font)
    assert w.numbers.text_height() <= w.numbers.sizeHint().height()  # the whole text
    w.set_scale(1.0)
    assert w.numbers.sizeHint().height() == h


def test_hovering_above_a_step_without_a_loss_says_so(qtbot):
    snap = _snap()  # temporal order: one loss, at the last step
    w = _view(qtbot, snap)
    T = snap.diagnostics.unrolled.T
    w._on_mouse_moved(w.plot.vb.mapViewToScene(QtCore.QPointF(w._x[3], 2.0)))
    assert w.t_hover is None and w.numbers.text().startswith("no loss at step 3")
    w._on_mouse_moved(w.plot.vb.mapViewToScene(QtCore.QPointF(w._x[T - 1], 2.0)))
    assert w.t_hover == T - 1 and "reaches back to step 0" in w.numbers.text()


def test_leaving_the_picture_gives_the_line_back_to_the_slow_motion(qtbot):
    """Hover the picture, then go to Step back: the line under the buttons shows the numbers, not the old hover."""
    w = _view(qtbot, _snap())
    w.step_back()
    w.step_back()
    numbers = w.numbers.text()
    assert numbers.startswith("k = ")
    w._on_mouse_moved(w.plot.vb.mapViewToScene(QtCore.QPointF(w._x[3], 1.0)))
    assert w.numbers.text().startswith("h₃")
    QtCore.QCoreApplication.sendEvent(w.layout_widget.viewport(), QtCore.QEvent(QtCore.QEvent.Type.Leave))
    assert w.numbers.text() == numbers
