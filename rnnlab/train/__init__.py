"""Learning on top of :mod:`rnnlab.core`: tasks, losses, optimisers, remedies and the trainer (NumPy only)."""
