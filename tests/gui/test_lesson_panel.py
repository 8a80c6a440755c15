"""The lesson panel, offscreen: walks every step of every lesson forward and back, renders each one, emits the
experiment and the step, and frames the watched plots."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from rnnlab.config import Experiment
from rnnlab.gui.lesson_panel import HIGHLIGHT_COLOR, LessonPanel, find_plots, highlight, highlighted
from rnnlab.gui.plots import VIEWS
from rnnlab.lessons import all_lessons, load_lesson, step_experiment

LESSONS = all_lessons()


def rendered(widget: QtWidgets.QWidget) -> QtGui.QImage:
    """The widget's picture; asserts that it is not empty and not one flat colour."""
    img = widget.grab().toImage()
    assert not img.isNull() and img.width() > 100 and img.height() > 100
    small = img.scaled(60, 60)
    colours = {small.pixel(x, y) for x in range(small.width()) for y in range(small.height())}
    assert len(colours) > 3, "the panel rendered as a flat picture"
    return img


def record(panel: LessonPanel):
    steps, exps = [], []
    panel.stepChanged.connect(steps.append)
    panel.experimentRequested.connect(exps.append)
    return steps, exps


@pytest.mark.parametrize("i", range(len(LESSONS)), ids=[x.name for x in LESSONS])
def test_walks_every_step_forward_and_back(panel, qtbot, i):
    lesson = LESSONS[i]
    steps, exps = record(panel)
    panel.set_lesson(lesson.name)
    assert panel.lesson.name == lesson.name and panel.index == 0
    assert panel.chooser.currentIndex() == i
    n = len(lesson)
    seen = [panel.step.number]
    rendered(panel)
    for k in range(1, n):
        qtbot.mouseClick(panel.next_button, QtCore.Qt.MouseButton.LeftButton)
        assert panel.index == k
        step = panel.step
        seen.append(step.number)
        assert steps[-1] is step
        assert panel.position.text() == f"Step {k + 1} of {n}"
        assert step.title_plain.split("$")[0][:10] in panel.plain_text()
        assert "\\" not in panel.plain_text() and "$" not in panel.plain_text()
        rendered(panel)
    assert not panel.next_button.isEnabled()
    panel.next()  # nothing beyond the last step
    assert panel.index == n - 1
    for k in range(n - 2, -1, -1):
        qtbot.mouseClick(panel.back_button, QtCore.Qt.MouseButton.LeftButton)
        assert panel.index == k and steps[-1] is panel.step
        rendered(panel)
    assert not panel.back_button.isEnabled()
    assert seen == list(range(1, n + 1))
    assert len(steps) == 1 + 2 * (n - 1)
    assert all(isinstance(e, Experiment) for e in exps)


def test_experiment_requests_follow_the_steps(panel):
    lesson = load_lesson("main")
    steps, exps = record(panel)
    panel.set_lesson("main")
    assert exps == [step_experiment(lesson.steps[0])]
    for k in range(1, len(lesson)):
        before = len(exps)
        panel.next()
        step = lesson.steps[k]
        if step.loads_experiment:
            assert exps[before:] == [step_experiment(step)]
        else:  # continued with Next: the run (and the user's changes) are left alone
            assert exps[before:] == []
    # reached with Back, a continued step asks for its experiment (which equals the previous step's)
    panel.go_to(3)
    before = len(exps)
    panel.back()
    assert not panel.step.loads_experiment and exps[before:] == [step_experiment(panel.step)]
    # a jump asks too
    panel.go_to(len(lesson) - 1)
    assert exps[-1] == step_experiment(lesson.steps[-1])
    before = len(exps)
    panel.emit_current()
    assert len(exps) == before + 1 and steps[-1] is panel.step


def test_construction_emits_nothing_until_asked(qtbot):
    p = LessonPanel()
    qtbot.addWidget(p)
    steps, exps = record(p)
    assert p.lesson.name == "main" and p.index == 0 and p.step is not None
    assert steps == [] and exps == []
    p.emit_current()
    assert len(steps) == 1 and exps == [p.experiment()]


def test_chooser_switches_lessons(panel, qtbot):
    lessons_seen = []
    panel.lessonChanged.connect(lessons_seen.append)
    steps, exps = record(panel)
    panel.go_to(4)
    panel.chooser.setCurrentIndex(1)
    panel.chooser.activated.emit(1)
    assert panel.lesson.name == LESSONS[1].name and panel.index == 0
    assert lessons_seen[-1] is panel.lesson
    assert exps[-1] == step_experiment(LESSONS[1].steps[0])
    assert panel.chooser.count() == len(LESSONS)
    panel.next()
    n = len(exps)
    panel.chooser.activated.emit(1)  # the lesson already shown: nothing changes
    assert panel.index == 1 and len(exps) == n


