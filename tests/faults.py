"""Failure conditions for the writers' tests: a read-only folder, a folder where the file should be, a file where a
folder should be, and a full disk.

A read-only folder is real where the tests do not run as root (its mode bits deny writing); as root they do not,
so there the denial is simulated: opening a file for writing in that folder raises EACCES, as the kernel would. A
full disk is simulated everywhere: every write to a file opened in that folder raises ENOSPC (the file itself is
created first, as on a real full disk); Qt's image writers, which do not go through Python's ``open``, report
success and leave a 0-byte file, as measured on a real full disk. ``tests/test_io.py`` also checks a real full and a
real read-only file system (a small tmpfs) where the machine allows mounting one.
"""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

MODES = ("readonly", "folder", "parent_is_file", "enospc")
OLD = b"old contents: must survive\n"


class _FullFile:
    """A file object whose writes fail with ENOSPC."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def writelines(self, lines):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def __iter__(self):
        return iter(self._fh)


def _inside(path, folder: Path) -> bool:
    try:
        return Path(os.fspath(path)).resolve().is_relative_to(folder.resolve())
    except (TypeError, ValueError, OSError):
        return False


def setup(mode: str, tmp_path: Path, monkeypatch, name: str = "out.dat") -> Path:
    """Prepare ``mode`` in a fresh folder and return the path a writer is asked to write. Where a file can exist
    at that path, it holds :data:`OLD` (the old file that must survive)."""
    folder = tmp_path / f"target-{mode}"
    folder.mkdir()
    target = folder / name
    if mode == "folder":
        target.mkdir()
        return target
    if mode == "parent_is_file":
        (folder / "afile").write_bytes(OLD)
        return folder / "afile" / name
    target.write_bytes(OLD)
    real_open = builtins.open
    if mode == "readonly":
        if os.geteuid() != 0:
            folder.chmod(0o555)  # restore() gives write permission back
            return target

        def fake_open(file, mode="r", *args, **kwargs):
            if any(c in mode for c in "wax+") and _inside(file, folder):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
        _patch_qt(monkeypatch, folder, write_empty=False)
        return target
    if mode == "enospc":
        def fake_open(file, mode="r", *args, **kwargs):
            fh = real_open(file, mode, *args, **kwargs)
            if any(c in mode for c in "wax+") and _inside(file, folder):
                return _FullFile(fh)
            return fh

        monkeypatch.setattr(builtins, "open", fake_open)
        _patch_qt(monkeypatch, folder, write_empty=True)
        return target
    raise ValueError(mode)


def _patch_qt(monkeypatch, folder: Path, write_empty: bool) -> None:
    """Qt's image writers in ``folder``: a full disk leaves a 0-byte file and reports success; a read-only folder
    makes them report failure."""
    try:
        from PySide6 import QtGui
    except ImportError:  # pragma: no cover - the Qt-free tiers
        return
    for cls in (QtGui.QImage, QtGui.QPixmap):
        real = cls.save

        def save(self, path, *args, _real=real, **kwargs):
            if isinstance(path, str) and _inside(path, folder):
                if write_empty:
                    Path(path).write_bytes(b"")
                    return True
                return False
            return _real(self, path, *args, **kwargs)

        monkeypatch.setattr(cls, "save", save)


def restore(tmp_path: Path) -> None:
    """Give write permission back (so pytest can clean up)."""
    for p in tmp_path.glob("target-*"):
        try:
            p.chmod(0o755)
        except OSError:
            pass


REASONS = {
    "readonly": ("permission denied", "read-only"),
    "folder": ("is a folder",),
    "parent_is_file": ("is a file, not a folder",),
    "enospc": ("disk is full", "nothing was written"),
}


def check(mode: str, target: Path, exc: BaseException) -> None:
    """The failure was reported in one line naming the file and the reason, the old file is intact and no
    temporary or partial file is left."""
    msg = str(exc)
    assert "\n" not in msg and len(msg) <= 300, msg
    assert target.name in msg, msg
    assert any(r in msg for r in REASONS[mode]), (mode, msg)
    folder = target.parent if mode != "parent_is_file" else target.parent.parent
    if mode in ("readonly", "enospc"):
        assert target.read_bytes() == OLD
    if mode == "parent_is_file":
        assert (folder / "afile").read_bytes() == OLD
    if mode == "folder":
        assert target.is_dir() and not any(target.iterdir())
    left = sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name not in (target.name, "afile"))
    assert not left, f"left behind: {left}"
