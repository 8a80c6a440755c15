"""Config-bound editors built from the field metadata, and the collapsible section that holds them.

One rule binds every control: the widget's committed value goes to :meth:`Controller.set_value`; the controller's
``experimentChanged`` sets every widget back from the experiment (with its signals blocked). A refused value (out of
range, incompatible, declined reset) therefore snaps back on its own. Whether a control is enabled is decided in
one place, :func:`rnnlab.train.rules.applies` (a control that has no effect on this experiment is greyed out and
its tooltip says why), combined with a classroom file's locks (a locked control is disabled and its label shows a
padlock and names the file). The mouse wheel scrolls the panel: a control takes the wheel only once it has keyboard
focus (:class:`WheelGuard`), so scrolling past a combo box never changes the experiment.
"""

from __future__ import annotations

import html
import math

from PySide6 import QtCore, QtGui, QtWidgets
from superqt import QCollapsible, QLargeIntSpinBox
from superqt.utils import signals_blocked

from ...config import key_field
from ...train import rules
from ..maths import set_math_tooltip

__all__ = ["Editor", "make_editor", "ConfigSection", "LogSlider", "KeyLabel", "WheelGuard"]

#: widgets that would change a value on a wheel notch
_WHEEL_TYPES = (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox, QtWidgets.QAbstractSlider)


class WheelGuard(QtCore.QObject):
    """An event filter: a wheel event over a control without keyboard focus scrolls the enclosing scroll area
    instead of changing the control. Click (or Tab to) a control to give it focus; then the wheel changes it."""

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt naming)
        if ev.type() != QtCore.QEvent.Type.Wheel or not isinstance(obj, QtWidgets.QWidget) or obj.hasFocus():
            return False
        w = obj.parentWidget()
        while w is not None and not isinstance(w, QtWidgets.QAbstractScrollArea):
            w = w.parentWidget()
        if w is not None:
            bar = w.verticalScrollBar()
            steps = ev.angleDelta().y() / 120.0
            bar.setValue(bar.value() - int(round(steps * bar.singleStep() * 3)))
        return True  # never to the control

    def guard(self, widget: QtWidgets.QWidget) -> None:
        """Guard ``widget`` and every value-changing widget inside it."""
        for w in [widget, *widget.findChildren(QtWidgets.QWidget)]:
            if isinstance(w, _WHEEL_TYPES):
                w.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)  # the wheel alone never gives focus
                w.installEventFilter(self)


class KeyLabel(QtWidgets.QLabel):
    """A control's label; a locked control's label shows a padlock before the text."""

    ICON = 14

    def __init__(self, text: str, parent=None):
        super().__init__(text, parent)
        self.locked = False
        self._pm = None

    def set_locked(self, on: bool) -> None:
        if on == self.locked:
            return
        self.locked = on
        self.setContentsMargins(self.ICON + 4 if on else 0, 0, 0, 0)
        self.update()

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        if self.locked:
            from PySide6 import QtGui

            from ..locks import lock_pixmap

            if self._pm is None or self._pm.devicePixelRatio() != self.devicePixelRatioF():
                self._pm = lock_pixmap(self.ICON, dpr=self.devicePixelRatioF())
            p = QtGui.QPainter(self)
            p.drawPixmap(0, max(0, (self.height() - self.ICON) // 2), self._pm)
            p.end()


class LogSlider(QtWidgets.QWidget):
    """A slider on a log10 scale with an editable number beside it (e.g. the learning rate). The number shows the
    true value even outside the slider's range; ``moved`` follows a drag, ``committed`` fires on release, on a
    keyboard step and on Enter in the number."""

    committed = QtCore.Signal(float)
    moved = QtCore.Signal(float)

    STEPS_PER_DECADE = 20

    def __init__(self, lo: float, hi: float, parent=None):
        super().__init__(parent)
        self.lo, self.hi = math.log10(lo), math.log10(hi)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, int(round((self.hi - self.lo) * self.STEPS_PER_DECADE)))
        self.edit = QtWidgets.QLineEdit()
        self.edit.setFixedWidth(80)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.edit)
        self.slider.valueChanged.connect(self._on_moved)
        self.slider.sliderReleased.connect(lambda: self.committed.emit(self._from_pos(self.slider.value())))
        self.slider.actionTriggered.connect(self._on_action)
        self.edit.editingFinished.connect(self._on_edit)

    def _on_moved(self, pos: int) -> None:
        v = self._from_pos(pos)
        self.edit.setText(f"{v:.3g}")
        self.moved.emit(v)

    def _from_pos(self, pos: int) -> float:
        return float(10 ** (self.lo + pos / self.STEPS_PER_DECADE))

    def _on_action(self, action: int) -> None:
        # keyboard and page steps commit at once (dragging commits on release)
        if not self.slider.isSliderDown():
            QtCore.QTimer.singleShot(0, lambda: self.committed.emit(self._from_pos(self.slider.value())))

    def _on_edit(self) -> None:
        try:
            v = float(self.edit.text())
        except ValueError:
            self.edit.setText(f"{self.value():.3g}")
            return
        self.committed.emit(v)

    def value(self) -> float:
        try:
            return float(self.edit.text())
        except ValueError:
            return self._from_pos(self.slider.value())

    def setValue(self, v: float) -> None:  # noqa: N802 (Qt naming)
        with QtCore.QSignalBlocker(self.slider):
            lv = math.log10(v) if v > 0 else self.lo
            self.slider.setValue(int(round((min(max(lv, self.lo), self.hi) - self.lo) * self.STEPS_PER_DECADE)))
        self.edit.setText(f"{v:.3g}")


