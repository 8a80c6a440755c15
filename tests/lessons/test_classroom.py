"""Classroom files (rnnlab/lessons/classroom.py, no Qt): the experiment from a preset or a file with ``set`` on top
(Experiment.with_changes, TOML-typed values), locks and hides, a lesson *or* an experiment; every error names the
file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnlab.config import ConfigError, Experiment, save_toml
from rnnlab.lessons.classroom import Classroom, load_classroom, parse_classroom
from rnnlab.presets import load_preset


def room_of(tmp_path: Path, text: str, name: str = "room.toml") -> Classroom:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return load_classroom(f)


def error_of(tmp_path: Path, text: str | bytes) -> str:
    f = tmp_path / "bad.toml"
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as ex:
        load_classroom(f)
    msg = str(ex.value)
    assert msg.startswith(f"{f}: "), msg
    return msg


def test_preset_with_set_locks_and_hides(tmp_path):
    room = room_of(tmp_path, '[classroom]\npresentation = true\npreset = "clipping"\nlock = ["model.arch", "seed"]\n'
                             'hide = ["remedies.hf_mu"]\nset = { "task.length" = 30 }\n')
    assert room.presentation is True and room.lesson is None
    assert room.experiment == load_preset("clipping").with_changes({"task.length": 30})
    assert room.lock == {"model.arch", "seed"} and room.hide == {"remedies.hf_mu"}


def test_an_empty_classroom_changes_nothing(tmp_path):
    room = room_of(tmp_path, "[classroom]\n")
    assert room == Classroom(tmp_path / "room.toml")
    assert room.experiment is None and room.presentation is False


def test_set_alone_starts_from_the_defaults(tmp_path):
    room = room_of(tmp_path, '[classroom]\nset = { "model.hidden_size" = 16 }\n')
    assert room.experiment == Experiment().replace("model.hidden_size", 16)


def test_set_dotted_and_nested_forms_are_the_same(tmp_path):
    forms = ['set = { "model.spectral_radius" = 1.5, "task.length" = 30 }\n',
             'set = { model = { spectral_radius = 1.5 }, task.length = 30 }\n',
             '[classroom.set]\nmodel.spectral_radius = 1.5\n"task.length" = 30\n',
             '[classroom.set.model]\nspectral_radius = 1.5\n[classroom.set.task]\nlength = 30\n']
    rooms = [room_of(tmp_path, '[classroom]\npreset = "clipping"\n' + f, f"r{k}.toml") for k, f in enumerate(forms)]
    expected = load_preset("clipping").with_changes({"model": {"spectral_radius": 1.5}, "task": {"length": 30}})
    assert all(r.experiment == expected for r in rooms)


def test_set_is_validated_as_a_whole(tmp_path):
    for text in ('set = { "model.leak_min" = 0.95, "model.leak_max" = 0.99 }\n',
                 'set = { "model.leak_max" = 0.99, "model.leak_min" = 0.95 }\n'):
        exp = room_of(tmp_path, "[classroom]\n" + text).experiment
        assert (exp.model.leak_min, exp.model.leak_max) == (0.95, 0.99)


def test_config_is_relative_to_the_classroom_file(tmp_path):
    (tmp_path / "sub").mkdir()
    exp = Experiment().replace("model.hidden_size", 24)
    save_toml(exp, tmp_path / "sub" / "exp.toml")
    room = room_of(tmp_path, '[classroom]\nconfig = "exp.toml"\nset = { seed = 7 }\n', "sub/room.toml")
    assert room.experiment == exp.replace("seed", 7)


def test_a_lesson_alone_with_presentation_and_locks(tmp_path):
    room = room_of(tmp_path, '[classroom]\nlesson = "main"\npresentation = false\nlock = ["seed"]\n')
    assert room.lesson == "main" and room.experiment is None and room.presentation is False
    assert room.lock == {"seed"}


@pytest.mark.parametrize("keys,named", [
    ('preset = "clipping"', "classroom.preset"),
    ('config = "exp.toml"', "classroom.config"),
    ("set = { seed = 3 }", "classroom.set"),
    ('preset = "clipping"\nset = { seed = 3 }', "classroom.preset, classroom.set"),
])
def test_a_lesson_with_an_experiment_is_refused(tmp_path, keys, named):
    """The rule of docs/classroom.md: a lesson's steps load their own experiments, so a classroom file gives a
    lesson or an experiment (preset/config + set), never both."""
    msg = error_of(tmp_path, f'[classroom]\nlesson = "main"\n{keys}\n')
    assert f"classroom.lesson cannot be combined with {named}: " in msg
    assert "docs/classroom.md" in msg


@pytest.mark.parametrize("text,needle", [
    ("[classroom]\npresentation = 'false'\n", "classroom.presentation = 'false': expected true or false"),
    ("[classroom]\npresentation = 1\n", "classroom.presentation = 1: expected true or false"),
    ("[classroom]\nlesson = 3\n", "classroom.lesson = 3: expected the name of a lesson"),
    ("[classroom]\nlesson = 'nope'\n", "classroom.lesson = 'nope': expected one of main"),
    ("[classroom]\npreset = 3\n", "classroom.preset = 3: expected the name of a preset"),
    ("[classroom]\npreset = 'nope'\n", "unknown preset 'nope'"),
    ("[classroom]\nconfig = ['a']\n", "classroom.config = ['a']: expected the path of an experiment file"),
    ("[classroom]\nconfig = 'missing.toml'\n", "classroom.config = 'missing.toml': cannot read: no such file"),
    ("[classroom]\nconfig = '/dev/zero'\n", "classroom.config = '/dev/zero': a device, not a regular file"),
    ('[classroom]\nconfig = "a\\u0000b"\n', "classroom.config = 'a\\x00b': the path contains a NUL byte"),
    ("[classroom]\npreset = 'clipping'\nconfig = 'x.toml'\n", "give classroom.preset or classroom.config"),
    ("[classroom]\nset = 'task.length=3'\n", "classroom.set = 'task.length=3': expected a table of settings"),
    ("[classroom]\nset = { 'remedies.hessian_free' = 'false' }\n",
     "classroom.set: remedies.hessian_free = 'false': expected true or false"),
    ("[classroom]\nset = { 'task.length' = '30' }\n", "classroom.set: task.length = '30': expected an integer"),
    ("[classroom]\nset = { 'model.hidden_size' = 0 }\n", "model.hidden_size = 0"),
    ("[classroom]\nset = { model = { radius = 2 } }\n", "classroom.set: unknown key 'model.radius'"),
    ("[classroom]\nlock = ['model.archh']\n", "classroom.lock: unknown key 'model.archh'"),
    ("[classroom]\nhide = 'seed'\n", "classroom.hide = 'seed': expected a list of setting keys"),
    ("[classroom]\ncolour = 1\n", "unknown key classroom.colour"),
    ("[classroom\n", "not valid TOML"),
    ("x = 1\n", "expected a [classroom] table"),
    ("[classroom]\nset = " + "{ a = " * 400 + "1" + " }" * 400 + "\n", "nested 33 levels deep"),
    (b"[classroom]\nlesson = '\xff'\n", "not a UTF-8 text file"),
])
def test_bad_classroom_files_name_file_and_key(tmp_path, text, needle):
    assert needle in error_of(tmp_path, text)


@pytest.mark.parametrize("text", [
    "[classroom]\npresentation = '" + "x" * 5000 + "'\n",
    "[classroom]\nlesson = '" + "x" * 5000 + "'\n",
    "[classroom]\nset = { 'task.name' = '" + "x" * 5000 + "' }\n",
    "[classroom]\nlock = ['" + "x" * 5000 + "']\n",
    "[classroom]\n" + "x" * 5000 + " = 1\n",
])
def test_long_values_are_shortened(tmp_path, text):
    msg = error_of(tmp_path, text)
    assert "x" * 81 not in msg and "…" in msg


def test_parse_classroom_from_text():
    room = parse_classroom('[classroom]\npreset = "lstm"\n', "x/room.toml")
    assert room.path == Path("x/room.toml") and room.experiment == load_preset("lstm")


def _set_paragraph(doc: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / doc).read_text(encoding="utf-8")
    start = text.index("`set` is a table of settings")
    return text[start:text.index("\n\n", start)]


def test_docs_describe_set_identically():
    """docs/lessons.md and docs/classroom.md describe `set` with the same paragraph (TOML-typed values, dotted or
    nested keys, validated as a whole), and classroom.md states the lesson-or-experiment rule."""
    para = _set_paragraph("lessons.md")
    assert para == _set_paragraph("classroom.md")
    assert "dotted" in para and "nested tables" in para and "as a whole" in para and '"true"' in para
    classroom = (Path(__file__).resolve().parents[2] / "docs" / "classroom.md").read_text(encoding="utf-8")
    assert "**A lesson or an experiment, not both.**" in classroom
