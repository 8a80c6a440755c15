"""Guided lessons: a teacher's script of steps, each loading an experiment and pointing at one view.

A lesson is a TOML file ``resources/lessons/<name>.toml`` (the format is documented for teachers in
``docs/lessons.md``)::

    title = "Why recurrent networks are hard to train"
    summary = "From the chain rule through time to the remedies."

    [[step]]
    title = "A product of Jacobians"
    text = '''The error sent back from step $t$ to step $k$ is multiplied by
    $\\frac{\\partial h_t}{\\partial h_k} = \\prod_{j=k+1}^{t} \\mathrm{diag}(f'(a_j))\\, W$.'''
    preset = "vanishing-sigmoid"              # optional: start from a preset (else the previous step's)
    set = { "model.spectral_radius" = 0.9 }   # optional: overrides on top (keys of docs/config.md)
    do = "Press Play (Space)."
    watch = "heatmap"                          # or a list: ["grad_norms", "loss"]
    train = 0                                  # steps to train before a screenshot of this step

Everything is validated when the file is loaded: a malformed lesson raises :class:`LessonError` whose message
starts with ``FILE:LINE:`` (the TOML syntax error's own line and column; for a semantic error the line of the
offending key, or of its step's ``[[step]]`` header). Equations between ``$…$`` (inline) or ``$$…$$`` (a centred
line) are written in a small TeX subset and converted to HTML with Unicode symbols and ``<sub>``/``<sup>`` by
:func:`tex_to_html` (Qt's rich text shows it); an unknown command is an error naming the file and the line.

This module imports neither Qt nor NumPy at import time.
"""

from __future__ import annotations

import html as _html
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ConfigError, Experiment
from ..resources import resource_path

__all__ = [
    "LessonError",
    "TexError",
    "Lesson",
    "LessonStep",
    "VIEWS",
    "VIEW_LABELS",
    "lessons_dir",
    "lesson_names",
    "load_lesson",
    "parse_lesson",
    "all_lessons",
    "step_experiment",
    "check_lesson",
    "tex_to_html",
    "tex_to_plain",
    "lesson_to_text",
    "add_lesson_command",
]

#: the views a step can ``watch``: name -> class name of the plot widget in ``rnnlab.gui.plots``
VIEWS: dict[str, str] = {
    "heatmap": "HeatmapPlot",
    "lag_profile": "LagProfilePlot",
    "gradient_flow": "GradientFlowPlot",
    "grad_norms": "GradNormsPlot",
    "loss": "LossPlot",
    "spectrum": "SpectrumPlot",
    "hidden_states": "HiddenStatesPlot",
    "saturation": "SaturationPlot",
}

#: how the panel names each view in its "Watch" line (the plots' own titles)
VIEW_LABELS: dict[str, str] = {
    "heatmap": "the ∂h_t/∂h_k heatmap",
    "lag_profile": "the lag profile",
    "gradient_flow": "the gradient flow ∂E_t/∂h_k",
    "grad_norms": "the gradient norms",
    "loss": "the loss and success rate",
    "spectrum": "the spectrum of W_hh",
    "hidden_states": "the hidden states",
    "saturation": "the saturation histogram",
}

LESSON_KEYS = ("title", "summary", "step")
STEP_KEYS = ("title", "text", "preset", "set", "do", "watch", "train")
#: the lesson shown first; the others follow in alphabetical order
MAIN_LESSON = "main"
#: ``preset = "default"`` starts a step from the defaults of docs/config.md (the base before any preset)
DEFAULT_PRESET = "default"


# =================================================================================================================
# errors
# =================================================================================================================

class LessonError(ValueError):
    """A malformed lesson. ``str(err)`` is ``"FILE:LINE: message"`` (``FILE:LINE:COLUMN:`` for TOML syntax)."""

    def __init__(self, path: str | Path, line: int | None, message: str, column: int | None = None,
                 step: int | None = None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message
        self.step = step  # 1-based step number, when the error belongs to a step
        where = self.path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class TexError(ValueError):
    """An equation that cannot be converted: ``offset`` is the position in the text given to the converter."""

    def __init__(self, message: str, offset: int, command: str | None = None):
        self.message = message
        self.offset = offset
        self.command = command  # e.g. "\\foo" for an unknown command
        super().__init__(f"{message} (at character {offset})")


# =================================================================================================================
# the TeX subset
# =================================================================================================================

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ",
    "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
#: ordinary symbols (no spacing of their own)
ORD = {
    "partial": "∂", "nabla": "∇", "infty": "∞", "ell": "ℓ", "hbar": "ℏ", "forall": "∀", "exists": "∃",
    "emptyset": "∅", "top": "⊤", "intercal": "⊺", "dagger": "†", "prime": "′", "star": "⋆", "ast": "∗",
    "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "neg": "¬", "lnot": "¬",
    "checkmark": "✓", "degree": "°", "angle": "∠", "triangle": "△", "Re": "ℜ", "Im": "ℑ",
    "%": "%", "$": "$", "#": "#", "&": "&amp;", "_": "_",
}
#: binary operators (spaced on both sides unless unary)
BIN = {
    "cdot": "·", "times": "×", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "pm": "±", "mp": "∓", "circ": "∘",
    "div": "÷", "setminus": "∖", "cap": "∩", "cup": "∪", "wedge": "∧", "vee": "∨", "bullet": "•",
}
#: relations and arrows (spaced on both sides)
REL = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼",
    "simeq": "≃", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫", "lesssim": "≲", "gtrsim": "≳",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "longrightarrow": "⟶", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "Leftrightarrow": "⇔", "iff": "⟺", "implies": "⟹", "mapsto": "↦", "uparrow": "↑",
    "downarrow": "↓", "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "supset": "⊃",
    "perp": "⊥", "parallel": "∥", "mid": "∣", "coloneqq": "≔",
}
#: delimiters (no spacing)
DELIM = {
    "|": "‖", "Vert": "‖", "lVert": "‖", "rVert": "‖", "vert": "|", "lvert": "|", "rvert": "|",
    "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "{": "{", "}": "}", "lbrace": "{", "rbrace": "}",
}
#: big operators (take limits as sub/superscripts; followed by a space)
BIG = {"sum": "∑", "prod": "∏", "int": "∫", "oint": "∮", "bigcup": "⋃", "bigcap": "⋂", "coprod": "∐"}
#: upright function names
FUNCS = ("log", "ln", "exp", "max", "min", "sup", "inf", "lim", "limsup", "liminf", "arg", "det", "dim", "ker",
         "deg", "gcd", "sin", "cos", "tan", "sinh", "cosh", "tanh", "coth", "sec", "csc", "cot", "arcsin",
         "arccos", "arctan", "Pr")
