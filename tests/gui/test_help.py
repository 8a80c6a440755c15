"""Help that teaches, offscreen: Help ▸ Keyboard shortcuts lists every shortcut of the window (generated from its
actions and buttons), and every view has a "What am I looking at?" from its own description, equations typeset,
reachable from its right-click menu and from the Help menu."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnlab.config import Experiment
from rnnlab.gui.help import HELP_TEXT, ShortcutsDialog, ViewHelpDialog, shortcut_rows
from rnnlab.gui.maths import typeset_html
from rnnlab.gui.plots import VIEWS
from rnnlab.gui.plots.overlay import OverlayPlot
from rnnlab.lessons import tex_to_html
from rnnlab.lessons.typeset import available

from .windows import shown_window

ALL_VIEWS = list(VIEWS.values()) + [OverlayPlot]


@pytest.fixture
def win(qtbot):
    w = shown_window(qtbot, (1280, 720), Experiment().replace(task__length=12, model__hidden_size=8))
    yield w
    w.close()


def _keys(action) -> set[str]:
    return {s.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()}


def test_every_shortcut_of_the_window_is_listed(win, qtbot):
    rows = shortcut_rows(win)
    listed = {(k, what) for keys, what, _ in rows for k in keys.split(", ")}
    actions = [a for a in win.findChildren(QtGui.QAction) if a.shortcuts()]
    assert len(actions) >= 10
    for a in actions:
        for k in _keys(a):
            assert (k, a.text().replace("&", "")) in listed, (k, a.text())
    # the lesson panel's buttons (what a clicker sends) and the window's menus with their paths
    assert ("PgDown", "Next ▶") in listed and ("PgUp", "◀ Back") in listed
    where = {what: place for _, what, place in rows}
    assert where["Save experiment"] == "File" and where["Keyboard shortcuts"] == "Help"
    assert where["Play"] == "Toolbar"
    assert len({(k, w) for k, w, _ in rows}) == len(rows)  # each once
    dlg = win.show_shortcuts()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, ShortcutsDialog) and dlg.table.rowCount() == len(rows)
    assert dlg.table.item(0, 0).text() == "Space"


def test_a_new_action_appears_in_the_list(win):
    a = QtGui.QAction("Something new", win)
    a.setShortcut(QtGui.QKeySequence("Ctrl+Alt+J"))
    win.addAction(a)
    assert ("Ctrl+Alt+J", "Something new", "Window") in shortcut_rows(win)


@pytest.mark.parametrize("cls", ALL_VIEWS, ids=[c.__name__ for c in ALL_VIEWS])
def test_every_view_describes_itself_with_a_typeset_equation(cls):
    text = cls.description
    assert len(text) > 200, f"{cls.__name__} has no description"
    assert "$$" in text  # its equation, on a line of its own
    tex_to_html(text)  # the rich-text fallback accepts it too (raises TexError otherwise)
    if available():
        fallbacks: list[str] = []
        html = typeset_html(text, fallbacks=fallbacks)
        assert fallbacks == [] and 'src="rnnlab-math:' in html


@pytest.mark.skipif(not available(), reason="ziamath is not installed")
def test_what_am_i_looking_at_opens_from_the_view_and_from_the_help_menu(win, qtbot):
    heat = win.views["heatmap"]
    dlg = heat.show_help()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, ViewHelpDialog) and heat.title in dlg.windowTitle()
    assert dlg.body.fallbacks == [] and dlg.body.typeset_count() >= 5
    assert "∂h_t/∂h_k" in dlg.body.plain_text().replace(" ", "")
    # pyqtgraph's right-click menu of every view carries the entry
    for p in win.plots:
        assert p.help_action in p.layout_widget.scene().contextMenu and p.help_action.text() == HELP_TEXT
    # Help ▸ What am I looking at? ▸ one entry per view
    sub = win.view_help_menu
    assert [a.text() for a in sub.actions()] == [p.title for p in win.plots]
    before = {id(w) for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, ViewHelpDialog)}
    sub.actions()[1].trigger()
    opened = [w for w in QtWidgets.QApplication.topLevelWidgets()
              if isinstance(w, ViewHelpDialog) and id(w) not in before]
    assert len(opened) == 1 and win.plots[1].title in opened[0].windowTitle()


def test_the_right_click_menu_off_the_plots_offers_the_entry(win, qtbot):
    view = win.views["loss"]
    seen: list[list[str]] = []

    def close_menu():
        menu = QtWidgets.QApplication.activePopupWidget()
        if menu is not None:
            seen.append([a.text() for a in menu.actions()])
            menu.close()

    timer = QtCore.QTimer()  # closes any menu that opens (a menu's exec() would wait for a click)
    timer.timeout.connect(close_menu)
    timer.start(50)
    try:
        # below the plots (the caption area, or the bottom margin): no ViewBox there
        pos = QtCore.QPoint(view.width() // 2, view.height() - 3)
        ev = QtGui.QContextMenuEvent(QtGui.QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos))
        QtWidgets.QApplication.sendEvent(view, ev)
        qtbot.waitUntil(lambda: bool(seen), timeout=2000)
        assert seen == [[HELP_TEXT]]
        # the views switch pyqtgraph's own plot menu off; where one is on (it carries the entry), it is left to
        # show the entry, with no second menu
        view = win.views["heatmap"]
        boxes = [i for i in view.layout_widget.scene().items() if type(i).__name__ == "ViewBox"]
        box = max(boxes, key=lambda b: b.sceneBoundingRect().width() * b.sceneBoundingRect().height())
        box.setMenuEnabled(True)
        centre = view.layout_widget.mapFromScene(box.sceneBoundingRect().center())
        pos = view.layout_widget.mapTo(view, centre)
        ev = QtGui.QContextMenuEvent(QtGui.QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos))
        QtWidgets.QApplication.sendEvent(view, ev)
        assert not ev.isAccepted() and len(seen) == 1
    finally:
        timer.stop()
