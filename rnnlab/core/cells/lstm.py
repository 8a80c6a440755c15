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

How it is computed (every path the same function; the fused loop sums x_t, b_h and h_{t−1} in one product, so it
agrees with the step-by-step path to rounding): σ(z) = (1 + tanh(z/2))/2, and the halving is folded into copies of the
sigmoid gates' weights (exact: a power of two), so one tanh pass covers all four gates (with φ = tanh) followed by one
affine pass. The input is folded into the recurrent product: row t of the buffer ``SX`` (T + 1, B, I + 1 + 2H) is
[x_t, 1, h_{t−1}, c_{t−1}] (``S`` is a view of its last 2H columns, which start on a 64-byte boundary), so each
forward step is one batched call of four (B × (I + 1 + H))·((I + 1 + H) × H) products with the scaled [W_hx, b_h,
W_hh] blocks, with no separate input projection and no pass adding it (the whole step measured about 5 % faster in
float32 and 4–8 % in float64 than with the projection added step by step); the weight gradients ∂E/∂[W_hx, b_h, W_hh]
are one batched product of ∂E/∂z with the same rows. At one BLAS thread the four batched (H × H) blocks are as fast as
or faster than one (H × 4H) product or the transposed (4H × H)·(H × B) layout, forward and backward (one product is
faster only with two threads; see docs/cells.md). The gates are kept gate-major, (4, T, B, H), so that every
elementwise pass runs over contiguous memory (NumPy's per-row overhead on 128-wide rows cost more than the
arithmetic). After the loop, one vectorised pass stores what the backward pass multiplies by: K = [σ'_i g, σ'_f
c_{t−1}, φ'_g i, σ'_o φ(c_t)] and o φ'(c_t), so that each backward step is a handful of in-place products and the four
batched recurrent products.

