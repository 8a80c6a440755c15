"""The TeX subset of lesson texts, converted to Qt rich text (HTML) or to plain Unicode text.

A lesson text is prose with equations between ``$…$`` (inline) or ``$$…$$`` (a centred line of its own). Blank
lines separate paragraphs, lines starting with ``- `` make a bullet list, ``**bold**`` is bold and ``\\$`` is a
dollar sign. Equations are converted by :mod:`rnnlab.texmath._math` (Unicode symbols, ``<sub>``/``<sup>``);
an unknown command, an unclosed ``$`` or brace, a command outside an equation or nesting deeper than
:data:`MAX_DEPTH` raises :class:`TexError` with the offset in the text. The conversion is linear in the length
of the text. No Qt, no NumPy.
"""

from __future__ import annotations

import html as _html
import re
from typing import Callable

from ._math import MAX_DEPTH, TexError, math_to_html, math_to_plain
from ._symbols import known_commands

#: a typesetter for :func:`tex_to_html` and :func:`tex_inline`: called with (equation source, its offset in the
#: text, display?) it returns the markup of the typeset equation, or None to use the rich-text conversion
MathHook = Callable[[str, int, bool], "str | None"]

__all__ = ["TexError", "MAX_DEPTH", "MathHook", "tex_to_html", "tex_to_plain", "tex_inline", "first_sentence", "math_to_html",
           "math_to_plain", "known_commands"]


def _split_math(text: str) -> list[tuple[str, str, int]]:
    """Split ``text`` into ("prose" | "inline" | "display", content, offset of the content) pieces."""
    pieces: list[tuple[str, str, int]] = []
    i, start, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "$":
            i += 2
            continue
        if c == "$":
            display = text.startswith("$$", i)
            delim = "$$" if display else "$"
            j = i + len(delim)
            while True:
                k = text.find(delim, j)
                if k < 0:
                    raise TexError(f"an equation opened with {delim} is never closed", i)
                if text[k - 1] == "\\":  # an escaped dollar inside the equation
                    j = k + 1
                    continue
                break
            if start < i:
                pieces.append(("prose", text[start:i], start))
            pieces.append(("display" if display else "inline", text[i + len(delim):k], i + len(delim)))
            i = start = k + len(delim)
            continue
        i += 1
    if start < n:
        pieces.append(("prose", text[start:], start))
    return pieces


