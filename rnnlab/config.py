"""The experiment configuration: frozen dataclasses, validation, TOML round trip and ``--set`` overrides.

An :class:`Experiment` is immutable. A change makes a new object (:meth:`Experiment.with_changes`), and every
object is validated when it is built, so an invalid experiment cannot exist. Each field carries its
documentation and its allowed range in ``dataclasses.field(metadata=...)``; the same metadata writes
``docs/config.md`` and builds the control panels.

This module imports only the standard library (plus ``tomli_w`` to write TOML). It is a little over 500 lines on
purpose: most of it is the settings' own documentation, and keeping every key beside its range and text is what
lets one place write the docs, the panels and the validation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "ConfigError",
    "Experiment",
    "ModelConfig",
    "TaskConfig",
    "TrainingConfig",
    "RemediesConfig",
    "DiagnosticsConfig",
    "SECTIONS",
    "load_toml",
    "loads_toml",
    "dumps_toml",
    "save_toml",
    "parse_override",
    "apply_overrides",
    "flatten_changes",
    "describe_keys",
]

ARCHS = ("rnn", "leaky", "lstm", "gru", "esn", "indrnn", "exprnn", "antisymmetric", "lru")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
INITS = ("gaussian", "uniform", "sparse", "orthogonal", "identity", "nonnormal")
TASKS = (
    "random",
    "temporal_order",
    "temporal_order_3bit",
    "addition",
    "multiplication",
    "permutation",
    "memorization",
    "reber",
    "sine",
    "mackey_glass",
    "file",
)
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


class ConfigError(ValueError):
    """A configuration value is invalid. The message names the key, the value and what is allowed."""


def param(default: Any, doc: str, *, choices: tuple | None = None, lo: float | None = None,
          hi: float | None = None, lo_open: bool = False, log: bool = False, unit: str = "",
          resets: bool = False) -> Any:
    """A dataclass field with its documentation and its allowed values.

    ``resets`` marks keys whose change needs new weights (a new network): the app asks before applying them.
    """
    meta = {"doc": doc, "choices": choices, "lo": lo, "hi": hi, "lo_open": lo_open, "log": log,
            "unit": unit, "resets": resets}
    return field(default=default, metadata=meta)


def _allowed(meta: dict, ftype: type) -> str:
    if meta["choices"]:
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    lo, hi = meta["lo"], meta["hi"]
    kind = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[ftype]
    if lo is not None and hi is not None:
        left = "(" if meta["lo_open"] else "["
        return f"{kind} in {left}{lo}, {hi}]"
    if lo is not None:
        return f"{kind} {'>' if meta['lo_open'] else '>='} {lo}"
    return kind


_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def _ftype(f: dataclasses.Field) -> type:
    t = f.type if isinstance(f.type, type) else _TYPES[str(f.type)]
    return t


def _check_field(section: str, f: dataclasses.Field, value: Any) -> Any:
    """Validate and normalise one value; return it (ints accepted for floats)."""
    key = f"{section}.{f.name}" if section else f.name
    meta = f.metadata
    ftype = _ftype(f)
    if ftype is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            raise ConfigError(f"{key} = {_short(value)}: too large for a number; expected "
                              f"{_allowed(meta, ftype)}") from None
    if ftype is bool:
        ok = isinstance(value, bool)
    elif ftype is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, ftype)
    if not ok:
        raise ConfigError(f"{key} = {_short(value)}: expected {_allowed(meta, ftype)}")
    if ftype is float and not math.isfinite(value):
        raise ConfigError(f"{key} = {_short(value)}: expected a finite number, {_allowed(meta, ftype)}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{key} = {_short(value)}: expected {_allowed(meta, ftype)}")
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and (value < lo or (meta["lo_open"] and value == lo)):
        raise ConfigError(f"{key} = {_short(value)}: expected {_allowed(meta, ftype)}")
    if hi is not None and value > hi:
        raise ConfigError(f"{key} = {_short(value)}: expected {_allowed(meta, ftype)}")
    return value


class _Section:
    """Mixin: validate every field on construction."""

    _name = ""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = _check_field(self._name, f, getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        self._check_cross()

    def _check_cross(self) -> None:
        pass

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ModelConfig(_Section):
    """The network: architecture, activation, size and the initialisation of the recurrent weights."""

    _name = "model"
    arch: str = param("rnn", "Recurrent cell: vanilla Elman `rnn`, leaky-integrator `leaky`, `lstm` (with forget gate), "
                      "`gru` (Cho et al. 2014), `esn` (echo state network: fixed leaky reservoir, trained readout), and four "
                      "cells that keep their recurrence on or inside the unit circle by construction (docs/cells.md): "
                      r"`indrnn` (independent units, $h \leftarrow f(W_{hx} x + u \odot h + b)$, Li et al. 2018), `exprnn` "
                      r"(orthogonal $W_{hh} = \exp(A - A^\top)$, Lezcano-Casado & Martínez-Rubio 2019), `antisymmetric` "
                      r"($h \leftarrow h + \varepsilon\, f((W - W^\top - \gamma I)\, h + W_{hx} x + b)$, Chang et al. 2019) "
                      r"and `lru` (linear recurrent unit: complex diagonal $\lambda$, Orvieto et al. 2023).",
                      choices=ARCHS, resets=True)
    activation: str = param("tanh", "Nonlinearity $f$ of the recurrent units (for LSTM/GRU: of the candidate and the "
                            r"cell output; gates stay sigmoid). Bound $\gamma$ on $|f'|$: tanh 1, sigmoid 1/4, relu 1, "
                            "linear 1.", choices=ACTIVATIONS, resets=True)
    hidden_size: int = param(32, "Number of hidden units $H$.", lo=1, hi=2048, resets=True)
    init: str = param("gaussian", "Initialisation of $W_{hh}$: `gaussian`, `uniform` and `sparse` are rescaled to "
                      "spectral radius exactly `spectral_radius`; `orthogonal` (Haar) and `identity` are multiplied by it; "
                      r"`nonnormal` is $Q (\Lambda + \eta \rho N) Q^\top$ ($Q$ orthogonal, $\Lambda$ block-diagonal with "
                      r"every eigenvalue of modulus $\rho$, $N$ strictly block-lower-triangular, $\eta$ = `nonnormality`): "
                      r"$\rho$ exact while $\sigma_{\max}$ grows with $\eta$.",
                      choices=INITS, resets=True)
    spectral_radius: float = param(0.95, r"Target spectral radius $\rho(W_{hh})$ (largest $|\text{eigenvalue}|$) at "
                                   r"initialisation (IndRNN: $\max |u_i|$; antisymmetric: $\rho(W - W^\top)$, the "
                                   "fastest rotation rate).",
                                   lo=0.0, hi=100.0, lo_open=True, log=True, resets=True)
    sparse_k: int = param(15, "Non-zeros per row of $W_{hh}$ for `init = \"sparse\"` (the usual choice for an ESN "
                          "reservoir); capped at hidden_size.", lo=1, hi=2048, resets=True)
    nonnormality: float = param(1.0, r'$\eta$ of `init = "nonnormal"`: $W_{hh} = Q (\Lambda + \eta \rho N) Q^\top$ with '
                                r"$N$ strictly block-lower-triangular, $\mathcal{N}(0, 1/H)$ entries. $\eta = 0$ is a normal "
                                r"matrix ($\sigma_{\max} = \rho$); $\sigma_{\max}$ grows with $\eta$ while $\rho$ stays exact, "
                                r"and $\|W_{hh}^d\|$ first grows, then decays.", lo=0.0, hi=100.0, resets=True)
    input_scale: float = param(0.1, "Standard deviation of the entries of $W_{hx}$ (input weights).", lo=0.0,
                               hi=100.0, resets=True)
    output_scale: float = param(0.1, "Standard deviation of the entries of $W_{yh}$ (readout weights).", lo=0.0,
                                hi=100.0, resets=True)
    leak_min: float = param(0.5, r"Leaky and ESN units: smallest retention $\alpha$ "
                            r"($h \leftarrow \alpha \odot h + (1 - \alpha) \odot f(a)$); each unit draws its $\alpha$ "
                            r"uniformly in [leak_min, leak_max]. $\alpha = 0$ is a vanilla unit.", lo=0.0, hi=0.999,
                            resets=True)
    leak_max: float = param(0.9, r"Leaky and ESN units: largest retention $\alpha$.", lo=0.0, hi=0.999, resets=True)
    gru_reset_after: bool = param(False, "GRU: apply the reset gate after the recurrent product, with a recurrent "
                                  r"bias $b_{hn}$ of its own: $n = \varphi(W_n x + b_n + r \odot (U_n h + b_{hn}))$ "
                                  "(PyTorch's nn.GRU and ONNX's GRU with linear_before_reset). False: Cho et al. 2014, "
                                  r"$n = \varphi(W_n x + U_n (r \odot h) + b_n)$.", resets=True)
    indrnn_u_min: float = param(0.0, r"IndRNN: the recurrent weights start $u_i = \rho\, v_i / \max v$ with $v_i$ "
                                r"uniform in [u_min, 1] ($\rho$ = `spectral_radius`): 0 gives every retention from 0 to "
                                r"$\rho$, 0.9 only slow units.", lo=0.0, hi=1.0, resets=True)
    antisymmetric_epsilon: float = param(0.1, r"Antisymmetric RNN: step size $\varepsilon$ of "
                                         r"$h \leftarrow h + \varepsilon\, f((W - W^\top - \gamma I)\, h + W_{hx} x + b)$.",
                                         lo=0.0, hi=10.0, lo_open=True, log=True, resets=True)
    antisymmetric_gamma: float = param(0.01, r"Antisymmetric RNN: diffusion $\gamma \ge 0$ (the $-\gamma I$ that "
                                       "keeps the Euler step stable).", lo=0.0, hi=100.0, resets=True)
    lru_r_min: float = param(0.9, r"LRU: smallest $|\lambda|$ of the ring initialisation ($\lambda$ uniform on the "
                             r"ring $r_{\min} \le |\lambda| \le r_{\max}$, i.e. $|\lambda|^2$ uniform in "
                             r"$[r_{\min}^2, r_{\max}^2]$).", lo=0.0, hi=0.99999, resets=True)
    lru_r_max: float = param(0.99, r"LRU: largest $|\lambda|$ of the ring initialisation.", lo=0.0, hi=0.99999,
                             resets=True)
    lru_max_phase: float = param(6.2832, r"LRU: the phases $\arg \lambda$ are drawn uniformly in [0, max_phase] "
                                 r"($2\pi$: the whole ring; $\pi/10 \approx 0.314$ in the paper's long-range settings).",
                                 lo=0.0, hi=6.2832, resets=True)
    lru_normalize: bool = param(True, r"LRU: start $\gamma_j = \sqrt{1 - |\lambda_j|^2}$ (the normalisation that keeps "
                                r"$E|x|^2$ and the sensitivity to $\lambda$ bounded as $|\lambda| \to 1$); false starts "
                                r"$\gamma_j = 1$.", resets=True)
    esn_bias: float = param(0.0, "ESN: scale $s$ of the reservoir's constant bias input, $b_h$ drawn once uniformly in "
                            "$[{-s}, s]$ per unit and never trained (Jaeger 2001 feeds a constant bias input; 0 = none).",
                            lo=0.0, hi=100.0, resets=True)
    readout: str = param("task", "When the output is read and scored: `task` (the task decides), `last` step only, "
                         "or `every` step.", choices=("task", "last", "every"), resets=True)
    dtype: str = param("float64", "Floating-point type of the simulation.", choices=("float64", "float32"),
                       resets=True)
    source: str = param("", "A trained model to open instead of drawing new weights: a PyTorch state_dict "
                        "(`.safetensors`, or `.pt`/`.pth` when torch is installed), an ONNX model (`.onnx`) or rnnlab's "
                        "own `.npz`. Empty: draw the network from these settings. With a source, the cell, its "
                        "size and (where the file records it) its activation are the file's; see docs/import.md.",
                        resets=True)
    source_layer: int = param(0, "Imported model: the recurrent layer to diagnose (0 = the first); the layers below "
                              "it run as a fixed front end that feeds it their exact outputs.", lo=0, hi=1000,
                              resets=True)
    source_direction: str = param("forward", "Imported model: the direction of a bidirectional layer to diagnose "
                                  "(`backward` reads the sequence from its end, so its time axis runs backwards).",
                                  choices=("forward", "backward"), resets=True)
    source_readout: str = param("", "Imported model: the name of the linear layer to use as the readout (it must "
                                "take H inputs); empty: the only one that does, if any.", resets=True)

    def _check_cross(self) -> None:
        if self.leak_min > self.leak_max:
            raise ConfigError(f"model.leak_min = {self.leak_min!r} is larger than model.leak_max = "
                              f"{self.leak_max!r}: expected leak_min <= leak_max")
        if self.lru_r_min > self.lru_r_max:
            raise ConfigError(f"model.lru_r_min = {self.lru_r_min!r} is larger than model.lru_r_max = "
                              f"{self.lru_r_max!r}: expected lru_r_min <= lru_r_max")


@dataclass(frozen=True, slots=True)
class TaskConfig(_Section):
    """The data: which task, how long the sequences are and how many per minibatch."""

    _name = "task"
    name: str = param("temporal_order", "The task (see the task table in docs/config.md).", choices=TASKS, resets=True)
    length: int = param(20, "Sequence length $T$ (the minimum length for tasks that vary it).", lo=2, hi=10000,
                        resets=True)
    batch_size: int = param(20, "Sequences per minibatch $B$.", lo=1, hi=10000)
    mem_values: int = param(5, "Memorisation task: number of distinct symbols.", lo=2, hi=50, resets=True)
    mem_positions: int = param(10, "Memorisation task: length of the pattern to remember.", lo=1, hi=100, resets=True)
    path: str = param("", "File task: your sequences, a `.npz` (arrays `x` (N, T, I), targets `y`, optional "
                      "`lengths`), a `.npy` (inputs only) or a `.csv` (one row per time step); see docs/import.md.",
                      resets=True)
    target: str = param("last", "File task: the target belongs to the `last` step of each sequence or to `every` step.",
                        choices=("last", "every"), resets=True)
    kind: str = param("classification", "File task: `classification` (integer class ids, softmax output, "
                      "cross-entropy) or `regression` (numbers, linear output, squared error).",
                      choices=("classification", "regression"), resets=True)
    holdout: float = param(0.2, "File task: the share of the sequences held out for the success rate (a fixed "
                           "shuffle, the same for every seed).", lo=0.0, hi=0.9, resets=True)
    id_column: str = param("sequence", "File task, CSV: the column that names the sequence of each row.", resets=True)
    target_columns: str = param("target", "File task, CSV: the target column(s), comma-separated (empty: inputs "
                                "only).", resets=True)
    feature_columns: str = param("", "File task, CSV: the feature columns, comma-separated, in this order (empty: "
                                 "every column that is neither the id nor a target).", resets=True)


@dataclass(frozen=True, slots=True)
class TrainingConfig(_Section):
    """The optimiser and the training schedule."""

    _name = "training"
    optimizer: str = param("sgd", "Update rule: plain `sgd`, `momentum` (heavy ball), `nesterov`, `rmsprop` or `adam`.",
                           choices=OPTIMIZERS)
    learning_rate: float = param(0.01, r"Step size $\eta$.", lo=0.0, hi=100.0, lo_open=True, log=True)
    momentum: float = param(0.9, r"Momentum coefficient $\mu$ (momentum and nesterov).", lo=0.0, hi=0.9999)
    beta1: float = param(0.9, "Adam: decay of the first-moment average.", lo=0.0, hi=0.9999)
    beta2: float = param(0.999, "Adam and RMSProp: decay of the second-moment average.", lo=0.0, hi=0.99999)
    eps: float = param(1e-8, r"Adam and RMSProp: $\varepsilon$ added to the root mean square.", lo=0.0, hi=1.0,
                       lo_open=True, log=True)
    steps: int = param(2000, "Number of parameter updates for `rnnlab run`.", lo=1, hi=100_000_000)
    eval_every: int = param(50, "Measure the held-out metric every this many steps.", lo=1, hi=1_000_000)
    eval_batch_size: int = param(500, "Sequences in the fresh held-out batch used for the metric.", lo=1, hi=100000)


@dataclass(frozen=True, slots=True)
class RemediesConfig(_Section):
    """The remedies for vanishing and exploding gradients (every one can be switched on a running experiment)."""

    _name = "remedies"
    clip: str = param("none", r"Gradient clipping: `none`, `norm` (rescale the whole gradient when "
                      r"$\|g\| > \text{threshold}$, Pascanu's rule) or `value` (clamp each component to "
                      r"$\pm\text{threshold}$).", choices=("none", "norm", "value"))
    clip_threshold: float = param(1.0, "Clipping threshold $c$.", lo=0.0, hi=1e12, lo_open=True, log=True)
    tbptt_k1: int = param(0, "Truncated BPTT: backpropagate every $k_1$ steps (0 = full BPTT).", lo=0, hi=100000)
    tbptt_k2: int = param(0, r"Truncated BPTT: over the last $k_2$ steps (must be $\ge k_1$ when $k_1 > 0$).", lo=0,
                          hi=100000)
    l1: float = param(0.0, r"L1 penalty weight on $W_{hh}$: adds $\mathrm{l1} \cdot \sum |W_{hh}|$.", lo=0.0, hi=1e6)
    l2: float = param(0.0, r"L2 penalty weight on $W_{hh}$: adds $(\mathrm{l2}/2)\, \|W_{hh}\|_F^2$.", lo=0.0,
                      hi=1e6)
    omega: float = param(0.0, r"Weight $\alpha$ of Pascanu's vanishing-gradient regulariser $\Omega$ (0 = off).",
                         lo=0.0, hi=1e6)
    teacher_forcing: float = param(1.0, "Generative tasks: probability that the true previous value (not the "
                                   "network's own prediction) is fed as input. 1 = full teacher forcing, 0 = free "
                                   "running.", lo=0.0, hi=1.0)
    esn_washout: int = param(50, "ESN: initial steps discarded before the ridge-regression readout.", lo=0, hi=100000)
    esn_ridge: float = param(1e-6, r"ESN: ridge (Tikhonov) coefficient $\beta$ of the readout regression, "
                             r"$W = (Z^\top Z + \beta I)^{-1} Z^\top Y$ over all states $Z$ gathered so far: its weight "
                             "does not grow with their number.", lo=0.0, hi=1e6)
    hessian_free: bool = param(False, "Train with Hessian-free optimisation (Martens & Sutskever 2011) instead of "
                               "the first-order optimiser.")
    hf_damping: float = param(1.0, r"Hessian-free: initial Levenberg–Marquardt damping $\lambda$.", lo=0.0, hi=1e6,
                              lo_open=True, log=True)
    hf_mu: float = param(0.03, r"Hessian-free: structural-damping weight $\mu$ (the term is "
                         r"$\mu\lambda\, J_a^\top D'' J_a$).", lo=0.0, hi=1e3)
    hf_max_cg: int = param(100, "Hessian-free: maximum conjugate-gradient iterations per update.", lo=1, hi=10000)

    def _check_cross(self) -> None:
        if self.tbptt_k1 > 0 and self.tbptt_k2 < self.tbptt_k1:
            raise ConfigError(f"remedies.tbptt_k2 = {self.tbptt_k2!r} is smaller than remedies.tbptt_k1 = "
                              f"{self.tbptt_k1!r}: expected k2 >= k1 (every k1 steps, backpropagate over the last k2)")


@dataclass(frozen=True, slots=True)
class DiagnosticsConfig(_Section):
    """How the ∂h_t/∂h_k heatmap and the other diagnostics are computed."""

    _name = "diagnostics"
    norm: str = param("frobenius", r"Matrix norm of $\partial h_t/\partial h_k$: `frobenius` or `spectral` (largest "
                      "singular value).", choices=("frobenius", "spectral"))
    mode: str = param("exact", "`exact` products of step Jacobians (cost $T^2 H^3/2$) or `estimated` with random "
                      r"probes (cost $T^2 H^2 \cdot \text{probes}/2$; Frobenius only).", choices=("exact", "estimated"))
    probes: int = param(16, "Random probe vectors for the estimated heatmap.", lo=1, hi=4096)
    long_lag: int = param(10, r"Lag $L$: the long-term share of $\partial E/\partial W_{hh}$ counts lags $t - k > L$.",
                          lo=0, hi=100000)
    lyapunov: int = param(5, "How many Lyapunov exponents to estimate (capped at the state size).", lo=1, hi=4096)

    def _check_cross(self) -> None:
        if self.mode == "estimated" and self.norm != "frobenius":
            raise ConfigError(f"diagnostics.mode = 'estimated' works with diagnostics.norm = 'frobenius' only, got "
                              f"{self.norm!r}: expected mode 'exact' or norm 'frobenius'")


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "task": TaskConfig,
    "training": TrainingConfig,
    "remedies": RemediesConfig,
    "diagnostics": DiagnosticsConfig,
}


@dataclass(frozen=True, slots=True)
class Experiment:
    """A whole experiment: the seed and one object per section. Immutable; validated on construction."""

    seed: int = param(0, "Seed of every random draw (weights, data, probes). Same seed, same run.", lo=0,
                      hi=2**63 - 1, resets=True)
    model: ModelConfig = field(default_factory=ModelConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    remedies: RemediesConfig = field(default_factory=RemediesConfig)
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)
    description: str = field(default="", metadata={"doc": "Free text shown with a preset (not validated)."})

    def __post_init__(self) -> None:
        seed_field = next(f for f in fields(self) if f.name == "seed")
        object.__setattr__(self, "seed", _check_field("", seed_field, self.seed))
        if not isinstance(self.description, str):
            raise ConfigError(f"description = {self.description!r}: expected a string")
        for name, cls in SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"[{name}] must be a {cls.__name__}, got {getattr(self, name)!r}")
        m = self.model
        if m.init == "sparse" and m.sparse_k > m.hidden_size:
            object.__setattr__(self, "model", dataclasses.replace(m, sparse_k=m.hidden_size))

    # --- conversion -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (the TOML layout): ``{"seed": 0, "model": {...}, ...}``."""
        out: dict[str, Any] = {"seed": self.seed}
        if self.description:
            out["description"] = self.description
        for name in SECTIONS:
            out[name] = getattr(self, name).to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Experiment":
        """Build from a nested dict; unknown sections or keys raise :class:`ConfigError` listing the valid ones."""
        if not isinstance(data, dict):
            raise ConfigError(f"expected a table of settings, got {type(data).__name__}")
        top = {"seed", "description", *SECTIONS}
        for key in data:
            if key not in top:
                raise ConfigError(f"unknown key {key!r}: expected one of {', '.join(sorted(top))}")
        kwargs: dict[str, Any] = {}
        if "seed" in data:
            kwargs["seed"] = data["seed"]
        if "description" in data:
            kwargs["description"] = data["description"]
        for name, sec_cls in SECTIONS.items():
            sec = data.get(name, {})
            if not isinstance(sec, dict):
                raise ConfigError(f"[{name}] must be a table of settings, got {sec!r}")
            valid = [f.name for f in fields(sec_cls)]
            for key in sec:
                if key not in valid:
                    raise ConfigError(f"unknown key {name}.{key}: expected one of {', '.join(valid)}")
            kwargs[name] = sec_cls(**sec)
        return cls(**kwargs)

    def get(self, key: str) -> Any:
        """Value of a dotted key such as ``"model.spectral_radius"`` or ``"seed"``."""
        section, name = _split_key(key)
        return getattr(getattr(self, section), name) if section else getattr(self, name)

    def with_changes(self, changes: Mapping[str, Any]) -> "Experiment":
        """A new experiment with every change applied at once, then validated as a whole.

        ``changes`` maps keys to values; a key is dotted (``"model.spectral_radius"``), top-level (``"seed"``,
        ``"description"``) or a section name whose value is a table (``{"model": {"spectral_radius": 1.5}}``);
        the forms may be mixed. This is what ``set`` means in every TOML format (lessons, classroom files,
        presets' contrasts) and what ``--set`` and sweep grid points apply. Because the result is checked only
        once, a change that is valid together but not one at a time works in any order (``leak_min = 0.95`` with
        ``leak_max = 0.99`` from ``0.5 … 0.9``). Raises :class:`ConfigError` naming the key.
        """
        data = self.to_dict()
        for key, value in flatten_changes(changes).items():
            section, name = _split_key(key)
            if section:
                data[section][name] = value
            else:
                data[name] = value
        return Experiment.from_dict(data)

    def replace(self, key: str | None = None, value: Any = None, **changes: Any) -> "Experiment":
        """Shorthand for :meth:`with_changes`: ``replace("model.spectral_radius", 2.0)`` or keyword arguments with
        ``__`` for the dot, ``replace(model__hidden_size=64)``."""
        items = {k.replace("__", "."): v for k, v in changes.items()}
        if key is not None:
            items[key] = value
        return self.with_changes(items)

    def diff(self, other: "Experiment") -> dict[str, tuple[Any, Any]]:
        """Dotted keys whose values differ: ``{key: (self value, other value)}``."""
        a, b = flat_dict(self), flat_dict(other)
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def flat_dict(exp: Experiment) -> dict[str, Any]:
    """``{"seed": 0, "model.arch": "rnn", ...}`` for every key (description excluded)."""
    out: dict[str, Any] = {"seed": exp.seed}
    for name in SECTIONS:
        for k, v in getattr(exp, name).to_dict().items():
            out[f"{name}.{k}"] = v
    return out


