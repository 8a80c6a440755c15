"""Guided lessons (no Qt): transitional re-export while lessons.py is split into this package."""

from .tex import *  # noqa: F401,F403
from .tex import __all__, known_commands  # noqa: F401
