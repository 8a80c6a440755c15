"""The interface every recurrent cell implements.

Conventions (the seeds' column convention, applied to a batch of row vectors):

* ``x`` has shape (T, B, I); the state after input t is ``s_t`` with shape (B, S); ``s_{-1} = 0``.
* The input enters through one projection ``u_t = W_hx x_t + b_h`` of width G (G = H for the vanilla and leaky
  cells, 4H for the LSTM, 3H for the GRU), computed for all t by :meth:`Cell.input_proj` in one matrix product.
* ``step`` advances the state; ``vjp`` is the vector–Jacobian product of one step,
  ``ds_{t−1} = ds_t · ∂s_t/∂s_{t−1}`` (rows are covectors), and also returns ``du_t = ds_t · ∂s_t/∂u_t``;
  ``param_grads`` turns the stacked ``du`` into the gradients of W_hx, W_hh, b_h with a few large matrix products.

Everything generic (full and truncated BPTT, the heatmap, the gradient flow, Lyapunov exponents) is built on
these three methods, so each architecture is written once. A cell also owns its parameters
(:meth:`Cell.init_params`) and declares its capabilities as class attributes; the rest of rnnlab asks those
(see :mod:`rnnlab.train.rules`) and never compares architecture names.

To add a cell: write ``<name>.py`` in this package (a subclass of :class:`Cell` with ``name``, the maths and the
capabilities), add it to ``CELLS`` in ``__init__.py`` and its name to ``ARCHS`` in :mod:`rnnlab.config` (a test
keeps the two equal). The gradient and heatmap tests run over the registry, so it is checked by being registered.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._interrupt import checkpoint
from .._align import aligned_copy
from ..activations import Activation
from ..workspace import Workspace, take

__all__ = ["Cell", "Cache", "input_error"]


def input_error(ds: np.ndarray, D: np.ndarray, du_out: np.ndarray | None, accumulate: bool) -> np.ndarray:
    """``da = ds ⊙ D``: the error at the pre-activation (``D`` the elementwise factor of the step, e.g. f'(a_t)),
    which is also ∂E/∂u_t; written into ``du_out`` (``accumulate=False``) or added to it, when given."""
    if du_out is not None and not accumulate:
        return np.multiply(ds, D, out=du_out)
    da = ds * D
    if du_out is not None:
        du_out += da
    return da


class Cache(dict):
    """Arrays recorded by the forward pass, each with leading axes (T, B). Private to the cell that wrote it:
    other code reads it through the cell's methods (:meth:`Cell.hidden`, :meth:`Cell.da_factor`, …).

    ``cache["S"]`` has shape (T + 1, B, S): ``S[0] = s_{-1} = 0`` and ``S[t + 1] = s_t``.

    ``ws``: the network's :class:`~rnnlab.core.workspace.Workspace` the large arrays come from (None: fresh arrays).
    """

    ws: Workspace | None = None

    def buf(self, name: str, shape, dtype=None, zero: bool = False) -> np.ndarray:
        """A (T, B, ·) array for this pass: from the workspace when there is one (uninitialised unless ``zero``)."""
        return take(self.ws, name, shape, self["S"].dtype if dtype is None else dtype, zero)

    def keep_for(self, name: str, du: np.ndarray, value) -> None:
        """Keep ``value`` (sums a compiled backward pass formed, such as a weight gradient) for the ``param_grads``
        of this very ∂E/∂u array ``du`` (:meth:`take_for`)."""
        self[name] = (du, value)

    def take_for(self, name: str, du: np.ndarray):
        """What :meth:`keep_for` kept under ``name`` if it was kept for this very ``du`` (once), else None."""
        kept = self.pop(name, None)
        return kept[1] if kept is not None and kept[0] is du else None


class Cell:
    """Base class of the recurrent cells.

    Attributes
    ----------
    n_in, n_hidden : int
        I and H.
    state_size : int
        S: H, or 2H for the LSTM (whose state is (h, c)).
    gate_size : int
        G = ``blocks`` · H: width of the input projection.
    act : Activation

    Declarations (class attributes; subclasses override)
    ----------------------------------------------------
    name : str
        The registry key, i.e. the value of ``model.arch``.
    label : str
        A person's name for the cell.
    state_parts : tuple of str
        The parts of the recurrent state s, in order (``("h",)``; the LSTM's ``("h", "c")``; the LRU's
        ``("x_re", "x_im")``): the heatmap is of the whole state and says so.
    hidden_is_state : bool
        The hidden vector h that the readout reads is the first H coordinates of s (every cell but the LRU, whose h
        is a nonlinear function of its state x and of the input: it overrides :meth:`hidden_vjp`).
    trainable : tuple of str
        The cell's parameters that learn (the readout W_yh, b_y belongs to the network and always learns).
    fixed_recurrence : bool
        The recurrence is a fixed random reservoir (echo state network): only the readout learns, by ridge
        regression on the states instead of by gradient steps.
    leaky : bool
        Units keep a fixed per-unit retention α (``model.leak_min`` … ``model.leak_max``).
    supports_omega : bool
        Pascanu's Ω regulariser applies: the step Jacobian is diag(:meth:`da_factor`)·W_hh (plus a fixed diagonal).
    supports_hessian_free : bool
        The R-operator of :mod:`rnnlab.train.hessian_free` is written for this cell.
    settings : tuple of str
        ``model.*`` keys that only some cells read (e.g. the leak range): :func:`rnnlab.train.rules.applies` greys
        them out for the other cells.
    badges : tuple of str
        Short texts naming what the cell itself does against vanishing gradients ("LSTM", "leaky units"), shown
        with the remedies in force.
    unused_settings : dict
        ``{model key: why}`` for common ``model.*`` keys this cell does not read (the orthogonal cell ignores
        ``model.spectral_radius``: its W_hh is orthogonal by construction); the panels grey them out with the why.
    extra_params : tuple of str
        Parameter names of this cell beyond W_hx, W_hh, b_h (the IndRNN's ``u``).
    radius_scales_recurrence : bool
        :meth:`recurrent_matrix` is proportional to ``model.spectral_radius`` for a fixed seed (a preview may
        rescale one draw instead of drawing again); False for the antisymmetric cell, whose I + ε(W − Wᵀ − γI) is
        not.
    recurrent_params : tuple of str
        θ_rec, the parameters of the recurrence itself (W_hh; the IndRNN's u; the LRU's ν, θ): the directions of
        :meth:`jvp` and of the curse-of-memory sensitivity ‖ds_t/dθ_rec‖.
    derived_params : tuple of str
        Parameters computed from others (the orthogonal cell's W_hh = exp(A − Aᵀ)): kept for readers (spectra,
        ``inspect``), recomputed by :meth:`after_update`, never given a gradient.
    blocks, candidate : int
        W_hh stacks ``blocks`` (H × H) blocks (the gates); block ``candidate`` is the one whose ρ and σ_max are
        reported and set by ``model.spectral_radius``.
    step_jacobian : str
        The step Jacobian ∂s_j/∂s_{j−1} written out, with ``{j}`` for the step ("diag(f′(a{j}))·W_hh" for the
        vanilla RNN), for the unrolled view's slow motion; "" where it is no short formula (gated cells).
    """

    name: ClassVar[str] = "cell"
    label: ClassVar[str] = "recurrent cell"
    state_parts: ClassVar[tuple[str, ...]] = ("h",)
    hidden_is_state: ClassVar[bool] = True
    trainable: ClassVar[tuple[str, ...]] = ("W_hx", "W_hh", "b_h")
    fixed_recurrence: ClassVar[bool] = False
    leaky: ClassVar[bool] = False
    supports_omega: ClassVar[bool] = False
    supports_hessian_free: ClassVar[bool] = False
    settings: ClassVar[tuple[str, ...]] = ()
    badges: ClassVar[tuple[str, ...]] = ()
    unused_settings: ClassVar[dict[str, str]] = {}
    extra_params: ClassVar[tuple[str, ...]] = ()
    radius_scales_recurrence: ClassVar[bool] = True
    recurrent_params: ClassVar[tuple[str, ...]] = ("W_hh",)
    derived_params: ClassVar[tuple[str, ...]] = ()
    blocks: ClassVar[int] = 1
    candidate: ClassVar[int] = 0
    step_jacobian: ClassVar[str] = ""

    def __init__(self, n_in: int, n_hidden: int, act: Activation):
        self.n_in = int(n_in)
        self.n_hidden = int(n_hidden)
        self.act = act

    @classmethod
    def from_model(cls, model, n_in: int) -> "Cell":
        """The cell that a :class:`~rnnlab.config.ModelConfig` describes, with I = ``n_in`` inputs: built, then
        configured (:meth:`configure`)."""
        from ..activations import get_activation

        cell = cls(n_in, model.hidden_size, get_activation(model.activation))
        cell.configure(model)
        return cell

    def configure(self, model) -> None:
        """Read the cell's own hyper-parameters (not trained, not drawn) from a :class:`~rnnlab.config.ModelConfig`
        (the antisymmetric cell's ε and γ, the GRU's variant); :meth:`from_model` calls it once. The base cells have
        none."""

    @property
    def state_size(self) -> int:
        return self.n_hidden * len(self.state_parts)

    @property
    def gate_size(self) -> int:
        return self.n_hidden * self.blocks

    # --- parameters ---------------------------------------------------------------------------------------------
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        G, H, I = self.gate_size, self.n_hidden, self.n_in
        return {"W_hx": (G, I), "W_hh": (G, H), "b_h": (G,)}

    def init_params(self, model, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw the cell's parameters (float64) from a :class:`~rnnlab.config.ModelConfig`.

        W_hx ~ N(0, input_scale²) entries (G × I); W_hh stacks ``blocks`` independent (H × H) draws of
        :func:`~rnnlab.core.init.init_recurrent` with spectral radius ``model.spectral_radius`` (G × H);
        b_h = :meth:`bias_init`. The draws come from ``rng`` in this order, so a seed gives the same network.
        """
        from ..init import init_recurrent

        H, G = self.n_hidden, self.gate_size
        p = {"W_hx": rng.standard_normal((G, self.n_in)) * model.input_scale}
        p["W_hh"] = np.concatenate([init_recurrent(rng, H, model.init, model.spectral_radius, model.sparse_k,
                                                   model.nonnormality)
                                    for _ in range(self.blocks)], axis=0)
        p["b_h"] = self.bias_init()
        return p

    def bias_init(self) -> np.ndarray:
        """The initial b_h (G,): zeros unless a cell says otherwise (the LSTM's forget gate starts at +1)."""
        return np.zeros(self.gate_size)

    def init_fixed(self, model, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fixed (never trained) parameters, drawn after the readout so that adding one never changes the trained
        ones of the same seed (the leaky cell's retention α)."""
        return {}

    def recurrent_matrix(self, params: dict) -> np.ndarray:
        """The square matrix whose spectrum is reported as ρ and σ_max and whose spectral radius
        ``model.spectral_radius`` sets: W_hh itself (H, H), or its candidate block for gated cells; the new cells
        return their effective recurrence (diag(u), exp(A − Aᵀ), I + ε(W − Wᵀ − γI), and the LRU's real (2H, 2H)
        form of diag(λ))."""
        H = self.n_hidden
        return params["W_hh"][self.candidate * H : (self.candidate + 1) * H]

    def after_update(self, params: dict) -> None:
        """Called after every optimiser step: a cell whose W_hh is derived from trained parameters (an orthogonal
        exp(A − Aᵀ), a complex diagonal) recomputes it here. The base cells train W_hh itself: nothing to do."""

    def forget(self) -> None:
        """Drop what the cell keeps from one call to the next for unchanged parameters (the expRNN's
        eigendecomposition of A − Aᵀ), so that the next pass does all its work: ``rnnlab bench`` times passes as a
        trainer runs them, after an update. The base cells keep nothing."""

    def recurrence_eigenvalues(self, params: dict) -> tuple[np.ndarray, str] | None:
        """The complex eigenvalues of the cell's effective linear recurrence (the state-independent matrix that
        decides stability) and a caption naming that matrix; None where no such matrix exists (gated cells: their
        step Jacobian depends on the state, see :meth:`jacobian`)."""
        return None

    def step_bound(self, params: dict) -> tuple[float, str] | None:
        """A number b with ‖∂s_t/∂s_{t−1}‖₂ ≤ b at every step (so ‖∂s_t/∂s_k‖₂ ≤ b^(t−k)) and its formula, in
        the TeX of :mod:`rnnlab.texmath` (shown typeset by the app, as plain Unicode by the command line: the
        diagnostics carry both); None when no such bound is stated for this cell."""
        return None

    def da_factor(self, cache: Cache) -> np.ndarray:
        """(T, B, H) factor between ∂E/∂s_t and ∂E/∂a_t for cells whose step Jacobian is diag(factor)·W_hh plus a
        fixed diagonal (Ω and Hessian-free use it). Cells without such a factor raise NotImplementedError."""
        raise NotImplementedError(f"the {self.label} has no single pre-activation factor")

    def preactivations(self, cache: Cache) -> np.ndarray:
        """(T, B, H) pre-activations a_t of the units (cells with :meth:`da_factor` only)."""
        raise NotImplementedError(f"the {self.label} has no single pre-activation")

    # --- forward ------------------------------------------------------------------------------------------------
    def input_proj(self, p: dict, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """u_t = W_hx x_t + b_h for every t: (T, B, I) -> (T, B, G) (into ``out`` if given)."""
        T, B, _ = x.shape
        G = self.gate_size
        U = np.empty((T, B, G), dtype=np.result_type(x, p["W_hx"])) if out is None else out
        np.matmul(x.reshape(T * B, -1), p["W_hx"].T, out=U.reshape(T * B, G))
        U += p["b_h"]
        return U

    def input_vjp(self, p: dict, du: np.ndarray) -> np.ndarray:
        """∂E/∂x_t (N, I) from ∂E/∂u_t (N, G): du · W_hx (the closed loop sends it back into the readout)."""
        return du @ p["W_hx"]

    def new_cache(self, T: int, B: int, dtype, ws: Workspace | None = None) -> Cache:
        """The arrays a forward pass of T steps over B sequences fills (from ``ws`` when given)."""
        c = Cache()
        c.ws = ws
        S = take(ws, "S", (T + 1, B, self.state_size), dtype)
        S[0] = 0.0
        c["S"] = S
        return c

    def forward_sequence(self, p: dict, x: np.ndarray, cache: Cache) -> None:
        """The open-loop forward pass over x (T, B, I): every step, then :meth:`finish`. The default runs
        :meth:`input_proj` and :meth:`step`; a cell may fuse the loop (same results, same cache)."""
        T, B, _ = x.shape
        U = self.input_proj(p, x, out=cache.buf("U", (T, B, self.gate_size)))
        for t in range(T):
            checkpoint()
            self.step(p, t, U[t], cache)
        self.finish(p, cache)

    def compiled(self, dtype) -> bool:
        """True when the cell's open-loop passes for arrays of ``dtype`` run its compiled loops
        (:mod:`~rnnlab.core._compiled`); False: its NumPy loops."""
        return False

    #: the methods whose operations a cell's compiled loops reproduce (:meth:`_keeps_compiled_methods`)
    _COMPILED_METHODS: tuple[str, ...] = ()

    @classmethod
    def _compiled_reference(cls) -> type:
        """The class whose :data:`_COMPILED_METHODS` the compiled loops reproduce."""
        return Cell

    def _keeps_compiled_methods(self) -> bool:
        """Whether this cell's class keeps the :data:`_COMPILED_METHODS` of :meth:`_compiled_reference` (a subclass
        that overrides one of them, its step or its vector–Jacobian product, must run on NumPy)."""
        c, ref = type(self), self._compiled_reference()
        return all(getattr(c, m) is getattr(ref, m) for m in self._COMPILED_METHODS)

    def threads_itself(self, dtype) -> bool:
        """True when the cell's passes for arrays of ``dtype`` run on threads of their own (the compiled loops
        split the batch's rows over two when the core may use two): the BLAS then gets one thread per pass. (Not
        the LRU's: its compiled loop is a small part of its passes, whose large products gain from the BLAS's
        threads.)"""
        return self.compiled(dtype)

    def du_buffer(self, T: int, B: int, dtype, ws: Workspace | None = None) -> np.ndarray:
        """The uninitialised array that :meth:`backward_sequence` fills with ∂E/∂u and :meth:`param_grads` reads:
        (T, B, G) by default; a gated cell may use its own gate-major layout (blocks, T, B, H), which its
        :meth:`param_grads` accepts as well."""
        return take(ws, "bptt.dU", (T, B, self.gate_size), dtype)

    def backward_sequence(self, p: dict, dH: np.ndarray, scored: np.ndarray, cache: Cache, dU: np.ndarray) -> None:
        """Full BPTT of an open-loop pass: writes
        dU[t] = ∂E/∂u_t for every t (into the array of :meth:`du_buffer`), given dH[t] = ∂E/∂h_t from the readout
        at the steps where ``scored[t]`` (elsewhere dH[t] is not read). The default runs :meth:`vjp` step by step;
        a cell may fuse the loop."""
        T, B, H = dH.shape
        S = self.state_size
        ds = np.zeros((B, S), dtype=dH.dtype)
        other = np.empty_like(ds)
        in_state = self.hidden_is_state
        if not in_state:
            dU[...] = 0.0  # ∂E/∂u_t gathers the readout's direct part and the step's
        for t in range(T - 1, -1, -1):
            checkpoint()
            if scored[t]:
                if in_state:
                    ds[:, :H] += dH[t]
                else:
                    self.hidden_vjp(p, dH[t], cache, t, None, ds_out=ds, du_out=dU[t])
            ds, other = self.vjp(p, ds, cache, t, None, du_out=dU[t], out=other, accumulate=not in_state), ds

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

    def recurrent_products(self, p: dict, B: int, dtype, rng: np.random.Generator):
        """A function that does one step's recurrent products, forward and backward, the way this cell's passes do
        them, on random (B, ·) data: ``rnnlab bench`` times T calls of it as the cell's floor (everything else a
        BPTT step does is overhead above it). The default: the ``blocks`` (H × H) products of W_hh, batched."""
        from .._align import aligned_copy

        H, nb = self.n_hidden, self.blocks
        W = np.asarray(p["W_hh"] if "W_hh" in p else self.recurrent_matrix(p), dtype=dtype)
        W3T = aligned_copy(np.swapaxes(W.reshape(nb, H, H), 1, 2))
        W3 = aligned_copy(W.reshape(nb, H, H))
        h = rng.standard_normal((B, H)).astype(dtype)
        d = rng.standard_normal((nb, B, H)).astype(dtype)
        z = np.empty((nb, B, H), dtype=dtype)
        if nb == 1:
            W3T, W3, d, z = W3T[0], W3[0], d[0], z[0]

        def products():
            np.matmul(h, W3T, out=z)
            np.matmul(d, W3, out=z)

        return products

    def step(self, p: dict, t: int, u_t: np.ndarray, cache: Cache) -> None:
        """Compute s_t from s_{t−1} = cache["S"][t] and u_t (B, G); write it to cache["S"][t + 1]."""
        raise NotImplementedError

    def finish(self, p: dict, cache: Cache) -> None:
        """Vectorised post-processing after the whole sequence is known (e.g. f'(a) for all t at once)."""

    def hidden(self, cache: Cache) -> np.ndarray:
        """The hidden states h (T, B, H) (for the LSTM the h half of the state)."""
        return cache["S"][1:, :, : self.n_hidden]

    # --- backward -----------------------------------------------------------------------------------------------
    def hidden_vjp(self, p: dict, dh: np.ndarray, cache: Cache, t: int, b: int | None = None,
                   ds_out: np.ndarray | None = None, du_out: np.ndarray | None = None) -> np.ndarray | None:
        """Carry covectors dh = ∂E/∂h_t (N, H) of the readout's input into ∂E/∂s_t (*added* into ``ds_out``, (N, S))
        and, where h_t also depends on u_t directly, into ∂E/∂u_t (added into ``du_out``, (N, G)). Returns
        ``ds_out``. The base: h_t is the first H coordinates of s_t."""
        if ds_out is not None:
            ds_out[:, : self.n_hidden] += dh
        return ds_out

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

    def jvp(self, p: dict, dp: dict, ds: np.ndarray, cache: Cache, t: int, b: int | None = None) -> np.ndarray:
        """Forward-mode tangent of step t (a Jacobian–vector product; :meth:`vjp` is its transpose).

        With the step written s_t = F(s_{t−1}, u_t; θ_rec), it returns

            ṡ_t = ∂s_t/∂s_{t−1} · ṡ_{t−1} + ∂⁺s_t/∂θ_rec · θ̇

        at the states and inputs that the forward pass recorded in ``cache`` (u_t and every other parameter held
        fixed; ∂⁺ is the immediate derivative, s_{t−1} held fixed). Iterated from ṡ_{−1} = 0 it gives the
        sensitivity ṡ_t = (ds_t/dθ_rec) · θ̇ exactly (see :func:`rnnlab.core.diagnostics.param_sensitivity`).

        Parameters
        ----------
        p : dict
            The parameters, as for :meth:`vjp`.
        dp : dict
            ``{name: θ̇}`` for names in :attr:`recurrent_params` (a missing name has tangent zero; any other name
            raises KeyError). With ``b=None`` each tangent has the parameter's shape (one direction for the whole
            batch); with ``b`` given its shape is (N, *parameter shape): row n is the direction of row n of ``ds``.
            Read-only, and not changed in place between the steps of one sweep: a cell may memoise in ``cache``
            what it derives from ``dp`` (the orthogonal cell: the tangent of exp(A − Aᵀ)).
        ds : (N, S)
            Tangents ṡ_{t−1}, one per row (rows are vectors here; in :meth:`vjp` they are covectors). With
            ``b=None`` row n belongs to sequence n of the batch (N = B); with ``b`` given, all N rows are tangents
            along the single sequence b (the step's cached values broadcast over them).
        cache, t, b :
            As for :meth:`vjp`.

        Returns
        -------
        (N, S) new array: ṡ_t.
        """
        raise NotImplementedError(f"the {self.label} has no forward-mode tangent (jvp)")

    def param_grads(self, p: dict, x: np.ndarray, cache: Cache, dU: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of W_hx, W_hh, b_h from dU = ∂E/∂u (T, B, G) and the cache (a few large products)."""
        T, B, _ = x.shape
        G = self.gate_size
        grads = self._input_grads(x, dU.reshape(T * B, G))
        grads["W_hh"] = self._grad_W_hh(p, cache, dU)
        return grads

    @staticmethod
    def _input_grads(x: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
        """∂E/∂W_hx and ∂E/∂b_h from ∂E/∂u, in one product with [x, 1] (one pass over ∂E/∂u, in the orientation
        measured fastest): ``d`` is (T·B, G), or gate-major (blocks, T·B, H) (the results stacked block after
        block)."""
        T, B, I = x.shape
        XA = np.empty((T * B, I + 1), dtype=d.dtype)
        XA[:, :I] = x.reshape(T * B, I)
        XA[:, I] = 1.0
        r = np.matmul(XA.T, d)  # (I + 1, G) or (blocks, I + 1, H)
        if d.ndim == 3:
            r = np.swapaxes(r, 0, 1).reshape(I + 1, -1)
        return {"W_hx": np.ascontiguousarray(r[:I].T), "b_h": r[I].copy()}

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

    def jacobian_moduli(self, p: dict, cache: Cache, b: int = 0) -> np.ndarray | None:
        """For cells whose step Jacobians are all block-diagonal with commuting blocks, each a scalar g ≥ 0 times an
        orthogonal 1×1 (±1) or 2×2 (a rotation) block: the (T, S) array of those scalars per state coordinate, so
        that the singular values of ∂s_t/∂s_k are Π_{j=k+1..t} g_j, coordinate by coordinate (the heatmap is then
        exact at O(S) per entry, at any T). None for every other cell (the default)."""
        return None

    def saturation(self, cache: Cache) -> np.ndarray:
        """f'(a) of the units' nonlinearity at every step, flattened (for the saturation histogram)."""
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------------------------------
    @staticmethod
    def _at(arr: np.ndarray, t: int, b: int | None) -> np.ndarray:
        return arr[t] if b is None else arr[t, b : b + 1]

    def _tangents(self, dp: dict) -> dict:
        """``dp`` checked against :attr:`recurrent_params` (a KeyError names a stray key)."""
        stray = set(dp) - set(self.recurrent_params)
        if stray:
            raise KeyError(f"the {self.label}'s jvp takes tangents of {', '.join(self.recurrent_params)}, "
                           f"not of {', '.join(sorted(stray))}")
        return dp

    @staticmethod
    def _immediate(dW: np.ndarray, v: np.ndarray, b: int | None) -> np.ndarray:
        """The product Ẇ v of a parameter tangent with the cached vectors v, as rows: ``v @ Ẇᵀ`` (B, G) for one
        direction (b = None), or Ẇ_n v for each of N directions (dW (N, G, H), v (1, H)) -> (N, G)."""
        if b is None:
            return v @ dW.T
        return np.einsum("ngh,h->ng", dW, v[0])
