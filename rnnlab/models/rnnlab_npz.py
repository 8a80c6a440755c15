"""rnnlab's own ``.npz`` (what ``rnnlab run`` writes as ``state.npz`` and ``rnnlab inspect`` writes): the stored
experiment (key ``config``), the parameters under rnnlab's names and the probe batch, so a run's weights reopen
exactly, for any of rnnlab's cells. Read with ``allow_pickle=False``.
"""

from __future__ import annotations

import dataclasses
import zipfile

import numpy as np

from ..config import ConfigError, loads_toml
from ..core.cells import get_cell
from ..core.diagnostics import Diagnostics
from ..core.network import READOUT_PARAMS
from ..core.unrolled import UnrolledPass
from ._guard import MODEL_LIMIT, checked_file, is_zip, reason
from .model import ImportedModel, Layer, Readout

__all__ = ["read_rnnlab_npz", "NOT_PARAMETERS"]

#: the arrays of a state.npz that are not parameters (the table of rnnlab.train.outputs)
NOT_PARAMETERS = ({"x", "y", "mask", "h", "z", "loss", "config"} | {f.name for f in dataclasses.fields(Diagnostics)}
                  | {f"unrolled_{f.name}" for f in dataclasses.fields(UnrolledPass)})


def read_rnnlab_npz(path) -> ImportedModel:
    """Open a ``state.npz`` or an ``inspect`` file: its experiment, parameters and probe batch."""
    p = checked_file(path, "a model file", MODEL_LIMIT)
    if not is_zip(p):
        raise ConfigError(f"{p}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(f"{p}: not a readable .npz file ({reason(exc, 120)})") from None
    if "config" not in arrays or arrays["config"].dtype.kind != "U":
        raise ConfigError(f"{p.name}: not an rnnlab state (no 'config'); rnnlab opens the .npz files that "
                          "`rnnlab run` and `rnnlab inspect` write (your own sequences go in --data)")
    exp = loads_toml(str(arrays["config"]), f"{p.name} (its config)")
    if exp.model.source:
        raise ConfigError(f"{p.name} holds an imported model ({exp.model.source}) fine-tuned in rnnlab: open the "
                          "weights.safetensors that Export run wrote beside it, or the original file")
    params = {k: v for k, v in arrays.items() if k not in NOT_PARAMETERS and not k.startswith("grad_")}
    need = [k for k in ("W_hx", "W_hh", "b_h") + READOUT_PARAMS if k not in params]
    if need:
        raise ConfigError(f"{p.name}: the parameter {need[0]} is missing")
    n_in = params["W_hx"].shape[1] if params["W_hx"].ndim == 2 else -1
    cell = get_cell(exp.model.arch).from_model(exp.model, n_in)
    for k, shape in cell.param_shapes().items():
        if k not in params:
            raise ConfigError(f"{p.name}: the parameter {k} of the {cell.label} is missing")
        if params[k].shape != shape:
            raise ConfigError(f"{p.name}: {k} has shape {tuple(params[k].shape)}, expected {shape} for the stored "
                              f"experiment ({cell.label}, H = {cell.n_hidden})")
    W_yh, b_y = params.pop("W_yh"), params.pop("b_y")
    if W_yh.ndim != 2 or W_yh.shape[1] != cell.n_hidden or b_y.shape != (W_yh.shape[0],):
        raise ConfigError(f"{p.name}: W_yh {tuple(W_yh.shape)} and b_y {tuple(b_y.shape)} do not fit H = "
                          f"{cell.n_hidden}")
    for k, v in params.items():
        if v.dtype.kind != "f":
            raise ConfigError(f"{p.name}: {k} is {v.dtype}, expected floating-point weights")
    layer = Layer(n_in, cell.n_hidden, {"forward": {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}})
    probe = None
    if all(k in arrays for k in ("x", "y", "mask")):
        probe = (arrays["x"], arrays["y"], arrays["mask"])
    model = ImportedModel(p, "rnnlab state", exp.model.arch, exp.model.activation, exp.model.gru_reset_after,
                          [layer], [Readout("W_yh", W_yh, b_y)], np.dtype(W_yh.dtype), experiment=exp, probe=probe)

    def writer(m, layer_k, direction, new_params, readout, readout_params):
        out = {k: np.asarray(v) for k, v in new_params.items()}
        if readout_params is not None:
            out.update({k: np.asarray(v) for k, v in readout_params.items()})
        return out

    model.writer = writer
    return model
