"""The badge above the plots that says the experiment is an imported model: the file, the layer and direction
diagnosed, the readout, and, when there is nothing to train, why (text from files is shown as plain text)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

__all__ = ["ImportBadge"]

_STYLE = ("QLabel#import_badge {background: #fff4d6; border: 1px solid #e69f00; border-radius: 4px; "
          "color: #4a3300; padding: 3px 8px; font-size: 11pt;}")


class ImportBadge(QtWidgets.QLabel):
    """Hidden for rnnlab's own networks; :meth:`show_for` an experiment."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("import_badge")
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # file names are the user's
        self.setWordWrap(True)
        self.setStyleSheet(_STYLE)
        self.hide()

    def show_for(self, exp) -> None:
        from ..train.imported import describe, no_loss

        text = describe(exp)
        if not text:
            self.hide()
            return
        why = no_loss(exp)
        self.setText(text + (f" — nothing to fine-tune: {why}" if why else " — Play fine-tunes this layer"))
        self.setToolTip(exp.model.source)
        self.show()