#: spacing commands
SPACES = {",": "\u2009", ":": "\u205f", ">": "\u205f", ";": "\u2004", "!": "", " ": " ", "quad": "\u2003",
          "qquad": "\u2003\u2003", "enspace": "\u2002", "thinspace": "\u2009"}
#: commands that only size or place a delimiter: the delimiter that follows is drawn as is
SIZERS = ("left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
          "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "limits", "nolimits")
#: font commands: one argument drawn in that font
FONTS = ("mathrm", "mathit", "mathbf", "boldsymbol", "bm", "mathcal", "mathbb", "mathsf", "mathtt",
         "operatorname", "text", "textrm", "textit", "textbf", "mbox")
#: accents: one argument, a combining character after each of its letters
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
           "overline": "\u0305", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7", "check": "\u030c",
           "breve": "\u0306", "acute": "\u0301", "grave": "\u0300"}
OTHER = ("frac", "dfrac", "tfrac", "sqrt")

CALLIGRAPHIC = {"A": "𝒜", "B": "ℬ", "C": "𝒞", "D": "𝒟", "E": "ℰ", "F": "ℱ", "G": "𝒢", "H": "ℋ", "I": "ℐ",
                "J": "𝒥", "K": "𝒦", "L": "ℒ", "M": "ℳ", "N": "𝒩", "O": "𝒪", "P": "𝒫", "Q": "𝒬", "R": "ℛ",
                "S": "𝒮", "T": "𝒯", "U": "𝒰", "V": "𝒱", "W": "𝒲", "X": "𝒳", "Y": "𝒴", "Z": "𝒵"}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ", "1": "𝟙"}


def known_commands() -> list[str]:
    """Every TeX command the converter understands (without the backslash), sorted."""
    names = set(GREEK) | set(ORD) | set(BIN) | set(REL) | set(DELIM) | set(BIG) | set(FUNCS) | set(SPACES)
    names |= set(SIZERS) | set(FONTS) | set(ACCENTS) | set(OTHER)
    return sorted(names)


_ASCII_BIN = {"+": "+", "-": "−", "*": "∗"}
_ASCII_REL = {"=": "=", "<": "&lt;", ">": "&gt;"}
_ASCII_PUNCT = {",": ",", ";": ";", ":": ":", "!": "!", "?": "?", ".": "."}
_OPEN = "([⟨⌊⌈"
_CLOSE = ")]⟩⌋⌉"


@dataclass
class _Atom:
    kind: str  # ord | bin | rel | punct | open | close | big | func | space
    html: str
    plain: str
    sub: tuple[str, str] | None = None  # (html, plain) of the subscript
    sup: tuple[str, str] | None = None
    prime: int = 0

    def render(self, plain: bool) -> str:
        base = self.plain if plain else self.html
        out = base + "′" * self.prime
        for script, tag, mark in ((self.sub, "sub", "_"), (self.sup, "sup", "^")):
            if script is None:
                continue
            text = script[1] if plain else script[0]
            if plain:
                out += mark + (text if re.fullmatch(r"[\w.′⊤]+", text) else f"({text})")
            else:
                out += f"<{tag}>{text}</{tag}>"
        return out


