"""Shared helpers for the core tests: small networks and central finite differences."""

from __future__ import annotations

import numpy as np

from rnnlab.config import ModelConfig, key_field
from rnnlab.core import bptt
from rnnlab.core.activations import ACTIVATIONS
from rnnlab.core.cells import CELLS
from rnnlab.core.network import build_network

def _variants() -> tuple[str, ...]:
    """Every registered cell, and each cell once more with each of its true/false settings switched on
    (``"gru:gru_reset_after"``): a variant of a cell is gradient-checked by being declared in its ``settings``."""
    out = []
    for name, cell in CELLS.items():
        out.append(name)
        for key in cell.settings:
            if key_field(key).type in (bool, "bool"):
                out.append(f"{name}:{key.partition('.')[2]}")
    return tuple(out)


#: every registered cell (and cell variant) and activation: a cell is gradient-checked by being registered
ARCHS = _variants()
ACTS = tuple(ACTIVATIONS)


def small_net(arch="rnn", act="tanh", H=5, I=3, O=2, output="linear", seed=0, radius=1.1, init="gaussian",
              dtype="float64"):
    """A small network; ``arch`` is a cell name or a variant ``"cell:flag"`` (that true/false model setting on)."""
    name, *flags = arch.split(":")
    cfg = ModelConfig(arch=name, activation=act, hidden_size=H, init=init, spectral_radius=radius,
                      input_scale=0.8, output_scale=0.8, dtype=dtype, **{f: True for f in flags})
    net = build_network(cfg, I, O, output, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 100)
    # non-zero biases so that every term of the gradient is exercised
    net.params["b_h"] += 0.1 * rng.standard_normal(net.params["b_h"].shape)
    net.params["b_y"] += 0.1 * rng.standard_normal(net.params["b_y"].shape)
    for extra in getattr(net.cell, "extra_params", ()):
        if extra in net.params:
            net.params[extra] += 0.1 * rng.standard_normal(net.params[extra].shape)
    return net


def grad_names(net):
    """The parameters that get a gradient: all but the fixed α and the derived ones (the orthogonal cell's W_hh)."""
    return [n for n in net.params if n != "alpha" and n not in net.cell.derived_params]


def batch(net, T=7, B=3, seed=1, every=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, net.n_in))
    mask = np.ones((T, B)) if every else np.zeros((T, B))
    if not every:
        mask[-1] = 1.0
    if net.output == "linear":
        y = rng.standard_normal((T, B, net.n_out))
    else:
        y = rng.integers(0, net.n_out, (T, B))
    return x, y, mask


def numeric_grad(f, params, names, eps=1e-6):
    """Central differences of the scalar f() with respect to every entry of params[name]."""
    out = {}
    for name in names:
        P = params[name]
        g = np.zeros_like(P)
        it = np.nditer(P, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            old = P[i]
            P[i] = old + eps
            fp = f()
            P[i] = old - eps
            fm = f()
            P[i] = old
            g[i] = (fp - fm) / (2 * eps)
        out[name] = g
    return out


def rel_err(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def loss_of(net, x, y, mask, feedback=None):
    tr = bptt.forward(net, x, feedback)
    return bptt.loss_and_dz(net, tr.z, y, mask)[0]


def assert_grads_close(analytic, numeric, names, tol=1e-6, noise=1e-9):
    """Relative error of the whole gradient < tol, and of each parameter < tol up to the finite-difference
    noise floor (central differences with h = 1e-6 on an O(1) loss carry an absolute error near 1e-10)."""
    a = np.concatenate([analytic[n].ravel() for n in names])
    b = np.concatenate([numeric[n].ravel() for n in names])
    assert rel_err(a, b) < tol, rel_err(a, b)
    for n in names:
        diff = np.linalg.norm(analytic[n] - numeric[n])
        assert diff <= tol * (np.linalg.norm(analytic[n]) + np.linalg.norm(numeric[n])) + noise, (n, diff)
