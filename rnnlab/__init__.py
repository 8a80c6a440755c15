"""rnnlab: a laboratory for seeing why recurrent networks are hard to train."""

__version__ = "0.1.0"
