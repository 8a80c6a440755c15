"""The orthogonal RNN by the exponential map (expRNN; Lezcano-Casado & Martínez-Rubio, ICML 2019, arXiv 1901.08428).

    W_hh = exp(A − Aᵀ),   a_t = W_hx x_t + W_hh h_{t−1} + b_h,   h_t = f(a_t)
    ∂h_t/∂h_{t−1} = diag(f'(a_t)) W_hh

The trained parameter is A (H × H); K = A − Aᵀ is skew-symmetric, so W_hh = exp(K) is orthogonal whatever A is:
ρ = σ_max = 1 through training, and ‖∂h_t/∂h_{t−1}‖₂ ≤ γ exactly as for an orthogonal vanilla RNN, without a
projection or a penalty. A starts as in Henaff et al. (2016): K block-diagonal with 2×2 blocks [[0, s], [−s, 0]],
s ~ U(−π, π), i.e. W_hh a rotation by a random angle in each plane.

The matrix exponential and its derivatives are exact through one eigendecomposition: iK is Hermitian, so
K = V diag(iα) V^H with V unitary and α real (``numpy.linalg.eigh``), exp(K) = V diag(e^{iα}) V^H, and the
Fréchet derivative is dexp_K[E] = V (Φ ⊙ (V^H E V)) V^H with Φ_jk = (e^{iα_j} − e^{iα_k}) / (iα_j − iα_k) =
e^{i(α_j + α_k)/2} sinc((α_j − α_k)/2) (= e^{iα_j} on the diagonal: no division by a small difference). Its
adjoint, which carries ∂E/∂W_hh to ∂E/∂K, is dexp_{Kᵀ} = the same with Φ conjugated; then ∂E/∂A = G − Gᵀ.

W_hh is kept in the parameters for its readers (spectra, ``inspect``), recomputed from A after every update
(:meth:`after_update`); the forward pass always recomputes it from A, so A is the one source of truth.
"""

from __future__ import annotations

import numpy as np

from .._align import aligned_copy
from .rnn import VanillaCell

__all__ = ["ExpRNNCell", "skew_eig", "expm_skew", "dexp_skew"]


