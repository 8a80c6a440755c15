"""Typeset mathematics (ziamath, no Qt): every equation of the shipped lessons and of the seed articles' derivation
is typeset as vector graphics (no rich-text fallback), fractions are stacked, and what cannot be typeset faithfully
(an unknown command, a broken equation, an absurd length) raises TypesetError instead of drawing something wrong."""

from __future__ import annotations

import re

import pytest

from rnnlab.lessons import all_lessons, known_commands, parse_lesson
from rnnlab.lessons.typeset import MAX_SOURCE, TypesetError, available, equations, typeset, untypeset

pytestmark = pytest.mark.skipif(not available(), reason="ziamath is not installed")

# The derivation of the seed articles, as they write it. 000 (the chain, s_t the state):
SEED_000 = [
    r"\frac{\partial \mathcal{L}_t(\theta)}{\partial W} = \frac{\partial \mathcal{L}_t(\theta)}{\partial s_t} "
    r"\sum_{k=1}^t \frac{\partial s_t}{\partial s_k} \frac{\partial s_k}{\partial W}",
    r"\frac{\partial s_t}{\partial s_k} = \frac{\partial s_t}{\partial s_{t-1}} \frac{\partial s_{t-1}}"
    r"{\partial s_{t-2}} \frac{\partial s_{t-2}}{\partial s_{t-3}} \dots \frac{\partial s_{k+1}}{\partial s_k}",
    r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^t \frac{\partial s_j}{\partial s_{j-1}}",
    r"\begin{aligned} a_j &= Ux_j + Ws_{j-1} + b \\ s_j &= \sigma(a_j) \end{aligned}",
    r"\frac{\partial s_j}{\partial s_{j-1}} = \boxed{\frac{\partial s_j}{\partial a_j}} \frac{\partial a_j}"
    r"{\partial s_{j-1}}",
    r"= \begin{bmatrix} \sigma'(a_{j1}) & 0 & 0 & 0 \\ 0 & \sigma'(a_{j2}) & 0 & 0 \\ 0 & 0 & \ddots & \\ "
    r"0 & 0 & \dots & \sigma'(a_{jd}) \end{bmatrix}",
    r"\frac{\partial s_j}{\partial s_{j-1}} = \text{diag}(\sigma'(a_j))W",
    r"\begin{aligned} \left\| \frac{\partial s_j}{\partial s_{j-1}} \right\| &= \| \text{diag}(\sigma'(a_j)) W \| "
    r"\\ &\leq \| \text{diag}(\sigma'(a_j)) \| \| W \| \end{aligned}",
    r"\begin{aligned}\sigma'(a_j) &\leq \frac{1}{4} = \gamma \text{ [if } \sigma \text{ is logistic]} \\ &\leq 1 "
    r"= \gamma \text{ [if } \sigma \text{ is tanh]}\end{aligned}",
    r"\left\| \frac{\partial s_j}{\partial s_{j-1}} \right\| \leq \gamma \left\| W \right\| \leq \gamma \lambda",
]
# 001, eqs. 5-12 and 14-16:
SEED_001 = [
    r"\frac{\partial \mathbf{E}}{\partial \mathbf{W}} = \sum_{t=1}^T \frac{\partial \mathbf{E}_t}{\partial "
    r"\mathbf{W}} \quad (5)",
    r"\frac{\partial \mathbf{E}}{\partial \mathbf{W}} = \sum_{t=1}^T \frac{\partial \mathbf{E}}{\partial "
    r"\mathbf{y}_t} \frac{\partial \mathbf{y}_t}{\partial \mathbf{h}_t} \overbrace{\frac{\partial \mathbf{h}_t}"
    r"{\partial \mathbf{h}_k}}^{\star} \frac{\partial \mathbf{h}_k}{\partial \mathbf{W}} \quad (6)",
    r"\frac{\partial \mathbf{h}_t}{\partial \mathbf{h}_k} = \frac{\partial \mathbf{h}_t}{\partial \mathbf{h}_{t-1}} "
    r"\frac{\partial \mathbf{h}_{t-1}}{\partial \mathbf{h}_{t-2}} \dots \frac{\partial \mathbf{h}_{k+1}}{\partial "
    r"\mathbf{h}_k} \quad (7)",
    r"= \prod_{i=k+1}^t \frac{\partial \mathbf{h}_i}{\partial \mathbf{h}_{i-1}} \quad (8)",
    r"\prod_{i=k+1}^t \frac{\partial \mathbf{h}_i}{\partial \mathbf{h}_{i-1}} = \prod_{i=k+1}^t \mathbf{W}^\top "
    r"\text{diag} [f'(\mathbf{h}_{i-1})] \quad (9)",
    r"\left\| \frac{\partial \mathbf{h}_i}{\partial \mathbf{h}_{i-1}} \right\| \leq \|\mathbf{W}^\top\| "
    r"\|\text{diag}[f'(\mathbf{h}_{i-1})]\| \quad (10)",
    r"\left\| \frac{\partial \mathbf{h}_i}{\partial \mathbf{h}_{i-1}} \right\| \leq \|\mathbf{W}^\top\| "
    r"\|\text{diag}[f'(\mathbf{h}_{i-1})]\| \leq \gamma_{\mathbf{W}} \gamma_{\mathbf{h}} \quad (11)",
    r"\left\| \frac{\partial \mathbf{h}_t}{\partial \mathbf{h}_k} \right\| = \left\| \prod_{i=k+1}^t "
    r"\frac{\partial \mathbf{h}_i}{\partial \mathbf{h}_{i-1}} \right\| \leq (\gamma_{\mathbf{W}} "
    r"\gamma_{\mathbf{h}})^{t-k} \quad (12)",
    r"\mathbf{h}_{t,i} = \alpha_i \mathbf{h}_{t-1,i} + (1 - \alpha_i) f_{\mathbf{W}}(\mathbf{h}_{t-1}, "
    r"\mathbf{x}_t) \quad (14)",
    r"\frac{\partial \Omega}{\mathbf{W}_{hh}} = \sum_k \frac{\partial \Omega_k}{\mathbf{W}_{hh}} \quad (15)",
    r"= \sum_k \frac{\partial \left( \frac{\left\| \frac{\partial \mathbf{E}}{\partial \mathbf{h}_{k+1}} "
    r"\mathbf{W}_{hh}^\top \mathbf{diag}(f'(\mathbf{h}_k)) \right\|}{\left\| \frac{\partial \mathbf{E}}{\partial "
    r"\mathbf{h}_{k+1}} \right\|} - 1 \right)^2}{\partial \mathbf{W}_{hh}} \quad (16)",
]


