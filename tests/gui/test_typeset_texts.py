"""The formulas of the window's other texts are typeset too (issue 14, item 1): the settings' tooltips (from the
config metadata), the preset descriptions (Presets menu tooltips and the banner), the lag profile's caption (the
cell's stated bound). Each is typeset when first shown (building the window pays nothing), the status tips and
the command line get plain Unicode, and a text that is not valid TeX is shown as it is, never as markup."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnlab.config import describe_keys
from rnnlab.gui.maths import math_text, set_action_math_tooltip, set_math_text, set_math_tooltip
from rnnlab.lessons.typeset import available
from rnnlab.presets import all_presets

from .windows import window_factory

pytestmark = pytest.mark.skipif(not available(), reason="ziamath is not installed")


def tooltip_event(widget: QtWidgets.QWidget, pos: QtCore.QPoint | None = None) -> None:
    pos = pos or QtCore.QPoint(2, 2)
    QtWidgets.QApplication.sendEvent(widget, QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, pos,
                                                              widget.mapToGlobal(pos)))


def test_a_widget_tooltip_is_typeset_when_first_shown_and_can_change(qtbot):
    w = QtWidgets.QLabel("x")
    qtbot.addWidget(w)
    set_math_tooltip(w, r"Rescaled to $\rho(W_{hh})$ exactly.", before="<b>model.spectral_radius</b>")
    assert "<img" not in w.toolTip() and "ρ" in w.toolTip()  # the cheap rich text until it is shown
    tooltip_event(w)
    assert w.toolTip().startswith("<b>model.spectral_radius</b>") and w.toolTip().count("<img") == 1
    set_math_tooltip(w, r"Now $\gamma$ and $\sigma_{\max}$.", after="<p><i>Locked</i></p>")
    assert "<img" not in w.toolTip()
    tooltip_event(w)
    assert w.toolTip().count("<img") == 2 and w.toolTip().endswith("<p><i>Locked</i></p>")


def test_text_that_is_not_tex_is_shown_as_it_is(qtbot):
    w = QtWidgets.QLabel("x")
    qtbot.addWidget(w)
    bad = r"costs $5 and <img src=x> \emph{no}"
    set_math_tooltip(w, bad)
    tooltip_event(w)
    assert "<img" not in w.toolTip() and "&lt;img src=x&gt;" in w.toolTip() and "\\emph" in w.toolTip()


def test_a_menu_action_tooltip_is_typeset_when_the_menu_shows_it(qtbot):
    host = QtWidgets.QWidget()
    qtbot.addWidget(host)
    menu = QtWidgets.QMenu(host)
    a = menu.addAction("edge of chaos")
    set_action_math_tooltip(a, r"Near $\rho(W_{hh}) = 1$ the heatmap's $\|\partial h_t/\partial h_k\|$ stays flat.",
                            menu)
    assert a.statusTip() == "Near ρ(W_hh) = 1 the heatmap's ‖∂h_t/∂h_k‖ stays flat."  # plain for the status bar
    menu.popup(QtCore.QPoint(0, 0))
    qtbot.waitUntil(menu.isVisible)
    tooltip_event(menu, menu.actionGeometry(a).center())
    assert a.toolTip().count("<img") == 2
    menu.hide()


def test_a_caption_keeps_its_equations_typeset_in_a_new_font(qtbot):
    lab = QtWidgets.QLabel()
    qtbot.addWidget(lab)
    set_math_text(lab, r"bound $d \log_{10} b$, $b = \gamma\,\sigma_{\max}(W_{hh})$ = 0.93 < 1")
    assert lab.text().count("<img") == 2 and "&lt; 1" in lab.text()
    assert math_text(lab) == "bound d log_10 b, b = γ σ_max(W_hh) = 0.93 < 1"
    small = lab.text()
    lab.setStyleSheet("font-size: 30pt;")  # presentation mode sets a larger font this way
    lab.ensurePolished()
    assert lab.text() != small and lab.text().count("<img") == 2  # drawn again at the new size


def test_settings_tooltips_and_presets_are_typeset_in_the_window(qtbot):
    make, close_all = window_factory(qtbot)
    w = make()
    # settings: every editor whose help holds a formula shows it typeset once the tooltip is asked for
    with_tex = [r["key"] for r in describe_keys() if "$" in r["doc"]]
    assert len(with_tex) >= 15
    editors = {k: ed for p in w.findChildren(QtWidgets.QWidget) for k, ed in getattr(p, "editors", {}).items()}
    shown = [k for k in with_tex if k in editors]
    assert len(shown) >= 10
    for key in shown[:4]:
        widget = editors[key].widget
        tooltip_event(widget)
        assert widget.toolTip().startswith(f"<b>{key}</b>") and "<img" in widget.toolTip(), key
        label = widget.parent().layout().labelForField(widget)
        tooltip_event(label)
        assert "<img" in label.toolTip(), key
    # presets: every action has a plain status tip, and a typeset tooltip when the menu shows it
    pm = w.presets_menu
    texts = {p.name: p.description for p in all_presets()}
    with_eq = [a for a in pm.actions() if "$" in texts.get(a.text(), "")]
    assert len(with_eq) >= 15
    for a in pm.actions():
        assert "$" not in a.statusTip() and "\\" not in a.statusTip(), a.text()
    pm.popup(QtCore.QPoint(0, 0))
    qtbot.waitUntil(pm.isVisible)
    a = with_eq[0]
    tooltip_event(pm, pm.actionGeometry(a).center())
    assert "<img" in a.toolTip()
    pm.hide()
    # the banner of a loaded preset: typeset, and its plain text written out
    preset = next(p for p in all_presets() if p.name == a.text())
    assert w.load_preset(preset)
    assert "<img" in w.banner.text()
    plain = w.banner.plain_text()
    assert "$" not in plain and "\\" not in plain and "\ufffc" not in plain and f"Preset {preset.name}." in plain
    # a description with a display equation is set in the banner's one run of text too
    shown = next(p for p in all_presets() if "$$" in p.description)
    assert w.load_preset(shown)
    assert "<img" in w.banner.text() and "$" not in w.banner.text().replace("data:image", "")
    close_all()


def test_deferred_labels_show_rich_text_then_typeset(qtbot):
    from rnnlab.gui import maths

    maths.defer_typesetting()
    try:
        lab = maths.MathLabel(r"$\gamma = 1$")
        qtbot.addWidget(lab)
        assert "<img" not in lab.text() and "γ" in lab.text()  # the window's first drawing does not wait
    finally:
        maths.typeset_pending()
    assert "<img" in lab.text()  # typeset as soon as the window is up
    lab.set_tex(r"$\sigma_{\max}$")
    assert "<img" in lab.text()  # and at once from then on


def test_a_deferred_lesson_body_is_typeset_once_the_window_is_up(panel):
    from rnnlab.gui import maths

    maths.defer_typesetting()
    try:
        panel.set_lesson("main", index=1)
        assert panel.body.typeset_count() == 0 and "∂" in panel.body.toPlainText()  # rich text first
    finally:
        maths.typeset_pending()
    assert panel.body.typeset_count() >= 4 and panel.body.fallbacks == []


def test_the_gui_command_ends_its_deferral_and_skips_closed_windows(qtbot, monkeypatch):
    from rnnlab.cli import main
    from rnnlab.gui import maths

    monkeypatch.setenv("RNNLAB_STARTUP_PROBE", "1")
    assert main(["gui", "--engine", "thread"]) == 0  # the window drawn, then closed before the 100 ms timer
    assert maths._deferred is None  # later windows of this process typeset at once
    lab = maths.MathLabel(r"$\gamma$")
    qtbot.addWidget(lab)
    assert "<img" in lab.text()
    # a label deleted while it waited is skipped when the deferral ends
    maths.defer_typesetting()
    gone = maths.MathLabel(r"$\rho$")
    gone.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    maths.typeset_pending()
    assert maths._deferred is None