class FloatSpin(QtWidgets.QDoubleSpinBox):
    """A double spin box that shows and accepts any float its key allows (1e-10, 0.05, 1234.5): six significant
    digits instead of a fixed number of decimals (four decimals would show a ridge of 1e-10 as 0.0000)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDecimals(15)  # what the box stores; the text shows significant digits

    def textFromValue(self, v: float) -> str:  # noqa: N802 (Qt naming)
        return format(v, ".6g")

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.replace(self.suffix(), "").strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102
        t = text.strip()
        if not t or t in ("-", "+", ".", "-.", "+.") or t[-1] in "eE+-":
            return QtGui.QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            return QtGui.QValidator.State.Invalid, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QtGui.QValidator.State.Acceptable if ok else QtGui.QValidator.State.Intermediate), text, pos


class _EditedText(QtCore.QObject):
    """A line edit's text as a signal, only when the user changed it (``editingFinished`` also fires on a mere
    focus change, which would re-apply an unchanged file name)."""

    committed = QtCore.Signal(str)

    def __init__(self, edit: QtWidgets.QLineEdit):
        super().__init__(edit)
        edit.editingFinished.connect(lambda: self.committed.emit(edit.text().strip()) if edit.isModified() else None)
        edit.editingFinished.connect(lambda: edit.setModified(False))


class Editor:
    """A widget bound to one dotted config key: ``set(value)`` shows a value, ``committed(value)`` fires when the
    user commits one."""

    def __init__(self, key: str, widget: QtWidgets.QWidget, setter, signal, convert=lambda v: v):
        self.key, self.widget, self._setter, self.signal, self.convert = key, widget, setter, signal, convert

    def set(self, value) -> None:
        with signals_blocked(self.widget):
            self._setter(value)


def _tooltip_tex(key: str) -> str:
    """A setting's help from its metadata, in the TeX of :mod:`rnnlab.texmath` (its formulas are typeset)."""
    f = key_field(key)
    doc = f.metadata.get("doc", "")
    if f.metadata.get("resets"):
        doc += " Changing it needs new weights (the run restarts)."
    return doc


def _set_tooltip(w: QtWidgets.QWidget, key: str, note: str = "") -> None:
    """The key in bold, its help with typeset formulas (typeset when first shown), then ``note`` in italics."""
    after = f"<p><i>{html.escape(note)}</i></p>" if note else ""
    set_math_tooltip(w, _tooltip_tex(key), before=f"<b>{html.escape(key)}</b>", after=after)


def make_editor(key: str) -> Editor:
    """The natural widget for a key, from its metadata: choices → combo box, bool → check box, int → spin box,
    text → line edit, log-scale float → :class:`LogSlider`, other float → double spin box (committed on Enter or
    focus-out)."""
    f = key_field(key)
    meta = f.metadata
    ftype = f.type if isinstance(f.type, type) else {"int": int, "float": float, "bool": bool, "str": str}[f.type]
    if meta.get("choices"):
        w = QtWidgets.QComboBox()
        for c in meta["choices"]:
            w.addItem(str(c), c)
        ed = Editor(key, w, lambda v: w.setCurrentIndex(max(0, w.findData(v))), w.activated,
                    lambda i: w.itemData(i))
    elif ftype is bool:
        w = QtWidgets.QCheckBox()
        ed = Editor(key, w, lambda v: w.setChecked(bool(v)), w.toggled, bool)
    elif ftype is int:
        lo = int(meta["lo"] if meta["lo"] is not None else -2**31)
        hi = int(meta["hi"] if meta["hi"] is not None else 2**31 - 1)
        # a QSpinBox holds 32 bits: the seed (up to 2⁶³ − 1) needs superqt's large-integer spin box
        w = QtWidgets.QSpinBox() if -2**31 <= lo and hi <= 2**31 - 1 else QLargeIntSpinBox()
        w.setRange(lo, hi)
        w.setKeyboardTracking(False)
        ed = Editor(key, w, lambda v: w.setValue(int(v)), w.valueChanged, int)
    elif ftype is str:  # a file name or a column list: committed on Enter or when the field loses focus
        w = QtWidgets.QLineEdit()
        w.setClearButtonEnabled(True)
        ed = Editor(key, w, lambda v: w.setText(str(v)), _EditedText(w).committed, str)
    elif meta.get("log"):
        hi = meta["hi"] or 10.0
        lo = meta["lo"] if meta["lo"] and meta["lo"] > 0 else hi * 1e-5  # an open lower bound of 0: five decades
        w = LogSlider(max(lo, 1e-6), hi)
        ed = Editor(key, w, w.setValue, w.committed, float)
    else:
        w = FloatSpin()
        w.setRange(float(meta["lo"] if meta["lo"] is not None else -1e9),
                   float(meta["hi"] if meta["hi"] is not None else 1e9))
        w.setSingleStep(0.05)
        w.setKeyboardTracking(False)
        ed = Editor(key, w, lambda v: w.setValue(float(v)), w.valueChanged, float)
    _set_tooltip(w, key)
    w.setObjectName(key)
    return ed


