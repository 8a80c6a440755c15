"""Recordings for slides: the window or one view, captured as it is drawn, written as an animated GIF or an MP4.

* :class:`FrameWriter` encodes RGB frames on a thread of its own, so the window (and the training process) does not
  wait for the encoder: a GIF with Pillow (frames reduced to 256-colour palettes; identical consecutive
  frames are stored once, shown for their added durations, so the playback keeps the real time), an MP4 (H.264) with
  ffmpeg through the optional extra ``rnnlab[video]`` (imageio-ffmpeg), streamed to ffmpeg frame by frame. The
  file is written to a temporary name and renamed over the target when complete
  (:func:`rnnlab.train.outputs.atomic_path`).
* :func:`grab_frame` renders a widget offscreen (``QWidget.grab``) at the requested size.
* :class:`Recorder` captures a widget at a fixed rate (``fps``) with a timer of the window's event loop: the frames
  are what is drawn, at the rate asked for, whatever the training does.
* :class:`RecordDialog` and :class:`RecordActions`: File ▸ Record… and File ▸ Stop recording.

``rnnlab record`` (:mod:`rnnlab.cli.record`) uses the same writer headless.
"""

from __future__ import annotations

import html
import queue
import threading
import time
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["RecordError", "FrameWriter", "grab_frame", "Recorder", "RecordDialog", "RecordActions", "FORMATS",
           "MAX_GIF_BYTES", "check_format"]

#: the formats and what each needs
FORMATS = {".gif": "Pillow", ".mp4": "imageio-ffmpeg (pip install 'rnnlab[video]')"}
#: a GIF's frames wait in memory until the file is written (Pillow writes them at once): at most this many bytes of
#: palette frames (one byte a pixel), e.g. 580 frames of 1280 × 720; the recording stops there and says so
MAX_GIF_BYTES = 512 * 2**20
#: a GIF frame gets an adaptive palette of its own every this many frames; the frames between reuse the last one
#: (mapping to a given palette is ten times cheaper than choosing one; a colour new on screen is exact within a second)
PALETTE_EVERY = 10


class RecordError(Exception):
    """A recording that cannot be made: one line for the user."""