class _MathParser:
    """Recursive-descent conversion of one TeX math expression into atoms, then into HTML or plain text."""

    def __init__(self, src: str, base: int):
        self.src = src
        self.base = base  # offset of src in the whole text (for error positions)
        self.i = 0

    # --- errors ---------------------------------------------------------------------------------------------------
    def error(self, message: str, at: int | None = None, command: str | None = None) -> TexError:
        return TexError(message, self.base + (self.i if at is None else at), command)

    # --- lexing ---------------------------------------------------------------------------------------------------
    def skip_space(self) -> None:
        while self.i < len(self.src) and self.src[self.i].isspace():
            self.i += 1

    def command(self) -> tuple[str, int]:
        """Read ``\\name`` (or a one-character control symbol) at i; returns (name, start offset)."""
        start = self.i
        self.i += 1
        if self.i >= len(self.src):
            raise self.error("a backslash ends the equation", start)
        if self.src[self.i].isalpha():
            j = self.i
            while j < len(self.src) and self.src[j].isalpha():
                j += 1
            name = self.src[self.i:j]
            self.i = j
        else:
            name = self.src[self.i]
            self.i += 1
        return name, start

    def group_source(self, what: str) -> tuple[str, int]:
        """The raw text of a ``{…}`` argument (for ``\\text``), with its start offset."""
        self.skip_space()
        if self.i >= len(self.src) or self.src[self.i] != "{":
            raise self.error(f"{what} needs an argument in braces {{…}}")
        depth, j = 0, self.i
        while j < len(self.src):
            c = self.src[j]
            if c == "\\":
                j += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    start = self.i + 1
                    self.i = j + 1
                    return self.src[start:j], start
            j += 1
        raise self.error("a '{' is never closed")

    # --- parsing --------------------------------------------------------------------------------------------------
    def parse(self, until: str | None = None, font: str = "math") -> list[_Atom]:
        atoms: list[_Atom] = []
        while True:
            self.skip_space()
            if self.i >= len(self.src):
                if until:
                    raise self.error("a '{' is never closed")
                return atoms
            c = self.src[self.i]
            if c == "}":
                if until != "}":
                    raise self.error("a '}' closes nothing")
                self.i += 1
                return atoms
            if c in "_^":
                if not atoms or atoms[-1].kind == "space":
                    atoms.append(_Atom("ord", "", ""))  # a script on nothing (e.g. "{}_t")
                self.i += 1
                self.attach(atoms[-1], c, font)
                continue
            if c == "'":
                if not atoms:
                    raise self.error("a prime ' with nothing before it")
                atoms[-1].prime += 1
                self.i += 1
                continue
            atoms.extend(self.atom(font))

    def argument(self, font: str, what: str) -> list[_Atom]:
        """One argument: a ``{…}`` group or a single token."""
        self.skip_space()
        if self.i >= len(self.src):
            raise self.error(f"{what} needs an argument")
        if self.src[self.i] == "{":
            self.i += 1
            return self.parse("}", font)
        if self.src[self.i] in "}_^":
            raise self.error(f"{what} needs an argument")
        return self.atom(font, single=True)

    def attach(self, atom: _Atom, mark: str, font: str) -> None:
        what = "subscript _" if mark == "_" else "superscript ^"
        if (atom.sub if mark == "_" else atom.sup) is not None:
            raise self.error(f"double {what}: group it with braces")
        arg = self.argument(font, f"the {what}")
        script = (_join(arg, plain=False, tight=True), _join(arg, plain=True, tight=True))
        if mark == "_":
            atom.sub = script
        else:
            atom.sup = script

    def atom(self, font: str, single: bool = False) -> list[_Atom]:
        c = self.src[self.i]
        if c == "\\":
            return self.control(font)
        if c == "{":
            self.i += 1
            inner = self.parse("}", font)
            return [_group(inner)]
        if c == "$":
            raise self.error("a '$' inside an equation (equations cannot be nested)")
        if c == "~":
            self.i += 1
            return [_Atom("space", "&nbsp;", " ")]
        if c.isdigit() or (c == "." and self.i + 1 < len(self.src) and self.src[self.i + 1].isdigit()):
            j = self.i + 1
            if not single:
                while j < len(self.src) and (self.src[j].isdigit() or
                                             (self.src[j] == "." and j + 1 < len(self.src)
                                              and self.src[j + 1].isdigit())):
                    j += 1
            text = self.src[self.i:j]
            self.i = j
            return [_Atom("ord", text, text)]
        self.i += 1
        if c.isalpha():
            return [_letter(c, font)]
        if c in _ASCII_BIN:
            return [_Atom("bin", _ASCII_BIN[c], _ASCII_BIN[c])]
        if c in _ASCII_REL:
            return [_Atom("rel", _ASCII_REL[c], _html.unescape(_ASCII_REL[c]))]
        if c == "/":
            return [_Atom("ord", "/", "/")]
        if c in _ASCII_PUNCT:
            return [_Atom("punct" if c in ",;" else "ord", c, c)]
        if c in "([":
            return [_Atom("open", c, c)]
        if c in ")]":
            return [_Atom("close", c, c)]
        if c == "|":
            return [_Atom("fence", "|", "|")]
        if c == "&":
            raise self.error("'&' (alignment) is not supported in lesson equations", self.i - 1)
        if c == "#":
            raise self.error("'#' is not allowed in an equation (write \\#)", self.i - 1)
        if c in "<>":  # pragma: no cover - handled by _ASCII_REL
            return [_Atom("rel", _html.escape(c), c)]
        # any other Unicode character (Greek typed directly, ×, ≤ …) is an ordinary symbol
        return [_Atom("ord", _html.escape(c), c)]

    def control(self, font: str) -> list[_Atom]:
        name, start = self.command()
        if name in GREEK:
            g = GREEK[name]
            return [_Atom("ord", f"<b>{g}</b>" if font in ("bold", "bolditalic") else g, g)]
        if name in ORD:
            s = ORD[name]
            return [_Atom("ord", s, _html.unescape(s))]
        if name in BIN:
            return [_Atom("bin", BIN[name], BIN[name])]
        if name in REL:
            return [_Atom("rel", REL[name], REL[name])]
        if name in DELIM:
            s = DELIM[name]
            kind = "open" if name in ("langle", "lfloor", "lceil", "{", "lbrace", "lVert", "lvert") else \
                "close" if name in ("rangle", "rfloor", "rceil", "}", "rbrace", "rVert", "rvert") else "fence"
            return [_Atom(kind, _html.escape(s), s)]
        if name in BIG:
            return [_Atom("big", BIG[name], BIG[name])]
        if name in FUNCS:
            return [_Atom("func", name, name)]
        if name in SPACES:
            return [_Atom("space", SPACES[name], " " if SPACES[name] else "")]
        if name in SIZERS:
            if name in ("left", "right", "middle") or name.startswith(("big", "Big")):
                self.skip_space()
                if self.i < len(self.src) and self.src[self.i] == ".":  # \left. draws nothing
                    self.i += 1
                    return []
                if self.i >= len(self.src):
                    raise self.error(f"\\{name} needs a delimiter after it", start)
            return []
        if name in ("frac", "dfrac", "tfrac"):
            num = self.argument(font, f"\\{name}")
            den = self.argument(font, f"\\{name}")
            return [_fraction(num, den)]
        if name == "sqrt":
            self.skip_space()
            index = None
            if self.i < len(self.src) and self.src[self.i] == "[":
                j = self.src.find("]", self.i)
                if j < 0:
                    raise self.error("a '[' after \\sqrt is never closed")
                index = self.src[self.i + 1:j].strip()
                self.i = j + 1
            arg = self.argument(font, "\\sqrt")
            h, p = _join(arg, False), _join(arg, True)
            if len(arg) > 1:
                h, p = f"({h})", f"({p})"
            root = {"3": "∛", "4": "∜"}.get(index or "", "√")
            pre = f"<sup>{_html.escape(index)}</sup>" if index and root == "√" else ""
            return [_Atom("ord", pre + root + h, (f"{index}" if pre else "") + root + p)]
        if name in ("text", "textrm", "mbox", "textit", "textbf"):
            raw, at = self.group_source(f"\\{name}")
            text = _text_argument(raw, self.base + at)
            h = _html.escape(text)
            if name == "textit":
                h = f"<i>{h}</i>"
            elif name == "textbf":
                h = f"<b>{h}</b>"
            return [_Atom("ord", h, text)]
        if name in ("mathrm", "operatorname", "mathsf", "mathtt"):
            arg = self.argument("upright", f"\\{name}")
            atom = _group(arg)
            if name == "operatorname":
                atom.kind = "func"
            return [atom]
        if name == "mathit":
            return [_group(self.argument("math", f"\\{name}"))]
        if name in ("mathbf", "bm"):
            return [_group(self.argument("bold", f"\\{name}"))]
        if name == "boldsymbol":
            return [_group(self.argument("bolditalic", f"\\{name}"))]
        if name in ("mathcal", "mathbb"):
            arg = self.argument("upright", f"\\{name}")
            table = CALLIGRAPHIC if name == "mathcal" else BLACKBOARD
            plain = _join(arg, True)
            mapped = "".join(table.get(ch, ch) for ch in plain)
            return [_Atom("ord", _html.escape(mapped), mapped)]
        if name in ACCENTS:
            arg = self.argument(font, f"\\{name}")
            mark = ACCENTS[name]
            h, p = _join(arg, False), _join(arg, True)
            return [_Atom("ord", _accent_html(h, mark), "".join(ch + mark if ch.isalnum() else ch for ch in p))]
        raise self.error(f"unknown TeX command \\{name}", start, command="\\" + name)


