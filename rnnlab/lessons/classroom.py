"""Classroom files: a teacher prepares a session (experiment or lesson, presentation mode, locked and hidden
controls). Read here, without Qt; the window applies them (:mod:`rnnlab.gui.presentation`, ``MainWindow``).

A classroom file is TOML (documented for teachers in ``docs/classroom.md``)::

    [classroom]
    presentation = true                 # start in presentation mode (true or false, not a string)
    preset = "clipping"                 # the experiment: a preset, or config = "my-experiment.toml" (relative
    set = { "task.length" = 30 }        #   to this file), then set: changes on top (Experiment.with_changes)
    lock = ["model.arch", "seed"]       # shown but not editable
    hide = ["remedies.hf_mu"]           # not shown at all

    # or, instead of preset/config/set:
    lesson = "main"                     # open this guided lesson: its steps load their own experiments

``set`` is a table of TOML-typed values with dotted keys (``"model.spectral_radius" = 1.5``) or nested tables
(``model = { spectral_radius = 1.5 }``), applied at once and validated as a whole, as a lesson step's ``set``.
``lesson`` together with ``preset``, ``config`` or ``set`` is refused: the lesson's first step would replace that
experiment as soon as it opens. Every value is type-checked, never coerced; a :class:`ConfigError` names the file
and the key, with long values shortened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ConfigError, Experiment, _short, key_field, load_toml

__all__ = ["Classroom", "load_classroom", "parse_classroom", "CLASSROOM_KEYS"]

CLASSROOM_KEYS = ("presentation", "preset", "config", "lesson", "lock", "hide", "set")
#: the keys that give the experiment, which a lesson would replace
_EXPERIMENT_KEYS = ("preset", "config", "set")


@dataclass
class Classroom:
    """A parsed classroom file: ``experiment`` is None when the file names none (the current one stays)."""

    path: Path
    presentation: bool = False
    experiment: Experiment | None = None
    lesson: str | None = None
    lock: frozenset = field(default_factory=frozenset)
    hide: frozenset = field(default_factory=frozenset)


def load_classroom(path: str | Path) -> Classroom:
    """Read and validate a classroom file; a :class:`ConfigError` names the file, the key and the problem."""
    from ..io import read_text

    return parse_classroom(read_text(path, what="classroom file"), Path(path))


def parse_classroom(text: str, path: str | Path = "<classroom>") -> Classroom:
    """Validate classroom TOML ``text``; ``path`` names the file in errors and anchors a relative ``config``."""
    from ..io import guarded, parse_toml

    path = Path(path)
    data = parse_toml(text, path)
    with guarded(path, "classroom file"):  # one line naming the file, whatever goes wrong
        return _parse(path, data)


def _parse(path: Path, data: dict) -> Classroom:
    c = data.get("classroom")
    if not isinstance(c, dict):
        raise ConfigError("expected a [classroom] table")
    for k in c:
        if k not in CLASSROOM_KEYS:
            raise ConfigError(f"unknown key classroom.{k if len(k) <= 80 else k[:79] + '…'}: expected one of "
                              f"{', '.join(sorted(CLASSROOM_KEYS))}")
    return _build(path, c)


def _typed(c: dict, key: str, kind: type, expected: str) -> Any:
    """``classroom.key`` if present (else None), refused unless it is of type ``kind``."""
    value = c.get(key)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"classroom.{key} = {_short(value)}: expected {expected}")
    return value


def _build(path: Path, c: dict) -> Classroom:
    presentation = _typed(c, "presentation", bool, "true or false")
    lesson = _typed(c, "lesson", str, "the name of a lesson (a string)")
    preset = _typed(c, "preset", str, "the name of a preset (a string)")
    config = _typed(c, "config", str, "the path of an experiment file (a string)")
    changes = _typed(c, "set", dict, "a table of settings, e.g. set = { \"task.length\" = 30 }")
    if preset is not None and config is not None:
        raise ConfigError("give classroom.preset or classroom.config, not both")
    given = [k for k in _EXPERIMENT_KEYS if k in c]
    if lesson is not None and given:
        raise ConfigError(f"classroom.lesson cannot be combined with {', '.join('classroom.' + k for k in given)}: "
                          "the lesson's steps load their own experiments and would replace it; give either a lesson "
                          "or an experiment (see docs/classroom.md)")
    room = Classroom(path, presentation=bool(presentation), lesson=lesson)
    if preset is not None:
        from ..presets import load_preset, preset_names

        if preset not in preset_names():
            raise ConfigError(f"classroom.preset: unknown preset {_short(preset)}: expected one of "
                              f"{', '.join(preset_names())}")
        room.experiment = load_preset(preset)
    elif config is not None:
        from ..io import check_path, short_path

        try:  # the guarded reader refuses folders, devices (/dev/zero would be read forever) and large files
            file = path.parent / check_path(config)  # a relative path starts from the classroom file's folder
            room.experiment = load_toml(file)
        except ConfigError as exc:
            why = str(exc)
            for where in (config, path.parent / config):
                why = why.removeprefix(short_path(where) + ": ")
            raise ConfigError(f"classroom.config = {_short(config)}: {why}") from None
    if changes is not None:
        try:
            room.experiment = (room.experiment or Experiment()).with_changes(changes)
        except ConfigError as exc:
            raise ConfigError(f"classroom.set: {exc}") from None
    for name in ("lock", "hide"):
        keys = c.get(name, [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"classroom.{name} = {_short(keys)}: expected a list of setting keys")
        for k in keys:
            if len(k) > 80:
                raise ConfigError(f"classroom.{name}: unknown key {_short(k)}")
            try:
                key_field(k)
            except ConfigError as exc:
                raise ConfigError(f"classroom.{name}: {exc}") from None
        setattr(room, name, frozenset(keys))
    if lesson is not None:
        from .parser import lesson_names

        if lesson not in lesson_names():
            raise ConfigError(f"classroom.lesson = {_short(lesson)}: expected one of {', '.join(lesson_names())}")
    return room
