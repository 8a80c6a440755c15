"""The independently recurrent neural network (IndRNN; Li, Li, Cook, Zhu & Gao, CVPR 2018, arXiv 1803.04831).

    a_t = W_hx x_t + u ⊙ h_{t−1} + b_h,   h_t = f(a_t)
    ∂h_t/∂h_{t−1} = diag(f'(a_t) ⊙ u)

Each unit is its own one-dimensional recurrence: the step Jacobian is diagonal, so ∂h_t/∂h_k =
diag(Π_{j=k+1..t} u ⊙ f'(a_j)) unit by unit, and the heatmap is exact at O(H) per entry at any T
(:meth:`IndRNNCell.jacobian_moduli`). Whether a unit's gradient vanishes or explodes is decided by |u_i| f'
alone: with ReLU units in their linear range, |u_i| = 1 keeps it exactly. ``model.spectral_radius`` sets
max_i |u_i| at initialisation (u_i = ρ·v_i / max v, v_i ~ U(u_min, 1) with u_min = ``model.indrnn_u_min``: every
unit starts with a positive retention). The paper also clips |u_i| during training; rnnlab does not, so a run can push |u_i| past 1 and the
spectrum view shows it.
"""

from __future__ import annotations

import numpy as np

from .base import input_error
from .rnn import VanillaCell

__all__ = ["IndRNNCell"]


class IndRNNCell(VanillaCell):
    """IndRNN: h_t = f(W_hx x_t + u ⊙ h_{t−1} + b_h); parameters W_hx (H, I), u (H,), b_h (H,)."""

    name = "indrnn"
    step_jacobian = "diag(f′(a{j}) ⊙ u)"
    label = "IndRNN"
    trainable = ("W_hx", "u", "b_h")
    extra_params = ("u",)
    recurrent_params = ("u",)
    supports_omega = False  # Ω is written for a full W_hh
    supports_hessian_free = False
    badges = ("independent units",)
    settings = ("model.indrnn_u_min",)
    unused_settings = {
        "model.init": "the IndRNN has no W_hh: its recurrence u is drawn with max |u_i| = model.spectral_radius",
        "model.nonnormality": "the IndRNN has no W_hh (its recurrence is the diagonal u)",
    }

    def param_shapes(self):
        H, I = self.n_hidden, self.n_in
        return {"W_hx": (H, I), "u": (H,), "b_h": (H,)}

    def init_params(self, model, rng):
        H = self.n_hidden
        p = {"W_hx": rng.standard_normal((H, self.n_in)) * model.input_scale}
        v = rng.uniform(model.indrnn_u_min, 1.0, H)
        p["u"] = model.spectral_radius * v / v.max()
        p["b_h"] = self.bias_init()
        return p

    def recurrent_matrix(self, params):
        return np.diag(np.asarray(params["u"], dtype=np.float64))

    def prepare(self, p, cache):
        pass  # nothing to align: the recurrence is elementwise

    @classmethod
    def _compiled_reference(cls):
        return IndRNNCell

    def _diag(self, p, dtype):
        """u: the compiled loops do the diagonal recurrence in their row pass."""
        return np.ascontiguousarray(p["u"], dtype=dtype)

    def recurrent_products(self, p, B, dtype, rng):
        """u ⊙ h_{t−1} forward and u ⊙ ∂E/∂a_t backward: elementwise (the recurrence is diagonal), as the NumPy path
        does them (the compiled loops do them inside their row pass, where they cost almost nothing: the bench's
        floor for this cell is mostly NumPy's per-call overhead)."""
        H = self.n_hidden
        u = np.asarray(p["u"], dtype=dtype)
        h = rng.standard_normal((B, H)).astype(dtype)
        z = np.empty((B, H), dtype=dtype)

        def products():
            np.multiply(h, u, out=z)
            np.multiply(h, u, out=z)

        return products

    def step(self, p, t, u_t, cache):
        A = cache["A"]
        np.multiply(cache["S"][t], p["u"], out=A[t])
        A[t] += u_t
        self._h_of_a(p, t, cache)

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        D = self._at(cache["D"], t, b)
        da = input_error(ds, D, du_out, accumulate)
        return np.multiply(da, p["u"], out=out)

    def jvp(self, p, dp, ds, cache, t, b=None):
        """ȧ_t = u ⊙ ḣ_{t−1} + u̇ ⊙ h_{t−1},  ḣ_t = f'(a_t) ⊙ ȧ_t."""
        du = self._tangents(dp).get("u")
        da = ds * p["u"]
        if du is not None:
            da += du * self._at(cache["S"], t, b)
        da *= self._at(cache["D"], t, b)
        return da

    def param_grads(self, p, x, cache, dU):
        T, B, _ = x.shape
        H = self.n_hidden
        grads = self._input_grads(x, dU.reshape(T * B, H))
        grads["u"] = np.einsum("tbh,tbh->h", dU, cache["S"][:T])
        return grads

    def jacobian(self, p, cache, t, b=0):
        return np.diag(cache["D"][t, b] * p["u"])

    def jacobian_moduli(self, p, cache, b=0):
        return np.abs(cache["D"][:, b, :] * p["u"])

    def recurrence_eigenvalues(self, params):
        return np.asarray(params["u"], dtype=np.float64).astype(complex), "u"

    def step_bound(self, params):
        """‖diag(f'(a) ⊙ u)‖₂ = max_i |f'(a_i) u_i| ≤ γ·max_i |u_i| (equality for linear units)."""
        return self.act.gamma * float(np.max(np.abs(params["u"]))), r"\gamma\,\max_i |u_i|"

    def da_factor(self, cache):
        raise NotImplementedError("the IndRNN's step Jacobian is diag(f' ⊙ u), not diag(f')·W_hh")
