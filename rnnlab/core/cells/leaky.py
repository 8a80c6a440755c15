"""The leaky-integrator cell and the echo state network (a leaky reservoir that is not trained).

    h_t = α ⊙ h_{t−1} + (1 − α) ⊙ f(a_t),   a_t = W_hx x_t + W_hh h_{t−1} + b_h,
    α ∈ [0, 1) per unit, the *retention* factor (Pascanu et al. 2013 §3.1; α = 0 is a vanilla unit; Jaeger's leak
    rate is a = 1 − α), drawn once uniformly in [model.leak_min, model.leak_max] and never trained.

    ∂h_t/∂h_{t−1} = diag(α) + diag((1 − α) ⊙ f'(a_t)) W_hh

For a linear unit with W_hh = 0 this is α^(t−k): a time constant of −1/ln α steps.
"""

from __future__ import annotations

import numpy as np

from .rnn import VanillaCell

__all__ = ["LeakyCell", "ESNCell"]


class LeakyCell(VanillaCell):
    """Leaky-integrator RNN, h_t = α ⊙ h_{t−1} + (1 − α) ⊙ f(a_t), with a fixed per-unit retention α (H,)."""

    name = "leaky"
    step_jacobian = "diag(α) + diag((1 − α)⊙f′(a{j}))·W_hh"
    label = "leaky-integrator RNN"
    leaky = True
    supports_omega = False  # Ω is defined on the vanilla Jacobian diag(f') W_hh
    supports_hessian_free = False  # the R-operator is written for the vanilla step only
    settings = ("model.leak_min", "model.leak_max")
    badges = ("leaky units",)

    def init_fixed(self, model, rng):
        lo, hi = model.leak_min, model.leak_max
        alpha = rng.uniform(lo, hi, self.n_hidden) if hi > lo else np.full(self.n_hidden, lo)
        return {"alpha": alpha}

    def new_cache(self, T, B, dtype, ws=None):
        c = super().new_cache(T, B, dtype, ws)
        c["F"] = c.buf("F", (T, B, self.n_hidden))  # f(a_t)
        return c

    def _h_of_a(self, p, t, cache):
        F, S = cache["F"], cache["S"]
        self.act.f(cache["A"][t], out=F[t])
        alpha = p["alpha"]
        np.multiply(S[t], alpha, out=S[t + 1])
        S[t + 1] += (1.0 - alpha) * F[t]

    def _fh(self, cache):
        return cache["F"]

    @classmethod
    def _compiled_reference(cls):
        return LeakyCell

    def _leak(self, p, dtype):
        """β = α, γ = 1 − α (the compiled loops' form of the step)."""
        alpha = np.ascontiguousarray(p["alpha"], dtype=dtype)
        return alpha, np.subtract(1.0, alpha, dtype=dtype)

    def finish(self, p, cache):
        super().finish(p, cache)
        cache["D1a"] = np.multiply(cache["D"], 1.0 - p["alpha"], out=cache.buf("D1a", cache["D"].shape))  # (1 − α) f'(a_t)

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

    def jvp(self, p, dp, ds, cache, t, b=None):
        out = super().jvp(p, dp, ds, cache, t, b)
        out += ds * p["alpha"]
        return out

    def recurrence_eigenvalues(self, params):
        alpha = np.asarray(params["alpha"], dtype=np.float64)
        A = np.diag(alpha) + (1.0 - alpha)[:, None] * np.asarray(params["W_hh"], dtype=np.float64)
        return np.linalg.eigvals(A), "diag(α) + diag(1−α)·W_hh"

    def step_bound(self, params):
        """‖diag(α) + diag((1−α) f'(a)) W_hh‖₂ ≤ max α + max(1−α)·γ·σ_max(W_hh) (triangle inequality)."""
        alpha = np.asarray(params["alpha"], dtype=np.float64)
        smax = float(np.linalg.norm(np.asarray(params["W_hh"], dtype=np.float64), 2))
        return float(alpha.max() + (1.0 - alpha).max() * self.act.gamma * smax), r"\max \alpha + \max(1 - \alpha)\,\gamma\,\sigma_{\max}(W_{hh})"

    def da_factor(self, cache):
        """(1 − α) ⊙ f'(a_t) (T, B, H): ∂h_t/∂a_t = diag((1 − α) f'(a_t))."""
        return cache["D1a"]


class ESNCell(LeakyCell):
    """Echo state network (Jaeger 2001): a leaky reservoir whose W_hx, W_hh and b_h stay as drawn; only the
    readout learns, by ridge regression on the states (see :class:`~rnnlab.train.trainer.Trainer`).

    The reservoir has a constant bias input (Jaeger 2001 §6 feeds one to the Mackey–Glass reservoir): b_h is drawn
    once uniformly in [−s, s] per unit, s = ``model.esn_bias`` (0: no bias), after α, so the other parameters of a
    seed do not change with s."""

    name = "esn"
    label = "echo state network"
    trainable = ()
    fixed_recurrence = True
    badges = ("leaky units", "echo state")
    settings = LeakyCell.settings + ("model.esn_bias",)

    def init_fixed(self, model, rng):
        fixed = super().init_fixed(model, rng)
        s = float(getattr(model, "esn_bias", 0.0))
        if s > 0:
            fixed["b_h"] = rng.uniform(-s, s, self.gate_size)
        return fixed
