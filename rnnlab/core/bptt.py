"""Forward pass, loss, and exact backpropagation through time (full and truncated), vectorised over the batch.

BPTT (seeds eqs. 5–9; Pascanu et al. eq. 4)::

    ∂E/∂θ = Σ_t Σ_{k ≤ t} (∂E_t/∂h_t)(∂h_t/∂h_k)(∂⁺h_k/∂θ),   ∂h_t/∂h_k = Π_{j=k+1..t} ∂h_j/∂h_{j−1}

computed right to left with one vector–Jacobian product per step (:meth:`Cell.vjp`), then one large matrix
product per parameter.

Truncated BPTT(k1, k2) in Williams & Peng's sense: the forward pass runs over the whole sequence; at the ends of
every block of k1 steps (t_e = k1−1, 2k1−1, …, and T−1), the losses of the last k1 steps are backpropagated through
the last k2 steps only (to t_e − k2 + 1); the state before that window is treated as a constant. With k2 ≥ T this
is full BPTT.

Closed loop (teacher forcing with a ratio, :func:`forward` with ``feedback``): the input at step t is
``m_t x_t + (1 − m_t) ŷ_{t−1}`` where ŷ is the network's own output; the gradient through the fed-back output is
exact (it flows into W_yh, b_y and h_{t−1}).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._blas import blas_threads
from ._interrupt import checkpoint
from .cells import Cache
from .network import Network

__all__ = ["Trace", "forward", "outputs", "loss_and_dz", "backward", "loss_and_grads", "tbptt_windows"]


@dataclass
class Trace:
    """What the forward pass recorded.

    Attributes
    ----------
    x : (T, B, I) the inputs actually fed (with ``feedback``, the mixed ones)
    cache : Cache of the cell (``cache["S"]`` is (T + 1, B, S))
    z : (T, B, O) readout pre-activations: logits (softmax output) or predictions (linear output)
    feedback : (T, B) teacher-forcing weights m_t, or None (open loop)
    """

    x: np.ndarray
    cache: Cache
    z: np.ndarray
    feedback: np.ndarray | None = None

    @property
    def T(self) -> int:
        return self.x.shape[0]

    def hidden(self, net: Network) -> np.ndarray:
        """h (T, B, H), h[t] the state after input t."""
        return net.cell.hidden(self.cache)


def _blas_n(net: Network) -> int | None:
    """BLAS threads of a pass: one when the cell runs its rows in threads of its own (the compiled loops), so that
    no BLAS thread pool spins beside them; else the core's setting."""
    return 1 if net.cell.threads_itself(net.dtype) else None


def forward(net: Network, x: np.ndarray, feedback: np.ndarray | None = None) -> Trace:
    """Run the network over a batch.

    Overflow is not an error here: states that overflow become ±inf or NaN without a warning, and the caller
    (the trainer) checks ``np.isfinite`` and reports what exploded.

    Parameters
    ----------
    x : (T, B, I)
    feedback : (T, B) in [0, 1] or None
        Closed-loop mixing weights (1 = feed x_t, 0 = feed the network's previous output); needs I = O.

    Returns
    -------
    Trace
    """
    with np.errstate(all="ignore"), blas_threads(_blas_n(net)):
        return _forward(net, x, feedback)


def _forward(net: Network, x: np.ndarray, feedback: np.ndarray | None) -> Trace:
    cell, p, ws = net.cell, net.params, net.workspace
    dtype = net.dtype
    x = np.asarray(x, dtype=dtype)
    T, B, I = x.shape
    if I != net.n_in:
        raise ValueError(f"input has {I} channels, the network expects {net.n_in}")
    cache = cell.new_cache(T, B, dtype, ws)
    W_yh, b_y = p["W_yh"], p["b_y"]
    cell.prepare(p, cache)
    if feedback is None:
        cell.forward_sequence(p, x, cache)
        x_used = x
    else:
        if net.n_out != I:
            raise ValueError("closed-loop feedback needs as many outputs as inputs")
        feedback = np.asarray(feedback, dtype=dtype)
        x_used = x.copy()
        for t in range(T):
            checkpoint()
            if t > 0:
                m = feedback[t][:, None]
                yhat = cell.hidden(cache)[t - 1] @ W_yh.T + b_y
                x_used[t] = m * x[t] + (1.0 - m) * yhat
            u = cell.input_proj(p, x_used[t][None])[0]
            cell.step(p, t, u, cache)
        cell.finish(p, cache)
    h = cell.hidden(cache)
    O = W_yh.shape[0]
    z = ws.empty("bptt.z", (T, B, O), dtype)
    np.matmul(h.reshape(T * B, -1), W_yh.T, out=z.reshape(T * B, O))
    z += b_y
    return Trace(x_used, cache, z, feedback)


def outputs(net: Network, z: np.ndarray) -> np.ndarray:
    """Softmax probabilities (classification) or the predictions themselves (regression), shape of ``z``."""
    if net.output == "linear":
        return z
    with np.errstate(all="ignore"):  # logits that overflowed give NaN probabilities; the caller checks
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        e /= e.sum(axis=-1, keepdims=True)
    return e


