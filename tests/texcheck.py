"""Checks for text written in the TeX subset of docs/lessons.md (prose with ``$…$`` and ``$$…$$``) outside the
lessons: the presets' descriptions and the settings' help (``doc=``). Used by tests/test_config_docs.py and
tests/train/test_presets.py."""

from __future__ import annotations

import re

from rnnlab.lessons.tex import _split_math, tex_to_plain
from rnnlab.lessons.typeset import equations, typeset

#: symbols that belong inside an equation: written in prose they are neither typeset nor checked
MATH_SYMBOLS = "≈≤≥≠→←⇒∈‖∂∇±∓⊙⊗·×√∑∏∫∞ᵀ⁻⁰¹²³⁴⁵⁶⁷⁸⁹½¼" + "".join(map(chr, range(0x391, 0x3CA)))
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789−+")
_NUMBER = re.compile(r"[−+-]?\d+(?:\.\d+)?")


def plain(text: str) -> str:
    """The plain form (what `rnnlab presets`, status tips and the docs show); raises TexError if it does not parse.
    It must keep no TeX: no backslash, dollar or brace."""
    out = tex_to_plain(text)
    left = sorted(set(out) & set("\\${}"))
    assert not left, f"TeX left in the plain form {left}: {out[:200]!r}"
    return out


def prose_symbols(text: str) -> list[str]:
    """The maths symbols written in prose, outside ``$…$`` (each with a little context)."""
    found = []
    for kind, content, _at in _split_math(text):
        if kind == "prose":
            found += [content[max(0, i - 20): i + 20] for i, c in enumerate(content) if c in MATH_SYMBOLS]
    return found


def typeset_all(text: str) -> int:
    """Typeset every equation of ``text`` as the app shows it (TypesetError if one would fall back to rich text);
    returns how many there are."""
    eqs = equations(text)
    for src, display in eqs:
        typeset(src, display)
    return len(eqs)


def numbers(text: str) -> list[str]:
    """The numbers of a plain text, in order, with their signs: ``1.8 · 10^(−4)`` and ``1.8·10⁻⁴`` are both
    ``['1.8', '10', '−4']``."""
    return [n.replace("-", "−") for n in _NUMBER.findall(text.translate(_SUPERSCRIPTS))]


def quotes(quote: str, text: str) -> bool:
    """Whether ``text`` contains the numbers of ``quote`` one after the other (formatting aside)."""
    q, t = numbers(quote), numbers(text)
    assert q, f"no number in {quote!r}"
    return any(t[i:i + len(q)] == q for i in range(len(t) - len(q) + 1))