def lesson_equations() -> list[tuple[str, str, bool]]:
    """(where, source, display?) of every equation in the shipped lessons: titles, summaries, texts, "do" lines."""
    out = []
    for lesson in all_lessons():
        texts = [("summary", lesson.summary)]
        for s in lesson.steps:
            texts += [(f"step {s.number} title", s.title), (f"step {s.number} text", s.text),
                      (f"step {s.number} do", s.do)]
        out += [(f"{lesson.name} {where}", src, d) for where, text in texts for src, d in equations(text)]
    return out


LESSON_EQUATIONS = lesson_equations()


def test_the_lessons_have_equations_to_typeset():
    assert sum(d for _, _, d in LESSON_EQUATIONS) >= 20 and len(LESSON_EQUATIONS) >= 250


@pytest.mark.parametrize("where, tex, display", LESSON_EQUATIONS,
                         ids=[f"{w}:{t[:30]}" for w, t, _ in LESSON_EQUATIONS])
def test_every_lesson_equation_is_typeset(where, tex, display):
    f = typeset(tex, display)  # raises TypesetError: the fallback would be used
    assert f.svg.count(b"<path") >= 1 and f.width > 0 and 0 < f.ascent <= f.height


@pytest.mark.parametrize("tex", SEED_000 + SEED_001, ids=[f"000-{i}" for i in range(len(SEED_000))]
                         + ["001-eq" + re.search(r"\((\d+)\)$", t).group(1) for t in SEED_001])
