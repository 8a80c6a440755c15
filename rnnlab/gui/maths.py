"""Typeset mathematics on screen: TeX equations drawn as vector graphics wherever a formula appears.

:mod:`rnnlab.lessons.typeset` turns an equation into SVG (ziamath); this module draws it with Qt's SVG renderer:

* in rich text (:class:`MathBrowser`, the lesson body, "What am I looking at?"): :func:`typeset_html` writes each
  equation as ``<img src="rnnlab-math:N">`` and :func:`install` gives the document a handler for those images that
  draws the SVG *at paint time*, sized from the surrounding font: crisp at any zoom, in presentation mode and on
  high-DPI screens, inline equations sitting on the text's baseline;
* as a picture (:func:`formula_image`), for tooltips and labels, rendered at the screen's device pixel ratio.

An equation the typesetter cannot set falls back to the TeX-subset rich text of :mod:`rnnlab.lessons.tex` (the
``fallbacks`` list of :func:`typeset_html` names them). The TeX comes from files: it reaches the screen only as the
typeset picture or as the escaped rich-text conversion, never as markup of its own.
"""

from __future__ import annotations

import html as _html
import functools
import itertools
import re
import weakref
from typing import Callable

import shiboken6
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ..lessons.tex import TexError, math_to_plain, tex_inline, tex_to_html, tex_to_plain
from ..lessons.typeset import Formula, TypesetError, typeset

__all__ = ["SCHEME", "typeset_html", "typeset_inline_html", "install", "MathBrowser", "formula_image",
           "formula_for", "text_color", "typeset_tooltip", "set_math_tooltip", "set_action_math_tooltip",
           "rich_fallback", "plain_text", "plain_paragraphs", "set_math_text", "math_text", "MathLabel",
           "defer_typesetting", "typeset_pending"]

#: the image names of typeset equations in a document
SCHEME = "rnnlab-math:"

#: equations are drawn this much larger than the text around them: STIX Two Math has a smaller x-height than the
#: interface's sans-serif font, and a display equation is the thing to read on a projector
INLINE_SCALE = 1.15
DISPLAY_SCALE = 1.3
#: the smallest a display equation shrinks to fit the width of a narrow panel (then it scrolls sideways)
MIN_FIT = 0.5

_formulas: dict[str, Formula] = {}  # key -> formula (the keys are never reused)
_keys: dict[tuple[str, bool, str], str] = {}  # (source, display, colour) -> key
_renderers: dict[str, QtSvg.QSvgRenderer] = {}
_counter = itertools.count(1)


def text_color(widget: QtWidgets.QWidget | None = None) -> str:
    """The text colour of ``widget``'s palette (else the application's), as ``#rrggbb``."""
    pal = widget.palette() if widget is not None else QtWidgets.QApplication.palette()
    return pal.color(QtGui.QPalette.ColorRole.Text).name()


def _key(tex: str, display: bool, color: str) -> str:
    """The image name of an equation (typesetting it on first use; :class:`TypesetError` when it cannot be)."""
    k = (tex.strip(), display, color)
    key = _keys.get(k)
    if key is None:
        formula = typeset(tex, display, color)
        key = str(next(_counter))
        _formulas[key] = formula
        _keys[k] = key
    return key


def formula_for(name: str) -> Formula | None:
    """The typeset equation behind an image name ``rnnlab-math:N`` of a document (None for any other name)."""
    if not name.startswith(SCHEME):
        return None
    return _formulas.get(name[len(SCHEME):])


def _renderer(key: str) -> QtSvg.QSvgRenderer:
    r = _renderers.get(key)
    if r is None:
        r = QtSvg.QSvgRenderer(QtCore.QByteArray(_formulas[key].svg))
        _renderers[key] = r
    return r


def _hook(color: str, fallbacks: list[str] | None) -> Callable[[str, int, bool], str | None]:
    def math(content: str, at: int, display: bool) -> str | None:
        try:
            key = _key(content, display, color)
        except TypesetError as exc:
            if fallbacks is not None:
                fallbacks.append(f"{content.strip()[:60]}: {exc}")
            return None
        alt = _html.escape(content.strip()[:200], quote=True)
        valign = "" if display else ' align="middle"'
        return f'<img src="{SCHEME}{key}" alt="{alt}"{valign}>'
    return math


