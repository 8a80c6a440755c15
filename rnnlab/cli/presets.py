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
        for block in _blocks(text):  # paragraphs wrapped; a display equation keeps a line of its own
            print(("        " + block[1:]) if block.startswith(_DISPLAY) else textwrap.fill(block, 96, initial_indent="    ",
                                                                                     subsequent_indent="    "))
        flip = ", ".join(f"{k} = {v!r}" for k, v in p.contrast.items())
        print(f"    Contrast: set {flip}.")
        print()
    return 0


_DISPLAY = "\x00"


def _blocks(plain: str) -> list[str]:
    """The plain text as paragraphs (joined lines) and display equations (the lines that ``tex_to_plain``
    indents by four spaces, marked with a leading ``_DISPLAY``)."""
    out: list[str] = []
    para: list[str] = []
    for line in plain.splitlines():
        if line.startswith("    ") and line.strip():
            if para:
                out.append(" ".join(" ".join(para).split()))
                para = []
            out.append(_DISPLAY + line.strip())
        elif line.strip():
            para.append(line)
        elif para:
            out.append(" ".join(" ".join(para).split()))
            para = []
    if para:
        out.append(" ".join(" ".join(para).split()))
    return out


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in presets with their descriptions")
    p.set_defaults(func=_cmd_presets)
