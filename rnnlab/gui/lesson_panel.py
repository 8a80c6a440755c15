"""The lesson panel: a guided lesson shown one step at a time, beside the plots.

It shows a lesson chooser, the step's title and text in a large font (the text's equations typeset as vector
graphics by :mod:`rnnlab.gui.maths`, the rich text of :mod:`rnnlab.lessons` where that fails), a "Do" line (what
to do) and a "Watch" line (which view to look at), Back/Next buttons (also Page Up / Page Down, what a presentation
clicker sends) and "Step k of n".

The panel knows nothing about the main window. It says what it wants through signals:

* ``stepChanged(LessonStep)`` every time a step is shown;
* ``experimentRequested(Experiment)`` when that step's experiment should be loaded. A step that names no
  experiment of its own (no ``preset``, no ``set``) continues the previous step's run when it is reached with Next,
  so nothing is requested then; reached any other way (Back, a jump, another lesson) it requests its experiment.

:func:`highlight` draws a coloured frame around plot widgets (the previous frames disappear); give the panel the
window's plots with :meth:`LessonPanel.set_plots` and it highlights the watched views itself on every step.
"""

from __future__ import annotations

import html as _html
import weakref
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from ..lessons import Lesson, LessonError, LessonStep, lesson_names, load_lesson, step_experiment, tex_to_plain
from .banner import plain_html, rich_tooltip
from .maths import MathBrowser, MathLabel
from .plots import VIEWS

__all__ = ["LessonPanel", "highlight", "clear_highlight", "highlighted", "find_plots", "HIGHLIGHT_COLOR"]

#: the frame around a watched view (Okabe–Ito orange: visible on white plots, unlike the heatmap's blue and red)
HIGHLIGHT_COLOR = "#E69F00"
HIGHLIGHT_WIDTH = 5
BODY_PT = 14
TITLE_PT = 17
#: the Do box's stretch against the body's 1: it gets the room first, up to the height of its text
DO_STRETCH = 1000


# =================================================================================================================
# highlighting a view
# =================================================================================================================

class _Frame(QtWidgets.QWidget):
    """A transparent overlay child of ``target`` that paints a thick coloured border and follows its size."""

    def __init__(self, target: QtWidgets.QWidget, color: str = HIGHLIGHT_COLOR, width: int = HIGHLIGHT_WIDTH):
        super().__init__(target)
        self.setObjectName("lesson_highlight")
        self.color, self.width_px = QtGui.QColor(color), width
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.target = target
        target.installEventFilter(self)
        self._fit()
        self.show()

    def _fit(self) -> None:
        self.setGeometry(self.target.rect())
        self.raise_()

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt naming)
        if obj is self.target and ev.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Show,
                                                QtCore.QEvent.Type.ChildAdded):
            self._fit()
        return False

    def paintEvent(self, ev) -> None:  # noqa: N802
        p = QtGui.QPainter(self)
        pen = QtGui.QPen(self.color, self.width_px)
        pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
        p.setPen(pen)
        h = self.width_px / 2
        p.drawRect(QtCore.QRectF(self.rect()).adjusted(h, h, -h, -h))
        p.end()

    def remove(self) -> None:
        try:
            self.target.removeEventFilter(self)
        except RuntimeError:  # pragma: no cover - the target is already gone
            pass
        self.hide()
        self.setParent(None)
        self.deleteLater()


_frames: list[weakref.ref] = []


def _alive(frame: _Frame) -> bool:
    try:
        frame.isVisible()
        return True
    except RuntimeError:  # the C++ object was deleted with its plot
        return False


def clear_highlight() -> None:
    """Remove every frame drawn by :func:`highlight`."""
    for ref in _frames:
        f = ref()
        if f is not None and _alive(f):
            f.remove()
    _frames.clear()


