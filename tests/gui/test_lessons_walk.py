"""Every step of every lesson loads in the real main window and renders offscreen."""

from __future__ import annotations

import pytest

from rnnlab.config import Experiment
from rnnlab.gui.lesson_panel import highlighted
from rnnlab.gui.main_window import MainWindow
from rnnlab.lessons import all_lessons, step_experiment

LESSONS = all_lessons()


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_walk_every_step_of_every_lesson(qtbot, lesson):
    """Each step loads its experiment, highlights its views, shows its title and renders. No training here: every
    preset a step loads is trained by its contrast test (tests/train/test_presets.py), and the window trains in
    tests/gui/test_app.py; the diagnostics of each step's first snapshot are computed within the app's budget."""
    win = MainWindow(Experiment().replace(task__length=12, model__hidden_size=8), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    win.open_lesson(lesson.name)
    for k, step in enumerate(lesson.steps):
        win.lesson_panel.go_to(k)
        assert win.lesson_panel.index == k
        if step.loads_experiment:
            assert win.controller.exp == step_experiment(step)
        snap = win.controller.last_snapshot
        assert snap.diagnostics is not None and snap.config == win.controller.exp
        watched = win.lesson_panel.watched_plots()
        assert len(watched) == len(step.watch) and set(highlighted()) >= set(watched)
        assert [p.view_id for p in watched] == list(step.watch)
        assert win.lesson_panel.title.text() == step.title_html
        img = win.grab().toImage()
        assert not img.isNull() and img.width() == 1600
    # and back to the first step
    for _ in lesson.steps:
        win.lesson_panel.back()
    assert win.lesson_panel.index == 0
    assert win.lesson_panel.title.text() == lesson.steps[0].title_html
    win.close()


def test_screenshot_of_a_lesson_step(tmp_path, capsys):
    from rnnlab.cli import main

    out = tmp_path / "lesson.png"
    assert main(["screenshot", "--lesson", "exploding-and-clipping", "--step", "2", "--size", "1200x800",
                 "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["screenshot", "--lesson", "main", "--step", "99", "--out", str(out)]) == 2
    assert "steps 1 to" in capsys.readouterr().err
