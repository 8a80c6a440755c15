"""The antisymmetric RNN (Chang, Chen, Haber & Chi, ICLR 2019): a forward-Euler step of an ODE whose linear part
is antisymmetric, so its eigenvalues sit on the imaginary axis and the discrete step stays near the unit circle.

    a_t = (W − Wᵀ − γI) h_{t−1} + W_hx x_t + b_h,   h_t = h_{t−1} + ε f(a_t)
    ∂h_t/∂h_{t−1} = I + ε diag(f'(a_t)) (W − Wᵀ − γI)

ε (``model.antisymmetric_epsilon``) is the step size and γ ≥ 0 (``model.antisymmetric_gamma``) the diffusion
that damps the Euler step slightly. The effective linear recurrence (f' = 1) is I + ε(W − Wᵀ − γI), with
eigenvalues 1 − εγ + iεω_k (iω_k those of W − Wᵀ): |·|² = (1 − εγ)² + ε²ω_k², within O(ε²) of the unit
circle. ``model.spectral_radius`` sets ρ(W − Wᵀ) = max |ω_k| at initialisation (W drawn by ``model.init``, then
scaled).

A bound that holds at every step (triangle inequality, f' ∈ [0, γ_f]):
‖∂h_t/∂h_{t−1}‖₂ ≤ max(1, |1 − ε γ γ_f|) + ε γ_f σ_max(W − Wᵀ), with γ_f = sup |f'|.
"""

from __future__ import annotations

import numpy as np

from .._align import aligned_copy
from .base import input_error
from .rnn import VanillaCell

__all__ = ["AntisymmetricCell"]


class AntisymmetricCell(VanillaCell):
    """Antisymmetric RNN, h_t = h_{t−1} + ε f((W − Wᵀ − γI) h_{t−1} + W_hx x_t + b_h); parameters W (H, H),
    W_hx (H, I), b_h (H,)."""

    name = "antisymmetric"
    step_jacobian = "I + ε·diag(f′(a{j}))·(W − Wᵀ − γI)"
    label = "antisymmetric RNN"
    trainable = ("W_hx", "W", "b_h")
    extra_params = ("W",)
    recurrent_params = ("W",)
    supports_omega = False
    supports_hessian_free = False
    settings = ("model.antisymmetric_epsilon", "model.antisymmetric_gamma")
    badges = ("antisymmetric",)
    radius_scales_recurrence = False  # ρ(W − Wᵀ) is set, but the recurrence is I + ε(W − Wᵀ − γI)

    def __init__(self, n_in, n_hidden, act):
        super().__init__(n_in, n_hidden, act)
        self.epsilon, self.diffusion = 0.1, 0.01

    def configure(self, model):
        self.epsilon = float(model.antisymmetric_epsilon)
        self.diffusion = float(model.antisymmetric_gamma)

    def param_shapes(self):
        H, I = self.n_hidden, self.n_in
        return {"W_hx": (H, I), "W": (H, H), "b_h": (H,)}

    def init_params(self, model, rng):
        from ..init import init_recurrent

        H = self.n_hidden
        p = {"W_hx": rng.standard_normal((H, self.n_in)) * model.input_scale}
        W = init_recurrent(rng, H, model.init, 1.0, model.sparse_k, model.nonnormality)
        smax = float(np.linalg.norm(W - W.T, 2))
        p["W"] = W * (model.spectral_radius / smax) if smax > 1e-12 else W
        p["b_h"] = self.bias_init()
        return p

    def _m(self, p):
        """M = W − Wᵀ − γI (H, H)."""
        W = p["W"]
        M = W - W.T
        M[np.diag_indices_from(M)] -= self.diffusion
        return M

    def recurrent_matrix(self, params):
        W = np.asarray(params["W"], dtype=np.float64)
        return np.eye(W.shape[0]) + self.epsilon * (W - W.T - self.diffusion * np.eye(W.shape[0]))

    def prepare(self, p, cache):
        M = self._m(p)
        cache["W"] = aligned_copy(M)  # the matrix that multiplies h_{t−1} inside f (what _w returns)
        cache["WT"] = aligned_copy(M.T)

    def _w(self, p, cache):
        if "W" not in cache:
            self.prepare(p, cache)
        return cache["W"]

    def new_cache(self, T, B, dtype, ws=None):
        c = super().new_cache(T, B, dtype, ws)
        c["F"] = c.buf("F", (T, B, self.n_hidden))  # f(a_t)
        return c

    def _h_of_a(self, p, t, cache):
        F, S = cache["F"], cache["S"]
        self.act.f(cache["A"][t], out=F[t])
        np.multiply(F[t], self.epsilon, out=S[t + 1])
        S[t + 1] += S[t]

    def _fh(self, cache):
        return cache["F"]

    @classmethod
    def _compiled_reference(cls):
        return AntisymmetricCell

    def _leak(self, p, dtype):
        """β = 1, γ = ε (the compiled loops' form of the step)."""
        H = self.n_hidden
        return np.ones(H, dtype=dtype), np.full(H, self.epsilon, dtype=dtype)

    def finish(self, p, cache):
        super().finish(p, cache)
        cache["eD"] = np.multiply(cache["D"], self.epsilon, out=cache.buf("eD", cache["D"].shape))  # ε f'(a_t)

    _DKEY = "eD"

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        eD = self._at(cache["eD"], t, b)
        da = input_error(ds, eD, du_out, accumulate)
        out = np.matmul(da, self._w(p, cache), out=out)
        out += ds
        return out

    def jvp(self, p, dp, ds, cache, t, b=None):
        """ȧ_t = M ḣ_{t−1} + (Ẇ − Ẇᵀ) h_{t−1},  ḣ_t = ḣ_{t−1} + ε f'(a_t) ⊙ ȧ_t."""
        dW = self._tangents(dp).get("W")
        dM = None if dW is None else dW - np.swapaxes(dW, -1, -2)
        out = self._jvp_w(p, dM, ds, cache, t, b)
        out += ds
        return out

    def param_grads(self, p, x, cache, dU):
        T, B, _ = x.shape
        H = self.n_hidden
        dU2 = dU.reshape(T * B, H)
        gM = self._grad_W_hh(p, cache, dU)  # ∂E/∂M = Σ_t ∂E/∂a_t h_{t−1}ᵀ (summed step by step by the compiled loop)
        grads = self._input_grads(x, dU2)
        grads["W"] = gM - gM.T
        return grads

    def jacobian(self, p, cache, t, b=0):
        J = cache["eD"][t, b][:, None] * self._w(p, cache)
        J[np.diag_indices_from(J)] += 1.0
        return J

    def recurrence_eigenvalues(self, params):
        return np.linalg.eigvals(self.recurrent_matrix(params)), "I + ε(W − Wᵀ − γI)"

    def step_bound(self, params):
        """‖I − εγ diag(f') + ε diag(f')(W − Wᵀ)‖₂ ≤ max(1, |1 − εγγ_f|) + ε γ_f σ_max(W − Wᵀ)."""
        W = np.asarray(params["W"], dtype=np.float64)
        g, eps = self.act.gamma, self.epsilon
        return (max(1.0, abs(1.0 - eps * self.diffusion * g)) + eps * g * float(np.linalg.norm(W - W.T, 2)),
                r"\max(1, |1 - \varepsilon\gamma\gamma_f|) + \varepsilon\,\gamma_f\,\sigma_{\max}(W - W^\top)")

    def da_factor(self, cache):
        raise NotImplementedError("the antisymmetric RNN's step Jacobian is I + ε diag(f') M, not diag(f')·W_hh")