def typeset_html(text: str, color: str = "#000000", fallbacks: list[str] | None = None) -> str:
    """A lesson text (prose with ``$…$`` and ``$$…$$``, see :func:`rnnlab.lessons.tex.tex_to_html`) as rich text
    whose equations are typeset images for a document prepared with :func:`install`. Each equation that could not
    be typeset is converted to rich text instead and, when ``fallbacks`` is a list, named in it. Raises
    :class:`~rnnlab.lessons.TexError` like :func:`~rnnlab.lessons.tex.tex_to_html`."""
    return tex_to_html(text, _hook(color, fallbacks))


def typeset_inline_html(text: str, color: str = "#000000", fallbacks: list[str] | None = None) -> str:
    """One line (a title, a "do" line) with typeset inline equations: see :func:`typeset_html`."""
    return tex_inline(text, 0, False, _hook(color, fallbacks))


# =================================================================================================================
# drawing in a document
# =================================================================================================================

def _em_px(doc: QtGui.QTextDocument, fmt: QtGui.QTextFormat) -> float:
    """The pixel size of the font around an equation (the document's default font where the text sets none)."""
    font = fmt.toCharFormat().font().resolve(doc.defaultFont())
    if font.pixelSize() > 0:
        return float(font.pixelSize())
    dev = doc.documentLayout().paintDevice()
    dpi = dev.logicalDpiY() if dev is not None else 0
    if dpi <= 0:
        screen = QtGui.QGuiApplication.primaryScreen()
        dpi = screen.logicalDotsPerInchY() if screen is not None else 96.0
    return font.pointSizeF() * dpi / 72.0


class _MathObjects(QtGui.QPyTextObject):
    """The document's handler for images: draws ``rnnlab-math:`` images as vector graphics at paint time."""

    def _geometry(self, doc, fmt) -> tuple[str, Formula, float, float, float] | None:
        name = fmt.toImageFormat().name()
        f = formula_for(name)
        if f is None:
            return None
        em = _em_px(doc, fmt) * (DISPLAY_SCALE if f.display else INLINE_SCALE)
        if f.display:  # a display equation wider than the text shrinks to fit (down to MIN_FIT of its size)
            avail = doc.textWidth() - 2 * doc.documentMargin() - 4
            if 0 < avail < f.width * em:
                em = max(avail / f.width, MIN_FIT * em)
        top = bottom = 0.0
        if fmt.toCharFormat().verticalAlignment() == QtGui.QTextCharFormat.VerticalAlignment.AlignMiddle:
            # Qt centres a middle-aligned object half an x-height above the baseline: pad the picture so that its
            # own baseline lands on the text's baseline (the same font metrics as Qt's layout)
            half_x = QtGui.QFontMetrics(fmt.toCharFormat().font()).xHeight() / 2.0
            a, d = f.ascent * em, f.descent * em
            if a - d - half_x >= 0:
                bottom = a - d - half_x
            else:
                top = d + half_x - a
        return name[len(SCHEME):], f, em, top, bottom

    def intrinsicSize(self, doc, pos, fmt):  # noqa: N802 (Qt naming)
        g = self._geometry(doc, fmt)
        if g is None:
            return QtCore.QSizeF(0, 0)
        _key, f, em, top, bottom = g
        return QtCore.QSizeF(f.width * em, f.height * em + top + bottom)

    def drawObject(self, painter, rect, doc, pos, fmt):  # noqa: N802
        g = self._geometry(doc, fmt)
        if g is None:
            return
        key, f, em, top, _bottom = g
        target = QtCore.QRectF(rect.x(), rect.y() + top, f.width * em, f.height * em)
        _renderer(key).render(painter, target)


def install(doc: QtGui.QTextDocument) -> QtGui.QTextDocument:
    """Let ``doc`` draw the typeset equations of :func:`typeset_html` (its other images are not drawn)."""
    if getattr(doc, "_rnnlab_math", None) is None:
        handler = _MathObjects(doc)
        doc.documentLayout().registerHandler(QtGui.QTextFormat.ObjectTypes.ImageObject, handler)
        doc._rnnlab_math = handler  # keep the Python object alive with the document
    return doc


