"""The benchmark tasks: minibatch generators, success criteria and "learned nothing" baselines.

Every task turns a :class:`numpy.random.Generator` into a :class:`Batch` of time-major arrays
(``x`` is ``(T, B, I)``) and knows

* which outputs are scored (``Batch.mask``),
* whether a sequence is solved (:meth:`Task.success`, the task's own criterion from its reference), and
* the loss and success rate of the best predictor that ignores the input (:attr:`Task.baseline`), the
  horizontal "chance" line of the learning curves.

Loss units used everywhere in rnnlab: the loss is the mean, over the scored ``(t, b)`` pairs, of the per-step
loss; the per-step loss is ``-log p(target)`` for classification and the mean over output dimensions of the
squared error for regression.

Pascanu's six tasks follow the reference code of Pascanu, Mikolov & Bengio (2013),
``github.com/pascanur/trainingRNNs`` (``tempOrder.py``, ``tempOrder3bit.py``, ``addition.py``,
``multiplication.py``, ``permutation.py``, ``memorization.py``), as summarised in SCIENCE.md §1.7; where the
module docstrings there disagree with their code, the code is followed. The embedded Reber grammar follows
Hochreiter & Schmidhuber (1997, Exp. 1), Mackey–Glass follows Jaeger (2001) (SCIENCE.md §4.1).

This module imports only NumPy and the standard library.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from rnnlab.config import TaskConfig

__all__ = [
    "Batch",
    "Baseline",
    "Task",
    "TemporalOrderTask",
    "TemporalOrder3BitTask",
    "AdditionTask",
    "MultiplicationTask",
    "PermutationTask",
    "MemorizationTask",
    "ReberTask",
    "SineTask",
    "MackeyGlassTask",
    "RandomTask",
    "TASK_CLASSES",
    "make_task",
    "mackey_glass_series",
    "REBER_SYMBOLS",
    "REGRESSION_NRMSE_THRESHOLD",
]


# --- containers -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """One minibatch, time-major.

    ``x`` (T, B, I) float64 inputs; ``y`` the targets: (T, B) int64 class indices for classification (0 where
    unscored) or (T, B, O) float64 for regression (0 where unscored); ``mask`` (T, B) float64, 1.0 where the
    output at step t is scored; ``info`` extra arrays for tests and inspection (positions, lengths, ...).
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        """Number of time steps T of this batch (it can differ from ``task.length``)."""
        return int(self.x.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.x.shape[1])


@dataclass(frozen=True)
class Baseline:
    """What a predictor that ignores the input achieves (in the rnnlab loss units)."""

    loss: float
    success_rate: float
    accuracy: float | None
    note: str


# --- helpers ----------------------------------------------------------------------------------------------------

def _one_hot(symbols: np.ndarray, n: int) -> np.ndarray:
    """``symbols`` (T, B) ints in [0, n) -> (T, B, n) float64 one-hot."""
    out = np.zeros(symbols.shape + (n,), dtype=np.float64)
    np.put_along_axis(out, symbols[..., None], 1.0, axis=-1)
    return out


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r}: expected an integer >= 1")
    return int(batch_size)


#: A regression sequence of the series tasks (sine, mackey_glass, random) is solved when its normalised root
#: mean square error sqrt(mean squared error over its scored steps) / sigma is below this, sigma^2 being the
#: variance of the targets (= the loss of the constant mean predictor). 0.1 means "MSE below 1 % of the
#: variance"; copying the input (x[t] = s_t as the prediction of s_{t+1}) stays above it on both series.
REGRESSION_NRMSE_THRESHOLD = 0.1


# --- base class -------------------------------------------------------------------------------------------------