def plots_for_test():
    return [cls() for cls in VIEWS.values()]  # every registered view


def test_highlight_frames_the_watched_plots(panel, qtbot):
    holder = QtWidgets.QWidget()
    qtbot.addWidget(holder)
    lay = QtWidgets.QGridLayout(holder)
    plots = plots_for_test()
    for k, p in enumerate(plots):
        lay.addWidget(p, k // 3, k % 3)
    holder.resize(1200, 800)
    holder.show()
    qtbot.waitExposed(holder)
    assert {type(p) for p in plots} == set(VIEWS.values())
    panel.set_plots(plots)
    panel.set_lesson("main")
    for k in range(len(panel.lesson)):
        panel.go_to(k)
        step = panel.step
        framed = highlighted()
        assert framed == find_plots(plots, step.watch)
        assert [type(p) for p in framed] == [VIEWS[w] for w in step.watch]
    # the frame is drawn on top of the plot, in the highlight colour, and goes away on the next step
    panel.go_to(2)  # watches the heatmap
    heat = plots[0]
    qtbot.wait(20)
    img = heat.grab().toImage()
    assert QtGui.QColor(img.pixel(2, img.height() // 2)).name() == HIGHLIGHT_COLOR.lower()
    frame = heat.findChild(QtWidgets.QWidget, "lesson_highlight")
    assert frame is not None and frame.geometry() == heat.rect()
    heat.resize(500, 400)
    assert frame.geometry() == heat.rect()
    panel.next()  # watches the saturation histogram only
    assert highlighted() == [plots[7]]
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    assert heat.findChild(QtWidgets.QWidget, "lesson_highlight") is None


def test_highlight_helper_replaces_and_clears(qtbot):
    a, b = QtWidgets.QLabel("a"), QtWidgets.QLabel("b")
    for w in (a, b):
        qtbot.addWidget(w)
        w.resize(200, 100)
        w.show()
    highlight(a)
    assert highlighted() == [a]
    highlight([a, b])
    assert highlighted() == [a, b]
    highlight(b)
    assert highlighted() == [b]
    highlight()
    assert highlighted() == []


def test_open_file(panel, tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text('title = "Mine"\n[[step]]\ntitle = "Only"\ntext = \'\'\'A $\\rho$.\'\'\'\nwatch = "loss"\n',
                    encoding="utf-8")
    steps, exps = record(panel)
    assert panel.open_file(good)
    assert panel.lesson.name == "mine" and panel.chooser.count() == len(LESSONS) + 1
    assert "ρ" in panel.plain_text() and exps == [Experiment()]
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "Bad"\n[[step]]\ntitle = "x"\ntext = "y"\nwatch = "nowhere"\n', encoding="utf-8")
    panel.hide()  # no message box offscreen
    assert not panel.open_file(bad)
    assert str(panel.errors[-1]).startswith(f"{bad}:5:")
    assert panel.lesson.name == "mine"


def test_an_empty_panel_says_so(qtbot):
    p = LessonPanel(lessons=[])
    qtbot.addWidget(p)
    assert p.lesson is None and p.step is None and p.experiment() is None
    p.next()
    p.back()
    p.emit_current()
    assert "No lesson" in p.plain_text()
    assert not p.next_button.isEnabled() and not p.back_button.isEnabled()


def test_the_view_registry_is_what_lessons_may_watch():
    from tests.lessons.test_lessons import DEFAULT_VIEW_IDS
    from rnnlab.gui.plots import view_labels

    assert view_labels() == DEFAULT_VIEW_IDS


def _longest_do(lesson) -> int:
    return max(range(len(lesson.steps)), key=lambda i: len(lesson.steps[i].do or ""))


@pytest.mark.parametrize("height", [1000, 560])
def test_the_do_box_is_read_whole_or_scrolls_and_never_overlaps(panel, qtbot, height):
    panel.set_lesson("main")
    panel.go_to(_longest_do(panel.lesson))
    panel.resize(320, height)
    panel.show()
    qtbot.waitExposed(panel)
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    box, label = panel.do_box, panel.do_label
    shown = [w for w in (panel.title, panel.body, box, panel.watch_label) if w.isVisible()]
    for a, b in zip(shown, shown[1:]):  # stacked, none over another
        assert a.geometry().bottom() < b.geometry().top(), (a.objectName(), b.objectName())
    whole = box.viewport().height() >= label.heightForWidth(box.viewport().width())
    if height == 1000:
        assert whole and not box.verticalScrollBar().isVisible()  # room enough: the whole instruction
    else:
        assert whole or box.verticalScrollBar().isVisible()  # too short: it scrolls, nothing is cut away
        assert panel.body.height() >= panel.body.minimumHeight()