def key_field(key: str) -> dataclasses.Field:
    """The dataclass field behind a dotted key (raises :class:`ConfigError` listing the valid keys)."""
    section, name = _split_key(key)
    cls = SECTIONS[section] if section else Experiment
    for f in fields(cls):
        if f.name == name:
            return f
    raise AssertionError(key)  # _split_key already validated


def _split_key(key: str) -> tuple[str, str]:
    if "." not in key:
        if key in ("seed",):
            return "", key
        raise ConfigError(f"unknown key {key!r}: expected 'seed' or section.key with a section among "
                          f"{', '.join(SECTIONS)}")
    section, _, name = key.partition(".")
    if section not in SECTIONS:
        raise ConfigError(f"unknown section {section!r} in {key!r}: expected one of {', '.join(SECTIONS)}")
    valid = [f.name for f in fields(SECTIONS[section])]
    if name not in valid:
        raise ConfigError(f"unknown key {key!r}: [{section}] has {', '.join(valid)}")
    return section, name


def flatten_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys from a mapping of dotted keys and/or nested section tables (see
    :meth:`Experiment.with_changes`); unknown keys, a scalar given for a section and a key given twice raise
    :class:`ConfigError`."""
    if not isinstance(changes, Mapping):
        raise ConfigError(f"expected a table of settings (key = value), got {type(changes).__name__}")
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if key in out:
            raise ConfigError(f"{key} is given twice")
        out[key] = value

    for key, value in changes.items():
        if not isinstance(key, str):
            raise ConfigError(f"setting names must be strings, got {key!r}")
        if key in SECTIONS and "." not in key:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key} = {_short(value)}: expected a table of {key} settings, e.g. "
                                  f"{{ {key}.{fields(SECTIONS[key])[0].name} = ... }}")
            for sub, v in value.items():
                if isinstance(v, Mapping):
                    raise ConfigError(f"{key}.{sub}: expected a value, got a table")
                name = f"{key}.{sub}"
                _split_key(name)
                put(name, v)
        elif key == "description":
            put(key, value)
        else:
            _split_key(key)
            if isinstance(value, Mapping):
                raise ConfigError(f"{key}: expected a value, got a table")
            put(key, value)
    return out


def _short(value: Any, n: int = 80) -> str:
    """``repr(value)`` cut to about ``n`` characters (error messages never echo a whole bad value)."""
    try:
        text = repr(value)
    except Exception:  # pragma: no cover - a hostile __repr__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= n else text[: n - 1] + "…"


# --- TOML -----------------------------------------------------------------------------------------------------

def dumps_toml(exp: Experiment) -> str:
    """The experiment as TOML text (floats written with ``repr``, so loading gives the same numbers)."""
    import tomli_w

    return tomli_w.dumps(exp.to_dict())


def loads_toml(text: str, source: str = "<string>") -> Experiment:
    """Parse TOML text; errors name ``source``, the key and the problem (one line, values shortened; nesting
    deeper than :data:`rnnlab.io.MAX_DEPTH` is refused before parsing)."""
    from .io import guarded, parse_toml

    data = parse_toml(text, source)
    with guarded(source, "experiment"):  # a ConfigError gets the source in front; anything else becomes one
        return Experiment.from_dict(data)


def load_toml(path: str | Path) -> Experiment:
    """Load an experiment from a TOML file through the guarded reader (:func:`rnnlab.io.read_text`: a regular
    file of at most 1 MiB, UTF-8); errors name the file, the key and the problem."""
    from .io import read_text

    return loads_toml(read_text(path, what="experiment file"), path)


def save_toml(exp: Experiment, path: str | Path) -> None:
    """Write the experiment to ``path`` atomically (:func:`rnnlab.io.atomic_write`); a failure raises
    :class:`rnnlab.io.WriteError` (an OSError) with one line saying why, and leaves the old file as it was."""
    from .io import atomic_write

    text = dumps_toml(exp)
    with atomic_write(path) as fh:
        fh.write(text)


# --- command-line overrides ------------------------------------------------------------------------------------

def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value`` into ``(key, typed value)`` using the key's declared type."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. model.spectral_radius=1.5")
    key, _, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    f = key_field(key)
    ftype = _ftype(f)
    try:
        if ftype is bool:
            low = raw.lower()
            if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError
            value: Any = low in ("true", "1", "yes", "on")
        elif ftype is int:
            value = int(raw)
        elif ftype is float:
            value = float(raw)
        else:
            value = raw.strip('"').strip("'")
    except ValueError:
        raise ConfigError(f"{key} = {raw!r}: expected {_allowed(f.metadata, ftype)}") from None
    return key, value


def apply_overrides(exp: Experiment, overrides: list[str] | tuple[str, ...]) -> Experiment:
    """Apply ``--set`` strings all at once (validated as a whole, so their order does not matter; a key given
    twice keeps its last value)."""
    changes: dict[str, Any] = {}
    for text in overrides:
        key, value = parse_override(text)
        changes[key] = value
    return exp.with_changes(changes)


def describe_keys() -> list[dict[str, Any]]:
    """One record per key: ``key, type, default, allowed, doc, resets`` (used for docs and panels)."""
    rows = []
    seed = next(f for f in fields(Experiment) if f.name == "seed")
    for section, f in [("", seed)] + [(s, f) for s, c in SECTIONS.items() for f in fields(c)]:
        ftype = _ftype(f)
        rows.append({
            "key": f"{section}.{f.name}" if section else f.name,
            "type": ftype.__name__,
            "default": f.default,
            "allowed": _allowed(f.metadata, ftype),
            "doc": f.metadata["doc"],
            "resets": f.metadata["resets"],
            "meta": dict(f.metadata),
        })
    return rows