class MathBrowser(QtWidgets.QTextBrowser):
    """A read-only rich-text view whose equations are typeset (see :func:`install`)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        install(self.document())
        self.fallbacks: list[str] = []  # the equations of the last text that were not typeset

    def set_tex(self, text: str) -> None:
        """Show a text with ``$…$`` equations: typeset, the rich-text conversion where that fails (and, while
        :func:`defer_typesetting` holds, the rich text until :func:`typeset_pending`)."""
        self._tex = text
        self.fallbacks = []
        if _deferred is not None and text:
            _deferred.add(self)
            self.setHtml(tex_to_html(text))
            return
        self.setHtml(typeset_html(text, text_color(self), self.fallbacks))

    def _retypeset(self) -> None:
        if self._tex:
            try:
                self.set_tex(self._tex)
            except Exception:  # noqa: BLE001 - the rich text shown stays
                pass

    _tex = ""

    def set_html(self, html_text: str) -> None:
        """Show rich text made by rnnlab as it is (no equations to set again)."""
        self._tex = ""
        self.fallbacks = []
        self.setHtml(html_text)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt naming)
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.PaletteChange and self._tex:
            # the equations are drawn in the text's colour: a new palette (a dark theme) sets them again
            scroll = self.verticalScrollBar().value()
            try:
                self.set_tex(self._tex)
            except Exception:  # noqa: BLE001 - shown once already; keep what is on screen
                return
            self.verticalScrollBar().setValue(scroll)

    def plain_text(self) -> str:
        """The text shown, each typeset equation written as plain Unicode (``∂h_t/∂h_k``)."""
        out: list[str] = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            line = []
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                f = formula_for(fmt.toImageFormat().name()) if fmt.isImageFormat() else None
                if f is not None:
                    try:
                        line.append(math_to_plain(f.tex))
                    except TexError:
                        line.append(f.tex)
                else:
                    line.append(frag.text())
                it += 1
            out.append("".join(line))
            block = block.next()
        return "\n".join(out)

    def typeset_count(self) -> int:
        """How many typeset equations the document holds (for tests)."""
        n = 0
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fmt = it.fragment().charFormat()
                if fmt.isImageFormat() and formula_for(fmt.toImageFormat().name()) is not None:
                    n += 1
                it += 1
            block = block.next()
        return n


# =================================================================================================================
# pictures (tooltips, labels)
# =================================================================================================================

def formula_image(tex: str, px: float, display: bool = True, color: str = "#000000", dpr: float = 1.0) -> QtGui.QImage:
    """An equation rendered into an image, the font ``px`` logical pixels tall, at device pixel ratio ``dpr``
    (the image says so, so Qt draws it at its logical size, sharp). Raises :class:`TypesetError`."""
    key = _key(tex, display, color)
    f = _formulas[key]
    w, h = max(1, round(f.width * px * dpr)), max(1, round(f.height * px * dpr))
    img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QtCore.Qt.GlobalColor.transparent)
    p = QtGui.QPainter(img)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    _renderer(key).render(p, QtCore.QRectF(0, 0, w, h))
    p.end()
    img.setDevicePixelRatio(dpr)
    return img


_img_cache: dict[tuple, str] = {}
_IMG_CACHE_MAX = 512


def _img_tag(tex: str, display: bool, color: str, font: QtGui.QFont) -> str:
    """An ``<img>`` with the equation as an embedded PNG (rendered at twice the screen's density or more, sized in
    logical pixels), padded so that an inline equation's baseline sits on the text's (see :class:`_MathObjects`).
    Cached: a caption that changes its numbers on every frame keeps its equations' pictures."""
    screen = QtGui.QGuiApplication.primaryScreen()
    dpr = max(2.0, screen.devicePixelRatio() if screen is not None else 1.0)
    key = (tex, display, color, QtGui.QFontInfo(font).pixelSize(), QtGui.QFontMetrics(font).xHeight(), dpr)
    tag = _img_cache.get(key)
    if tag is None:
        tag = _make_img_tag(tex, display, color, font, dpr)
        if len(_img_cache) >= _IMG_CACHE_MAX:
            _img_cache.pop(next(iter(_img_cache)))
        _img_cache[key] = tag
    return tag


def _make_img_tag(tex: str, display: bool, color: str, font: QtGui.QFont, dpr: float) -> str:
    metrics = QtGui.QFontMetrics(font)
    px = QtGui.QFontInfo(font).pixelSize() * (DISPLAY_SCALE if display else INLINE_SCALE)
    img = formula_image(tex, px, display, color, dpr)
    img.setDevicePixelRatio(1.0)  # handled as plain pixels here; the tag's width and height give the logical size
    f = _formulas[_key(tex, display, color)]
    w, h = f.width * px, f.height * px
    top = bottom = 0.0
    if not display:
        half_x, a, d = metrics.xHeight() / 2.0, f.ascent * px, f.descent * px
        bottom, top = (a - d - half_x, 0.0) if a - d - half_x >= 0 else (0.0, d + half_x - a)
    if top or bottom:
        padded = QtGui.QImage(img.width(), round((h + top + bottom) * dpr), img.format())
        padded.fill(QtCore.Qt.GlobalColor.transparent)
        p = QtGui.QPainter(padded)
        p.drawImage(0, round(top * dpr), img)
        p.end()
        img = padded
    data = QtCore.QByteArray()
    buf = QtCore.QBuffer(data)
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    b64 = bytes(data.toBase64()).decode("ascii")
    align = "" if display else ' align="middle"'
    return (f'<img src="data:image/png;base64,{b64}" width="{round(w)}" height="{round(h + top + bottom)}"'
            f'{align}>')


