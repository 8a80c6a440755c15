"""The TeX subset of lesson texts (prose with ``$…$`` and ``$$…$$``): :mod:`rnnlab.texmath`, which lives below the
numeric core so that every text of rnnlab (cells' bounds, settings' help, preset descriptions, lessons) is written
in the same notation and shown typeset, as rich text or as plain Unicode. This module keeps the lessons' names."""

from __future__ import annotations

from ..texmath import (  # noqa: F401  (re-exported, with the private helpers the typesetter reuses)
    MAX_DEPTH,
    MathHook,
    TexError,
    _blocks,
    _split_math,
    known_commands,
    math_to_html,
    math_to_plain,
    tex_inline,
    tex_to_html,
    tex_to_plain,
)

__all__ = ["TexError", "MAX_DEPTH", "MathHook", "tex_to_html", "tex_to_plain", "tex_inline", "math_to_html",
           "math_to_plain", "known_commands"]
