"""First-order optimisers: SGD, heavy-ball and Nesterov momentum, RMSProp and Adam (NumPy only).

Every optimiser updates a ``dict[str, np.ndarray]`` of parameters **in place** from a dict of gradients with
the same keys. Only the keys present in ``grads`` are touched, so a non-trainable parameter (an ESN reservoir,
a frozen matrix) is simply left out of ``grads``. The per-parameter state (velocity, moments) is created
lazily the first time a key is seen, with the shape and dtype of the *parameter*: a float32 network stays
float32, even if a gradient arrives as float64.

The update is written with ``out=`` ufunc calls into buffers kept from one step to the next, so after the
first step a call to :meth:`Optimizer.step` allocates no array. Hyper-parameters are plain attributes
(``opt.lr = 1e-3``) and are read at every step, so a change takes effect at the next step. (The file is a little
over 500 lines: five update rules whose docstrings write out their equations, sharing one state mechanism.)

:meth:`Optimizer.state_dict` / :meth:`Optimizer.load_state_dict` copy the whole state (buffers, step counts,
hyper-parameters) so that a run can be rewound to a checkpoint and replayed exactly.
:func:`make_optimizer` builds an optimiser from a :class:`~rnnlab.config.TrainingConfig`;
:func:`rebuild_optimizer` applies a changed configuration to a running optimiser, keeping its state unless the
kind of optimiser changed.

This module imports only NumPy and the standard library.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.config import TrainingConfig

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "RMSProp",
    "Adam",
    "OPTIMIZER_KINDS",
    "make_optimizer",
    "rebuild_optimizer",
]


def _check_range(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False,
                 hi_open: bool = False) -> float:
    """``float(value)`` if it is a finite real number in the interval, else :class:`ValueError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} = {value!r}: expected a number")
    v = float(value)
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{name} = {value!r}: expected a finite number in {left}{lo}, {hi}{right}")
    return v


class Optimizer:
    """Base class: updates a dict of parameter arrays in place from a dict of gradients with the same keys.

    Parameters
    ----------
    lr : float
        Learning rate η > 0. A plain attribute: it may be changed between two steps and the new value is used
        from the next step on.

    Attributes
    ----------
    kind : str
        The :data:`rnnlab.config.OPTIMIZERS` name of the rule (``"sgd"``, ``"momentum"``, ``"nesterov"``,
        ``"rmsprop"``, ``"adam"``).
    t : int
        Number of calls to :meth:`step` so far.

    Notes
    -----
    Per parameter key the optimiser keeps a *slot*: a scratch array (never part of the state) followed by
    the state arrays named in ``_arrays`` and the per-key scalars named in ``_scalars``. A slot is created,
    filled with zeros, the first time a key appears in ``grads``, and created anew if the parameter under that
    key later has a different shape or dtype (the network was rebuilt). A key absent from ``grads`` at a step
    keeps its state unchanged (its moments are not decayed).
    """

    kind: ClassVar[str] = ""
    _arrays: ClassVar[tuple[str, ...]] = ()          # names of the per-key state arrays
    _scalars: ClassVar[tuple[tuple[str, float], ...]] = ()  # (name, initial value) of per-key state scalars
    _hyper: ClassVar[tuple[str, ...]] = ("lr",)      # hyper-parameters saved in the state
    #: the ``training.*`` keys this rule reads besides the learning rate (the others are greyed out)
    settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, lr: float) -> None:
        self.lr = _check_range("lr", lr, 0.0, math.inf, lo_open=True)
        self.t = 0
        self._slots: dict[str, list[Any]] = {}

    # --- per-key slots ----------------------------------------------------------------------------------------
    def _new_slot(self, key: str, p: np.ndarray) -> list[Any]:
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise TypeError(f"parameter {key!r}: expected a floating-point numpy array, got "
                            f"{type(p).__name__} {getattr(p, 'dtype', '')}")
        slot: list[Any] = [np.empty_like(p)]
        slot += [np.zeros_like(p) for _ in self._arrays]
        slot += [init for _, init in self._scalars]
        self._slots[key] = slot
        return slot

    def _slot(self, key: str, p: np.ndarray, g: np.ndarray) -> list[Any]:
        """The slot of ``key``, created (zeros) when new or when the parameter's shape/dtype changed."""
        slot = self._slots.get(key)
        tmp = None if slot is None else slot[0]
        if tmp is None or tmp.shape != p.shape or tmp.dtype != p.dtype:
            slot = self._new_slot(key, p)
        if g.shape != p.shape:
            raise ValueError(f"gradient {key!r} has shape {g.shape}, parameter has shape {p.shape}")
        return slot

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update ``params[k]`` in place for every key ``k`` of ``grads``; other keys are left alone."""
        raise NotImplementedError

    # --- state ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A deep copy of the whole state.

        Returns
        -------
        dict
            ``{"kind", "t", <hyper-parameters>, "slots": {key: {<array name>: array copy, <scalar name>: float}}}``.
            Nothing in it is shared with the live optimiser.
        """
        state: dict[str, Any] = {"kind": self.kind, "t": self.t}
        for name in self._hyper:
            state[name] = getattr(self, name)
        slots: dict[str, dict[str, Any]] = {}
        na = len(self._arrays)
        for key, slot in self._slots.items():
            entry: dict[str, Any] = {name: slot[1 + i].copy() for i, name in enumerate(self._arrays)}
            for j, (name, _) in enumerate(self._scalars):
                entry[name] = slot[1 + na + j]
            slots[key] = entry
        state["slots"] = slots
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state made by :meth:`state_dict` (arrays are copied again, so ``state`` stays unshared).

        The hyper-parameters saved in ``state`` are restored too (the optimiser is as it was at the checkpoint);
        apply a newer configuration afterwards with :func:`rebuild_optimizer` if needed.

        Raises
        ------
        ValueError
            If ``state`` was saved by another kind of optimiser or misses an entry.
        """
        if state.get("kind") != self.kind:
            raise ValueError(f"cannot load the state of a {state.get('kind')!r} optimiser into a {self.kind!r} one")
        missing = [k for k in ("t", "slots", *self._hyper) if k not in state]
        if missing:
            raise ValueError(f"optimiser state misses {', '.join(missing)}")
        slots: dict[str, list[Any]] = {}
        for key, entry in state["slots"].items():
            absent = [n for n in self._arrays if n not in entry] + [n for n, _ in self._scalars if n not in entry]
            if absent:
                raise ValueError(f"optimiser state of {key!r} misses {', '.join(absent)}")
            arrays = [np.array(entry[name], copy=True) for name in self._arrays]
            if arrays:
                tmp = np.empty_like(arrays[0])
            else:
                tmp = None  # SGD: made at the next step from the parameter itself
            slot: list[Any] = [tmp, *arrays, *(float(entry[name]) for name, _ in self._scalars)]
            if tmp is not None:
                slots[key] = slot
        # validate every hyper-parameter before changing anything
        hyper = {name: copy.deepcopy(state[name]) for name in self._hyper}
        probe = copy.copy(self)
        probe._set_hyper(**hyper)
        self._set_hyper(**hyper)
        self.t = int(state["t"])
        self._slots = slots

    # --- hyper-parameters -------------------------------------------------------------------------------------
    def _set_hyper(self, **hyper: Any) -> None:
        """Set validated hyper-parameters (subclasses add their own)."""
        if "lr" in hyper:
            self.lr = _check_range("lr", hyper["lr"], 0.0, math.inf, lo_open=True)

    def _configure(self, cfg: TrainingConfig) -> None:
        """Take the hyper-parameters of ``cfg`` (same kind), keeping the state."""
        self._set_hyper(lr=cfg.learning_rate)

    @classmethod
    def from_config(cls, cfg: TrainingConfig) -> "Optimizer":
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        """``{name: value}`` of the hyper-parameters (``lr`` and those of the rule)."""
        return {name: getattr(self, name) for name in self._hyper}

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({hp}) [kind={self.kind!r}, t={self.t}]"


class SGD(Optimizer):
    r"""Plain stochastic gradient descent.

    .. math:: \theta \leftarrow \theta - \eta\, g

    Parameters
    ----------
    lr : float
        Learning rate η > 0.

    Notes
    -----
    State: the step count only (no per-parameter arrays). Implemented as ``tmp = η g; θ -= tmp`` into a scratch
    buffer, so no array is allocated per step.
    """

    kind = "sgd"

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        lr = self.lr
        multiply, subtract = np.multiply, np.subtract
        for key, g in grads.items():
            p = params[key]
            tmp = self._slot(key, p, g)[0]
            multiply(g, lr, out=tmp)
            subtract(p, tmp, out=p)
        self.t += 1

    @classmethod
    def from_config(cls, cfg: TrainingConfig) -> "SGD":
        return cls(cfg.learning_rate)


class Momentum(Optimizer):
    r"""Momentum: Polyak's heavy ball, or Nesterov's accelerated gradient in the form of Sutskever et al. (2013).

    Heavy ball (``nesterov=False``):

    .. math::
        v &\leftarrow \mu v - \eta\, g \\
        \theta &\leftarrow \theta + v

    Nesterov (``nesterov=True``), the reformulation of Sutskever, Martens, Dahl & Hinton (2013) / Bengio,
    Boulanger-Lewandowski & Pascanu (2013) in which the gradient ``g`` is taken at the stored parameters θ
    (no separate look-ahead evaluation):

    .. math::
        v &\leftarrow \mu v - \eta\, g \\
        \theta &\leftarrow \theta + \mu v - \eta\, g

    with ``v`` the *new* velocity in the second line; equivalently
    :math:`\theta \leftarrow \theta + \mu^2 v_{\text{old}} - (1 + \mu)\,\eta\, g`. Here θ plays the role of
    the look-ahead point :math:`\theta_{\text{NAG}} + \mu v` of the original formulation
    (:math:`v \leftarrow \mu v - \eta \nabla f(\theta_{\text{NAG}} + \mu v);\ \theta_{\text{NAG}} \leftarrow
    \theta_{\text{NAG}} + v`), so both produce the same sequence of velocities.

    Parameters
    ----------
    lr : float
        Learning rate η > 0.
    momentum : float
        Momentum coefficient μ in [0, 1).
    nesterov : bool
        Use the Nesterov form above.

    Notes
    -----
    State per parameter: the velocity ``v`` (zeros at the start), plus the step count.
    """

    _arrays = ("velocity",)
    _hyper = ("lr", "momentum")

    settings = ("training.momentum",)

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.momentum = _check_range("momentum", momentum, 0.0, 1.0, hi_open=True)
        self.nesterov = bool(nesterov)

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "nesterov" if self.nesterov else "momentum"

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        lr, mu, nesterov = self.lr, self.momentum, self.nesterov
        multiply, subtract, add = np.multiply, np.subtract, np.add
        for key, g in grads.items():
            p = params[key]
            slot = self._slot(key, p, g)
            tmp, v = slot[0], slot[1]
            multiply(g, lr, out=tmp)          # tmp = η g
            multiply(v, mu, out=v)
            subtract(v, tmp, out=v)           # v = μ v − η g
            if nesterov:
                subtract(p, tmp, out=p)       # θ −= η g
                multiply(v, mu, out=tmp)
                add(p, tmp, out=p)            # θ += μ v
            else:
                add(p, v, out=p)              # θ += v
        self.t += 1

    def _set_hyper(self, **hyper: Any) -> None:
        super()._set_hyper(**hyper)
        if "momentum" in hyper:
            self.momentum = _check_range("momentum", hyper["momentum"], 0.0, 1.0, hi_open=True)

    def _configure(self, cfg: TrainingConfig) -> None:
        self._set_hyper(lr=cfg.learning_rate, momentum=cfg.momentum)

    @classmethod
    def from_config(cls, cfg: TrainingConfig) -> "Momentum":
        return cls(cfg.learning_rate, cfg.momentum, nesterov=cfg.optimizer == "nesterov")


class RMSProp(Optimizer):
    r"""RMSProp (Tieleman & Hinton 2012): divide the gradient by a running root mean square.

    .. math::
        s &\leftarrow \beta s + (1 - \beta)\, g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \varepsilon}

    (element-wise), with ``s`` starting at zero (no bias correction).

    Parameters
    ----------
    lr : float
        Learning rate η > 0.
    beta : float
        Decay β in [0, 1) of the mean square (``training.beta2`` in the configuration).
    eps : float
        ε > 0 added to the root mean square.

    Notes
    -----
    State per parameter: the mean square ``s``, plus the step count.
    """

    kind = "rmsprop"
    settings = ("training.beta2", "training.eps")
    _arrays = ("square_avg",)
    _hyper = ("lr", "beta", "eps")

    def __init__(self, lr: float, beta: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = _check_range("beta", beta, 0.0, 1.0, hi_open=True)
        self.eps = _check_range("eps", eps, 0.0, math.inf, lo_open=True)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        lr, beta, eps = self.lr, self.beta, self.eps
        one_m_beta = 1.0 - beta
        multiply, add, subtract, divide, sqrt, square = (np.multiply, np.add, np.subtract, np.divide, np.sqrt,
                                                          np.square)
        for key, g in grads.items():
            p = params[key]
            slot = self._slot(key, p, g)
            tmp, s = slot[0], slot[1]
            multiply(s, beta, out=s)
            square(g, out=tmp)
            multiply(tmp, one_m_beta, out=tmp)
            add(s, tmp, out=s)                # s = β s + (1−β) g²
            sqrt(s, out=tmp)
            add(tmp, eps, out=tmp)            # tmp = √s + ε
            divide(g, tmp, out=tmp)
            multiply(tmp, lr, out=tmp)
            subtract(p, tmp, out=p)           # θ −= η g / (√s + ε)
        self.t += 1

    def _set_hyper(self, **hyper: Any) -> None:
        super()._set_hyper(**hyper)
        if "beta" in hyper:
            self.beta = _check_range("beta", hyper["beta"], 0.0, 1.0, hi_open=True)
        if "eps" in hyper:
            self.eps = _check_range("eps", hyper["eps"], 0.0, math.inf, lo_open=True)

    def _configure(self, cfg: TrainingConfig) -> None:
        self._set_hyper(lr=cfg.learning_rate, beta=cfg.beta2, eps=cfg.eps)

    @classmethod
    def from_config(cls, cfg: TrainingConfig) -> "RMSProp":
        return cls(cfg.learning_rate, beta=cfg.beta2, eps=cfg.eps)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015) with bias correction.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat m &= m / (1 - \beta_1^{\,t}), \qquad \hat v = v / (1 - \beta_2^{\,t}) \\
        \theta &\leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon}

    (element-wise), with ``m = v = 0`` at the start and ``t`` the number of updates this parameter has had.
    At the first step :math:`\hat m = g`, :math:`\hat v = g^2`, so every coordinate moves by
    :math:`\eta\,|g|/(|g| + \varepsilon) \approx \eta`.

    Parameters
    ----------
    lr : float
        Learning rate η > 0.
    beta1, beta2 : float
        Decays β₁, β₂ in [0, 1) of the first and second moment averages.
    eps : float
        ε > 0 added to :math:`\sqrt{\hat v}` (outside the square root, as in the paper).

    Notes
    -----
    State per parameter: ``m``, ``v`` and the running products ``beta1_power`` = Π β₁ and ``beta2_power`` =
    Π β₂ over that parameter's updates, which stand for β₁ᵗ, β₂ᵗ. With constant betas they *are* β₁ᵗ, β₂ᵗ;
    when the betas are changed mid-run the products keep the correction exact (1 − Π β is the total weight of
    the moving average), and a parameter that starts being trained late gets its own correct first step.
    Computed as ``θ −= [η √(1 − β₂ᵗ) / (1 − β₁ᵗ)] · m / (√v + ε √(1 − β₂ᵗ))``, which is the formula above
    rearranged so that the bias corrections are scalar factors (ε is *not* replaced by the "ε̂" of the paper's
    efficient variant).
    """

    kind = "adam"
    settings = ("training.beta1", "training.beta2", "training.eps")
    _arrays = ("m", "v")
    _scalars = (("beta1_power", 1.0), ("beta2_power", 1.0))
    _hyper = ("lr", "beta1", "beta2", "eps")

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = _check_range("beta1", beta1, 0.0, 1.0, hi_open=True)
        self.beta2 = _check_range("beta2", beta2, 0.0, 1.0, hi_open=True)
        self.eps = _check_range("eps", eps, 0.0, math.inf, lo_open=True)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        lr, b1, b2, eps = self.lr, self.beta1, self.beta2, self.eps
        c1, c2 = 1.0 - b1, 1.0 - b2
        multiply, add, subtract, divide, sqrt, square = (np.multiply, np.add, np.subtract, np.divide, np.sqrt,
                                                          np.square)
        for key, g in grads.items():
            p = params[key]
            slot = self._slot(key, p, g)
            tmp, m, v = slot[0], slot[1], slot[2]
            pw1 = slot[3] = slot[3] * b1
            pw2 = slot[4] = slot[4] * b2
            multiply(m, b1, out=m)
            multiply(g, c1, out=tmp)
            add(m, tmp, out=m)                # m = β1 m + (1−β1) g
            multiply(v, b2, out=v)
            square(g, out=tmp)
            multiply(tmp, c2, out=tmp)
            add(v, tmp, out=v)                # v = β2 v + (1−β2) g²
            # η m̂/(√v̂ + ε) = [η √(1−β2ᵗ)/(1−β1ᵗ)] · m / (√v + ε √(1−β2ᵗ))
            r2 = math.sqrt(1.0 - pw2)
            sqrt(v, out=tmp)
            add(tmp, eps * r2, out=tmp)
            divide(m, tmp, out=tmp)
            multiply(tmp, lr * r2 / (1.0 - pw1), out=tmp)
            subtract(p, tmp, out=p)           # θ −= η m̂ / (√v̂ + ε)
        self.t += 1

    def _set_hyper(self, **hyper: Any) -> None:
        super()._set_hyper(**hyper)
        for name in ("beta1", "beta2"):
            if name in hyper:
                setattr(self, name, _check_range(name, hyper[name], 0.0, 1.0, hi_open=True))
        if "eps" in hyper:
            self.eps = _check_range("eps", hyper["eps"], 0.0, math.inf, lo_open=True)

    def _configure(self, cfg: TrainingConfig) -> None:
        self._set_hyper(lr=cfg.learning_rate, beta1=cfg.beta1, beta2=cfg.beta2, eps=cfg.eps)

    @classmethod
    def from_config(cls, cfg: TrainingConfig) -> "Adam":
        return cls(cfg.learning_rate, beta1=cfg.beta1, beta2=cfg.beta2, eps=cfg.eps)


#: ``training.optimizer`` value → class (``"nesterov"`` is :class:`Momentum` with ``nesterov=True``).
OPTIMIZER_KINDS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Momentum,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def _training(cfg: Any) -> Any:
    """Accept a TrainingConfig or anything with a ``training`` section (an Experiment)."""
    return getattr(cfg, "training", cfg)


def make_optimizer(cfg: TrainingConfig) -> Optimizer:
    """A fresh optimiser (empty state) for ``cfg.optimizer`` with the hyper-parameters of ``cfg``.

    ``momentum``/``nesterov`` use ``cfg.momentum``; ``rmsprop`` uses ``cfg.beta2`` as its decay β and
    ``cfg.eps``; ``adam`` uses ``cfg.beta1``, ``cfg.beta2`` and ``cfg.eps``. An
    :class:`~rnnlab.config.Experiment` is accepted too (its ``training`` section is used).
    """
    cfg = _training(cfg)
    try:
        cls = OPTIMIZER_KINDS[cfg.optimizer]
    except KeyError:
        raise ValueError(f"training.optimizer = {cfg.optimizer!r}: expected one of "
                         f"{', '.join(OPTIMIZER_KINDS)}") from None
    return cls.from_config(cfg)


def rebuild_optimizer(old: Optimizer | None, cfg: TrainingConfig) -> Optimizer:
    """Apply a (possibly changed) training configuration to a running optimiser.

    If ``cfg.optimizer`` names another kind than ``old.kind`` (``"momentum"`` and ``"nesterov"`` count as
    different kinds), or ``old`` is ``None``, return a fresh optimiser from :func:`make_optimizer`: the old
    state is dropped. Otherwise update ``old``'s hyper-parameters (lr, momentum, betas, eps) in place,
    keeping its velocities, moments and step counts, and return ``old`` itself.
    """
    cfg = _training(cfg)
    if old is None or old.kind != cfg.optimizer:
        return make_optimizer(cfg)
    old._configure(cfg)
    return old
