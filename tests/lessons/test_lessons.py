"""Guided lessons: every built-in step parses, builds and renders; malformed lessons name the file and the line;
``set`` means Experiment.with_changes; ``watch`` ids are checked against the views the caller passes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.config import Experiment
from rnnlab.lessons import (
    Lesson,
    LessonError,
    all_lessons,
    check_lesson,
    lesson_names,
    lesson_to_text,
    lessons_dir,
    load_lesson,
    parse_lesson,
    step_experiment,
)
from rnnlab.presets import preset_names

ROOT = Path(__file__).resolve().parents[2]
#: the views a lesson may watch, as the window's registry names them (kept Qt-free here; a GUI test checks that the
#: registry has exactly these ids and labels)
DEFAULT_VIEW_IDS = {
    "heatmap": "the ∂h_t/∂h_k heatmap",
    "lag_profile": "the lag profile",
    "gradient_flow": "the gradient flow ∂E_t/∂h_k",
    "grad_norms": "the gradient norms",
    "loss": "the loss and success rate",
    "spectrum": "the spectrum of the recurrence",
    "hidden_states": "the hidden states",
    "saturation": "the saturation histogram",
    "memory": "the curse-of-memory view",
    "lyapunov": "the Lyapunov exponents",
    "unrolled": "the unrolled network",
}
LESSONS = all_lessons(views=DEFAULT_VIEW_IDS)
STEPS = [(lesson, step) for lesson in LESSONS for step in lesson.steps]
RAW_COMMAND = re.compile(r"\\[A-Za-z]+|\\[|,;{}]")


def _ids(case):
    lesson, step = case
    return f"{lesson.name}-{step.number}"

# --- the built-in lessons --------------------------------------------------------------------------------------

def test_lessons_are_found_main_first():
    names = lesson_names()
    assert names[0] == "main"
    assert "exploding-and-clipping" in names
    assert lessons_dir() == ROOT / "resources" / "lessons" or (lessons_dir() / "main.toml").is_file()
    assert [x.name for x in LESSONS] == names


@pytest.mark.parametrize("case", STEPS, ids=[_ids(c) for c in STEPS])
def test_every_step_parses_builds_and_renders(case):
    from rnnlab.train.setup import build
    from rnnlab.train.rules import check

    lesson, step = case
    exp = step_experiment(step)
    assert isinstance(exp, Experiment)
    check(exp)
    task, net, _ = build(exp)
    assert net is not None and task is not None
    for html in (step.html, step.title_html, step.do_html):
        assert not RAW_COMMAND.search(html), html
        assert "$" not in html, html
    assert step.html.startswith(("<p", "<ul")) and step.title.strip()
    assert all(w in DEFAULT_VIEW_IDS for w in step.watch)
    assert step.watch_labels == tuple(DEFAULT_VIEW_IDS[w] for w in step.watch)
    assert step.train >= 0 and step.line >= 1
    assert lesson.title and lesson.path.endswith(f"{lesson.name}.toml")


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.name for x in LESSONS])
def test_step_lines_point_at_their_headers(lesson):
    lines = Path(lesson.path).read_text(encoding="utf-8").split("\n")
    for step in lesson.steps:
        assert lines[step.line - 1].strip() == "[[step]]"


def test_check_lesson_builds_every_network():
    for lesson in LESSONS:
        check_lesson(lesson)


def test_main_lesson_follows_the_seeds():
    main = load_lesson("main")
    assert main.title == "Why recurrent networks are hard to train"
    assert 18 <= len(main) <= 22
    titles = " | ".join(s.title for s in main.steps).lower()
    text = " ".join(s.text for s in main.steps)
    # the argument, in order: paths, product of Jacobians, diag(f') W, gamma, (gamma lambda)^(t-k), eigenvalues
    for needle in (r"\sum_{k=1}^{t}", r"\prod_{j=k+1}^{t}", r"\mathrm{diag}(f'(a_j))\, W", r"\gamma = 1/4",
                   r"(\gamma\lambda)^{t-k}", r"\rho(W)", r"\sigma_{\max}"):
        assert needle in text, needle
    order = [titles.index(k) for k in ("sum over paths", "product of", "diag", "bound $\\gamma$", "spectral radius",
                                        "vanishing gradients, live", "exploding gradients, live")]
    assert order == sorted(order)
    for remedy in ("clipping", "truncated", "l1 or l2", "teacher forcing", "echo state", "hessian-free", "leaky",
                   "regulariser", "lstm", "gru", "orthogonal"):
        assert remedy in titles, remedy
    # both regimes are shown live, from their presets
    assert {"vanishing-sigmoid", "exploding-tanh"} <= {s.preset for s in main.steps}


def test_every_named_preset_exists():
    names = set(preset_names()) | {"default"}
    for lesson, step in STEPS:
        if step.preset is not None:
            assert step.preset in names


def test_experiments_follow_the_inheritance_rule():
    main = load_lesson("main")
    for prev, step in zip(main.steps, main.steps[1:]):
        if step.preset is None and not step.overrides:
            assert step_experiment(step) == step_experiment(prev)
            assert not step.loads_experiment
        else:
            assert step.loads_experiment
    first = main.steps[0]
    assert first.preset == "default" and step_experiment(first) == Experiment()


def test_watched_views_are_views_of_the_command_line_registry():
    """The ids the built-in lessons watch are views that ``rnnlab lesson`` (and the GUI) know; the GUI test
    tests/gui/test_lesson_panel.py checks that each id names a plot class."""
    from rnnlab.cli.lesson import view_registry

    views = view_registry()
    assert set(DEFAULT_VIEW_IDS) <= set(views)
    for lesson in all_lessons(views=views):
        assert all(w in views for w in (w for s in lesson.steps for w in s.watch))


def test_docs_table_lists_the_lessons():
    doc = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w-]+)` \| (.+?) \| (\d+) \|$", doc, re.M)
    assert {(n, t, int(k)) for n, t, k in rows} == {(x.name, x.title, len(x)) for x in LESSONS}
    for view in DEFAULT_VIEW_IDS:
        assert f"`{view}`" in doc


def test_lessons_module_imports_no_qt():
    qt = ("PySide6", "pyqtgraph", "shiboken6")
    code = ("import sys, rnnlab.lessons as L; L.all_lessons(); "
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {qt!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_lesson_as_plain_text():
    text = lesson_to_text(load_lesson("exploding-and-clipping"))
    assert "1/5. Gradients are products" in text and "‖∂h_t/∂h_k‖ ≤ (γ σ_max(W))^(t−k)" in text
    assert "\\" not in text

# --- malformed lessons: the file and the line ----------------------------------------------------------------------

GOOD_HEAD = '''title = "A lesson"
summary = "Two steps."

[[step]]
title = "One"
text = \'\'\'First $x_t$.\'\'\'
preset = "clipping"
'''


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def error_of(path: Path) -> LessonError:
    with pytest.raises(LessonError) as ex:
        load_lesson(path, views=DEFAULT_VIEW_IDS)
    err = ex.value
    assert str(err).startswith(f"{path}:{err.line}")
    return err


def test_a_good_file_loads(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '''
[[step]]
title = "Two"
text = \'\'\'Second.\'\'\'
set = { "model.spectral_radius" = 2 }
watch = ["heatmap", "loss"]
''', "good.toml")
    lesson = load_lesson(p)
    assert isinstance(lesson, Lesson) and lesson.name == "good" and len(lesson) == 2
    s2 = lesson.steps[1]
    assert s2.base == "clipping" and s2.preset is None and s2.overrides == {"model.spectral_radius": 2}
    exp = step_experiment(s2)
    assert exp.model.spectral_radius == 2.0 and exp.remedies.clip == "norm"  # on top of the inherited preset
    assert s2.watch == ("heatmap", "loss") and s2.line == 9


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "unterminated\n')
    err = error_of(p)
    assert err.line == 11 and err.column is not None
    assert "not valid TOML" in str(err)


def test_backslash_in_a_basic_string_explains_literal_strings(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "the slope $\\sigma\'(a)$"\n')
    err = error_of(p)
    assert err.line == 11 and "'''" in str(err)


def test_escape_that_swallowed_a_backslash_is_caught(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "angle $\\theta$"\n')
    err = error_of(p)
    assert err.line == 11 and err.step == 2 and "tab" in err.message


def test_unknown_preset_points_at_the_preset_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n# a comment\npreset = "clip"\n')
    err = error_of(p)
    assert err.line == 13 and "unknown preset 'clip'" in err.message and "clipping" in err.message


def test_bad_set_key_points_at_the_key(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n'
                                    'set = { "model.spectral_radius" = 1.1, "model.radius" = 2 }\n')
    err = error_of(p)
    assert err.line == 12 and "model.radius" in err.message


def test_bad_set_value_in_a_sub_table_points_at_its_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n\n[step.set]\n'
                                    '"task.length" = 30\n"model.spectral_radius" = -1.0\nseed = 3\n')
    err = error_of(p)
    assert err.line == 15 and "model.spectral_radius = -1.0" in err.message


def test_bad_set_type_is_refused(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\nset = { "task.length" = "long" }\n')
    err = error_of(p)
    assert err.line == 12 and "task.length" in err.message


def test_incompatible_experiment_is_refused(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\npreset = "hessian-free"\n'
                                    'set = { "model.arch" = "lstm" }\n')
    err = error_of(p)
    assert err.line == 13 and "hessian_free" in err.message


def test_unknown_watch_points_at_the_watch_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\ndo = "Play"\nwatch = ["heatmap", "heat"]\n')
    err = error_of(p)
    assert err.line == 13 and "'heat'" in err.message and "lag_profile" in err.message


def test_unknown_tex_command_points_at_its_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = \"Two\"\ntext = '''\nLine one $x$.\n\nLine two, "
                                    "$\\gamma \\lambda$ and $\\foo{x}$.\nLine three.'''\n")
    err = error_of(p)
    assert err.line == 14 and "\\foo" in err.message and err.step == 2


def test_unknown_tex_command_on_the_first_text_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = \"Two\"\ntext = '''Here $\\bogus$\nthere.'''\n")
    err = error_of(p)
    assert err.line == 11 and "\\bogus" in err.message


def test_tex_in_title_and_do_is_checked(tmp_path):
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = 'Two $\\nope$'\ntext = 'x'\n")
    assert error_of(p).line == 10
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = 'Two'\ntext = 'x'\ndo = 'Drag $\\rhoo$'\n")
    assert error_of(p).line == 12


def test_command_outside_an_equation_and_unclosed_dollar(tmp_path):
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = 'Two'\ntext = '''a\nthe \\rho grows'''\n")
    err = error_of(p)
    assert err.line == 12 and "outside an equation" in err.message
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = 'Two'\ntext = '''a\nb $x_t and more'''\n")
    err = error_of(p)
    assert err.line == 12 and "never closed" in err.message


def test_unknown_step_key_and_missing_text(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\nwach = "heatmap"\n')
    err = error_of(p)
    assert err.line == 12 and "'wach'" in err.message
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\n')
    err = error_of(p)
    assert err.line == 9 and "missing text" in err.message


def test_lesson_level_errors(tmp_path):
    err = error_of(write(tmp_path, 'summary = "no title"\n[[step]]\ntitle = "a"\ntext = "b"\n'))
    assert err.line == 1 and "title" in err.message
    err = error_of(write(tmp_path, 'title = "No steps"\n'))
    assert "no steps" in err.message
    err = error_of(write(tmp_path, 'title = "T"\nauthor = "me"\n[[step]]\ntitle = "a"\ntext = "b"\n'))
    assert err.line == 2 and "'author'" in err.message
    err = error_of(write(tmp_path, 'title = "T"\n[[step]]\ntitle = "a"\ntext = "b"\ntrain = -1\n'))
    assert err.line == 5


def test_unknown_lesson_name():
    with pytest.raises(LessonError, match="unknown lesson 'nope'.*main"):
        load_lesson("nope")


def test_parse_lesson_from_text():
    lesson = parse_lesson('title = "T"\n[[step]]\ntitle = "a"\ntext = "b"\n', "x/my.toml")
    assert lesson.name == "my" and step_experiment(lesson.steps[0]) == Experiment()



# --- `set` is Experiment.with_changes ----------------------------------------------------------------------------

def _second_step(tmp_path, set_text: str, name: str = "set.toml"):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n' + set_text, name)
    return load_lesson(p, views=DEFAULT_VIEW_IDS).steps[1]


def test_set_dotted_and_nested_forms_are_the_same(tmp_path):
    forms = [
        'set = { "model.spectral_radius" = 1.5, "task.length" = 30 }\n',
        'set = { model = { spectral_radius = 1.5 }, task.length = 30 }\n',
        'set = { model.spectral_radius = 1.5, task = { length = 30 } }\n',
        '[step.set]\nmodel.spectral_radius = 1.5\n"task.length" = 30\n',
        '[step.set.model]\nspectral_radius = 1.5\n[step.set.task]\nlength = 30\n',
    ]
    steps = [_second_step(tmp_path, f, f"form{k}.toml") for k, f in enumerate(forms)]
    expected = Experiment.from_dict(load_lesson(write(tmp_path, GOOD_HEAD, "head.toml")).steps[0]
                                    .experiment.to_dict()).with_changes({"model.spectral_radius": 1.5,
                                                                         "task.length": 30})
    for step in steps:
        assert step.overrides == {"model.spectral_radius": 1.5, "task.length": 30}
        assert step_experiment(step) == expected
        assert step_experiment(step).remedies.clip == "norm"  # on top of the inherited preset


def test_set_is_validated_as_a_whole(tmp_path):
    """leak_min = 0.95 alone is larger than the default leak_max = 0.9; with leak_max = 0.99 in the same set it is
    valid, whichever comes first."""
    for text in ('set = { "model.leak_min" = 0.95, "model.leak_max" = 0.99 }\n',
                 'set = { "model.leak_max" = 0.99, "model.leak_min" = 0.95 }\n'):
        exp = step_experiment(_second_step(tmp_path, text))
        assert (exp.model.leak_min, exp.model.leak_max) == (0.95, 0.99)
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n[step.set]\n"task.length" = 30\n'
                                    '"model.leak_min" = 0.95\n')
    err = error_of(p)
    assert err.line == 14 and "model.leak_min = 0.95 is larger than model.leak_max" in err.message


def test_set_values_are_typed_never_coerced(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n'
                                    'set = { "remedies.hessian_free" = "false" }\n')
    err = error_of(p)
    assert err.line == 12 and err.message == "step 2: set: remedies.hessian_free = 'false': expected true or false"
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n'
                                    'set = { "model.hidden_size" = 32.0 }\n')
    assert "model.hidden_size = 32.0: expected an integer" in error_of(p).message


def test_bad_nested_set_key_points_at_its_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\n\n[step.set.model]\n'
                                    'spectral_radius = 1.2\nradius = 2\n')
    err = error_of(p)
    assert err.line == 15 and "unknown key 'model.radius'" in err.message
    p = write(tmp_path, GOOD_HEAD + '\n[[step]]\ntitle = "Two"\ntext = "x"\nset = { model = 3 }\n')
    err = error_of(p)
    assert err.line == 12 and "model = 3: expected a table of model settings" in err.message


def test_error_messages_shorten_long_values(tmp_path):
    long = "x" * 5000
    p = write(tmp_path, GOOD_HEAD + f'\n[[step]]\ntitle = "Two"\ntext = "x"\npreset = "{long}"\n')
    err = error_of(p)
    assert err.line == 12 and "x" * 81 not in str(err) and "…" in err.message


# --- views are the caller's --------------------------------------------------------------------------------------

WATCHING = GOOD_HEAD + 'watch = ["loss", "custom_view"]\n'


def test_watch_ids_are_checked_only_against_the_views_given():
    lesson = parse_lesson(WATCHING, "w.toml")  # no views: not checked, the ids are their own labels
    assert lesson.steps[0].watch == ("loss", "custom_view") == lesson.steps[0].watch_labels
    with pytest.raises(LessonError) as ex:
        parse_lesson(WATCHING, "w.toml", views=DEFAULT_VIEW_IDS)
    assert ex.value.line == 8 and "'custom_view': unknown view, expected one of heatmap, lag_profile" in str(ex.value)
    views = {"loss": "the loss", "custom_view": "my view"}
    assert parse_lesson(WATCHING, "w.toml", views=views).steps[0].watch_labels == ("the loss", "my view")


def test_views_may_be_a_registry_of_classes_with_labels():
    class Loss:
        label = "Loss and success"

    class Custom:
        label = "Custom"

    step = parse_lesson(WATCHING, "w.toml", views={"loss": Loss, "custom_view": Custom}).steps[0]
    assert step.watch_labels == ("Loss and success", "Custom")


# --- hostile files -------------------------------------------------------------------------------------------------

def test_deeply_nested_equation_is_an_error_at_its_line(tmp_path):
    p = write(tmp_path, GOOD_HEAD + "\n[[step]]\ntitle = 'Two'\ntext = '''a\nb $" + "{" * 500 + "x" + "}" * 500
              + "$'''\n")
    err = error_of(p)
    assert err.line == 12 and "nested too deeply: more than 50 levels" in err.message


def test_deeply_nested_toml_is_an_error():
    text = 'title = "T"\nx = ' + "[" * 500 + "]" * 500 + "\n"
    with pytest.raises(LessonError, match="nested 33 levels deep"):
        parse_lesson(text, "deep.toml")
