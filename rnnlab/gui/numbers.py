"""Numbers for people: short, never running into the next field, huge and tiny values as a power of ten.

``fmt(8.7e16)`` → ``"8.7·10¹⁶"``, ``fmt(0.0123)`` → ``"0.0123"``, ``fmt(float("inf"))`` → ``"∞"``, ``fmt(nan)`` →
``"—"``; ``fmt_int(123456)`` → ``"123 456"`` (thin-space thousands). Used by the status bar and menus.
"""

from __future__ import annotations

import math

__all__ = ["fmt", "fmt_int"]

_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
THIN = "\u2009"


def fmt(v, digits: int = 3) -> str:
    """``digits`` significant digits; a power of ten outside [10⁻³, 10⁵)."""
    if v is None:
        return "—"
    v = float(v)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    sign, a = ("−" if v < 0 else ""), abs(v)
    e = math.floor(math.log10(a))
    if -3 <= e < 5:
        text = format(a, f".{digits}g")
        if "e" not in text:  # (99999.9 rounds to 1e+05: written as a power below)
            return sign + text
    m = a / 10.0 ** e
    if round(m, digits - 1) >= 10:  # 9.9996 rounds up to 10
        m, e = m / 10, e + 1
    mant = format(m, f".{digits - 1}f").rstrip("0").rstrip(".")
    return f"{sign}{mant}·10{str(e).translate(_SUP)}"


def fmt_int(n) -> str:
    """An integer with thin-space thousands separators."""
    return f"{int(n):,}".replace(",", THIN)
