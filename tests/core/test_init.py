"""W_hh initialisation: exact spectral radius, orthogonal and identity spectra, sparsity."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.config import ModelConfig
from rnnlab.core import build_network, sigma_max, spectral_radius
from rnnlab.core.init import INIT_SCHEMES, init_recurrent, sparse_mask


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize("n", [1, 3, 16, 100])
@pytest.mark.parametrize("target", [0.1, 0.95, 1.0, 4.0])
def test_spectral_radius_is_exact(scheme, n, target):
    W = init_recurrent(np.random.default_rng(n), n, scheme, target, sparse_k=3)
    assert abs(spectral_radius(W) - target) < 1e-9


@pytest.mark.parametrize("scheme", ["orthogonal", "identity"])
def test_orthogonal_and_identity_have_all_moduli_and_singular_values_equal(scheme):
    W = init_recurrent(np.random.default_rng(0), 20, scheme, 1.7)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(W)), 1.7, atol=1e-9)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.7, atol=1e-12)
    assert sigma_max(W) == pytest.approx(1.7)


def test_orthogonal_is_haar_distributed_not_biased():
    # the sign fix makes E[Q] = 0; without it the diagonal is biased towards positive values
    diag = np.mean([np.diag(init_recurrent(np.random.default_rng(s), 4, "orthogonal", 1.0)) for s in range(2000)], 0)
    assert np.all(np.abs(diag) < 0.06)


def test_sparse_rows_have_exactly_k_nonzeros():
    m = sparse_mask(np.random.default_rng(0), 30, 7)
    assert np.all(m.sum(axis=1) == 7)
    W = init_recurrent(np.random.default_rng(1), 30, "sparse", 0.9, sparse_k=7)
    assert np.all((W != 0).sum(axis=1) == 7)


@pytest.mark.parametrize("arch", ["rnn", "leaky", "lstm", "gru", "esn"])
def test_network_reports_target_radius_for_every_arch(arch):
    net = build_network(ModelConfig(arch=arch, hidden_size=12, spectral_radius=1.3, init="uniform"), 3, 2,
                        "softmax", np.random.default_rng(0))
    assert abs(net.spectral_radius() - 1.3) < 1e-9
    assert net.sigma_max() >= net.spectral_radius() - 1e-12
    if arch == "esn":
        assert net.trainable == ("W_yh", "b_y")
    if arch in ("leaky", "esn"):
        assert np.all((net.params["alpha"] >= 0.5) & (net.params["alpha"] <= 0.9))


def test_same_seed_same_network():
    cfg = ModelConfig(arch="gru", hidden_size=8)
    a = build_network(cfg, 2, 2, "linear", np.random.default_rng(5))
    b = build_network(cfg, 2, 2, "linear", np.random.default_rng(5))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
