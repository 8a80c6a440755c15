"""The one guarded way rnnlab reads a file and the one atomic way it writes one (standard library only).

Every file a user hands to rnnlab is hostile until proven otherwise: experiments, presets, lessons, classroom
files, sweep folders and the model and data files of ``rnnlab inspect --model/--data``. They are read here::

    text = read_text(path, what="experiment")            # size limit, regular file, UTF-8
    data = parse_toml(text, path)                        # + nesting-depth limit, TOML errors as ConfigError
    data = read_toml(path, what="classroom file")        # both at once
    rows = read_csv(path, what="sweep table")            # list of lists of str
    blob = read_bytes(path, what="model file", limit=512 << 20)   # for binary formats (npz, safetensors, onnx)
    with guarded(path, "model file"):                    # any exception inside becomes a ConfigError
        arrays = np.load(io.BytesIO(blob), allow_pickle=False)

and every failure is a :class:`~rnnlab.config.ConfigError` whose message is one line of at most
:data:`MESSAGE_LIMIT` characters: the file (the end of a long path), then what was wrong, values shortened to
about 80 characters. What is refused before a byte is parsed: a NUL byte in the path, a path that is not a
regular file (a folder, a device such as ``/dev/zero``, a FIFO, a socket), a file larger than the limit of its
kind, text that is not UTF-8, TOML nested deeper than :data:`MAX_DEPTH` levels.

Writing: :func:`atomic_write` (a file object) and :func:`atomic_path` (a path, for writers that want one, such as
Qt's image savers) write to a temporary file in the target's folder, flush and fsync it, rename it over the
target and fsync the folder. On any failure the temporary file is removed, the old file is untouched, and a
:class:`WriteError` (an ``OSError``) says in one line what failed: the disk is full, the folder is read-only,
the path is a folder, a part of the path is a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import tomllib
from pathlib import Path
from typing import IO, Any, Iterator

__all__ = ["MAX_TEXT_BYTES", "MAX_TABLE_BYTES", "MAX_DEPTH", "MESSAGE_LIMIT", "short_path", "one_line",
           "file_error", "check_path", "read_bytes", "read_text", "parse_toml", "read_toml", "read_csv",
           "guarded", "toml_depth", "WriteError", "write_error", "atomic_path", "atomic_write", "fsync_path",
           "why_not_written", "PARTIAL_SUFFIX", "partial_path", "PartialFile"]

#: the largest text file read (experiments, presets, lessons, classroom files): 1 MiB; the built-in lessons are
#: ~20 kB, an experiment ~2 kB
MAX_TEXT_BYTES = 1 << 20
#: the largest table read (a sweep.csv of 100,000 runs is ~10 MB)
MAX_TABLE_BYTES = 64 << 20
#: arrays and tables nested deeper than this are refused (rnnlab's own formats need 3)
MAX_DEPTH = 32
#: no error message is longer than this
MESSAGE_LIMIT = 300

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _config_error(message: str) -> Exception:
    from .config import ConfigError  # config imports this module: import at call time

    return ConfigError(one_line(message))


def short_path(path: Any, n: int = 80) -> str:
    """The path as text for a message: control characters replaced by ``?``, a long path cut to its last ``n``
    characters (the file name is what a person recognises)."""
    try:
        text = os.fspath(path) if not isinstance(path, bytes) else path.decode("utf-8", "replace")
    except TypeError:
        text = repr(path)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _CONTROL.sub("?", str(text))
    return text if len(text) <= n else "…" + text[-(n - 1):]


def one_line(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` on one line (newlines and other control characters become spaces), at most ``limit``
    characters (cut with "…")."""
    text = _CONTROL.sub(" ", str(message)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_error(path: Any, message: str) -> Exception:
    """A :class:`~rnnlab.config.ConfigError` ``"PATH: message"`` (one line, at most :data:`MESSAGE_LIMIT`)."""
    return _config_error(f"{short_path(path)}: {message}")


def check_path(path: Any) -> Path:
    """``path`` as a :class:`Path`, refused (ConfigError) when it is not a path or holds a NUL byte."""
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    if not isinstance(path, (str, os.PathLike)):
        raise _config_error(f"{type(path).__name__} is not a file path")
    text = os.fspath(path)
    if isinstance(text, bytes):  # pragma: no cover - an exotic PathLike
        text = text.decode("utf-8", "surrogateescape")
    if "\x00" in text:
        raise file_error(text, "the path contains a NUL byte")
    if not text:
        raise _config_error("an empty file path")
    return Path(text)


def _size_text(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"  # pragma: no cover


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something else"


def _read_error(path: Path, exc: OSError) -> Exception:
    reasons = {errno.ENOENT: "no such file", errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EISDIR: "is a folder, not a file", errno.ENOTDIR: "a part of the path is a file, not a folder",
               errno.ENAMETOOLONG: "the path is too long", errno.ELOOP: "too many symbolic links"}
    why = reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return file_error(path, f"cannot read: {why}")


def read_bytes(path: Any, *, what: str = "file", limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ConfigError otherwise (see the module docstring).

    The file is opened without blocking (a FIFO never hangs the caller) and checked on the open descriptor, so
    it cannot be swapped for a device between the check and the read.
    """
    p = check_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        if os.name == "nt":  # no O_NONBLOCK: refuse what is not a regular file before opening it
            st = os.stat(p)
            if not stat.S_ISREG(st.st_mode):
                raise file_error(p, f"{_kind(st.st_mode)}, not a regular file")
        fd = os.open(p, flags)
    except OSError as exc:
        raise _read_error(p, exc) from None
    except ValueError as exc:  # e.g. an unencodable path
        raise file_error(p, f"cannot read: {exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise file_error(p, f"{_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise file_error(p, f"is {_size_text(st.st_size)}; a {what} may be at most {_size_text(limit)}")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise file_error(p, f"is larger than {_size_text(limit)}, the limit for a {what}")
        return b"".join(chunks)
    except OSError as exc:
        raise _read_error(p, exc) from None
    finally:
        os.close(fd)


def read_text(path: Any, *, what: str = "file", limit: int = MAX_TEXT_BYTES) -> str:
    """The text of a UTF-8 file (a leading byte-order mark is dropped); see :func:`read_bytes`."""
    data = read_bytes(path, what=what, limit=limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise file_error(path, f"not a UTF-8 text file (byte 0x{data[exc.start]:02x} on line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


# --- TOML --------------------------------------------------------------------------------------------------------

#: one token of TOML for the depth scan: a whole string (any of the four kinds), a comment, or a bracket
_TOML_LEX = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # multi-line basic string
    r"|'''.*?'''"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\.)*"'  # basic string
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*"  # comment
    r"|[\[\]{}]",
    re.S)


def toml_depth(text: str, stop_above: int | None = None) -> tuple[int, int]:
    """``(deepest bracket nesting, its line)`` of TOML ``text``, counting ``[`` and ``{`` outside strings and
    comments: a linear scan that needs no recursion (the parser itself recurses once per level). With
    ``stop_above`` the scan ends as soon as the nesting exceeds it."""
    depth = deepest = 0
    where = 1
    for m in _TOML_LEX.finditer(text):
        tok = m.group(0)
        if tok == "[" or tok == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
                where = text.count("\n", 0, m.start()) + 1
                if stop_above is not None and depth > stop_above:
                    break
        elif tok == "]" or tok == "}":
            depth = max(0, depth - 1)
    return deepest, where


def _data_depth(data: Any) -> int:
    """Nesting depth of parsed data (dicts and lists), without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, d = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, d)
        if d > MAX_DEPTH + 1:
            return d
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def parse_toml(text: str, source: Any = "<text>", max_depth: int = MAX_DEPTH) -> dict:
    """Parse TOML ``text`` (from ``source``, named in errors): ConfigError for a syntax error or for nesting
    deeper than ``max_depth`` (brackets, or dotted keys)."""
    deepest, line = toml_depth(text, stop_above=max_depth)
    if deepest > max_depth:
        raise file_error(source, f"not valid here: arrays or tables nested {deepest} levels deep (line {line}); "
                                 f"at most {max_depth} are allowed")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise file_error(source, f"not valid TOML: {exc}") from None
    except RecursionError:  # pragma: no cover - refused above
        raise file_error(source, "arrays or tables nested too deeply") from None
    if _data_depth(data) > max_depth + 1:
        raise file_error(source, f"tables nested more than {max_depth} levels deep (dotted keys)")
    return data


def read_toml(path: Any, *, what: str = "file", limit: int = MAX_TEXT_BYTES) -> dict:
    """:func:`read_text` then :func:`parse_toml`."""
    return parse_toml(read_text(path, what=what, limit=limit), path)


# --- tables ------------------------------------------------------------------------------------------------------

def read_csv(path: Any, *, what: str = "table", limit: int = MAX_TABLE_BYTES) -> list[list[str]]:
    """The rows of a CSV file (lists of strings; the header is the first); ConfigError for anything wrong,
    naming the line."""
    import csv
    import io as _io

    text = read_text(path, what=what, limit=limit)
    if "\x00" in text:
        raise file_error(path, f"not a {what}: it contains NUL characters")
    reader = csv.reader(_io.StringIO(text, newline=""))
    try:
        return [row for row in reader]
    except csv.Error as exc:
        raise file_error(path, f"line {reader.line_num}: not a CSV {what}: {exc}") from None


@contextlib.contextmanager
def guarded(path: Any, what: str = "file") -> Iterator[None]:
    """Turn any exception raised inside the block (a parser's ValueError, KeyError, an OSError, a
    RecursionError …) into a ConfigError naming ``path``; a ConfigError passes through, shortened to one line."""
    from .config import ConfigError

    try:
        yield
    except ConfigError as exc:
        msg = str(exc)
        raise _config_error(msg if msg.startswith(short_path(path)) else f"{short_path(path)}: {msg}") from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except MemoryError:
        raise file_error(path, f"not a readable {what}: it needs more memory than there is") from None
    except RecursionError:
        raise file_error(path, f"not a readable {what}: nested too deeply") from None
    except OSError as exc:
        raise _read_error(Path(short_path(path)), exc) from None
    except Exception as exc:  # noqa: BLE001 - the point: nothing escapes as a traceback
        detail = str(exc) or type(exc).__name__
        raise file_error(path, f"not a readable {what}: {_short_text(detail)}") from None


def _short_text(text: str, n: int = 160) -> str:
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= n else text[: n - 1] + "…"


# --- writing -----------------------------------------------------------------------------------------------------

class WriteError(OSError):
    """A write that failed, with a one-line message: ``could not write PATH: the disk is full``. The old file
    (if any) is untouched and no temporary file is left."""

    def __init__(self, path: Any, reason: str, err: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.message = one_line(f"could not write {short_path(path)}: {reason}")
        super().__init__(err or 0, self.message)

    def __str__(self) -> str:
        return self.message


_WRITE_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (a read-only folder?)",
    errno.EPERM: "permission denied (a read-only folder?)",
    errno.EISDIR: "the path is a folder, not a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ENOENT: "the folder does not exist",
    errno.EFBIG: "the file is too large for the file system",
}


def write_error(path: Any, exc: BaseException) -> WriteError:
    """A :class:`WriteError` for ``path`` from an exception (an OSError's errno picks the words)."""
    if isinstance(exc, WriteError):
        return exc
    if isinstance(exc, OSError):
        reason = _WRITE_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc) or type(exc).__name__)
        return WriteError(path, reason, exc.errno)
    return WriteError(path, _short_text(str(exc) or type(exc).__name__))


def fsync_path(path: Any) -> None:
    """fsync a file or a folder by path (folders: where the platform allows it)."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except (IsADirectoryError, PermissionError):  # a folder on Windows
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES, errno.ENOTSUP):  # e.g. some file systems
            raise
    finally:
        os.close(fd)


def _make_parent(path: Path) -> None:
    parent = path.parent
    if parent.is_dir():
        return
    if parent.exists() or any(p.exists() and not p.is_dir() for p in parent.parents):
        raise OSError(errno.ENOTDIR, "a part of the path is a file")
    parent.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def atomic_path(path: Any, *, check_nonempty: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; when the block ends without an exception the file is
    fsynced and renamed over ``path`` (``os.replace``) and the folder fsynced; otherwise it is removed, and an
    OSError is re-raised as a :class:`WriteError` (one line; any other exception passes as it is). The folder is
    created when missing. ``check_nonempty``: a writer that reports success without writing anything (Qt's
    image savers on some failures) is a failure too::

        with atomic_path(out / "phase.png", check_nonempty=True) as tmp:
            if not pixmap.save(str(tmp), "PNG"):
                raise why_not_written(tmp)  # Qt only says False: find out why
    """
    try:
        target = check_path(path)
    except ValueError:  # a NUL byte, not a path: a write failure like any other (one line)
        raise WriteError(short_path(path), "the path contains a NUL byte or is not a path") from None
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        if target.is_dir():
            raise OSError(errno.EISDIR, "is a folder")
        _make_parent(target)
        yield tmp
        if check_nonempty and (not tmp.exists() or tmp.stat().st_size == 0):
            raise OSError(errno.EIO, "nothing was written")
        if not tmp.exists():
            raise OSError(errno.EIO, "nothing was written")
        fsync_path(tmp)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            fsync_path(target.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not isinstance(exc, OSError):  # a bug or Ctrl-C: not a write failure, passed on as it is
            raise
        raise write_error(target, exc) from None


def why_not_written(tmp: Any) -> OSError:
    """The reason a writer that only says "failed" (Qt's image savers) could not write ``tmp``: the operating
    system's own error when the file cannot even be created there, else a generic one."""
    try:
        with open(tmp, "wb"):
            pass
    except OSError as exc:
        return exc
    return OSError(errno.EIO, "the writer failed")


@contextlib.contextmanager
def atomic_write(path: Any, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """A file object (``mode`` "w" or "wb") on a temporary file beside ``path``, flushed, fsynced and renamed
    over ``path`` at the end of the block (see :func:`atomic_path`)::

        with atomic_write(out / "config.toml") as fh:
            fh.write(text)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        kw = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kw) as fh:
            yield fh
            fh.flush()


#: what :func:`partial_path` inserts before a streamed file's suffix
PARTIAL_SUFFIX = ".partial"


def partial_path(path: Any) -> Path:
    """Where a table that grows during a run is streamed before it replaces ``path``: ``metrics.partial.csv``."""
    path = Path(path)
    return path.with_name(path.stem + PARTIAL_SUFFIX + path.suffix)


class PartialFile:
    """A text file streamed while work goes on: lines go to ``<stem>.partial<suffix>`` beside ``path`` (flushed
    to disk as they come, so a crash keeps every line so far there), and :meth:`commit` fsyncs it and renames it
    over ``path``; the old ``path`` is untouched until then. Any failed write closes and removes the partial file
    and raises :class:`WriteError` (one line); after that every call does nothing. ``abandon`` closes it without
    putting it in place (the partial file stays), ``discard`` removes it."""

    def __init__(self, path: Any):
        self.path = check_path(path)
        self.partial = partial_path(self.path)
        self.fh: IO | None = None
        self.failed = False
        try:
            if self.path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a folder")
            _make_parent(self.path)
            self.fh = open(self.partial, "w", newline="", encoding="utf-8")
        except OSError as exc:
            self.fail(exc)

    @property
    def open(self) -> bool:
        return not self.failed and self.fh is not None and not self.fh.closed

    def fail(self, exc: BaseException):
        """Drop the partial file and raise the :class:`WriteError` for ``exc``."""
        self.failed = True
        self.discard()
        raise write_error(self.path, exc) from None

    def write(self, text: str) -> None:
        """Append ``text`` and flush it to the operating system."""
        if not self.open:
            return
        try:
            self.fh.write(text)
            self.fh.flush()
        except OSError as exc:
            self.fail(exc)

    def commit(self) -> None:
        """Put the file in place: fsync, close, rename over ``path``, fsync the folder."""
        if not self.open:
            return
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.replace(self.partial, self.path)
            with contextlib.suppress(OSError):
                fsync_path(self.path.parent)
        except OSError as exc:
            self.fail(exc)

    def abandon(self) -> None:
        """Close without putting the file in place (the partial file stays, holding what was written)."""
        if self.fh is not None and not self.fh.closed:
            with contextlib.suppress(OSError):
                self.fh.close()

    def discard(self) -> None:
        """Close and remove the partial file."""
        self.abandon()
        with contextlib.suppress(OSError):
            os.unlink(self.partial)
