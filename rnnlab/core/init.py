"""Initialisation of the recurrent matrix W_hh and spectral measurements.

Every scheme returns an (H, H) matrix whose spectral radius ρ (largest |eigenvalue|) equals the target:
``gaussian``, ``uniform`` and ``sparse`` draw a random matrix and divide it by its own ρ; ``orthogonal`` (Haar
measure: QR of a Gaussian matrix with the sign of diag(R) folded into Q) and ``identity`` are multiplied by the
target, so *all* their |eigenvalues| (and singular values) equal it. ``nonnormal`` (Kerg et al. 2019; Orhan &
Pitkow 2019) is ρ·Q (Λ + η N) Qᵀ: Λ block-diagonal with 2×2 rotations (and one ±1 when n is odd), so all its
eigenvalues have modulus 1, N strictly block-lower-triangular (zero on and above Λ's diagonal blocks), so Λ + ηN is
block-triangular with Λ's eigenvalues: ρ(W) = ρ exactly for every η, while σ_max(W) = ρ·σ_max(Λ + ηN) ≥ ρ grows
with η (a convex function of η, smallest at η = 0). Every scheme is linear in the target radius (the panel's
preview relies on it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["init_recurrent", "spectral_radius", "sigma_max", "orthogonal", "sparse_mask", "nonnormal", "INIT_SCHEMES"]

INIT_SCHEMES = ("gaussian", "uniform", "sparse", "orthogonal", "identity", "nonnormal")


def spectral_radius(W: np.ndarray) -> float:
    """ρ(W) = max_i |λ_i(W)| of a square matrix (computed in float64)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def sigma_max(W: np.ndarray) -> float:
    """σ_max(W) = ‖W‖₂, the largest singular value (computed in float64)."""
    return float(np.linalg.norm(np.asarray(W, dtype=np.float64), 2))


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-distributed random orthogonal (n, n) matrix: Q from QR(A), A Gaussian, times sign(diag(R))."""
    A = rng.standard_normal((n, n))
    Q, R = np.linalg.qr(A)
    d = np.sign(np.diag(R))
    d[d == 0] = 1.0
    return Q * d[None, :]


def sparse_mask(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Boolean (n, n) mask with exactly ``min(k, n)`` True entries in every row, at random columns."""
    k = min(k, n)
    keys = rng.random((n, n))
    cols = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (n, 1))
    mask = np.zeros((n, n), dtype=bool)
    np.put_along_axis(mask, cols, True, axis=1)
    return mask


def nonnormal(rng: np.random.Generator, n: int, eta: float) -> np.ndarray:
    """Q (Λ + η N) Qᵀ (n, n) with spectral radius exactly 1 (see the module docstring).

    Λ: 2×2 rotation blocks with angles φ_k uniform in (0, π) (eigenvalues e^{±iφ_k}), plus a 1×1 block ±1 when n is
    odd; N: N(0, 1/n) entries strictly below Λ's diagonal blocks; Q Haar-orthogonal. The draws are Λ's angles,
    then N, then Q, from ``rng``.
    """
    n_blocks = n // 2
    phis = rng.uniform(0.0, np.pi, n_blocks)
    L = np.zeros((n, n))
    for k, phi in enumerate(phis):
        c, s = np.cos(phi), np.sin(phi)
        L[2 * k : 2 * k + 2, 2 * k : 2 * k + 2] = [[c, -s], [s, c]]
    if n % 2:
        L[-1, -1] = 1.0 if rng.random() < 0.5 else -1.0
    block = np.arange(n) // 2  # the diagonal block of each row/column
    N = rng.standard_normal((n, n)) / np.sqrt(n) * (block[:, None] > block[None, :])
    Q = orthogonal(rng, n)
    return Q @ (L + eta * N) @ Q.T


def _rescale(W: np.ndarray, target: float, rng: np.random.Generator, redraw) -> np.ndarray:
    for _ in range(100):
        rho = spectral_radius(W)
        if rho > 1e-12:
            W = W * (target / rho)
            # one refinement: eigvals of the rescaled matrix, to land within rounding of the target
            return W * (target / spectral_radius(W))
        W = redraw()  # nilpotent draw (possible for tiny sparse matrices): draw again
    raise ValueError("could not draw a recurrent matrix with a non-zero spectral radius; increase sparse_k")


def init_recurrent(rng: np.random.Generator, n: int, scheme: str, radius: float, sparse_k: int = 15,
                   nonnormality: float = 0.0) -> np.ndarray:
    """Draw W_hh (n, n) with spectral radius ``radius``.

    Parameters
    ----------
    rng : numpy Generator
    n : int
        Hidden size H.
    scheme : {"gaussian", "uniform", "sparse", "orthogonal", "identity", "nonnormal"}
        gaussian: N(0, 1/n) entries; uniform: U[−1, 1); sparse: N(0, 1) on ``sparse_k`` random entries per row,
        zero elsewhere; each then rescaled so that ρ(W) = radius exactly. orthogonal: radius·Q, Q Haar; identity:
        radius·I; nonnormal: radius·:func:`nonnormal` with η = ``nonnormality``.
    radius : float
        Target spectral radius (> 0).
    """
    if scheme == "orthogonal":
        return radius * orthogonal(rng, n)
    if scheme == "identity":
        return radius * np.eye(n)
    if scheme == "nonnormal":
        return radius * nonnormal(rng, n, nonnormality)
    if scheme == "gaussian":
        draw = lambda: rng.standard_normal((n, n)) / np.sqrt(n)  # noqa: E731
    elif scheme == "uniform":
        draw = lambda: rng.uniform(-1.0, 1.0, (n, n))  # noqa: E731
    elif scheme == "sparse":
        draw = lambda: rng.standard_normal((n, n)) * sparse_mask(rng, n, sparse_k)  # noqa: E731
    else:
        raise ValueError(f"unknown init scheme {scheme!r}: expected one of {', '.join(INIT_SCHEMES)}")
    return _rescale(draw(), radius, rng, draw)
