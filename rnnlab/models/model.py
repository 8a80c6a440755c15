"""A trained recurrent network read from a file, in rnnlab's own terms.

An :class:`ImportedModel` is a stack of recurrent layers, each with one or two directions, whose parameters are
already mapped into rnnlab's layout (``W_hx``, ``W_hh``, ``b_h`` and, for the reset-after GRU, ``b_hn``; see
:mod:`rnnlab.core.network`), plus the readouts the file holds and the way back to the file's own names and layout
(:meth:`ImportedModel.export`).

One layer and one direction are diagnosed at a time (:meth:`ImportedModel.network`): that layer becomes a
:class:`~rnnlab.core.network.Network` of rnnlab's own cell, and the layers below it run as a fixed front end
(:meth:`ImportedModel.front_end`) whose output, the exact input of the chosen layer, is what the network sees. A
backward direction reads its input in reverse, so its network's time runs from the last step to the first.

The conventions of the formats (which block is which gate, how the two biases add up) are the tables at the top
of this module; :mod:`.torch_state` and :mod:`.onnx_model` use them in both directions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import ConfigError, ModelConfig
from ..core.bptt import forward
from ..core.cells import get_cell
from ..core.network import Network

__all__ = ["ImportedModel", "Layer", "Readout", "TORCH_BLOCKS", "ONNX_BLOCKS", "to_rnnlab", "from_rnnlab",
           "DIRECTIONS"]

DIRECTIONS = ("forward", "backward")

#: rnnlab's gate block j is the file's block ``perm[j]`` (rnnlab: LSTM i, f, g, o; GRU z, r, n)
#: PyTorch: LSTM i, f, g, o; GRU r, z, n
TORCH_BLOCKS = {"rnn": (0,), "lstm": (0, 1, 2, 3), "gru": (1, 0, 2)}
#: ONNX: LSTM i, o, f, c; GRU z, r, h
ONNX_BLOCKS = {"rnn": (0,), "lstm": (0, 2, 3, 1), "gru": (0, 1, 2)}


def _blocks(a: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """Reorder the len(perm) equal blocks of axis 0: block j of the result is block perm[j] of ``a``."""
    H = a.shape[0] // len(perm)
    return np.concatenate([a[p * H : (p + 1) * H] for p in perm], axis=0)


def _unblocks(a: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    inv = tuple(int(i) for i in np.argsort(perm))
    return _blocks(a, inv)


def to_rnnlab(W_in: np.ndarray, W_rec: np.ndarray, b_in: np.ndarray | None, b_rec: np.ndarray | None,
              perm: tuple[int, ...], reset_after: bool) -> dict[str, np.ndarray]:
    """rnnlab's parameters from a layer with an input and a recurrent bias (PyTorch's ``bias_ih``/``bias_hh``,
    ONNX's ``Wb``/``Rb``), in float64.

    The biases add up (b_h = b_in + b_rec) except, for the reset-after GRU, the candidate's recurrent bias, which
    acts inside the reset and becomes ``b_hn``.
    """
    G, H = W_rec.shape
    f = lambda a: _blocks(np.asarray(a, dtype=np.float64), perm)  # noqa: E731
    bi = f(b_in) if b_in is not None else np.zeros(G)
    br = f(b_rec) if b_rec is not None else np.zeros(G)
    p = {"W_hx": f(W_in), "W_hh": f(W_rec)}
    if reset_after:
        p["b_h"] = bi + np.concatenate([br[: G - H], np.zeros(H)])
        p["b_hn"] = br[G - H :].copy()
    else:
        p["b_h"] = bi + br
    return p


def from_rnnlab(p: dict, b_rec_old: np.ndarray | None, perm: tuple[int, ...], reset_after: bool,
                has_bias: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The inverse of :func:`to_rnnlab`: ``(W_in, W_rec, b_in, b_rec)`` in the file's block order (float64).

    The split of b_h into two biases is not unique: the file's recurrent bias keeps its old value (the candidate's
    becomes ``b_hn`` for the reset-after GRU) and the input bias takes the rest, so that the sum, which is all the
    network computes with, is exactly rnnlab's.
    """
    W_in = _unblocks(np.asarray(p["W_hx"], dtype=np.float64), perm)
    W_rec = _unblocks(np.asarray(p["W_hh"], dtype=np.float64), perm)
    if not has_bias:
        return W_in, W_rec, None, None
    G, H = p["W_hh"].shape
    br = _blocks(np.asarray(b_rec_old, dtype=np.float64), perm) if b_rec_old is not None else np.zeros(G)
    if reset_after:
        br = np.concatenate([br[: G - H], np.asarray(p["b_hn"], dtype=np.float64)])
        bi = np.asarray(p["b_h"], dtype=np.float64) - np.concatenate([br[: G - H], np.zeros(H)])
    else:
        bi = np.asarray(p["b_h"], dtype=np.float64) - br
    return W_in, W_rec, _unblocks(bi, perm), _unblocks(br, perm)


