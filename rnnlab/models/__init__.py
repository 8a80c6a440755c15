"""Trained recurrent networks from files, mapped exactly into rnnlab's own cells (NumPy; no Qt, no torch).

    from rnnlab.models import open_model
    m = open_model("lstm.safetensors")           # a PyTorch state_dict, an ONNX model or rnnlab's own .npz
    m.summary()                                  # "PyTorch nn.LSTM state_dict: 2 layers (bidirectional), …"

:func:`open_model` picks the reader by the file's suffix (:data:`FORMATS`) and keeps the last few models it
opened (a file that changes on disk is read again). What an opened model becomes in an experiment (its task, the
front end, fine-tuning, writing it back) is :mod:`rnnlab.train.imported`.

Layering: ``rnnlab.models`` sits between the numeric core and ``rnnlab.train`` (it builds core networks, the
trainer builds experiments from it). The formats and their conventions: :mod:`.torch_state`,
:mod:`.onnx_model`, :mod:`.rnnlab_npz`; the common model and the convention tables: :mod:`.model`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from ..config import ConfigError, _short
from .model import DIRECTIONS, ImportedModel, Layer, Readout
from .onnx_model import read_onnx
from .rnnlab_npz import read_rnnlab_npz
from .torch_state import read_pt, read_safetensors

__all__ = ["open_model", "FORMATS", "ImportedModel", "Layer", "Readout", "DIRECTIONS", "format_of"]

#: suffix -> (reader, what it is); the readers import safetensors, torch and onnx only when called
FORMATS = {
    ".safetensors": (read_safetensors, "a PyTorch state_dict saved with safetensors"),
    ".pt": (read_pt, "a PyTorch state_dict saved with torch.save"),
    ".pth": (read_pt, "a PyTorch state_dict saved with torch.save"),
    ".onnx": (read_onnx, "an ONNX model"),
    ".npz": (read_rnnlab_npz, "rnnlab's own state (rnnlab run / inspect)"),
}

_CACHE: "OrderedDict[tuple, ImportedModel]" = OrderedDict()
_CACHE_SIZE = 4


def format_of(path) -> str:
    """The suffix that decides the reader (a ConfigError lists the supported ones)."""
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise ConfigError(f"{Path(os.fspath(path)).name}: unknown model format {_short(suffix or '(no suffix)')}; "
                          f"rnnlab opens {known}")
    return suffix


def open_model(path) -> ImportedModel:
    """The model in ``path`` (see the module docstring); every problem is one ConfigError line naming it."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ConfigError(f"model.source: expected a file name, got {_short(path)}")
    suffix = format_of(path)
    p = Path(os.fspath(path)).expanduser()
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    except (OSError, ValueError):
        key = None  # the reader names the problem
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    reader, _ = FORMATS[suffix]
    model = reader(p)
    if key is not None:
        _CACHE[key] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model
