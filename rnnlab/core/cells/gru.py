"""GRU as in Cho et al. 2014 (the reset gate applied *before* the recurrent product), and the "reset after" variant
of PyTorch and ONNX (``model.gru_reset_after``).

Gate order in W_hx (3H, I), W_hh (3H, H), b_h (3H,): update z, reset r, candidate n.

Cho et al. 2014 (``model.gru_reset_after = false``)::

    z = σ(W_z x_t + U_z h_{t−1} + b_z)
    r = σ(W_r x_t + U_r h_{t−1} + b_r)
    n = φ(W_n x_t + U_n (r ⊙ h_{t−1}) + b_n)        (φ = the configured activation, tanh by default)
    h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n

so ∂h_t/∂h_{t−1} = diag(z) + diag((h_{t−1} − n) σ'_z) U_z + diag((1 − z) φ'_n) U_n (diag(r) + diag(h_{t−1} σ'_r) U_r).

Reset after (``model.gru_reset_after = true``; PyTorch's ``nn.GRU`` and ONNX's GRU with ``linear_before_reset``):
the candidate has a recurrent bias b_hn (H,) of its own, an extra parameter, inside the reset::

    q = U_n h_{t−1} + b_hn
    n = φ(W_n x_t + b_n + r ⊙ q)

so ∂h_t/∂h_{t−1} = diag(z) + diag((h_{t−1} − n) σ'_z) U_z + diag((1 − z) φ'_n) (diag(r) U_n + diag(q σ'_r) U_r).
"""

from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from .base import Cell

__all__ = ["GRUCell"]


