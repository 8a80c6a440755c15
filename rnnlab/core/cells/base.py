"""The interface every recurrent cell implements.

Conventions (the seeds' column convention, applied to a batch of row vectors):

* ``x`` has shape (T, B, I); the state after input t is ``s_t`` with shape (B, S); ``s_{-1} = 0``.
* The input enters through one projection ``u_t = W_hx x_t + b_h`` of width G (G = H for the vanilla and leaky
  cells, 4H for the LSTM, 3H for the GRU), computed for all t by :meth:`Cell.input_proj` in one matrix product.
* ``step`` advances the state; ``vjp`` is the vector–Jacobian product of one step,
  ``ds_{t−1} = ds_t · ∂s_t/∂s_{t−1}`` (rows are covectors), and also returns ``du_t = ds_t · ∂s_t/∂u_t``;
  ``param_grads`` turns the stacked ``du`` into the gradients of W_hx, W_hh, b_h with a few large matrix products.

Everything generic (full and truncated BPTT, the heatmap, the gradient flow, Lyapunov exponents) is built on
these three methods, so each architecture is written once.
"""

from __future__ import annotations

import numpy as np

from .._align import aligned_copy
from ..activations import Activation

__all__ = ["Cell", "Cache"]


class Cache(dict):
    """Arrays recorded by the forward pass, each with leading axes (T, B).

    ``cache["S"]`` has shape (T + 1, B, S): ``S[0] = s_{-1} = 0`` and ``S[t + 1] = s_t``.
    """


class Cell:
    """Base class of the recurrent cells.

    Attributes
    ----------
    name : str
    n_in, n_hidden : int
        I and H.
    state_size : int
        S: H, or 2H for the LSTM (whose state is (h, c)).
    gate_size : int
        G: width of the input projection.
    act : Activation
    """

    name = "cell"

    def __init__(self, n_in: int, n_hidden: int, act: Activation):
        self.n_in = int(n_in)
        self.n_hidden = int(n_hidden)
        self.act = act

    state_size: int
    gate_size: int

    # --- parameters ---------------------------------------------------------------------------------------------
    recurrent_params = ("W_hx", "W_hh", "b_h")

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        G, H, I = self.gate_size, self.n_hidden, self.n_in
        return {"W_hx": (G, I), "W_hh": (G, H), "b_h": (G,)}

    def candidate_block(self, W_hh: np.ndarray) -> np.ndarray:
        """The (H, H) block of W_hh whose spectrum is reported as ρ(W_hh) and σ_max(W_hh)."""
        return W_hh

    # --- forward ------------------------------------------------------------------------------------------------
    def input_proj(self, p: dict, x: np.ndarray) -> np.ndarray:
        """u_t = W_hx x_t + b_h for every t: (T, B, I) -> (T, B, G)."""
        T, B, _ = x.shape
        U = x.reshape(T * B, -1) @ p["W_hx"].T
        U += p["b_h"]
        return U.reshape(T, B, self.gate_size)

    def new_cache(self, T: int, B: int, dtype) -> Cache:
        c = Cache()
        c["S"] = np.zeros((T + 1, B, self.state_size), dtype=dtype)
        return c

    def prepare(self, p: dict, cache: Cache) -> None:
        """Called once before the forward loop: 64-byte aligned copies of W_hh and of its transpose
        (the per-step products are the hot path; see :mod:`rnnlab.core._align`)."""
        cache["WT"] = aligned_copy(p["W_hh"].T)
        cache["W"] = aligned_copy(p["W_hh"])

    def _w(self, p: dict, cache: Cache) -> np.ndarray:
        w = cache.get("W")
        if w is None or w.shape != p["W_hh"].shape:
            return p["W_hh"]
        return w

    def _wt(self, p: dict, cache: Cache) -> np.ndarray:
        wt = cache.get("WT")
        if wt is None:
            self.prepare(p, cache)
            wt = cache["WT"]
        return wt

    def step(self, p: dict, t: int, u_t: np.ndarray, cache: Cache) -> None:
        """Compute s_t from s_{t−1} = cache["S"][t] and u_t (B, G); write it to cache["S"][t + 1]."""
        raise NotImplementedError

    def finish(self, p: dict, cache: Cache) -> None:
        """Vectorised post-processing after the whole sequence is known (e.g. f'(a) for all t at once)."""

    def hidden(self, cache: Cache) -> np.ndarray:
        """The hidden states h (T, B, H) (for the LSTM the h half of the state)."""
        return cache["S"][1:, :, : self.n_hidden]

    # --- backward -----------------------------------------------------------------------------------------------
    def vjp(self, p: dict, ds: np.ndarray, cache: Cache, t: int, b: int | None = None,
            du_out: np.ndarray | None = None, out: np.ndarray | None = None, accumulate: bool = True) -> np.ndarray:
        """Backpropagate through step t.

        Parameters
        ----------
        ds : (N, S) covectors ∂E/∂s_t. With ``b=None`` they are the batch (N = B); with ``b`` given, all N rows
            are probes of the single sequence b (the step's cached values broadcast over them).
        du_out : (N, G) or None. If given, ∂E/∂u_t is *added* into it (written, with ``accumulate=False``).
        out : (N, S) or None. Buffer for the result (must not overlap ``ds``).

        Returns
        -------
        ds_prev : (N, S) = ds · ∂s_t/∂s_{t−1}
        """
        raise NotImplementedError

    def param_grads(self, p: dict, x: np.ndarray, cache: Cache, dU: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of W_hx, W_hh, b_h from dU = ∂E/∂u (T, B, G) and the cache (a few large products)."""
        T, B, _ = x.shape
        G, H = self.gate_size, self.n_hidden
        dU2 = dU.reshape(T * B, G)
        grads = {
            "W_hx": dU2.T @ x.reshape(T * B, -1),
            "b_h": dU2.sum(axis=0),
        }
        grads["W_hh"] = self._grad_W_hh(p, cache, dU)
        return grads

    def _grad_W_hh(self, p: dict, cache: Cache, dU: np.ndarray) -> np.ndarray:
        """Σ_t dU_t^T h_{t−1} (the recurrent product of u_t ... is u_t + W_hh h_{t−1})."""
        T, B, G = dU.shape
        H = self.n_hidden
        Hprev = cache["S"][:T, :, :H]
        return dU.reshape(T * B, G).T @ Hprev.reshape(T * B, H)

    def jacobian(self, p: dict, cache: Cache, t: int, b: int = 0) -> np.ndarray:
        """The dense step Jacobian ∂s_t/∂s_{t−1} (S, S) of sequence b, built from :meth:`vjp` on the identity."""
        S = self.state_size
        eye = np.eye(S, dtype=cache["S"].dtype)
        return self.vjp(p, eye, cache, t, b)  # row i = e_i^T J  => the matrix J itself

    def saturation(self, cache: Cache) -> np.ndarray:
        """f'(a) of the units' nonlinearity at every step, flattened (for the saturation histogram)."""
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------------------------------
    @staticmethod
    def _at(arr: np.ndarray, t: int, b: int | None) -> np.ndarray:
        return arr[t] if b is None else arr[t, b : b + 1]
