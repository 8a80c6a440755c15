"""The command tables of the lesson TeX subset: every command the converter knows, by the role it plays.

Each table maps a command name (without the backslash) to what is drawn; :func:`known_commands` lists them all
(``docs/lessons.md`` points teachers at it). No imports beyond the standard library.
"""

from __future__ import annotations

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