def check_format(path: str | Path) -> str:
    """The suffix of ``path`` (``.gif`` or ``.mp4``) when it can be written here, else :class:`RecordError` saying
    what is missing."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise RecordError(f"{Path(path).name}: expected a file name ending in .gif or .mp4")
    if suffix == ".gif":
        try:
            import PIL.Image  # noqa: F401
        except ImportError:
            raise RecordError("writing a GIF needs Pillow: pip install pillow") from None
    else:
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            import sys

            if getattr(sys, "frozen", False):
                raise RecordError("the standalone app records GIFs only: record a .gif, or install rnnlab with "
                                  "pip install 'rnnlab[video]' (imageio-ffmpeg) for MP4") from None
            raise RecordError("writing an MP4 needs the optional extra rnnlab[video]: pip install 'rnnlab[video]' "
                              "(imageio-ffmpeg); or record a .gif") from None
    return suffix


def even_size(size: tuple[int, int], suffix: str) -> tuple[int, int]:
    """The frame size written: ``size``, made even for an MP4 (H.264 with 4:2:0 chroma needs even sides)."""
    w, h = (int(v) for v in size)
    if suffix == ".mp4":
        w, h = w + (w % 2), h + (h % 2)
    return w, h


class FrameWriter:
    """Frames (H, W, 3) uint8 in, a ``.gif`` or ``.mp4`` file out; the encoding runs on a thread of its own.

    Parameters
    ----------
    path : the file to write (its suffix chooses the format)
    size : (width, height) of every frame
    fps : frames per second of the playback
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float):
        self.path = Path(path)
        self.suffix = check_format(self.path)
        self.size = even_size(size, self.suffix)
        if min(self.size) < 16 or max(self.size) > 7680:
            raise RecordError(f"frame size {self.size[0]}x{self.size[1]}: expected 16 to 7680 pixels a side")
        if not 0.1 <= float(fps) <= 60:
            raise RecordError(f"fps = {fps!r}: expected 0.1 to 60 frames per second")
        self.fps = float(fps)
        self.frames = 0  # frames accepted
        self.dropped = 0  # frames refused because the encoder was behind (non-blocking adds)
        self.full = False  # a GIF reached MAX_GIF_BYTES
        self.error: str | None = None
        self.encode_seconds = 0.0  # time the encoder thread spent (for the measurements)
        self._q: queue.Queue = queue.Queue(maxsize=16)
        self._gif: list = []  # palette frames, each different from the one before ...
        self._durations: list[int] = []  # ... shown for this many frame periods
        self._last: np.ndarray | None = None
        self._palette = None  # the frame whose adaptive palette the next frames reuse
        self._bytes = 0
        self._ffmpeg = None
        self._tmp = None
        self._ctx = None
        self._closed = False
        if self.suffix == ".mp4":
            self._open_mp4()
        self._thread = threading.Thread(target=self._work, name="rnnlab-record", daemon=True)
        self._thread.start()

    # --- the caller's side --------------------------------------------------------------------------------------
    def add(self, frame: np.ndarray, block: bool = True) -> bool:
        """Queue one frame; with ``block=False`` a frame the encoder cannot take now is dropped (counted in
        :attr:`dropped`). Returns whether the frame was taken."""
        if self._closed or self.full or self.error:
            return False
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.shape != (self.size[1], self.size[0], 3):
            raise ValueError(f"frame of shape {frame.shape}: expected {(self.size[1], self.size[0], 3)}")
        if self.suffix == ".gif":
            self._bytes += self.size[0] * self.size[1]
            if self._bytes > MAX_GIF_BYTES:
                self.full = True
                return False
        try:
            self._q.put(frame, block=block)
        except queue.Full:
            self.dropped += 1
            return False
        self.frames += 1
        return True

    def close(self) -> Path:
        """Encode what is queued and write the file (atomically); returns its path. Raises :class:`RecordError`
        when nothing could be written."""
        if self._closed:
            return self.path
        self._closed = True
        self._q.put(None)
        self._thread.join()
        if self.error:
            self._discard()
            raise RecordError(f"could not write {self.path}: {self.error}")
        if self.frames == 0:
            self._discard()
            raise RecordError("no frame was recorded")
        try:
            if self.suffix == ".gif":
                self._write_gif()
            else:
                self._close_mp4()
        except OSError as exc:
            self._discard()
            raise RecordError(f"could not write {self.path}: {exc.strerror or exc}") from None
        return self.path

    def abort(self) -> None:
        """Stop without writing anything."""
        if not self._closed:
            self._closed = True
            self._q.put(None)
            self._thread.join()
        self._discard()

    # --- the encoder thread -------------------------------------------------------------------------------------
    def _work(self) -> None:
        from PIL import Image

        while True:
            frame = self._q.get()
            if frame is None:
                return
            if self.error:
                continue
            t0 = time.perf_counter()
            try:
                if self.suffix == ".gif":
                    if self._last is not None and np.array_equal(frame, self._last):
                        self._durations[-1] += 1  # the same picture: shown one frame longer (≈ 1 ms to compare)
                    else:
                        im = Image.fromarray(frame, "RGB")
                        if self._palette is None or len(self._gif) % PALETTE_EVERY == 0:
                            im = im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
                            self._palette = im
                        else:  # the palette of a recent frame: ≈ 1 ms instead of ≈ 11 ms at 1280 × 720
                            im = im.quantize(palette=self._palette, dither=Image.Dither.NONE)
                        self._gif.append(im)
                        self._durations.append(1)
                        self._last = frame
                else:
                    self._ffmpeg.send(frame)
            except Exception as exc:  # noqa: BLE001 - an encoder failure ends the recording with its message
                self.error = str(exc) or type(exc).__name__
            self.encode_seconds += time.perf_counter() - t0

    # --- formats ------------------------------------------------------------------------------------------------
    def _write_gif(self) -> None:
        from ..train.outputs import atomic_path

        period = 1000.0 / self.fps
        # each frame's duration in whole milliseconds, rounded so that the total stays exact
        ends = np.round(np.cumsum(self._durations) * period).astype(int)
        ms = np.diff(np.concatenate([[0], ends])).tolist()
        with atomic_path(self.path) as tmp:
            first, rest = self._gif[0], self._gif[1:]
            first.save(tmp, format="GIF", save_all=True, append_images=rest, duration=ms, loop=0, disposal=1)
        self._gif, self._durations, self._last, self._palette = [], [], None, None

    def _open_mp4(self) -> None:
        import imageio_ffmpeg

        from ..train.outputs import atomic_path

        self._ctx = atomic_path(self.path)
        self._tmp = self._ctx.__enter__()
        self._ffmpeg = imageio_ffmpeg.write_frames(
            str(self._tmp), self.size, fps=self.fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            macro_block_size=1, quality=7, output_params=["-f", "mp4"], ffmpeg_log_level="error")
        self._ffmpeg.send(None)  # start ffmpeg

    def _close_mp4(self) -> None:
        gen, self._ffmpeg = self._ffmpeg, None
        try:
            gen.close()
        except Exception as exc:  # noqa: BLE001
            raise OSError(str(exc)) from None
        ctx, self._ctx = self._ctx, None
        ctx.__exit__(None, None, None)  # renamed over the target

    def _discard(self) -> None:
        self._gif, self._durations, self._last, self._palette = [], [], None, None
        if self._ffmpeg is not None:
            try:
                self._ffmpeg.close()
            except Exception:  # noqa: BLE001 - discarding: nothing to report
                pass
            self._ffmpeg = None
        if self._ctx is not None:
            ctx, self._ctx = self._ctx, None
            try:
                ctx.__exit__(RecordError, RecordError("discarded"), None)  # removes the temporary file
            except RecordError:
                pass


