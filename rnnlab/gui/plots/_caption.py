"""A caption under a plot's scene: a plain wrapping label, so a long explanation never widens the plot (a
pyqtgraph title or LabelItem sets its minimum width to its text, which would clip the plot in a narrow dock).

A caption is read whole, also from the back of a room: it is as tall as its text needs at its width (at least
``lines`` lines), never cut. It grows at once when a text needs more lines, and gives the height back only when
its width or font changes or it is emptied (a new run): a caption whose text changes every frame (a hover
read-out, a number) must not resize the plot above it on every frame, which would re-render the whole view. Only
a text taller than half the view (a long reason in a tiny view) is shortened, with "…" and the whole text in the
tooltip.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from .base import AXIS_FONT_PT

__all__ = ["add_caption", "Caption", "CAPTION_LINES"]

#: the height a caption keeps at least, in lines (an empty caption keeps it too: the plot does not jump)
CAPTION_LINES = 3
#: the largest share of its view's height a caption takes before its text is shortened
MAX_SHARE = 0.5


class Caption(QtWidgets.QLabel):
    """A word-wrapped label whose height follows its text (see the module docstring)."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None, lines: int = CAPTION_LINES):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setProperty("rnnlab_caption_lines", int(lines))
        self.lines = int(lines)
        self._full = ""  # the whole text (the label shows it shortened only beyond MAX_SHARE)
        self._h = 0  # the height given to the layout
        self._grown = 0  # the tallest text since the width or font last changed
        self._width = -1
        self._elided_tip: str | None = None  # the tooltip a shortened text set
        self.setText(text)

    # --- the text -------------------------------------------------------------------------------------------------
    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        text = str(text)
        self._full = text
        super().setText(text)
        if not text:
            self._grown = 0
        self.refit()

    def text(self) -> str:  # noqa: D102  (the whole text, also while a shortened one is shown)
        return self._full

    def text_height(self, width: int | None = None) -> int:
        """The height the whole text needs at ``width`` (default: the label's), margins included."""
        w = self.width() if width is None else width
        shown = QtWidgets.QLabel.text(self)
        if shown != self._full:
            QtWidgets.QLabel.setText(self, self._full)
        try:
            return QtWidgets.QLabel.heightForWidth(self, max(1, w))
        finally:
            if shown != self._full:
                QtWidgets.QLabel.setText(self, shown)

    def _base_height(self) -> int:
        """``lines`` lines of the current font (as a wrapped label lays them out), with the margins."""
        fm = self.fontMetrics()
        m = self.contentsMargins()
        per = fm.boundingRect(QtCore.QRect(0, 0, 10**6, 10**6), QtCore.Qt.TextFlag.TextWordWrap,
                              "\n".join(["Ag"] * max(1, self.lines))).height()
        return per + m.top() + m.bottom() + 2 * self.margin()

    # --- the height -----------------------------------------------------------------------------------------------
    def refit(self) -> None:
        """Give the caption the height its text needs (see the module docstring)."""
        self.ensurePolished()
        if self.width() != self._width:
            self._width = self.width()
            self._grown = 0
        need = self.text_height() if self._full else 0
        self._grown = max(self._grown, need)
        h = max(self._base_height(), self._grown)
        view = self.parentWidget()
        cap = int(MAX_SHARE * view.height()) if view is not None and view.height() > 0 else h
        if cap >= self._base_height():
            h = min(h, cap)
        if need > h:  # (only a text taller than the cap: a text that fits is shown whole)
            self._shorten(h)
        else:
            if QtWidgets.QLabel.text(self) != self._full:
                QtWidgets.QLabel.setText(self, self._full)
            if self._elided_tip is not None:
                if self.toolTip() == self._elided_tip:
                    self.setToolTip("")
                self._elided_tip = None
        if h != self._h:
            self._h = h
            self.updateGeometry()

    # the layout reads the height from here (a fixed minimum height would also make heightForWidth report it, so
    # a caption could never measure a shorter text again)
    def sizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(super().sizeHint().width(), self._h)

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(0, self._h)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return False  # (its height changes only through refit, never while the layout shares out the space)

    def _shorten(self, height: int) -> None:
        """Show as much of a too-long plain text as fits ``height``, ending in "…"; the whole text in the
        tooltip (rich text is left whole: cutting it could break its markup)."""
        if self.textFormat() == QtCore.Qt.TextFormat.RichText or QtGui.Qt.mightBeRichText(self._full):
            QtWidgets.QLabel.setText(self, self._full)
            return
        text, w = self._full, max(1, self.width())
        lo, hi = 0, len(text)
        while lo < hi:  # the longest prefix that fits
            mid = (lo + hi + 1) // 2
            QtWidgets.QLabel.setText(self, text[:mid].rstrip() + " …")
            if QtWidgets.QLabel.heightForWidth(self, w) <= height:
                lo = mid
            else:
                hi = mid - 1
        QtWidgets.QLabel.setText(self, text[:lo].rstrip() + " …")
        self._elided_tip = text
        self.setToolTip(text)

    def setFont(self, font: QtGui.QFont) -> None:  # noqa: N802
        super().setFont(font)
        self._grown = 0
        self.refit()

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802
        super().changeEvent(ev)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._grown = 0
            if getattr(self, "_width", -1) >= 0:  # (not while being built)
                self.refit()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(ev)
        if ev.size().width() != ev.oldSize().width():
            self.refit()


def add_caption(widget: QtWidgets.QWidget, text: str = "", lines: int = CAPTION_LINES) -> Caption:
    """A :class:`Caption` appended under ``widget.layout_widget`` (white, like the plots)."""
    label = Caption(text, widget, lines=lines)
    label.setStyleSheet(f"color: #222222; font-size: {AXIS_FONT_PT - 1}pt; background: white; padding: 1px 6px;")
    label.refit()
    lay = widget.layout()
    lay.setSpacing(0)
    lay.addWidget(label)
    return label