@dataclass
class Layer:
    """One recurrent layer: I inputs (the model's input, or the directions of the layer below side by side,
    forward first), H units, and the parameters of each of its directions in rnnlab's layout (float64)."""

    n_in: int
    n_hidden: int
    directions: dict[str, dict[str, np.ndarray]]
    has_bias: bool = True


@dataclass
class Readout:
    """A linear map y = W h + b the file holds (``W`` (O, H_in), ``b`` (O,) or None), under its file name."""

    name: str
    W: np.ndarray
    b: np.ndarray | None


@dataclass
class ImportedModel:
    """A recurrent network read from ``path`` (see the module docstring).

    Attributes
    ----------
    kind : str
        What the file called it, for a person ("PyTorch nn.LSTM state_dict", "ONNX GRU", "rnnlab state").
    arch : str
        The rnnlab cell (a key of :data:`rnnlab.core.cells.CELLS`).
    activation : str or None
        The recurrent nonlinearity the file records; None where it does not (a PyTorch ``nn.RNN`` state_dict
        holds no trace of ``nonlinearity``: ``model.activation`` says it).
    reset_after : bool
        A GRU that applies the reset gate after the recurrent product (``model.gru_reset_after``).
    dtype : numpy dtype
        The floating-point type of the file's weights.
    writer : callable or None
        ``writer(model, layer, direction, params, readout_params) -> {name: array}``: the file's tensors, every one
        under its own name and layout, with that layer's and the readout's replaced (:meth:`export`).
    experiment, probe :
        For rnnlab's own files: the stored experiment and its probe batch ``(x, y, mask)``.
    """

    path: Path
    kind: str
    arch: str
    activation: str | None
    reset_after: bool
    layers: list[Layer]
    readouts: list[Readout] = field(default_factory=list)
    dtype: np.dtype = np.dtype(np.float64)
    writer: Callable | None = None
    experiment: object = None
    probe: tuple | None = None

    # --- what is in it ------------------------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        """The model's input width (of layer 0)."""
        return self.layers[0].n_in

    def directions(self, layer: int) -> tuple[str, ...]:
        return tuple(self.layers[layer].directions)

    def summary(self) -> str:
        """One line for a person: kind, layers, directions, sizes, readout."""
        L = self.layers
        dirs = "bidirectional" if len(L[0].directions) == 2 else next(iter(L[0].directions))
        sizes = ", ".join(str(layer.n_hidden) for layer in L)
        ro = (", readout " + ", ".join(f"{r.name} ({r.W.shape[1]} → {r.W.shape[0]})" for r in self.readouts)
              if self.readouts else ", no readout")
        return (f"{self.kind}: {len(L)} layer{'s' if len(L) > 1 else ''} ({dirs}), {L[0].n_in} inputs, "
                f"H = {sizes}{ro}")

    def check_choice(self, layer: int, direction: str) -> Layer:
        """The layer, after checking that ``layer`` and ``direction`` exist (a ConfigError names the choices)."""
        n = len(self.layers)
        if not 0 <= layer < n:
            raise ConfigError(f"model.source_layer = {layer}: {self.path.name} has {n} recurrent layer"
                              f"{'s' if n > 1 else ''} (0 … {n - 1})")
        dirs = self.directions(layer)
        if direction not in dirs:
            raise ConfigError(f"model.source_direction = {direction!r}: layer {layer} of {self.path.name} runs "
                              f"{' and '.join(dirs)} only")
        return self.layers[layer]

    def readout_for(self, layer: int, direction: str, name: str = "") -> tuple[Readout | None, str]:
        """The readout used on ``layer``/``direction`` and, when none is, a sentence saying why.

        A readout is used when the file holds one whose input size is the layer's H, the layer is the last and
        runs in one direction (a readout reads the top layer's output): the one named ``name`` or, unnamed, the
        only such one. A name that does not exist, or does not fit, is an error.
        """
        lay = self.layers[layer]
        H = lay.n_hidden
        named = None
        if name:
            named = [r for r in self.readouts if r.name == name or r.name.removesuffix(".weight") == name
                     or name.removesuffix(".weight") == r.name]
            if not named:
                have = ", ".join(r.name for r in self.readouts) or "none"
                raise ConfigError(f"model.source_readout = {name!r}: {self.path.name} holds no such linear layer "
                                  f"(readouts: {have})")
            r = named[0]
            if r.W.shape[1] != H:
                raise ConfigError(f"model.source_readout = {name!r}: {r.name} takes {r.W.shape[1]} inputs, layer "
                                  f"{layer} has H = {H}")
        if layer != len(self.layers) - 1:
            return None, (f"no readout: layer {layer} is not the last layer, and a readout reads the last one; "
                          f"the loss-based views need one")
        if len(lay.directions) > 1:
            return None, ("no readout: the last layer is bidirectional, so a readout reads both directions "
                          f"(2H = {2 * H} inputs); the loss-based views need one on a single direction")
        if named:
            return named[0], ""
        fit = [r for r in self.readouts if r.W.shape[1] == H]
        if len(fit) == 1:
            return fit[0], ""
        if not fit:
            return None, (f"no readout: {self.path.name} holds no linear layer with H = {H} inputs after the "
                          f"recurrent layers; the loss-based views need one")
        return None, (f"no readout chosen: {', '.join(r.name for r in fit)} all take H = {H} inputs; name one "
                      f"with model.source_readout (--readout NAME)")

    # --- in rnnlab ----------------------------------------------------------------------------------------------
    def model_config(self, model: ModelConfig, layer: int) -> ModelConfig:
        """``model`` with the cell, size and GRU variant of ``layer`` (the activation stays ``model``'s when the
        file does not record one)."""
        return dataclasses.replace(model, arch=self.arch, hidden_size=self.layers[layer].n_hidden,
                                   activation=self.activation or model.activation, gru_reset_after=self.reset_after)

    def _net(self, model: ModelConfig, layer: int, direction: str, dtype) -> Network:
        lay = self.layers[layer]
        cell = get_cell(self.arch).from_model(self.model_config(model, layer), lay.n_in)
        p = {k: np.array(v, dtype=dtype, order="C", copy=True) for k, v in lay.directions[direction].items()}
        p["W_yh"] = np.zeros((0, lay.n_hidden), dtype=dtype)
        p["b_y"] = np.zeros(0, dtype=dtype)
        return Network(cell, p, "linear")

    def network(self, model: ModelConfig, layer: int, direction: str, readout: Readout | None, output: str,
                dtype=np.float64) -> Network:
        """The chosen layer and direction as a :class:`Network` of rnnlab's cell, with ``readout`` (or none: a
        readout of no outputs) and parameters in ``dtype``. Parameters the file does not have (biases of a layer
        or readout without them) stay zero and are frozen."""
        self.check_choice(layer, direction)
        net = self._net(model, layer, direction, dtype)
        frozen: list[str] = []
        if not self.layers[layer].has_bias:
            frozen += [k for k in ("b_h", "b_hn") if k in net.params]
        if readout is not None:
            net.params["W_yh"] = np.array(readout.W, dtype=dtype, order="C", copy=True)
            b = readout.b if readout.b is not None else np.zeros(readout.W.shape[0])
            net.params["b_y"] = np.array(b, dtype=dtype, order="C", copy=True)
            if readout.b is None:
                frozen.append("b_y")
        return Network(net.cell, net.params, output, frozen=tuple(frozen))

    def front_end(self, model: ModelConfig, layer: int, direction: str, dtype=np.float64) -> Callable:
        """``f(x) -> u``: the input (T, B, I_layer) of ``layer`` for model inputs x (T, B, I), computed exactly by
        the layers below it (each direction a network of rnnlab's cell, outputs side by side, forward first),
        reversed in time for the backward direction."""
        self.check_choice(layer, direction)
        below = [[(d, self._net(model, k, d, dtype)) for d in DIRECTIONS if d in self.layers[k].directions]
                 for k in range(layer)]
        n_in = self.n_in
        name = self.path.name

        def run(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x, dtype=dtype)
            if x.ndim != 3 or x.shape[2] != n_in:
                raise ConfigError(f"{name} takes {n_in} input features per step, the data has "
                                  f"{x.shape[2] if x.ndim == 3 else x.shape}")
            u = x
            for nets in below:
                outs = []
                for d, net in nets:
                    seq = u[::-1] if d == "backward" else u
                    h = forward(net, seq).hidden(net)
                    outs.append(h[::-1] if d == "backward" else h)
                u = np.ascontiguousarray(np.concatenate(outs, axis=-1))
            return np.ascontiguousarray(u[::-1]) if direction == "backward" else u

        return run

    def export(self, layer: int, direction: str, params: dict, readout: Readout | None,
               readout_params: dict | None) -> dict[str, np.ndarray]:
        """Every tensor of the file under its own name, layout and dtype, with the chosen layer's parameters and
        the readout's replaced by ``params`` and ``readout_params`` (rnnlab's names)."""
        if self.writer is None:  # pragma: no cover - every reader sets one
            raise ConfigError(f"{self.path.name}: rnnlab cannot write this model back")
        return self.writer(self, layer, direction, params, readout, readout_params)

