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
        for display, block in _blocks(text):  # paragraphs wrapped; a display equation keeps a line of its own
            print("        " + block if display else textwrap.fill(block, 96, initial_indent="    ",
                                                                   subsequent_indent="    "))
        flip = ", ".join(f"{k} = {v!r}" for k, v in p.contrast.items())
        print(f"    Contrast: set {flip}.")
        print()
    return 0


def _blocks(plain: str) -> list[tuple[bool, str]]:
    """The plain text as (display?, text): paragraphs (their lines joined) and the display equations, the lines
    that ``tex_to_plain`` indents by four spaces."""
    out: list[tuple[bool, str]] = []
    para: list[str] = []

    def flush():
        if para:
            out.append((False, " ".join(" ".join(para).split())))
            para.clear()

    for line in plain.splitlines():
        if line.startswith("    ") and line.strip():
            flush()
            out.append((True, line.strip()))
        elif line.strip():
            para.append(line)
        else:
            flush()
    flush()
    return out


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the built-in presets with their descriptions")
    p.set_defaults(func=_cmd_presets)