class ConfigSection(QCollapsible):
    """A collapsible section of labelled editors bound to the controller's experiment."""

    #: (label, key) rows; subclasses set these
    rows: list[tuple[str, str]] = []
    section_title = "Section"

    def __init__(self, controller, parent=None, expanded: bool = True):
        super().__init__(self.section_title, parent)
        self.controller = controller
        self.body = QtWidgets.QWidget()
        self.form = QtWidgets.QFormLayout(self.body)
        self.form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.editors: dict[str, Editor] = {}
        self._wheel = WheelGuard(self)
        self.locked: dict[str, str] = {}  # key -> the file that locked it
        self.hidden: set[str] = set()
        for label, key in self.rows:
            self.add_editor(label, key)
        self.build_extras()
        self._wheel.guard(self.body)
        self.addWidget(self.body)
        controller.experimentChanged.connect(self.sync)
        self.sync(controller.exp)
        if expanded:
            self.expand(animate=False)
        else:
            self.collapse(animate=False)

    def add_editor(self, label: str, key: str) -> Editor:
        ed = make_editor(key)
        ed.signal.connect(lambda *args, ed=ed: self._commit(ed, *args))
        lab = KeyLabel(label)
        _set_tooltip(lab, key)
        self._wheel.guard(ed.widget)
        self.form.addRow(lab, ed.widget)
        self.editors[key] = ed
        return ed

    def _commit(self, ed: Editor, *args) -> None:
        value = ed.convert(args[0]) if args else None
        self.controller.set_value(ed.key, value)

    def build_extras(self) -> None:
        """Hook for subclasses: extra widgets below the editors."""

    def sync(self, exp) -> None:
        """Show the experiment's values (model → view), and which controls apply to it."""
        for key, ed in self.editors.items():
            ed.set(exp.get(key))
        self.why_off = rules.applies(exp)
        self.sync_extras(exp)
        self._apply_access()

    def set_access(self, locked=(), hidden=()) -> None:
        """Lock (show, but not editable) or hide editors, e.g. for students (a classroom file). ``locked`` maps
        keys to the file that locked them (or is a plain collection of keys)."""
        by = locked if isinstance(locked, dict) or hasattr(locked, "items") else {k: "" for k in locked}
        self.locked = {k: v for k, v in by.items() if k in self.editors}
        self.hidden = set(hidden) & set(self.editors)
        self._apply_access()

    why_off: dict = {}

    def _apply_access(self) -> None:
        """Visibility (hidden keys), and enabled = applies to this experiment and not locked; the tooltip says
        why a control is off."""
        for key, ed in self.editors.items():
            w = ed.widget
            lab = self.form.labelForField(w)
            hide = key in self.hidden
            w.setVisible(not hide)
            if lab is not None:
                lab.setVisible(not hide)
            reason = self.why_off.get(key)
            locked = key in self.locked
            on = reason is None and not locked
            w.setEnabled(on)
            if lab is not None:
                lab.setEnabled(on or locked)  # a locked label stays readable, with its padlock
            if isinstance(lab, KeyLabel):
                lab.set_locked(locked)
            src = self.locked.get(key) or "the classroom file"
            note = (f"Locked by {src}: students cannot change it." if locked else "") + \
                   (f" No effect here: {reason}." if reason else "")
            _set_tooltip(w, key, note.strip())
            if lab is not None:
                _set_tooltip(lab, key, note.strip())

    def sync_extras(self, exp) -> None:
        pass
