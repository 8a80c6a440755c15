"""The vanilla (Elman) cell.

    a_t = W_hx x_t + W_hh h_{t−1} + b_h,   h_t = f(a_t)
    ∂h_t/∂h_{t−1} = diag(f'(a_t)) W_hh                      (seeds, eq. 9)
"""

from __future__ import annotations

import numpy as np

from .base import Cell, input_error

__all__ = ["VanillaCell"]


class VanillaCell(Cell):
    """Elman RNN, h_t = f(W_hx x_t + W_hh h_{t−1} + b_h). State = h (S = H), projection width G = H."""

    name = "rnn"
    step_jacobian = "diag(f′(a{j}))·W_hh"
    label = "vanilla RNN"
    supports_omega = True
    supports_hessian_free = True

    def new_cache(self, T, B, dtype, ws=None):
        c = super().new_cache(T, B, dtype, ws)
        c["A"] = c.buf("A", (T, B, self.n_hidden))  # pre-activations a_t
        return c

    def _h_of_a(self, p, t, cache):
        """Write h_t = f(a_t) into the state buffer."""
        self.act.f(cache["A"][t], out=cache["S"][t + 1])

    def step(self, p, t, u_t, cache):
        A = cache["A"]
        np.matmul(cache["S"][t], self._wt(p, cache), out=A[t])
        A[t] += u_t
        self._h_of_a(p, t, cache)

    def finish(self, p, cache):
        # f'(a_t) for all t in one vectorised pass (cheaper than per step), without temporaries
        cache["D"] = self.act.df(cache["A"], self._fh(cache), out=cache.buf("D", cache["A"].shape))

    def _fh(self, cache):
        return cache["S"][1:]

    _DKEY = "D"  # the cached factor between ds and da: f'(a) here, (1 − α) f'(a) for leaky units

    def _probe_matrix(self, p, cache, t, b):
        """J_tᵀ acting on rows: diag(f'(a_t)) W_hh for sequence b (S × S)."""
        return cache[self._DKEY][t, b][:, None] * self._w(p, cache)

    def jacobian(self, p, cache, t, b=0):
        return self._probe_matrix(p, cache, t, b)

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        if b is not None and du_out is None:
            # many probe rows of one sequence: fold diag(f') into W once, then a single product (no pass over
            # the rows for the elementwise factor; this is the heatmap's inner loop)
            return np.matmul(ds, self._probe_matrix(p, cache, t, b), out=out)
        D = self._at(cache[self._DKEY], t, b)
        da = input_error(ds, D, du_out, accumulate)
        return np.matmul(da, self._w(p, cache), out=out)

    def jvp(self, p, dp, ds, cache, t, b=None):
        """ȧ_t = W_hh ḣ_{t−1} + Ẇ_hh h_{t−1},  ḣ_t = f'(a_t) ⊙ ȧ_t (leaky: + α ⊙ ḣ_{t−1}, the factor (1 − α))."""
        return self._jvp_w(p, self._tangents(dp).get("W_hh"), ds, cache, t, b)

    def _jvp_w(self, p, dW, ds, cache, t, b):
        """The tangent of the step for a tangent Ẇ_hh of the recurrent matrix itself (None: zero)."""
        da = ds @ self._w(p, cache).T
        if dW is not None:
            da += self._immediate(dW, self._at(cache["S"], t, b), b)
        da *= self._at(cache[self._DKEY], t, b)
        return da

    def saturation(self, cache):
        return cache["D"].ravel()

    def recurrence_eigenvalues(self, params):
        return np.linalg.eigvals(np.asarray(params["W_hh"], dtype=np.float64)), "W_hh"

    def step_bound(self, params):
        """‖diag(f'(a)) W_hh‖₂ ≤ γ·σ_max(W_hh) (seeds, eq. 10)."""
        smax = float(np.linalg.norm(np.asarray(params["W_hh"], dtype=np.float64), 2))
        return self.act.gamma * smax, r"\gamma\,\sigma_{\max}(W_{hh})"

    def da_factor(self, cache):
        """f'(a_t) (T, B, H): ∂h_t/∂a_t = diag(f'(a_t))."""
        return cache["D"]

    def preactivations(self, cache):
        return cache["A"]