def typeset_tooltip(text: str, color: str = "#000000", font: QtGui.QFont | None = None, inline: bool = False) -> str:
    """A tooltip or label text with ``$…$`` and ``$$…$$`` equations as rich text whose equations are typeset
    pictures (embedded, so any QLabel or tooltip shows them; sharp on high-DPI screens). An equation that cannot be
    typeset is converted to rich text. ``inline``: one run of text, no paragraphs (to sit inside a sentence
    of rnnlab's own; line breaks become spaces). Raises :class:`~rnnlab.lessons.TexError` like the lesson texts."""
    font = font or QtWidgets.QApplication.font()

    def math(content: str, at: int, display: bool) -> str | None:
        try:
            return _img_tag(content, display, color, font)
        except TypesetError:
            return None

    if inline:  # one run of text (a banner): a display equation is set inline
        text = re.sub(r"(?<!\\)\$\$(.+?)\$\$", r"$\1$", " ".join(text.split()), flags=re.S)
        return tex_inline(text, 0, False, math)
    return tex_to_html(text, math)


def _tooltip_html(tex: str, font: QtGui.QFont) -> str:
    """:func:`typeset_tooltip` of ``tex`` in ``font`` (its pictures are cached, see :func:`_img_tag`); the escaped
    text when it is not valid TeX (a text from a user's file: shown as it is, never as markup)."""
    try:
        return typeset_tooltip(tex, font=font)
    except TexError:
        return plain_paragraphs(tex)


def plain_paragraphs(text: str) -> str:
    """A text shown as it is (escaped, line breaks kept): the fallback for a text that is not valid TeX."""
    return "<p>" + _html.escape(text).replace("\n", "<br>") + "</p>"


@functools.lru_cache(maxsize=1024)
def rich_fallback(tex: str) -> str:
    """The TeX-subset rich text of ``tex`` (no pictures: cheap), or the text as it is when it is not valid TeX."""
    try:
        return tex_to_html(tex)
    except TexError:
        return plain_paragraphs(tex)


def plain_text(tex: str) -> str:
    """``tex`` as plain Unicode (status tips, accessibility), or as it is when it is not valid TeX."""
    try:
        return tex_to_plain(tex)
    except TexError:
        return tex


_TIP = "rnnlab_math_tip"  # the property holding (before, tex, after) of a widget's typeset tooltip


class _MathTips(QtCore.QObject):
    """Typesets a widget's tooltip when it is about to be shown (see :func:`set_math_tooltip`): one filter per
    widget, kept across changes of the text."""

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 (Qt naming)
        if ev.type() == QtCore.QEvent.Type.ToolTip:
            tip = obj.property(_TIP)
            if tip:
                before, tex, after = tip
                obj.setToolTip(before + _tooltip_html(tex, obj.font()) + after)
                obj.setProperty(_TIP, None)  # typeset: Qt shows it from here on
        return False


def set_math_tooltip(widget: QtWidgets.QWidget, tex: str, before: str = "", after: str = "") -> None:
    """Give ``widget`` a tooltip whose ``$…$`` equations are typeset, typeset when it is first shown (typesetting
    costs ~10 ms per equation, which building the window should not pay); until then it holds the TeX-subset rich
    text. ``before`` and ``after`` are rich text put around it (already escaped). Call it again to change the
    tooltip."""
    widget.setToolTip(before + rich_fallback(tex) + after)
    widget.setProperty(_TIP, (before, tex, after) if tex else None)
    if getattr(widget, "_rnnlab_math_tips", None) is None:
        widget._rnnlab_math_tips = _MathTips(widget)
        widget.installEventFilter(widget._rnnlab_math_tips)


class _MenuMathTips(QtCore.QObject):
    """Typesets the tooltip of the action under the mouse when a menu is about to show it (see
    :func:`set_action_math_tooltip`)."""

    def eventFilter(self, menu, ev) -> bool:  # noqa: N802
        if ev.type() == QtCore.QEvent.Type.ToolTip:
            action = menu.actionAt(ev.pos())
            tex = action.property(_TIP) if action is not None else None
            if tex:
                action.setToolTip(_tooltip_html(tex, menu.font()))
                action.setProperty(_TIP, None)
        return False


