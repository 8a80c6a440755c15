"""Recursive-descent conversion of one TeX math expression (the lesson subset) into HTML or plain text.

The expression is read into a flat list of *atoms* (an ordinary symbol, a binary operator, a relation, an opening
or closing delimiter, a big operator, a function name, a space), each with its HTML and its plain-text form and
optional sub-/superscript; braces, fractions, fonts and accents are converted bottom-up into one atom each.
:func:`_join` then writes the atoms with TeX-like spacing. Every step is linear in the length of the expression;
nesting (braces, arguments) is limited to :data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass

from ._symbols import (
    ACCENTS, BIG, BIN, BLACKBOARD, CALLIGRAPHIC, DELIM, FUNCS, GREEK, ORD, REL, SIZERS, SPACES, _ASCII_BIN,
    _ASCII_PUNCT, _ASCII_REL,
)


#: the deepest nesting of ``{…}`` groups and command arguments an equation may have (lessons need fewer than 10);
#: deeper is a :class:`TexError` naming this limit instead of a RecursionError
MAX_DEPTH = 50


class TexError(ValueError):
    """An equation that cannot be converted: ``offset`` is the position in the text given to the converter."""

    def __init__(self, message: str, offset: int, command: str | None = None):
        self.message = message
        self.offset = offset
        self.command = command  # e.g. "\\foo" for an unknown command
        super().__init__(f"{message} (at character {offset})")


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
        self.depth = 0  # groups and arguments open at i (at most MAX_DEPTH)

    # --- errors ---------------------------------------------------------------------------------------------------
    def error(self, message: str, at: int | None = None, command: str | None = None) -> TexError:
        return TexError(message, self.base + (self.i if at is None else at), command)

    def enter(self) -> None:
        """Open one level of nesting (a ``{…}`` group or a command's argument); too many is a :class:`TexError`,
        not a RecursionError."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the equation is nested too deeply: more than {MAX_DEPTH} levels of braces or "
                             "arguments")

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
        if self.src[self.i] in "}_^":
            raise self.error(f"{what} needs an argument")
        self.enter()
        if self.src[self.i] == "{":
            self.i += 1
            atoms = self.parse("}", font)
        else:
            atoms = self.atom(font, single=True)
        self.depth -= 1
        return atoms

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
            self.enter()
            self.i += 1
            inner = self.parse("}", font)
            self.depth -= 1
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
    where = {id(b): j for j, b in enumerate(real)}  # one lookup per fraction: linear, not quadratic, in their number
    out = []
    for a in atoms:
        if a.kind == "frac":
            i = where[id(a)]
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
            elif prev is not None and kind == "func" and prev.kind in ("ord", "close"):
                out.append(" ")  # d log b, γ max_i: a function name is a word of its own
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

