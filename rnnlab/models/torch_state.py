"""PyTorch ``state_dict`` files: ``.safetensors`` (the ``safetensors`` package's NumPy API, no torch needed) and
``.pt``/``.pth`` (``torch.load(weights_only=True)``, only when torch is installed; never pickle otherwise).

What is read (``P`` is the recurrent module's prefix, e.g. ``rnn.``; ``k`` the layer; ``_reverse`` the backward
direction):

=========================  ==============  ==================================================================
PyTorch                    shape           rnnlab
=========================  ==============  ==================================================================
P weight_ih_l{k}[_reverse]  (G, I_k)        W_hx, gate blocks reordered (LSTM i,f,g,o → i,f,g,o; GRU r,z,n → z,r,n)
P weight_hh_l{k}[_reverse]  (G, H)          W_hh, reordered the same way
P bias_ih_l{k}, bias_hh_l{k} (G,) each      b_h = bias_ih + bias_hh (GRU: the n block of bias_hh is b_hn)
X weight, X bias             (O, H), (O,)    a readout candidate W_yh, b_y (any 2-D ``weight`` outside P)
=========================  ==============  ==================================================================

G = H (``nn.RNN``), 4H (``nn.LSTM``) or 3H (``nn.GRU``) tells the module. PyTorch's GRU applies the reset gate
after the recurrent product (``model.gru_reset_after = true``). A state_dict does not record ``nn.RNN``'s
``nonlinearity``: ``model.activation`` says it (tanh unless set). Refused, by name: an LSTM with ``proj_size``
(``weight_hr_l0``), several recurrent modules in one file, shapes that do not fit together.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..config import ConfigError, _short
from ._guard import MODEL_LIMIT, checked_file, read_bytes, reason
from .model import DIRECTIONS, TORCH_BLOCKS, ImportedModel, Layer, Readout, from_rnnlab, to_rnnlab

__all__ = ["read_safetensors", "read_pt", "from_state_dict"]

#: G/H -> (rnnlab cell, PyTorch module, reset after, the nonlinearity the state_dict implies)
_KINDS = {1: ("rnn", "nn.RNN", False, None), 4: ("lstm", "nn.LSTM", False, "tanh"), 3: ("gru", "nn.GRU", True, "tanh")}
_PT_HINT = ("convert it once where torch is installed: python -c \"import torch; from safetensors.torch import "
            "save_file; save_file(torch.load('model.pt', weights_only=True), 'model.safetensors')\"")


def read_safetensors(path) -> ImportedModel:
    """Open a ``.safetensors`` state_dict."""
    p = checked_file(path, "a model file", MODEL_LIMIT)
    try:
        from safetensors.numpy import load
    except ImportError:  # pragma: no cover - a runtime dependency
        raise ConfigError(f"{p.name}: reading .safetensors needs the safetensors package (pip install "
                          "safetensors)") from None
    data = read_bytes(p)
    try:
        tensors = load(data)
    except Exception as exc:  # the package raises SafetensorError, ValueError, TypeError … on a damaged file
        raise ConfigError(f"{p}: not a readable safetensors file ({reason(exc, 120)})") from None
    return from_state_dict(tensors, p, "PyTorch")


def read_pt(path) -> ImportedModel:
    """Open a ``.pt``/``.pth`` state_dict with ``torch.load(weights_only=True)`` (torch must be installed)."""
    p = checked_file(path, "a model file", MODEL_LIMIT)
    try:
        import torch
    except ImportError:
        raise ConfigError(f"{p.name}: a PyTorch .pt file needs torch to read (pip install torch), or "
                          f"{_PT_HINT}") from None
    try:
        obj = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # an unpickling error for anything but plain tensors, or a damaged file
        raise ConfigError(f"{p}: not a state_dict torch can load with weights_only=True "
                          f"({reason(exc)})") from None
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):  # pragma: no cover - weights_only refuses modules
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConfigError(f"{p}: holds a {type(obj).__name__}, expected a state_dict (a dict of tensors)")
    tensors = {}
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            tensors[str(k)] = v.detach().cpu().numpy() if v.dtype != torch.bfloat16 else v.float().numpy()
    return from_state_dict(tensors, p, "PyTorch")


def _float(name: str, a: np.ndarray, path: Path) -> np.ndarray:
    if a.dtype.kind != "f":
        raise ConfigError(f"{path.name}: tensor {name!r} is {a.dtype}, expected floating-point weights")
    return a


def from_state_dict(tensors: dict[str, np.ndarray], path: Path, origin: str) -> ImportedModel:
    """An :class:`ImportedModel` from the tensors of a state_dict (see the module docstring)."""
    prefixes = sorted({m.group(1) for k in tensors if (m := re.fullmatch(r"(.*)weight_ih_l0", k))})
    if not prefixes:
        some = ", ".join(sorted(tensors)[:6]) or "none"
        raise ConfigError(f"{path.name}: no recurrent layer found (a state_dict of nn.RNN, nn.LSTM or nn.GRU has "
                          f"weight_ih_l0; this one has {_short(some, 120)})")
    if len(prefixes) > 1:
        raise ConfigError(f"{path.name}: holds {len(prefixes)} recurrent modules ({', '.join(p or '(top)' for p in prefixes)}); "
                          "rnnlab opens a file with one (save that module's state_dict)")
    P = prefixes[0]
    if f"{P}weight_hr_l0" in tensors:
        raise ConfigError(f"{path.name}: an LSTM with proj_size ({P}weight_hr_l0) is not supported: rnnlab's LSTM "
                          "has no projection")
    n_layers = 0
    while f"{P}weight_ih_l{n_layers}" in tensors:
        n_layers += 1
    bidir = f"{P}weight_ih_l0_reverse" in tensors
    has_bias = f"{P}bias_ih_l0" in tensors
    W0 = _float(f"{P}weight_hh_l0", tensors[f"{P}weight_hh_l0"], path)
    if W0.ndim != 2 or W0.shape[1] == 0 or W0.shape[0] % W0.shape[1] or W0.shape[0] // W0.shape[1] not in _KINDS:
        raise ConfigError(f"{path.name}: {P}weight_hh_l0 has shape {tuple(W0.shape)}: expected (G, H) with G = H "
                          "(nn.RNN), 4H (nn.LSTM) or 3H (nn.GRU)")
    H = W0.shape[1]
    arch, label, reset_after, activation = _KINDS[W0.shape[0] // H]
    G = W0.shape[0]
    perm = TORCH_BLOCKS[arch]
    dtypes = set()
    layers = []
    used = set()
    for k in range(n_layers):
        dirs = {}
        n_in = None
        for d, sfx in zip(DIRECTIONS, ("", "_reverse")):
            if sfx and not bidir:
                continue
            names = [f"{P}weight_ih_l{k}{sfx}", f"{P}weight_hh_l{k}{sfx}"]
            if has_bias:
                names += [f"{P}bias_ih_l{k}{sfx}", f"{P}bias_hh_l{k}{sfx}"]
            missing = [n for n in names if n not in tensors]
            if missing:
                raise ConfigError(f"{path.name}: {missing[0]} is missing (layer {k} of a"
                                  f"{' bidirectional' if bidir else ''} {label} with{'' if has_bias else 'out'} "
                                  "biases)")
            arr = [_float(n, tensors[n], path) for n in names]
            used.update(names)
            Wi, Wh = arr[0], arr[1]
            want_in = H * (2 if bidir else 1) if k > 0 else (Wi.shape[1] if Wi.ndim == 2 else -1)
            expect = [(G, want_in), (G, H)] + ([(G,), (G,)] if has_bias else [])
            for n, a, e in zip(names, arr, expect):
                if a.shape != e:
                    raise ConfigError(f"{path.name}: {n} has shape {tuple(a.shape)}, expected {e} (layer {k} of "
                                      f"a {label} with H = {H})")
            n_in = Wi.shape[1]
            dtypes.update(a.dtype for a in arr)
            dirs[d] = to_rnnlab(Wi, Wh, arr[2] if has_bias else None, arr[3] if has_bias else None, perm,
                                reset_after)
        layers.append(Layer(n_in, H, dirs, has_bias))
    readouts = []
    for name, a in sorted(tensors.items()):
        if name.startswith(P) or name in used or not name.endswith("weight") or a.ndim != 2 or a.dtype.kind != "f":
            continue
        stem = name[: -len("weight")]
        b = tensors.get(stem + "bias")
        if b is not None and (b.ndim != 1 or b.shape[0] != a.shape[0] or b.dtype.kind != "f"):
            b = None
        readouts.append(Readout(stem.rstrip(".") or name, a, b))
    kind = f"{origin} {label} state_dict"
    dtype = max(dtypes, key=lambda t: t.itemsize) if dtypes else np.dtype(np.float32)
    model = ImportedModel(path, kind, arch, activation, reset_after, layers, readouts,
                          np.dtype(dtype))
    originals = {k: np.asarray(v) for k, v in tensors.items()}

    def writer(m, layer, direction, params, readout, readout_params):
        out = dict(originals)
        sfx = "_reverse" if direction == "backward" else ""
        names = {"ih": f"{P}weight_ih_l{layer}{sfx}", "hh": f"{P}weight_hh_l{layer}{sfx}",
                 "bih": f"{P}bias_ih_l{layer}{sfx}", "bhh": f"{P}bias_hh_l{layer}{sfx}"}
        Wi, Wh, bi, bh = from_rnnlab(params, originals.get(names["bhh"]), perm, reset_after, has_bias)
        for key, val in (("ih", Wi), ("hh", Wh), ("bih", bi), ("bhh", bh)):
            if val is not None:
                out[names[key]] = val.astype(originals[names[key]].dtype)
        if readout is not None and readout_params is not None:
            w_name = f"{readout.name}.weight" if f"{readout.name}.weight" in originals else readout.name
            out[w_name] = np.asarray(readout_params["W_yh"]).astype(originals[w_name].dtype)
            b_name = f"{readout.name}.bias"
            if readout.b is not None and b_name in originals:
                out[b_name] = np.asarray(readout_params["b_y"]).astype(originals[b_name].dtype)
        return out

    model.writer = writer
    return model
