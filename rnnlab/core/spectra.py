"""Spectra of a network: the eigenvalues and singular values of a matrix, the eigenvalues of the actual step
Jacobians along a probe sequence, and Lyapunov exponents by QR (Benettin) iteration (NumPy only).

:mod:`rnnlab.core.diagnostics` re-exports every name.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ._interrupt import checkpoint
from .bptt import Trace
from .network import Network

__all__ = ["spectrum", "EIG_ALLOWANCE", "EIG_MAX_STEPS", "jacobian_eigenvalue_steps", "jacobian_eigenvalues",
           "lyapunov_spectrum", "network_lyapunov", "autonomous_lyapunov"]


def spectrum(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (complex, sorted by decreasing modulus) and singular values (decreasing) of a square W."""
    W = np.asarray(W, dtype=np.float64)
    ev = np.linalg.eigvals(W)
    ev = ev[np.argsort(-np.abs(ev))]
    return ev, np.linalg.svd(W, compute_uv=False)


#: the eigenvalue cloud of :func:`jacobian_eigenvalues` spends at most about this many S³ units (one dense
#: eigen-decomposition of an S × S matrix costs ≈ 10·S³ flops; measured single-threaded: 4 ms at S = 128)
EIG_ALLOWANCE = 1.5e8


#: and draws the Jacobians of at most this many steps
EIG_MAX_STEPS = 32


def jacobian_eigenvalue_steps(T: int, S: int, max_steps: int = EIG_MAX_STEPS,
                              allowance: float = EIG_ALLOWANCE) -> np.ndarray:
    """The steps t whose step Jacobian :func:`jacobian_eigenvalues` decomposes: evenly spaced over 1 … T−1, at
    most ``max_steps`` of them and at most ``allowance / S³`` (at least one when T > 1)."""
    if T < 2:
        return np.zeros(0, dtype=np.int64)
    n = int(min(T - 1, max_steps, max(1, allowance // max(1, S) ** 3)))
    return np.unique(np.linspace(1, T - 1, n).round().astype(np.int64))


def jacobian_eigenvalues(net: Network, trace: Trace, b: int = 0, steps: np.ndarray | None = None) -> np.ndarray:
    """Eigenvalues of the actual step Jacobian ∂s_t/∂s_{t−1} (S × S) of probe sequence b at each of ``steps``
    (default :func:`jacobian_eigenvalue_steps`): complex (len(steps), S), each row sorted by decreasing modulus.

    For every cell, also those (LSTM, GRU) whose Jacobian depends on the state and has no fixed linear part: the
    cloud over t is what decides the local growth or decay of a perturbation along the probe's trajectory.
    """
    if steps is None:
        steps = jacobian_eigenvalue_steps(trace.T, net.cell.state_size)
    S = net.cell.state_size
    out = np.empty((len(steps), S), dtype=np.complex128)
    for i, t in enumerate(steps):
        J = net.cell.jacobian(net.params, trace.cache, int(t), b)
        ev = np.linalg.eigvals(np.asarray(J, dtype=np.float64))
        out[i] = ev[np.argsort(-np.abs(ev))]
    return out


def lyapunov_spectrum(jacobians: Iterable[np.ndarray], m: int, transient: int = 0,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Top-m Lyapunov exponents (natural log per step) of a product of Jacobians, by QR (Benettin) iteration.

    Q₀ is a random orthonormal (S, m) frame; each step Q ← J_t Q, then Q, R = qr(Q) and log|diag R| is summed
    (after ``transient`` steps). λ_i = (Σ log|R_ii|) / (number of summed steps). Sorted decreasing.
    """
    rng = rng or np.random.default_rng(0)
    Q = None
    acc = None
    n = 0
    for i, J in enumerate(jacobians):
        checkpoint()
        J = np.asarray(J, dtype=np.float64)
        if Q is None:
            S = J.shape[0]
            m = min(m, S)
            Q, _ = np.linalg.qr(rng.standard_normal((S, m)))
            acc = np.zeros(m)
        Q, R = np.linalg.qr(J @ Q)
        if i >= transient:
            with np.errstate(divide="ignore"):
                acc += np.log(np.abs(np.diag(R)))
            n += 1
    if n == 0:
        return np.full(max(m, 0), np.nan)
    return np.sort(acc / n)[::-1]


def network_lyapunov(net: Network, trace: Trace, m: int = 5, b: int = 0,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """Top-m Lyapunov exponents (per step) of the input-driven state dynamics along the probe sequence b.

    The QR (Benettin) iteration of :func:`lyapunov_spectrum` run on the transposed product
    (J_{T−1} ⋯ J_1)ᵀ = J_1ᵀ ⋯ J_{T−1}ᵀ, J_t = ∂s_t/∂s_{t−1}: each step multiplies m orthonormal rows by one
    step Jacobian with the cell's vector–Jacobian product (cost m·S·G per step, instead of building the dense
    S × S Jacobian, S²·G: 80 times less at S = 400, m = 5). A matrix product and its transpose have the same
    singular values, so the exponents are those of the forward dynamics. The first 10 % of the steps taken (the
    last of the sequence) are a transient. For short sequences (T ≲ 100) this is a finite-time estimate.
    """
    T = trace.T
    cell, p, cache = net.cell, net.params, trace.cache
    S = cell.state_size
    m = min(int(m), S)
    rng = rng or np.random.default_rng(0)
    transient = max(1, (T - 1) // 10)
    if T < 2 or m < 1:
        return np.full(max(m, 0), np.nan)
    Q, _ = np.linalg.qr(rng.standard_normal((S, m)))
    acc = np.zeros(m)
    n = 0
    for i, t in enumerate(range(T - 1, 0, -1)):
        rows = cell.vjp(p, np.ascontiguousarray(Q.T), cache, t, b)  # Qᵀ J_t = (J_tᵀ Q)ᵀ
        Q, R = np.linalg.qr(np.asarray(rows, dtype=np.float64).T)
        if i >= transient:
            with np.errstate(divide="ignore"):
                acc += np.log(np.abs(np.diag(R)))
            n += 1
    if n == 0:
        return np.full(m, np.nan)
    return np.sort(acc / n)[::-1]


def autonomous_lyapunov(W: np.ndarray, steps: int = 2000, m: int = 5, transient: int = 500,
                        rng: np.random.Generator | None = None, act: str = "tanh") -> np.ndarray:
    """Top-m Lyapunov exponents of the autonomous map h ← f(W h) (f = tanh by default), from a random start.

    The step Jacobian is diag(f'(W h)) W; the first ``transient`` steps are discarded (and let the state reach
    its attractor).
    """
    from .activations import get_activation

    a = get_activation(act)
    rng = rng or np.random.default_rng(0)
    N = W.shape[0]
    h = rng.standard_normal(N)

    def gen():
        nonlocal h
        for _ in range(steps):
            pre = W @ h
            hn = a.f(pre)
            yield a.df(pre, hn)[:, None] * W
            h = hn

    return lyapunov_spectrum(gen(), m, transient=transient, rng=rng)
