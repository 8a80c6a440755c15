"""Checkpoint files of the app's engine: the trainer's last finite checkpoint as plain arrays in an ``.npz``.

The training process writes one now and then (:func:`save_checkpoint`, atomically, into a private folder of the
window's process); when that process dies, *Restart* builds a new one from the experiment and this file
(:func:`load_checkpoint`, through the guarded reader, ``allow_pickle=False``). Nested dicts of arrays, numbers,
strings and None are stored flat under ``/``-joined keys (:func:`flatten`, :func:`unflatten`).
"""

from __future__ import annotations

import io as _io
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["flatten", "unflatten", "save_checkpoint", "load_checkpoint", "MAX_CHECKPOINT_BYTES"]

#: the largest checkpoint read back (an LSTM with H = 2048 and Adam: about 0.5 GB)
MAX_CHECKPOINT_BYTES = 4 << 30
_NONE = ":none"
_EMPTY = ":empty"


def flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """``{"a": {"b": array, "c": 1.5, "d": None, "e": {}}}`` → ``{"a/b": array, "a/c": array(1.5),
    "a/d:none": array(0), "a/e:empty": array(0)}``."""
    out: dict[str, np.ndarray] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if not value:
                out[name + _EMPTY] = np.zeros(())
            out.update(flatten(value, name + "/"))
        elif value is None:
            out[name + _NONE] = np.zeros(())
        else:
            out[name] = np.asarray(value)
    return out


def unflatten(arrays: dict[str, Any]) -> dict:
    """The inverse of :func:`flatten` (0-d arrays become Python numbers or strings)."""
    tree: dict = {}
    for key, value in arrays.items():
        none, empty = key.endswith(_NONE), key.endswith(_EMPTY)
        parts = (key[: -len(_NONE)] if none else key[: -len(_EMPTY)] if empty else key).split("/")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        value = np.asarray(value)
        if empty:
            node.setdefault(parts[-1], {})
        else:
            node[parts[-1]] = None if none else (value.item() if value.ndim == 0 else value)
    return tree


def save_checkpoint(trainer, path: str | Path) -> Path:
    """Write :meth:`Trainer.checkpoint_arrays` to ``path`` atomically (:class:`rnnlab.io.WriteError` on
    failure)."""
    from .outputs import save_npz

    return save_npz(trainer.checkpoint_arrays(), path)


def load_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint file, read through the guarded reader (a ConfigError names what is wrong)."""
    from ..io import guarded, read_bytes

    blob = read_bytes(path, what="checkpoint", limit=MAX_CHECKPOINT_BYTES)
    with guarded(path, "checkpoint"):
        with np.load(_io.BytesIO(blob), allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
