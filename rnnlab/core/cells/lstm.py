"""LSTM with a forget gate (Gers, Schmidhuber & Cummins 2000 form).

Gate order in W_hx (4H, I), W_hh (4H, H), b_h (4H,): input i, forget f, candidate g, output o.

    z_t = W_hx x_t + W_hh h_{t−1} + b_h
    i = σ(z_i),  f = σ(z_f),  g = φ(z_g),  o = σ(z_o)          (φ = the configured activation, tanh by default)
    c_t = f ⊙ c_{t−1} + i ⊙ g
    h_t = o ⊙ φ(c_t)

The recurrent state is s_t = (h_t, c_t) (S = 2H); the heatmap shows ‖∂s_t/∂s_k‖ for this whole state, whose
Jacobian has the blocks
    ∂c_t/∂c_{t−1} = diag(f),   ∂c_t/∂h_{t−1} = diag(c_{t−1}σ'_f) W_f + diag(g σ'_i) W_i + diag(i φ'_g) W_g,
    ∂h_t/∂(·)     = diag(o φ'(c_t)) ∂c_t/∂(·) + [diag(φ(c_t) σ'_o) W_o, 0].
The forget-gate bias starts at +1 (a common choice that lets memory through at initialisation).
"""

from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from .base import Cell

__all__ = ["LSTMCell"]


class LSTMCell(Cell):
    """LSTM cell; state (h, c), S = 2H; projection width G = 4H."""

    name = "lstm"
    label = "LSTM"
    state_parts = ("h", "c")
    blocks, candidate = 4, 2  # i, f, g, o: the candidate g is reported
    badges = ("LSTM",)

    def bias_init(self):
        b = np.zeros(self.gate_size)
        b[self.n_hidden : 2 * self.n_hidden] = 1.0  # forget gate open at the start
        return b

    def new_cache(self, T, B, dtype):
        c = super().new_cache(T, B, dtype)
        H = self.n_hidden
        c["Z"] = np.empty((T, B, 4 * H), dtype=dtype)  # pre-activations, later overwritten by gate values
        c["PC"] = np.empty((T, B, H), dtype=dtype)  # φ(c_t)
        c["ZG"] = np.empty((T, B, H), dtype=dtype)  # pre-activation of g (for φ')
        return c

    def step(self, p, t, u_t, cache):
        H = self.n_hidden
        S, Z = cache["S"], cache["Z"]
        h_prev, c_prev = S[t, :, :H], S[t, :, H:]
        z = Z[t]
        np.matmul(h_prev, self._wt(p, cache), out=z)
        z += u_t
        zi, zf, zg, zo = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H], z[:, 3 * H :]
        cache["ZG"][t] = zg
        sigmoid(zi, out=zi)
        sigmoid(zf, out=zf)
        self.act.f(zg, out=zg)
        sigmoid(zo, out=zo)
        c = S[t + 1, :, H:]
        np.multiply(zf, c_prev, out=c)
        c += zi * zg
        pc = cache["PC"][t]
        self.act.f(c, out=pc)
        np.multiply(zo, pc, out=S[t + 1, :, :H])

    def finish(self, p, cache):
        H = self.n_hidden
        Z = cache["Z"]
        i, f, g, o = Z[..., :H], Z[..., H : 2 * H], Z[..., 2 * H : 3 * H], Z[..., 3 * H :]
        C = cache["S"][1:, :, H:]
        dgs = np.empty_like(Z)  # derivative of each gate nonlinearity wrt its pre-activation
        dgs[..., :H] = i * (1 - i)
        dgs[..., H : 2 * H] = f * (1 - f)
        dgs[..., 2 * H : 3 * H] = self.act.df(cache["ZG"], g)
        dgs[..., 3 * H :] = o * (1 - o)
        cache["DG"] = dgs
        cache["DPC"] = self.act.df(C, cache["PC"])  # φ'(c_t)

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        H = self.n_hidden
        at = self._at
        dh, dc = ds[:, :H], ds[:, H:]
        z = at(cache["Z"], t, b)
        i, f, g, o = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H], z[:, 3 * H :]
        pc = at(cache["PC"], t, b)
        c_prev = at(cache["S"], t, b)[:, H:]
        dct = dc + dh * o * at(cache["DPC"], t, b)
        dz = np.empty((ds.shape[0], 4 * H), dtype=ds.dtype)
        dz[:, :H] = dct * g
        dz[:, H : 2 * H] = dct * c_prev
        dz[:, 2 * H : 3 * H] = dct * i
        dz[:, 3 * H :] = dh * pc
        dz *= at(cache["DG"], t, b)
        if du_out is not None:
            if accumulate:
                du_out += dz
            else:
                du_out[...] = dz
        if out is None:
            out = np.empty_like(ds)
        np.matmul(dz, self._w(p, cache), out=out[:, :H])
        np.multiply(dct, f, out=out[:, H:])
        return out

    def jvp(self, p, dp, ds, cache, t, b=None):
        """ż = W_hh ḣ_{t−1} + Ẇ_hh h_{t−1}; each gate's tangent is its derivative times ż; then
        ċ_t = ḟ c_{t−1} + f ċ_{t−1} + i̇ g + i ġ and ḣ_t = ȯ φ(c_t) + o φ'(c_t) ċ_t."""
        H = self.n_hidden
        at = self._at
        dW = self._tangents(dp).get("W_hh")
        S = at(cache["S"], t, b)
        h_prev, c_prev = S[:, :H], S[:, H:]
        dz = ds[:, :H] @ self._w(p, cache).T
        if dW is not None:
            dz += self._immediate(dW, h_prev, b)
        dz *= at(cache["DG"], t, b)
        z = at(cache["Z"], t, b)
        i, f, g, o = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H], z[:, 3 * H :]
        di, df, dg, do = dz[:, :H], dz[:, H : 2 * H], dz[:, 2 * H : 3 * H], dz[:, 3 * H :]
        out = np.empty_like(ds)
        dc = out[:, H:]
        np.multiply(df, c_prev, out=dc)
        dc += f * ds[:, H:]
        dc += di * g
        dc += i * dg
        np.multiply(do, at(cache["PC"], t, b), out=out[:, :H])
        out[:, :H] += o * at(cache["DPC"], t, b) * dc
        return out

    def saturation(self, cache):
        H = self.n_hidden
        return cache["DG"][..., 2 * H : 3 * H].ravel()
