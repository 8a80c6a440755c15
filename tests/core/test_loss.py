"""The softmax cross-entropy loss and its gradient ∂loss/∂z: against central finite differences, and its two ways
of computing (few classes: column by column; many: reductions over the last axis) against each other."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.core import bptt
from rnnlab.core.network import build_network
from rnnlab.config import ModelConfig


def _net(O: int, dtype: str = "float64"):
    return build_network(ModelConfig(hidden_size=4, dtype=dtype), 3, O, "softmax", np.random.default_rng(0))


@pytest.mark.parametrize("O", [2, 8, 16, 17, 40])
def test_the_gradient_is_the_loss_derivative(O):
    rng = np.random.default_rng(O)
    z = rng.standard_normal((6, 5, O)) * 2
    y = rng.integers(0, O, (6, 5))
    mask = (rng.random((6, 5)) < 0.7).astype(float)
    mask[0, 0] = 1.0
    net = _net(O)
    _, dz = bptt.loss_and_dz(net, z, y, mask)
    eps = 1e-6
    for idx in [(0, 0, 0), (2, 3, O - 1), (5, 4, O // 2), tuple(int(v) for v in (1, 1, y[1, 1]))]:
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        fd = (bptt.loss_and_dz(net, zp, y, mask)[0] - bptt.loss_and_dz(net, zm, y, mask)[0]) / (2 * eps)
        assert dz[idx] == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_few_classes_give_what_the_general_way_gives(monkeypatch, dtype, bad):
    rng = np.random.default_rng(3)
    O = 8
    z = (rng.standard_normal((7, 9, O)) * 5).astype(dtype)
    y = rng.integers(0, O, (7, 9))
    y[0] = 0
    y[1] = O - 1  # the first and the last class
    mask = (rng.random((7, 9)) < 0.5).astype(dtype)
    if bad is not None:
        z[3, 2, 5] = bad
    net = _net(O, dtype)
    loss, dz = bptt.loss_and_dz(net, z, y, mask)
    dz = dz.copy()
    monkeypatch.setattr(bptt, "_FEW_CLASSES", 0)
    loss0, dz0 = bptt.loss_and_dz(net, z, y, mask)
    np.testing.assert_array_equal(np.isfinite(dz), np.isfinite(dz0))
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(dz, dz0, rtol=tol, atol=tol, equal_nan=True)
    if np.isfinite(loss0):
        assert loss == pytest.approx(loss0, rel=tol)
    else:
        assert not np.isfinite(loss)


def test_a_class_out_of_range_is_an_error_not_a_neighbours_entry():
    net = _net(4)
    z = np.zeros((2, 3, 4))
    y = np.zeros((2, 3), dtype=int)
    y[1, 1] = 4
    with pytest.raises(IndexError):
        bptt.loss_and_dz(net, z, y, np.ones((2, 3)))