def set_action_math_tooltip(action: QtGui.QAction, tex: str, menu: QtWidgets.QMenu) -> None:
    """Give a menu's action a tooltip with typeset equations (typeset when the menu first shows it), and a plain
    Unicode status tip. The menu shows tooltips from then on."""
    action.setToolTip(rich_fallback(tex))
    action.setStatusTip(" ".join(plain_text(tex).split()))
    action.setProperty(_TIP, tex)
    menu.setToolTipsVisible(True)
    if getattr(menu, "_rnnlab_math_tips", None) is None:
        menu._rnnlab_math_tips = _MenuMathTips(menu)
        menu.installEventFilter(menu._rnnlab_math_tips)


_TEXT = "rnnlab_math_text"  # the property holding (tex, colour or None, inline) of a label set by set_math_text


class _MathText(QtCore.QObject):
    """Sets a label's typeset text again in its new font (presentation mode changes it by style sheet) or, when it
    follows the palette's text colour, in its new palette."""

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        spec = obj.property(_TEXT)
        if spec and (ev.type() == QtCore.QEvent.Type.FontChange
                     or (ev.type() == QtCore.QEvent.Type.PaletteChange and spec[1] is None)):
            _render_text(obj)
        return False


def _render_text(label: QtWidgets.QLabel) -> None:
    spec = label.property(_TEXT)
    if not spec:
        label.setText("")
        return
    tex, color, inline = spec
    if _deferred is not None:  # the window's first drawing does not wait for the typesetter
        _deferred.add(label)
        try:
            label.setText(tex_inline(" ".join(tex.split())) if inline else tex_to_html(tex))
        except TexError:
            label.setText(_html.escape(tex))
        return
    label.ensurePolished()
    try:
        label.setText(typeset_tooltip(tex, color or text_color(label), label.font(), inline=inline))
    except TexError:  # checked where the text comes from; still, show it as it is rather than nothing
        label.setText(_html.escape(tex))


def set_math_text(label: QtWidgets.QLabel, tex: str, color: str | None = "#222222", inline: bool = True) -> None:
    """Show ``tex`` (prose with ``$…$`` equations; ``inline``: one run of text) in a rich-text label, its
    equations typeset in ``color`` (None: the palette's text colour) at the label's font, and set again when that
    font (or that palette) changes; the equations' pictures are cached, so a caption whose numbers change on every
    frame costs only its text. :func:`math_text` reads it back as plain Unicode."""
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    label.setProperty(_TEXT, (tex, color, inline) if tex else None)
    if getattr(label, "_rnnlab_math_text", None) is None:
        label._rnnlab_math_text = _MathText(label)
        label.installEventFilter(label._rnnlab_math_text)
    _render_text(label)


def math_text(label: QtWidgets.QLabel) -> str:
    """The text of a label set by :func:`set_math_text`, as plain Unicode (its equations written out)."""
    spec = label.property(_TEXT)
    return plain_text(spec[0]) if spec else label.text()


#: labels and browsers waiting to be typeset (see :func:`defer_typesetting`), or None when typesetting happens at
#: once
_deferred: "weakref.WeakSet | None" = None


def defer_typesetting() -> None:
    """From now until :func:`typeset_pending`, labels (:func:`set_math_text`, :class:`MathLabel`) and
    :class:`MathBrowser` show the cheap rich text and remember to typeset themselves: the app calls it before
    building its window, whose first drawing should not wait for the typesetter to load (importing ziamath costs
    ~0.3 s)."""
    global _deferred
    if _deferred is None:
        _deferred = weakref.WeakSet()


def typeset_pending(after_ms: int | None = None) -> None:
    """Typeset every label that :func:`defer_typesetting` held back (now, or ``after_ms`` later from the event
    loop); from then on labels typeset at once."""
    global _deferred
    if after_ms is not None:
        QtCore.QTimer.singleShot(after_ms, typeset_pending)
        return
    pending, _deferred = _deferred, None
    for widget in list(pending or ()):
        if shiboken6.isValid(widget):  # (a window closed before the timer fired)
            widget._retypeset() if isinstance(widget, MathBrowser) else _render_text(widget)


class MathLabel(QtWidgets.QLabel):
    """A label whose text has typeset ``$…$`` equations in the palette's text colour (:func:`set_math_text`), set
    again in the new size when the font changes (presentation mode) and in the new colour with the palette."""

    def __init__(self, tex: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.set_tex(tex)

    def tex(self) -> str:
        spec = self.property(_TEXT)
        return spec[0] if spec else ""

    def set_tex(self, tex: str) -> None:
        set_math_text(self, tex, color=None, inline=False)
