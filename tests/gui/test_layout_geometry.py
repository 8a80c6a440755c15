"""The window fits 1280×720, 1600×1000 and 1920×1080 in normal, lesson, presentation and compare modes: the frame
fits the screen, every view on screen lies inside the window, and in every such view the titles, axis titles, tick
labels and colour bars lie inside it and no tick label overlaps another or its axis title (gui/layout_check.py,
which `rnnlab selftest --layout` runs on the user's screen)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from rnnlab.config import Experiment
from rnnlab.gui.layout_check import all_pages_problems, compare_problems, fit_to, view_problems
from rnnlab.gui.main_window import MainWindow
from rnnlab.gui.view_area import grid_for

SIZES = [(1280, 720), (1600, 1000), (1920, 1080)]


def _exp():
    return Experiment().replace(model__hidden_size=16, training__eval_every=5)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", ["normal", "lesson", "presentation"])
def test_main_window_fits_and_reads(qtbot, size, mode):
    screen = QtCore.QRect(0, 0, *size)
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.show()
    try:
        if mode == "lesson":
            win.open_lesson("main", index=5)
        elif mode == "presentation":
            win.presentation.set(True, fullscreen=False)
        fit_to(win, screen)
        win.controller.step(40)
        shown = win.view_area.shown_ids()
        assert shown, "no view on screen"
        assert all(win.views[v].width() >= 300 and win.views[v].height() >= 200 for v in shown), \
            {v: win.views[v].size().toTuple() for v in shown}
        problems = all_pages_problems(win, screen)
        assert not problems, "\n".join(problems)
        if mode == "lesson":  # the watched view is on the page shown
            watched = [p.view_id for p in win.lesson_panel.watched_plots()]
            assert not watched or watched[0] in win.view_area.shown_ids()
    finally:
        win.presentation.set(False)
        win.close()


def test_a_long_sequences_views_read_in_the_lesson_layout(qtbot):
    """The main lesson walked to step 14 (T = 200) at 1920×1080: the gradient flow's picture is short, and its colour bar
    too short for its title, which is dropped rather than cut by the view's edge."""
    screen = QtCore.QRect(0, 0, 1920, 1080)
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.resize(screen.size())
    win.show()
    try:
        win.open_lesson("main")
        for i in range(14):  # as a class walks it (a caption grown on one step keeps its height on the next)
            win.lesson_panel.go_to(i)
            win.controller.step(2)
        assert win.controller.exp.task.length >= 100 and win.views["gradient_flow"].has_data
        problems = [p for v in win.view_area.shown_ids() for p in view_problems(win.views[v])]
        assert "gradient_flow" in win.view_area.shown_ids() and not problems, "\n".join(problems)
    finally:
        win.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compare_window_fits_and_reads(qtbot, size):
    screen = QtCore.QRect(0, 0, *size)
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    cw = win.open_compare({"remedies.clip": "norm"}, mode="sync")
    qtbot.addWidget(cw)
    try:
        fit_to(cw, screen)
        cw.step(20)
        problems = compare_problems(cw, screen)
        assert not problems, "\n".join(problems)
    finally:
        cw.close()
        win.close()


def test_small_screens_page_the_views_instead_of_shrinking_them():
    assert grid_for(11, 1600, 1000, 360, 270) == (4, 3, 11)  # all at once
    cols, rows, per = grid_for(11, 900, 560, 360, 270)
    assert (cols, rows, per) == (2, 2, 4)  # four per page
    assert grid_for(3, 200, 100, 360, 270)[2] == 1  # never less than one


def test_focus_fills_the_area_and_comes_back(qtbot):
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.show()
    fit_to(win, QtCore.QRect(0, 0, 1280, 720))
    area = win.view_area
    before = area.shown_ids()
    area.toggle_focus("spectrum")
    QtCore.QCoreApplication.processEvents()
    assert area.shown_ids() == ["spectrum"]
    assert win.views["spectrum"].width() > 0.9 * area.width()
    assert not view_problems(win.views["spectrum"])
    area.toggle_focus("spectrum")
    assert area.shown_ids() == before
    area.set_view_shown("heatmap", False)
    assert "heatmap" not in area.visible_ids() and not win.view_actions["heatmap"].isChecked()
    win.reset_layout()
    assert area.visible_ids() == list(win.views) and area.focused is None
    win.close()


def test_play_and_pause_are_icons_not_glyphs(qtbot):
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    a = win.play_action
    assert not a.icon().isNull() and a.text() == "Play"
    play_key = a.icon().cacheKey()
    win._on_playing(True)
    assert a.text() == "Pause" and not a.icon().isNull() and a.icon().cacheKey() != play_key
    assert all(ord(ch) < 0x2000 for ch in a.text())  # no symbol a stock font may lack
    win.close()


def test_a_watched_view_gets_room_on_the_first_page(qtbot):
    win = MainWindow(_exp(), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.show()
    fit_to(win, QtCore.QRect(0, 0, 1920, 1080))
    win.open_lesson("main", index=5)  # "Watch: the spectrum"
    QtCore.QCoreApplication.processEvents()
    area = win.view_area
    assert area.big_view() == "spectrum" and area.shown_ids()[0] == "spectrum"
    big, other = win.views["spectrum"], win.views[area.shown_ids()[1]]
    assert big.width() > 1.8 * other.width() and big.height() > 1.8 * other.height()
    assert not view_problems(big)
    # the step's "Do" is true of its first frame: ρ and σ_max are in the status bar (the spectrum's right half
    # has no curve before two updates) ...
    step = win.lesson_panel.lesson.steps[5]
    snap = win.controller.last_snapshot
    assert "status bar" in step.do and step.do.index("status bar") < step.do.index("right half")
    labels = win.status.labels
    assert snap.step == 0 and all("—" not in labels[k].text() for k in ("ρ", "σ_max", "γ·σ_max"))
    spec = win.views["spectrum"]
    assert len(spec.rho_curve.getData()[0] or ()) < 2  # (nothing to read there yet)
    # ... and "Press Step twice" draws both curves in the right half
    assert "Step** twice" in step.do
    win.controller.step(2)
    win.view_area.flush()
    assert len(spec.rho_curve.getData()[0]) >= 2 and len(spec.sigma_curve.getData()[0]) >= 2
    win.lesson_dock.hide()
    assert area.big_view() is None
    win.close()


def test_selftest_layout_checks_this_screen_and_reports(monkeypatch, capsys):
    from rnnlab.cli import main

    monkeypatch.setattr(MainWindow, "available_geometry", lambda self: QtCore.QRect(0, 0, 1280, 720))
    assert main(["selftest", "--layout"]) == 0
    out = capsys.readouterr().out
    for mode in ("normal", "lesson", "presentation", "compare"):
        assert f"ok    {mode} at 1280×720" in out, out
