"""Activation functions f, their derivatives f' and the bound γ = sup |f'|.

The bound γ is the one in the seeds' inequality ‖∂h_j/∂h_{j−1}‖ ≤ ‖diag(f'(a_j))‖·‖W_hh‖ ≤ γ·σ_max(W_hh),
so ‖∂h_t/∂h_k‖ ≤ (γ·σ_max)^(t−k): γ = 1 for tanh, 1/4 for the logistic sigmoid, 1 for ReLU and for the identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "sigmoid"]


def sigmoid(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic σ(a) = 1 / (1 + e^(−a)), computed as (1 + tanh(a/2)) / 2 so it never overflows."""
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _tanh(a, out=None):
    return np.tanh(a, out=out)


def _tanh_d(a, h, out=None):
    out = np.multiply(h, h, out=out)
    np.subtract(1.0, out, out=out)
    return out


def _sig_d(a, h, out=None):
    out = np.subtract(1.0, h, out=out)
    out *= h
    return out


def _relu(a, out=None):
    return np.maximum(a, 0.0, out=out)


def _relu_d(a, h, out=None):
    if out is None:
        return (a > 0).astype(a.dtype)
    np.greater(a, 0, out=out)
    return out


def _lin(a, out=None):
    if out is None:
        return a.copy()
    np.copyto(out, a)
    return out


def _lin_d(a, h, out=None):
    if out is None:
        return np.ones_like(a)
    out.fill(1.0)
    return out


@dataclass(frozen=True)
class Activation:
    """An elementwise nonlinearity.

    Attributes
    ----------
    name : str
    f : callable ``f(a, out=None) -> h``
    df : callable ``df(a, h, out=None) -> f'(a)``; takes both the pre-activation ``a`` and ``h = f(a)`` (tanh and
        sigmoid derivatives are cheapest from ``h``, ReLU's from ``a``); ``out`` avoids a temporary.
    gamma : float
        sup_a |f'(a)|.
    """

    name: str
    f: Callable[..., np.ndarray]
    df: Callable[..., np.ndarray]
    gamma: float


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", _tanh, _tanh_d, 1.0),
    "sigmoid": Activation("sigmoid", sigmoid, _sig_d, 0.25),
    "relu": Activation("relu", _relu, _relu_d, 1.0),
    "linear": Activation("linear", _lin, _lin_d, 1.0),
}


def get_activation(name: str) -> Activation:
    """The :class:`Activation` called ``name`` (``tanh``, ``sigmoid``, ``relu``, ``linear``)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}") from None