class GRUCell(Cell):
    """GRU cell; state h, S = H; projection width G = 3H. ``reset_after`` selects the variant (see the module)."""

    name = "gru"
    label = "GRU"
    blocks, candidate = 3, 2  # z, r, n: the candidate n is reported
    badges = ("GRU",)
    settings = ("model.gru_reset_after",)
    extra_params = ("b_hn",)  # the recurrent candidate bias of the reset-after variant

    def __init__(self, n_in, n_hidden, act, reset_after: bool = False):
        super().__init__(n_in, n_hidden, act)
        self._set_variant(reset_after)

    def configure(self, model):
        self._set_variant(model.gru_reset_after)

    def _set_variant(self, reset_after: bool) -> None:
        self.reset_after = bool(reset_after)
        extra = ("b_hn",) if self.reset_after else ()
        self.trainable = Cell.trainable + extra
        self.recurrent_params = ("W_hh",) + extra  # b_hn acts inside the recurrence

    def param_shapes(self):
        shapes = super().param_shapes()
        if self.reset_after:
            shapes["b_hn"] = (self.n_hidden,)
        return shapes

    def init_params(self, model, rng):
        p = super().init_params(model, rng)
        if self.reset_after:
            p["b_hn"] = np.zeros(self.n_hidden)
        return p

    def new_cache(self, T, B, dtype):
        c = super().new_cache(T, B, dtype)
        H = self.n_hidden
        c["Z"] = np.empty((T, B, 3 * H), dtype=dtype)  # pre-activations (z, r, n); overwritten by gate values
        c["NA"] = np.empty((T, B, H), dtype=dtype)  # pre-activation of n
        # Cho: r ⊙ h_{t−1};  reset after: q = U_n h_{t−1} + b_hn
        c["Q" if self.reset_after else "RH"] = np.empty((T, B, H), dtype=dtype)
        return c

    def step(self, p, t, u_t, cache):
        H = self.n_hidden
        S, Z = cache["S"], cache["Z"]
        h_prev = S[t]
        z = Z[t]
        zr = z[:, : 2 * H]
        WT = self._wt(p, cache)  # (H, 3H)
        np.matmul(h_prev, WT[:, : 2 * H], out=zr)
        zr += u_t[:, : 2 * H]
        sigmoid(zr, out=zr)
        na = cache["NA"][t]
        if self.reset_after:
            q = cache["Q"][t]
            np.matmul(h_prev, WT[:, 2 * H :], out=q)
            q += p["b_hn"]
            np.multiply(zr[:, H:], q, out=na)
        else:
            rh = cache["RH"][t]
            np.multiply(zr[:, H:], h_prev, out=rh)
            np.matmul(rh, WT[:, 2 * H :], out=na)
        na += u_t[:, 2 * H :]
        n = z[:, 2 * H :]
        self.act.f(na, out=n)
        zg = zr[:, :H]
        h = S[t + 1]
        # h = n + z (h_prev − n)
        np.subtract(h_prev, n, out=h)
        h *= zg
        h += n

    def finish(self, p, cache):
        H = self.n_hidden
        Z = cache["Z"]
        zr = Z[..., : 2 * H]
        cache["DZR"] = zr * (1 - zr)
        cache["DN"] = self.act.df(cache["NA"], Z[..., 2 * H :])

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        H = self.n_hidden
        at = self._at
        W = p["W_hh"]
        z = at(cache["Z"], t, b)
        zg, r, n = z[:, :H], z[:, H : 2 * H], z[:, 2 * H :]
        h_prev = at(cache["S"], t, b)
        dzr_d = at(cache["DZR"], t, b)
        du = np.empty((ds.shape[0], 3 * H), dtype=ds.dtype)
        dna = du[:, 2 * H :]
        np.multiply(ds * (1 - zg), at(cache["DN"], t, b), out=dna)
        du[:, :H] = ds * (h_prev - n) * dzr_d[:, :H]
        if self.reset_after:
            # na = u_n + r ⊙ q: dq = dna ⊙ r flows through U_n, dr = dna ⊙ q
            du[:, H : 2 * H] = dna * at(cache["Q"], t, b) * dzr_d[:, H:]
            out = np.matmul(du[:, : 2 * H], W[: 2 * H], out=out)
            out += (dna * r) @ W[2 * H :]
            out += ds * zg
        else:
            drh = dna @ W[2 * H :]
            du[:, H : 2 * H] = drh * h_prev * dzr_d[:, H:]
            out = np.matmul(du[:, : 2 * H], W[: 2 * H], out=out)
            out += ds * zg
            out += drh * r
        if du_out is not None:
            if accumulate:
                du_out += du
            else:
                du_out[...] = du
        return out

    def param_grads(self, p, x, cache, dU):
        grads = super().param_grads(p, x, cache, dU)
        if self.reset_after:
            T, B, _ = dU.shape
            H = self.n_hidden
            dq = (dU[..., 2 * H :] * cache["Z"][..., H : 2 * H]).reshape(T * B, H)
            grads["b_hn"] = dq.sum(axis=0)
        return grads

    def jvp(self, p, dp, ds, cache, t, b=None):
        """(ż, ṙ) pre-activations = U_{z,r} ḣ_{t−1} + U̇_{z,r} h_{t−1}, times σ'. Cho: (r⊙h)˙ = ṙ ⊙ h_{t−1} + r ⊙ ḣ_{t−1},
        ṅ = φ'_n ⊙ (U_n (r⊙h)˙ + U̇_n (r ⊙ h_{t−1})). Reset after: q̇ = U_n ḣ_{t−1} + U̇_n h_{t−1} + ḃ_hn,
        ṅ = φ'_n ⊙ (ṙ ⊙ q + r ⊙ q̇). Both: ḣ_t = ż ⊙ (h_{t−1} − n) + z ⊙ ḣ_{t−1} + (1 − z) ⊙ ṅ."""
        H = self.n_hidden
        at = self._at
        W = p["W_hh"]
        tang = self._tangents(dp)
        dW = tang.get("W_hh")
        h_prev = at(cache["S"], t, b)
        z = at(cache["Z"], t, b)
        zg, r, n = z[:, :H], z[:, H : 2 * H], z[:, 2 * H :]
        dzr = ds @ W[: 2 * H].T
        if dW is not None:
            dzr += self._immediate(dW[..., : 2 * H, :], h_prev, b)
        dzr *= at(cache["DZR"], t, b)
        if self.reset_after:
            dq = ds @ W[2 * H :].T
            if dW is not None:
                dq += self._immediate(dW[..., 2 * H :, :], h_prev, b)
            if tang.get("b_hn") is not None:
                dq += tang["b_hn"]  # (H,) for the batch, (N, H) along one sequence: rows line up either way
            dn = dzr[:, H:] * at(cache["Q"], t, b) + r * dq
        else:
            drh = dzr[:, H:] * h_prev + r * ds
            dn = drh @ W[2 * H :].T
            if dW is not None:
                dn += self._immediate(dW[..., 2 * H :, :], at(cache["RH"], t, b), b)
        dn *= at(cache["DN"], t, b)
        out = dzr[:, :H] * (h_prev - n)
        out += zg * ds
        out += (1 - zg) * dn
        return out

    def _grad_W_hh(self, p, cache, dU):
        T, B, G = dU.shape
        H = self.n_hidden
        Hprev = cache["S"][:T].reshape(T * B, H)
        d2 = dU.reshape(T * B, G)
        out = np.empty((3 * H, H), dtype=dU.dtype)
        out[: 2 * H] = d2[:, : 2 * H].T @ Hprev
        if self.reset_after:
            dq = d2[:, 2 * H :] * cache["Z"][:T, :, H : 2 * H].reshape(T * B, H)
            out[2 * H :] = dq.T @ Hprev
        else:
            out[2 * H :] = d2[:, 2 * H :].T @ cache["RH"].reshape(T * B, H)
        return out

    def saturation(self, cache):
        return cache["DN"].ravel()
