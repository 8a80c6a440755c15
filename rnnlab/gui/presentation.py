"""Presentation mode and classroom files.

Presentation mode is for a projector at the back of a room: full screen, fonts and lines about 1.6× larger and
bold, a high-contrast palette (black on white), and the advanced controls hidden. A *classroom file* (TOML) lets a
teacher prepare a session and keep students on track::

    [classroom]
    presentation = true                 # start in presentation mode
    preset = "clipping"                 # or: config = "my-experiment.toml" (relative to this file)
    lesson = "main"                     # open this lesson
    lock = ["model.arch", "seed"]       # shown but not editable
    hide = ["remedies.hf_mu"]           # not shown at all
    set = { "task.length" = 30 }        # overrides on top of the preset/config

Keys in ``lock``/``hide`` are any experiment keys (docs/config.md); errors name the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, Experiment, apply_overrides, key_field, load_toml

__all__ = ["Classroom", "load_classroom", "ADVANCED_KEYS", "Presentation"]

#: controls hidden in presentation mode (they matter for research, not for a lecture)
ADVANCED_KEYS = frozenset({
    "model.input_scale", "model.output_scale", "model.dtype", "model.sparse_k", "task.mem_values",
    "task.mem_positions", "training.beta1", "training.beta2", "training.eval_every", "training.eval_batch_size",
    "remedies.hf_damping", "remedies.hf_max_cg", "remedies.esn_washout", "remedies.esn_ridge",
})
SCALE = 1.6
#: views hidden in presentation mode (the lesson's watched view is shown even if listed here)
SECONDARY_VIEWS = ("gradient_flow", "hidden_states", "saturation")


@dataclass
class Classroom:
    path: Path
    presentation: bool = False
    experiment: Experiment | None = None
    lesson: str | None = None
    lock: frozenset = field(default_factory=frozenset)
    hide: frozenset = field(default_factory=frozenset)


def load_classroom(path: str | Path) -> Classroom:
    """Parse a classroom file; a :class:`ConfigError` names the file, the key and the problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    c = data.get("classroom")
    if not isinstance(c, dict):
        raise ConfigError(f"{path}: expected a [classroom] table")
    allowed = {"presentation", "preset", "config", "lesson", "lock", "hide", "set"}
    for k in c:
        if k not in allowed:
            raise ConfigError(f"{path}: unknown key classroom.{k}: expected one of {', '.join(sorted(allowed))}")
    room = Classroom(path, presentation=bool(c.get("presentation", False)), lesson=c.get("lesson"))
    try:
        if "preset" in c and "config" in c:
            raise ConfigError("give classroom.preset or classroom.config, not both")
        if "preset" in c:
            from ..presets import load_preset

            room.experiment = load_preset(str(c["preset"]))
        elif "config" in c:
            room.experiment = load_toml(path.parent / str(c["config"]))
        if "set" in c:
            if not isinstance(c["set"], dict):
                raise ConfigError(f"classroom.set = {c['set']!r}: expected a table of key = value")
            room.experiment = apply_overrides(room.experiment or Experiment(),
                                              [f"{k}={v}" for k, v in c["set"].items()])
        for name in ("lock", "hide"):
            keys = c.get(name, [])
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ConfigError(f"classroom.{name} = {keys!r}: expected a list of setting keys")
            for k in keys:
                key_field(k)  # raises ConfigError naming the key
            setattr(room, name, frozenset(keys))
        if room.lesson is not None:
            from ..lessons import lesson_names

            if room.lesson not in lesson_names():
                raise ConfigError(f"classroom.lesson = {room.lesson!r}: expected one of {', '.join(lesson_names())}")
    except ConfigError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    return room


class Presentation:
    """Switches a main window in and out of presentation mode."""

    def __init__(self, window):
        self.window = window
        self.on = False
        self.room: Classroom | None = None
        self._font = None
        self._palette = None

    def set_classroom(self, room: Classroom | None) -> None:
        self.room = room
        self._apply_access()

    def _apply_access(self) -> None:
        hide = set(self.room.hide if self.room else ())
        if self.on:
            hide |= ADVANCED_KEYS
        lock = set(self.room.lock if self.room else ())
        for panel in self.window.panels:
            panel.set_access(locked=lock, hidden=hide)

    def toggle(self) -> None:
        self.set(not self.on)

    def set(self, on: bool, fullscreen: bool = True) -> None:
        from PySide6 import QtGui, QtWidgets

        app = QtWidgets.QApplication.instance()
        win = self.window
        if on == self.on:
            return
        self.on = on
        if on:
            self._font, self._palette = QtGui.QFont(app.font()), QtGui.QPalette(app.palette())
            f = QtGui.QFont(app.font())
            f.setPointSizeF(max(f.pointSizeF(), 9.0) * SCALE)
            app.setFont(f)
            pal = QtGui.QPalette()
            for role, colour in ((QtGui.QPalette.ColorRole.Window, "#ffffff"),
                                 (QtGui.QPalette.ColorRole.WindowText, "#000000"),
                                 (QtGui.QPalette.ColorRole.Base, "#ffffff"), (QtGui.QPalette.ColorRole.Text, "#000000"),
                                 (QtGui.QPalette.ColorRole.Button, "#f0f0f0"),
                                 (QtGui.QPalette.ColorRole.ButtonText, "#000000"),
                                 (QtGui.QPalette.ColorRole.Highlight, "#0050a0"),
                                 (QtGui.QPalette.ColorRole.HighlightedText, "#ffffff")):
                pal.setColor(role, QtGui.QColor(colour))
            app.setPalette(pal)
            self._dock_was_visible = win.controls_dock.isVisible()
            win.controls_dock.hide()  # View ▸ Experiment brings it back
            if fullscreen:
                win.showFullScreen()
        else:
            if self._font is not None:
                app.setFont(self._font)
                app.setPalette(self._palette)
            win.controls_dock.setVisible(getattr(self, "_dock_was_visible", True))
            win.showNormal()
        for p in win.plots:
            p.set_scale(SCALE if on else 1.0)
            p.setVisible(not (on and p.view_id in SECONDARY_VIEWS) or p is getattr(win, "watched", None))
        if on:  # the hidden third row leaves the space to the others
            win.rows_splitter.setSizes([1, 1, 0])
        else:
            win.rows_splitter.setSizes([380, 340, 220])
        self._apply_access()
