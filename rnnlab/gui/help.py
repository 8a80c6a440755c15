"""Help that teaches: Help ▸ Keyboard shortcuts, generated from the window's own actions and buttons (so it never
goes stale), and a view's "What am I looking at?", from the view class's ``description`` (lesson-style text whose
equations are typeset, see :mod:`rnnlab.gui.maths`)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..lessons.tex import TexError
from .maths import MathBrowser

__all__ = ["shortcut_rows", "ShortcutsDialog", "ViewHelpDialog", "show_view_help", "HELP_TEXT"]

#: the context-menu entry of every view
HELP_TEXT = "What am I looking at?"


def _clean(text: str) -> str:
    """A menu text as read: without its mnemonic ampersands and the trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip()


def _keys(seqs) -> str:
    return ", ".join(s.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for s in seqs if not s.isEmpty())


def shortcut_rows(window: QtWidgets.QWidget) -> list[tuple[str, str, str]]:
    """Every keyboard shortcut of ``window`` as (keys, what it does, where it is): its menus' actions (with their
    menu path), its other actions (the toolbar's), its buttons' and its QShortcuts. Each (keys, action) once."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def add(keys: str, what: str, where: str, obj) -> None:
        if keys and id(obj) not in seen:
            seen.add(id(obj))
            rows.append((keys, what, where))

    def walk(menu: QtWidgets.QMenu, path: str) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), f"{path} ▸ {_clean(a.menu().title())}")
            elif not a.isSeparator():
                add(_keys(a.shortcuts()), _clean(a.text()), path, a)

    bar = window.menuBar() if isinstance(window, QtWidgets.QMainWindow) else None
    if bar is not None:
        for a in bar.actions():
            if a.menu() is not None:
                walk(a.menu(), _clean(a.menu().title()))
    for a in window.findChildren(QtGui.QAction):  # the rest: the toolbar's, the window's own
        bars = [o for o in a.associatedObjects() if isinstance(o, QtWidgets.QToolBar)]
        add(_keys(a.shortcuts()), _clean(a.text()), "Toolbar" if bars else "Window", a)
    for b in window.findChildren(QtWidgets.QAbstractButton):
        if not b.shortcut().isEmpty():
            owner = b.window().windowTitle() if b.window() is not window else ""
            dock = next((d for d in window.findChildren(QtWidgets.QDockWidget) if d.isAncestorOf(b)), None)
            add(_keys([b.shortcut()]), _clean(b.text()), dock.windowTitle() if dock else (owner or "window"), b)
    for s in window.findChildren(QtGui.QShortcut):
        add(_keys([s.key()]), s.whatsThis() or s.objectName() or "shortcut", "window", s)
    order = {"Toolbar": 0, "Window": 2}
    rows.sort(key=lambda r: (order.get(r[2], 1), r[2]))  # the training keys first, then menu by menu
    return rows


class ShortcutsDialog(QtWidgets.QDialog):
    """Help ▸ Keyboard shortcuts: a table of :func:`shortcut_rows`."""

    def __init__(self, window: QtWidgets.QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Keys", "Does", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, (keys, what, where) in enumerate(self.rows):
            for j, text in enumerate((keys, what, where)):
                item = QtWidgets.QTableWidgetItem(text)  # plain text items: no markup from any source
                if j == 0:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.resize(720, min(720, 80 + 30 * len(self.rows)))


class ViewHelpDialog(QtWidgets.QDialog):
    """A view's "What am I looking at?": its title and its description, equations typeset."""

    def __init__(self, view: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent or view.window())
        title = getattr(view, "title", "") or type(view).__name__
        self.setWindowTitle(f"What am I looking at? {title}")
        lay = QtWidgets.QVBoxLayout(self)
        head = QtWidgets.QLabel(title)
        head.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        head.setStyleSheet("font-size: 15pt; font-weight: bold; color: #123b5c;")
        lay.addWidget(head)
        self.body = MathBrowser()
        self.body.setObjectName("view_help")
        font = self.body.font()
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.25)
        self.body.document().setDefaultFont(font)
        self.body.document().setDefaultStyleSheet("p { margin-bottom: 6px; } li { margin-bottom: 4px; }")
        text = getattr(view, "description", "") or "No description for this view yet."
        try:
            self.body.set_tex(text)
        except TexError as exc:  # a description is checked by the tests; still, show it rather than nothing
            self.body.setPlainText(f"{text}\n\n({exc})")
        lay.addWidget(self.body, 1)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.resize(640, 520)


def show_view_help(view: QtWidgets.QWidget) -> ViewHelpDialog:
    """Open (non-modal) the "What am I looking at?" window of ``view``; returns it."""
    dlg = ViewHelpDialog(view)
    dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
