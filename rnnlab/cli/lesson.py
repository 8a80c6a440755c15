"""``rnnlab lesson``: list the guided lessons, print one as plain text, or check lesson files.

``--list`` (the default) prints each lesson's name, title and number of steps; ``--show NAME`` prints a lesson
(name or ``.toml`` path) as plain text; ``--check FILE…`` validates lesson files (errors name the file and the
line) and builds every step's network. Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["add_parser", "view_registry"]


def view_registry() -> Mapping[str, Any]:
    """The views a lesson may ``watch``: the window's registry ``{view_id: view class with a .label}``
    (:data:`rnnlab.gui.plots.VIEWS`), which :func:`rnnlab.lessons.parse_lesson` accepts as is."""
    from ..gui.plots import VIEWS

    return VIEWS


def _run(args) -> int:
    import sys

    from ..lessons import LessonError, all_lessons, check_lesson, lesson_to_text, load_lesson
    from ..lessons.typeset import untypeset

    views = view_registry()
    try:
        if args.check:
            for path in args.check:
                lesson = load_lesson(path, views=views)
                check_lesson(lesson)
                print(f"{path}: ok ({len(lesson)} steps)")
                for note in untypeset(lesson):  # shown all the same, in the rich-text form
                    print(f"{path}: note: not typeset, shown as rich text: {note}")
            return 0
        if args.show:
            sys.stdout.write(lesson_to_text(load_lesson(args.show, views=views)))
            return 0
        lessons = all_lessons(views=views)
    except LessonError as exc:
        print(f"rnnlab: error: {exc}", file=sys.stderr)
        return 2
    width = max((len(x.name) for x in lessons), default=4)
    for x in lessons:
        print(f"{x.name:<{width}}  {x.title_plain}  ({len(x)} steps)")
    return 0


def add_parser(subparsers) -> None:
    """Add ``rnnlab lesson`` (``--list``, ``--show NAME``, ``--check FILE…``) to an argparse subparsers object."""
    p = subparsers.add_parser(
        "lesson", help="list the guided lessons (--list), print one (--show NAME) or check a lesson file",
        description="The guided lessons shown in the app's Lesson panel. Without options, the same as --list.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help="print each lesson's name, title and number of steps")
    g.add_argument("--show", metavar="NAME", help="print a lesson (name or .toml path) as plain text")
    g.add_argument("--check", metavar="FILE", nargs="+",
                   help="validate lesson files (errors name the file and line) and build every step's network")
    p.set_defaults(func=_run)
