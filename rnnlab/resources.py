"""Find the shipped resources (presets, lessons, icons) wherever rnnlab runs from.

Three layouts, tried in order:

1. a frozen bundle (PyInstaller): ``sys._MEIPASS/rnnlab/resources``;
2. an installed wheel: ``rnnlab/resources`` inside the package (hatchling ``force-include``);
3. a source checkout or an editable install: the top-level ``resources/`` beside the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["resources_dir", "resource_path", "candidate_dirs"]

_PKG = Path(__file__).resolve().parent


def candidate_dirs() -> list[Path]:
    """The places looked at, in order."""
    out = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        out.append(Path(frozen) / "rnnlab" / "resources")
    out.append(_PKG / "resources")
    out.append(_PKG.parent / "resources")
    return out


def resources_dir() -> Path:
    """The first candidate that holds ``presets/``; raises FileNotFoundError naming every place tried."""
    tried = candidate_dirs()
    for d in tried:
        if (d / "presets").is_dir():
            return d
    raise FileNotFoundError("rnnlab resources not found; looked in " + ", ".join(str(d) for d in tried))


def resource_path(*parts: str) -> Path:
    """Path of a file or folder inside the resources, e.g. ``resource_path("presets", "lstm.toml")``."""
    return resources_dir().joinpath(*parts)
