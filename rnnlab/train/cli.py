"""TEMPORARY (issue 9): ``rnnlab.gui.engine`` still imports ``write_run`` from here; the writers now live in
:mod:`rnnlab.train.outputs`. Delete this file once gui/engine.py (moving to train/session.py) imports
``from ..train.outputs import write_run`` (or ``from .outputs import write_run`` inside train/)."""

from .outputs import write_run

__all__ = ["write_run"]
