"""Presentation mode: every text scales (ticks, titles, reference labels, banners, lesson boxes); F11 twice gives
back exactly the window it found; Esc leaves; its layout is never saved as the normal one."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnlab.config import Experiment
from rnnlab.gui.main_window import MainWindow
from rnnlab.gui.plots.base import _text_items


def _fonts(win):
    app = QtWidgets.QApplication.instance()
    out = {"app": app.font().pointSizeF()}
    for vid, v in win.views.items():
        for i, item in enumerate(v.layout_widget.ci.items):
            if hasattr(item, "getAxis"):
                tf = item.getAxis("bottom").style.get("tickFont")
                out[f"{vid}{i}.tick"] = tf.pointSizeF() if tf else None
                for j, t in enumerate(_text_items(item)):
                    out[f"{vid}{i}.text{j}"] = t.textItem.font().pointSizeF()
    lp = win.lesson_panel
    out["do"] = lp.do_label.styleSheet()
    out["body"] = lp.body.document().defaultFont().pointSizeF()
    out["banner"] = win.banner.styleSheet()
    return out


@pytest.fixture
def win(qtbot):
    w = MainWindow(Experiment().replace(model__hidden_size=8), mode="sync", remember=False)
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    w.controller.step(5)
    w.banner.show_info("<b>Preset.</b> A text.")
    yield w
    w.presentation.set(False)
    w.close()


def test_f11_twice_restores_exactly_and_every_text_scaled(win):
    QtWidgets.QApplication.processEvents()
    win.view_area.focus("loss")
    before = _fonts(win)
    geo, state, dock = win.geometry(), win.saveState(), win.controls_dock.geometry()
    win.presentation_action.trigger()  # F11
    assert win.presentation.on and win.presentation_action.isChecked()
    during = _fonts(win)
    for k, v in before.items():
        if isinstance(v, float):
            assert during[k] > 1.3 * v, k  # every font larger
    assert "font-size: 21pt" in during["do"] and "font-size: 19pt" in during["banner"]
    win.presentation_action.trigger()  # F11 again
    QtWidgets.QApplication.processEvents()
    assert not win.presentation.on
    assert _fonts(win) == before
    assert (win.geometry(), win.controls_dock.geometry()) == (geo, dock)
    assert win.saveState() == state
    assert win.controls_dock.isVisible() and win.view_area.focused == "loss"


def test_escape_leaves_presentation_mode(win, qtbot):
    win.presentation.set(True, fullscreen=False)
    win.activateWindow()
    leave = next(a for a in win.actions() if a.text() == "Leave presentation mode")
    assert QtGui.QKeySequence("Esc") in leave.shortcuts()
    leave.trigger()
    assert not win.presentation.on


def test_presentation_and_lesson_layouts_are_not_saved_as_normal(qtbot):
    w = MainWindow(Experiment().replace(model__hidden_size=8), mode="sync", remember=True)
    qtbot.addWidget(w)
    w.showNormal()
    w.resize(1200, 700)
    font = QtWidgets.QApplication.font().pointSizeF()
    w.presentation.set(True, fullscreen=False)
    w.open_lesson("main")
    w.close()
    assert QtWidgets.QApplication.font().pointSizeF() == font  # the app's font is the app's: given back
    s = QtCore.QSettings()
    w2 = MainWindow(Experiment().replace(model__hidden_size=8), mode="sync", remember=True)
    qtbot.addWidget(w2)
    assert s.value("window/state") is not None
    assert not w2.controls_dock.isHidden()  # presentation hid it; the normal layout had it
    assert w2.lesson_dock.isHidden()
    assert w2.view_area.visible_ids() == list(w2.views)
    w2.close()


def test_long_banners_show_one_sentence_and_more(win):
    from rnnlab.presets import get_preset

    p = get_preset("hessian-free")
    win.controller.confirm = lambda text: True
    assert win.load_preset(p)
    b = win.banner
    assert b.more_button.isVisible() and p.description[:40] in b.plain_text()  # the whole text stays available
    shown = b.label.text()
    doc = QtGui.QTextDocument()
    doc.setHtml(shown)
    assert len(shown) < len(b.text()) and len(doc.toPlainText()) <= 170
    assert "<img" in shown and "_{" not in doc.toPlainText()  # the folded text's formulas are typeset too
    b.more_button.click()
    assert b.label.text() == b.text() and b.more_button.text() == "less"
    b.show_message("Short.")
    assert not b.more_button.isVisible() and b.label.text() == "Short."
