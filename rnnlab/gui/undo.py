"""Undo and redo of setting changes (Edit ▸ Undo, Ctrl+Z; Edit ▸ Redo, Ctrl+Shift+Z), on Qt's QUndoStack.

Every change the controller applies (a control, a preset, an opened file, a lesson step, a classroom file) is
recorded as one command holding the whole experiment before and after, so undo is exact. Undo and redo go back
through :meth:`Controller.set_experiment` like every other route: a classroom file's locks hold (a locked key keeps
its value), and a change that needs new weights restarts the run (undo does not ask again: it was asked for).
Undo restores settings, not training: the weights stay where training took them unless the change needs new ones.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui

__all__ = ["UndoHistory"]


class _Change(QtGui.QUndoCommand):
    def __init__(self, history: "UndoHistory", old, new, text: str):
        super().__init__(text)
        self.history, self.old, self.new = history, old, new
        self._first = True

    def redo(self) -> None:
        if self._first:  # already applied when it was pushed
            self._first = False
            return
        self.history.apply(self.new)

    def undo(self) -> None:
        self.history.apply(self.old)


class UndoHistory(QtCore.QObject):
    """The undo stack of one controller."""

    LIMIT = 200

    def __init__(self, controller, parent=None):
        super().__init__(parent or controller)
        self.controller = controller
        self.stack = QtGui.QUndoStack(self)
        self.stack.setUndoLimit(self.LIMIT)
        controller.applied.connect(self._record)

    def _record(self, old, new, what: str) -> None:
        self.stack.push(_Change(self, old, new, what))

    def apply(self, exp) -> None:
        self.controller.set_experiment(exp, ask=False, record=False)

    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def actions(self, parent) -> tuple[QtGui.QAction, QtGui.QAction]:
        """Edit ▸ Undo and Edit ▸ Redo, named after the change they undo or redo."""
        u = self.stack.createUndoAction(parent, "&Undo")
        r = self.stack.createRedoAction(parent, "&Redo")
        u.setShortcuts(QtGui.QKeySequence.StandardKey.Undo)
        r.setShortcuts(QtGui.QKeySequence.StandardKey.Redo)
        return u, r
