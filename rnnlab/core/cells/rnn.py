"""The vanilla (Elman) cell and the leaky-integrator cell (also the echo-state reservoir).

Vanilla:  a_t = W_hx x_t + W_hh h_{t−1} + b_h,   h_t = f(a_t)
          ∂h_t/∂h_{t−1} = diag(f'(a_t)) W_hh                      (seeds, eq. 9)

Leaky:    h_t = α ⊙ h_{t−1} + (1 − α) ⊙ f(a_t),  α ∈ [0, 1) per unit, the *retention* factor
          (Pascanu et al. 2013 §3.1; α = 0 is a vanilla unit; Jaeger's leak rate is a = 1 − α)
          ∂h_t/∂h_{t−1} = diag(α) + diag((1 − α) ⊙ f'(a_t)) W_hh
          For a linear unit with W_hh = 0 this is α^(t−k): a time constant of −1/ln α steps.
"""

from __future__ import annotations

import numpy as np

from .base import Cache, Cell

__all__ = ["VanillaCell", "LeakyCell"]


class VanillaCell(Cell):
    """Elman RNN, h_t = f(W_hx x_t + W_hh h_{t−1} + b_h). State = h (S = H), projection width G = H."""

    name = "rnn"

    @property
    def state_size(self) -> int:  # type: ignore[override]
        return self.n_hidden

    @property
    def gate_size(self) -> int:  # type: ignore[override]
        return self.n_hidden

    def new_cache(self, T, B, dtype):
        c = super().new_cache(T, B, dtype)
        c["A"] = np.empty((T, B, self.n_hidden), dtype=dtype)  # pre-activations a_t
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
        cache["D"] = self.act.df(cache["A"], self._fh(cache), out=np.empty_like(cache["A"]))

    def _fh(self, cache):
        return cache["S"][1:]

    _DKEY = "D"  # the cached factor between ds and da: f'(a) here, (1 − α) f'(a) for leaky units

    def _probe_matrix(self, p, cache, t, b):
        """J_tᵀ acting on rows: diag(f'(a_t)) W_hh for sequence b (S × S)."""
        return cache[self._DKEY][t, b][:, None] * self._w(p, cache)

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        if b is not None and du_out is None:
            # many probe rows of one sequence: fold diag(f') into W once, then a single product (no pass over
            # the rows for the elementwise factor; this is the heatmap's inner loop)
            return np.matmul(ds, self._probe_matrix(p, cache, t, b), out=out)
        D = self._at(cache[self._DKEY], t, b)
        if du_out is not None and not accumulate:
            da = np.multiply(ds, D, out=du_out)
        else:
            da = ds * D
            if du_out is not None:
                du_out += da
        return np.matmul(da, self._w(p, cache), out=out)

    def saturation(self, cache):
        return cache["D"].ravel()


class LeakyCell(VanillaCell):
    """Leaky-integrator RNN, h_t = α ⊙ h_{t−1} + (1 − α) ⊙ f(a_t), with a fixed per-unit retention α (H,)."""

    name = "leaky"

    def new_cache(self, T, B, dtype):
        c = super().new_cache(T, B, dtype)
        c["F"] = np.empty((T, B, self.n_hidden), dtype=dtype)  # f(a_t)
        return c

    def _h_of_a(self, p, t, cache):
        F, S = cache["F"], cache["S"]
        self.act.f(cache["A"][t], out=F[t])
        alpha = p["alpha"]
        np.multiply(S[t], alpha, out=S[t + 1])
        S[t + 1] += (1.0 - alpha) * F[t]

    def _fh(self, cache):
        return cache["F"]

    def finish(self, p, cache):
        super().finish(p, cache)
        cache["D1a"] = np.multiply(cache["D"], 1.0 - p["alpha"], out=np.empty_like(cache["D"]))  # (1 − α) f'(a_t)

    _DKEY = "D1a"

    def _probe_matrix(self, p, cache, t, b):
        M = super()._probe_matrix(p, cache, t, b)
        M[np.diag_indices_from(M)] += p["alpha"]  # + diag(α): the leak path
        return M

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        if b is not None and du_out is None:
            return super().vjp(p, ds, cache, t, b, du_out, out, accumulate)
        out = super().vjp(p, ds, cache, t, b, du_out, out, accumulate)
        out += ds * p["alpha"]
        return out
