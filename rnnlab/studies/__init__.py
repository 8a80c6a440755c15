"""Headless studies built on the training code (NumPy only, no Qt): parameter sweeps (:mod:`.sweep`), two runs
compared (:mod:`.compare`), a network inspected on a probe batch (:mod:`.inspect`) and speed figures
(:mod:`.bench`). The CLI and the app both use them; nothing here imports :mod:`rnnlab.gui` or :mod:`rnnlab.cli`.
"""
