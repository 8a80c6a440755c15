"""Presentation mode, and applying a classroom file's access rules (locks, hidden keys) to the panels.

Presentation mode is for a projector at the back of a room: full screen, fonts and lines about 1.6× larger and
bold, a high-contrast palette (black on white), and the advanced controls hidden. Classroom files (the format is
in docs/classroom.md; they are read by :mod:`rnnlab.lessons.classroom`, without Qt) choose an experiment *or* a
lesson, presentation mode, and the controls students may not change (``lock``) or see (``hide``).
"""

from __future__ import annotations

from PySide6 import QtCore

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

    def release_app(self) -> None:
        """The window closes in presentation mode: give the application its own font and palette back (they are
        the application's, not the window's: a compare window or a next window would inherit the large font)."""
        from PySide6 import QtWidgets

        saved = getattr(self, "_saved", None)
        if self.on and saved is not None:
            app = QtWidgets.QApplication.instance()
            app.setFont(saved["font"])
            app.setPalette(saved["palette"])

    def set(self, on: bool, fullscreen: bool = True) -> None:
        """In or out of presentation mode. Leaving restores exactly what entering found: fonts and palette, the
        window's geometry and state (maximised, normal), the docks, the focused view."""
        from PySide6 import QtGui, QtWidgets

        app = QtWidgets.QApplication.instance()
        win = self.window
        if on == self.on:
            return
        if on:
            win.remember_normal_layout()  # (before self.on: the layout now is the normal one)
        self.on = on
        if on:
            self._saved = {"font": QtGui.QFont(app.font()), "palette": QtGui.QPalette(app.palette()),
                           "rect": win.geometry(), "state": win.saveState(),
                           "window_state": win.windowState(), "focused": win.view_area.focused}
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
            win.controls_dock.hide()  # View ▸ Experiment brings it back
            if fullscreen:
                win.showFullScreen()
        else:
            saved = getattr(self, "_saved", None)
            if saved is not None:
                app.setFont(saved["font"])
                app.setPalette(saved["palette"])
                win.setWindowState(saved["window_state"])
                win.restoreState(saved["state"])
                if not saved["window_state"] & (QtCore.Qt.WindowState.WindowMaximized
                                                | QtCore.Qt.WindowState.WindowFullScreen):
                    win.setGeometry(saved["rect"])  # the same screen: exactly where it was
                win.view_area.focus(saved["focused"])
        scale = SCALE if on else 1.0
        win.banner.scale = scale
        if win.banner.kind:
            win.banner.setStyleSheet(win.banner.styleSheet().replace(
                f"font-size: {12 * (1.0 if on else SCALE):.0f}pt", f"font-size: {12 * scale:.0f}pt"))
        scale_widget_fonts(win.lesson_panel, scale)
        if hasattr(win.lesson_panel, "body"):
            scale_document_font(win.lesson_panel.body, scale)
        # fewer, larger views (every view at this scale): the area lays out what is readable at this scale (a
        # watched view stays first)
        win.view_area.set_mode(scale, SECONDARY_VIEWS if on else ())
        if hasattr(win, "presentation_action"):
            win.presentation_action.setChecked(on)
        self._apply_access()


def scale_widget_fonts(root, scale: float) -> None:
    """Scale every ``font-size: N pt`` in the style sheets of ``root`` and its children (relative to the sheet
    each had at scale 1, so scaling twice never compounds)."""
    import re

    from PySide6 import QtWidgets

    for w in [root, *root.findChildren(QtWidgets.QWidget)]:
        css = w.styleSheet()
        base = w.property("rnnlab_base_css")
        if base is None or (css != w.property("rnnlab_scaled_css")):  # set anew since it was scaled
            if "font-size" not in css:
                continue
            base = css
            w.setProperty("rnnlab_base_css", base)
        scaled = re.sub(r"font-size: *([0-9.]+)pt", lambda m: f"font-size: {float(m.group(1)) * scale:.0f}pt", base)
        w.setProperty("rnnlab_scaled_css", scaled)
        w.setStyleSheet(scaled)


def scale_document_font(browser, scale: float) -> None:
    """A text browser's document font, relative to its size at scale 1."""
    doc = browser.document()
    f = doc.defaultFont()
    base = browser.property("rnnlab_base_pt")
    if base is None:
        base = f.pointSizeF()
        browser.setProperty("rnnlab_base_pt", base)
    f.setPointSizeF(base * scale)
    doc.setDefaultFont(f)
