"""``rnnlab presets``: the built-in presets with the paragraph a teacher can read aloud (no NumPy, no Qt)."""

from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def _cmd_presets(args: argparse.Namespace) -> int:
    import textwrap

    from ..presets import all_presets

    for p in all_presets():
        print(p.name)
        print(textwrap.indent(textwrap.fill(p.description, 96), "    "))
        flip = ", ".join(f"{k} = {v!r}" for k, v in p.contrast.items())
        print(f"    Contrast: set {flip}.")
        print()
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in presets with their descriptions")
    p.set_defaults(func=_cmd_presets)
