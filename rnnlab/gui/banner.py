"""Banners above the plots: the explosion banner (what exploded, when, last finite gradient norm; Rewind/Reset)
and the information banner (a preset's description, or an error, for the teacher to read aloud)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

__all__ = ["Banner"]

_STYLES = {
    "error": "background: #fde2e1; border: 2px solid #c0392b; color: #7b1d14;",
    "info": "background: #e3effa; border: 1px solid #2c7bb6; color: #123b5c;",
}


class Banner(QtWidgets.QFrame):
    rewindClicked = QtCore.Signal()
    resetClicked = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rewind_button = QtWidgets.QPushButton("Rewind to last finite weights")
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.close_button = QtWidgets.QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Hide this message")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.rewind_button)
        lay.addWidget(self.reset_button)
        lay.addWidget(self.close_button)
        self.rewind_button.clicked.connect(self.rewindClicked)
        self.reset_button.clicked.connect(self.resetClicked)
        self.close_button.clicked.connect(self.hide)
        self.kind = ""
        self.scale = 1.0  # presentation mode: fonts × scale
        self.hide()

    def show_explosion(self, explosion) -> None:
        self._show("error", f"<b>Training exploded.</b> {explosion.message()}<br>Switch a remedy on (gradient "
                            "clipping, a smaller spectral radius or learning rate), then rewind or reset.",
                   buttons=True)

    def show_info(self, html: str) -> None:
        self._show("info", html, buttons=False)

    def _show(self, kind: str, html: str, buttons: bool) -> None:
        self.kind = kind
        self.setStyleSheet(f"QFrame#banner {{{_STYLES[kind]} border-radius: 4px;}} "
                           f"QLabel {{font-size: {12 * self.scale:.0f}pt;}}")
        self.label.setText(html)
        self.rewind_button.setVisible(buttons)
        self.reset_button.setVisible(buttons)
        self.show()

    def text(self) -> str:
        return self.label.text()
