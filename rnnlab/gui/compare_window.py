"""Compare mode: two experiments side by side, from the same seed and the same data, differing only in the
settings the user picked. Heatmaps side by side, curves overlaid one colour each, and the difference stated."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..studies.compare import RunStats, make_pair, summarize
from ..config import ConfigError, Experiment, describe_keys
from .controller import Controller
from .maths import rich_fallback
from .plots.heatmap import HeatmapPlot
from .plots.overlay import OverlayPlot

__all__ = ["CompareWindow", "ChooseDifference"]


class CompareWindow(QtWidgets.QMainWindow):
    def __init__(self, exp: Experiment, changes: dict, mode: str = "process", parent=None):
        super().__init__(parent)
        self.a_exp, self.b_exp, self.diff = make_pair(exp, changes)
        self.setWindowTitle("rnnlab — compare: " + ", ".join(f"{k} = {vb!r}" for k, (_, vb) in self.diff.items()))
        self.ctrl = {"A": Controller(self.a_exp, mode=mode, parent=self),
                     "B": Controller(self.b_exp, mode=mode, parent=self)}
        self.stats = {"A": RunStats(), "B": RunStats()}
        self.heat = {"A": HeatmapPlot(), "B": HeatmapPlot()}
        self.overlay = OverlayPlot()
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-size: 12pt; padding: 6px; background: #f7f7f7;")
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.addWidget(self.summary)
        heads = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for run, colour in (("A", "#0072B2"), ("B", "#D55E00")):
            box = QtWidgets.QWidget()
            v = QtWidgets.QVBoxLayout(box)
            v.setContentsMargins(0, 0, 0, 0)
            label = QtWidgets.QLabel(self._describe(run))
            label.setStyleSheet(f"color: {colour}; font-weight: bold; font-size: 12pt;")
            v.addWidget(label)
            v.addWidget(self.heat[run], 1)
            heads.addWidget(box)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(heads)
        split.addWidget(self.overlay)
        split.setSizes([450, 450])
        lay.addWidget(split, 1)
        self.setCentralWidget(central)
        tb = self.addToolBar("Transport")
        self.play_action = tb.addAction("▶ Play both", self.toggle)
        self.play_action.setShortcut(QtGui.QKeySequence("Space"))
        tb.addAction("Step both", lambda: self.step(1)).setShortcut(QtGui.QKeySequence("S"))
        tb.addAction("Reset both", self.reset).setShortcut(QtGui.QKeySequence("R"))
        tb.addSeparator()
        self.close_action = tb.addAction("Close compare", self.close)  # also when the window manager draws none
        self.close_action.setShortcuts([QtGui.QKeySequence("Ctrl+W"), QtGui.QKeySequence("Esc")])
        self.close_action.setToolTip("Close this window and stop both runs (Ctrl+W, Esc)")
        self._latest = {"A": None, "B": None}
        for run in "AB":
            self.ctrl[run].frame.connect(lambda snap, run=run: self._on_frame(run, snap))
            self.ctrl[run].request_snapshot(True)
        self.resize(1500, 950)
        self._update_summary()

    def _describe(self, run: str) -> str:
        vals = ", ".join(f"{k} = {(va if run == 'A' else vb)!r}" for k, (va, vb) in self.diff.items())
        return f"{run}: {vals}"

    def _on_frame(self, run: str, snap) -> None:
        self.stats[run].update(snap)
        self.heat[run].update(snap)
        self._latest[run] = snap
        self.overlay.update_pair(snap if run == "A" else None, snap if run == "B" else None)
        self._update_summary()

    def _update_summary(self) -> None:
        snap = self._latest["A"] or self._latest["B"]
        base = snap.baseline if snap is not None else None
        self.summary.setText(summarize(self.stats["A"], self.stats["B"], self.diff, base))

    def summary_text(self) -> str:
        return self.summary.text()

    def toggle(self) -> None:
        playing = not self.ctrl["A"].playing
        for c in self.ctrl.values():
            c.play() if playing else c.pause()
        self.play_action.setText("⏸ Pause both" if playing else "▶ Play both")

    def step(self, n: int = 1) -> None:
        for c in self.ctrl.values():
            c.step(n)

    def reset(self) -> None:
        for c in self.ctrl.values():
            c.reset()

    def closeEvent(self, ev) -> None:  # noqa: N802
        for c in self.ctrl.values():
            c.shutdown()
        super().closeEvent(ev)


class ChooseDifference(QtWidgets.QDialog):
    """Pick the one setting B changes: the key, then its value in the key's own editor (a list of choices, a check
    box, a number box in the key's range), so B's value is typed as the setting is; the preset's contrast is offered
    first. A locked key (a classroom file) is not offered."""

    def __init__(self, exp: Experiment, suggestion: dict | None = None, parent=None, locked=()):
        super().__init__(parent)
        self.setWindowTitle("Compare: what should B change?")
        self.exp = exp
        self.key = QtWidgets.QComboBox()
        for row in describe_keys():
            if row["key"] in locked:
                continue
            self.key.addItem(row["key"])
            self.key.setItemData(self.key.count() - 1, rich_fallback(row["doc"]),
                                 QtCore.Qt.ItemDataRole.ToolTipRole)
        self.current = QtWidgets.QLabel()
        self.error = QtWidgets.QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.form = QtWidgets.QFormLayout(self)
        self.form.addRow("Setting", self.key)
        self.form.addRow("", self.current)
        self.value_row = QtWidgets.QWidget()
        self._value_lay = QtWidgets.QHBoxLayout(self.value_row)
        self._value_lay.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Value in B", self.value_row)
        self.form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.form.addRow(buttons)
        self.changes: dict = {}
        self.editor = None
        self.key.currentTextChanged.connect(self._key_changed)
        k, v = next(iter(suggestion.items())) if suggestion else ("remedies.clip", None)
        if self.key.findText(k) < 0:
            k, v = self.key.itemText(0), None
        self.key.setCurrentText(k)
        self._key_changed(k)
        if v is not None:
            self.editor.set(v)

    def _key_changed(self, key: str) -> None:
        from .panels.base import make_editor

        if not key:
            return
        if self.editor is not None:
            self.editor.widget.deleteLater()
        self.editor = make_editor(key)
        self.editor.set(self.exp.get(key))
        self._value_lay.addWidget(self.editor.widget)
        self.current.setText(f"A has {self.exp.get(key)!r}")
        self.error.clear()

    def value(self):
        """B's value, read from the key's editor (typed as the key is)."""
        w = self.editor.widget
        if isinstance(w, QtWidgets.QComboBox):
            return w.currentData()
        if isinstance(w, QtWidgets.QCheckBox):
            return w.isChecked()
        if isinstance(w, QtWidgets.QLineEdit):
            return w.text().strip()
        return w.value()  # spin boxes and the log slider

    def _accept(self) -> None:
        key, value = self.key.currentText(), self.value()
        if value == self.exp.get(key):
            self.error.setText(f"B would equal A ({key} = {value!r}): pick another value.")
            return
        try:
            _, _, diff = make_pair(self.exp, {key: value})
        except (ConfigError, ValueError) as exc:
            self.error.setText(str(exc))
            return
        self.changes = {k: vb for k, (_, vb) in diff.items()}
        self.accept()
