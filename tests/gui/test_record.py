"""Recordings: ``rnnlab record`` (GIF read back: frame count, size, timing; MP4 when the extra is installed; the
message when it is not) and File ▸ Record in the window."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from PIL import Image

from rnnlab.cli import main
from rnnlab.cli.record import frame_steps

HAS_FFMPEG = importlib.util.find_spec("imageio_ffmpeg") is not None


def _gif(path):
    """(size, frames, durations in ms, loop) of a GIF, read back with Pillow."""
    with Image.open(path) as im:
        assert im.format == "GIF"
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        return im.size, im.n_frames, durations, im.info.get("loop")


def test_frame_steps_cut_the_run_into_equal_parts():
    assert frame_steps(200, 50) == list(range(4, 201, 4))
    assert frame_steps(10, 50) == list(range(1, 11))  # at most one frame per step
    assert frame_steps(0, 50) == [0]
    assert frame_steps(7, 3) == [2, 5, 7]


def test_record_the_clipping_preset_as_a_gif(tmp_path, capsys):
    """The issue's command: 200 steps, the defaults (50 frames, 1280 × 720, 10 fps)."""
    out = tmp_path / "demo.gif"
    assert main(["record", "--preset", "clipping", "--steps", "200", "--out", str(out)]) == 0
    size, n, durations, loop = _gif(out)
    assert size == (1280, 720) and n == 50 and set(durations) == {100} and loop == 0
    assert "50 frames, 1280x720, 10 fps" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["demo.gif"]  # no temporary file left


def test_record_one_view_at_a_size_and_rate(tmp_path):
    out = tmp_path / "loss.gif"
    assert main(["record", "--set", "task.length=10", "--set", "model.hidden_size=8", "--steps", "12", "--frames",
                 "6", "--view", "loss", "--size", "400x240", "--fps", "5", "--quiet", "--out", str(out)]) == 0
    size, n, durations, _ = _gif(out)
    # the loss curve grows between frames: six distinct frames of 200 ms
    assert size == (400, 240) and n == 6 and durations == [200] * 6


def test_record_the_slow_motion_backward_pass(tmp_path):
    out = tmp_path / "pass.gif"
    T = 11
    assert main(["record", "--set", f"task.length={T}", "--set", "model.hidden_size=8", "--steps", "0", "--view",
                 "unrolled", "--size", "640x200", "--backward-pass", "--quiet", "--out", str(out)]) == 0
    size, n, _, _ = _gif(out)
    assert size == (640, 200) and n == 1 + T  # the state after training, then one frame per step back (T−1 … 0)


def test_record_a_lesson_step(tmp_path):
    """Step 3 of the main lesson watches the unrolled view; its own `train` count (5) when --steps is not given."""
    out = tmp_path / "lesson.gif"
    assert main(["record", "--lesson", "main", "--step", "3", "--frames", "5", "--size", "800x450", "--quiet",
                 "--out", str(out)]) == 0
    size, n, durations, _ = _gif(out)
    assert size == (800, 450) and n == 5 and sum(durations) == 500


@pytest.mark.skipif(not HAS_FFMPEG, reason="the optional extra rnnlab[video] (imageio-ffmpeg) is not installed")
def test_record_an_mp4(tmp_path):
    import imageio_ffmpeg

    out = tmp_path / "demo.mp4"
    assert main(["record", "--set", "task.length=10", "--set", "model.hidden_size=8", "--steps", "8", "--frames",
                 "8", "--size", "480x271", "--quiet", "--out", str(out)]) == 0
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    frames = list(gen)
    assert tuple(meta["size"]) == (480, 272)  # made even for H.264
    assert meta["fps"] == 10 and len(frames) == 8
    assert [p.name for p in tmp_path.iterdir()] == ["demo.mp4"]