def _text_argument(raw: str, offset: int) -> str:
    """The text of ``\\text{…}``: braces dropped, ``\\%`` style escapes resolved, anything else refused."""
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            nxt = raw[i + 1:i + 2]
            if nxt and not nxt.isalpha():
                out.append(SPACES.get(nxt, nxt) if nxt in (",", ";", " ", "!") else nxt)
                i += 2
                continue
            m = re.match(r"[A-Za-z]+", raw[i + 1:])
            cmd = m.group(0) if m else ""
            raise TexError(f"unknown TeX command \\{cmd} inside \\text{{…}}", offset + i, "\\" + cmd)
        if c not in "{}":
            out.append(c)
        i += 1
    return "".join(out)


def _accent_html(h: str, mark: str) -> str:
    """Put the combining ``mark`` after every visible letter or digit of an HTML fragment (tags untouched)."""
    out, in_tag = [], False
    for ch in h:
        out.append(ch)
        if ch == "<":
            in_tag = True
        elif ch == ">":
            in_tag = False
        elif not in_tag and ch.isalnum():
            out.append(mark)
    return "".join(out)


def _letter(c: str, font: str) -> _Atom:
    if font == "upright":
        return _Atom("ord", c, c)
    if font == "bold":
        return _Atom("ord", f"<b>{c}</b>", c)
    if font == "bolditalic":
        return _Atom("ord", f"<b><i>{c}</i></b>", c)
    if "a" <= c.lower() <= "z":
        return _Atom("ord", f"<i>{c}</i>", c)
    return _Atom("ord", _html.escape(c), c)  # Greek and other letters typed directly stay upright


def _group(atoms: list[_Atom]) -> _Atom:
    """A braced group behaves as one ordinary atom (its inside keeps its own spacing)."""
    if len(atoms) == 1 and atoms[0].sub is None and atoms[0].sup is None and not atoms[0].prime:
        a = atoms[0]
        return _Atom("ord" if a.kind in ("space",) else a.kind, a.html, a.plain)
    return _Atom("ord", _join(atoms, False), _join(atoms, True))


def _needs_parens(atoms: list[_Atom]) -> bool:
    """Whether a fraction part must be bracketed when written inline with a slash."""
    depth = 0
    for a in atoms:
        if a.kind == "open":
            depth += 1
        elif a.kind == "close":
            depth = max(0, depth - 1)
        elif depth == 0 and a.kind in ("bin", "rel", "punct", "big"):
            return True
    return False


def _fraction(num: list[_Atom], den: list[_Atom]) -> _Atom:
    parts = []
    for atoms in (num, den):
        h, p = _join(atoms, False), _join(atoms, True)
        if _needs_parens(atoms):
            h, p = f"({h})", f"({p})"
        parts.append((h, p))
    return _Atom("frac", f"{parts[0][0]}/{parts[1][0]}", f"{parts[0][1]}/{parts[1][1]}")


def _resolve_fences(atoms: list[_Atom]) -> list[_Atom]:
    """``|`` and ``‖`` open and close alternately (each kind counted on its own)."""
    seen: dict[str, int] = {}
    out = []
    for a in atoms:
        if a.kind == "fence":
            n = seen.get(a.plain, 0)
            seen[a.plain] = n + 1
            a = _Atom("open" if n % 2 == 0 else "close", a.html, a.plain, a.sub, a.sup, a.prime)
        out.append(a)
    return out