def test_every_equation_of_the_seeds_derivation_is_typeset(tex):
    f = typeset(tex, True)
    assert f.svg.count(b"<path") >= 3 and f.width > 1 and f.height > 0.8


def test_a_fraction_is_stacked():
    frac, flat = typeset(r"\frac{\partial h_t}{\partial h_k}", True), typeset(r"\partial h_t", True)
    assert frac.height > 1.8 * flat.height  # numerator over denominator
    assert frac.width < 1.3 * flat.width  # not written side by side
    # the bar sits on the maths axis: the numerator above the baseline, the denominator below it
    assert frac.ascent > 1.5 * flat.ascent and frac.descent > 0.5
    inline = typeset(r"\frac{\partial h_t}{\partial h_k}", False)
    assert flat.height < inline.height < frac.height  # text style: stacked, smaller


def test_a_sum_carries_its_limits_above_and_below_in_display_style():
    display, inline = typeset(r"\sum_{k=1}^{t} x_k", True), typeset(r"\sum_{k=1}^{t} x_k", False)
    assert display.height > 1.3 * inline.height and display.width < inline.width


@pytest.mark.parametrize("tex, message", [
    (r"\foo x", r"unknown command \\foo"),
    (r"\frac{a}{", "could not be typeset"),
    ("x^", "could not be typeset"),
    ("", "empty"),
    ("x" * (MAX_SOURCE + 1), "longer than"),
    ("{" * 1500 + "x" + "}" * 1500, "could not be typeset|nested too deeply"),
], ids=["unknown command", "unclosed brace", "missing superscript", "empty", "too long", "too deep"])
def test_what_cannot_be_typeset_faithfully_raises(tex, message):
    with pytest.raises(TypesetError, match=message):
        typeset(tex, True)


def test_a_bad_colour_is_refused_not_written_into_the_svg():
    with pytest.raises(TypesetError, match="not a colour"):
        typeset("x", True, color='red"/><script')
    assert b"#1a2b3c" in typeset("x", True, color="#1a2b3c").svg


def test_a_lesson_check_names_the_equations_shown_as_rich_text():
    assert all(untypeset(lesson) == [] for lesson in all_lessons())
    text = "title = 'T'\n[[step]]\ntitle = 'S'\ntext = 'Fine: $h_t$. Not typeset: $\\nolimits x$.'\n"
    notes = untypeset(parse_lesson(text, "x.toml"))
    assert notes == ["step 1 text: $\\nolimits x$: unknown command \\nolimits"]  # a \nolimits with no operator


#: commands of the lesson subset in a small equation each (the rest: the command followed by x)
EXAMPLES = {"frac": r"\frac{a}{b}", "dfrac": r"\dfrac{a}{b}", "tfrac": r"\tfrac{a}{b}", "sqrt": r"\sqrt{x}",
            "left": r"\left( x \right)", "right": r"\left( x \right)", "middle": r"\left( x \middle| y \right)",
            "text": r"\text{if}", "mbox": r"\mbox{if}", "textbf": r"\textbf{a}", "textit": r"\textit{a}",
            "textrm": r"\textrm{a}", "operatorname": r"\operatorname{diag}", "limits": r"\sum\limits_k x_k",
            "nolimits": r"\sum\nolimits_k x_k"}


def test_every_command_of_the_lesson_subset_is_typeset():
    names = sorted(c for c in known_commands() if c.isalpha())
    failed = set()
    for c in names:
        try:
            typeset(EXAMPLES.get(c, f"\\{c} x"), True)
        except TypesetError:
            failed.add(c)
    assert failed == set() and len(names) > 150