With φ = tanh the same loops also run compiled (rnnlab/core/_kernels.c through :mod:`rnnlab.core._compiled`: the
same products, the elementwise work in C, one call per few steps). There K and KC are formed in the backward step
from the stored gates instead of stored, the weight gradients are summed step by step, and ∂E/∂z_t is kept for its
step only, in one (B, 4H) buffer (each row's gates side by side), so :meth:`du_buffer` and :meth:`param_grads` follow
the path the pass took. Each forward step's products go to a (4, B, H) buffer that stays in the cache, and the
gates from there into Z.
"""

from __future__ import annotations

import numpy as np

from .. import _compiled
from .._interrupt import checkpoint
from .._align import aligned_empty
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

    #: factors folded into the pre-activations (½ for the sigmoid gates i, f, o; 1 for g); the same factors and
    #: these offsets then turn tanh of the scaled pre-activation into the gate: σ(z) = ½ tanh(z/2) + ½
    _SCALE = (0.5, 0.5, 1.0, 0.5)
    #: the dtypes whose compiled weight-gradient products also take SX's zero columns before x_t, so that their width
    #: is I + 1 + H rounded up to whole 64-byte vectors (the bench's float32 LSTM: 144 instead of 137). OpenBLAS's
    #: small-matrix kernel took 4.8 ms for the 137-wide products of a pass and 4.1 ms with the 128 columns of W_hh
    #: alone; 144 wide, the backward pass was 0.3 ms faster (10.45 against 10.74 ms, median of 100 interleaved).
    #: In float64 it was 0.1 ms slower (21.13 against 21.01), so float64 keeps the 137.
    PAD_WGRAD = frozenset({"float32"})
    _AFF_C = (0.5, 0.5, 0.0, 0.5)

    def new_cache(self, T, B, dtype, ws=None):
        from ..workspace import take
        from .base import Cache

        H, I = self.n_hidden, self.n_in
        c = Cache()
        c.ws = ws
        # row t of SX is [x_t, 1, h_{t−1}, c_{t−1}]: its first I + 1 + H columns are the operand of step t's product
        # (the input folded into it), its last 2H the state s_{t−1}, so S is a view of it
        # a few leading columns unused, so that h and c start on 64-byte boundaries (with H a multiple of 16 or 8)
        # (zeros: the compiled backward pass's weight-gradient product reads them, see _backward_compiled)
        pad = -(I + 1) % (64 // np.dtype(dtype).itemsize)
        SXp = take(ws, "SX", (T + 1, B, pad + I + 1 + 2 * H), dtype)
        SXp[:, :, :pad] = 0.0
        SX = SXp[:, :, pad:]
        SX[0, :, I + 1 :] = 0.0
        SX[:, :, I] = 1.0
        c["SX"], c["S"], c["SX.pad"] = SX, SX[:, :, I + 1 :], pad
        c["Z"] = c.buf("Z", (4, T, B, H))  # gate values i, f, g, o (gate-major)
        c["PC"] = c.buf("PC", (T, B, H))  # φ(c_t)
        return c

    def prepare(self, p, cache):
        H, I = self.n_hidden, self.n_in
        W = p["W_hh"]
        dt = W.dtype
        sc = np.array(self._SCALE, dtype=dt)[:, None, None]
        ws = cache.ws
        # (64-byte aligned; from the network's workspace when there is one, so a training step does not page-fault
        # on fresh copies of the weights)
        cache["W"] = Wc = aligned_empty(W.shape, dt) if ws is None else ws.empty("lstm.W", W.shape, dt)
        np.copyto(Wc, W)  # (4H, H): probe rows' products
        cache["W3"] = Wc.reshape(4, H, H)  # the backward's batched product (a view)
        # the forward's batched product: s_k [W_hx,k, b_k, W_hh,k]ᵀ (4, I + 1 + H, H) times [x_t, 1, h_{t−1}]
        shape = (4, I + 1 + H, H)
        cache["W3a"] = W3a = aligned_empty(shape, dt) if ws is None else ws.empty("lstm.W3a", shape, dt)
        np.multiply(p["W_hx"].reshape(4, H, I).swapaxes(1, 2), sc, out=W3a[:, :I])
        np.multiply(p["b_h"].reshape(4, 1, H), sc, out=W3a[:, I : I + 1])
        np.multiply(W.reshape(4, H, H).swapaxes(1, 2), sc, out=W3a[:, I + 1 :])
        cache["W3Ts"] = W3a[:, I + 1 :]  # s_k W_kᵀ alone (the step-by-step path; a view)
        cache["sc"] = sc
        cache["affc"] = np.array(self._AFF_C, dtype=dt)[:, None, None]
        cache["affa"] = sc  # ½ tanh(z/2) + ½ for the sigmoid gates, tanh(z) itself for g

    def _prep(self, p, cache):
        if "W3a" not in cache:
            self.prepare(p, cache)

    def _loop_step(self, zt, h_prev, c_prev, c, pc, h, g_pre, tmp, cache):
        """One step on the scaled pre-activations zt (4, B, H) (the product and the input already added): gates in
        place, then c = f ⊙ c_{t−1} + i ⊙ g, φ(c), h = o ⊙ φ(c)."""
        if g_pre is not None:
            np.copyto(g_pre, zt[2])
        np.tanh(zt, out=zt)
        zt *= cache["affa"]
        zt += cache["affc"]
        if g_pre is not None:
            self.act.f(g_pre, out=zt[2])
        np.multiply(zt[1], c_prev, out=c)
        np.multiply(zt[0], zt[2], out=tmp)
        c += tmp
        self.act.f(c, out=pc)
        np.multiply(zt[3], pc, out=h)

    def step(self, p, t, u_t, cache):
        H = self.n_hidden
        self._prep(p, cache)
        S, Z = cache["S"], cache["Z"]
        zt = Z[:, t]
        B = zt.shape[1]
        np.matmul(S[t, :, :H], cache["W3Ts"], out=zt)
        zt += (u_t.reshape(B, 4, H).swapaxes(0, 1) * cache["sc"])
        g_pre = None if self.act.name == "tanh" else np.empty((B, H), dtype=zt.dtype)
        self._loop_step(zt, S[t, :, :H], S[t, :, H:], S[t + 1, :, H:], cache["PC"][t], S[t + 1, :, :H], g_pre,
                        np.empty((B, H), dtype=zt.dtype), cache)

    def forward_sequence(self, p, x, cache):
        T, B, I = x.shape
        H = self.n_hidden
        self._prep(p, cache)
        SX, S, Z, PC = cache["SX"], cache["S"], cache["Z"], cache["PC"]
        dt = Z.dtype
        SX[:T, :, :I] = x
        W3a = cache["W3a"]
        if self.compiled(dt):
            self._forward_compiled(SX, W3a, Z, PC, T, B, I, H, cache)
            return
        g_pre = None if self.act.name == "tanh" else np.empty((B, H), dtype=dt)
        tmp = np.empty((B, H), dtype=dt)
        for t in range(T):
            checkpoint()
            zt = Z[:, t]
            np.matmul(SX[t, :, : I + 1 + H], W3a, out=zt)  # the scaled s ⊙ z_t, input and bias included
            self._loop_step(zt, S[t, :, :H], S[t, :, H:], S[t + 1, :, H:], PC[t], S[t + 1, :, :H], g_pre, tmp, cache)
        self.finish(p, cache)

    def finish(self, p, cache):
        """K = [σ'_i g, σ'_f c_{t−1}, φ'_g i, σ'_o φ(c_t)] (4, T, B, H) and KC = o φ'(c_t) (T, B, H), vectorised."""
        H = self.n_hidden
        Z, PC, S = cache["Z"], cache["PC"], cache["S"]
        T = Z.shape[1]
        K = cache.buf("K", Z.shape)
        np.subtract(1.0, Z, out=K)  # 1 − s for the sigmoid gates (the g block is overwritten below)
        K[:2] *= Z[:2]
        K[3] *= Z[3]
        # every activation's f' is a function of f(a) (tanh, sigmoid; ReLU: f(a) > 0 exactly when a > 0; linear)
        self.act.df(Z[2], Z[2], out=K[2])
        K[0] *= Z[2]
        K[1] *= S[:T, :, H:]
        K[2] *= Z[0]
        K[3] *= PC
        KC = self.act.df(PC, PC, out=cache.buf("KC", PC.shape))
        KC *= Z[3]
        cache["K"], cache["KC"] = K, KC

    def du_buffer(self, T, B, dtype, ws=None):
        """Gate-major (4, T, B, H) for the NumPy loop. The compiled one forms the weight gradients itself, step by
        step, so it needs ∂E/∂z_t only during step t: one (B, 4H) buffer, each row's gates side by side, which stays
        in the cache (filling a (T, B, 4H) array, which it also accepts, made its float32 pass 0.3 ms slower)."""
        from ..workspace import take

        if self.compiled(dtype):
            return take(ws, "bptt.dU", (B, 4 * self.n_hidden), dtype)
        return take(ws, "bptt.dU", (4, T, B, self.n_hidden), dtype)

    def backward_sequence(self, p, dH, scored, cache, dU):
        T, B, H = dH.shape
        if dU.ndim in (2, 3):
            SX, Z = cache["SX"], cache["Z"]
            if (self.compiled(dH.dtype) and Z.shape[1] == T and dU.shape in ((T, B, 4 * H), (B, 4 * H))
                    and dU.flags.c_contiguous and dH.flags.c_contiguous and SX.strides[0] == B * SX.strides[1]):
                self._prep(p, cache)
                self._backward_compiled(dH, scored, cache, dU)
                return
            if dU.ndim == 2:
                raise ValueError("a (B, 4H) buffer of ∂E/∂z is for the compiled backward pass of a cache from "
                                 "forward_sequence; pass a (T, B, 4H) or (4, T, B, H) array")
            return super().backward_sequence(p, dH, scored, cache, dU)
        self._prep(p, cache)
        Z, W3 = cache["Z"], cache["W3"]
        dt = dH.dtype
        K, KC = self._k(cache)
        dh = np.zeros((B, H), dtype=dt)
        dc = np.zeros((B, H), dtype=dt)
        dct = np.empty((B, H), dtype=dt)
        prod = np.empty((4, B, H), dtype=dt)
        for t in range(T - 1, -1, -1):
            checkpoint()
            if scored[t]:
                dh += dH[t]
            np.multiply(dh, KC[t], out=dct)
            dct += dc  # ∂E/∂c_t in total
            du = dU[:, t]
            np.multiply(K[:3, t], dct, out=du[:3])
            np.multiply(K[3, t], dh, out=du[3])
            if t == 0:
                break  # ∂E/∂s_{−1} is not needed
            np.matmul(du, W3, out=prod)
            np.add.reduce(prod, axis=0, out=dh)
            np.multiply(dct, Z[1, t], out=dc)

    # --- the compiled path (rnnlab/core/_kernels.c; the same operations as the NumPy loops above) ----------------
    def compiled(self, dtype) -> bool:
        return self.act.name == "tanh" and _compiled.available(dtype)


    def _k(self, cache):
        """(K, KC) of :meth:`finish`, formed now if the compiled forward pass left them out."""
        if "K" not in cache:
            self.finish(None, cache)
        return cache["K"], cache["KC"]

    def _forward_compiled(self, SX, W3a, Z, PC, T, B, I, H, cache):
        """The forward loop in C, a few steps per call (:func:`~rnnlab.core._compiled.run_steps`; checkpoints
        between calls), over the batch's rows in one or two threads. K and KC are not stored: the compiled
        backward pass forms them from Z, φ(c) and c_{t−1}, and :meth:`_k` when something else needs them."""
        dt = Z.dtype
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[dt.name]
        fwd = lib.rnnlab_lstm_forward_f32 if dt == np.float32 else lib.rnnlab_lstm_forward_f64
        sz = dt.itemsize
        scr = cache.buf("lstm.a", (4, B, H))  # one step's products, which stay in the cache (see _kernels.c)
        args = (Z.shape[1], B, I, H, SX.ctypes.data, SX.strides[0] // sz, SX.strides[1] // sz, W3a.ctypes.data,
                Z.ctypes.data, PC.ctypes.data, scr.ctypes.data, gemm, ilp64)
        _compiled.run_steps(lambda t0, t1, b0, b1, first: fwd(t0, t1, b0, b1, *args), T, B,
                            8.0 * B * (I + 1 + H) * H, itemsize=sz)

    def _backward_compiled(self, dH, scored, cache, dU):
        """The backward loop in C, a few steps per call; ∂E/∂h and ∂E/∂c carried between calls in prod and dc.
        The weight gradients are formed step by step, while the step's ∂E/∂z is in the cache: four (H × B)·(B × D)
        products a step, which OpenBLAS runs in its small-matrix kernel without packing its operands (measured on
        the bench's backward pass: 0.1–0.5 ms faster in float32 and 2.2–3 ms in float64 than one product per call
        of 11 steps, whose packing cost most of the difference). With two threads (:func:`~rnnlab.core._compiled.over_rows`)
        each does half of the batch's rows and sums their weight gradients; the two sums are then added."""
        T, B, H = dH.shape
        dt = dH.dtype
        SX, Z, PC, W3 = cache["SX"], cache["Z"], cache["PC"], cache["W3"]
        I = SX.shape[2] - 1 - 2 * H
        D = I + 1 + H
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[dt.name]
        bwd = lib.rnnlab_lstm_backward_f32 if dt == np.float32 else lib.rnnlab_lstm_backward_f64
        sc = np.ascontiguousarray(scored, dtype=np.uint8)
        prod = cache.buf("bptt.prod", (4, B, H))
        dc = cache.buf("bptt.dc", (B, H), zero=True)
        # Σ_t ∂E/∂z_tᵀ [p_t, x_t, 1, h_{t−1}] (param_grads); in float32 with the zero columns p_t that SX has before
        # x_t (new_cache), which round the products' width up to whole vectors (:data:`PAD_WGRAD`)
        gpad = cache.get("SX.pad", 0) if dt.name in self.PAD_WGRAD else 0
        G = _compiled.RowSums(cache, "bptt.G", (4 * H, gpad + D), B)
        sz = dt.itemsize
        args = (dH.ctypes.data, sc.ctypes.data, SX.ctypes.data, SX.strides[0] // sz, SX.strides[1] // sz,
                Z.ctypes.data, PC.ctypes.data, dU.ctypes.data, W3.ctypes.data, prod.ctypes.data, dc.ctypes.data)

        du_t = B * 4 * H if dU.ndim == 3 else 0  # a (T, B, 4H) array filled, or one step's buffer reused

        def call(hi, lo, b0, b1, first):
            bwd(hi, lo, b0, b1, T, B, I, H, *args, G.ptr(b0), du_t, gpad, first, gemm, ilp64)

        _compiled.run_steps(call, T, B, 16.0 * B * D * H, backward=True, itemsize=sz)  # (products, weight gradient)
        cache.keep_for("G", dU, G.total()[:, gpad:])  # the weight gradients, for param_grads

    def vjp(self, p, ds, cache, t, b=None, du_out=None, out=None, accumulate=True):
        H = self.n_hidden
        dh, dc = ds[:, :H], ds[:, H:]
        N = ds.shape[0]
        K, KC = self._k(cache)
        if b is None:
            K, KC, f = K[:, t], KC[t], cache["Z"][1, t]
            Kt = K.swapaxes(0, 1)  # (B, 4, H)
        else:
            K, KC, f = K[:, t, b], KC[t, b], cache["Z"][1, t, b]
            Kt = K  # (4, H): broadcasts over the rows
        dct = dh * KC
        dct += dc
        dz = np.empty((N, 4 * H), dtype=ds.dtype)
        dz4 = dz.reshape(N, 4, H)
        np.multiply(Kt[..., :3, :], dct[:, None, :], out=dz4[:, :3])
        np.multiply(Kt[..., 3, :], dh, out=dz4[:, 3])
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
        ċ_t = ḟ c_{t−1} + f ċ_{t−1} + i̇ g + i ġ and ḣ_t = ȯ φ(c_t) + o φ'(c_t) ċ_t (with the stored products K, KC:
        ċ_t = K_f ż_f + f ċ_{t−1} + K_i ż_i + K_g ż_g, ḣ_t = K_o ż_o + KC ċ_t)."""
        H = self.n_hidden
        dW = self._tangents(dp).get("W_hh")
        S = self._at(cache["S"], t, b)
        h_prev = S[:, :H]
        dz = ds[:, :H] @ self._w(p, cache).T
        if dW is not None:
            dz += self._immediate(dW, h_prev, b)
        K, KC = self._k(cache)
        if b is None:
            K, KC, f = K[:, t].swapaxes(0, 1), KC[t], cache["Z"][1, t]
        else:
            K, KC, f = K[:, t, b], KC[t, b], cache["Z"][1, t, b]
        dz4 = dz.reshape(dz.shape[0], 4, H)
        dz4 *= K
        out = np.empty_like(ds)
        dc = out[:, H:]
        np.multiply(f, ds[:, H:], out=dc)
        dc += dz4[:, 0]
        dc += dz4[:, 1]
        dc += dz4[:, 2]
        np.multiply(KC, dc, out=out[:, :H])
        out[:, :H] += dz4[:, 3]
        return out

    def param_grads(self, p, x, cache, dU):
        I = x.shape[2]
        G = cache.take_for("G", dU)  # (formed already by the compiled backward pass, or None)
        if G is not None:
            return {"W_hx": G[:, :I], "b_h": G[:, I], "W_hh": G[:, I + 1 :]}
        if dU.ndim == 2:
            raise ValueError("a (B, 4H) buffer holds one step's ∂E/∂z: the weight gradients are those its compiled "
                             "backward pass formed, taken once")
        if dU.ndim != 4:
            return super().param_grads(p, x, cache, dU)
        _, T, B, H = dU.shape
        SX = cache["SX"]
        SX[:T, :, :I] = x  # (what the forward pass read; the step-by-step path leaves these columns unset)
        # Σ_t ∂E/∂z_t [x_t, 1, h_{t−1}] in one batched product: ∂E/∂W_hx, ∂E/∂b_h and ∂E/∂W_hh side by side
        A = SX[:T, :, : I + 1 + H].reshape(T * B, I + 1 + H)  # a view (rows I + 1 + 2H apart)
        G = np.matmul(dU.reshape(4, T * B, H).swapaxes(1, 2), A)  # (4, H, I + 1 + H)
        return {"W_hx": G[:, :, :I].reshape(4 * H, I), "b_h": G[:, :, I].reshape(4 * H),
                "W_hh": G[:, :, I + 1 :].reshape(4 * H, H)}

    def saturation(self, cache):
        g = cache["Z"][2]
        return self.act.df(g, g).ravel()