def _bracket_fractions(atoms: list[_Atom]) -> list[_Atom]:
    """An inline fraction multiplied by its neighbour is bracketed: (∂E/∂h)(∂h/∂W), (c/‖g‖) g."""
    atoms = _resolve_fences(atoms)
    real = [a for a in atoms if a.kind != "space"]
    out = []
    for a in atoms:
        if a.kind == "frac":
            i = next(j for j, b in enumerate(real) if b is a)
            prev = real[i - 1] if i > 0 else None
            nxt = real[i + 1] if i + 1 < len(real) else None
            juxtaposed = (prev is not None and prev.kind in ("ord", "frac", "close")) or \
                (nxt is not None and nxt.kind in ("ord", "frac", "open", "func", "big"))
            if juxtaposed or a.sub is not None or a.sup is not None or a.prime:
                a = _Atom("ord", f"({a.html})", f"({a.plain})", a.sub, a.sup, a.prime)
            else:
                a = _Atom("ord", a.html, a.plain, a.sub, a.sup, a.prime)
        out.append(a)
    return out


def _join(atoms: list[_Atom], plain: bool, tight: bool = False) -> str:
    """Render atoms with TeX-like spacing: spaces around relations and binary operators, after commas and after
    big operators and function names; none in sub- and superscripts (``tight``)."""
    out: list[str] = []
    prev: _Atom | None = None
    for a in _bracket_fractions(atoms):
        text = a.render(plain)
        kind = a.kind
        if kind == "bin" and (prev is None or prev.kind in ("bin", "rel", "punct", "open", "big")):
            kind = "ord"  # unary minus or plus
        if tight:
            out.append(text)
        elif kind in ("bin", "rel"):
            out.append(f" {text} ")
        elif kind == "punct":
            out.append(f"{text} ")
        else:
            if prev is not None and prev.kind == "big" and kind in ("ord", "big", "func", "open"):
                out.append(" ")
            elif prev is not None and kind == "big" and prev.kind in ("ord", "close"):
                out.append(" ")  # l_1 ∑, not l_1∑
            elif prev is not None and prev.kind == "func" and kind in ("ord", "big", "func", "open") \
                    and not text.startswith(("(", "[")):
                out.append(" ")
            elif plain and prev is not None and (prev.sub or prev.sup) and kind in ("ord", "func") \
                    and text[:1].isalnum():
                out.append(" ")  # h_t h_k, not h_th_k
            out.append(text)
        prev = a if a.kind != "space" else prev
    s = "".join(out)
    s = re.sub(r" {2,}", " ", s).strip(" ")
    if not plain:
        s = s.replace("</i><i>", "")
    return s


def math_to_html(expr: str, offset: int = 0) -> str:
    """One TeX math expression (without the dollars) as an HTML fragment; raises :class:`TexError`."""
    return _join(_MathParser(expr, offset).parse(), plain=False)


def math_to_plain(expr: str, offset: int = 0) -> str:
    """One TeX math expression as plain Unicode text (``h_t``, ``(γλ)^(t−k)``); raises :class:`TexError`."""
    return _join(_MathParser(expr, offset).parse(), plain=True)


# --- prose with equations ----------------------------------------------------------------------------------------

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


def _inline(text: str, offset: int, plain: bool) -> str:
    """Prose and inline equations of one paragraph (newlines become spaces)."""
    out = []
    for kind, content, at in _split_math(text):
        if kind == "prose":
            out.append(_prose(content, at, plain))
        elif kind == "inline":
            out.append(math_to_plain(content, at) if plain else math_to_html(content, at))
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


def tex_to_html(text: str) -> str:
    """Lesson text with ``$…$`` equations (and ``$$…$$`` on their own line) as Qt rich text (HTML).

    Blank lines separate paragraphs, lines starting with ``- `` make a bullet list, ``**bold**`` is bold and ``\\$``
    is a dollar sign. Raises :class:`TexError` (with the offset in ``text``) on an unknown command, an unclosed
    ``$`` or brace, or a command outside an equation.
    """
    out: list[str] = []
    in_list = False
    for kind, content, at in _blocks(text):
        if kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(content, at, False)}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if kind == "display":
            out.append(f'<p align="center">{math_to_html(content, at)}</p>')
        else:
            out.append(f"<p>{_inline(content, at, False)}</p>")
    if in_list:
        out.append("</ul>")
    return "".join(out)


def tex_to_plain(text: str) -> str:
    """The same text as plain Unicode (for a terminal or a window title): ``h_t``, ``(γλ)^(t−k)``."""
    out: list[str] = []
    for kind, content, at in _blocks(text):
        if kind == "li":
            out.append("  • " + _inline(content, at, True))
        elif kind == "display":
            out.append("    " + math_to_plain(content, at))
        else:
            out.append(_inline(content, at, True))
    return "\n".join(out)


# =================================================================================================================
# the lesson format
# =================================================================================================================

@dataclass(frozen=True)
class LessonStep:
    """One step of a lesson (all text already converted; ``experiment`` already built and validated)."""

    index: int  # 0-based
    title: str
    text: str  # the source, with TeX
    html: str  # the text as Qt rich text
    do: str = ""
    do_html: str = ""
    watch: tuple[str, ...] = ()
    preset: str | None = None  # as written in this step ("default" = the defaults of docs/config.md)
    base: str | None = None  # the last preset named up to this step (None: the defaults of docs/config.md)
    overrides: dict[str, Any] = field(default_factory=dict)  # this step's own `set`, dotted keys
    train: int = 0
    line: int = 0  # line of the step's [[step]] header
    lesson: str = ""  # the lesson's name
    path: str = ""  # the lesson file
    experiment: Experiment | None = field(default=None, compare=False, repr=False)

    @property
    def number(self) -> int:
        """1-based position in the lesson."""
        return self.index + 1

    @property
    def title_html(self) -> str:
        return _inline(self.title, 0, False)

    @property
    def title_plain(self) -> str:
        return tex_to_plain(self.title)

    @property
    def loads_experiment(self) -> bool:
        """Whether the step changes the experiment (it has a ``preset`` or a ``set``). A step with neither has the
        previous step's experiment: walking forward onto it should leave the run (and the user's changes) alone."""
        return self.preset is not None or bool(self.overrides)

    @property
    def watch_labels(self) -> list[str]:
        return [VIEW_LABELS[w] for w in self.watch]


