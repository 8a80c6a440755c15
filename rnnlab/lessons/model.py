"""The lesson model: a :class:`Lesson` is a title, a summary and a tuple of :class:`LessonStep`; each step carries
its text (TeX source and converted HTML), what to do, the views to watch and its experiment, already built and
validated by :mod:`rnnlab.lessons.parser`. Also the plain-text view of a lesson (:func:`lesson_to_text`).

A lesson knows view *ids* only ("heatmap", "grad_norms", …), never GUI classes: the caller that loads a lesson
passes the valid ids with their labels (the GUI's view registry). No Qt, no NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import Experiment
from .tex import tex_inline, tex_to_html, tex_to_plain

__all__ = ["Lesson", "LessonStep", "step_experiment", "lesson_to_text", "MAIN_LESSON", "DEFAULT_PRESET"]

#: the lesson shown first; the others follow in alphabetical order
MAIN_LESSON = "main"
#: ``preset = "default"`` starts a step from the defaults of docs/config.md (the base before any preset)
DEFAULT_PRESET = "default"

@dataclass(frozen=True)
class LessonStep:
    """One step of a lesson (all text already converted; ``experiment`` already built and validated)."""

    index: int  # 0-based
    title: str
    text: str  # the source, with TeX
    html: str  # the text as Qt rich text
    do: str = ""
    do_html: str = ""
    watch: tuple[str, ...] = ()  # view ids
    preset: str | None = None  # as written in this step ("default" = the defaults of docs/config.md)
    base: str | None = None  # the last preset named up to this step (None: the defaults of docs/config.md)
    overrides: dict[str, Any] = field(default_factory=dict)  # this step's own `set`, dotted keys
    train: int = 0
    line: int = 0  # line of the step's [[step]] header
    lesson: str = ""  # the lesson's name
    path: str = ""  # the lesson file
    experiment: Experiment | None = field(default=None, compare=False, repr=False)
    #: plain-text label of each watched view, as given by the caller's views when loading (else the ids)
    watch_labels: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.watch_labels) != len(self.watch):
            object.__setattr__(self, "watch_labels", tuple(self.watch))

    @property
    def number(self) -> int:
        """1-based position in the lesson."""
        return self.index + 1

    @property
    def title_html(self) -> str:
        return tex_inline(self.title, 0, False)

    @property
    def title_plain(self) -> str:
        return tex_to_plain(self.title)

    @property
    def loads_experiment(self) -> bool:
        """Whether the step changes the experiment (it has a ``preset`` or a ``set``). A step with neither has the
        previous step's experiment: walking forward onto it should leave the run (and the user's changes) alone."""
        return self.preset is not None or bool(self.overrides)


@dataclass(frozen=True)
class Lesson:
    name: str
    path: str
    title: str
    summary: str
    steps: tuple[LessonStep, ...]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i: int) -> LessonStep:
        return self.steps[i]

    @property
    def summary_html(self) -> str:
        return tex_to_html(self.summary) if self.summary else ""

    @property
    def title_plain(self) -> str:
        return tex_to_plain(self.title)


def step_experiment(step: LessonStep) -> Experiment:
    """The experiment of a step: with a ``preset``, that preset (``"default"``: the defaults of docs/config.md);
    without one, the previous step's experiment (the first step: the defaults); then the step's own ``set``
    on top (:meth:`Experiment.with_changes`). Built and validated when the lesson is loaded."""
    if step.experiment is not None:
        return step.experiment
    return build_experiment(step.base, step.overrides)  # pragma: no cover - steps are built with their experiment


def build_experiment(base: str | None, changes: dict[str, Any]) -> Experiment:
    """Preset ``base`` (None: the defaults) with ``changes`` applied at once by :meth:`Experiment.with_changes`."""
    if base is None:
        exp = Experiment()
    else:
        from ..presets import load_preset

        exp = load_preset(base)
    return exp.with_changes(changes) if changes else exp


def lesson_to_text(lesson: Lesson) -> str:
    """The whole lesson as plain text (a script to print or read aloud)."""
    out = [lesson.title_plain, "=" * len(lesson.title_plain)]
    if lesson.summary:
        out += [tex_to_plain(lesson.summary)]
    for s in lesson.steps:
        out += ["", f"{s.number}/{len(lesson)}. {s.title_plain}", ""]
        out += [tex_to_plain(s.text)]
        if s.preset is not None or s.index == 0:
            exp = f"preset {s.base}" if s.base else "the defaults"
        else:
            exp = "the previous step's"
        if s.overrides:
            exp += ", with " + ", ".join(f"{k} = {v!r}" for k, v in s.overrides.items())
        out += ["", f"   Experiment: {exp}" + ("" if s.loads_experiment else " (the run goes on)")]
        if s.do:
            out += [f"   Do: {tex_to_plain(s.do)}"]
        if s.watch:
            out += [f"   Watch: {', '.join(s.watch_labels)}"]
    return "\n".join(out) + "\n"
