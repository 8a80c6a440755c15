"""The checks every model and data file passes before a reader opens it, through rnnlab's one guarded reader
(:mod:`rnnlab.io`): a file path without NUL, a regular file (not a folder, device or FIFO), not larger than the
limit of its kind, readable. Every problem is one :class:`~rnnlab.config.ConfigError` line naming the file.

The readers of this package need a path (``onnx.load``) or the bytes (``safetensors``, ``np.load``); this module
gives both with the same checks and messages as every other file rnnlab reads.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .. import io

__all__ = ["checked_file", "read_bytes", "reason", "is_zip", "MODEL_LIMIT", "DATA_LIMIT"]

#: largest model file rnnlab opens (bytes): far above any network it can diagnose interactively
MODEL_LIMIT = 2 * 1024**3
#: largest data file (bytes)
DATA_LIMIT = 1024**3

#: the limit each checked path was checked against (so that read_bytes applies the same one)
_LIMITS: dict[Path, tuple[str, int]] = {}


def checked_file(path, what: str, limit: int) -> Path:
    """``path`` as a :class:`Path` after checking that it names a readable regular file of at most ``limit``
    bytes; ``what`` says what the file is for (in the message)."""
    p = io.check_path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise io.file_error(p, f"cannot read ({what}): " + _why(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        raise io.file_error(p, f"{io._kind(st.st_mode)}, expected {what}")
    if st.st_size > limit:
        raise io.file_error(p, f"is {io._size_text(st.st_size)}; a {what} may be at most {io._size_text(limit)}")
    if not os.access(p, os.R_OK):
        raise io.file_error(p, f"cannot read ({what}): permission denied")
    _LIMITS[p] = (what, limit)
    if len(_LIMITS) > 64:
        _LIMITS.pop(next(iter(_LIMITS)))
    return p


def _why(exc: OSError) -> str:
    return {2: "no such file", 13: "permission denied", 20: "a part of the path is a file, not a folder"}.get(
        exc.errno or 0, exc.strerror or type(exc).__name__)


def read_bytes(path: Path) -> bytes:
    """The whole file (already checked by :func:`checked_file`) through :func:`rnnlab.io.read_bytes`, which checks
    it again on the open descriptor."""
    what, limit = _LIMITS.get(Path(path), ("model file", MODEL_LIMIT))
    return io.read_bytes(path, what=what, limit=limit)


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
