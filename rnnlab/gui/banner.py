"""Banners above the plots: the explosion banner (what exploded, when, last finite gradient norm; Rewind/Reset),
the engine banner (the training process ended: what is known; Restart) and the information banner (a preset's
description, or an error, for the teacher to read aloud).

Text that comes from a file or from the engine (error messages, which quote values from files) is shown as
plain text: :meth:`Banner.show_message` escapes it (:func:`plain_html`), so markup in a file is never rendered
(no images, no links). Only rnnlab's own fixed markup (bold, line breaks) is rich text.
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["Banner", "INFO_TEXT", "plain_html", "rich_tooltip"]

INFO_TEXT = "#123b5c"  # the information banner's text colour (typeset equations are drawn in it)
_STYLES = {
    "error": "background: #fde2e1; border: 2px solid #c0392b; color: #7b1d14;",
    "info": f"background: #e3effa; border: 1px solid #2c7bb6; color: {INFO_TEXT};",
}
#: longest text a banner shows (messages are one line of at most 300 characters; a traceback is cut)
MAX_CHARS = 2000
#: a longer banner shows its first sentence (at most this many characters) and a "more" button: a preset's
#: description must not squeeze every plot
SHORT_CHARS = 160


def short_text(plain: str, limit: int = SHORT_CHARS) -> str | None:
    """The first sentence of ``plain`` (cut at a word within ``limit`` characters), or None when all of it is
    short enough to show."""
    plain = " ".join(plain.split())
    if len(plain) <= limit:
        return None
    end = plain.find(". ", 30)
    if 0 < end < limit:
        return plain[: end + 1]
    return plain[:limit].rsplit(" ", 1)[0] + " …"


def plain_html(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` as rich text that shows exactly these characters: escaped (``<img>`` shows as ``<img>``), line
    breaks kept, cut to ``limit`` characters."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False).replace("\n", "<br>")


def rich_tooltip(text: str, limit: int = 600) -> str:
    """A tooltip that shows ``text`` literally: Qt renders a tooltip as rich text when it merely looks like markup,
    so file text is escaped and wrapped in a paragraph (always rich text, never markup from the file)."""
    return f"<p>{plain_html(text, limit)}</p>"


class Banner(QtWidgets.QFrame):
    rewindClicked = QtCore.Signal()
    resetClicked = QtCore.Signal()
    restartClicked = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(QtCore.Qt.TextFormat.RichText)  # only escaped or rnnlab's own markup
        self.label.setOpenExternalLinks(False)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rewind_button = QtWidgets.QPushButton("Rewind to before the trouble")
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.restart_button = QtWidgets.QPushButton("Restart")
        self.restart_button.setToolTip("Start a new training engine from the experiment and its last checkpoint")
        self.more_button = QtWidgets.QToolButton()
        self.more_button.setText("more")
        self.more_button.setCheckable(True)
        self.more_button.setToolTip("Show the whole message")
        self.more_button.toggled.connect(self._expand)
        self.close_button = QtWidgets.QToolButton()
        self.close_button.setIcon(self.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Hide this message")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.more_button)
        lay.addWidget(self.rewind_button)
        lay.addWidget(self.reset_button)
        lay.addWidget(self.restart_button)
        lay.addWidget(self.close_button)
        self.rewind_button.clicked.connect(self.rewindClicked)
        self.reset_button.clicked.connect(self.resetClicked)
        self.restart_button.clicked.connect(self.restartClicked)
        self.close_button.clicked.connect(self.hide)
        self.kind = ""
        self.scale = 1.0  # presentation mode: fonts × scale
        self._full = self._short = self._plain = ""
        self.hide()

    def show_explosion(self, explosion) -> None:
        self._show("error", f"<b>Training exploded.</b> {plain_html(explosion.message())}<br>Switch a remedy on "
                            "(gradient clipping, a smaller spectral radius or learning rate), then rewind or reset.",
                   buttons=("rewind", "reset"))

    def show_engine_died(self, text: str) -> None:
        """The training engine ended without being asked to: ``text`` (plain) says what is known; Restart."""
        self._show("error", f"<b>The training engine has stopped.</b> {plain_html(text)}", buttons=("restart",))
        self.kind = "engine"

    def show_message(self, text: str) -> None:
        """An information banner with plain ``text`` (a message from the engine, an error naming a file)."""
        self.show_info(plain_html(text))

    def show_info(self, html_text: str, plain: str | None = None, short_html: str | None = None) -> None:
        """An information banner with rich text made by rnnlab (quote anything from a file with
        :func:`plain_html`). ``plain``: the same message as plain text, when the rich text holds pictures (typeset
        equations): :meth:`plain_text` returns it, and the folded banner shows its first sentence, or
        ``short_html`` when given (the first sentence with its equations typeset)."""
        self._show("info", html_text, buttons=(), plain=plain, short_html=short_html)

    def text_font(self) -> QtGui.QFont:
        """The font the banner's text is drawn in (12 pt, × the presentation scale)."""
        font = QtGui.QFont(self.label.font())
        font.setPointSizeF(round(12 * self.scale))
        return font

    def _show(self, kind: str, html_text: str, buttons: tuple[str, ...], plain: str | None = None,
              short_html: str | None = None) -> None:
        self.kind = kind
        self.setStyleSheet(f"QFrame#banner {{{_STYLES[kind]} border-radius: 4px;}} "
                           f"QLabel {{font-size: {12 * self.scale:.0f}pt;}}")
        self._full = html_text
        if plain is None:
            doc = QtGui.QTextDocument()
            doc.setHtml(html_text)
            plain = doc.toPlainText()
        self._plain = plain
        short = short_text(plain)
        self._short = (short_html or plain_html(short)) if short else ""
        self.more_button.blockSignals(True)
        self.more_button.setChecked(False)
        self.more_button.blockSignals(False)
        self.more_button.setVisible(bool(short))
        self._expand(False)
        self.rewind_button.setVisible("rewind" in buttons)
        self.reset_button.setVisible("reset" in buttons)
        self.restart_button.setVisible("restart" in buttons)
        self.show()

    def _expand(self, full: bool) -> None:
        """The whole text (``full``) or its first sentence."""
        self.label.setText(self._full if (full or not self._short) else self._short)
        self.more_button.setText("less" if full else "more")

    def text(self) -> str:
        """The whole message (rich text), whether or not it is expanded."""
        return self._full

    def plain_text(self) -> str:
        """The whole message, as a person reads it."""
        return self._plain
