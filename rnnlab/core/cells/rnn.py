"""The vanilla (Elman) cell.

    a_t = W_hx x_t + W_hh h_{t−1} + b_h,   h_t = f(a_t)
    ∂h_t/∂h_{t−1} = diag(f'(a_t)) W_hh                      (seeds, eq. 9)
"""

from __future__ import annotations

import numpy as np

from .. import _compiled
from .base import Cell, input_error

__all__ = ["VanillaCell"]

#: largest ∂E/∂W_hh (bytes) the compiled backward loop sums step by step. Measured (B = 32, T = 50, one thread,
#: against one product after the loop): float32 H = 128 0.14 ms faster of 5.1, H = 256 3 % faster, H = 512 3 %
#: slower, H = 1024 and 2048 12–14 % slower (the 4–16 MB sum read and written at every step); float64 H = 128 4 %
#: faster, H = 256 8 %, H = 512 the same, H = 1024 4 % slower
STEP_GRAD_BYTES = 512 * 1024


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

    # --- the compiled path (rnnlab/core/_kernels.c: the same operations as step and vjp) ---------------------------
    _ACT_CODE = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}

    _COMPILED_METHODS = ("step", "_h_of_a", "vjp", "finish", "_fh", "_leak", "_diag")

    @classmethod
    def _compiled_reference(cls) -> type:
        """The class whose :data:`_COMPILED_METHODS` the compiled loops reproduce: the vanilla cell here; the cells
        with leaky units (their step is :meth:`_leak`'s β ⊙ h_{t−1} + γ ⊙ f(a_t)) and the IndRNN (:meth:`_diag`)
        name themselves."""
        return VanillaCell

    def compiled(self, dtype) -> bool:
        """For this class and any subclass that keeps the reference's step, its vector–Jacobian product and its
        factor pass (the orthogonal cell, which only derives W_hh; the echo state network, a leaky cell), not for
        those that change them."""
        return self._keeps_compiled_methods() and self.act.name in self._ACT_CODE and _compiled.available(dtype)

    def _leak(self, p: dict, dtype) -> tuple[np.ndarray, np.ndarray] | None:
        """(β, γ) (H,) of the step h_t = β ⊙ h_{t−1} + γ ⊙ f(a_t) that the compiled loops run, in ``dtype``; None:
        h_t = f(a_t) (the vanilla cell)."""
        return None

    def _diag(self, p: dict, dtype) -> np.ndarray | None:
        """u (H,) in ``dtype`` when the recurrence is the diagonal a_t = u ⊙ h_{t−1} + u_t (the IndRNN), which the
        compiled loops then do in their row pass instead of a product with W_hh; None: a product with W_hh."""
        return None


    def forward_sequence(self, p, x, cache):
        T, B, _ = x.shape
        S, A = cache["S"], cache["A"]
        F = cache.get("F")  # f(a_t), with leaky units
        if not (self.compiled(S.dtype) and S.flags.c_contiguous and A.flags.c_contiguous
                and (F is None or F.flags.c_contiguous)):
            return super().forward_sequence(p, x, cache)
        H = self.n_hidden
        U = self.input_proj(p, x, out=cache.buf("U", (T, B, H)))
        ud = self._diag(p, S.dtype)
        WT = self._wt(p, cache) if ud is None else None
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[S.dtype.name]
        fwd = lib.rnnlab_rnn_forward_f32 if S.dtype == np.float32 else lib.rnnlab_rnn_forward_f64
        beta, gamma = self._leak(p, S.dtype) or (None, None)
        F = None if beta is None else F
        # what finish forms after the NumPy loop, formed here row by row: f'(a_t), and with leaky units the factor
        # between ∂E/∂h_t and ∂E/∂a_t, γ ⊙ f'(a_t) (D1a, eD)
        D = cache.buf("D", A.shape)
        Dk = None if beta is None else cache.buf(self._DKEY, A.shape)
        args = (B, H, S.ctypes.data, A.ctypes.data, U.ctypes.data, *(None if v is None else v.ctypes.data for v in
                (WT, ud)), self._ACT_CODE[self.act.name], *(None if v is None else v.ctypes.data for v in
                (F, beta, gamma, D, Dk)), gemm, ilp64)
        _compiled.run_steps(lambda t0, t1, b0, b1, first: fwd(t0, t1, b0, b1, *args), T, B,
                            2.0 * B * H * (H if ud is None else 1), itemsize=S.itemsize)
        cache["D"] = D
        if Dk is not None:
            cache[self._DKEY] = Dk

    def backward_sequence(self, p, dH, scored, cache, dU):
        """The compiled loop where it runs (else the default's). Up to :data:`STEP_GRAD_BYTES` it also forms
        ∂E/∂W_hh step by step, while the step's ∂E/∂a is in the cache, one (H × B)·(B × H) product each
        (:meth:`_grad_W_hh` takes it from there; with two threads each sums its rows, then the two are added):
        measured, the bench's float64 step 0.4 ms faster than with one (H × T·B)·(T·B × H) product after the loop,
        which OpenBLAS ran at about 30 GFLOP/s on data that had left the cache, and the float32 step 0.14 ms."""
        T, B, H = dH.shape
        D, S = cache[self._DKEY], cache["S"]
        if not (self.compiled(dH.dtype) and dU.shape == (T, B, H) and dU.flags.c_contiguous
                and dH.flags.c_contiguous and D.flags.c_contiguous and D.shape[0] == T and S.flags.c_contiguous):
            return super().backward_sequence(p, dH, scored, cache, dU)
        ud = self._diag(p, dH.dtype)  # (the IndRNN: no W_hh, no product)
        W = np.ascontiguousarray(self._w(p, cache)) if ud is None else None
        lib, gemms = _compiled.kernels()
        gemm, ilp64 = gemms[dH.dtype.name]
        bwd = lib.rnnlab_rnn_backward_f32 if dH.dtype == np.float32 else lib.rnnlab_rnn_backward_f64
        sc = np.ascontiguousarray(scored, dtype=np.uint8)
        ds = np.zeros((B, H), dtype=dH.dtype)
        # (a large ∂E/∂W_hh goes in and out of the cache at every step's product: above STEP_GRAD_BYTES, one
        # product after the loop, as :meth:`_grad_W_hh` does)
        step_grad = ud is None and H * H * dH.itemsize <= STEP_GRAD_BYTES
        G = _compiled.RowSums(cache, "bptt.G", (H, H), B) if step_grad else None
        beta = (self._leak(p, dH.dtype) or (None,))[0]  # (ds ⊙ β + ∂E/∂a_t W_hh)
        args = (B, H, dH.ctypes.data, sc.ctypes.data, D.ctypes.data, dU.ctypes.data,
                None if W is None else W.ctypes.data, ds.ctypes.data, S.ctypes.data)
        ptrs = tuple(None if v is None else v.ctypes.data for v in (beta, ud))

        def call(hi, lo, b0, b1, first):
            bwd(hi, lo, b0, b1, *args, None if G is None else G.ptr(b0), *ptrs, first, gemm, ilp64)

        flops = 2.0 * B * H * (1 if ud is None else 0) * H + (2.0 * B * H * H if step_grad else 0.0) + 4.0 * B * H
        _compiled.run_steps(call, T, B, flops, backward=True, itemsize=dH.itemsize)  # (flops a step)
        if G is not None:
            cache.keep_for("G", dU, G.total())

    def _grad_W_hh(self, p, cache, dU):
        done = cache.take_for("G", dU)  # (the compiled backward pass formed it already)
        return super()._grad_W_hh(p, cache, dU) if done is None else done

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
