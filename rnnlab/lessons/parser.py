"""Finding, parsing and validating lesson files; every error names the file and the line.

A lesson is a TOML file ``resources/lessons/<name>.toml`` (the format is documented for teachers in
``docs/lessons.md``)::

    title = "Why recurrent networks are hard to train"
    summary = "From the chain rule through time to the remedies."

    [[step]]
    title = "A product of Jacobians"
    text = '''The error sent back from step $t$ to step $k$ is multiplied by
    $\\frac{\\partial h_t}{\\partial h_k} = \\prod_{j=k+1}^{t} \\mathrm{diag}(f'(a_j))\\, W$.'''
    preset = "vanishing-sigmoid"              # optional: start from a preset (else the previous step's)
    set = { "model.spectral_radius" = 0.9 }   # optional: changes on top, dotted keys or nested tables
    do = "Press Play (Space)."
    watch = "heatmap"                          # or a list: ["grad_norms", "loss"]
    train = 0                                  # steps to train before a screenshot of this step

Everything is validated when the file is loaded: a malformed lesson raises :class:`LessonError` whose message
starts with ``FILE:LINE:`` (the TOML syntax error's own line and column; for a semantic error the line of the
offending key, or of its step's ``[[step]]`` header). A step's ``set`` is applied with
:meth:`Experiment.with_changes` (TOML-typed values, validated as a whole). Its ``watch`` ids are checked against
the ``views`` the caller passes (``{view_id: label}``, e.g. the GUI's view registry); without ``views`` they are
not checked. No Qt; NumPy only inside :func:`check_lesson`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError, Experiment, _short, flatten_changes
from ..resources import resource_path
from ._lines import Lines
from .model import DEFAULT_PRESET, MAIN_LESSON, Lesson, LessonStep, build_experiment, step_experiment
from .tex import TexError, tex_inline, tex_to_html

__all__ = ["LessonError", "lessons_dir", "lesson_names", "load_lesson", "parse_lesson", "all_lessons",
           "check_lesson", "LESSON_KEYS", "STEP_KEYS"]

LESSON_KEYS = ("title", "summary", "step")
STEP_KEYS = ("title", "text", "preset", "set", "do", "watch", "train")


class LessonError(ValueError):
    """A malformed lesson. ``str(err)`` is ``"FILE:LINE: message"`` (``FILE:LINE:COLUMN:`` for TOML syntax)."""

    def __init__(self, path: str | Path, line: int | None, message: str, column: int | None = None,
                 step: int | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        self.step = step  # 1-based step number, when the error belongs to a step
        from ..io import one_line, short_path

        where = short_path(self.path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(one_line(f"{where}: {message}"))


# --- where lessons live -------------------------------------------------------------------------------------------

def lessons_dir() -> Path:
    """The folder of the built-in lessons (``resources/lessons``)."""
    return resource_path("lessons")


def lesson_names() -> list[str]:
    """Names of the built-in lessons: ``main`` first, then the others alphabetically."""
    d = lessons_dir()
    names = sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []
    return sorted(names, key=lambda n: (n != MAIN_LESSON, n))


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.parent != Path(".") or p.is_file():
        return p
    names = lesson_names()
    name = str(name_or_path)
    if name not in names:
        raise LessonError(name if len(name) <= 80 else name[:79] + "…", None,
                          f"unknown lesson {_short(name)}: expected one of {', '.join(names) or '(none)'} or the "
                          "path of a .toml file")
    return lessons_dir() / f"{name_or_path}.toml"


def load_lesson(name_or_path: str | Path, views: Mapping[str, Any] | None = None) -> Lesson:
    """A built-in lesson by name (``"main"``) or any lesson file by path. Raises :class:`LessonError`.
    ``views`` as in :func:`parse_lesson`."""
    from ..io import read_text, short_path

    path = _resolve(name_or_path)
    try:
        text = read_text(path, what="lesson file")  # the guarded reader: regular file, size, UTF-8
    except ConfigError as exc:
        message = str(exc)
        prefix = short_path(path) + ": "
        raise LessonError(path, None, message[len(prefix):] if message.startswith(prefix) else message) from None
    key = (str(path), text, None if views is None else tuple(sorted(views)))
    lesson = _parsed.get(key)
    if lesson is None:  # parsing validates every equation of every step: the window's menu and panel share it
        lesson = parse_lesson(text, path, views=views)
        if len(_parsed) >= 16:
            _parsed.pop(next(iter(_parsed)))
        _parsed[key] = lesson
    return lesson


#: lessons parsed already, by (path, text, view ids): a file read again with the same text is not parsed again
_parsed: dict[tuple, Lesson] = {}


def all_lessons(views: Mapping[str, Any] | None = None) -> list[Lesson]:
    """Every built-in lesson, in :func:`lesson_names` order."""
    return [load_lesson(n, views=views) for n in lesson_names()]


# --- the parser ---------------------------------------------------------------------------------------------------

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> LessonError:
    msg = str(exc)
    line = col = None
    if m := _TOML_POS.search(msg):
        line, col = int(m.group(1)), int(m.group(2))
        msg = msg[:m.start()]
    elif m := _TOML_END.search(msg):
        line = max(1, len(text.rstrip("\n").split("\n")))
        msg = msg[:m.start()] + " at the end of the file"
    if "\\" in msg or "escape" in msg.lower():
        msg += (" — text with TeX equations must be written in a literal string, '''…''' (or '…'), where a "
                "backslash is an ordinary character")
    return LessonError(path, line, f"not valid TOML: {msg}", column=col)


def _view_label(views: Mapping[str, Any], view_id: str) -> str:
    """The label of a view: the mapping's value when it is a string, else its ``.label`` (a registry of plot
    classes), else the id."""
    value = views.get(view_id)
    if isinstance(value, str):
        return value
    label = getattr(value, "label", None)
    return label if isinstance(label, str) else view_id


def parse_lesson(text: str, path: str | Path = "<lesson>", views: Mapping[str, Any] | None = None) -> Lesson:
    """Parse and validate lesson TOML ``text``; ``path`` names the file in error messages (its stem is the
    lesson's name).

    ``views`` maps the valid ``watch`` ids to their labels (``{view_id: label}``, or to objects with a ``.label``,
    such as the GUI's registry of plot classes): an unknown id is then a :class:`LessonError` at the ``watch``
    line listing the valid ids, and each step's ``watch_labels`` are those labels. With ``views=None`` the ids are
    not checked and stand for their own labels.
    """
    from ..io import MAX_DEPTH, toml_depth

    path = Path(path)
    deepest, line = toml_depth(text, stop_above=MAX_DEPTH)
    if deepest > MAX_DEPTH:
        raise LessonError(path, line, f"arrays or tables nested {deepest} levels deep; at most {MAX_DEPTH} are "
                                      "allowed")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, exc) from None
    except RecursionError:  # pragma: no cover - refused by the depth scan above
        raise LessonError(path, None, "not valid TOML: arrays or tables nested too deeply") from None
    lines = Lines(text)

    def fail(line: int | None, message: str, step: int | None = None):
        raise LessonError(path, line if line is not None else 1, message, step=step)

    for key in data:
        if key not in LESSON_KEYS:
            hint = " (a step's keys go after a [[step]] header)" if key in STEP_KEYS else ""
            fail(lines.key(key, 1, (lines.header(0) or len(lines.raw) + 1) - 1) or lines.key(key) or 1,
                 f"unknown key {_short(key)}{hint}: expected one of {', '.join(LESSON_KEYS)}")
    top_end = (lines.header(0) or len(lines.raw) + 1) - 1  # the last line before the first [[step]]
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        fail(lines.key("title", 1, top_end) or 1, "the lesson needs a title: title = \"…\" at the top of the file")
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        fail(lines.key("summary", 1, top_end), f"summary = {_short(summary)}: expected a string")
    for key, value in (("title", title), ("summary", summary)):
        _check_tex(path, lines, key, value, 1, top_end, None)
    raw_steps = data.get("step")
    if raw_steps is None:
        fail(len(lines.raw) if lines.raw else 1, "the lesson has no steps: add at least one [[step]] table")
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        fail(lines.key("step") or 1, "step must be an array of tables, written [[step]]")

    steps: list[LessonStep] = []
    base: str | None = None
    previous: Experiment | None = None
    from ..presets import preset_names

    presets = preset_names()
    for i, raw in enumerate(raw_steps):
        number = i + 1
        first, last = lines.step_range(i)
        header = lines.header(i) or first

        def at(key: str) -> int:
            return lines.key(key, first, last) or header

        def step_fail(line: int, message: str):
            fail(line, f"step {number}: {message}", step=number)

        for key in raw:
            if key not in STEP_KEYS:
                step_fail(at(key), f"unknown key {_short(key)}: expected one of {', '.join(STEP_KEYS)}")
        for key in ("title", "text"):
            if key not in raw:
                step_fail(header, f"missing {key} = …")
        for key in ("title", "text", "do", "preset"):
            if key in raw and not isinstance(raw[key], str):
                step_fail(at(key), f"{key} = {_short(raw[key])}: expected a string")
        if not raw["title"].strip():
            step_fail(at("title"), "the title is empty")
        for key in ("title", "text", "do"):
            if key in raw:
                _check_tex(path, lines, key, raw[key], first, last, number)

        preset = raw.get("preset")
        if preset is not None:
            if preset != DEFAULT_PRESET and preset not in presets:
                step_fail(at("preset"), f"unknown preset {_short(preset)}: expected {DEFAULT_PRESET!r} (the defaults "
                                        f"of docs/config.md) or one of {', '.join(presets)}")
            base = None if preset == DEFAULT_PRESET else preset

        changes = raw.get("set", {})
        if not isinstance(changes, dict):
            step_fail(at("set"), f"set = {_short(changes)}: expected a table of settings, "
                                 "e.g. set = { \"model.spectral_radius\" = 0.9 }")

        def set_fail(exc: ConfigError):
            step_fail(_set_line(lines, changes, str(exc), first, last) or at("set"), f"set: {exc}")

        try:
            flat = flatten_changes(changes)
        except ConfigError as exc:
            set_fail(exc)
        if preset is not None or previous is None:
            try:
                exp = build_experiment(base, {})
            except ConfigError as exc:  # pragma: no cover - a broken preset file is caught by the preset tests
                step_fail(at("preset"), f"preset {base!r} does not load: {exc}")
        else:
            exp = previous  # no preset: the previous step's experiment, its `set` included
        if flat:
            try:
                exp = exp.with_changes(flat)  # all at once, validated as a whole
            except ConfigError as exc:
                set_fail(exc)
        try:
            from ..train.rules import check

            check(exp)
        except ConfigError as exc:
            step_fail(at("set") if flat else at("preset"), f"the experiment cannot run: {exc}")

        watch = raw.get("watch", ())
        if isinstance(watch, str):
            watch = (watch,)
        if not isinstance(watch, (list, tuple)) or not all(isinstance(w, str) for w in watch):
            step_fail(at("watch"), f"watch = {_short(raw.get('watch'))}: expected a view name or a list of view "
                                   "names")
        if views is not None:
            for w in watch:
                if w not in views:
                    step_fail(at("watch"), f"watch = {_short(w)}: unknown view, expected one of {', '.join(views)}")
            labels = tuple(_view_label(views, w) for w in watch)
        else:
            labels = tuple(watch)

        train = raw.get("train", 0)
        if isinstance(train, bool) or not isinstance(train, int) or train < 0:
            step_fail(at("train"), f"train = {_short(train)}: expected a whole number of training steps >= 0")

        steps.append(LessonStep(
            index=i, title=raw["title"].strip(), text=raw["text"], html=tex_to_html(raw["text"]),
            do=raw.get("do", "").strip(), do_html=tex_inline(raw.get("do", ""), 0, False),
            watch=tuple(watch), preset=preset, base=base, overrides=flat, train=train, line=header,
            lesson=path.stem, path=str(path), experiment=exp, watch_labels=labels))
        previous = exp
    if not steps:
        fail(lines.key("step") or 1, "the lesson has no steps: add at least one [[step]] table")
    return Lesson(name=path.stem, path=str(path), title=title.strip(), summary=summary.strip(), steps=tuple(steps))


def _set_keys(table: Mapping) -> list[str]:
    """Every dotted path written in a ``set`` table, nested tables included (``["model", "model.arch"]``)."""
    out: list[str] = []
    stack: list[tuple[str, Any]] = [("", table)]
    while stack:
        prefix, value = stack.pop()
        for k, v in value.items():
            key = f"{prefix}{k}"
            out.append(key)
            if isinstance(v, Mapping):
                stack.append((key + ".", v))
    return out


def _set_line(lines: Lines, changes: Mapping, message: str, first: int, last: int) -> int | None:
    """The line of the ``set`` key that a :class:`ConfigError` message names first (the longest key at that place),
    or None."""
    best: tuple[int, int, str] | None = None
    for key in _set_keys(changes):
        m = re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", message)
        if m and (best is None or (m.start(), -len(key)) < best[:2]):
            best = (m.start(), -len(key), key)
    return lines.set_key(best[2], first, last) if best else None


def _check_tex(path: Path, lines: Lines, key: str, value: Any, first: int, last: int, step: int | None) -> None:
    """Convert ``value`` once to find TeX errors and stray control characters; raise a LessonError at their line."""
    if not isinstance(value, str):
        return
    prefix = f"step {step}: " if step else ""
    m = _CONTROL.search(value)
    if m is None and "\t" in value and not any("\t" in ln for ln in lines.raw[first - 1:last]):
        m = re.search("\t", value)  # a tab parsed from the escape \t (as in "\theta"), not typed in the file
    if m:
        line = lines.text_line(key, first, last, value, m.start(), None) or lines.key(key, first, last) or first
        name = {"\t": "a tab (\\t)", "\b": "a backspace (\\b)", "\f": "a form feed (\\f)",
                "\r": "a carriage return (\\r)"}.get(m.group(0), f"the control character {m.group(0)!r}")
        raise LessonError(path, line, f"{prefix}{key} contains {name}: in a \"…\" string \\t, \\b, \\f and \\r "
                                      "are escapes (\\theta, \\frac, \\rho lose their backslash); write text with "
                                      "TeX in a literal string, '''…'''", step=step)
    try:
        if key in ("title", "do"):
            tex_inline(value, 0, False)  # one line: no paragraphs, lists or display equations
        else:
            tex_to_html(value)
    except TexError as exc:
        line = lines.text_line(key, first, last, value, exc.offset, exc.command) or lines.key(key, first, last) \
            or first
        extra = ""
        if exc.command and exc.message.startswith("unknown TeX command"):
            extra = " (docs/lessons.md lists the supported commands)"
        raise LessonError(path, line, f"{prefix}{key}: {exc.message}{extra}", step=step) from None


def check_lesson(lesson: Lesson) -> None:
    """Build every step's network (task and weights) as the app would; raises :class:`LessonError` at the step's
    line when one cannot be built."""
    from ..train.setup import build

    for step in lesson.steps:
        try:
            build(step_experiment(step))
        except (ConfigError, ValueError) as exc:
            raise LessonError(lesson.path, step.line, f"step {step.number}: the experiment cannot be built: {exc}",
                              step=step.number) from None
