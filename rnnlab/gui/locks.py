"""Locked settings: a classroom file's ``lock`` list, held by the controller and enforced on every route.

Every route that changes the experiment ends in :meth:`rnnlab.gui.controller.Controller.set_experiment` (the
controls through ``set_value``, the Presets menu, File ▸ Open and the recent files, a lesson step or an opened
lesson file, a sweep cell, another classroom file, undo and redo). There, :meth:`Locks.enforce` keeps every locked
key at its current value: a preset, file or lesson step still loads, with the locked settings as the teacher set
them, and a message names what was kept. A control bound to a locked key refuses the change outright (it is also
disabled and shows a lock icon, with a tooltip naming the file). Locks only grow during a session: a second
classroom file adds its locks to the first's, it never removes them. The class holds no Qt (tests use it alone);
:func:`lock_icon` draws the padlock the panels show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from ..config import ConfigError, Experiment

__all__ = ["Locks", "lock_icon", "lock_pixmap"]


@dataclass(frozen=True)
class Locks:
    """Locked keys, each with the name of the file that locked it."""

    by_key: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def keys(self) -> frozenset:
        return frozenset(self.by_key)

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def source(self, key: str) -> str:
        return self.by_key.get(key, "")

    def added(self, keys: Iterable[str], source: str | Path) -> "Locks":
        """These locks plus ``keys`` locked by ``source`` (a key already locked keeps its first file)."""
        name = Path(source).name if str(source) else "the classroom file"
        merged = dict(self.by_key)
        for k in sorted(keys):
            merged.setdefault(k, name)
        return Locks(MappingProxyType(merged))

    def why(self, key: str) -> str:
        return f"{key} is locked by {self.by_key[key]}"

    def enforce(self, current: Experiment, new: Experiment) -> tuple[Experiment, list[str]]:
        """``new`` with every locked key kept at its value in ``current``, and the locked keys ``new`` wanted to
        change. Raises :class:`ConfigError` when the kept values do not fit the rest of ``new`` (the change is
        then refused as a whole)."""
        wanted = [k for k in current.diff(new) if k in self.by_key]
        if not wanted:
            return new, []
        try:
            kept = new.with_changes({k: current.get(k) for k in wanted})
        except ConfigError as exc:
            raise ConfigError(f"refused: it would change the locked {', '.join(wanted)} ({self.files(wanted)}), "
                              f"and keeping {'it' if len(wanted) == 1 else 'them'} does not fit the rest: {exc}") \
                from None
        return kept, wanted

    def files(self, keys: Iterable[str]) -> str:
        names = sorted({self.by_key[k] for k in keys if k in self.by_key})
        return "locked by " + ", ".join(names)


def lock_pixmap(size: int = 14, color: str = "#5a5a5a", dpr: float = 1.0):
    """A padlock drawn with QPainter (no font glyph: it renders with any font), ``size`` logical pixels at the
    device pixel ratio ``dpr`` (crisp at 200 %)."""
    from PySide6 import QtCore, QtGui

    pm = QtGui.QPixmap(max(1, round(size * dpr)), max(1, round(size * dpr)))
    pm.setDevicePixelRatio(dpr)
    pm.fill(QtCore.Qt.GlobalColor.transparent)
    p = QtGui.QPainter(pm)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    pen = QtGui.QPen(QtGui.QColor(color))
    pen.setWidthF(max(1.2, size / 9))
    p.setPen(pen)
    s = float(size)
    p.drawArc(QtCore.QRectF(0.27 * s, 0.06 * s, 0.46 * s, 0.6 * s), 0, 180 * 16)  # the shackle
    p.drawLine(QtCore.QPointF(0.27 * s, 0.36 * s), QtCore.QPointF(0.27 * s, 0.48 * s))
    p.drawLine(QtCore.QPointF(0.73 * s, 0.36 * s), QtCore.QPointF(0.73 * s, 0.48 * s))
    p.setBrush(QtGui.QColor(color))
    p.drawRoundedRect(QtCore.QRectF(0.14 * s, 0.46 * s, 0.72 * s, 0.5 * s), 0.08 * s, 0.08 * s)  # the body
    p.end()
    return pm


def lock_icon(size: int = 14):
    from PySide6 import QtGui

    return QtGui.QIcon(lock_pixmap(size))
