"""The TeX subset of lesson texts: pieces convert to the expected HTML and plain text, errors carry their offset,
every known command converts, the conversion is linear in the number of fractions and nesting is limited."""

from __future__ import annotations

import re
import sys
import time

import pytest

from rnnlab.lessons import MAX_DEPTH, TexError, known_commands, tex_to_html, tex_to_plain

RAW_COMMAND = re.compile(r"\\[A-Za-z]+|\\[|,;{}]")


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




# --- cost and nesting (issue 11) -----------------------------------------------------------------------------------

def _lines_executed(text: str) -> int:
    """Python lines executed converting ``text``: a measure of work that does not depend on the machine's speed."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        tex_to_html(text)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("sep", ["", " + "], ids=["juxtaposed", "summed"])
def test_conversion_is_linear_in_the_number_of_fractions(sep):
    small = _lines_executed("$" + sep.join([r"\frac{a}{b}"] * 100) + "$")
    large = _lines_executed("$" + sep.join([r"\frac{a}{b}"] * 1600) + "$")
    # 16 times the fractions: the work grows 15.4-16x; the old quadratic search made it 34x (juxtaposed) and 49x
    assert large < 20 * small, (small, large)


def test_sixteen_thousand_fractions_convert_quickly():
    text = "$" + r"\frac{a}{b}" * 16_000 + "$"
    start = time.process_time()
    html, plain = tex_to_html(text), tex_to_plain(text)
    took = time.process_time() - start
    assert html.count("(<i>a</i>/<i>b</i>)") == 16_000 and plain.count("(a/b)") == 16_000
    assert took < 3.0, f"{took:.2f} s of CPU (0.5 s measured; 6.5 s of CPU when it was quadratic)"


@pytest.mark.parametrize("text", [
    "$" + "{" * 500 + "x" + "}" * 500 + "$",
    "$x" + "^{" * 500 + "y" + "}" * 500 + "$",
    "$" + r"\frac{" * 500 + "a" + "}{b}" * 500 + "$",
    "$" + r"\hat" * 500 + " x$",
    "$" + r"\sqrt" * 500 + " x$",
], ids=["braces", "scripts", "fractions", "accents", "roots"])
def test_deep_nesting_is_a_tex_error_naming_the_limit(text):
    with pytest.raises(TexError) as ex:
        tex_to_html(text)
    assert f"more than {MAX_DEPTH} levels" in ex.value.message
    assert 0 <= ex.value.offset < len(text)


def test_nesting_up_to_the_limit_converts():
    assert MAX_DEPTH == 50
    assert tex_to_plain("$" + "{" * MAX_DEPTH + "x" + "}" * MAX_DEPTH + "$") == "x"
    with pytest.raises(TexError):
        tex_to_plain("$" + "{" * (MAX_DEPTH + 1) + "x" + "}" * (MAX_DEPTH + 1) + "$")


def test_first_sentence_stops_outside_equations_and_not_at_et_al():
    from rnnlab.texmath import first_sentence

    text = r"A linear recurrent unit (Orvieto et al. 2023) with $|\lambda| \le 0.99. 5$ decays. Then more text follows."
    assert first_sentence(text, limit=80) == r"A linear recurrent unit (Orvieto et al. 2023) with $|\lambda| \le 0.99. 5$ decays."
    assert first_sentence(text, limit=30) == "A linear recurrent unit …"  # cut between words of prose
    assert first_sentence(r"Short: $\rho$.") is None  # all of it fits
    long = "Rescaled to " + r"$\rho(W_{hh}) = 1.5$ " * 20 + "at the start"
    assert first_sentence(long, limit=60).endswith("$ …")
