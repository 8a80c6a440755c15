"""Typeset mathematics on screen, offscreen: every step of every shipped lesson shows its equations through the
vector path (no rich-text fallback), fractions are drawn stacked, equations follow the font size (presentation
mode) and stay sharp at any scale, an equation that cannot be typeset falls back to rich text, and the TeX source
never reaches the document as markup."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui

from rnnlab.gui import maths
from rnnlab.gui.maths import MathBrowser, formula_image, typeset_html
from rnnlab.lessons import all_lessons
from rnnlab.lessons.tex import _blocks, _split_math
from rnnlab.lessons.typeset import TypesetError, available

pytestmark = pytest.mark.skipif(not available(), reason="ziamath is not installed")
LESSONS = all_lessons()


def n_equations(text: str) -> int:
    n = 0
    for kind, content, _ in _blocks(text):
        n += 1 if kind == "display" else sum(k == "inline" for k, _, _ in _split_math(content))
    return n


def ink_rows(img: QtGui.QImage) -> tuple[int, int]:
    """(first, last) row of ``img`` with a pixel darker than light grey."""
    img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    rows = [y for y in range(img.height())
            if any(img.pixelColor(x, y).alpha() > 60 and img.pixelColor(x, y).lightness() < 160
                   for x in range(img.width()))]
    assert rows, "nothing was drawn"
    return rows[0], rows[-1]


@pytest.mark.parametrize("lesson", LESSONS, ids=[x.name for x in LESSONS])
def test_every_lesson_step_typesets_all_its_equations(panel, lesson):
    panel.set_lesson(lesson.name)
    total = 0
    for i, step in enumerate(lesson.steps):
        panel.go_to(i)
        assert panel.body.fallbacks == [], f"step {step.number}: {panel.body.fallbacks}"
        assert panel.body.typeset_count() == n_equations(step.text), f"step {step.number}"
        total += n_equations(step.text)
        assert "\ufffc" not in panel.plain_text()  # each equation is written out in the plain text
    assert total > 0


def test_the_main_lessons_derivation_is_drawn_stacked(panel, qtbot):
    panel.set_lesson("main", index=1)  # the sum over paths, with its fractions
    assert panel.body.typeset_count() >= 4 and panel.body.fallbacks == []
    img = panel.body.grab().toImage()
    # the display equation: a fraction over a sum is about three text lines tall
    tall = [f for f in maths._formulas.values() if f.display and r"\sum_{k=1}^{t}" in f.tex]
    assert tall and tall[0].height > 2.0
    top, bottom = ink_rows(img)
    assert bottom - top > 100
    assert "∂E_t/∂W" in panel.plain_text().replace(" ", "")


def test_a_fraction_renders_taller_than_its_numerator():
    frac = formula_image(r"\frac{\partial h_t}{\partial h_k}", 20)
    flat = formula_image(r"\partial h_t", 20)
    (a, b), (c, d) = ink_rows(frac), ink_rows(flat)
    assert b - a > 1.8 * (d - c)


def test_equations_follow_the_font_and_stay_sharp(qtbot):
    heights = {}
    for pt in (14, 28):  # the lesson body, then presentation-sized
        b = MathBrowser()
        qtbot.addWidget(b)
        font = b.font()
        font.setPointSizeF(pt)
        b.document().setDefaultFont(font)
        b.resize(900, 400)
        b.set_tex(r"$$\frac{\partial h_t}{\partial h_k}$$")
        b.show()
        qtbot.waitExposed(b)
        top, bottom = ink_rows(b.grab().toImage())
        heights[pt] = bottom - top
    assert 1.8 < heights[28] / heights[14] < 2.2
    # drawn at paint time from the SVG: at device pixel ratio 3 the picture has three times the pixels, and its
    # edges are as sharp as at 1 (an up-scaled bitmap would smear each edge over about three pixels)
    one, three = formula_image(r"\|W\|", 30, dpr=1), formula_image(r"\|W\|", 30, dpr=3)
    assert three.width() == pytest.approx(3 * one.width(), abs=2)

    def grey_fraction(img):
        img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
        alphas = [img.pixelColor(x, y).alpha() for x in range(img.width()) for y in range(img.height())]
        inked = [a for a in alphas if a > 10]
        return sum(a < 245 for a in inked) / len(inked)

    blown_up = one.scaled(three.width(), three.height(), mode=QtCore.Qt.TransformationMode.SmoothTransformation)
    assert grey_fraction(three) < 0.8 * grey_fraction(blown_up)


def test_an_equation_that_cannot_be_typeset_falls_back_to_rich_text(monkeypatch, qtbot):
    def refuse(tex, display=False, color="#000000"):
        raise TypesetError("refused for the test")

    monkeypatch.setattr(maths, "typeset", refuse)
    b = MathBrowser()
    qtbot.addWidget(b)
    b.set_tex(r"a fresh one: $\gamma_{\mathrm{fallback}} < 1$")
    assert b.typeset_count() == 0 and len(b.fallbacks) == 1 and "refused for the test" in b.fallbacks[0]
    assert "γ" in b.toPlainText() and "fallback" in b.toPlainText()


def test_the_tex_source_never_becomes_markup():
    html = typeset_html(r'inline $a < b \text{"><b>x</b>}$ and $$\frac{1}{"<i>"}$$')
    assert "<b>x</b>" not in html and "<i>\"" not in html
    assert html.count(f'src="{maths.SCHEME}') == 2


def test_tooltips_and_captions_carry_typeset_equations(monkeypatch):
    from rnnlab.gui.panels.activation import GAMMA_TIP
    from rnnlab.gui.status_bar import FACTOR_TIP

    for text in (GAMMA_TIP, FACTOR_TIP):
        tip = maths.typeset_tooltip(text)
        assert tip.count('src="data:image/png;base64,') == n_equations(text)
        assert "\\" not in tip.replace("\\\\", "")  # no TeX source left as text
    # each picture is sized in logical pixels and holds twice as many (sharp on a high-DPI screen)
    doc = QtGui.QTextDocument()
    doc.setHtml(maths.typeset_tooltip(r"$$\frac{\partial h_t}{\partial h_k}$$"))
    doc.setTextWidth(400)
    assert 30 < doc.size().height() < 200
    # an equation that cannot be typeset: the rich-text conversion instead
    monkeypatch.setattr(maths, "typeset", lambda *a, **k: (_ for _ in ()).throw(TypesetError("no")))
    tip = maths.typeset_tooltip(r"so $\gamma_{\mathrm{tip}} < 1$")
    assert "data:image" not in tip and "γ" in tip


def test_the_gamma_caption_is_typeset(qtbot):
    from rnnlab.config import Experiment
    from rnnlab.gui.main_window import MainWindow

    w = MainWindow(Experiment().replace(task__length=12, model__hidden_size=8), mode="sync", remember=False)
    qtbot.addWidget(w)
    panel = next(p for p in w.panels if type(p).__name__ == "ActivationPanel")
    assert panel.gamma_label.text().count("data:image/png") == 2
    from rnnlab.gui.panels.activation import GAMMA_TIP

    assert "data:image" not in panel.gamma_label.toolTip()  # typeset when first asked for, not at start-up
    from PySide6 import QtCore, QtGui, QtWidgets

    at = QtCore.QPoint(2, 2)
    QtWidgets.QApplication.sendEvent(panel.gamma_label, QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, at,
                                                                          panel.gamma_label.mapToGlobal(at)))
    assert panel.gamma_label.toolTip().count("data:image/png") == n_equations(GAMMA_TIP) == 3
    w.close()


def test_a_lesson_body_sets_its_equations_again_in_a_new_palette(panel):
    panel.set_lesson("main", index=1)
    assert _colours(panel.body) == {maths.text_color(panel.body)}
    pal = panel.body.palette()
    pal.setColor(QtGui.QPalette.ColorRole.Text, QtGui.QColor("#ffcc00"))  # a dark theme's light text
    panel.body.setPalette(pal)
    assert panel.body.fallbacks == [] and panel.body.typeset_count() >= 4
    assert _colours(panel.body) == {"#ffcc00"}


def _colours(browser) -> set[str]:
    """The colours the browser's typeset equations are drawn in."""
    by_key = {key: colour for (_tex, _display, colour), key in maths._keys.items()}
    return {by_key[name[len(maths.SCHEME):]] for name in _image_names(browser)}


def _image_names(browser) -> list[str]:
    names = []
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(fmt.toImageFormat().name())
            it += 1
        block = block.next()
    return names