def highlight(*widgets: QtWidgets.QWidget | Iterable[QtWidgets.QWidget] | None, color: str = HIGHLIGHT_COLOR,
              width: int = HIGHLIGHT_WIDTH) -> list[QtWidgets.QWidget]:
    """Frame ``widgets`` (plot widgets, or lists of them) in a coloured border; the previous frames are removed
    first, so each call replaces the highlight. ``highlight()`` with nothing clears it. Returns the frames."""
    clear_highlight()
    targets: list[QtWidgets.QWidget] = []
    for w in widgets:
        if w is None:
            continue
        if isinstance(w, QtWidgets.QWidget):
            targets.append(w)
        else:
            targets.extend(x for x in w if x is not None)
    frames = [_Frame(t, color, width) for t in targets]
    _frames.extend(weakref.ref(f) for f in frames)
    return frames


def highlighted() -> list[QtWidgets.QWidget]:
    """The widgets framed right now."""
    out = []
    for ref in _frames:
        f = ref()
        if f is not None and _alive(f) and f.parent() is not None:
            out.append(f.target)
    return out


def find_plots(plots: Sequence[QtWidgets.QWidget] | Mapping[str, QtWidgets.QWidget],
               views: Iterable[str]) -> list[QtWidgets.QWidget]:
    """The plot widgets showing the named views (``"heatmap"``, ``"grad_norms"``, …: the ``view_id`` of
    :data:`rnnlab.gui.plots.VIEWS`), in the order of ``views``; ``plots`` a list of widgets or a mapping from view
    id to widget (the window's :class:`~rnnlab.gui.view_area.Views`: only the watched views are looked up)."""
    if isinstance(plots, Mapping):
        return list(dict.fromkeys(plots[v] for v in views if v in plots))
    out = []
    for v in views:
        out.extend(p for p in plots if getattr(p, "view_id", None) == v and p not in out)
    return out


# =================================================================================================================
# the panel
# =================================================================================================================