class Task:
    """Base class of every task. Subclasses set the class attributes and implement :meth:`sample`.

    ``length`` is ``task.length`` (T, or the minimum length for tasks that vary it; memorisation inputs are
    ``length + 2 * n_pos`` long).
    """

    name: str = ""
    n_in: int = 0
    n_out: int = 0
    kind: str = "classification"      # "classification" | "regression"
    readout: str = "last"             # "last" | "every"
    generative: bool = False          # x[t] equals the target of step t-1 (teacher forcing input)
    description: str = ""
    baseline: Baseline
    min_length: int = 1

    def __init__(self, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
            raise ValueError(f"task.length = {length!r}: expected an integer")
        length = int(length)
        if length < self.min_length:
            raise ValueError(f"task.length = {length} is too short for the {self.name} task: it needs "
                             f"task.length >= {self.min_length}{self._min_length_reason()}")
        self.length = length

    def _min_length_reason(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(length={self.length})"

    # -- interface ---------------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """(B,) bool: did each sequence pass the task's own criterion.

        ``out`` is (T, B, O): softmax probabilities (classification) or predictions (regression).
        Default for classification: every scored step has argmax equal to the target.
        """
        out = self._check_out(out, batch)
        if self.kind == "classification":
            scored = batch.mask > 0
            right = np.argmax(out, axis=-1) == batch.y
            return np.all(right | ~scored, axis=0)
        return self._regression_success(out, batch)

    # -- shared pieces -----------------------------------------------------------------------------------------
    def _check_out(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        out = np.asarray(out)
        expected = batch.x.shape[:2] + (self.n_out,)
        if out.shape != expected:
            raise ValueError(f"{self.name}: output has shape {out.shape}, expected {expected} (T, B, n_out)")
        return out

    def _regression_success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """Series tasks: sequence NRMSE over its scored steps below :data:`REGRESSION_NRMSE_THRESHOLD`."""
        return _sequence_nrmse(out, batch, self.baseline.loss) < REGRESSION_NRMSE_THRESHOLD


def _sequence_nrmse(out: np.ndarray, batch: Batch, variance: float) -> np.ndarray:
    """(B,) sqrt(mean over scored steps of the per-step loss) / sqrt(variance)."""
    per_step = np.mean((out - batch.y) ** 2, axis=-1)                  # (T, B)
    count = np.maximum(batch.mask.sum(axis=0), 1.0)
    mse = (per_step * batch.mask).sum(axis=0) / count
    return np.sqrt(mse / variance)


# --- temporal order ---------------------------------------------------------------------------------------------

class TemporalOrderTask(Task):
    """Pascanu's temporal order problem (reference code ``tempOrder.py``; SCIENCE.md §1.7).

    Six one-hot input symbols: 0, 1 = A, B (informative), 2..5 = distractors. Every step carries a uniform
    distractor except ``p0`` in [⌊0.1L⌋, 2⌊0.1L⌋) and ``p1`` in [⌊0.5L⌋, ⌊0.5L⌋ + ⌊0.1L⌋), which carry
    ``v0, v1`` in {A, B}. The class ``v0 + 2 v1`` (4 classes) is read by a softmax at the last step.
    The code's ranges are followed, not its docstring ("p0 in [1, L/10]"). ``info``: p0, p1, v0, v1 (B,),
    length (int).

    Reference: SCIENCE.md §1.7, ``tempOrder.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "temporal_order"
    n_in = 6
    n_out = 4
    kind = "classification"
    readout = "last"
    generative = False
    min_length = 10
    # (start fraction in tenths) of each informative position; each window is ⌊0.1L⌋ wide
    _starts: tuple[int, ...] = (1, 5)

    def __init__(self, length: int) -> None:
        super().__init__(length)
        n_bits = len(self._starts)
        n_cls = 2 ** n_bits
        L = self.length
        d = L // 10
        windows = ", ".join(f"p{i} in [{(s * L) // 10}, {(s * L) // 10 + d})" for i, s in enumerate(self._starts))
        self.description = (
            f"A sequence of {L} random symbols: {n_bits} positions ({windows}) hold A or B, every other "
            f"position holds one of four distractors c, d, e, f. At the last step the network must say in which "
            f"order the A/B symbols came ({n_cls} classes). The informative symbols are far from the end, so the "
            f"gradient that tells the network what to remember must travel back about "
            f"{L - (self._starts[-1] * L) // 10 - d} to {L - 1 - (self._starts[0] * L) // 10} steps."
        )
        self.baseline = Baseline(
            loss=math.log(n_cls),
            success_rate=1.0 / n_cls,
            accuracy=1.0 / n_cls,
            note=(f"The {n_cls} classes are equally likely, so the best input-free predictor outputs 1/{n_cls} for "
                  f"each: cross-entropy ln {n_cls} = {math.log(n_cls):.4f} and argmax right 1/{n_cls} of the time "
                  f"(chance error {100 * (1 - 1 / n_cls):g} %)."),
        )

    def _min_length_reason(self) -> str:
        return " (the informative positions are drawn from windows ⌊0.1·length⌋ wide, empty below 10)"

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        d = L // 10
        cols = np.arange(B)
        ps, vs = [], []
        for s in self._starts:                       # draw order as in the reference code: p0, v0, p1, v1, ...
            ps.append(rng.integers(d, size=B) + (s * L) // 10)
            vs.append(rng.integers(2, size=B))
        symbols = rng.integers(4, size=(L, B)) + 2
        cls = np.zeros(B, dtype=np.int64)
        for i, (p, v) in enumerate(zip(ps, vs)):
            symbols[p, cols] = v
            cls += v << i
        x = _one_hot(symbols, 6)
        y = np.zeros((L, B), dtype=np.int64)
        y[-1] = cls
        mask = np.zeros((L, B))
        mask[-1] = 1.0
        info: dict[str, Any] = {"length": L, "symbols": symbols}
        for i, (p, v) in enumerate(zip(ps, vs)):
            info[f"p{i}"] = p
            info[f"v{i}"] = v
        return Batch(x=x, y=y, mask=mask, info=info)


class TemporalOrder3BitTask(TemporalOrderTask):
    """Pascanu's 3-bit temporal order problem (reference code ``tempOrder3bit.py``; SCIENCE.md §1.7).

    As :class:`TemporalOrderTask` with three informative positions p0 in [⌊0.1L⌋, ⌊0.1L⌋+⌊0.1L⌋),
    p1 in [⌊0.3L⌋, ⌊0.3L⌋+⌊0.1L⌋), p2 in [⌊0.6L⌋, ⌊0.6L⌋+⌊0.1L⌋); class v0 + 2 v1 + 4 v2 (8 classes).
    ``info``: p0, p1, p2, v0, v1, v2 (B,), length (int).

    Reference: SCIENCE.md §1.7, ``tempOrder3bit.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "temporal_order_3bit"
    n_out = 8
    _starts = (1, 3, 6)


# --- addition / multiplication ----------------------------------------------------------------------------------

class AdditionTask(Task):
    """Pascanu's addition problem (reference code ``addition.py``; SCIENCE.md §1.7).

    The actual length ``l = L + randint(⌊0.1L⌋)`` is drawn once per minibatch (so ``x.shape[0]`` varies).
    Channel 0 is the marker (0 except two 1s at ``p0`` in [0, ⌊0.1l⌋) and ``p1`` in
    [⌊0.1l⌋, ⌊0.1l⌋ + ⌊0.4l⌋)); channel 1 holds U[0, 1) values. The target, read by a linear unit at the last
    step, is (x[p0] + x[p1]) / 2. A sequence is wrong if its squared error exceeds 0.04 (|error| > 0.2).
    ``info``: p0, p1 (B,), length (int, = l).

    Reference: SCIENCE.md §1.7, ``addition.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "addition"
    n_in = 2
    n_out = 1
    kind = "regression"
    readout = "last"
    generative = False
    min_length = 10
    tolerance = 0.04          # squared error above which a sequence is wrong

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self.description = (
            f"Each step carries a random number in [0, 1) and a marker bit. Two steps are marked: one among the "
            f"first 10 % of the sequence and one between 10 % and 50 %. At the last step (the length is {L} to "
            f"{L + L // 10 - 1}, drawn per minibatch) the network must output {self._target_words}. A sequence "
            f"counts as solved when the squared error is at most {self.tolerance} (|error| <= 0.2). The network "
            f"must hold the marked values over at least half the sequence."
        )
        self.baseline = self._make_baseline()

    _target_words = "the average of the two marked numbers"

    def _make_baseline(self) -> Baseline:
        # target = (U1 + U2)/2, triangular on [0, 1] with density 4t (t < 1/2), 4(1 - t) (t > 1/2).
        # Best constant 1/2; its loss is Var = (1/12)/2 = 1/24. It is right when |T - 1/2| <= 0.2:
        # 1 - 2 P(T < 0.3) = 1 - 2 * 2 * 0.3^2 = 0.64.
        return Baseline(
            loss=1.0 / 24.0,
            success_rate=1.0 - 4.0 * 0.3 ** 2,
            accuracy=None,
            note=("The constant 1/2 (the mean of the triangular target (U1+U2)/2) has MSE Var = 1/24 ≈ 0.0417 and "
                  "passes |error| <= 0.2 with probability 1 - 2·P(target < 0.3) = 1 - 4·0.3² = 0.64 (36 % of "
                  "sequences are wrong)."),
        )

    def _min_length_reason(self) -> str:
        return " (the extra length is randint(⌊0.1·length⌋), which needs ⌊0.1·length⌋ >= 1)"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a + b) / 2.0

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        l = L + int(rng.integers(L // 10))           # draw order as in the reference: l, p0, p1, data
        d1, d4 = l // 10, (4 * l) // 10
        p0 = rng.integers(d1, size=B)
        p1 = rng.integers(d4, size=B) + d1
        x = rng.uniform(size=(l, B, 2))
        x[:, :, 0] = 0.0
        cols = np.arange(B)
        x[p0, cols, 0] = 1.0
        x[p1, cols, 0] = 1.0
        y = np.zeros((l, B, 1))
        y[-1, :, 0] = self._combine(x[p0, cols, 1], x[p1, cols, 1])
        mask = np.zeros((l, B))
        mask[-1] = 1.0
        return Batch(x=x, y=y, mask=mask, info={"p0": p0, "p1": p1, "length": l})

    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        """Right unless the squared error at a scored step (the last) exceeds 0.04."""
        out = self._check_out(out, batch)
        err2 = (out[..., 0] - batch.y[..., 0]) ** 2
        return np.all((err2 <= self.tolerance) | (batch.mask <= 0), axis=0)


class MultiplicationTask(AdditionTask):
    """Pascanu's multiplication problem (reference code ``multiplication.py``; SCIENCE.md §1.7).

    Identical to :class:`AdditionTask` except the target is x[p0] · x[p1] (no halving); same 0.04 criterion.

    Reference: SCIENCE.md §1.7, ``multiplication.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "multiplication"
    _target_words = "the product of the two marked numbers"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def _make_baseline(self) -> Baseline:
        # Z = U1 U2: mean 1/4, E[Z^2] = 1/9, Var = 7/144. CDF F(z) = z - z ln z on (0, 1].
        # The mean 1/4 is right when 0.05 <= Z <= 0.45.
        F = lambda z: z - z * math.log(z)  # noqa: E731
        rate = F(0.45) - F(0.05)
        best_c = F(0.4)  # the constant 0.2 maximises P(|Z - c| <= 0.2) (the density -ln z decreases)
        return Baseline(
            loss=7.0 / 144.0,
            success_rate=rate,
            accuracy=None,
            note=(f"The constant 1/4 (the mean of U1·U2) has MSE Var = 1/9 - 1/16 = 7/144 ≈ 0.0486 and passes "
                  f"|error| <= 0.2 when 0.05 <= U1·U2 <= 0.45, probability F(0.45) - F(0.05) = {rate:.4f} with "
                  f"F(z) = z - z ln z (the constant 0.2 would pass {best_c:.4f} of the time at a higher loss)."),
        )


# --- random permutation -----------------------------------------------------------------------------------------

class PermutationTask(Task):
    """Pascanu's "random permutation" problem (reference code ``permutation.py``; SCIENCE.md §1.7).

    L+1 symbols are drawn uniformly in {2..99}; symbols 0 and L are then set to the same v in {0, 1}. The inputs
    are symbols 0..L-1 (one-hot, 100 channels); the target, read by a softmax at the last input step, is
    symbol L (= v). ``info``: v (B,), symbols (L+1, B), length (int).

    Reference: SCIENCE.md §1.7, ``permutation.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "permutation"
    n_in = 100
    n_out = 100
    kind = "classification"
    readout = "last"
    generative = False
    min_length = 1

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self.description = (
            f"A stream of {L} random symbols out of 100. The first symbol is 0 or 1, all the others are in 2..99. "
            f"At the last step the network must name the next symbol, which is always equal to the first one, "
            f"{L - 1} steps back. Everything in between is noise, so only a memory spanning the whole sequence "
            f"helps. Pascanu et al. solved it in only 2 of 5 runs."
        )
        self.baseline = Baseline(
            loss=math.log(2.0),
            success_rate=0.5,
            accuracy=0.5,
            note=("The target is 0 or 1 with probability 1/2 each, so the best input-free predictor puts 1/2 on each: "
                  "cross-entropy ln 2 ≈ 0.6931 and argmax right half of the time."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        symbols = rng.integers(98, size=(L + 1, B)) + 2
        v = rng.integers(2, size=B)
        symbols[0] = v
        symbols[L] = v
        x = _one_hot(symbols[:-1], 100)
        y = np.zeros((L, B), dtype=np.int64)
        y[-1] = v
        mask = np.zeros((L, B))
        mask[-1] = 1.0
        return Batch(x=x, y=y, mask=mask, info={"v": v, "symbols": symbols, "length": L})


# --- noiseless memorisation -------------------------------------------------------------------------------------

class MemorizationTask(Task):
    """Pascanu's noiseless memorisation problem (reference code ``memorization.py``; SCIENCE.md §1.7).

    Input length ``L + 2n`` (n = ``n_pos``). Channels: ``n_values`` symbol channels, then blank (index -2) and
    trigger (index -1). Steps 0..n-1 carry the pattern (each step uniform over the values); steps n.. carry
    blank, except step L+n, which carries the trigger. Targets (``n_values + 1`` classes, the last is blank)
    are blank except in the last n steps (L+n .. L+2n-1), which must reproduce the pattern. Softmax at every
    step; a sequence is wrong if any step is wrong (the reference's ``report='all'``). ``info``: pattern (n, B),
    trigger (int, = L+n), length (int, = L+2n).

    Reference: SCIENCE.md §1.7, ``memorization.py`` of github.com/pascanur/trainingRNNs.
    """

    name = "memorization"
    kind = "classification"
    readout = "every"
    generative = False
    min_length = 1

    def __init__(self, length: int, n_values: int = 5, n_pos: int = 10) -> None:
        super().__init__(length)
        for key, val in (("task.mem_values", n_values), ("task.mem_positions", n_pos)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"{key} = {val!r}: expected an integer >= 1")
        if n_values < 2:
            raise ValueError(f"task.mem_values = {n_values}: expected >= 2 (one value carries no information)")
        self.n_values = int(n_values)
        self.n_pos = int(n_pos)
        self.n_in = self.n_values + 2
        self.n_out = self.n_values + 1
        L, n, k = self.length, self.n_pos, self.n_values
        total = L + 2 * n
        bits = n * math.log2(k)
        self.description = (
            f"The first {n} steps show a pattern of {n} symbols out of {k} ({bits:.1f} bits). Then come {L} blank "
            f"steps; at step {L + n} a trigger appears, and from there on the network must play the pattern back, "
            f"one symbol per step ({total} steps in all). Before that it must output 'blank'. Every step is scored "
            f"and a single wrong step fails the sequence. The lag between a symbol and its recall is {L + n} steps."
        )
        # Best predictor that uses only the time step (not the input): blank with certainty for the first L+n
        # steps, uniform over the k values in the last n steps (the pattern is uniform and independent).
        loss = n * math.log(k) / total
        acc = (L + n + n / k) / total
        p_blank = (L + n) / total
        marg = -(p_blank * math.log(p_blank) + (n / total) * math.log(n / (k * total)))
        self.baseline = Baseline(
            loss=loss,
            success_rate=float(k) ** (-n),
            accuracy=acc,
            note=(f"The best predictor that knows only the time step outputs blank for the first {L + n} steps and "
                  f"1/{k} per value in the last {n}: loss n·ln k/(L+2n) = {loss:.4f}, step accuracy "
                  f"(L+n+n/k)/(L+2n) = {acc:.4f}, and it recalls a whole pattern with probability k^-n = "
                  f"{float(k) ** (-n):.3g} (a fully constant predictor, ignoring time too, has loss {marg:.4f})."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L, n, k = self.length, self.n_pos, self.n_values
        total = L + 2 * n
        pattern = rng.integers(k, size=(n, B))
        in_sym = np.full((total, B), k, dtype=np.int64)          # blank
        in_sym[:n] = pattern
        in_sym[L + n] = k + 1                                     # trigger
        x = _one_hot(in_sym, k + 2)
        y = np.full((total, B), k, dtype=np.int64)                # blank class
        y[total - n:] = pattern
        mask = np.ones((total, B))
        return Batch(x=x, y=y, mask=mask, info={"pattern": pattern, "trigger": L + n, "length": total})


# --- embedded Reber grammar -------------------------------------------------------------------------------------

#: Channel order of the Reber tasks.
REBER_SYMBOLS = "BTPSXVE"
_B, _T, _P, _S, _X, _V, _E = range(7)
# Reber grammar after the initial B: state -> ((symbol, next state), (symbol, next state)); each branch has
# probability 1/2. State 5 emits E and ends. (Hochreiter & Schmidhuber 1997, Fig. 5 / Exp. 1; the standard
# graph of Reber 1967 as used by Cleeremans et al. 1989 and Fahlman 1991.)
_REBER_NEXT = np.array([
    [(_T, 1), (_P, 2)],
    [(_S, 1), (_X, 3)],
    [(_T, 2), (_V, 4)],
    [(_X, 2), (_S, 5)],
    [(_P, 3), (_V, 5)],
    [(_E, 6), (_E, 6)],
], dtype=np.int64)
_REBER_END = 5
# bit mask of the legal next symbols from each inner state
_REBER_LEGAL = np.array([(1 << a) | (1 << b) for (a, _), (b, _) in _REBER_NEXT[:5].tolist()] + [1 << _E],
                        dtype=np.int64)


class ReberTask(Task):
    """Next-symbol prediction on the embedded Reber grammar (Hochreiter & Schmidhuber 1997, Exp. 1).

    A string is ``B e <Reber string> e E`` with ``e`` in {T, P} (probability 1/2 each) and the inner string
    ``B ... E`` generated by the Reber graph (every branch 1/2). Symbols are one-hot in the order ``BTPSXVE``.
    The input at step t is symbol t and the target is symbol t+1, scored at every step of the string
    (N-1 steps for a string of N symbols); the batch is padded with zero inputs and mask 0 up to T = length.
    Strings with N-1 > T are redrawn (the task's distribution is the grammar's conditioned on fitting), so T
    must be at least 8 (the shortest strings, e.g. BTBTXSETE, have 9 symbols).

    Success: at every scored step the argmax is a legal next symbol given the prefix (under the embedded
    grammar), and at the penultimate scored step (input: the inner E) the argmax is the long-lag symbol ``e``.
    ``info``: legal (T, B, 7) bool, n_steps (B,) scored steps, lag_step (B,) step of the long-lag prediction,
    embedded (B,) the symbol index of e, symbols (T+1, B) the string padded with -1, length (int).

    Reference: Hochreiter & Schmidhuber (1997), Neural Computation 9(8), §5.1 (Exp. 1) and its figure of the
    embedded grammar; SCIENCE.md §2.1 names the paper but does not spell this experiment out.
    """

    name = "reber"
    n_in = 7
    n_out = 7
    kind = "classification"
    readout = "every"
    generative = False
    min_length = 8

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        kmax = L - 5
        # Distribution of the number k of binary choices inside the inner string (its length is k + 2, the
        # embedded string k + 6, scored steps k + 5), with truncation k <= kmax. Also the expected number of
        # inner choices that the argmax of a uniform-over-legal predictor gets right (ties -> lower channel).
        mass = np.zeros(6)
        mass[0] = 1.0
        corr = np.zeros(6)
        pk, ck = [], []
        for kk in range(kmax + 1):
            pk.append(mass[_REBER_END])          # absorbed after exactly kk choices (state 5 is not carried)
            ck.append(corr[_REBER_END])
            if kk == kmax or mass[:5].sum() < 1e-18:
                break
            new_m, new_c = np.zeros(6), np.zeros(6)
            for s in range(5):
                (a, na), (b, nb) = _REBER_NEXT[s]
                pred = min(a, b)
                for sym, nxt in ((a, na), (b, nb)):
                    new_m[nxt] += mass[s] / 2
                    new_c[nxt] += (corr[s] + mass[s] * (sym == pred)) / 2
            mass, corr = new_m, new_c
        pk_a, ck_a = np.array(pk), np.array(ck)
        k = np.arange(len(pk_a))
        z = float(pk_a.sum())
        e_k = float((k * pk_a).sum() / z)
        e_steps = e_k + 5.0
        ln2 = math.log(2.0)
        self.fit_probability = float(z)           # P(a grammar string fits in T steps)
        self.mean_scored_steps = e_steps
        self.optimal_loss = ln2 * (e_k + 1.0) / e_steps   # with memory: only the genuine branches cost ln 2
        loss = ln2 * (e_k + 2.0) / e_steps                # without memory: also ln 2 at the long-lag step
        acc = float((4.0 * z + ck_a.sum()) / z / e_steps)       # B, E, E deterministic; e guessed twice at 1/2
        self.description = (
            f"Strings of the embedded Reber grammar: B, then T or P, then an ordinary Reber string, then the same "
            f"T or P again, then E. At every step the network predicts the next symbol. Most steps only need the "
            f"last symbol or two, but the second-to-last prediction must repeat the symbol from step 1, "
            f"{e_steps - 4:.1f} steps earlier on average. Strings longer than {L} steps are redrawn "
            f"({100 * z:.1f} % of strings fit). The best possible loss is {self.optimal_loss:.4f} nats per step, "
            f"because the grammar's own branches are coin flips."
        )
        self.baseline = Baseline(
            loss=loss,
            success_rate=0.5,
            accuracy=acc,
            note=(f"Counted for the best predictor without long-term memory (it knows the grammar, puts 1/2 on each "
                  f"legal branch, and at the long-lag step 1/2 on T and on P): it is always legal but names the "
                  f"long-lag symbol right only half the time (success 1/2); its loss is ln2·(E[k]+2)/(E[k]+5) = "
                  f"{loss:.4f} with E[k] = {e_k:.3f} inner branches per string, {self.optimal_loss:.4f} being the "
                  f"floor with memory; its step accuracy is {acc:.4f} (ties broken to the first channel)."),
        )

    def _min_length_reason(self) -> str:
        return " (the shortest embedded Reber strings have 9 symbols, i.e. 8 prediction steps)"

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        kmax = L - 5
        e = np.where(rng.integers(2, size=B) == 0, _T, _P)
        choice_sym = np.zeros((kmax, B), dtype=np.int64)
        states = np.zeros((kmax + 1, B), dtype=np.int64)     # state after j choices (state 0 before any)
        n_choice = np.zeros(B, dtype=np.int64)
        pending = np.arange(B)
        while pending.size:
            n = pending.size
            state = np.zeros(n, dtype=np.int64)
            syms = np.zeros((kmax, n), dtype=np.int64)
            sts = np.zeros((kmax + 1, n), dtype=np.int64)
            kk = np.zeros(n, dtype=np.int64)
            done = np.zeros(n, dtype=bool)
            for j in range(kmax):
                r = rng.integers(2, size=n)
                act = ~done
                sym = _REBER_NEXT[state, r, 0]
                nxt = _REBER_NEXT[state, r, 1]
                syms[j] = np.where(act, sym, 0)
                state = np.where(act, nxt, state)
                sts[j + 1] = state
                kk += act
                done |= state == _REBER_END
                if done.all():
                    break
            ok = done
            idx = pending[ok]
            choice_sym[:, idx] = syms[:, ok]
            states[:, idx] = sts[:, ok]
            n_choice[idx] = kk[ok]
            pending = pending[~ok]

        k = n_choice
        cols = np.arange(B)
        S = np.full((L + 1, B), -1, dtype=np.int64)           # the string, padded with -1
        S[0] = _B
        S[1] = e
        S[2] = _B
        j = np.arange(kmax)[:, None]
        inner = j < k[None, :]
        S[3:3 + kmax][inner] = choice_sym[inner]
        S[k + 3, cols] = _E
        S[k + 4, cols] = e
        S[k + 5, cols] = _E
        n_steps = k + 5                                         # N - 1 scored steps, N = k + 6 symbols
        t = np.arange(L)[:, None]
        mask_b = t < n_steps[None, :]
        in_sym = np.where(mask_b, S[:L], 0)
        x = _one_hot(in_sym, 7) * mask_b[..., None]
        y = np.where(mask_b, S[1:L + 1], 0).astype(np.int64)
        # legal next-symbol bit masks
        legal_bits = np.zeros((L, B), dtype=np.int64)
        legal_bits[0] = (1 << _T) | (1 << _P)
        legal_bits[1] = 1 << _B
        inner_steps = (t >= 2) & (t <= (k + 2)[None, :])       # after inner B and after each inner choice
        st_idx = np.clip(t - 2, 0, kmax)                        # choices made so far
        st = np.take_along_axis(states, np.broadcast_to(st_idx, (L, B)), axis=0)
        legal_bits = np.where(inner_steps, _REBER_LEGAL[st], legal_bits)
        legal_bits[k + 3, cols] = 1 << e
        legal_bits[k + 4, cols] = 1 << _E
        legal_bits = np.where(mask_b, legal_bits, 0)
        legal = ((legal_bits[..., None] >> np.arange(7)) & 1).astype(bool)
        mask = mask_b.astype(np.float64)
        info = {"legal": legal, "n_steps": n_steps, "lag_step": k + 3, "embedded": e, "symbols": S,
                "length": L}
        return Batch(x=x, y=y, mask=mask, info=info)

    def success(self, out: np.ndarray, batch: Batch) -> np.ndarray:
        out = self._check_out(out, batch)
        pred = np.argmax(out, axis=-1)                                            # (T, B)
        legal = np.take_along_axis(batch.info["legal"], pred[..., None], axis=-1)[..., 0]
        all_legal = np.all(legal | (batch.mask <= 0), axis=0)
        cols = np.arange(pred.shape[1])
        lag = batch.info["lag_step"]
        return all_legal & (pred[lag, cols] == batch.info["embedded"])


# --- series prediction ------------------------------------------------------------------------------------------

class SineTask(Task):
    """Next-step prediction of a mixture of sines with a random phase per sequence (rnnlab's own task).

    s(t) = Σ_k A_k sin(2π t / P_k + φ_k) with periods P = (10, 23, 57) steps, amplitudes A_k = 1/3 and
    φ_k ~ U[0, 2π) per sequence and component; x[t] = s(t), y[t] = s(t+1), t = 0..T-1, scored at every step
    (a generative task: x[t+1] = y[t]). Success: the sequence's NRMSE (root of its mean squared error over
    σ, σ² = Σ A_k²/2 = 1/6 the variance of s) is below :data:`REGRESSION_NRMSE_THRESHOLD`.
    ``info``: phase (K, B), length (int).

    Reference: none (a smooth sanity-check series defined here); loss units and criterion as SCIENCE.md §4.1
    uses for Mackey–Glass (NRMSE).
    """

    name = "sine"
    n_in = 1
    n_out = 1
    kind = "regression"
    readout = "every"
    generative = True
    min_length = 1
    periods = (10.0, 23.0, 57.0)
    amplitudes = (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0)

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        var = float(sum(a * a / 2.0 for a in self.amplitudes))
        self._variance = var
        self.description = (
            f"A sum of three sine waves (periods {', '.join(f'{p:g}' for p in self.periods)} steps, amplitude 1/3 "
            f"each, random phases per sequence). At each of {L} steps the network sees the current value and "
            f"predicts the next one. A linear recurrence of order 6 predicts it exactly, so this is a check that "
            f"the network can learn smooth dynamics rather than a long-memory test. A sequence is solved when its "
            f"RMSE is below {REGRESSION_NRMSE_THRESHOLD} times the signal's standard deviation."
        )
        # success rate of the zero predictor: Monte Carlo with a fixed generator (it is 0 unless T is tiny)
        n_mc = int(min(2000, max(200, 400_000 // L)))
        mc_rng = np.random.default_rng(20130617)
        b = self._sample(mc_rng, n_mc, L)
        nrmse = np.sqrt(np.mean(b.y[..., 0] ** 2, axis=0) / var)
        rate = float(np.mean(nrmse < REGRESSION_NRMSE_THRESHOLD))
        self.baseline = Baseline(
            loss=var,
            success_rate=rate,
            accuracy=None,
            note=(f"With random phases s(t) has mean 0 and variance Σ A_k²/2 = 1/6 ≈ 0.1667 at every t, so the "
                  f"constant 0 has MSE 1/6; a sequence passes only if its mean power is below 1 % of that, which "
                  f"happened in {rate:.4f} of {n_mc} Monte-Carlo sequences of this length."),
        )

    def _sample(self, rng: np.random.Generator, B: int, L: int) -> Batch:
        K = len(self.periods)
        phase = rng.uniform(0.0, 2.0 * np.pi, size=(K, B))
        t = np.arange(L + 1, dtype=np.float64)
        omega = 2.0 * np.pi / np.asarray(self.periods)
        amp = np.asarray(self.amplitudes)
        s = np.zeros((L + 1, B))
        for kk in range(K):
            s += amp[kk] * np.sin(omega[kk] * t[:, None] + phase[kk][None, :])
        x = s[:-1, :, None].copy()
        y = s[1:, :, None].copy()
        return Batch(x=x, y=y, mask=np.ones((L, B)), info={"phase": phase, "length": L})

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        return self._sample(rng, _check_batch_size(batch_size), self.length)


def mackey_glass_series(rng: np.random.Generator, n_samples: int, *, tau: float = 17.0, delta: float = 0.1,
                        subsample: int = 10, washout: int = 1000, squash: bool = True) -> np.ndarray:
    """A Mackey–Glass series as in Jaeger (2001) §6 (SCIENCE.md §4.1).

    dy/dt = 0.2 y(t-τ) / (1 + y(t-τ)^10) - 0.1 y(t), Euler step δ (eq. 23:
    y(n+1) = y(n) + δ (0.2 y(n-τ/δ) / (1 + y(n-τ/δ)^10) - 0.1 y(n))), every ``subsample``-th Euler value kept,
    the first ``washout`` kept samples dropped, then squashed by tanh(y - 1). The initial history (τ/δ + 1
    values) is drawn U[0.5, 1.5] from ``rng``. Returns ``n_samples`` float64 values.

    Within a block of D = τ/δ Euler steps the delayed term is already known, so the linear recursion
    y(n+1) = a y(n) + b(n), a = 1 - 0.1 δ, is solved in closed form with a cumulative sum (same numbers as the
    step-by-step loop up to rounding).
    """
    D = int(round(tau / delta))
    if D < 1 or abs(D * delta - tau) > 1e-9:
        raise ValueError(f"tau / delta = {tau / delta!r} must be a positive integer number of Euler steps")
    n_euler = (n_samples + washout) * subsample
    y = np.empty(D + 1 + n_euler)
    y[:D + 1] = rng.uniform(0.5, 1.5, size=D + 1)
    a = 1.0 - 0.1 * delta
    apow = a ** np.arange(1, D + 1)
    ainv = a ** (-np.arange(0, D, dtype=np.float64))
    n0 = D                                        # index of the last known value
    last = y.size - 1
    while n0 < last:
        cnt = min(D, last - n0)
        yd = y[n0 - D:n0 - D + cnt]
        b = delta * 0.2 * yd / (1.0 + yd ** 10)
        c = np.cumsum(b * ainv[:cnt])
        y[n0 + 1:n0 + 1 + cnt] = apow[:cnt] * (y[n0] + c / a)
        n0 += cnt
    kept = y[D + subsample::subsample][washout:washout + n_samples]
    return np.tanh(kept - 1.0) if squash else kept


@functools.lru_cache(maxsize=4)
def _cached_mg(seed: int, n_samples: int) -> np.ndarray:
    s = mackey_glass_series(np.random.default_rng(seed), n_samples)
    s.setflags(write=False)
    return s


class MackeyGlassTask(Task):
    """Next-step prediction of the Mackey–Glass series, τ = 17 (Jaeger 2001 §6; SCIENCE.md §4.1).

    One long series (:func:`mackey_glass_series`: Euler step 1/10, subsampled by 10, squashed tanh(y - 1),
    washout 1000 samples) is generated once per task from ``np.random.default_rng(series_seed)`` (a random
    initial history), like Jaeger's fixed training series; each sequence is a window of T+1 consecutive
    samples whose start is drawn uniformly from the sampler's ``rng``: x[t] = s_t, y[t] = s_{t+1}, scored at every
    step. Success: the window's NRMSE (RMSE over σ, σ² = the baseline loss) is below
    :data:`REGRESSION_NRMSE_THRESHOLD`. ``info``: start (B,) window starts in ``series``, length (int).

    Reference: SCIENCE.md §4.1 (Jaeger 2001 §6, eq. 23); Lukoševičius's ``MackeyGlass_t17.txt`` (§4.2) is the
    same kind of fixed series.
    """

    name = "mackey_glass"
    n_in = 1
    n_out = 1
    kind = "regression"
    readout = "every"
    generative = True
    min_length = 1
    series_seed = 17
    base_samples = 50_000

    def __init__(self, length: int, series_seed: int | None = None) -> None:
        super().__init__(length)
        L = self.length
        if series_seed is not None:
            self.series_seed = int(series_seed)
        n = max(self.base_samples, 20 * (L + 1))
        self.series = _cached_mg(self.series_seed, n)
        s = self.series
        n_win = s.size - L                              # window starts 0..n_win-1 (window s[i..i+L])
        self._n_windows = n_win
        # Every window is equally likely, so target s[j] (j in 1..n-1) has weight (#windows that score it).
        j = np.arange(s.size)
        w = np.clip(np.minimum(j - 1, n_win - 1) - np.maximum(j - L, 0) + 1, 0, None).astype(np.float64)
        w /= w.sum()
        c = float((w * s).sum())                        # the loss-optimal constant
        var = float((w * (s - c) ** 2).sum())
        self._variance = var
        self.constant = c
        # zero-cost exact success rate of the constant predictor over all windows
        cs = np.concatenate([[0.0], np.cumsum((s - c) ** 2)])
        win_mse = (cs[1 + L:1 + L + n_win] - cs[1:1 + n_win]) / L
        rate = float(np.mean(np.sqrt(win_mse / var) < REGRESSION_NRMSE_THRESHOLD))
        d = np.diff(s)
        persist = float(np.sqrt(np.mean(d ** 2) / var))
        self.persistence_nrmse = persist
        self.description = (
            f"The Mackey–Glass delay equation (τ = 17, mildly chaotic) sampled once per time unit and squashed by "
            f"tanh(y − 1), the classic echo-state-network benchmark. At each of {L} steps the network sees the "
            f"current value and predicts the next. The dynamics depend on the value 17 steps back, so a good "
            f"predictor needs a short memory. A sequence is solved when its RMSE is below "
            f"{REGRESSION_NRMSE_THRESHOLD} σ; copying the input gives about {persist:.2f} σ."
        )
        self.baseline = Baseline(
            loss=var,
            success_rate=rate,
            accuracy=None,
            note=(f"The constant {c:.4f} (the mean of the series, window-weighted) has MSE = the series variance "
                  f"{var:.5f}, computed exactly over all {n_win} windows of the task's {s.size}-sample series; it "
                  f"passes the NRMSE < {REGRESSION_NRMSE_THRESHOLD} criterion in {rate:.4f} of the windows."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        start = rng.integers(self._n_windows, size=B)
        idx = start[None, :] + np.arange(L + 1)[:, None]
        w = self.series[idx]                                     # (L+1, B)
        return Batch(x=w[:-1, :, None].copy(), y=w[1:, :, None].copy(), mask=np.ones((L, B)),
                     info={"start": start, "length": L})


# --- random probe -----------------------------------------------------------------------------------------------

def _chi2_even_cdf(x: float, dof: int) -> float:
    """P(χ²_dof < x) for even ``dof``: the Poisson tail e^{-y} Σ_{j >= dof/2} y^j / j!, y = x/2 (log space)."""
    y = x / 2.0
    m = dof // 2
    if y <= 0:
        return 0.0
    if y > m:  # not the small-tail regime: use the complement, a finite sum
        term = math.exp(-y)
        acc = term
        for j in range(1, m):
            term *= y / j
            acc += term
        return max(0.0, 1.0 - acc)
    log_term = -y + m * math.log(y) - math.lgamma(m + 1)
    total, j = 0.0, m
    while True:
        t = math.exp(log_term)
        total += t
        j += 1
        log_term += math.log(y) - math.log(j)
        if t < 1e-300 or t < total * 1e-17:
            break
    return min(1.0, total)


class RandomTask(Task):
    """A neutral probe: inputs and regression targets i.i.d. N(0, 1), 8 channels each, scored at every step.

    Nothing can be learned, so it isolates the network's own dynamics for the diagnostics. Success uses the same
    rule as the series tasks (sequence NRMSE below :data:`REGRESSION_NRMSE_THRESHOLD`, σ = 1), which no
    predictor reaches except by chance. ``info``: length (int).

    Reference: none (rnnlab's neutral diagnostic probe).
    """

    name = "random"
    n_in = 8
    n_out = 8
    kind = "regression"
    readout = "every"
    generative = False
    min_length = 1

    def __init__(self, length: int) -> None:
        super().__init__(length)
        L = self.length
        self._variance = 1.0
        # zero predictor: sequence MSE = χ²_{8L}/(8L); passes if that is < 0.01
        rate = _chi2_even_cdf(REGRESSION_NRMSE_THRESHOLD ** 2 * 8 * L, 8 * L)
        self.description = (
            f"Random numbers in, unrelated random numbers out (8 channels, {L} steps, every step scored). There is "
            f"nothing to learn, so this task shows the network's own dynamics and gradient flow, with no signal "
            f"pulling the weights in any direction."
        )
        self.baseline = Baseline(
            loss=1.0,
            success_rate=rate,
            accuracy=None,
            note=(f"The targets are N(0, 1) and independent of everything, so the constant 0 is optimal with MSE 1; "
                  f"it passes NRMSE < {REGRESSION_NRMSE_THRESHOLD} when χ²_{8 * L} < {0.08 * L:g}, probability "
                  f"{rate:.3g}."),
        )

    def sample(self, rng: np.random.Generator, batch_size: int) -> Batch:
        B = _check_batch_size(batch_size)
        L = self.length
        x = rng.standard_normal((L, B, 8))
        y = rng.standard_normal((L, B, 8))
        return Batch(x=x, y=y, mask=np.ones((L, B)), info={"length": L})


# --- factory ----------------------------------------------------------------------------------------------------

TASK_CLASSES: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (RandomTask, TemporalOrderTask, TemporalOrder3BitTask, AdditionTask, MultiplicationTask,
                PermutationTask, MemorizationTask, ReberTask, SineTask, MackeyGlassTask)
}


def make_task(cfg: "TaskConfig") -> Task:
    """The task named by ``cfg.name`` with ``cfg.length`` (and ``cfg.mem_values``, ``cfg.mem_positions``)."""
    name = cfg.name
    if name not in TASK_CLASSES:
        raise ValueError(f"task.name = {name!r}: expected one of {', '.join(TASK_CLASSES)}")
    if name == "memorization":
        return MemorizationTask(cfg.length, n_values=cfg.mem_values, n_pos=cfg.mem_positions)
    return TASK_CLASSES[name](cfg.length)
