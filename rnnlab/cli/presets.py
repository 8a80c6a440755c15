"""``rnnlab presets``: the built-in presets with the paragraph a teacher can read aloud (no NumPy, no Qt)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def _cmd_presets(args: argparse.Namespace) -> int:
    import textwrap

    from ..presets import all_presets
    from ..texmath import TexError, tex_to_plain

    for p in all_presets():
        try:  # the description's formulas are TeX (the app typesets them): here, plain Unicode
            text = tex_to_plain(p.description)
        except TexError:
            text = p.description
        print(p.name)
        print(textwrap.indent(textwrap.fill(" ".join(text.split()), 96), "    "))
        flip = ", ".join(f"{k} = {v!r}" for k, v in p.contrast.items())
        print(f"    Contrast: set {flip}.")
        print()
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in presets with their descriptions")
    p.set_defaults(func=_cmd_presets)
