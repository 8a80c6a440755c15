"""A caption under a plot's scene: a plain wrapping label, so a long explanation never widens the plot (a
pyqtgraph title or LabelItem sets its minimum width to its text, which would clip the plot in a narrow dock)."""

from __future__ import annotations

from PySide6 import QtWidgets

from .base import AXIS_FONT_PT

__all__ = ["add_caption"]


def add_caption(widget: QtWidgets.QWidget, text: str = "") -> QtWidgets.QLabel:
    """A word-wrapped label appended under ``widget.layout_widget`` (white, like the plots)."""
    label = QtWidgets.QLabel(text, widget)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: #222222; font-size: {AXIS_FONT_PT - 1}pt; background: white; padding: 1px 6px;")
    label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
    # a fixed height (three lines): a caption whose text changes must not resize the plot above it, which
    # would re-render the whole view on every diagnostics frame
    label.setFixedHeight(3 * label.fontMetrics().lineSpacing() + 4)
    label.setProperty("rnnlab_caption_lines", 3)  # presentation mode keeps three lines at its larger font
    lay = widget.layout()
    lay.setSpacing(0)
    lay.addWidget(label)
    return label
