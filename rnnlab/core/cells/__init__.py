"""Recurrent cells: vanilla (Elman), leaky integrator (also the ESN reservoir), LSTM and GRU."""

from .base import Cache, Cell
from .gru import GRUCell
from .lstm import LSTMCell
from .rnn import LeakyCell, VanillaCell

__all__ = ["Cache", "Cell", "VanillaCell", "LeakyCell", "LSTMCell", "GRUCell", "CELLS"]

#: architecture name -> cell class (an ESN uses the leaky cell with a fixed reservoir)
CELLS = {"rnn": VanillaCell, "leaky": LeakyCell, "esn": LeakyCell, "lstm": LSTMCell, "gru": GRUCell}
