"""The network's workspace (buffers reused from pass to pass, never while someone holds them) and the fused
loops of the cells (the same numbers as the step-by-step path), for every registered cell."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from rnnlab.core import bptt
from rnnlab.core.cells import Cell
from rnnlab.core.workspace import Workspace

from .helpers import ACTS, ARCHS, batch, small_net

# every test here runs on the pure-NumPy path and through the compiled kernels (tests/core/conftest.py)
pytestmark = pytest.mark.usefixtures("core_path")


def test_a_free_buffer_is_reused_and_a_held_one_is_not():
    ws = Workspace()
    a = ws.empty("x", (64, 128), np.float64)
    addr = a.ctypes.data
    b = ws.empty("x", (64, 128), np.float64)
    assert b.ctypes.data != addr  # a is still held
    del a, b
    c = ws.empty("x", (64, 128), np.float64)
    view = c[3:]
    del c
    d = ws.empty("x", (64, 128), np.float64)
    assert not np.shares_memory(d, view)  # a view keeps its memory out of the workspace
    del d, view
    e = ws.empty("x", (64, 128), np.float64)
    assert e.ctypes.data % 64 == 0
    assert ws.empty("x", (64, 128), np.float32).dtype == np.float32  # another dtype: another buffer


def test_the_workspace_keeps_two_shapes_per_name_and_is_not_copied():
    ws = Workspace()
    for T in (10, 20, 30):
        ws.empty("x", (T, 64, 64), np.float64)
    assert ws.nbytes == (20 + 30) * 64 * 64 * 8
    assert pickle.loads(pickle.dumps(ws)).nbytes == 0
    assert copy.deepcopy(ws).nbytes == 0


def test_a_kept_trace_never_changes_under_a_later_pass():
    net = small_net("lstm", H=6)
    x1, y, mask = batch(net, T=8, B=4, seed=1)
    x2, _, _ = batch(net, T=8, B=4, seed=2)
    tr1 = bptt.forward(net, x1)
    S1 = tr1.cache["S"].copy()
    z1 = tr1.z.copy()
    bptt.forward(net, x2)
    np.testing.assert_array_equal(tr1.cache["S"], S1)
    np.testing.assert_array_equal(tr1.z, z1)


def test_buffers_are_reused_from_pass_to_pass():
    net = small_net("rnn", H=64)
    x, y, mask = batch(net, T=50, B=8)
    bptt.loss_and_grads(net, x, y, mask)
    held = net.workspace.nbytes
    for _ in range(3):
        bptt.loss_and_grads(net, x, y, mask)
    assert net.workspace.nbytes == held  # nothing new was kept: the same buffers served every pass


@pytest.mark.parametrize("arch", ARCHS)
def test_reused_buffers_give_the_same_numbers_as_fresh_ones(arch):
    net = small_net(arch, H=5)
    x, y, mask = batch(net, T=9, B=3)
    first = bptt.loss_and_grads(net, x, y, mask)
    again = bptt.loss_and_grads(net, x, y, mask)  # reused buffers
    fresh = bptt.loss_and_grads(net.copy(), x, y, mask)  # an empty workspace
    for other in (again, fresh):
        assert other[0] == first[0]
        for k in first[1]:
            np.testing.assert_array_equal(other[1][k], first[1][k], err_msg=k)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("act", ACTS)
def test_fused_loops_match_the_step_by_step_path(arch, act):
    """forward_sequence against step() one step at a time, and the cell's backward_sequence against the
    base class's (vjp step by step): the same states and gradients."""
    net = small_net(arch, act, H=5, seed=4)
    cell, p = net.cell, net.params
    x, y, mask = batch(net, T=7, B=3, every=False)
    mask[2] = 1.0  # a few scored steps, not all
    tr = bptt.forward(net, x)
    c = cell.new_cache(7, 3, np.float64)
    cell.prepare(p, c)
    U = cell.input_proj(p, x)
    for t in range(7):
        cell.step(p, t, U[t], c)
    cell.finish(p, c)
    np.testing.assert_allclose(c["S"], tr.cache["S"], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(cell.hidden(c), cell.hidden(tr.cache), rtol=1e-13, atol=1e-14)

    _, dz = bptt.loss_and_dz(net, tr.z, y, mask)
    scored = np.any(dz != 0, axis=(1, 2))
    dH = dz @ p["W_yh"]
    fused = cell.du_buffer(7, 3, np.float64)
    cell.backward_sequence(p, dH, scored, tr.cache, fused)
    generic = np.empty((7, 3, cell.gate_size))
    Cell.backward_sequence(cell, p, dH, scored, tr.cache, generic)
    g1 = cell.param_grads(p, tr.x, tr.cache, fused)
    g2 = cell.param_grads(p, tr.x, tr.cache, generic)
    assert set(g1) == set(g2)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_the_workspace_keeps_at_most_its_budget(monkeypatch):
    from rnnlab.core import workspace

    monkeypatch.setattr(workspace, "MAX_BYTES", 3 * 100 * 100 * 8)
    ws = Workspace()
    for name in ("a", "b", "c", "d"):
        ws.empty(name, (100, 100), np.float64)
    assert ws.nbytes == 3 * 100 * 100 * 8  # "a", the least recently used, went first
    assert "a" not in {n for n, d in ws._bufs.items() if d}
    ws.empty("big", (200, 200), np.float64)  # larger than the budget: handed out, not kept
    assert ws.nbytes <= workspace.MAX_BYTES
    ws.clear()
    assert ws.nbytes == 0
