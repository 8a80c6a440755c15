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
b_hn      (H,)         GRU with ``model.gru_reset_after`` only: the candidate's recurrent bias
========  ===========  ===========================================================================

The output is a softmax over O classes (classification, cross-entropy loss) or linear (regression, squared
error). An ESN has the same parameters as a leaky network, but only W_yh and b_y are trainable. Cells may add
parameters of their own (documented in their files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cells import Cell, get_cell
from .init import sigma_max, spectral_radius
from .workspace import Workspace

__all__ = ["Network", "build_network", "READOUT_PARAMS"]

#: the readout's parameters (every network has them, and they always learn)
READOUT_PARAMS = ("W_yh", "b_y")


@dataclass
class Network:
    """A cell, its parameters and a readout.

    Attributes
    ----------
    cell : Cell
        Owns the parameter layout and the maths; its class attributes declare its capabilities.
    params : dict[str, ndarray]
        See the module docstring for names and shapes.
    output : {"softmax", "linear"}
    frozen : tuple of str
        Parameters that never learn although the cell's would (an imported model's biases that its file does not
        have: they stay zero, so the weights can be written back in the file's layout).
    workspace : Workspace
        The buffers of the forward and backward passes, reused from call to call (see
        :mod:`rnnlab.core.workspace`); every network has its own, a copy starts with an empty one.
    """

    cell: Cell
    params: dict[str, np.ndarray]
    output: str
    frozen: tuple[str, ...] = ()
    workspace: Workspace = field(default_factory=Workspace, repr=False, compare=False)

    @property
    def arch(self) -> str:
        """The cell's registry name (``model.arch``)."""
        return self.cell.name

    @property
    def trainable(self) -> tuple[str, ...]:
        """Names of the parameters that learn: the cell's trainable ones and the readout, less the frozen."""
        return tuple(k for k in tuple(self.cell.trainable) + READOUT_PARAMS if k not in self.frozen)

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
        return self.params["W_yh"].dtype

    @property
    def gamma(self) -> float:
        """The bound γ on |f'| of the recurrent nonlinearity."""
        return self.cell.act.gamma

    def recurrent_matrix(self) -> np.ndarray:
        """The (H, H) matrix whose spectrum is reported (:meth:`Cell.recurrent_matrix`)."""
        return self.cell.recurrent_matrix(self.params)

    def spectral_radius(self) -> float:
        """ρ of :meth:`recurrent_matrix`."""
        return spectral_radius(self.recurrent_matrix())

    def sigma_max(self) -> float:
        """σ_max of :meth:`recurrent_matrix`."""
        return sigma_max(self.recurrent_matrix())

    def copy(self) -> "Network":
        """A deep copy (parameters copied; the cell object is stateless and shared)."""
        return Network(self.cell, {k: v.copy() for k, v in self.params.items()}, self.output, self.frozen)

    def astype(self, dtype) -> "Network":
        return Network(self.cell, {k: v.astype(dtype) for k, v in self.params.items()}, self.output, self.frozen)


def build_network(model, n_in: int, n_out: int, output: str, rng: np.random.Generator) -> Network:
    """Draw a network from a :class:`~rnnlab.config.ModelConfig`.

    Parameters
    ----------
    model : ModelConfig
        ``model.arch`` picks the cell (:data:`rnnlab.core.cells.CELLS`), ``model.activation`` its nonlinearity,
        ``model.hidden_size`` H; the cell draws its own parameters (:meth:`Cell.init_params`); then the readout
        W_yh ~ N(0, output_scale²) entries, b_y = 0; then the cell's fixed parameters (:meth:`Cell.init_fixed`);
        everything in ``model.dtype``.
    n_in, n_out : int
        I and O (the task decides them).
    output : {"softmax", "linear"}
    rng : numpy Generator
        Every random draw comes from it, in a fixed order, so a seed gives the same network.
    """
    if output not in ("softmax", "linear"):
        raise ValueError(f"output must be 'softmax' or 'linear', got {output!r}")
    cell = get_cell(model.arch).from_model(model, n_in)
    p = cell.init_params(model, rng)
    p["W_yh"] = rng.standard_normal((n_out, model.hidden_size)) * model.output_scale
    p["b_y"] = np.zeros(n_out)
    p.update(cell.init_fixed(model, rng))
    dtype = np.dtype(model.dtype)
    p = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in p.items()}
    return Network(cell, p, output)
