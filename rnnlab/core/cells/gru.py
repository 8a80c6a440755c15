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

How it is computed (the same numbers on every path): as for the LSTM, σ(a) = (1 + tanh(a/2))/2 with the halving
folded into copies of U_z, U_r, W_z, W_r (exact); the buffers are gate-major, (4, T, B, H) holding z, r, then
r ⊙ h_{t−1} (Cho) or q (reset after), then n, so every elementwise pass runs over contiguous memory; the recurrent
products run as batched (H × H) products (all three at once in the reset-after variant, whose products all read
h_{t−1}); after the loop one vectorised pass stores the backward's factors
KZ = (h_{t−1} − n) σ'_z, KR = h_{t−1} σ'_r (Cho) or q σ'_r, KN = (1 − z) φ'_n.

With φ = tanh both variants also run compiled (rnnlab/core/_kernels.c through :mod:`rnnlab.core._compiled`: the same
products and buffers, the elementwise work in C, one call per few steps, the batch's rows over one or two threads).
There each step's products go to a (4, B, H) buffer that stays in the cache, the factors K are formed in the backward
step from Z and the states instead of stored (:meth:`_k` forms them when something else needs them), and every
weight gradient is summed step by step while the step's rows are in the cache (∂E/∂W_hh, and those of W_hx, b_h and
b_hn from rows [0…, x_t, 1]), so that ∂E/∂u_t lives for its step only. Measured on the bench's step (B = 32,
T = 100, H = 128, one thread): float32 13.0–13.1 ms against NumPy's 17.5, float64 26.3–26.5 against 36.5 (the
step-by-step sums: 1.0–1.2 ms and 3.3–3.9 ms of that).
"""

from __future__ import annotations

import numpy as np

from .. import _compiled
from .._interrupt import checkpoint
from .._align import aligned_copy
from ..workspace import take
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

    # --- forward ------------------------------------------------------------------------------------------------
    def new_cache(self, T, B, dtype, ws=None):
        c = super().new_cache(T, B, dtype, ws)
        # gate-major: z, r, (r ⊙ h_{t−1} | q), n
        c["Z"] = c.buf("Z", (4, T, B, self.n_hidden))
        return c

    def prepare(self, p, cache):
        H = self.n_hidden
        W = p["W_hh"]
        dt = W.dtype
        sc = np.array([0.5, 0.5, 1.0], dtype=dt)[:, None, None]
        cache["W"] = aligned_copy(W)  # (3H, H)
        cache["W3"] = cache["W"].reshape(3, H, H)
        cache["W3Ts"] = aligned_copy(np.swapaxes(W.reshape(3, H, H), 1, 2) * sc)  # ½U_zᵀ, ½U_rᵀ, U_nᵀ
        cache["sc"] = sc

    def recurrent_products(self, p, B, dtype, rng):
        if self.reset_after:
            return super().recurrent_products(p, B, dtype, rng)
        # Cho: U_z, U_r batched and U_n after the reset, both ways
        H = self.n_hidden
        W = np.asarray(p["W_hh"], dtype=dtype)
        W3T = aligned_copy(np.swapaxes(W.reshape(3, H, H), 1, 2))
        W3 = aligned_copy(W.reshape(3, H, H))
        h = rng.standard_normal((B, H)).astype(dtype)
        d = rng.standard_normal((3, B, H)).astype(dtype)
        z = np.empty((3, B, H), dtype=dtype)

        def products():
            np.matmul(h, W3T[:2], out=z[:2])
            np.matmul(h, W3T[2], out=z[2])
            np.matmul(d[2], W3[2], out=z[2])
            np.matmul(d[:2], W3[:2], out=z[:2])

        return products

    def _prep(self, p, cache):
        if "W3Ts" not in cache:
            self.prepare(p, cache)

    def _loop_step(self, p, zt, u, h_prev, h, cache):
        """zt (4, B, H): the step's gate-major slot; ``u`` (3, B, H) the scaled input projection of step t."""
        W3Ts = cache["W3Ts"]
        zr = zt[:2]
        if self.reset_after:
            np.matmul(h_prev, W3Ts, out=zt[:3])  # ½U_z h, ½U_r h, U_n h
            q = zt[2]
            q += p["b_hn"]
        else:
            np.matmul(h_prev, W3Ts[:2], out=zr)
        zr += u[:2]
        np.tanh(zr, out=zr)
        zr *= 0.5
        zr += 0.5
        na = zt[3]
        if self.reset_after:
            np.multiply(zt[1], q, out=na)
        else:
            rh = zt[2]
            np.multiply(zt[1], h_prev, out=rh)
            np.matmul(rh, W3Ts[2], out=na)
        na += u[2]
        self.act.f(na, out=na)
        # h = n + z (h_prev − n)
        np.subtract(h_prev, na, out=h)
        h *= zt[0]
        h += na

    def step(self, p, t, u_t, cache):
        self._prep(p, cache)
        S = cache["S"]
        B, H = S.shape[1], self.n_hidden
        u = u_t.reshape(B, 3, H).swapaxes(0, 1) * cache["sc"]
        self._loop_step(p, cache["Z"][:, t], u, S[t], S[t + 1], cache)

    def forward_sequence(self, p, x, cache):
        T, B, _ = x.shape
        H = self.n_hidden
        self._prep(p, cache)
        S, Z = cache["S"], cache["Z"]
        sc = cache["sc"]
        U = cache.buf("U", (3, T, B, H))
        Wx = np.swapaxes(p["W_hx"].reshape(3, H, -1), 1, 2) * sc  # (3, I, H), scaled
        np.matmul(x.reshape(T * B, -1), Wx, out=U.reshape(3, T * B, H))
        U += (p["b_h"].reshape(3, 1, 1, H) * sc[..., None])
        if self.compiled(Z.dtype) and S.flags.c_contiguous and Z.flags.c_contiguous:
            self._forward_compiled(p, S, U, Z, cache)
            cache["x"] = x  # (the compiled backward pass forms the input's gradients step by step)
            return
        for t in range(T):
            checkpoint()
            self._loop_step(p, Z[:, t], U[:, t], S[t], S[t + 1], cache)
        self.finish(p, cache)

    def finish(self, p, cache):
        """K (3, T, B, H) = [KZ, KR, KN] (see the module)."""
        Z, S = cache["Z"], cache["S"]
        T = Z.shape[1]
        Hprev = S[:T]
        z, n = Z[0], Z[3]
        K = cache.buf("K", (3,) + Z.shape[1:])
        np.subtract(1.0, Z[:2], out=K[:2])
        K[:2] *= Z[:2]  # σ'_z, σ'_r
        tmp = cache.buf("tmp", z.shape)
        np.subtract(Hprev, n, out=tmp)
        K[0] *= tmp
        K[1] *= Z[2] if self.reset_after else Hprev
        self.act.df(n, n, out=K[2])  # every f' is a function of f(a) (see the LSTM)
        np.subtract(1.0, z, out=tmp)
        K[2] *= tmp
        cache["K"] = K

    # --- backward -----------------------------------------------------------------------------------------------
    def du_buffer(self, T, B, dtype, ws=None):
        """Gate-major (blocks, T, B, H): z, r, (q,) n (the reset-after variant also keeps ∂E/∂q, for U_n and b_hn).
        The compiled loop, when it forms every weight gradient step by step (:meth:`_step_grads`), needs ∂E/∂u_t
        only during step t: one (blocks, B, H) buffer, which stays in the cache (it also fills a whole array when
        given one)."""
        nb = 4 if self.reset_after else 3
        if self.compiled(dtype) and self._step_grads(dtype):
            return take(ws, "bptt.dU", (nb, B, self.n_hidden), dtype)
        return take(ws, "bptt.dU", (nb, T, B, self.n_hidden), dtype)

    def _step_grads(self, dtype) -> bool:
        """Whether the compiled backward loop sums ∂E/∂W_hh step by step: up to
        :data:`~rnnlab.core.cells.rnn.STEP_GRAD_BYTES` per (H × H) block (a larger sum, read and written at every
        step, made the vanilla cell's step slower; above it, products after the loop)."""
        from .rnn import STEP_GRAD_BYTES

        return self.n_hidden ** 2 * np.dtype(dtype).itemsize <= STEP_GRAD_BYTES

    def backward_sequence(self, p, dH, scored, cache, dU):
        T, B, H = dH.shape
        nb = 4 if self.reset_after else 3
        one_step = dU.shape == (nb, B, H)  # one step's buffer (du_buffer; (T, B, 3H) is the generic layout)
        if dU.ndim != 4 and not one_step:
            return super().backward_sequence(p, dH, scored, cache, dU)
        self._prep(p, cache)
        Z, W3 = cache["Z"], cache["W3"]
        if (self.compiled(dH.dtype) and Z.shape[1] == T and dU.shape in ((nb, T, B, H), (nb, B, H))
                and dU.flags.c_contiguous and dH.flags.c_contiguous and cache["S"].flags.c_contiguous
                and (not one_step or ("x" in cache and self._step_grads(dH.dtype)))):
            self._backward_compiled(dH, scored, cache, dU)
            return
        if one_step:
            raise ValueError("a (blocks, B, H) buffer of ∂E/∂u is for the compiled backward pass of a cache from "
                             "forward_sequence; pass a (blocks, T, B, H) or (T, B, 3H) array")
        K = self._k(cache)
        dt = dH.dtype
        dh = np.zeros((B, H), dtype=dt)
        nb = 3 if self.reset_after else 2
        prod = np.empty((nb, B, H), dtype=dt)
        tmp = np.empty((B, H), dtype=dt)
        drh = np.empty((B, H), dtype=dt)
        for t in range(T - 1, -1, -1):
            checkpoint()
            if scored[t]:
                dh += dH[t]
            du = dU[:, t]
            np.multiply(dh, K[0, t], out=du[0])  # ∂E/∂a_z
            dna = du[-1]
            np.multiply(dh, K[2, t], out=dna)  # ∂E/∂a_n
            if self.reset_after:
                np.multiply(dna, K[1, t], out=du[1])  # ∂E/∂a_r = dna ⊙ q σ'_r
                np.multiply(dna, Z[1, t], out=du[2])  # ∂E/∂q = dna ⊙ r
                if t == 0:
                    break
                np.matmul(du[:3], W3, out=prod)
            else:
                np.matmul(dna, W3[2], out=drh)  # ∂E/∂(r ⊙ h_{t−1})
                np.multiply(drh, K[1, t], out=du[1])  # ∂E/∂a_r
                if t == 0:
                    break
                np.matmul(du[:2], W3[:2], out=prod)
            # ∂E/∂h_{t−1} = the products + dh ⊙ z (+ drh ⊙ r for Cho)
            np.multiply(dh, Z[0, t], out=tmp)
            np.add.reduce(prod, axis=0, out=dh)
            dh += tmp
            if not self.reset_after:
                np.multiply(drh, Z[1, t], out=tmp)
                dh += tmp

    # --- the compiled path (rnnlab/core/_kernels.c; the same operations as the NumPy loops above) ----------------
    def compiled(self, dtype) -> bool:
        return self.act.name == "tanh" and _compiled.available(dtype)


    def _k(self, cache):
        """K of :meth:`finish`, formed now if the compiled forward pass left it out (its backward pass forms the
        factors from Z and the states, as the LSTM's does)."""
        if "K" not in cache:
            self.finish(None, cache)
        return cache["K"]

    def _forward_compiled(self, p, S, U, Z, cache):
        """The forward loop in C, a few steps per call, over the batch's rows in one or two threads
        (:func:`~rnnlab.core._compiled.run_steps`), from the scaled input projection U (3, T, B, H). Each step's
        products go to a (4, B, H) buffer that stays in the cache. K is not stored (:meth:`_k`)."""
        T, B, H = Z.shape[1], Z.shape[2], self.n_hidden
        dt = Z.dtype
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[dt.name]
        fwd = lib.rnnlab_gru_forward_f32 if dt == np.float32 else lib.rnnlab_gru_forward_f64
        W3Ts = cache["W3Ts"]
        bhn = np.ascontiguousarray(p["b_hn"], dtype=dt) if self.reset_after else None
        scr = cache.buf("gru.a", (4, B, H))
        args = (T, B, H, int(self.reset_after), S.ctypes.data, U.ctypes.data, W3Ts.ctypes.data,
                None if bhn is None else bhn.ctypes.data, Z.ctypes.data, scr.ctypes.data, gemm, ilp64)
        _compiled.run_steps(lambda t0, t1, b0, b1, first: fwd(t0, t1, b0, b1, *args), T, B, 6.0 * B * H * H,
                            itemsize=dt.itemsize)

    def _backward_compiled(self, dH, scored, cache, dU):
        """The backward loop in C, a few steps per call; ∂E/∂h, ∂E/∂(r ⊙ h_{t−1}) and the products carried
        between calls. Where :meth:`_step_grads` allows, it forms every weight gradient step by step while the
        step's rows are in the cache (as the vanilla cell and the LSTM do; with two threads each sums its rows, then
        the two sums are added): ∂E/∂W_hh, and with the rows [0…, x_t, 1] of an input buffer those of W_hx, b_h and
        b_hn, so that ∂E/∂u_t is needed only during its step (dU one step's buffer). Otherwise it fills dU
        (gate-major, as the NumPy loop) and :meth:`param_grads` forms them after the loop."""
        T, B, H = dH.shape
        dt = dH.dtype
        nb = 4 if self.reset_after else 3
        S, Z, W3 = cache["S"], cache["Z"], cache["W3"]
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[dt.name]
        bwd = lib.rnnlab_gru_backward_f32 if dt == np.float32 else lib.rnnlab_gru_backward_f64
        sc = np.ascontiguousarray(scored, dtype=np.uint8)
        dh = cache.buf("bptt.dh", (B, H))
        drh = cache.buf("bptt.drh", (B, H))
        prod = cache.buf("bptt.prod", (3, B, H))
        G = Gin = XA = None  # (per-thread sums: _compiled.RowSums)
        pad = 0
        if self._step_grads(dt):
            G = _compiled.RowSums(cache, "bptt.G", (3, H, H), B)
            x = cache.get("x")
            if x is not None:
                # [zeros, x_t, 1]: the zeros round the input products' width up to whole 64-byte vectors
                I = x.shape[2]
                pad = -(I + 1) % (64 // dt.itemsize)
                XA = cache.buf("gru.XA", (T, B, pad + I + 1))
                XA[:, :, :pad] = 0.0
                XA[:, :, pad : pad + I] = x
                XA[:, :, pad + I] = 1.0
                Gin = _compiled.RowSums(cache, "bptt.Gin", (nb, H, pad + I + 1), B)
        one_step = dU.ndim == 3
        gdu, du_t = (B * H, 0) if one_step else (T * B * H, B * H)
        xa_w = 0 if XA is None else XA.shape[2]
        args = (T, B, H, int(self.reset_after), dH.ctypes.data, sc.ctypes.data, S.ctypes.data, Z.ctypes.data,
                dU.ctypes.data, gdu, du_t, W3.ctypes.data, dh.ctypes.data, drh.ctypes.data, prod.ctypes.data)

        def call(hi, lo, b0, b1, first):
            bwd(hi, lo, b0, b1, *args, None if G is None else G.ptr(b0), None if XA is None else XA.ctypes.data,
                xa_w, None if Gin is None else Gin.ptr(b0), first, gemm, ilp64)

        _compiled.run_steps(call, T, B, (12.0 if G is not None else 6.0) * B * H * H, backward=True,
                            itemsize=dt.itemsize)
        if G is not None:
            cache.keep_for("G", dU, (G.total(), None if Gin is None else (Gin.total(), pad)))

    def _step_factors(self, cache, t, b):
        Z, K = cache["Z"], self._k(cache)
        if b is None:
            return (Z[0, t], Z[1, t], Z[2, t]), (K[0, t], K[1, t], K[2, t])
        return (Z[0, t, b], Z[1, t, b], Z[2, t, b]), (K[0, t, b], K[1, t, b], K[2, t, b])

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        H = self.n_hidden
        W = self._w(p, cache)
        (zg, r, _), (KZ, KR, KN) = self._step_factors(cache, t, b)
        du = np.empty((ds.shape[0], 3 * H), dtype=ds.dtype)
        dna = du[:, 2 * H :]
        np.multiply(ds, KN, out=dna)
        np.multiply(ds, KZ, out=du[:, :H])
        if self.reset_after:
            # na = u_n + r ⊙ q: dq = dna ⊙ r flows through U_n, dr = dna ⊙ q
            np.multiply(dna, KR, out=du[:, H : 2 * H])
            out = np.matmul(du[:, : 2 * H], W[: 2 * H], out=out)
            out += (dna * r) @ W[2 * H :]
            out += ds * zg
        else:
            drh = dna @ W[2 * H :]
            np.multiply(drh, KR, out=du[:, H : 2 * H])
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
        H = self.n_hidden
        done = cache.take_for("G", dU)  # (∂E/∂W_hh and maybe the input's sums, formed by the compiled backward pass)
        if done is not None and done[1] is not None:  # the compiled backward pass formed every weight gradient
            Gin, pad = done[1]
            I = x.shape[2]
            ins = (0, 1, 3) if self.reset_after else (0, 1, 2)  # the blocks the input reaches: z, r, n
            grads = {"W_hx": Gin[ins, :, pad : pad + I].reshape(3 * H, I),
                     "b_h": Gin[ins, :, pad + I].reshape(3 * H), "W_hh": done[0].reshape(3 * H, H)}
            if self.reset_after:
                grads["b_hn"] = Gin[2, :, pad + I]  # (∂E/∂q's sum: its product with the ones column)
            return grads
        if dU.ndim == 3 and dU.shape == (4 if self.reset_after else 3, x.shape[1], H):
            raise ValueError("a (blocks, B, H) buffer holds one step's ∂E/∂u: the weight gradients are those its "
                             "compiled backward pass formed, taken once")
        T, B = dU.shape[-3:-1] if dU.ndim == 4 else dU.shape[:2]
        Z = cache["Z"]
        Hprev = cache["S"][:T].reshape(T * B, H)
        if dU.ndim == 4:  # gate-major, from backward_sequence
            d = dU.reshape(dU.shape[0], T * B, H)
            du_n = d[-1]
            dzr = d[:2]
            if self.reset_after:  # z, r, q, n: the input reaches z, r and n
                gz = self._input_grads(x, dzr)
                gn = self._input_grads(x, du_n)
                grads = {"W_hx": np.concatenate([gz["W_hx"], gn["W_hx"]]),
                         "b_h": np.concatenate([gz["b_h"], gn["b_h"]])}
            else:
                grads = self._input_grads(x, d)
            if done is not None:  # the compiled backward pass formed ∂E/∂W_hh (for this dU, see above)
                grads["W_hh"] = done[0].reshape(3 * H, H)
                if self.reset_after:
                    grads["b_hn"] = d[2].sum(axis=0)
                return grads
            gw = np.empty((3, H, H), dtype=dU.dtype)
            if self.reset_after:
                np.matmul(d[:3].swapaxes(1, 2), Hprev, out=gw)
                grads["b_hn"] = d[2].sum(axis=0)
            else:
                np.matmul(dzr.swapaxes(1, 2), Hprev, out=gw[:2])
                np.matmul(du_n.T, Z[2].reshape(T * B, H), out=gw[2])
            grads["W_hh"] = gw.reshape(3 * H, H)
            return grads
        grads = super().param_grads(p, x, cache, dU)
        grads["W_hh"] = self._grad_W_hh(p, cache, dU)  # the candidate's block reads r ⊙ h_{t−1} or gives q
        if self.reset_after:
            dq = (dU[..., 2 * H :] * Z[1]).reshape(T * B, H)
            grads["b_hn"] = dq.sum(axis=0)
        return grads

    def _grad_W_hh(self, p, cache, dU):
        T, B, G = dU.shape
        H = self.n_hidden
        Hprev = cache["S"][:T].reshape(T * B, H)
        d2 = dU.reshape(T * B, G)
        out = np.empty((3 * H, H), dtype=dU.dtype)
        out[: 2 * H] = d2[:, : 2 * H].T @ Hprev
        if self.reset_after:
            dq = d2[:, 2 * H :] * cache["Z"][1].reshape(T * B, H)
            out[2 * H :] = dq.T @ Hprev
        else:
            out[2 * H :] = d2[:, 2 * H :].T @ cache["Z"][2].reshape(T * B, H)
        return out

    def jvp(self, p, dp, ds, cache, t, b=None):
        """(ż, ṙ) pre-activations = U_{z,r} ḣ_{t−1} + U̇_{z,r} h_{t−1}, times σ'. Cho: (r⊙h)˙ = ṙ ⊙ h_{t−1} + r ⊙ ḣ_{t−1},
        ṅ = φ'_n ⊙ (U_n (r⊙h)˙ + U̇_n (r ⊙ h_{t−1})). Reset after: q̇ = U_n ḣ_{t−1} + U̇_n h_{t−1} + ḃ_hn,
        ṅ = φ'_n ⊙ (ṙ ⊙ q + r ⊙ q̇). Both: ḣ_t = ż ⊙ (h_{t−1} − n) + z ⊙ ḣ_{t−1} + (1 − z) ⊙ ṅ (with the stored
        factors: KZ ż_pre + z ḣ_{t−1} + KN ṅ_pre)."""
        H = self.n_hidden
        W = self._w(p, cache)
        tang = self._tangents(dp)
        dW = tang.get("W_hh")
        h_prev = self._at(cache["S"], t, b)
        (zg, r, mid), (KZ, KR, KN) = self._step_factors(cache, t, b)
        dzr = ds @ W[: 2 * H].T
        if dW is not None:
            dzr += self._immediate(dW[..., : 2 * H, :], h_prev, b)
        if self.reset_after:
            dq = ds @ W[2 * H :].T
            if dW is not None:
                dq += self._immediate(dW[..., 2 * H :, :], h_prev, b)
            if tang.get("b_hn") is not None:
                dq += tang["b_hn"]  # (H,) for the batch, (N, H) along one sequence: rows line up either way
            dn = dzr[:, H:] * KR + r * dq
        else:
            drh = dzr[:, H:] * KR + r * ds
            dn = drh @ W[2 * H :].T
            if dW is not None:
                dn += self._immediate(dW[..., 2 * H :, :], mid if b is None else mid[None], b)
        out = dzr[:, :H] * KZ
        out += zg * ds
        out += KN * dn
        return out

    def saturation(self, cache):
        n = cache["Z"][3]
        return self.act.df(n, n).ravel()
