"""Hessian-free optimisation with structural damping (Martens & Sutskever 2011), for the vanilla RNN.

Operational recipe from the authors' released code (SCIENCE.md §3). Each update minimises the damped local model

    q(δ) = ∇f·δ + ½ δᵀ (G + λI + μλ·S) δ,       G = J_zᵀ H_L J_z,   S = J_aᵀ D'' J_a

* G, the generalised Gauss–Newton matrix: J_z is the Jacobian of the readout pre-activations z_t with respect
  to θ, applied by the R-operator forward pass (:func:`r_forward`); H_L is the Hessian of the loss with respect
  to z (softmax/cross-entropy: diag(p) − ppᵀ; squared error: (2/O)·I), weighted like the loss;
  Jᵀ(·) is one backpropagation (:func:`gn_product`).
* S, the structural damping: J_a is the Jacobian of the hidden pre-activations a_t and D'' the Gauss–Newton
  curvature of a distance on the hidden units: 0.25·(1 − h²) for tanh (as in Sutskever's code), h(1 − h) for the
  sigmoid, f'(a) for ReLU, 1 for linear units. Summed over steps and normalised like the loss (÷ N scored pairs).
  In the code it is the single line ``dHX_t += mu_times_lambda * D''_t * R_HX[t]`` of the backward pass.
* Conjugate gradient on (G + λI + μλS) δ = −∇f, warm-started from 0.95 × the previous solution, stopped by
  Martens' relative-progress rule (k = max(10, ⌊0.1 i⌋), ε = 5·10⁻⁴), iterates kept at i = ⌈1.3^j⌉ for
  backtracking (go back from the last while the loss decreases).
* Levenberg–Marquardt: ρ = (f(θ+δ) − f(θ)) / (q(δ) − q(0)); λ ← 3/2 λ if ρ < 1/4 (or NaN), 2/3 λ if ρ > 3/4,
  never below ``LAMBDA_MIN`` (our addition: on small minibatches near a solution λ otherwise shrinks without
  bound and a later step overshoots).
* Line search: the largest step 0.8^i (i = 0…49) with sufficient decrease; none → no step and no warm start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.bptt import Trace, forward, loss_and_dz
from ..core.network import Network

LAMBDA_MIN = 1e-3

__all__ = ["LAMBDA_MIN", "r_forward", "loss_hessian_product", "structural_curvature", "gn_product", "cg_martens",
           "HFReport", "HessianFree"]


def structural_curvature(net: Network, trace: Trace) -> np.ndarray:
    """D'' (T, B, H): Gauss–Newton curvature of the distance on the hidden units, per unit and step."""
    name = net.cell.act.name
    h = trace.hidden(net)
    if name == "tanh":
        return 0.25 * (1.0 - h * h)
    if name == "sigmoid":
        return h * (1.0 - h)
    if name == "relu":
        return (net.cell.preactivations(trace.cache) > 0).astype(h.dtype)
    return np.ones_like(h)


def _need_vanilla(net: Network) -> None:
    if not net.cell.supports_hessian_free:
        raise ValueError(f"Hessian-free optimisation is not implemented for the {net.cell.label} (its R-operator is "
                         "written for cells whose step is h_t = f(W_hx x_t + W_hh h_{t−1} + b_h))")


def r_forward(net: Network, trace: Trace, V: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """R-operator forward pass: directional derivatives R{a_t} = J_a v and R{z_t} = J_z v along V.

    R{a_t} = V_hx x_t + V_hh h_{t−1} + V_bh + W_hh R{h_{t−1}},   R{h_t} = f'(a_t) ⊙ R{a_t},
    R{z_t} = V_yh h_t + V_by + W_yh R{h_t}.
    Returns ``(Ra (T, B, H), Rz (T, B, O))``.
    """
    _need_vanilla(net)
    p, cache = net.params, trace.cache
    x = trace.x
    T, B, _ = x.shape
    H = net.n_hidden
    h = cache["S"]  # (T+1, B, H), h[0] = 0
    RU = (x.reshape(T * B, -1) @ V["W_hx"].T + V["b_h"]).reshape(T, B, H)
    RU += (h[:T].reshape(T * B, H) @ V["W_hh"].T).reshape(T, B, H)
    D = net.cell.da_factor(cache)
    Ra = np.empty((T, B, H))
    Rh = np.empty((T, B, H))
    WT = p["W_hh"].T
    prev = np.zeros((B, H))
    for t in range(T):
        np.matmul(prev, WT, out=Ra[t])
        Ra[t] += RU[t]
        np.multiply(D[t], Ra[t], out=Rh[t])
        prev = Rh[t]
    Rz = (h[1:].reshape(T * B, H) @ V["W_yh"].T + Rh.reshape(T * B, H) @ p["W_yh"].T + V["b_y"]).reshape(T, B, -1)
    return Ra, Rz


def loss_hessian_product(net: Network, z: np.ndarray, mask: np.ndarray, Rz: np.ndarray) -> np.ndarray:
    """H_L R{z}: the loss Hessian with respect to z applied to Rz, with the loss's weights m/N.

    softmax/cross-entropy: p ⊙ (Rz − (p·Rz)) ; squared error (1/O)‖z − y‖²: (2/O) Rz.
    """
    w = (mask / mask.sum())[..., None]
    if net.output == "linear":
        return (2.0 / z.shape[-1]) * w * Rz
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    P = e / e.sum(axis=-1, keepdims=True)
    return w * P * (Rz - np.sum(P * Rz, axis=-1, keepdims=True))


def gn_product(net: Network, trace: Trace, mask: np.ndarray, V: dict[str, np.ndarray],
               mu_lambda: float = 0.0, Dpp: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """(G + μλ·S) v for a parameter-shaped direction V (dict), by one R-forward and one backward pass.

    G v = J_zᵀ H_L J_z v ; S v = J_aᵀ (D'' ⊙ J_a v) / N (N = number of scored (t, b) pairs).
    """
    _need_vanilla(net)
    p, cache = net.params, trace.cache
    T, B, _ = trace.x.shape
    H = net.n_hidden
    Ra, Rz = r_forward(net, trace, V)
    HRz = loss_hessian_product(net, trace.z, mask, Rz)
    dH = HRz @ p["W_yh"]
    if mu_lambda:
        if Dpp is None:
            Dpp = structural_curvature(net, trace)
        inj = (mu_lambda / float(mask.sum())) * Dpp * Ra
    else:
        inj = None
    D = net.cell.da_factor(cache)
    W = p["W_hh"]
    dA = np.empty((T, B, H))
    carry = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        ds = dH[t] + carry
        np.multiply(ds, D[t], out=dA[t])
        if inj is not None:
            dA[t] += inj[t]
        carry = dA[t] @ W
    out = net.cell.param_grads(p, trace.x, cache, dA)
    h = net.cell.hidden(cache)
    out["W_yh"] = HRz.reshape(T * B, -1).T @ h.reshape(T * B, H)
    out["b_y"] = HRz.sum(axis=(0, 1))
    return out


# --- flat vectors ----------------------------------------------------------------------------------------------

def _flat(d: dict[str, np.ndarray], names) -> np.ndarray:
    return np.concatenate([d[n].ravel() for n in names])


def _unflat(v: np.ndarray, like: dict[str, np.ndarray], names) -> dict[str, np.ndarray]:
    out, i = {}, 0
    for n in names:
        size = like[n].size
        out[n] = v[i : i + size].reshape(like[n].shape)
        i += size
    return out


def cg_martens(Av, b: np.ndarray, x0: np.ndarray, max_iter: int, eps: float = 5e-4, min_iter: int = 1):
    """Conjugate gradient on A x = b with Martens' relative-progress stopping rule.

    φ_i = ½ x_iᵀ A x_i − bᵀ x_i (computed as −½ (b + r_i)ᵀ x_i); with k = max(10, ⌊0.1 i⌋) stop when i > k,
    φ_i < 0 and (φ_i − φ_{i−k}) / φ_i < k ε. Also stops when ‖r‖ < 1e−10 or on negative curvature.
    Returns ``(iterates, phis)``: the iterates kept at i = ⌈1.3^j⌉ and the last one, as (i, x) pairs.
    """
    x = x0.copy()
    r = b - Av(x)
    d = r.copy()
    rr = float(r @ r)
    phis = [float(-0.5 * (b + r) @ x)]
    keep = set()
    j = 0
    while math.ceil(1.3**j) <= max_iter:
        keep.add(math.ceil(1.3**j))
        j += 1
    iterates = []
    i = 0
    for i in range(1, max_iter + 1):
        Ad = Av(d)
        dAd = float(d @ Ad)
        if dAd <= 0 or not np.isfinite(dAd):
            i -= 1
            break
        a = rr / dAd
        x += a * d
        r -= a * Ad
        rr_new = float(r @ r)
        phi = float(-0.5 * (b + r) @ x)
        phis.append(phi)
        if i in keep:
            iterates.append((i, x.copy()))
        k = max(10, int(0.1 * i))
        if i >= min_iter and i > k and phi < 0 and (phi - phis[i - k]) / phi < k * eps:
            break
        if rr_new < 1e-20:
            break
        d = r + (rr_new / rr) * d
        rr = rr_new
    if not iterates or iterates[-1][0] != i:
        iterates.append((i, x.copy()))
    return iterates, phis


@dataclass(frozen=True)
class HFReport:
    """One Hessian-free update: losses, the damping, CG work and the step taken."""

    loss_before: float
    loss_after: float
    lam: float
    rho: float
    cg_iters: int
    chosen_iter: int
    step_size: float
    grad_norm: float


@dataclass
class HessianFree:
    """State of the Hessian-free optimiser between updates: the damping λ and the CG warm start."""

    lam: float = 1.0
    mu: float = 0.03
    max_cg: int = 100
    names: tuple = ("W_hx", "W_hh", "b_h", "W_yh", "b_y")
    prev: np.ndarray | None = field(default=None, repr=False)

    def state_dict(self) -> dict:
        return {"lam": self.lam, "mu": self.mu, "prev": None if self.prev is None else self.prev.copy()}

    def load_state_dict(self, s: dict) -> None:
        self.lam, self.mu = s["lam"], s["mu"]
        self.prev = None if s["prev"] is None else s["prev"].copy()

    def step(self, net: Network, x: np.ndarray, y: np.ndarray, mask: np.ndarray,
             grads: dict[str, np.ndarray], loss0: float, trace: Trace) -> HFReport:
        """One update of ``net.params`` in place from the gradient ``grads`` of ``loss0`` on the batch (x, y)."""
        _need_vanilla(net)
        names = [n for n in self.names if n in net.trainable]
        p = net.params
        g = _flat(grads, names)
        theta0 = {n: p[n].copy() for n in names}
        Dpp = structural_curvature(net, trace)
        lam = self.lam

        def Av(v: np.ndarray) -> np.ndarray:
            gv = gn_product(net, trace, mask, _unflat(v, p, names), self.mu * lam, Dpp)
            return _flat(gv, names) + lam * v

        x0 = 0.95 * self.prev if self.prev is not None and self.prev.shape == g.shape else np.zeros_like(g)
        iterates, _ = cg_martens(Av, -g, x0, self.max_cg)
        cg_iters = iterates[-1][0]
        self.prev = iterates[-1][1].copy()

        def loss_at(v: np.ndarray) -> float:
            for n, dv in _unflat(v, p, names).items():
                p[n][...] = theta0[n] + dv
            tr = forward(net, x)
            val = loss_and_dz(net, tr.z, y, mask)[0]
            return val if np.isfinite(val) else np.inf

        # backtracking over the kept iterates: from the last, go back while the loss decreases
        j = len(iterates) - 1
        best = loss_at(iterates[j][1])
        while j > 0:
            cand = loss_at(iterates[j - 1][1])
            if cand < best:
                best, j = cand, j - 1
            else:
                break
        chosen_i, delta = iterates[j]
        # Levenberg–Marquardt with the damped model
        qd = float(g @ delta + 0.5 * delta @ Av(delta))
        rho = (best - loss0) / qd if qd < 0 and best <= loss0 else -np.inf
        if not np.isfinite(rho) or rho < 0.25:
            self.lam = lam * 1.5
        elif rho > 0.75:
            self.lam = max(LAMBDA_MIN, lam * (2.0 / 3.0))
        # line search along the chosen direction
        gd = float(g @ delta)
        step, after = 0.0, loss0
        c = 1.0
        for _ in range(50):
            val = best if c == 1.0 else loss_at(c * delta)
            if val <= loss0 + 0.01 * c * gd:
                step, after = c, val
                break
            c *= 0.8
        if step == 0.0:
            self.prev = None
        for n in names:
            p[n][...] = theta0[n] + step * _unflat(delta, p, names)[n]
        return HFReport(loss0, after, self.lam, float(rho), cg_iters, chosen_i, step, float(np.linalg.norm(g)))