#: platforms whose screen can be read back (elsewhere, and when it fails, the widget is redrawn into an image)
_SCREEN_PLATFORMS = ("xcb", "windows", "cocoa")


def _from_screen(widget: QtWidgets.QWidget) -> QtGui.QPixmap | None:
    """The widget's pixels as they are on the screen (a copy of what was drawn: measured 2.7 ms for a 1280 × 720
    window under X, against 23–60 ms to redraw it with ``QWidget.grab``), or None where that is not possible."""
    if QtGui.QGuiApplication.platformName() not in _SCREEN_PLATFORMS or not widget.isVisible():
        return None
    top = widget.window()
    if top.isMinimized() or widget.screen() is None:
        return None
    at = widget.mapTo(top, QtCore.QPoint(0, 0)) if widget is not top else QtCore.QPoint(0, 0)
    pix = widget.screen().grabWindow(top.winId(), at.x(), at.y(), widget.width(), widget.height())
    if pix.isNull() or pix.width() < widget.width() or pix.height() < widget.height():
        return None
    return pix


def grab_frame(widget: QtWidgets.QWidget, size: tuple[int, int], from_screen: bool = True) -> np.ndarray:
    """The widget as drawn now, as an RGB array of exactly ``size`` = (width, height): scaled to fit when its size
    differs (aspect kept, white margins).

    ``from_screen``: copy the pixels from the screen where the platform allows it (fast; what is on the screen is
    recorded, so a window covered by another records the cover), else redraw the widget into an image."""
    w, h = (int(v) for v in size)
    pix = _from_screen(widget) if from_screen else None
    if pix is None:
        pix = widget.grab()
    img = pix.toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    img.setDevicePixelRatio(1.0)
    if (img.width(), img.height()) != (w, h):
        scaled = img.scaled(w, h, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                            QtCore.Qt.TransformationMode.SmoothTransformation)
        canvas = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB888)
        canvas.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(canvas)
        p.drawImage((w - scaled.width()) // 2, (h - scaled.height()) // 2, scaled)
        p.end()
        img = canvas
    stride = img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


class Recorder(QtCore.QObject):
    """Captures ``widget`` ``fps`` times a second into a :class:`FrameWriter` until :meth:`stop`.

    The capture runs on the window's thread (a grab is a paint into an image); the encoding on the writer's
    thread. A frame the encoder cannot take at once is dropped rather than waited for (:attr:`FrameWriter.dropped`),
    so a slow encoder never stalls the window.
    """

    stopped = QtCore.Signal(str)  # what happened, for the user

    def __init__(self, widget: QtWidgets.QWidget, path: str | Path, fps: float = 10.0,
                 size: tuple[int, int] | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.widget = widget
        size = size or (widget.width(), widget.height())
        self.writer = FrameWriter(path, size, fps)
        self.capture_seconds = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, int(round(1000.0 / self.writer.fps))))
        self._timer.timeout.connect(self.capture)
        self.started_at = 0.0

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self.capture()
        self._timer.start()

    def capture(self) -> None:
        t0 = time.perf_counter()
        self.writer.add(grab_frame(self.widget, self.writer.size), block=False)
        self.capture_seconds += time.perf_counter() - t0
        if self.writer.full or self.writer.error:  # the stop message says which
            self.stop()

    def stop(self) -> str:
        """Stop capturing, write the file; returns (and emits) a sentence saying what was written."""
        if not self._timer.isActive() and self.writer._closed:
            return ""
        self._timer.stop()
        w = self.writer
        try:
            path = w.close()
        except RecordError as exc:
            text = f"Recording failed: {exc}"
        else:
            seconds = w.frames / w.fps
            text = f"Recorded {w.frames} frames ({seconds:.1f} s at {w.fps:g} fps, {w.size[0]}×{w.size[1]}) to {path}"
            if w.dropped:
                text += f"; {w.dropped} frames were skipped while the encoder caught up"
            if w.full:
                text += f"; stopped at the memory limit of a GIF ({MAX_GIF_BYTES // 2**20} MB of frames): record an " \
                        ".mp4 or a smaller size for longer"
        self.stopped.emit(text)
        return text


