"""Tests of rnnlab.train.tasks: layouts from the reference generators (SCIENCE.md §1.7, §8 rows 1-2), baselines
checked by Monte Carlo, success criteria, shapes, determinism and speed.

Every statistical check uses a fixed seed and a tolerance of 5 standard errors of the Monte-Carlo estimate (the
standard error is computed from the same sample), so a correct implementation fails with probability ~1e-6 per
check, while a wrong baseline or generator is caught.
"""

from __future__ import annotations

import math
from pathlib import Path
import re
import time

import numpy as np
import pytest

from rnnlab.config import TASKS, TaskConfig
from rnnlab.train import tasks as T
from rnnlab.train.tasks import TASKS as REGISTRY
from rnnlab.train.tasks import Batch, Baseline, Task, make_task
from rnnlab.train.tasks.random import _chi2_even_cdf

Z = 5.0  # tolerance in standard errors


# --- independent helpers ------------------------------------------------------------------------------------

def app_loss_terms(out: np.ndarray, batch: Batch, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-sequence (sum of per-step losses over scored steps, number of scored steps), in rnnlab's units."""
    if kind == "classification":
        p = np.take_along_axis(out, batch.y[..., None], axis=-1)[..., 0]
        step = -np.log(np.where(batch.mask > 0, p, 1.0))
    else:
        step = np.mean((out - batch.y) ** 2, axis=-1)
    return (step * batch.mask).sum(axis=0), batch.mask.sum(axis=0)


def ratio_and_se(a: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Ratio estimator sum(a)/sum(n) over sequences and its delta-method standard error."""
    r = a.sum() / n.sum()
    resid = a - r * n
    se = resid.std(ddof=1) / math.sqrt(len(a)) / n.mean()
    return float(r), float(se)


def mean_and_se(v: np.ndarray) -> tuple[float, float]:
    v = np.asarray(v, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def assert_close_mc(estimate: float, se: float, expected: float, what: str, floor: float = 1e-12) -> None:
    tol = Z * max(se, floor)
    assert abs(estimate - expected) <= tol, f"{what}: Monte Carlo {estimate:.6f} ± {se:.2g} vs stated {expected:.6f}"


def binomial_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def perfect_output(task: Task, batch: Batch) -> np.ndarray:
    if task.kind == "classification":
        out = np.zeros(batch.x.shape[:2] + (task.n_out,))
        np.put_along_axis(out, batch.y[..., None], 1.0, axis=-1)
        return out
    return batch.y.copy()


#: the data the generic tests give the file task (your sequences: 40 of up to 7 steps, a class at the last step)
FILE_DATA = Path(__file__).resolve().parent.parent / "data" / "import" / "seqs_cls.npz"


def task_of(name: str, length: int = 200, **kw) -> Task:
    if name == "file":
        kw.setdefault("path", str(FILE_DATA))
    return make_task(TaskConfig(name=name, length=length, **kw))


# --- generic properties, every task -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", TASKS)
def test_shapes_dtypes_and_attributes(name):
    task = task_of(name, 60)
    assert task.name == name
    assert task.kind in ("classification", "regression")
    assert task.readout in ("last", "every")
    assert isinstance(task.generative, bool)
    assert isinstance(task.description, str) and len(task.description) > 40
    assert isinstance(task.baseline, Baseline)
    assert isinstance(task.baseline.loss, float) and task.baseline.loss > 0
    assert 0.0 <= task.baseline.success_rate <= 1.0
    assert isinstance(task.baseline.note, str) and task.baseline.note
    if task.kind == "classification":
        assert isinstance(task.baseline.accuracy, float) and 0 < task.baseline.accuracy < 1
    else:
        assert task.baseline.accuracy is None
    assert "Reference:" in (type(task).__doc__ or "")

    b = task.sample(np.random.default_rng(3), 17)
    Tn = b.x.shape[0]
    assert b.x.shape == (Tn, 17, task.n_in) and b.x.dtype == np.float64
    assert b.mask.shape == (Tn, 17) and b.mask.dtype == np.float64
    assert set(np.unique(b.mask)) <= {0.0, 1.0}
    assert np.all(b.mask.sum(axis=0) >= 1)
    if task.kind == "classification":
        assert b.y.shape == (Tn, 17) and b.y.dtype == np.int64
        assert b.y.min() >= 0 and b.y.max() < task.n_out
        assert np.all(b.y[b.mask == 0] == 0)
        # one-hot inputs (all-zero rows only on padding)
        rows = b.x.sum(axis=-1)
        if name != "file":  # the file task's inputs are the user's own features
            assert set(np.unique(rows)) <= {0.0, 1.0} and set(np.unique(b.x)) <= {0.0, 1.0}
            assert np.all(rows[b.mask > 0] == 1.0)
    else:
        assert b.y.shape == (Tn, 17, task.n_out) and b.y.dtype == np.float64
        assert np.all(b.y[b.mask == 0] == 0.0)
    if task.readout == "last" and task.reads_length:
        assert np.all(b.mask[-1] == 1.0) and np.all(b.mask[:-1] == 0.0)
    elif task.readout == "last":  # sequences of their own lengths: one scored step each, the last real one
        assert np.all(b.mask.sum(axis=0) == 1.0)
    assert isinstance(b.info, dict)


@pytest.mark.parametrize("name", TASKS)
def test_deterministic_per_seed(name):
    task = task_of(name, 40)
    b1 = task.sample(np.random.default_rng(123), 9)
    b2 = task.sample(np.random.default_rng(123), 9)
    b3 = task.sample(np.random.default_rng(124), 9)
    for a, b in ((b1.x, b2.x), (b1.y, b2.y), (b1.mask, b2.mask)):
        np.testing.assert_array_equal(a, b)
    assert not (b1.x.shape == b3.x.shape and np.array_equal(b1.x, b3.x) and np.array_equal(b1.y, b3.y))
    # a fresh task object gives the same data too
    b4 = task_of(name, 40).sample(np.random.default_rng(123), 9)
    np.testing.assert_array_equal(b1.x, b4.x)


@pytest.mark.parametrize("name", TASKS)
def test_perfect_predictor_succeeds_and_wrong_one_fails(name):
    task = task_of(name, 50)
    b = task.sample(np.random.default_rng(5), 64)
    out = perfect_output(task, b)
    assert task.success(out, b).dtype == bool
    assert task.success(out, b).shape == (64,)
    assert task.success(out, b).all()
    # corrupt the output of sequence 0 at its last scored step
    t_last = int(np.nonzero(b.mask[:, 0])[0][-1])
    bad = out.copy()
    if task.kind == "classification":
        bad[t_last, 0] = 0.0
        bad[t_last, 0, (b.y[t_last, 0] + 1) % task.n_out] = 1.0
        if name == "reber":  # the last target is E, and every other symbol is illegal there
            assert b.y[t_last, 0] == T.REBER_SYMBOLS.index("E")
    else:
        bad[:, 0] += 10.0 * math.sqrt(task.baseline.loss) + 1.0
    ok = task.success(bad, b)
    assert not ok[0] and ok[1:].all()
    with pytest.raises(ValueError):
        task.success(out[:, :, :1] if task.n_out > 1 else np.concatenate([out, out], axis=-1), b)


@pytest.mark.parametrize("name", TASKS)
def test_batch_of_500_by_200_is_fast(name):
    task = task_of(name, 200)
    rng = np.random.default_rng(0)
    task.sample(rng, 500)
    best = min(_timed(task, rng) for _ in range(3))
    assert best < 0.1, f"{name}: {1e3 * best:.1f} ms for a 500 x 200 batch"


def _timed(task: Task, rng: np.random.Generator) -> float:
    t0 = time.perf_counter()
    task.sample(rng, 500)
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", [n for n in TASKS if n in ("sine", "mackey_glass")])
def test_generative_inputs_are_previous_targets(name):
    task = task_of(name, 30)
    assert task.generative and task.kind == "regression" and task.readout == "every"
    b = task.sample(np.random.default_rng(1), 8)
    np.testing.assert_array_equal(b.x[1:], b.y[:-1])
    assert np.all(b.mask == 1.0)


def test_generative_flag_only_on_series_tasks():
    assert {n for n in TASKS if task_of(n, 40).generative} == {"sine", "mackey_glass"}


def test_make_task_rejects_unknown_and_uses_memory_keys():
    task = make_task(TaskConfig(name="memorization", length=12, mem_values=3, mem_positions=4))
    assert task.n_in == 5 and task.n_out == 4
    assert task.sample(np.random.default_rng(0), 2).x.shape == (12 + 8, 2, 5)

    class Fake:
        name, length, mem_values, mem_positions = "nope", 10, 2, 2

    with pytest.raises(ValueError):
        make_task(Fake())


def test_config_choices_are_the_registry():
    """The config's list of task names is the registry's, in the same order (a task is a file plus one line in
    rnnlab/train/tasks/__init__.py; the config's choice list must follow)."""
    assert TASKS == tuple(REGISTRY)
    assert T.TASK_CLASSES is REGISTRY
    for name, cls in REGISTRY.items():
        assert cls.name == name and issubclass(cls, Task)
        assert type(task_of(name, 40)) is cls


def test_every_task_lives_in_its_own_module():
    for name, cls in REGISTRY.items():
        assert cls.__module__.startswith("rnnlab.train.tasks.") and cls.__module__ != "rnnlab.train.tasks.base"


# --- temporal order ---------------------------------------------------------------------------------------------

def _decode_temporal(b: Batch) -> tuple[list[np.ndarray], np.ndarray]:
    """From x alone: positions of the A/B symbols (in time order) and the class they encode."""
    sym = b.x.argmax(axis=-1)                                  # (T, B)
    informative = sym < 2
    n_inf = informative.sum(axis=0)
    assert np.all(n_inf == n_inf[0])
    pos = np.sort(np.nonzero(informative.T)[1].reshape(b.x.shape[1], -1), axis=1)  # (B, n)
    cols = np.arange(b.x.shape[1])
    vals = [sym[pos[:, i], cols] for i in range(pos.shape[1])]
    cls = sum(v * 2 ** i for i, v in enumerate(vals))
    return [pos[:, i] for i in range(pos.shape[1])], cls


def test_temporal_order_ranges_L200_science_row1():
    task = task_of("temporal_order", 200)
    assert (task.n_in, task.n_out, task.readout) == (6, 4, "last")
    b = task.sample(np.random.default_rng(0), 20000)
    p0, p1 = b.info["p0"], b.info["p1"]
    # SCIENCE.md §1.7 / §8 row 1: p0 in [20, 39], p1 in [100, 119], every value occurring
    assert set(np.unique(p0)) == set(range(20, 40))
    assert set(np.unique(p1)) == set(range(100, 120))
    (q0, q1), cls = _decode_temporal(b)
    np.testing.assert_array_equal(q0, p0)
    np.testing.assert_array_equal(q1, p1)
    np.testing.assert_array_equal(b.y[-1], cls)                # class = v0 + 2 v1, recomputed from x
    np.testing.assert_array_equal(b.y[-1], b.info["v0"] + 2 * b.info["v1"])
    assert b.x.shape[0] == 200


@pytest.mark.parametrize("L", [10, 37, 50, 123, 999])
def test_temporal_order_ranges_follow_reference_code(L):
    # positions as written in tempOrder.py / tempOrder3bit.py: randint(int(l*.1)) + int(l*c)
    for name, offsets in (("temporal_order", (.1, .5)), ("temporal_order_3bit", (.1, .3, .6))):
        b = task_of(name, L).sample(np.random.default_rng(L), 4000)
        for i, c in enumerate(offsets):
            lo, width = int(L * c), int(L * .1)
            p = b.info[f"p{i}"]
            assert p.min() >= lo and p.max() < lo + width, (name, i)
            if width <= 20:
                assert len(np.unique(p)) == width
        pos, cls = _decode_temporal(b)
        assert len(pos) == len(offsets)
        np.testing.assert_array_equal(b.y[-1], cls)


def test_temporal_order_3bit_ranges_L200():
    b = task_of("temporal_order_3bit", 200).sample(np.random.default_rng(1), 20000)
    assert set(np.unique(b.info["p0"])) == set(range(20, 40))
    assert set(np.unique(b.info["p1"])) == set(range(60, 80))
    assert set(np.unique(b.info["p2"])) == set(range(120, 140))
    assert set(np.unique(b.y[-1])) == set(range(8))


@pytest.mark.parametrize("name,n_cls,chance_error", [("temporal_order", 4, 0.75),
                                                     ("temporal_order_3bit", 8, 0.875)])
def test_temporal_order_chance_baseline(name, n_cls, chance_error):
    task = task_of(name, 30)
    bl = task.baseline
    assert bl.loss == pytest.approx(math.log(n_cls))
    assert 1 - bl.success_rate == pytest.approx(chance_error)      # SCIENCE.md §8 row 2
    assert bl.accuracy == pytest.approx(1 - chance_error)
    b = task.sample(np.random.default_rng(7), 40000)
    n = b.x.shape[1]
    # the classes are uniform (which is what makes the uniform prediction the best input-free one)
    freq = np.bincount(b.y[-1], minlength=n_cls) / n
    assert np.all(np.abs(freq - 1 / n_cls) < Z * binomial_se(1 / n_cls, n))
    # the uniform predictor: its loss is ln(n_cls); its argmax (class 0) errs at the chance rate
    out = np.full(b.x.shape[:2] + (n_cls,), 1.0 / n_cls)
    a, cnt = app_loss_terms(out, b, "classification")
    assert a.sum() / cnt.sum() == pytest.approx(bl.loss)
    rate = task.success(out, b).mean()
    assert_close_mc(rate, binomial_se(bl.success_rate, n), bl.success_rate, f"{name} success of chance")
    # any constant class errs at the chance rate as well
    for c in range(n_cls):
        onehot = np.zeros_like(out)
        onehot[..., c] = 1.0
        err = 1 - task.success(onehot, b).mean()
        assert_close_mc(err, binomial_se(chance_error, n), chance_error, f"{name} error of constant class {c}")


def test_temporal_order_small_length_raises():
    for name in ("temporal_order", "temporal_order_3bit", "addition", "multiplication"):
        with pytest.raises(ValueError, match=r"task\.length.*10"):
            task_of(name, 9)
        task_of(name, 10).sample(np.random.default_rng(0), 3)


# --- addition / multiplication ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["addition", "multiplication"])
def test_addition_ranges_and_targets_science_row1(name):
    L = 200
    task = task_of(name, L)
    assert (task.n_in, task.n_out, task.kind, task.readout) == (2, 1, "regression", "last")
    lengths = set()
    rng = np.random.default_rng(11)
    for _ in range(400):
        b = task.sample(rng, 50)
        l = b.x.shape[0]
        lengths.add(l)
        assert b.info["length"] == l
        assert L <= l < 1.1 * L
        p0, p1 = b.info["p0"], b.info["p1"]
        assert np.all(p0 >= 0) and np.all(p0 < 0.1 * l)
        assert np.all(p1 >= math.floor(0.1 * l)) and np.all(p1 < 0.5 * l)
        # markers: exactly two 1s in channel 0, at p0 and p1
        marks = b.x[:, :, 0]
        assert set(np.unique(marks)) <= {0.0, 1.0}
        assert np.all(marks.sum(axis=0) == 2)
        m0 = marks.argmax(axis=0)
        m1 = l - 1 - marks[::-1].argmax(axis=0)
        np.testing.assert_array_equal(m0, p0)
        np.testing.assert_array_equal(m1, p1)
        v = b.x[:, :, 1]
        assert v.min() >= 0 and v.max() < 1
        cols = np.arange(50)
        a, c = v[m0, cols], v[m1, cols]
        expect = (a + c) / 2 if name == "addition" else a * c
        np.testing.assert_allclose(b.y[-1, :, 0], expect, rtol=0, atol=1e-15)
    assert lengths == set(range(L, L + L // 10))              # l = L + randint(floor(0.1 L))


def test_addition_position_ranges_cover_reference_windows():
    # pool many batches of one fixed actual length and check every position in the window is hit
    task = task_of("addition", 100)
    seen: dict[int, tuple[set, set]] = {}
    rng = np.random.default_rng(2)
    for _ in range(300):
        b = task.sample(rng, 200)
        l = b.x.shape[0]
        s0, s1 = seen.setdefault(l, (set(), set()))
        s0.update(b.info["p0"].tolist())
        s1.update(b.info["p1"].tolist())
    for l, (s0, s1) in seen.items():
        assert s0 == set(range(0, int(l * .1)))
        assert s1 == set(range(int(l * .1), int(l * .1) + int(l * .4)))


@pytest.mark.parametrize("name,const,var", [("addition", 0.5, 1 / 24), ("multiplication", 0.25, 7 / 144)])
def test_addition_constant_baseline(name, const, var):
    task = task_of(name, 50)
    bl = task.baseline
    assert bl.loss == pytest.approx(var, rel=1e-12)             # SCIENCE.md §8 row 2 (derived analytically)
    assert bl.accuracy is None
    rng = np.random.default_rng(17)
    sq, ok = [], []
    for _ in range(40):
        b = task.sample(rng, 2500)
        out = np.full(b.x.shape[:2] + (1,), const)
        a, cnt = app_loss_terms(out, b, "regression")
        sq.append(a / cnt)
        ok.append(task.success(out, b))
    sq, ok = np.concatenate(sq), np.concatenate(ok)
    m, se = mean_and_se(sq)
    assert_close_mc(m, se, bl.loss, f"{name} constant-predictor MSE")
    rate = ok.mean()
    assert_close_mc(rate, binomial_se(bl.success_rate, ok.size), bl.success_rate, f"{name} constant success")
    # the success rule itself: wrong iff squared error > 0.04
    b = task.sample(rng, 4)
    out = b.y.copy()
    out[-1, :, 0] += np.array([0.19, -0.19, 0.21, -0.25])
    np.testing.assert_array_equal(task.success(out, b), [True, True, False, False])


def test_addition_constant_success_by_quadrature():
    # independent of the implementation: P(|(U1+U2)/2 - 1/2| <= 0.2) and P(0.05 <= U1 U2 <= 0.45) on a grid
    g = (np.arange(4000) + 0.5) / 4000
    u1, u2 = np.meshgrid(g, g)
    p_add = np.mean(np.abs((u1 + u2) / 2 - 0.5) <= 0.2)
    p_mul = np.mean(np.abs(u1 * u2 - 0.25) <= 0.2)
    assert task_of("addition", 20).baseline.success_rate == pytest.approx(p_add, abs=2e-3)
    assert task_of("multiplication", 20).baseline.success_rate == pytest.approx(p_mul, abs=2e-3)


# --- permutation ------------------------------------------------------------------------------------------------

def test_permutation_layout_and_baseline():
    L = 30
    task = task_of("permutation", L)
    assert (task.n_in, task.n_out, task.readout) == (100, 100, "last")
    b = task.sample(np.random.default_rng(4), 20000)
    sym = b.x.argmax(axis=-1)
    v = sym[0]
    assert set(np.unique(v)) == {0, 1}
    assert np.all(sym[1:] >= 2)                                 # symbols 1..L-1 in {2..99}
    assert set(np.unique(sym[1:])) == set(range(2, 100))
    np.testing.assert_array_equal(b.y[-1], v)                  # target = symbol L = symbol 0
    np.testing.assert_array_equal(b.info["symbols"][L], v)
    np.testing.assert_array_equal(b.info["symbols"][:L], sym)
    bl = task.baseline
    assert bl.loss == pytest.approx(math.log(2))
    out = np.full(b.x.shape[:2] + (100,), 0.0)
    out[..., 0] = out[..., 1] = 0.5
    a, cnt = app_loss_terms(out, b, "classification")
    assert a.sum() / cnt.sum() == pytest.approx(bl.loss)
    n = b.x.shape[1]
    assert_close_mc(task.success(out, b).mean(), binomial_se(0.5, n), bl.success_rate, "permutation chance")
    assert bl.accuracy == pytest.approx(0.5)


# --- memorisation -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("L,k,n", [(10, 4, 3), (25, 5, 10), (2, 2, 1)])
def test_memorization_layout(L, k, n):
    task = task_of("memorization", L, mem_values=k, mem_positions=n)
    assert (task.n_in, task.n_out, task.readout) == (k + 2, k + 1, "every")
    b = task.sample(np.random.default_rng(L), 300)
    total = L + 2 * n
    assert b.x.shape[0] == total
    sym = b.x.argmax(axis=-1)
    blank, trig = k, k + 1
    assert np.all(sym[:n] < k)                                  # pattern at steps 0..n-1
    assert np.all(sym[n:L + n] == blank)
    assert np.all(sym[L + n] == trig)                           # trigger at step L+n
    assert np.all(sym[L + n + 1:] == blank)
    assert np.all(b.y[:L + n] == k)                             # blank class before the recall
    np.testing.assert_array_equal(b.y[L + n:], sym[:n])         # the last n steps reproduce the pattern
    assert np.all(b.mask == 1.0)
    if k ** n > 5:
        assert len({tuple(c) for c in sym[:n].T}) > 1


def test_memorization_any_wrong_step_fails():
    task = task_of("memorization", 10, mem_values=3, mem_positions=2)
    b = task.sample(np.random.default_rng(0), 5)
    out = perfect_output(task, b)
    for t in (0, 5, b.x.shape[0] - 1):
        bad = out.copy()
        bad[t, 2] = 0.0
        bad[t, 2, (b.y[t, 2] + 1) % task.n_out] = 1.0
        assert task.success(bad, b).tolist() == [True, True, False, True, True]


@pytest.mark.parametrize("L,k,n", [(10, 2, 2), (30, 3, 1), (200, 5, 10)])
def test_memorization_baseline(L, k, n):
    task = task_of("memorization", L, mem_values=k, mem_positions=n)
    bl = task.baseline
    b = task.sample(np.random.default_rng(9), 40000)
    total = L + 2 * n
    # time-only predictor: blank with certainty before the recall window, uniform over the k values inside it
    out = np.zeros((total, b.x.shape[1], k + 1))
    out[:L + n, :, k] = 1.0
    out[L + n:, :, :k] = 1.0 / k
    a, cnt = app_loss_terms(out, b, "classification")
    assert a.sum() / cnt.sum() == pytest.approx(bl.loss, rel=1e-12)
    assert bl.loss == pytest.approx(n * math.log(k) / total)
    # time-aware prediction is better than any constant: check against the marginal (fully constant) predictor
    marg = np.bincount(b.y.ravel(), minlength=k + 1) / b.y.size
    out_c = np.broadcast_to(marg, out.shape)
    a_c, cnt_c = app_loss_terms(out_c, b, "classification")
    assert a_c.sum() / cnt_c.sum() > bl.loss
    ok = task.success(out, b)
    nseq = ok.size
    assert_close_mc(ok.mean(), binomial_se(bl.success_rate, nseq), bl.success_rate, "memorization chance success")
    acc = (out.argmax(-1) == b.y).mean(axis=0)
    m, se = mean_and_se(acc)
    assert_close_mc(m, se, bl.accuracy, "memorization chance accuracy", floor=1e-9)


def test_memorization_rejects_single_value():
    with pytest.raises(ValueError, match="mem_values"):
        T.MemorizationTask(10, n_values=1, n_pos=3)


# --- embedded Reber grammar -------------------------------------------------------------------------------------

# Reber grammar as a regular expression (written from the transition diagram, independently of the module's
# tables): B then either T S* X or P T* V P, then (X T* V P)*, then S or X T* V V, then E; or directly B P T* V V E.
_INNER = r"B(?:(?:TS*X|PT*VP)(?:XT*VP)*(?:S|XT*VV)|PT*VV)E"
_EMBEDDED = re.compile(r"B([TP])" + _INNER + r"\1E")

# The same grammar as a letter automaton for the test's own legal-continuation sets (state names from the diagram)
_AUTO = {"0": {"T": "1", "P": "2"}, "1": {"S": "1", "X": "3"}, "2": {"T": "2", "V": "4"},
         "3": {"X": "2", "S": "5"}, "4": {"P": "3", "V": "5"}, "5": {"E": "end"}}


def _reber_strings(b: Batch) -> list[str]:
    sym = T.REBER_SYMBOLS
    strings = []
    for j in range(b.x.shape[1]):
        n = int(b.mask[:, j].sum())
        s = "".join(sym[i] for i in b.x[:n, j].argmax(-1)) + sym[b.y[n - 1, j]]
        strings.append(s)
    return strings


def _legal_sets(s: str) -> list[set[str]]:
    """Legal next symbols after each prefix s[:t+1], t = 0..len(s)-2 (test's own automaton)."""
    out = [{"T", "P"}, {"B"}]
    state = "0"
    out.append(set(_AUTO[state]))                                  # after the inner B
    for c in s[3:-3]:                                              # inner symbols up to the inner E (excluded)
        state = _AUTO[state][c]
        out.append(set(_AUTO[state]))
    out.append({s[1]})                                             # after the inner E: the long-lag symbol
    out.append({"E"})
    assert len(out) == len(s) - 1
    return out


def test_regex_acceptor_sanity():
    assert _EMBEDDED.fullmatch("BTBTXSETE") and _EMBEDDED.fullmatch("BPBPVVEPE")
    assert _EMBEDDED.fullmatch("BTBTSSXXTVVETE") and _EMBEDDED.fullmatch("BPBTXXVPSEPE")
    assert not _EMBEDDED.fullmatch("BTBTXSEPE")                    # long-lag symbol mismatch
    assert not _EMBEDDED.fullmatch("BTBTXXVVSETE") and not _EMBEDDED.fullmatch("BTBPTVVB")


@pytest.mark.parametrize("L", [8, 9, 15, 60])
def test_reber_strings_are_grammatical(L):
    task = task_of("reber", L)
    assert (task.n_in, task.n_out, task.readout, task.kind) == (7, 7, "every", "classification")
    b = task.sample(np.random.default_rng(L), 3000)
    strings = _reber_strings(b)
    for j, s in enumerate(strings):
        assert _EMBEDDED.fullmatch(s), s
        n = len(s) - 1
        assert n <= L
        assert b.info["n_steps"][j] == n
        assert np.all(b.mask[:n, j] == 1) and np.all(b.mask[n:, j] == 0)
        assert np.all(b.x[n:, j] == 0)                              # zero-padded inputs
        assert T.REBER_SYMBOLS[b.y[n - 2, j]] == s[1]               # penultimate target = second symbol
        assert b.info["lag_step"][j] == n - 2
        legal = b.info["legal"][:, j]
        expect = _legal_sets(s)
        for t in range(n):
            assert {T.REBER_SYMBOLS[i] for i in np.nonzero(legal[t])[0]} == expect[t], (s, t)
        assert not legal[n:].any()
    if L == 8:
        assert set(strings) == {"BTBTXSETE", "BTBPVVETE", "BPBTXSEPE", "BPBPVVEPE"}
    # T and P embedded symbols each 1/2
    first = np.array([s[1] == "T" for s in strings])
    assert_close_mc(first.mean(), binomial_se(0.5, first.size), 0.5, "P(e = T)")


def test_reber_legal_sets_match_observed_continuations():
    # continuation sets seen in many samples never leave the stated legal set, and fill it when seen often
    b = task_of("reber", 30).sample(np.random.default_rng(99), 20000)
    strings = _reber_strings(b)
    seen: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    stated: dict[str, set[str]] = {}
    legal = b.info["legal"]
    for j, s in enumerate(strings):
        for t in range(len(s) - 1):
            pre = s[:t + 1]
            seen.setdefault(pre, set()).add(s[t + 1])
            count[pre] = count.get(pre, 0) + 1
            st = {T.REBER_SYMBOLS[i] for i in np.nonzero(legal[t, j])[0]}
            assert stated.setdefault(pre, st) == st
    frequent = [p for p in count if count[p] >= 40]
    assert len(frequent) > 30
    for p in frequent:
        assert seen[p] == stated[p], p


def test_reber_success_criterion():
    task = task_of("reber", 40)
    b = task.sample(np.random.default_rng(1), 200)
    out = perfect_output(task, b)
    assert task.success(out, b).all()
    strings = _reber_strings(b)
    cols = np.arange(200)
    idx = T.REBER_SYMBOLS.index
    # legal but different at a genuine branch (the step after the first B) still passes
    alt = out.copy()
    other = np.where(b.y[0] == idx("T"), idx("P"), idx("T"))
    alt[0] = 0.0
    alt[0, cols, other] = 1.0
    assert task.success(alt, b).all()
    # wrong long-lag symbol fails
    lag = b.info["lag_step"]
    alt = out.copy()
    alt[lag, cols] = 0.0
    alt[lag, cols, other] = 1.0
    assert not task.success(alt, b).any()
    # an illegal symbol anywhere fails (E right after the first B)
    alt = out.copy()
    alt[1] = 0.0
    alt[1, :, idx("E")] = 1.0
    assert not task.success(alt, b).any()
    # outputs on padding steps are ignored
    alt = out.copy()
    pad = b.mask == 0
    alt[pad] = 0.0
    alt[..., idx("E")][pad] = 1.0
    alt2 = alt.copy()
    alt2[pad] = 1.0 / 7
    assert task.success(alt, b).all() and task.success(alt2, b).all()
    assert len(strings) == 200


@pytest.mark.parametrize("L", [8, 12, 200])
def test_reber_baseline_memoryless_predictor(L):
    task = task_of("reber", L)
    bl = task.baseline
    b = task.sample(np.random.default_rng(1000 + L), 20000)
    strings = _reber_strings(b)
    idx = T.REBER_SYMBOLS.index
    out = np.zeros(b.x.shape[:2] + (7,))
    for j, s in enumerate(strings):
        sets = _legal_sets(s)
        sets[-2] = {"T", "P"}                                      # no memory of the embedded symbol
        for t, st in enumerate(sets):
            for c in st:
                out[t, j, idx(c)] = 1.0 / len(st)
    out[b.mask == 0] = 1.0 / 7
    a, cnt = app_loss_terms(out, b, "classification")
    r, se = ratio_and_se(a, cnt)
    assert_close_mc(r, se, bl.loss, f"reber L={L} memoryless loss", floor=1e-9)
    ok = task.success(out, b)
    assert_close_mc(ok.mean(), binomial_se(0.5, ok.size), bl.success_rate, "reber memoryless success")
    assert bl.success_rate == 0.5
    right = ((out.argmax(-1) == b.y) * b.mask).sum(axis=0)
    r_acc, se_acc = ratio_and_se(right, cnt)
    assert_close_mc(r_acc, se_acc, bl.accuracy, f"reber L={L} memoryless accuracy", floor=1e-9)


def test_reber_too_short_raises():
    with pytest.raises(ValueError, match=r"task\.length.*8"):
        task_of("reber", 7)


# --- sine -------------------------------------------------------------------------------------------------------

def test_sine_baseline_and_success():
    task = task_of("sine", 100)
    bl = task.baseline
    b = task.sample(np.random.default_rng(8), 20000)
    assert np.abs(b.x).max() <= 1.0 + 1e-12
    out = np.zeros_like(b.y)
    a, cnt = app_loss_terms(out, b, "regression")
    m, se = mean_and_se(a / cnt)
    assert_close_mc(m, se, bl.loss, "sine constant-0 MSE")
    # zero is the best constant: the target mean is 0
    mu, se_mu = mean_and_se(b.y[..., 0].mean(axis=0))
    assert abs(mu) < Z * se_mu
    assert_close_mc(task.success(out, b).mean(), binomial_se(max(bl.success_rate, 1e-4), 20000),
                    bl.success_rate, "sine constant success")
    # copying the input does not count as solving it
    assert task.success(b.x.copy(), b).mean() < 0.01


def test_sine_is_a_fixed_mixture_with_random_phase():
    task = task_of("sine", 200)
    b = task.sample(np.random.default_rng(0), 4)
    s = np.concatenate([b.x[:1, :, 0], b.y[:, :, 0]])          # s_0 .. s_T
    # a sum of K sines of fixed frequencies satisfies a linear recurrence with fixed coefficients:
    # fit it on sequence 0 and check it predicts the others exactly
    K = 2 * len(task.periods)
    rows = np.stack([s[i:i + K, 0] for i in range(s.shape[0] - K)])
    coef, *_ = np.linalg.lstsq(rows, s[K:, 0], rcond=None)
    for j in range(1, 4):
        rows_j = np.stack([s[i:i + K, j] for i in range(s.shape[0] - K)])
        np.testing.assert_allclose(rows_j @ coef, s[K:, j], atol=1e-8)
    assert not np.allclose(s[:, 0], s[:, 1])


# --- Mackey-Glass -----------------------------------------------------------------------------------------------

def _mg_naive(rng: np.random.Generator, n: int, washout: int) -> np.ndarray:
    """Jaeger (2001) eq. 23, one Euler step at a time, subsample 10, tanh(y - 1)."""
    D, delta = 170, 0.1
    y = list(rng.uniform(0.5, 1.5, size=D + 1))
    for _ in range((n + washout) * 10):
        yd = y[-D - 1]
        y.append(y[-1] + delta * (0.2 * yd / (1 + yd ** 10) - 0.1 * y[-1]))
    y = np.array(y)
    return np.tanh(y[D + 10::10][washout:washout + n] - 1)


def test_mackey_glass_series_matches_plain_euler():
    fast = T.mackey_glass_series(np.random.default_rng(4), 300, washout=50)
    slow = _mg_naive(np.random.default_rng(4), 300, washout=50)
    np.testing.assert_allclose(fast, slow, atol=1e-7)
    raw = T.mackey_glass_series(np.random.default_rng(4), 2000, washout=500, squash=False)
    assert 0.2 < raw.min() < raw.max() < 1.5                    # the τ = 17 attractor
    assert raw.std() > 0.1                                       # not decayed to the fixed point y = 1


def test_mackey_glass_windows_and_baseline():
    L = 100
    task = task_of("mackey_glass", L)
    s = task.series
    b = task.sample(np.random.default_rng(6), 30000)
    start = b.info["start"]
    assert start.min() >= 0 and start.max() + L < s.size
    j = 5
    np.testing.assert_array_equal(b.x[:, j, 0], s[start[j]:start[j] + L])
    np.testing.assert_array_equal(b.y[:, j, 0], s[start[j] + 1:start[j] + L + 1])
    bl = task.baseline
    # the loss of the best constant, estimated from fresh windows; windows of one series are correlated, so the
    # standard error is computed from the per-window MSEs of non-overlapping start blocks (batch means)
    c = b.y.mean()
    a, cnt = app_loss_terms(np.full_like(b.y, c), b, "regression")
    per = a / cnt
    order = np.argsort(start)
    blocks = np.array_split(per[order], 50)
    means = np.array([blk.mean() for blk in blocks])
    m, se = float(per.mean()), float(means.std(ddof=1) / math.sqrt(len(means)))
    assert_close_mc(m, se, bl.loss, "mackey_glass constant MSE")
    assert bl.loss == pytest.approx(np.var(s), rel=0.02)
    rate = task.success(np.full_like(b.y, c), b).mean()
    assert abs(rate - bl.success_rate) <= 0.02
    assert bl.loss == pytest.approx(task_of("mackey_glass", L).baseline.loss)  # deterministic


# --- random probe -----------------------------------------------------------------------------------------------

def test_random_task_baseline():
    task = task_of("random", 20)
    assert (task.n_in, task.n_out, task.kind, task.readout) == (8, 8, "regression", "every")
    assert task.baseline.loss == 1.0
    b = task.sample(np.random.default_rng(2), 5000)
    a, cnt = app_loss_terms(np.zeros_like(b.y), b, "regression")
    m, se = mean_and_se(a / cnt)
    assert_close_mc(m, se, 1.0, "random constant-0 MSE")
    assert abs(np.corrcoef(b.x.ravel(), b.y.ravel())[0, 1]) < Z / math.sqrt(b.x.size)
    # its stated success rate is P(chi^2_{8L} < 0.08 L): tiny, computed by a chi^2 CDF checked here by MC
    assert 0 <= task.baseline.success_rate < 1e-12
    z = np.random.default_rng(5).standard_normal((400000, 8))
    chi = (z ** 2).sum(axis=1)
    for x in (4.0, 12.0):                                       # both branches of the CDF (x < dof, x > dof)
        p = float(np.mean(chi < x))
        assert_close_mc(_chi2_even_cdf(x, 8), binomial_se(p, chi.size), p, f"P(chi2_8 < {x})")
    assert _chi2_even_cdf(0.08, 8) == pytest.approx(math.exp(-0.04) * sum(0.04 ** j / math.factorial(j)
                                                                             for j in range(4, 40)), rel=1e-9)


def test_nrmse84_follows_jaegers_protocol_step_by_step():
    """Against a plain loop: feed `teacher` true values, then the network's own predictions, and score the
    prediction `horizon` steps after the last true input, in the delay equation's coordinates y = 1 + atanh s."""
    from rnnlab.config import ModelConfig
    from rnnlab.core.network import build_network
    from rnnlab.train.tasks.mackey_glass import HELD_OUT_SEED, _cached_mg, nrmse84

    net = build_network(ModelConfig(arch="esn", hidden_size=10, input_scale=0.5, leak_min=0.3, leak_max=0.3),
                        1, 1, "linear", np.random.default_rng(0))
    net.params["W_yh"][...] = np.random.default_rng(1).standard_normal((1, 10)) * 0.05
    net.params["b_y"][...] = 0.1
    teacher, horizon, runs = 30, 7, 4
    value, err = nrmse84(net, runs=runs, teacher=teacher, horizon=horizon, seed=3, return_errors=True)
    T = teacher + horizon - 1
    series = _cached_mg(HELD_OUT_SEED, 20_000)
    starts = np.random.default_rng(3).integers(0, series.size - T, size=runs)
    p, alpha = net.params, net.params["alpha"]
    expected = []
    for s0 in starts:
        h = np.zeros(10)
        x = series[s0]
        for t in range(T):
            if t < teacher:
                x = series[s0 + t]  # the true value
            h = alpha * h + (1 - alpha) * np.tanh(p["W_hx"][:, 0] * x + p["W_hh"] @ h + p["b_h"])
            x = float(p["W_yh"][0] @ h + p["b_y"][0])  # the prediction of the next value
        truth = series[s0 + teacher - 1 + horizon]  # `horizon` steps after the last true input
        expected.append((1 + np.arctanh(x)) - (1 + np.arctanh(truth)))
    np.testing.assert_allclose(err, expected, rtol=1e-9, atol=1e-12)
    var = np.var(1 + np.arctanh(series))
    assert value == pytest.approx(np.sqrt(np.mean(np.square(expected)) / var), rel=1e-12)
