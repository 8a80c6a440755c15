"""``rnnlab lesson`` (rnnlab/cli/lesson.py): --list, --show, --check; unknown view ids are refused."""

from __future__ import annotations

import argparse

from rnnlab.cli.lesson import add_parser
from rnnlab.lessons import all_lessons
from tests.lessons.test_lessons import GOOD_HEAD, write

LESSONS = all_lessons()


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="rnnlab")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    rc = args.func(args)
    return rc, capsys.readouterr()


def test_lesson_list_command(capsys):
    rc, out = _run(["lesson", "--list"], capsys)
    assert rc == 0
    lines = out.out.strip().split("\n")
    assert len(lines) == len(LESSONS)
    assert lines[0].split()[0] == "main"
    for line, lesson in zip(lines, LESSONS):
        assert line.startswith(lesson.name) and lesson.title in line and f"({len(lesson)} steps)" in line
    rc, out2 = _run(["lesson"], capsys)
    assert rc == 0 and out2.out == out.out


def test_lesson_show_and_check_commands(capsys, tmp_path):
    rc, out = _run(["lesson", "--show", "main"], capsys)
    assert rc == 0 and "22/22. What to remember" in out.out
    good = write(tmp_path, GOOD_HEAD, "good.toml")
    rc, out = _run(["lesson", "--check", str(good)], capsys)
    assert rc == 0 and "ok (1 steps)" in out.out
    bad = write(tmp_path, GOOD_HEAD + 'watch = "nowhere"\n')
    rc, out = _run(["lesson", "--check", str(bad)], capsys)
    assert rc == 2 and f"{bad}:8:" in out.err and "nowhere" in out.err



def test_lesson_check_notes_an_equation_that_will_not_be_typeset(capsys, tmp_path):
    from rnnlab.lessons.typeset import available

    text = GOOD_HEAD.replace("First $x_t$.", "First $x_t$, then $\\nolimits x$.")
    rc, out = _run(["lesson", "--check", str(write(tmp_path, text, "odd.toml"))], capsys)
    assert rc == 0 and "ok (1 steps)" in out.out  # a note, not an error: the equation shows as rich text
    assert ("note: not typeset, shown as rich text: step 1 text: $\\nolimits x$" in out.out) == available()
    assert "$x_t$" not in out.out
