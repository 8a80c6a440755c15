"""Guided lessons: every built-in step parses, builds and renders; malformed lessons name the file and the line;
the TeX subset converts to HTML without raw commands; ``rnnlab lesson``."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.config import Experiment
from rnnlab.lessons import (
    VIEWS,
    Lesson,
    LessonError,
    TexError,
    add_lesson_command,
    all_lessons,
    check_lesson,
    known_commands,
    lesson_names,
    lesson_to_text,
    lessons_dir,
    load_lesson,
    parse_lesson,
    step_experiment,
    tex_to_html,
    tex_to_plain,
)
from rnnlab.presets import preset_names

ROOT = Path(__file__).resolve().parents[2]
LESSONS = all_lessons()
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
    from rnnlab.train.trainer import check_compatible

    lesson, step = case
    exp = step_experiment(step)
    assert isinstance(exp, Experiment)
    check_compatible(exp)
    task, net, _ = build(exp)
    assert net is not None and task is not None
    for html in (step.html, step.title_html, step.do_html):
        assert not RAW_COMMAND.search(html), html
        assert "$" not in html, html
    assert step.html.startswith(("<p", "<ul")) and step.title.strip()
    assert all(w in VIEWS for w in step.watch)
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


def test_views_are_the_plot_classes():
    plots = (ROOT / "rnnlab" / "gui" / "plots").glob("*.py")
    classes = set(re.findall(r"^class (\w+)\(", "\n".join(p.read_text(encoding="utf-8") for p in plots), re.M))
    assert set(VIEWS.values()) <= classes


def test_docs_table_lists_the_lessons():
    doc = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w-]+)` \| (.+?) \| (\d+) \|$", doc, re.M)
    assert {(n, t, int(k)) for n, t, k in rows} == {(x.name, x.title, len(x)) for x in LESSONS}
    for view in VIEWS:
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
        load_lesson(path)
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


# --- the TeX subset ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tex, html", [
    ("$h_t$", "<i>h</i><sub><i>t</i></sub>"),
    ("$W^{t-k}$", "<i>W</i><sup><i>t</i>−<i>k</i></sup>"),
    ("$\\gamma\\lambda < 1$", "γλ &lt; 1"),
    ("$\\frac{\\partial h_t}{\\partial h_k}$", "∂<i>h</i><sub><i>t</i></sub>/∂<i>h</i><sub><i>k</i></sub>"),
    ("$\\frac{1}{4}$", "1/4"),
    ("$\\frac{a+b}{c}$", "(<i>a</i> + <i>b</i>)/<i>c</i>"),
    ("$\\frac{c}{\\|g\\|} g$", "(<i>c</i>/‖<i>g</i>‖)<i>g</i>"),
    ("$\\prod_{j=k+1}^{t}$", "∏<sub><i>j</i>=<i>k</i>+1</sub><sup><i>t</i></sup>"),
    ("$\\sum_k \\Omega_k$", "∑<sub><i>k</i></sub> Ω<sub><i>k</i></sub>"),
    ("$\\mathrm{diag}(f'(a_j))$", "diag(<i>f</i>′(<i>a</i><sub><i>j</i></sub>))"),
    ("$\\sigma_{\\max} \\ge \\rho$", "σ<sub>max</sub> ≥ ρ"),
    ("$\\alpha \\mu \\theta \\Omega \\sigma$", "αμθΩσ"),
    ("$k \\ll t \\to \\infty$", "<i>k</i> ≪ <i>t</i> → ∞"),
    ("$a \\cdot b$", "<i>a</i> · <i>b</i>"),
    ("$-x$", "−<i>x</i>"),
    ("$\\mathcal{L}$", "ℒ"),
    ("$\\hat{g}$", "<i>g\u0302</i>"),
    ("$\\text{if } x$", "if <i>x</i>"),
    ("$\\tanh(x)$", "tanh(<i>x</i>)"),
    ("$\\left\\| x \\right\\|$", "‖<i>x</i>‖"),
    ("$10^{-6}$", "10<sup>−6</sup>"),
])
def test_tex_to_html_pieces(tex, html):
    assert tex_to_html(tex) == f"<p>{html}</p>"


def test_tex_paragraphs_lists_display_and_bold():
    out = tex_to_html("One **bold** a < b\nstill one.\n\n- item $x$\n- two\n  more\n$$E = \\sum_t E_t$$\nend \\$5")
    assert out == ("<p>One <b>bold</b> a &lt; b still one.</p><ul><li>item <i>x</i></li><li>two more</li></ul>"
                   '<p align="center"><i>E</i> = ∑<sub><i>t</i></sub> <i>E</i><sub><i>t</i></sub></p><p>end $5</p>')


def test_tex_errors_carry_the_offset():
    with pytest.raises(TexError) as ex:
        tex_to_html("abc $x + \\foo$")
    assert ex.value.offset == 9 and ex.value.command == "\\foo"
    for bad in ("$x", "$x_{t$", "$x}$", "$\\frac{a}$", "$x_$", "a \\rho b", "$a & b$"):
        with pytest.raises(TexError):
            tex_to_html(bad)


def test_tex_to_plain():
    assert tex_to_plain("$\\|\\partial h_t/\\partial h_k\\| \\le (\\gamma\\lambda)^{t-k}$") == \
        "‖∂h_t/∂h_k‖ ≤ (γλ)^(t−k)"


def test_every_known_command_converts():
    for name in known_commands():
        if name in ("left", "right", "middle") or name.startswith(("big", "Big")) and name not in ("bigcup", "bigcap"):
            tex = f"$\\{name}( x \\{name})$"
        elif name in ("frac", "dfrac", "tfrac"):
            tex = f"$\\{name}{{a}}{{b}}$"
        elif name in ("sqrt", "mathrm", "mathit", "mathbf", "boldsymbol", "bm", "mathcal", "mathbb", "mathsf",
                      "mathtt", "operatorname", "text", "textrm", "textit", "textbf", "mbox", "hat", "widehat",
                      "tilde", "widetilde", "bar", "overline", "dot", "ddot", "vec", "check", "breve", "acute",
                      "grave"):
            tex = f"$\\{name}{{x}}$"
        else:
            tex = f"$a \\{name} b$"
        html = tex_to_html(tex)
        assert not RAW_COMMAND.search(html), (name, html)


# --- the command -------------------------------------------------------------------------------------------------

def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="rnnlab")
    add_lesson_command(parser.add_subparsers(dest="command"))
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
