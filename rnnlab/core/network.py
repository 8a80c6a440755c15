"""A recurrent network: a cell, its parameters and a readout, built from a :class:`~rnnlab.config.ModelConfig`.

Parameter names (the same for every architecture; G = H, 4H or 3H is the width of the input projection):

========  ===========  ===========================================================================
name      shape        meaning
========  ===========  ===========================================================================
W_hx      (G, I)       input weights
W_hh      (G, H)       recurrent weights (LSTM: blocks i, f, g, o; GRU: blocks z, r, n)
b_h       (G,)         recurrent bias (LSTM forget-gate block starts at +1)
W_yh      (O, H)       readout weights, y_t = W_yh h_t + b_y
b_y       (O,)         readout bias
alpha     (H,)         leaky / ESN only: per-unit retention α (fixed, not trained)
========  ===========  ===========================================================================

The output is a softmax over O classes (classification, cross-entropy loss) or linear (regression, squared
error). An ESN has the same parameters as a leaky network, but only W_yh and b_y are trainable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .cells import CELLS, Cell
from .init import init_recurrent, sigma_max, spectral_radius

__all__ = ["Network", "build_network"]


@dataclass
class Network:
    """A cell, its parameters and a readout.

    Attributes
    ----------
    arch : str
        ``rnn``, ``leaky``, ``lstm``, ``gru`` or ``esn``.
    cell : Cell
    params : dict[str, ndarray]
        See the module docstring for names and shapes.
    output : {"softmax", "linear"}
    trainable : tuple[str, ...]
        Names of the parameters that learn.
    """

    arch: str
    cell: Cell
    params: dict[str, np.ndarray]
    output: str
    trainable: tuple[str, ...]

    @property
    def n_in(self) -> int:
        return self.cell.n_in

    @property
    def n_hidden(self) -> int:
        return self.cell.n_hidden

    @property
    def n_out(self) -> int:
        return self.params["W_yh"].shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.params["W_hh"].dtype

    @property
    def gamma(self) -> float:
        """The bound γ on |f'| of the recurrent nonlinearity."""
        return self.cell.act.gamma

    def recurrent_matrix(self) -> np.ndarray:
        """The (H, H) matrix whose spectrum is reported: W_hh itself, or its candidate block for LSTM/GRU."""
        return self.cell.candidate_block(self.params["W_hh"])

    def spectral_radius(self) -> float:
        """ρ of :meth:`recurrent_matrix`."""
        return spectral_radius(self.recurrent_matrix())

    def sigma_max(self) -> float:
        """σ_max of :meth:`recurrent_matrix`."""
        return sigma_max(self.recurrent_matrix())

    def copy(self) -> "Network":
        """A deep copy (parameters copied; the cell object is stateless and shared)."""
        return Network(self.arch, self.cell, {k: v.copy() for k, v in self.params.items()}, self.output,
                       self.trainable)

    def astype(self, dtype) -> "Network":
        return Network(self.arch, self.cell, {k: v.astype(dtype) for k, v in self.params.items()}, self.output,
                       self.trainable)


def build_network(model, n_in: int, n_out: int, output: str, rng: np.random.Generator) -> Network:
    """Draw a network from a :class:`~rnnlab.config.ModelConfig`.

    Parameters
    ----------
    model : ModelConfig
        Uses arch, activation, hidden_size, init, spectral_radius, sparse_k, input_scale, output_scale,
        leak_min, leak_max and dtype.
    n_in, n_out : int
        I and O (the task decides them).
    output : {"softmax", "linear"}
    rng : numpy Generator
        Every random draw comes from it, in a fixed order, so a seed gives the same network.
    """
    if output not in ("softmax", "linear"):
        raise ValueError(f"output must be 'softmax' or 'linear', got {output!r}")
    act = get_activation(model.activation)
    H = model.hidden_size
    cell = CELLS[model.arch](n_in, H, act)
    G = cell.gate_size
    p: dict[str, np.ndarray] = {}
    p["W_hx"] = rng.standard_normal((G, n_in)) * model.input_scale
    blocks = [init_recurrent(rng, H, model.init, model.spectral_radius, model.sparse_k) for _ in range(G // H)]
    p["W_hh"] = np.concatenate(blocks, axis=0)
    p["b_h"] = np.zeros(G)
    if model.arch == "lstm":
        p["b_h"][H : 2 * H] = 1.0
    p["W_yh"] = rng.standard_normal((n_out, H)) * model.output_scale
    p["b_y"] = np.zeros(n_out)
    if model.arch in ("leaky", "esn"):
        p["alpha"] = rng.uniform(model.leak_min, model.leak_max, H) if model.leak_max > model.leak_min \
            else np.full(H, model.leak_min)
    dtype = np.dtype(model.dtype)
    p = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in p.items()}
    trainable = ("W_yh", "b_y") if model.arch == "esn" else ("W_hx", "W_hh", "b_h", "W_yh", "b_y")
    return Network(model.arch, cell, p, output, trainable)
