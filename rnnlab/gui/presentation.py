"""Presentation mode, and applying a classroom file's access rules (locks, hidden keys) to the panels.

Presentation mode is for a projector at the back of a room: full screen, fonts and lines about 1.6× larger and
bold, a high-contrast palette (black on white), and the advanced controls hidden. Classroom files (the format is
in docs/classroom.md; they are read by :mod:`rnnlab.lessons.classroom`, without Qt) choose an experiment *or* a
lesson, presentation mode, and the controls students may not change (``lock``) or see (``hide``).
"""

from __future__ import annotations

from ..lessons.classroom import Classroom, load_classroom

__all__ = ["Classroom", "load_classroom", "ADVANCED_KEYS", "Presentation"]

#: controls hidden in presentation mode (they matter for research, not for a lecture)
ADVANCED_KEYS = frozenset({
    "model.input_scale", "model.output_scale", "model.dtype", "model.sparse_k", "task.mem_values",
    "task.mem_positions", "training.beta1", "training.beta2", "training.eval_every", "training.eval_batch_size",
    "remedies.hf_damping", "remedies.hf_max_cg", "remedies.esn_washout", "remedies.esn_ridge",
})
SCALE = 1.6
#: views hidden in presentation mode (the lesson's watched view is shown even if listed here)
SECONDARY_VIEWS = ("gradient_flow", "hidden_states", "saturation")


class Presentation:
    """Switches a main window in and out of presentation mode."""

    def __init__(self, window):
        self.window = window
        self.on = False
        self.room: Classroom | None = None
        self._font = None
        self._palette = None

    def set_classroom(self, room: Classroom | None) -> None:
        self.room = room
        self._apply_access()

    def _apply_access(self) -> None:
        hide = set(self.room.hide if self.room else ())
        if self.on:
            hide |= ADVANCED_KEYS
        locks = self.window.controller.locks  # every classroom file opened so far (they only add locks)
        for panel in self.window.panels:
            panel.set_access(locked=locks.by_key, hidden=hide)

    def toggle(self) -> None:
        self.set(not self.on)

    def set(self, on: bool, fullscreen: bool = True) -> None:
        from PySide6 import QtGui, QtWidgets

        app = QtWidgets.QApplication.instance()
        win = self.window
        if on == self.on:
            return
        self.on = on
        if on:
            self._font, self._palette = QtGui.QFont(app.font()), QtGui.QPalette(app.palette())
            f = QtGui.QFont(app.font())
            f.setPointSizeF(max(f.pointSizeF(), 9.0) * SCALE)
            app.setFont(f)
            pal = QtGui.QPalette()
            for role, colour in ((QtGui.QPalette.ColorRole.Window, "#ffffff"),
                                 (QtGui.QPalette.ColorRole.WindowText, "#000000"),
                                 (QtGui.QPalette.ColorRole.Base, "#ffffff"), (QtGui.QPalette.ColorRole.Text, "#000000"),
                                 (QtGui.QPalette.ColorRole.Button, "#f0f0f0"),
                                 (QtGui.QPalette.ColorRole.ButtonText, "#000000"),
                                 (QtGui.QPalette.ColorRole.Highlight, "#0050a0"),
                                 (QtGui.QPalette.ColorRole.HighlightedText, "#ffffff")):
                pal.setColor(role, QtGui.QColor(colour))
            app.setPalette(pal)
            self._dock_was_visible = win.controls_dock.isVisible()
            win.controls_dock.hide()  # View ▸ Experiment brings it back
            if fullscreen:
                win.showFullScreen()
        else:
            if self._font is not None:
                app.setFont(self._font)
                app.setPalette(self._palette)
            win.controls_dock.setVisible(getattr(self, "_dock_was_visible", True))
            win.showNormal()
        for p in win.plots:
            p.set_scale(SCALE if on else 1.0)
            p.setVisible(not (on and p.view_id in SECONDARY_VIEWS) or p is getattr(win, "watched", None))
        from .main_window import PRESENTATION_ROW_SIZES, ROW_SIZES

        # the hidden third row leaves the space to the others
        win.rows_splitter.setSizes(list(PRESENTATION_ROW_SIZES if on else ROW_SIZES))
        self._apply_access()
