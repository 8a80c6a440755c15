"""Guided lessons: a teacher's script of steps, each loading an experiment and pointing at views (no Qt).

The package is layered as follows (each module imports only those above it):

* :mod:`~rnnlab.lessons.tex`: the TeX subset of lesson texts → Qt rich text (HTML) or plain Unicode text (the
  names of :mod:`rnnlab.texmath`, shared with every other text of rnnlab that holds a formula);
* :mod:`~rnnlab.lessons.model`: :class:`Lesson`, :class:`LessonStep`, :func:`step_experiment`,
  :func:`lesson_to_text`;
* :mod:`~rnnlab.lessons.parser`: finding lesson files, parsing and validating them, errors as ``FILE:LINE:``
  (``_lines`` finds the lines);
* :mod:`~rnnlab.lessons.classroom`: a teacher's classroom file (experiment, lesson, locked and hidden keys).

The format is documented for teachers in ``docs/lessons.md`` and ``docs/classroom.md``. The ``rnnlab lesson``
command lives in :mod:`rnnlab.cli.lesson`.
"""

from .classroom import Classroom, load_classroom, parse_classroom
from .model import DEFAULT_PRESET, MAIN_LESSON, Lesson, LessonStep, lesson_to_text, step_experiment
from .parser import (
    LESSON_KEYS,
    STEP_KEYS,
    LessonError,
    all_lessons,
    check_lesson,
    lesson_names,
    lessons_dir,
    load_lesson,
    parse_lesson,
)
from .tex import MAX_DEPTH, TexError, known_commands, math_to_html, math_to_plain, tex_inline, tex_to_html, tex_to_plain

__all__ = [
    "LessonError",
    "TexError",
    "Lesson",
    "LessonStep",
    "MAIN_LESSON",
    "DEFAULT_PRESET",
    "LESSON_KEYS",
    "STEP_KEYS",
    "MAX_DEPTH",
    "lessons_dir",
    "lesson_names",
    "load_lesson",
    "parse_lesson",
    "all_lessons",
    "step_experiment",
    "check_lesson",
    "tex_to_html",
    "tex_to_plain",
    "tex_inline",
    "math_to_html",
    "math_to_plain",
    "known_commands",
    "lesson_to_text",
    "Classroom",
    "load_classroom",
    "parse_classroom",
]