class RecordDialog(QtWidgets.QDialog):
    """What to record (the window or one view), at which rate and size, into which file."""

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.setWindowTitle("Record")
        self.window_ = window
        form = QtWidgets.QFormLayout(self)
        self.target = QtWidgets.QComboBox()
        self.target.addItem("the whole window", "")
        for vid in window.views:  # (titles only: a view is built when it is recorded)
            self.target.addItem(window.views.title(vid), vid)
        self.target.currentIndexChanged.connect(self._default_size)
        form.addRow("Record", self.target)
        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 30)
        self.fps.setValue(10)
        self.fps.setSuffix(" frames/s")
        form.addRow("Rate", self.fps)
        size = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(size)
        row.setContentsMargins(0, 0, 0, 0)
        self.width_box, self.height_box = QtWidgets.QSpinBox(), QtWidgets.QSpinBox()
        for box in (self.width_box, self.height_box):
            box.setRange(16, 7680)
            box.setSuffix(" px")
        row.addWidget(self.width_box)
        row.addWidget(QtWidgets.QLabel("×"))
        row.addWidget(self.height_box)
        form.addRow("Size", size)
        file_row = QtWidgets.QWidget()
        fr = QtWidgets.QHBoxLayout(file_row)
        fr.setContentsMargins(0, 0, 0, 0)
        self.path = QtWidgets.QLineEdit(str(Path.home() / "rnnlab-recording.gif"))
        self.path.setToolTip(".gif (Pillow) or .mp4 (the optional extra rnnlab[video])")
        choose = QtWidgets.QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        fr.addWidget(self.path, 1)
        fr.addWidget(choose)
        form.addRow("File", file_row)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Record")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._default_size()

    def widget(self) -> QtWidgets.QWidget:
        vid = self.target.currentData()
        return self.window_.views[vid] if vid else self.window_

    def _default_size(self, *_) -> None:
        w = self.widget()
        self.width_box.setValue(max(16, w.width()))
        self.height_box.setValue(max(16, w.height()))

    def _choose(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Record to", self.path.text(),
                                                        "Animated GIF (*.gif);;MP4 video (*.mp4)")
        if path:
            self.path.setText(path)

    def _accept(self) -> None:
        try:
            check_format(self.path.text())
        except RecordError as exc:
            self.error.setText(str(exc))  # plain text: the message may quote a file name
            return
        self.accept()

    def settings(self) -> tuple[QtWidgets.QWidget, str, float, tuple[int, int]]:
        """``(widget, path, fps, (width, height))``."""
        return self.widget(), self.path.text(), float(self.fps.value()), (self.width_box.value(),
                                                                          self.height_box.value())


class RecordActions(QtCore.QObject):
    """File ▸ Record… / Stop recording for a main window (``window.banner`` says what was written)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.recorder: Recorder | None = None
        self.action = QtGui.QAction("&Record…", window)
        self.action.setToolTip("Record the window or one view as an animated GIF or an MP4, for slides")
        self.action.triggered.connect(self.toggle)
        window.addAction(self.action)

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.active

    def toggle(self) -> None:
        if self.recording:
            self.stop()
            return
        dlg = RecordDialog(self.window)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        self.start(*dlg.settings())

    def start(self, widget, path, fps: float = 10.0, size: tuple[int, int] | None = None) -> bool:
        """Start recording ``widget`` (the window or one of its views); False (with a message) when it cannot."""
        try:
            self.recorder = Recorder(widget, path, fps, size, parent=self)
        except RecordError as exc:
            self.window.banner.show_info(html.escape(f"Cannot record: {exc}"))
            return False
        self.recorder.stopped.connect(self._done)
        self.recorder.start()
        self.action.setText("Stop &recording")
        return True

    def stop(self) -> str:
        return self.recorder.stop() if self.recorder is not None else ""

    def _done(self, text: str) -> None:
        self.action.setText("&Record…")
        self.window.banner.show_info(html.escape(text))  # plain text: it quotes a file name

    def shutdown(self) -> None:
        """The window closes: finish the file being recorded."""
        if self.recording:
            self.stop()