def loss_and_dz(net: Network, z: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Loss and its gradient with respect to the readout pre-activations.

    loss = (1/N) Σ_{t,b} m_{t,b} ℓ_{t,b},  N = Σ m,  with
    ℓ = −log softmax(z)[y] (softmax output; ``y`` (T, B) class indices) or
    ℓ = (1/O) ‖z − y‖² (linear output; ``y`` (T, B, O)).

    Returns ``(loss, dz)`` with dz (T, B, O) = ∂loss/∂z.
    """
    mask = np.asarray(mask, dtype=z.dtype)
    n = float(mask.sum())
    if n <= 0:
        raise ValueError("the mask scores no step")
    with np.errstate(all="ignore"):
        return _loss_and_dz(net, z, y, mask, n)


#: the most classes the short-axis loss handles (beyond, NumPy's reductions over the last axis are the faster)
_FEW_CLASSES = 16


def _loss_and_dz(net, z, y, mask, n):
    w = (mask / n)[..., None]
    dz = net.workspace.empty("bptt.dz", z.shape, z.dtype)
    if net.output == "linear":
        O = z.shape[-1]
        np.subtract(z, y, out=dz)
        loss = float(np.einsum("tbo,tbo,tb->", dz, dz, w[..., 0]) / O)
        dz *= (2.0 / O) * w
        return loss, dz
    O = z.shape[-1]
    yi = np.asarray(y).astype(np.intp, copy=False)
    if O > _FEW_CLASSES or yi.shape != z.shape[:-1] or yi.size == 0 or yi.min() < 0 or yi.max() >= O:
        yi = yi[..., None]
        np.subtract(z, z.max(axis=-1, keepdims=True), out=dz)  # z − max z
        zy = np.take_along_axis(dz, yi, axis=-1)
        np.exp(dz, out=dz)
        s = dz.sum(axis=-1, keepdims=True)
        loss = float(-np.sum(w * (zy - np.log(s))))
        dz /= s  # softmax
        np.put_along_axis(dz, yi, np.take_along_axis(dz, yi, axis=-1) - 1.0, axis=-1)  # − onehot(y)
        dz *= w
        return loss, dz
    # the same operations over the (N, O) rows with few classes, in the orientation NumPy does fast: a reduction
    # over a short last axis took 134 µs at N = 3200, O = 8, the column-by-column maximum 23 and the sum as a
    # product with ones 4 (the whole loss: 0.47 ms before, ~0.1 after)
    N = yi.size
    z2, d2 = z.reshape(N, O), dz.reshape(N, O)
    m = z2[:, 0].copy()
    for k in range(1, O):
        np.maximum(m, z2[:, k], out=m)  # (NaN propagates, as in max)
    np.subtract(z2, m[:, None], out=d2)  # z − max z
    at = np.arange(0, N * O, O)
    at += yi.ravel()  # the flat index of each row's class
    flat = dz.reshape(-1)
    zy = flat[at]
    np.exp(d2, out=d2)
    s = d2 @ np.ones(O, dtype=d2.dtype)
    wr = np.broadcast_to(w[..., 0], yi.shape).reshape(N)
    loss = float(-np.dot(wr, zy - np.log(s)))
    d2 /= s[:, None]  # softmax
    flat[at] -= 1.0  # − onehot(y)
    d2 *= wr[:, None]
    return loss, dz


def tbptt_windows(T: int, k1: int = 0, k2: int = 0) -> list[tuple[int, int, int]]:
    """The backward windows ``(t_end, t_low, inject_low)``: errors of steps inject_low..t_end are backpropagated
    from t_end down to t_low. ``k1 = 0`` (or k2 ≥ T with k1 ≥ T) means full BPTT: one window (T−1, 0, 0)."""
    if k1 <= 0:
        return [(T - 1, 0, 0)]
    if k2 < k1:
        raise ValueError(f"truncated BPTT needs k2 >= k1, got k1={k1}, k2={k2}")
    ends = list(range(k1 - 1, T, k1))
    if not ends or ends[-1] != T - 1:
        ends.append(T - 1)
    out, prev = [], -1
    for te in ends:
        out.append((te, max(0, te - k2 + 1), prev + 1))
        prev = te
    return out


def backward(net: Network, trace: Trace, dz: np.ndarray, k1: int = 0, k2: int = 0,
             deltas: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Gradients of every parameter given dz = ∂E/∂z (T, B, O), by full (k1 = 0) or truncated BPTT(k1, k2).

    Returns a dict with the keys of ``net.params`` except ``alpha``; each array has its parameter's shape.
    Overflow gives non-finite gradients without a warning (the caller checks).

    ``deltas``: optional (T, B, S) array that receives δ_t = ∂E/∂s_t, the total derivative reaching the state at
    step t (summed over the truncation windows); Pascanu's Ω regulariser is built from it.
    """
    with np.errstate(all="ignore"), blas_threads(_blas_n(net)):
        return _backward(net, trace, dz, k1, k2, deltas)


def _backward(net: Network, trace: Trace, dz: np.ndarray, k1: int, k2: int,
              deltas: np.ndarray | None = None) -> dict[str, np.ndarray]:
    cell, p, cache, ws = net.cell, net.params, trace.cache, net.workspace
    T, B, O = dz.shape
    H, G = net.n_hidden, cell.gate_size
    W_yh = p["W_yh"]
    scored = np.flatnonzero(np.any(dz != 0, axis=(1, 2)))
    is_scored = np.zeros(T, dtype=bool)
    is_scored[scored] = True
    dH = ws.empty("bptt.dH", (T, B, H), dz.dtype)
    if scored.size == T:
        np.matmul(dz.reshape(T * B, O), W_yh, out=dH.reshape(T * B, H))
    elif scored.size:
        dH[scored] = dz[scored] @ W_yh
    fb = trace.feedback
    windows = tbptt_windows(T, k1, k2)
    # one window over the whole sequence visits every step exactly once: ∂E/∂u_t can be written, not added
    # (not when the readout's h_t also reaches u_t directly, through hidden_vjp)
    in_state = cell.hidden_is_state
    single = len(windows) == 1 and windows[0][1] == 0 and fb is None and in_state
    whole = len(windows) == 1 and windows[0][1] == 0 and fb is None  # full open-loop BPTT
    dz_fb = None
    if whole and deltas is None:
        dU = cell.du_buffer(T, B, dz.dtype, ws)
        cell.backward_sequence(p, dH, is_scored, cache, dU)
    else:
        dU = ws.empty("bptt.dU", (T, B, G), dz.dtype) if single else ws.zeros("bptt.dU", (T, B, G), dz.dtype)
        dz_fb = _backward_windows(net, trace, dH, is_scored, windows, single, dU, deltas)
    grads = cell.param_grads(p, trace.x, cache, dU)
    h = cell.hidden(cache)
    dz_all = dz if dz_fb is None else dz + dz_fb
    grads["W_yh"] = dz_all.reshape(T * B, -1).T @ h.reshape(T * B, H)
    # Σ over the (T·B) rows as a product with ones: NumPy's sum over the leading axes of (T, B, O) took 50 µs at
    # T·B = 3200, O = 8, the product 3–7
    grads["b_y"] = np.ones(T * B, dtype=dz_all.dtype) @ dz_all.reshape(T * B, -1)
    return grads


def _backward_windows(net, trace, dH, is_scored, windows, single, dU, deltas):
    """The general backward loop: truncation windows, closed loop, a readout that does not read the state, Ω's
    deltas. (Full open-loop BPTT without deltas goes through :meth:`Cell.backward_sequence`.) Returns the
    error sent back into the readout's outputs by the closed loop (T, B, O), or None."""
    cell, p, cache = net.cell, net.params, trace.cache
    T, B, H = dH.shape
    S, G = cell.state_size, cell.gate_size
    W_yh = p["W_yh"]
    dtype = dH.dtype
    in_state = cell.hidden_is_state
    fb = trace.feedback
    dz_fb = np.zeros((T, B, W_yh.shape[0]), dtype=dtype) if fb is not None else None
    for te, tlo, inj in windows:
        if not is_scored[inj : te + 1].any() and fb is None and not single:
            continue
        ds = np.zeros((B, S), dtype=dtype)
        extra = np.zeros((B, H), dtype=dtype) if fb is not None else None
        for t in range(te, tlo - 1, -1):
            checkpoint()
            dh = dH[t] if (t >= inj and is_scored[t]) else None
            if fb is not None:
                dh = extra if dh is None else dh + extra
            du = dU[t] if fb is None else np.zeros((B, G), dtype=dtype)
            if dh is not None:
                if in_state:
                    ds[:, :H] += dh
                else:  # h_t = g(s_t, u_t): ∂E/∂h_t reaches s_t and u_t
                    cell.hidden_vjp(p, dh, cache, t, None, ds_out=ds, du_out=du)
            if deltas is not None:
                deltas[t] += ds
            if fb is None:
                ds = cell.vjp(p, ds, cache, t, None, du_out=du, accumulate=not single)
            else:
                ds = cell.vjp(p, ds, cache, t, None, du_out=du)
                dU[t] += du
                if t > 0:
                    # x_t = m x_t + (1 − m) (W_yh h_{t−1} + b_y): send the error back into the readout and h_{t−1}
                    dyhat = (1.0 - fb[t])[:, None] * cell.input_vjp(p, du)
                    dz_fb[t - 1] += dyhat
                    extra = dyhat @ W_yh
    return dz_fb


def loss_and_grads(net: Network, x: np.ndarray, y: np.ndarray, mask: np.ndarray, k1: int = 0, k2: int = 0,
                   feedback: np.ndarray | None = None) -> tuple[float, dict[str, np.ndarray], Trace]:
    """Forward, loss and BPTT in one call: returns ``(loss, grads, trace)`` (see :func:`backward`)."""
    trace = forward(net, x, feedback)
    loss, dz = loss_and_dz(net, trace.z, y, mask)
    return loss, backward(net, trace, dz, k1, k2), trace