def test_an_mp4_without_the_extra_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    out = tmp_path / "demo.mp4"
    assert main(["record", "--steps", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "rnnlab[video]" in err and "imageio-ffmpeg" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (["--out", "x.avi"], ".gif or .mp4"),
    (["--size", "8x8", "--out", "x.gif"], "16 to 7680"),
    (["--size", "big", "--out", "x.gif"], "WIDTHxHEIGHT"),
    (["--view", "nope", "--out", "x.gif"], "expected one of"),
    (["--frames", "0", "--out", "x.gif"], "--frames 0"),
    (["--view", "loss", "--backward-pass", "--out", "x.gif"], "unrolled"),
    (["--lesson", "main", "--step", "99", "--out", "x.gif"], "has steps 1 to"),
    (["--set", "task.length=5", "--out", "x.gif"], "too short"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.chdir(tmp_path)
    assert main(["record", "--steps", "1", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


# --- File ▸ Record ---------------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot):
    from rnnlab.config import Experiment

    from .windows import shown_window

    win = shown_window(qtbot, (1200, 800), Experiment().replace(task__length=10, model__hidden_size=8))
    yield win
    win.close()


def test_file_record_captures_a_view_at_its_rate(window, qtbot, tmp_path):
    rec = window.recording
    assert rec.action in window.menuBar().actions()[0].menu().actions()
    out = tmp_path / "unrolled.gif"
    assert rec.start(window.views["unrolled"], str(out), fps=25, size=(500, 160))
    assert rec.recording and rec.action.text() == "Stop &recording"
    window.controller.step(3)
    qtbot.waitUntil(lambda: rec.recorder.writer.frames >= 6, timeout=10000)
    text = rec.stop()
    assert not rec.recording and rec.action.text() == "&Record…"
    w = rec.recorder.writer
    assert text.startswith(f"Recorded {w.frames} frames") and str(out) in window.banner.text()
    size, n, durations, _ = _gif(out)
    # identical consecutive frames are stored once, their durations added: the playback keeps the real time
    assert size == (500, 160) and 1 <= n <= w.frames and sum(durations) == w.frames * 40


def test_closing_the_window_finishes_the_recording(window, qtbot, tmp_path):
    out = tmp_path / "window.gif"
    assert window.recording.start(window, str(out), fps=10, size=(320, 200))
    window.close()
    assert _gif(out)[0] == (320, 200)


def test_a_format_that_cannot_be_written_is_said_in_the_banner(window, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    assert not window.recording.start(window, str(tmp_path / "a.mp4"))
    assert "Cannot record" in window.banner.text() and "rnnlab[video]" in window.banner.text()
    assert not window.recording.recording and list(tmp_path.iterdir()) == []


def test_the_record_dialog_checks_the_file_name(window, qtbot):
    from rnnlab.gui.recorder import RecordDialog

    dlg = RecordDialog(window)
    qtbot.addWidget(dlg)
    i = dlg.target.findData("heatmap")
    dlg.target.setCurrentIndex(i)
    view = window.views["heatmap"]
    assert (dlg.width_box.value(), dlg.height_box.value()) == (view.width(), view.height())
    dlg.path.setText("/tmp/<b>x</b>.avi")
    dlg._accept()
    assert dlg.result() == 0 and ".gif or .mp4" in dlg.error.text()
    dlg.path.setText(str(view.width()) + ".gif")
    dlg._accept()
    assert dlg.result() == 1
    widget, path, fps, size = dlg.settings()
    assert widget is view and fps == 10 and size == (view.width(), view.height())


def test_grab_frame_keeps_the_aspect_with_white_margins(window):
    from rnnlab.gui.recorder import grab_frame

    view = window.views["loss"]
    view.resize(400, 200)
    frame = grab_frame(view, (400, 400))  # twice as tall as the view: white bands above and below
    assert frame.shape == (400, 400, 3) and frame.dtype == np.uint8
    assert np.all(frame[:50] == 255) and np.all(frame[-50:] == 255)


def test_the_bench_measures_what_recording_costs():
    """`rnnlab bench --gui` states the cost of recording (its values are figures, not targets checked here)."""
    from rnnlab.gui.bench import bench_record

    res = bench_record(quick=True)
    assert set(res) == {"record_capture_ms", "record_encode_ms", "record_steps_per_s", "record_plain_steps_per_s",
                        "record_throughput_ratio", "record_cpu_share", "record_window_cores_plain",
                        "record_window_cores_recording"}
    assert res["record_capture_ms"] > 0 and res["record_plain_steps_per_s"] > 0
    assert np.isfinite(res["record_throughput_ratio"])
