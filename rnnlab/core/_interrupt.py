"""Checkpoints in the long loops of the numeric core, where a caller may follow progress or abandon the work.

The loops over time steps (the forward and backward passes, the ∂h_t/∂h_k sweeps, the Lyapunov iteration) call
:func:`checkpoint` once per step. Nothing happens unless a caller installed a hook for the current thread with
:func:`hooked`; the hook may record progress, or raise :class:`Interrupted` to abandon the computation (the app's
engine does so when a Reset, a new experiment or Stop arrives, so that it answers within a step instead of after a
whole diagnostic). No state of the caller changes before a computation finishes, so abandoning one is safe.
Cost when no hook is set: one context-variable lookup per time step.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

__all__ = ["Interrupted", "checkpoint", "hooked"]

_HOOK: ContextVar[Callable[[], None] | None] = ContextVar("rnnlab_core_hook", default=None)


class Interrupted(Exception):
    """Raised by a hook to abandon the computation in progress."""


def checkpoint() -> None:
    """Call the hook of this thread, if any (it may raise :class:`Interrupted`)."""
    hook = _HOOK.get()
    if hook is not None:
        hook()


@contextmanager
def hooked(hook: Callable[[], None] | None, chain: bool = True) -> Iterator[None]:
    """Install ``hook`` for the computations of this thread inside the block (None: none). With ``chain`` a hook
    already installed by an outer caller is called first (so a progress report inside keeps an outer
    cancellation working)."""
    outer = _HOOK.get() if chain else None
    if outer is not None and hook is not None:
        inner = hook

        def hook() -> None:
            outer()
            inner()

    elif outer is not None:
        hook = outer
    token = _HOOK.set(hook)
    try:
        yield
    finally:
        _HOOK.reset(token)
