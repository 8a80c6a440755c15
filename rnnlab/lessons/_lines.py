"""Line numbers in a lesson file, for error messages: where each ``[[step]]`` starts, where a key is written, on
which line a character of a multi-line string lies. TOML parsers do not keep positions, so this reads the raw
text, masking out the lines inside multi-line strings. Standard library only.
"""

from __future__ import annotations

import re


class Lines:
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