_PROSE_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _prose(text: str, offset: int, plain: bool) -> str:
    m = _PROSE_COMMAND.search(text)
    if m:
        raise TexError(f"TeX command \\{m.group(1)} outside an equation: put it between $ signs",
                       offset + m.start(), "\\" + m.group(1))
    text = text.replace("\\$", "$")
    if plain:
        return text.replace("**", "")
    h = _html.escape(text, quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", h, flags=re.S)


def _math_html(content: str, at: int, display: bool, math: MathHook | None) -> str:
    if math is not None:
        typeset = math(content, at, display)
        if typeset is not None:
            return typeset
    return math_to_html(content, at)


def tex_inline(text: str, offset: int = 0, plain: bool = False, math: MathHook | None = None) -> str:
    """Prose and inline equations of one paragraph (newlines become spaces), as HTML or (``plain``) plain text:
    a title or a "do" line. ``offset`` is the position of ``text`` in a larger text, for error offsets. A display
    equation ``$$…$$`` is a :class:`TexError` here. ``math`` (HTML only) typesets the equations: see
    :data:`MathHook`."""
    out = []
    for kind, content, at in _split_math(text):
        if kind == "prose":
            out.append(_prose(content, at, plain))
        elif kind == "inline":
            out.append(math_to_plain(content, at) if plain else _math_html(content, at, False, math))
        else:
            raise TexError("a display equation $$…$$ must stand on its own line", at - 2)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _para_blocks(text: str, a: int, b: int) -> list[tuple[str, str, int]]:
    """Paragraphs ("p") and bullet items ("li") of ``text[a:b]``, each with its offset in ``text``."""
    spans: list[list] = []
    cur: list | None = None
    pos = a
    for line in text[a:b].split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        s = line.strip()
        if not s:
            cur = None  # a blank line ends the paragraph or the list item
            continue
        lead = start + len(line) - len(line.lstrip())
        if s.startswith("- "):
            cur = ["li", lead + 2, end]
            spans.append(cur)
        elif cur is not None:  # the paragraph or the item goes on
            cur[2] = end
        else:
            cur = ["p", start, end]
            spans.append(cur)
    return [(kind, text[x:y], x) for kind, x, y in spans]


def _blocks(text: str) -> list[tuple[str, str, int]]:
    """Paragraphs ("p"), bullet items ("li") and display equations ("display") with their offsets in ``text``."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    for m in re.finditer(r"(?<!\\)\$\$(.*?)\$\$", text, re.S):
        out += _para_blocks(text, pos, m.start())
        out.append(("display", m.group(1), m.start(1)))
        pos = m.end()
    out += _para_blocks(text, pos, len(text))
    return out


def tex_to_html(text: str, math: MathHook | None = None) -> str:
    """Lesson text with ``$…$`` equations (and ``$$…$$`` on their own line) as Qt rich text (HTML).

    Blank lines separate paragraphs, lines starting with ``- `` make a bullet list, ``**bold**`` is bold and ``\\$``
    is a dollar sign. Raises :class:`TexError` (with the offset in ``text``) on an unknown command, an unclosed
    ``$`` or brace, or a command outside an equation. ``math`` typesets the equations (see :data:`MathHook`);
    an equation it returns None for is converted to rich text.
    """
    out: list[str] = []
    in_list = False
    for kind, content, at in _blocks(text):
        if kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{tex_inline(content, at, False, math)}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if kind == "display":
            out.append(f'<p align="center">{_math_html(content, at, True, math)}</p>')
        else:
            out.append(f"<p>{tex_inline(content, at, False, math)}</p>")
    if in_list:
        out.append("</ul>")
    return "".join(out)


def tex_to_plain(text: str) -> str:
    """The same text as plain Unicode (for a terminal or a window title): ``h_t``, ``(γλ)^(t−k)``."""
    out: list[str] = []
    for kind, content, at in _blocks(text):
        if kind == "li":
            out.append("  • " + tex_inline(content, at, True))
        elif kind == "display":
            out.append("    " + math_to_plain(content, at))
        else:
            out.append(tex_inline(content, at, True))
    return "\n".join(out)



def first_sentence(text: str, limit: int = 160) -> str | None:
    """The beginning of ``text`` to show folded, in TeX: its first sentence (up to the first ". " outside an
    equation, at least 30 characters in) if its plain form has at most ``limit`` characters, else its longest
    beginning that ends between two words of prose and fits, followed by " …"; None when all of ``text`` fits.
    Raises :class:`TexError`."""
    text = " ".join(text.split())
    if len(tex_to_plain(text)) <= limit:
        return None
    cuts: list[int] = []  # the spaces of prose, where the text may be cut
    for kind, content, at in _split_math(text):
        if kind != "prose":
            continue
        i = content.find(". ")
        while i >= 0 and (at + i < 30 or content[:i].endswith((" al", "e.g", "i.e", " cf", " vs"))):
            i = content.find(". ", i + 1)  # (not the end of a sentence: "Orvieto et al. 2023")
        if i >= 0:
            head = text[: at + i + 1]
            if len(tex_to_plain(head)) <= limit:
                return head
        cuts.extend(at + j for j, c in enumerate(content[: i if i >= 0 else len(content)]) if c == " ")
        if i >= 0:
            break
    best = None
    for c in cuts:
        if len(tex_to_plain(text[:c])) + 2 > limit:
            break
        best = c
    return None if best is None else text[:best].rstrip() + " …"
