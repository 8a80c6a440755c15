"""The checks every model and data file passes before a reader opens it: a regular file, no NUL in its path, not
too large. Every problem is one :class:`~rnnlab.config.ConfigError` line naming the file.

A small local stand-in for the guarded reader of the robustness issue (``rnnlab/io.py``): when that is on main,
these functions call it instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..config import ConfigError, _short

__all__ = ["checked_file", "read_bytes", "reason", "is_zip", "MODEL_LIMIT", "DATA_LIMIT"]

#: largest model file rnnlab opens (bytes): far above any network it can diagnose interactively
MODEL_LIMIT = 2 * 1024**3
#: largest data file (bytes)
DATA_LIMIT = 1024**3


def checked_file(path, what: str, limit: int) -> Path:
    """``path`` as a :class:`Path` after checking that it names a readable regular file of at most ``limit``
    bytes; ``what`` says what the file is for (in the message)."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text:
        raise ConfigError(f"{what}: expected a file name, got {_short(path)}")
    if "\0" in text:
        raise ConfigError(f"{what} {_short(text)}: a file name cannot contain a NUL character")
    p = Path(text).expanduser()
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file ({what})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({what}): {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(f"{p}: {kind}, expected {what}")
    if st.st_size > limit:
        raise ConfigError(f"{p}: {st.st_size / 1e6:.0f} MB is larger than the {limit / 1e6:.0f} MB rnnlab opens "
                          f"as {what}")
    if not os.access(p, os.R_OK):
        raise ConfigError(f"{p}: not readable (permission denied)")
    return p


def read_bytes(path: Path) -> bytes:
    """The whole file (already checked by :func:`checked_file`), an OSError as one line."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def reason(exc: BaseException, n: int = 120) -> str:
    """The first line of an exception's message (or its type), at most ``n`` characters: what a reader library
    said about a damaged file, for the end of one of our lines."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= n else text[: n - 1] + "…"


def is_zip(path: Path) -> bool:
    """Whether the file starts like a zip archive (an .npz is one); NumPy would try to unpickle anything else."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False