@dataclass(frozen=True)
class Lesson:
    name: str
    path: str
    title: str
    summary: str
    steps: tuple[LessonStep, ...]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i: int) -> LessonStep:
        return self.steps[i]

    @property
    def summary_html(self) -> str:
        return tex_to_html(self.summary) if self.summary else ""

    @property
    def title_plain(self) -> str:
        return tex_to_plain(self.title)


# --- where lessons live -------------------------------------------------------------------------------------------

def lessons_dir() -> Path:
    """The folder of the built-in lessons (``resources/lessons``)."""
    return resource_path("lessons")


def lesson_names() -> list[str]:
    """Names of the built-in lessons: ``main`` first, then the others alphabetically."""
    d = lessons_dir()
    names = sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []
    return sorted(names, key=lambda n: (n != MAIN_LESSON, n))


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.parent != Path(".") or p.is_file():
        return p
    names = lesson_names()
    if str(name_or_path) not in names:
        raise LessonError(str(name_or_path), None,
                          f"unknown lesson {str(name_or_path)!r}: expected one of {', '.join(names) or '(none)'} "
                          "or the path of a .toml file")
    return lessons_dir() / f"{name_or_path}.toml"


def load_lesson(name_or_path: str | Path) -> Lesson:
    """A built-in lesson by name (``"main"``) or any lesson file by path. Raises :class:`LessonError`."""
    path = _resolve(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LessonError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LessonError(path, None, "not a UTF-8 text file") from None
    return parse_lesson(text, path)


def all_lessons() -> list[Lesson]:
    """Every built-in lesson, in :func:`lesson_names` order."""
    return [load_lesson(n) for n in lesson_names()]


def step_experiment(step: LessonStep) -> Experiment:
    """The experiment of a step: with a ``preset``, that preset (``"default"``: the defaults of docs/config.md);
    without one, the previous step's experiment (the first step: the defaults); then the step's own ``set``
    overrides on top. Built and validated when the lesson is loaded."""
    if step.experiment is not None:
        return step.experiment
    return _build_experiment(step.base, step.overrides)  # pragma: no cover - steps are built with their experiment


def _build_experiment(base: str | None, overrides: dict[str, Any]) -> Experiment:
    if base is None:
        exp = Experiment()
    else:
        from ..presets import load_preset

        exp = load_preset(base)
    for key, value in overrides.items():
        exp = exp.replace(key, value)
    return exp


# --- line finding -------------------------------------------------------------------------------------------------

class _Lines:
    """The raw lines of a lesson file, with the lines inside multi-line strings masked out, for error lines."""

    _HEADER = re.compile(r"^\s*\[\[\s*step\s*\]\]\s*(#.*)?$")

    def __init__(self, text: str):
        self.raw = text.split("\n")
        self.code: list[str] = []  # the raw line, or "" when the line starts inside a multi-line string
        delim = None
        for line in self.raw:
            self.code.append(line if delim is None else "")
            j = 0
            while True:
                if delim is None:
                    m = re.search(r"'''|\"\"\"|#", line[j:])
                    if not m or m.group(0) == "#":
                        # a '#' may sit in a one-line string; it only ends our scan of this line
                        break
                    delim = m.group(0)
                    j += m.end()
                else:
                    k = line.find(delim, j)
                    while k > 0 and delim == '"""' and line[k - 1] == "\\":
                        k = line.find(delim, k + 1)
                    if k < 0:
                        break
                    delim = None
                    j = k + 3
        self.headers = [i + 1 for i, ln in enumerate(self.code) if self._HEADER.match(ln)]

    def step_range(self, index: int) -> tuple[int, int]:
        """First and last line (1-based, inclusive) of step ``index`` (0-based)."""
        if index < len(self.headers):
            first = self.headers[index]
            last = self.headers[index + 1] - 1 if index + 1 < len(self.headers) else len(self.raw)
            return first, last
        return 1, len(self.raw)

    def header(self, index: int) -> int | None:
        return self.headers[index] if index < len(self.headers) else None

    def key(self, key: str, first: int = 1, last: int | None = None) -> int | None:
        """Line of ``key = …`` (bare or quoted) between ``first`` and ``last``."""
        last = last or len(self.raw)
        pat = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
        for n in range(first, last + 1):
            if pat.match(self.code[n - 1]):
                return n
        return None

    def set_key(self, dotted: str, first: int, last: int) -> int | None:
        """Line of one key of a step's ``set`` table (``"model.spectral_radius" = …`` or its nested spelling)."""
        start = self.key("set", first, last) or first
        for n in range(start, last + 1):
            line = self.code[n - 1]
            if re.search(rf"[\"']{re.escape(dotted)}[\"']\s*=", line) or \
                    re.search(rf"(^|[\s{{,]){re.escape(dotted)}\s*=", line):
                return n
        leaf = dotted.rsplit(".", 1)[-1]
        for n in range(start, last + 1):
            if re.search(rf"(^|[\s{{,.\"']){re.escape(leaf)}[\"']?\s*=", self.code[n - 1]):
                return n
        return None

    def text_line(self, key: str, first: int, last: int, value: str, offset: int, needle: str | None) -> int | None:
        """Line of character ``offset`` of the string ``value`` of ``key`` (checked against ``needle``)."""
        kline = self.key(key, first, last)
        if kline is None:
            return None
        after = self.raw[kline - 1].split("=", 1)[1].strip()
        start = kline + 1 if after in ("'''", '"""') else kline  # a newline right after ''' is dropped
        line = start + value[:offset].count("\n")
        if needle is None or (line <= len(self.raw) and needle in self.raw[line - 1]):
            return line
        for n in range(kline, last + 1):  # e.g. escapes in a basic string shifted the lines: search instead
            if needle in self.raw[n - 1]:
                return n
        return kline


# --- the parser ---------------------------------------------------------------------------------------------------

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_END = re.compile(r"\s*\(at end of document\)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> LessonError:
    msg = str(exc)
    line = col = None
    if m := _TOML_POS.search(msg):
        line, col = int(m.group(1)), int(m.group(2))
        msg = msg[:m.start()]
    elif m := _TOML_END.search(msg):
        line = max(1, len(text.rstrip("\n").split("\n")))
        msg = msg[:m.start()] + " at the end of the file"
    if "\\" in msg or "escape" in msg.lower():
        msg += (" — text with TeX equations must be written in a literal string, '''…''' (or '…'), where a "
                "backslash is an ordinary character")
    return LessonError(path, line, f"not valid TOML: {msg}", column=col)


def parse_lesson(text: str, path: str | Path = "<lesson>") -> Lesson:
    """Parse and validate lesson TOML ``text``; ``path`` names the file in error messages (its stem is the
    lesson's name)."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, exc) from None
    lines = _Lines(text)

    def fail(line: int | None, message: str, step: int | None = None):
        raise LessonError(path, line if line is not None else 1, message, step=step)

    for key in data:
        if key not in LESSON_KEYS:
            hint = " (a step's keys go after a [[step]] header)" if key in STEP_KEYS else ""
            fail(lines.key(key, 1, (lines.header(0) or len(lines.raw) + 1) - 1) or lines.key(key) or 1,
                 f"unknown key {key!r}{hint}: expected one of {', '.join(LESSON_KEYS)}")
    top_end = (lines.header(0) or len(lines.raw) + 1) - 1  # the last line before the first [[step]]
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        fail(lines.key("title", 1, top_end) or 1, "the lesson needs a title: title = \"…\" at the top of the file")
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        fail(lines.key("summary", 1, top_end), f"summary = {summary!r}: expected a string")
    for key, value in (("title", title), ("summary", summary)):
        _check_tex(path, lines, key, value, 1, top_end, None)
    raw_steps = data.get("step")
    if raw_steps is None:
        fail(len(lines.raw) if lines.raw else 1, "the lesson has no steps: add at least one [[step]] table")
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        fail(lines.key("step") or 1, "step must be an array of tables, written [[step]]")

    steps: list[LessonStep] = []
    base: str | None = None
    previous: Experiment | None = None
    from ..presets import preset_names

    presets = preset_names()
    for i, raw in enumerate(raw_steps):
        number = i + 1
        first, last = lines.step_range(i)
        header = lines.header(i) or first

        def at(key: str) -> int:
            return lines.key(key, first, last) or header

        def step_fail(line: int, message: str):
            fail(line, f"step {number}: {message}", step=number)

        for key in raw:
            if key not in STEP_KEYS:
                step_fail(at(key), f"unknown key {key!r}: expected one of {', '.join(STEP_KEYS)}")
        for key in ("title", "text"):
            if key not in raw:
                step_fail(header, f"missing {key} = …")
        for key in ("title", "text", "do", "preset"):
            if key in raw and not isinstance(raw[key], str):
                step_fail(at(key), f"{key} = {raw[key]!r}: expected a string")
        if not raw["title"].strip():
            step_fail(at("title"), "the title is empty")
        for key in ("title", "text", "do"):
            if key in raw:
                _check_tex(path, lines, key, raw[key], first, last, number)

        preset = raw.get("preset")
        if preset is not None:
            if preset != DEFAULT_PRESET and preset not in presets:
                step_fail(at("preset"), f"unknown preset {preset!r}: expected {DEFAULT_PRESET!r} (the defaults of "
                                        f"docs/config.md) or one of {', '.join(presets)}")
            base = None if preset == DEFAULT_PRESET else preset

        overrides = raw.get("set", {})
        if not isinstance(overrides, dict):
            step_fail(at("set"), f"set = {overrides!r}: expected a table of settings, "
                                 "e.g. set = { \"model.spectral_radius\" = 0.9 }")
        flat = _flatten(overrides)
        if preset is not None or previous is None:
            try:
                exp = _build_experiment(base, {})
            except ConfigError as exc:  # pragma: no cover - a broken preset file is caught by the preset tests
                step_fail(at("preset"), f"preset {base!r} does not load: {exc}")
        else:
            exp = previous  # no preset: the previous step's experiment, its `set` included
        for key, value in flat.items():
            try:
                exp = exp.replace(key, value)
            except ConfigError as exc:
                step_fail(lines.set_key(key, first, last) or at("set"), f"set: {exc}")
        try:
            from ..train.trainer import check_compatible

            check_compatible(exp)
        except ConfigError as exc:
            step_fail(at("set") if flat else at("preset"), f"the experiment cannot run: {exc}")

        watch = raw.get("watch", ())
        if isinstance(watch, str):
            watch = (watch,)
        if not isinstance(watch, (list, tuple)) or not all(isinstance(w, str) for w in watch):
            step_fail(at("watch"), f"watch = {raw.get('watch')!r}: expected a view name or a list of view names")
        for w in watch:
            if w not in VIEWS:
                step_fail(at("watch"), f"watch = {w!r}: unknown view, expected one of {', '.join(VIEWS)}")

        train = raw.get("train", 0)
        if isinstance(train, bool) or not isinstance(train, int) or train < 0:
            step_fail(at("train"), f"train = {train!r}: expected a whole number of training steps >= 0")

        steps.append(LessonStep(
            index=i, title=raw["title"].strip(), text=raw["text"], html=tex_to_html(raw["text"]),
            do=raw.get("do", "").strip(), do_html=_inline(raw.get("do", ""), 0, False),
            watch=tuple(watch), preset=preset, base=base, overrides=flat, train=train, line=header,
            lesson=path.stem, path=str(path), experiment=exp))
        previous = exp
    if not steps:
        fail(lines.key("step") or 1, "the lesson has no steps: add at least one [[step]] table")
    return Lesson(name=path.stem, path=str(path), title=title.strip(), summary=summary.strip(), steps=tuple(steps))


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """``{"model": {"spectral_radius": 0.9}}`` and ``{"model.spectral_radius": 0.9}`` both give the dotted form."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _check_tex(path: Path, lines: _Lines, key: str, value: Any, first: int, last: int, step: int | None) -> None:
    """Convert ``value`` once to find TeX errors and stray control characters; raise a LessonError at their line."""
    if not isinstance(value, str):
        return
    prefix = f"step {step}: " if step else ""
    m = _CONTROL.search(value)
    if m is None and "\t" in value and not any("\t" in ln for ln in lines.raw[first - 1:last]):
        m = re.search("\t", value)  # a tab parsed from the escape \t (as in "\theta"), not typed in the file
    if m:
        line = lines.text_line(key, first, last, value, m.start(), None) or lines.key(key, first, last) or first
        name = {"\t": "a tab (\\t)", "\b": "a backspace (\\b)", "\f": "a form feed (\\f)",
                "\r": "a carriage return (\\r)"}.get(m.group(0), f"the control character {m.group(0)!r}")
        raise LessonError(path, line, f"{prefix}{key} contains {name}: in a \"…\" string \\t, \\b, \\f and \\r "
                                      "are escapes (\\theta, \\frac, \\rho lose their backslash); write text with "
                                      "TeX in a literal string, '''…'''", step=step)
    try:
        if key in ("title", "do"):
            _inline(value, 0, False)  # one line: no paragraphs, lists or display equations
        else:
            tex_to_html(value)
    except TexError as exc:
        line = lines.text_line(key, first, last, value, exc.offset, exc.command) or lines.key(key, first, last) \
            or first
        extra = ""
        if exc.command and exc.message.startswith("unknown TeX command"):
            extra = " (docs/lessons.md lists the supported commands)"
        raise LessonError(path, line, f"{prefix}{key}: {exc.message}{extra}", step=step) from None


def check_lesson(lesson: Lesson) -> None:
    """Build every step's network (task and weights) as the app would; raises :class:`LessonError` at the step's
    line when one cannot be built."""
    from ..train.setup import build

    for step in lesson.steps:
        try:
            build(step_experiment(step))
        except (ConfigError, ValueError) as exc:
            raise LessonError(lesson.path, step.line, f"step {step.number}: the experiment cannot be built: {exc}",
                              step=step.number) from None


# =================================================================================================================
# plain-text view and the `rnnlab lesson` command
# =================================================================================================================

def lesson_to_text(lesson: Lesson) -> str:
    """The whole lesson as plain text (a script to print or read aloud)."""
    out = [lesson.title_plain, "=" * len(lesson.title_plain)]
    if lesson.summary:
        out += [tex_to_plain(lesson.summary)]
    for s in lesson.steps:
        out += ["", f"{s.number}/{len(lesson)}. {s.title_plain}", ""]
        out += [tex_to_plain(s.text)]
        if s.preset is not None or s.index == 0:
            exp = f"preset {s.base}" if s.base else "the defaults"
        else:
            exp = "the previous step's"
        if s.overrides:
            exp += ", with " + ", ".join(f"{k} = {v!r}" for k, v in s.overrides.items())
        out += ["", f"   Experiment: {exp}" + ("" if s.loads_experiment else " (the run goes on)")]
        if s.do:
            out += [f"   Do: {tex_to_plain(s.do)}"]
        if s.watch:
            out += [f"   Watch: {', '.join(s.watch_labels)}"]
    return "\n".join(out) + "\n"


def _cmd_lesson(args) -> int:
    import sys

    try:
        if args.check:
            for path in args.check:
                lesson = load_lesson(path)
                check_lesson(lesson)
                print(f"{path}: ok ({len(lesson)} steps)")
            return 0
        if args.show:
            sys.stdout.write(lesson_to_text(load_lesson(args.show)))
            return 0
        lessons = all_lessons()
    except LessonError as exc:
        print(f"rnnlab: error: {exc}", file=sys.stderr)
        return 2
    width = max((len(x.name) for x in lessons), default=4)
    for x in lessons:
        print(f"{x.name:<{width}}  {x.title_plain}  ({len(x)} steps)")
    return 0


def add_lesson_command(subparsers) -> None:
    """Register ``rnnlab lesson`` (``--list``, ``--show NAME``, ``--check FILE…``) on an argparse subparsers object.
    Qt-free."""
    p = subparsers.add_parser(
        "lesson", help="list the guided lessons (--list), print one (--show NAME) or check a lesson file",
        description="The guided lessons shown in the app's Lesson panel. Without options, the same as --list.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help="print each lesson's name, title and number of steps")
    g.add_argument("--show", metavar="NAME", help="print a lesson (name or .toml path) as plain text")
    g.add_argument("--check", metavar="FILE", nargs="+",
                   help="validate lesson files (errors name the file and line) and build every step's network")
    p.set_defaults(func=_cmd_lesson)
