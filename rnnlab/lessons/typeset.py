"""TeX maths typeset as vector graphics (SVG) with ziamath: fractions stacked, sums with their limits, big
delimiters, in the STIX Two Math font shipped inside ziamath (no TeX installation).

:func:`typeset` turns one equation (the content between ``$…$`` or ``$$…$$``) into a :class:`Formula`: the SVG
(plain SVG 1.1 paths, which Qt's SVG renderer draws) and its size and baseline in *em* (multiples of the font
size), so a viewer scales it to any font, zoom or screen density and draws it crisply. An equation ziamath cannot
read, or one with a command it does not know (ziamath would print ``\\foo`` as text), raises
:class:`TypesetError`: the caller falls back to the rich-text conversion of :mod:`rnnlab.lessons.tex`. Without
ziamath installed every call raises :class:`TypesetError` and :func:`available` is False.

The source is TeX from a lesson file: it only ever reaches the screen as the paths of the typeset picture, never
as markup. No Qt, no NumPy.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Formula", "TypesetError", "typeset", "available", "equations", "untypeset", "REF_PX", "MAX_SOURCE"]

#: the font size (SVG user units) formulas are typeset at; sizes are returned in em (divided by this)
REF_PX = 20.0
#: the longest equation source typeset (longer: :class:`TypesetError`, the rich-text fallback takes over)
MAX_SOURCE = 4000

_lock = threading.Lock()  # ziamath keeps global state (config, the loaded font): one equation at a time
_VIEWBOX = re.compile(r'viewBox="([-\d.eE]+) ([-\d.eE]+) ([-\d.eE]+) ([-\d.eE]+)"')
# a command ziamath does not know comes out of its TeX reader as a token spelled with the backslash
_UNKNOWN = re.compile(r"<m(?:i|o|n|text)\b[^>]*>\s*\\([A-Za-z]+)")


class TypesetError(ValueError):
    """An equation that could not be typeset (the rich-text fallback is used instead)."""


@dataclass(frozen=True)
class Formula:
    """One typeset equation. ``svg`` is the picture; ``width``, ``height`` and ``ascent`` (the baseline's distance
    from the top) are in em: multiply by the font's pixel size to get pixels."""

    tex: str
    display: bool
    svg: bytes
    width: float
    height: float
    ascent: float

    @property
    def descent(self) -> float:
        """The depth below the baseline, in em."""
        return self.height - self.ascent


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether the vector typesetter (ziamath) is installed."""
    try:
        _ziamath()
    except TypesetError:  # pragma: no cover - depends on the installation
        return False
    return True


def _ziamath():
    try:
        with warnings.catch_warnings():  # ziamath finds its font with the deprecated importlib.resources.path
            warnings.simplefilter("ignore", DeprecationWarning)
            import ziamath
    except Exception as exc:  # ImportError, or a broken installation
        raise TypesetError(f"the maths typesetter is not available ({type(exc).__name__})") from None
    ziamath.config.svg2 = False  # no <symbol>/<use>: Qt's SVG renderer draws plain paths
    return ziamath


@lru_cache(maxsize=1024)
def typeset(tex: str, display: bool = False, color: str = "#000000") -> Formula:
    """Typeset one equation (TeX maths, without the dollars) in ``color`` (a ``#rrggbb`` colour). ``display``
    sets it as a display equation (limits above and below a sum, full-size fractions); otherwise in text style.
    Raises :class:`TypesetError` when it cannot be typeset faithfully."""
    src = tex.strip()
    if not src:
        raise TypesetError("an empty equation")
    if len(src) > MAX_SOURCE:
        raise TypesetError(f"an equation longer than {MAX_SOURCE} characters")
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
        raise TypesetError(f"not a colour: {color[:20]!r}")
    zm = _ziamath()
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            latex = zm.Latex(src, size=REF_PX, color=color, inline=not display)
            mathml = latex.mathmlstr() if callable(getattr(latex, "mathmlstr", None)) else ""
            svg = latex.svg()
        except RecursionError:
            raise TypesetError("the equation is nested too deeply") from None
        except Exception as exc:  # ziamath and latex2mathml raise many kinds (AssertionError, IndexError, …)
            raise TypesetError(f"the equation could not be typeset ({type(exc).__name__})") from None
    m = _UNKNOWN.search(mathml)
    if m:
        raise TypesetError(f"unknown command \\{m.group(1)}")
    box = _VIEWBOX.search(svg)
    if box is None:  # pragma: no cover - ziamath always writes a viewBox
        raise TypesetError("the typeset picture has no size")
    _x, y, w, h = (float(v) for v in box.groups())
    if not (w > 0 and h > 0) or "<path" not in svg:
        raise TypesetError("the typeset picture is empty")
    return Formula(tex=src, display=display, svg=svg.encode("utf-8"), width=w / REF_PX, height=h / REF_PX,
                   ascent=-y / REF_PX)


def equations(text: str) -> list[tuple[str, bool]]:
    """The equations of a lesson-style text, in order, as (source, display?)."""
    from .tex import _blocks, _split_math

    out: list[tuple[str, bool]] = []
    for kind, content, _at in _blocks(text):
        if kind == "display":
            out.append((content, True))
        else:
            out += [(c, False) for k, c, _ in _split_math(content) if k == "inline"]
    return out


def untypeset(lesson) -> list[str]:
    """The equations of a :class:`~rnnlab.lessons.Lesson` (summary, titles, texts, "do" lines) that the app would
    show as rich text because they cannot be typeset, each as ``"step N text: $…$: why"``. Empty when every
    equation is typeset (or, without ziamath, when none can be)."""
    if not available():
        return []
    texts = [("summary", lesson.summary)]
    for s in lesson.steps:
        texts += [(f"step {s.number} title", s.title), (f"step {s.number} text", s.text), (f"step {s.number} do", s.do)]
    notes = []
    for where, text in texts:
        for src, display in equations(text):
            try:
                typeset(src, display)
            except TypesetError as exc:
                short = src if len(src) <= 60 else src[:59] + "…"
                notes.append(f"{where}: ${short}$: {exc}")
    return notes
