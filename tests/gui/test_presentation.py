"""Presentation mode and classroom files."""

from __future__ import annotations

import pytest

from rnnlab.config import ConfigError, Experiment
from rnnlab.gui.presentation import ADVANCED_KEYS, load_classroom

from .windows import shown_window


@pytest.fixture
def win(qtbot):
    w = shown_window(qtbot, (1600, 1000), Experiment().replace(task__length=12, model__hidden_size=8))
    yield w
    w.presentation.set(False)
    w.close()


def _editor(win, key):
    return next(p.editors[key] for p in win.panels if key in p.editors)


def test_presentation_mode_enlarges_fonts_and_lines_and_hides_advanced_controls(win):
    heat = win.plots[0]
    axis = heat.plot.getAxis("bottom")
    small = axis.style.get("tickFont").pointSizeF() if axis.style.get("tickFont") else 11
    grad = next(p for p in win.plots if type(p).__name__ == "GradNormsPlot")
    width0 = grad.total.opts["pen"].widthF()
    win.presentation.set(True, fullscreen=False)
    assert axis.style["tickFont"].pointSizeF() > 1.4 * small
    assert grad.total.opts["pen"].widthF() == pytest.approx(1.6 * width0)
    for key in ADVANCED_KEYS:
        assert _editor(win, key).widget.isHidden(), key
    assert not _editor(win, "remedies.clip").widget.isHidden()
    assert win.controls_dock.isHidden()
    laid_out = set(win.view_area.visible_ids())  # on one page or another
    assert set(win.views) - laid_out == {"gradient_flow", "hidden_states", "saturation"}
    assert all(win.views[v].isVisible() for v in win.view_area.shown_ids())
    win.presentation.set(False)
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(11)
    assert grad.total.opts["pen"].widthF() == pytest.approx(width0)
    assert not _editor(win, "model.dtype").widget.isHidden()
    assert win.view_area.visible_ids() == list(win.views)


def test_classroom_file_locks_and_hides_controls(win, tmp_path):
    f = tmp_path / "room.toml"
    f.write_text('[classroom]\npreset = "clipping"\nlock = ["model.arch", "remedies.clip"]\n'
                 'hide = ["remedies.hf_mu"]\nset = { "task.length" = 14 }\n')
    room = load_classroom(f)
    assert win.apply_classroom(room)
    assert win.controller.exp.task.length == 14 and win.controller.exp.remedies.clip == "norm"
    clip = _editor(win, "remedies.clip").widget
    assert not clip.isEnabled() and "Locked" in clip.toolTip()
    assert _editor(win, "remedies.hf_mu").widget.isHidden()
    # a change that re-syncs the panels keeps the locks
    win.controller.set_value("remedies.l2", 0.01)
    assert not clip.isEnabled()


@pytest.mark.parametrize("text,needle", [
    ("[classroom]\nlock = ['model.archh']\n", "unknown key 'model.archh'"),
    ("[classroom]\npreset = 'nope'\n", "unknown preset 'nope'"),
    ("[classroom]\ncolour = 1\n", "unknown key classroom.colour"),
    ("[classroom\n", "not valid TOML"),
    ("x = 1\n", "expected a [classroom] table"),
    ("[classroom]\nset = { 'model.hidden_size' = 0 }\n", "model.hidden_size = 0"),
])
def test_bad_classroom_files_name_file_and_key(tmp_path, text, needle):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as ex:
        load_classroom(f)
    assert str(f) in str(ex.value) and needle in str(ex.value)


def test_gui_command_rejects_a_bad_classroom_file_before_opening_a_window(tmp_path, capsys, monkeypatch):
    from rnnlab.cli import main

    f = tmp_path / "bad.toml"
    f.write_text("[classroom]\nlock = ['seedd']\n")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["gui", "--classroom", str(f)]) == 2
    assert "seedd" in capsys.readouterr().err
