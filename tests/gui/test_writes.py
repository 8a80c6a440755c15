"""The window's writers under failure (a read-only folder, a folder as the path, a file as a folder, a full disk):
plot exports (CSV, PNG, SVG), the phase diagram PNG, screenshots and Save experiment. The old file is intact, no
temporary file is left, and the window says what failed in one line."""

from __future__ import annotations

import pytest

from rnnlab.config import Experiment
from rnnlab.gui.main_window import MainWindow
from rnnlab.io import WriteError
from tests import faults


@pytest.fixture
def fault(tmp_path, monkeypatch):
    yield lambda mode, name: faults.setup(mode, tmp_path, monkeypatch, name)
    faults.restore(tmp_path)


@pytest.fixture
def window(qtbot):
    win = MainWindow(Experiment().replace(task__length=10, model__hidden_size=6), mode="sync", remember=False)
    qtbot.addWidget(win)
    win.controller.step(3)
    return win


@pytest.mark.parametrize("mode", faults.MODES)
@pytest.mark.parametrize("kind", ["csv", "png", "svg"])
def test_plot_exports_fail_cleanly_with_one_line(window, fault, mode, kind):
    target = fault(mode, f"heatmap.{kind}")
    errors = []
    window.files.error = lambda title, text: errors.append(text)
    assert not window.files.export_plot(window.views["heatmap"], kind, str(target))
    assert len(errors) == 1
    faults.check(mode, target, _as_exc(errors[0]))


def _as_exc(text: str) -> Exception:
    return Exception(text)


@pytest.mark.parametrize("mode", faults.MODES)
def test_save_experiment_fails_cleanly(window, fault, mode):
    target = fault(mode, "experiment.toml")
    errors = []
    window.files.error = lambda title, text: errors.append(text)
    assert not window.files.save(str(target))
    assert len(errors) == 1
    faults.check(mode, target, _as_exc(errors[0]))


@pytest.mark.parametrize("mode", faults.MODES)
def test_export_run_fails_cleanly_with_a_message(window, fault, mode, tmp_path):
    target = fault(mode, "config.toml")
    messages = []
    window.controller.message.connect(messages.append)
    window.controller.export_run(target.parent if mode != "folder" else target.parent)
    assert messages and messages[-1].startswith("Could not export the run: could not write")
    assert "\n" not in messages[-1]


@pytest.mark.parametrize("mode", faults.MODES)
def test_phase_png_fails_cleanly(qtbot, fault, mode):
    from rnnlab.gui.sweep_view import phase_png

    rows = [{"run": 0, "model.spectral_radius": 0.5, "seed": 0, "final_loss": 1.0, "final_metric": 1.0,
             "success": True, "exploded": False, "steps": 3, "wall_time_s": 0.1}]
    target = fault(mode, "phase.png")
    with pytest.raises(WriteError) as info:
        phase_png(rows, {"model.spectral_radius": [0.5]}, target)
    faults.check(mode, target, info.value)


@pytest.mark.parametrize("mode", faults.MODES)
def test_screenshot_fails_cleanly(qtbot, fault, mode):
    from rnnlab.cli.screenshot import screenshot

    target = fault(mode, "shot.png")
    with pytest.raises(WriteError) as info:
        screenshot(Experiment().replace(task__length=10, model__hidden_size=4), 0, (400, 300), target)
    faults.check(mode, target, info.value)


@pytest.mark.parametrize("kind", ["csv", "png", "svg"])
def test_plot_exports_write_when_they_can(window, tmp_path, kind):
    target = tmp_path / f"heatmap.{kind}"
    assert window.files.export_plot(window.views["heatmap"], kind, str(target))
    assert target.stat().st_size > 0 and sorted(p.name for p in tmp_path.iterdir()) == [target.name]
