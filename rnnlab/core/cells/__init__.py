"""Recurrent cells, one file each, and their registry.

``CELLS`` maps the value of ``model.arch`` to the cell class. Everything else in rnnlab (network building, the
trainer, the gradient and heatmap tests, the panels) iterates this registry or asks a cell's declarations.
"""

from .antisymmetric import AntisymmetricCell
from .base import Cache, Cell
from .exprnn import ExpRNNCell
from .gru import GRUCell
from .indrnn import IndRNNCell
from .leaky import ESNCell, LeakyCell
from .lru import LRUCell
from .lstm import LSTMCell
from .rnn import VanillaCell

__all__ = ["Cache", "Cell", "VanillaCell", "LeakyCell", "ESNCell", "LSTMCell", "GRUCell", "IndRNNCell", "ExpRNNCell", "AntisymmetricCell", "LRUCell",
           "CELLS", "get_cell"]

#: model.arch -> cell class
CELLS: dict[str, type[Cell]] = {c.name: c for c in (VanillaCell, LeakyCell, LSTMCell, GRUCell, ESNCell, IndRNNCell,
                                                    ExpRNNCell, AntisymmetricCell, LRUCell)}


def get_cell(name: str) -> type[Cell]:
    """The cell class registered as ``name`` (a ValueError lists the valid names)."""
    try:
        return CELLS[name]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}: expected one of {', '.join(CELLS)}") from None