def skew_eig(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(α, V)`` with K = V diag(iα) V^H for a real skew-symmetric K (float64 in, V unitary complex)."""
    mu, V = np.linalg.eigh(1j * np.asarray(K, dtype=np.float64))  # iK = V diag(μ) V^H, μ real
    return -mu, V  # K = −i·iK = V diag(−iμ) V^H


def expm_skew(alpha: np.ndarray, V: np.ndarray) -> np.ndarray:
    """exp(K) = Re V diag(e^{iα}) V^H (real orthogonal), with Q = V diag(e^{iα}): Re(Q V^H) = Re Q Re Vᵀ + Im Q Im Vᵀ,
    two real products instead of a complex one (0.23 against 0.37 ms at H = 128)."""
    Q = V * np.exp(1j * alpha)
    return Q.real @ V.real.T + Q.imag @ V.imag.T


def _phi(alpha: np.ndarray) -> np.ndarray:
    """Φ_jk = e^{i(α_j + α_k)/2} sinc((α_j − α_k)/2), the divided differences of exp at iα. The phase is the outer
    product of e^{iα_j/2} (H complex exponentials instead of H²) and sinc is sin(x)/x, 1 at x = 0 (at H = 128:
    0.2 against 1.0 ms with numpy's ``exp`` and ``sinc`` of every entry)."""
    e = np.exp(0.5j * alpha)
    x = 0.5 * np.subtract.outer(alpha, alpha)
    s = np.ones_like(x)
    np.divide(np.sin(x), x, out=s, where=x != 0)
    return np.multiply.outer(e, e) * s


def dexp_skew(alpha: np.ndarray, V: np.ndarray, E: np.ndarray, adjoint: bool = False) -> np.ndarray:
    """The Fréchet derivative dexp_K[E] (real) of exp at K = V diag(iα) V^H, for a real E (H, H) or a stack
    (N, H, H); ``adjoint=True`` applies its adjoint (the gradient map: ⟨G, dexp_K[E]⟩ = ⟨dexp_K*[G], E⟩).

    V^H E is formed as Re Vᵀ E − i Im Vᵀ E and the real part of the last product as Re Q Re Vᵀ + Im Q Im Vᵀ: four
    real products and two complex ones instead of four complex ones."""
    phi = _phi(alpha)
    if adjoint:
        phi = phi.conj()
    E = np.asarray(E, dtype=np.float64)
    Vr, Vi = V.real, V.imag
    P = np.empty(E.shape, dtype=np.complex128)  # V^H E
    P.real = Vr.T @ E
    P.imag = Vi.T @ E
    np.negative(P.imag, out=P.imag)
    M = P @ V
    M *= phi
    Q = V @ M
    return Q.real @ Vr.T + Q.imag @ Vi.T


class ExpRNNCell(VanillaCell):
    """expRNN, h_t = f(W_hx x_t + exp(A − Aᵀ) h_{t−1} + b_h); parameters A (H, H), W_hx (H, I), b_h (H,), and the
    derived W_hh = exp(A − Aᵀ)."""

    name = "exprnn"
    step_jacobian = "diag(f′(a{j}))·exp(A − Aᵀ)"
    label = "orthogonal RNN (expRNN)"
    trainable = ("W_hx", "A", "b_h")
    extra_params = ("A",)
    recurrent_params = ("A",)
    derived_params = ("W_hh",)
    supports_omega = False  # Ω would push W_hh off the orthogonal group it cannot leave
    supports_hessian_free = False
    badges = ("orthogonal W_hh",)
    unused_settings = {
        key: "W_hh = exp(A − Aᵀ) is orthogonal by construction (ρ = σ_max = 1); A starts as random rotation angles"
        for key in ("model.init", "model.spectral_radius", "model.sparse_k", "model.nonnormality")
    }

    def param_shapes(self):
        H, I = self.n_hidden, self.n_in
        return {"W_hx": (H, I), "A": (H, H), "b_h": (H,), "W_hh": (H, H)}

    def init_params(self, model, rng):
        H = self.n_hidden
        p = {"W_hx": rng.standard_normal((H, self.n_in)) * model.input_scale}
        A = np.zeros((H, H))
        k = np.arange(H // 2)
        A[2 * k, 2 * k + 1] = rng.uniform(-np.pi, np.pi, H // 2)
        p["A"] = A
        p["b_h"] = self.bias_init()
        p["W_hh"] = self.orthogonal_matrix(A)
        return p

    @staticmethod
    def orthogonal_matrix(A: np.ndarray) -> np.ndarray:
        """exp(A − Aᵀ), computed in float64."""
        A = np.asarray(A, dtype=np.float64)
        return expm_skew(*skew_eig(A - A.T))

    #: (A, α, V, exp(A − Aᵀ)) of the last eigendecomposition, see :meth:`eig`
    _eig_memo: tuple | None = None

    def _decomposed(self, A: np.ndarray) -> tuple:
        """The memo for A: (A's copy, α, V, exp(A − Aᵀ) in float64), all read-only, the last one reused while A's
        values are the same (a trainer step needs them for the same A up to three times: :meth:`after_update`, the
        next forward pass, the spectrum of a snapshot)."""
        memo = self._eig_memo
        if memo is not None and memo[0].shape == np.shape(A) and np.array_equal(memo[0], A):
            return memo
        A64 = np.asarray(A, dtype=np.float64)
        alpha, V = skew_eig(A64 - A64.T)
        W = expm_skew(alpha, V)
        for a in (alpha, V, W):
            a.flags.writeable = False  # (shared by every caller)
        memo = self._eig_memo = (np.array(A, copy=True), alpha, V, W)  # (one tuple: another thread sees all or none)
        return memo

    def eig(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(α, V)`` of K = A − Aᵀ (:func:`skew_eig`, in float64), kept while A's values are the same: it is the
        cell's largest cost outside BPTT (at H = 128, 2.6 ms for a dense A, 1.2 for the initial block-diagonal
        one)."""
        return self._decomposed(A)[1:3]

    def forget(self):
        self._eig_memo = None

    def after_update(self, params):
        params["W_hh"][...] = self._decomposed(params["A"])[3]

    def recurrent_matrix(self, params):
        return self._decomposed(params["A"])[3].copy()

    def prepare(self, p, cache):
        _, alpha, V, W = self._decomposed(p["A"])
        cache["alpha"], cache["V"] = alpha, V
        W = W.astype(p["A"].dtype)
        cache["W"] = aligned_copy(W)
        cache["WT"] = aligned_copy(W.T)

    def _w(self, p, cache):
        if "W" not in cache:
            self.prepare(p, cache)
        return cache["W"]

    def _probe_matrix(self, p, cache, t, b):
        return cache[self._DKEY][t, b][:, None] * self._w(p, cache)

    def jvp(self, p, dp, ds, cache, t, b=None):
        """Ẇ_hh = dexp_K[Ȧ − Ȧᵀ] (memoised per ``dp`` in the cache), then the vanilla tangent with Ẇ_hh."""
        dA = self._tangents(dp).get("A")
        dW = None
        if dA is not None:
            memo = cache.get("jvp_memo")
            if memo is not None and memo[0] is dA:
                dW = memo[1]
            else:
                self._w(p, cache)
                dK = dA - np.swapaxes(dA, -1, -2)
                dW = dexp_skew(cache["alpha"], cache["V"], dK)
                cache["jvp_memo"] = (dA, dW)  # holding dA keeps its identity unique while memoised
        return self._jvp_w(p, dW, ds, cache, t, b)

    def param_grads(self, p, x, cache, dU):
        grads = super().param_grads(p, x, cache, dU)
        G = grads.pop("W_hh")  # ∂E/∂W_hh as if it were free
        self._w(p, cache)
        gK = dexp_skew(cache["alpha"], cache["V"], np.asarray(G, dtype=np.float64), adjoint=True)
        grads["A"] = (gK - gK.T).astype(G.dtype)
        return grads

    def recurrence_eigenvalues(self, params):
        alpha, _ = self.eig(params["A"])
        return np.exp(1j * alpha), "exp(A − Aᵀ)"

    def step_bound(self, params):
        """‖diag(f'(a)) W_hh‖₂ ≤ γ·σ_max(W_hh) = γ (orthogonal W_hh; σ_max measured, 1 up to rounding)."""
        return self.act.gamma * float(np.linalg.norm(self.recurrent_matrix(params), 2)), r"\gamma\,\sigma_{\max}(e^{A - A^\top}) = \gamma"