class LessonPanel(QtWidgets.QWidget):
    """A guided lesson, one step at a time. See the module docstring for the signals."""

    stepChanged = QtCore.Signal(object)  # LessonStep
    experimentRequested = QtCore.Signal(object)  # Experiment
    lessonChanged = QtCore.Signal(object)  # Lesson

    def __init__(self, lessons: Sequence[Lesson] | None = None, parent: QtWidgets.QWidget | None = None,
                 plots: Sequence[QtWidgets.QWidget] | Mapping[str, QtWidgets.QWidget] | None = None, validate=None):
        super().__init__(parent)
        self.setObjectName("lesson_panel")
        #: ``validate(experiment)`` raises ConfigError for an experiment the engine could not switch to (the
        #: window's :meth:`Controller.validate`); a lesson file is opened only if every step passes
        self.validate = validate
        self.errors: list[LessonError] = []
        if lessons is None:
            lessons = []
            for name in lesson_names():
                try:
                    lessons.append(load_lesson(name, views=VIEWS))
                except LessonError as exc:  # a broken lesson file must not take the app down
                    self.errors.append(exc)
        self.lessons: list[Lesson] = list(lessons)
        self._plots = plots if isinstance(plots, Mapping) else list(plots or [])
        self._lesson_index = -1
        self._index = -1
        self._build()
        if self.lessons:
            self._select_lesson(0, emit=False)
        else:
            self._show_empty()

    # --- widgets --------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)

        top = QtWidgets.QHBoxLayout()
        self.chooser = QtWidgets.QComboBox()
        self.chooser.setToolTip("Choose a lesson")
        self.chooser.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(16)
        for lesson in self.lessons:
            self._add_chooser_item(lesson)
        self.chooser.activated.connect(self._on_chosen)
        self.open_button = QtWidgets.QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Open a lesson file (.toml, see docs/lessons.md)")
        self.open_button.clicked.connect(lambda: self.open_file())
        top.addWidget(self.chooser, 1)
        top.addWidget(self.open_button)
        lay.addLayout(top)

        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.summary.setStyleSheet("color: #555555; font-size: 11pt;")
        lay.addWidget(self.summary)

        self.title = QtWidgets.QLabel()
        self.title.setObjectName("lesson_step_title")
        self.title.setWordWrap(True)
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.title.setStyleSheet(f"font-size: {TITLE_PT}pt; font-weight: bold; color: #123b5c;")
        lay.addWidget(self.title)

        self.body = MathBrowser()
        self.body.setObjectName("lesson_text")
        self.body.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.body.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space and → stay with the window (Play, Step)
        font = self.body.font()
        font.setPointSizeF(BODY_PT)
        self.body.document().setDefaultFont(font)
        self.body.document().setDefaultStyleSheet("p { margin-bottom: 6px; } li { margin-bottom: 4px; }")
        self.body.setMinimumHeight(80)  # (it scrolls; the Do box below is what must be read whole)
        lay.addWidget(self.body, 1)

        self.do_label = MathLabel()  # its equations typeset too
        self.do_label.setObjectName("lesson_do")
        self.do_label.setWordWrap(True)
        self.do_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.do_label.setStyleSheet("QLabel#lesson_do { background: #fff4d6; border-left: 4px solid #E69F00; "
                                    "padding: 6px; font-size: 13pt; }")
        # the Do box is read whole: as tall as its text (the body above, which scrolls, gives way first)
        self.do_box = QtWidgets.QScrollArea()
        self.do_box.setObjectName("lesson_do_box")
        self.do_box.setWidgetResizable(True)
        self.do_box.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.do_box.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.do_box.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.do_box.setWidget(self.do_label)
        self.do_label.installEventFilter(self)  # its font changes (presentation mode): fitted again …
        self.do_box.installEventFilter(self)  # … and so does its width
        lay.addWidget(self.do_box, DO_STRETCH)

        self.watch_label = QtWidgets.QLabel()
        self.watch_label.setObjectName("lesson_watch")
        self.watch_label.setWordWrap(True)
        self.watch_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.watch_label.setStyleSheet("QLabel#lesson_watch { padding: 2px 6px; font-size: 13pt; }")
        lay.addWidget(self.watch_label)

        nav = QtWidgets.QHBoxLayout()
        self.back_button = QtWidgets.QPushButton("◀ Back")
        self.back_button.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_PageUp))
        self.back_button.setToolTip("Previous step (Page Up)")
        self.back_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.next_button = QtWidgets.QPushButton("Next ▶")
        self.next_button.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_PageDown))
        self.next_button.setToolTip("Next step (Page Down)")
        self.next_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.position = QtWidgets.QLabel()
        self.position.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.position.setStyleSheet("font-size: 12pt;")
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        nav.addWidget(self.back_button)
        nav.addWidget(self.position, 1)
        nav.addWidget(self.next_button)
        lay.addLayout(nav)
        self.setMinimumWidth(320)

    def _add_chooser_item(self, lesson: Lesson) -> None:
        self.chooser.addItem(f"{lesson.title_plain} ({len(lesson)} steps)")
        self.chooser.setItemData(self.chooser.count() - 1, rich_tooltip(lesson.summary),
                                 QtCore.Qt.ItemDataRole.ToolTipRole)  # the file's text, never its markup

    # --- state ----------------------------------------------------------------------------------------------------
    @property
    def lesson(self) -> Lesson | None:
        return self.lessons[self._lesson_index] if 0 <= self._lesson_index < len(self.lessons) else None

    @property
    def index(self) -> int:
        """0-based index of the step shown (−1 when there is no lesson)."""
        return self._index

    @property
    def step(self) -> LessonStep | None:
        lesson = self.lesson
        return lesson.steps[self._index] if lesson is not None and 0 <= self._index < len(lesson) else None

    def experiment(self):
        """The experiment of the step shown (None without a lesson)."""
        return step_experiment(self.step) if self.step is not None else None

    # --- navigation -----------------------------------------------------------------------------------------------
    def set_lesson(self, lesson: Lesson | str | int, index: int = 0) -> None:
        """Show ``lesson`` (a Lesson, a built-in name, the path of a file, or its index in the chooser) at step
        ``index``; emits the signals."""
        if isinstance(lesson, int):
            i = lesson
        elif isinstance(lesson, Lesson):
            i = next((k for k, x in enumerate(self.lessons) if x is lesson or x.path == lesson.path), -1)
            if i < 0:
                i = self.add_lesson(lesson)
        else:
            i = next((k for k, x in enumerate(self.lessons) if x.name == lesson or x.path == str(lesson)), -1)
            if i < 0:
                i = self.add_lesson(load_lesson(lesson, views=VIEWS))
        if not 0 <= i < len(self.lessons):
            raise IndexError(f"no lesson {lesson!r}")
        self._select_lesson(i, emit=True, index=index)

    def add_lesson(self, lesson: Lesson) -> int:
        """Append a lesson to the chooser (without showing it); returns its index."""
        self.lessons.append(lesson)
        self._add_chooser_item(lesson)
        return len(self.lessons) - 1

    def open_file(self, path: str | Path | None = None) -> bool:
        """Load a lesson file (asks for one when ``path`` is None) and show it; a malformed file is reported in a
        message box naming the file and the line. Returns whether a lesson was opened."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a lesson", "", "Lessons (*.toml)")
            if not path:
                return False
        try:
            lesson = load_lesson(Path(path), views=VIEWS)
            self._validate(lesson)
        except LessonError as exc:
            self.errors.append(exc)
            if self.isVisible():
                QtWidgets.QMessageBox.warning(self, "Lesson not loaded", rich_tooltip(str(exc), 2000))
            return False
        self.set_lesson(lesson)
        return True

    def _validate(self, lesson: Lesson) -> None:
        """Every step's experiment validated (and built where quick) before the lesson is shown: a LessonError at
        the first step that cannot run."""
        if self.validate is None:
            return
        from ..config import ConfigError

        for step in lesson.steps:
            try:
                self.validate(step_experiment(step))
            except ConfigError as exc:
                raise LessonError(lesson.path, step.line, f"step {step.number}: the experiment cannot run: {exc}",
                                  step=step.number) from None

    def go_to(self, index: int) -> None:
        """Show step ``index`` (0-based, clamped) of the current lesson; emits the signals."""
        lesson = self.lesson
        if lesson is None:
            return
        index = max(0, min(len(lesson) - 1, index))
        previous = self._index
        self._show(index)
        self._emit(continued=index == previous + 1)

    def next(self) -> None:
        """The next step (nothing on the last one)."""
        if self.lesson is not None and self._index + 1 < len(self.lesson):
            self.go_to(self._index + 1)

    def back(self) -> None:
        """The previous step (nothing on the first one)."""
        if self._index > 0:
            self.go_to(self._index - 1)

    def emit_current(self) -> None:
        """Emit ``stepChanged`` and ``experimentRequested`` for the step shown (e.g. right after connecting the
        signals, or when the panel is opened)."""
        if self.step is not None:
            self._emit(continued=False)

    # --- the plots to highlight -----------------------------------------------------------------------------------
    def set_plots(self, plots: Sequence[QtWidgets.QWidget] | Mapping[str, QtWidgets.QWidget]) -> None:
        """The window's plot widgets (or views by id): from now on, each step frames the views it watches (see
        :func:`highlight`)."""
        self._plots = plots if isinstance(plots, Mapping) else list(plots)
        self._highlight()

    def watched_plots(self, step: LessonStep | None = None) -> list[QtWidgets.QWidget]:
        """The plot widgets (among those given to :meth:`set_plots`) that ``step`` (default: the current) watches."""
        step = step or self.step
        return find_plots(self._plots, step.watch) if step is not None else []

    def _highlight(self) -> None:
        if self._plots:
            highlight(self.watched_plots())

    # --- internals ------------------------------------------------------------------------------------------------
    def _on_chosen(self, i: int) -> None:
        if i != self._lesson_index:  # choosing the lesson already shown keeps its step (and the run)
            self._select_lesson(i, emit=True)

    def _select_lesson(self, i: int, emit: bool, index: int = 0) -> None:
        self._lesson_index = i
        self.chooser.setCurrentIndex(i)
        lesson = self.lessons[i]
        self.summary.setText(lesson.summary_html)
        self.summary.setVisible(bool(lesson.summary))
        self._index = -1
        self._show(max(0, min(len(lesson) - 1, index)))
        if emit:
            self.lessonChanged.emit(lesson)
            self._emit(continued=False)

    def _show(self, index: int) -> None:
        lesson = self.lesson
        self._index = index
        step = lesson.steps[index]
        self.title.setText(step.title_html)
        self._set_body(step)
        self.do_label.set_tex(f"**Do:** {step.do}" if step.do else "")
        self.do_label.setVisible(bool(step.do))
        self.do_box.setVisible(bool(step.do))
        self._fit_do()
        if step.watch:
            swatch = f'<span style="color: {HIGHLIGHT_COLOR};">■</span>'
            self.watch_label.setText(f"{swatch} <b>Watch:</b> {', '.join(step.watch_labels)}")
        self.watch_label.setVisible(bool(step.watch))
        self.position.setText(f"Step {index + 1} of {len(lesson)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index + 1 < len(lesson))

    def _fit_do(self) -> None:
        """The Do box may grow to the height of its text at the panel's width, and takes the room it needs
        before the body does (its stretch is DO_STRETCH times the body's); it scrolls only when the panel is too
        short for both."""
        if not self.do_label.text():
            return
        frame = 2 * self.do_box.frameWidth()
        # at the width left beside a scroll bar: a box that tall shows the whole text whether or not the bar has
        # appeared (a bar that came and went would change the width it is measured at)
        bar = self.do_box.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        width = max(1, self.do_box.width() - frame - bar)
        needed = self.do_label.heightForWidth(width)
        if needed <= 0:
            needed = self.do_label.sizeHint().height()
        self.do_box.setMaximumHeight(needed + frame)
        self.do_box.setMinimumHeight(min(needed, 60) + frame)

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if obj is self.do_label and ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            QtCore.QTimer.singleShot(0, self, self._fit_do)  # after the label has set its text in the new font
        elif obj is self.do_box and ev.type() == QtCore.QEvent.Type.Resize and ev.size().width() != ev.oldSize().width():
            self._fit_do()
        return super().eventFilter(obj, ev)

    def _set_body(self, step: LessonStep) -> None:
        """The step's text with typeset equations (an equation that cannot be typeset is set as rich text)."""
        try:
            self.body.set_tex(step.text)  # (set again in the new colours when the palette changes)
        except Exception as exc:  # the text was checked when the lesson was loaded; never lose the step over it
            self.body.set_html(step.html)
            self.body.fallbacks.append(f"the whole text: {type(exc).__name__}")

    def _emit(self, continued: bool) -> None:
        step = self.step
        self._highlight()
        if not (continued and not step.loads_experiment):
            self.experimentRequested.emit(step_experiment(step))
        self.stepChanged.emit(step)

    def _show_empty(self) -> None:
        text = "No lesson could be loaded."
        if self.errors:
            text += "<br>" + "<br>".join(plain_html(str(e)) for e in self.errors)
        self.title.setText("No lesson")
        self.body.set_html(f"<p>{text}</p>")
        self.do_label.hide()
        self.do_box.hide()
        self.watch_label.hide()
        self.summary.hide()
        self.position.setText("")
        self.back_button.setEnabled(False)
        self.next_button.setEnabled(False)

    def plain_text(self) -> str:
        """What the panel shows, as plain text (for tests and accessibility)."""
        body = _html.escape(self.body.plain_text()).replace("\n", "<br>")
        step = self.step
        do = _html.escape(f"Do: {tex_to_plain(step.do)}") if step is not None and step.do else ""
        parts = [self.title.text(), body, do, self.watch_label.text(),
                 self.position.text()]
        doc = QtGui.QTextDocument()
        doc.setHtml("<br>".join(p for p in parts if p))
        return doc.toPlainText()
