"""Forward-mode tangents of one step (Cell.jvp) against central finite differences of the step map, for every
registered cell and activation: the state direction and the recurrent parameters' directions together."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core import forward
from rnnlab.core.cells import CELLS, Cell

from .helpers import ACTS, ARCHS, batch, small_net

# every test here runs on the pure-NumPy path and through the compiled kernels (tests/core/conftest.py)
pytestmark = pytest.mark.usefixtures("core_path")


def random_tangents(net, rng, n=None):
    """A random direction of every recurrent parameter: the parameter's shape, or (n, *shape)."""
    lead = () if n is None else (n,)
    return {k: rng.standard_normal(lead + net.params[k].shape) for k in net.cell.recurrent_params}


def fd_step(net, trace, t, b, ds, dp, eps=1e-6):
    """Central difference of s_t(s_{t−1} + ε ṡ, θ_rec + ε θ̇) for sequence b, by the cell's own step on a fresh
    cache (nothing recorded by the forward pass is reused but the state s_{t−1} and the input)."""
    cell = net.cell
    outs = []
    for sgn in (1.0, -1.0):
        p = dict(net.params)
        for k, v in dp.items():
            p[k] = net.params[k] + sgn * eps * v
        c = cell.new_cache(1, 1, np.float64)
        c["S"][0, 0] = trace.cache["S"][t, b] + sgn * eps * ds
        U = cell.input_proj(p, trace.x[t : t + 1, b : b + 1])
        cell.step(p, 0, U[0], c)
        outs.append(c["S"][1, 0].copy())
    return (outs[0] - outs[1]) / (2 * eps)


def test_every_registered_cell_implements_jvp():
    missing = [name for name, cls in CELLS.items() if cls.jvp is Cell.jvp]
    assert not missing, missing
    for name, cls in CELLS.items():
        assert cls.recurrent_params, name


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("act", ACTS)
def test_jvp_matches_finite_differences(arch, act):
    net = small_net(arch, act, H=5, seed=3)
    x, _, _ = batch(net, T=6, B=3)
    tr = forward(net, x)
    S = net.cell.state_size
    rng = np.random.default_rng(11)
    # (not t = 1: there an LSTM with ReLU can have c_t = 0 exactly, where φ = ReLU has no derivative)
    for t in (3, 4, 5):
        # one direction for the whole batch (b = None)
        ds = rng.standard_normal((3, S))
        dp = random_tangents(net, rng)
        got = net.cell.jvp(net.params, dp, ds, tr.cache, t)
        assert got.shape == (3, S)
        for b in range(3):
            np.testing.assert_allclose(got[b], fd_step(net, tr, t, b, ds[b], dp), rtol=1e-6, atol=1e-8)
        # N directions along one sequence (b given)
        ds = rng.standard_normal((4, S))
        dpn = random_tangents(net, rng, n=4)
        got = net.cell.jvp(net.params, dpn, ds, tr.cache, t, 2)
        assert got.shape == (4, S)
        for n in range(4):
            want = fd_step(net, tr, t, 2, ds[n], {k: v[n] for k, v in dpn.items()})
            np.testing.assert_allclose(got[n], want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("arch", ARCHS)
def test_jvp_is_the_transpose_of_vjp_on_the_state(arch):
    """⟨w, J v⟩ = ⟨w J, v⟩ with no parameter tangent: the two products see the same step Jacobian."""
    net = small_net(arch, "tanh", H=4, seed=1)
    x, _, _ = batch(net, T=5, B=2)
    tr = forward(net, x)
    S = net.cell.state_size
    rng = np.random.default_rng(0)
    v, w = rng.standard_normal((6, S)), rng.standard_normal((6, S))
    Jv = net.cell.jvp(net.params, {}, v, tr.cache, 3, 1)
    wJ = net.cell.vjp(net.params, w, tr.cache, 3, 1)
    np.testing.assert_allclose(np.sum(w * Jv, axis=1), np.sum(wJ * v, axis=1), rtol=1e-12, atol=1e-12)


def test_jvp_names_a_stray_tangent():
    net = small_net("rnn", "tanh", H=3)
    x, _, _ = batch(net, T=3, B=1)
    tr = forward(net, x)
    with pytest.raises(KeyError, match="W_hx"):
        net.cell.jvp(net.params, {"W_hx": np.zeros_like(net.params["W_hx"])}, np.zeros((1, 3)), tr.cache, 1)
