"""Tests of rnnlab.train.optim: update rules against hand-written references, state, dtype, rebuild."""

from __future__ import annotations

import copy
import dataclasses
import tracemalloc

import numpy as np
import pytest

from rnnlab.config import Experiment, TrainingConfig
from rnnlab.train.optim import (
    SGD,
    Adam,
    Momentum,
    Optimizer,
    RMSProp,
    make_optimizer,
    rebuild_optimizer,
)

KINDS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
SHAPES = {"W_hx": (6, 3), "W_hh": (6, 6), "b_h": (6,), "W_yh": (2, 6), "b_y": (2,)}


def make(kind: str, lr: float = 0.05) -> Optimizer:
    return {
        "sgd": lambda: SGD(lr),
        "momentum": lambda: Momentum(lr, momentum=0.8),
        "nesterov": lambda: Momentum(lr, momentum=0.8, nesterov=True),
        "rmsprop": lambda: RMSProp(lr, beta=0.9, eps=1e-6),
        "adam": lambda: Adam(lr, beta1=0.8, beta2=0.95, eps=1e-6),
    }[kind]()


def random_params(rng: np.random.Generator, dtype=np.float64) -> dict[str, np.ndarray]:
    return {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}


def grad_sequence(n: int, seed: int = 1, dtype=np.float64) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [random_params(rng, dtype) for _ in range(n)]


# --- hand-written references (allocating, float64, straight from the equations) -------------------------------

class RefSGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, p, g):
        for k in g:
            p[k] = p[k] - self.lr * g[k]


class RefMomentum:
    def __init__(self, lr, mu, nesterov=False):
        self.lr, self.mu, self.nesterov, self.v = lr, mu, nesterov, {}

    def step(self, p, g):
        for k in g:
            v = self.mu * self.v.get(k, 0.0) - self.lr * g[k]
            self.v[k] = v
            p[k] = p[k] + (self.mu * v - self.lr * g[k] if self.nesterov else v)


class RefRMSProp:
    def __init__(self, lr, beta, eps):
        self.lr, self.beta, self.eps, self.s = lr, beta, eps, {}

    def step(self, p, g):
        for k in g:
            s = self.beta * self.s.get(k, 0.0) + (1 - self.beta) * g[k] ** 2
            self.s[k] = s
            p[k] = p[k] - self.lr * g[k] / (np.sqrt(s) + self.eps)


class RefAdam:
    def __init__(self, lr, b1, b2, eps):
        self.lr, self.b1, self.b2, self.eps, self.m, self.v, self.t = lr, b1, b2, eps, {}, {}, 0

    def step(self, p, g):
        self.t += 1
        for k in g:
            m = self.b1 * self.m.get(k, 0.0) + (1 - self.b1) * g[k]
            v = self.b2 * self.v.get(k, 0.0) + (1 - self.b2) * g[k] ** 2
            self.m[k], self.v[k] = m, v
            mhat = m / (1 - self.b1 ** self.t)
            vhat = v / (1 - self.b2 ** self.t)
            p[k] = p[k] - self.lr * mhat / (np.sqrt(vhat) + self.eps)


def make_ref(kind: str, lr: float = 0.05):
    return {
        "sgd": lambda: RefSGD(lr),
        "momentum": lambda: RefMomentum(lr, 0.8),
        "nesterov": lambda: RefMomentum(lr, 0.8, nesterov=True),
        "rmsprop": lambda: RefRMSProp(lr, 0.9, 1e-6),
        "adam": lambda: RefAdam(lr, 0.8, 0.95, 1e-6),
    }[kind]()


def run(opt, params, grads_seq):
    for g in grads_seq:
        opt.step(params, g)
    return params


# --- update rules ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_update_matches_hand_written_reference(kind):
    rng = np.random.default_rng(0)
    p0 = random_params(rng)
    gs = grad_sequence(6)
    opt, ref = make(kind), make_ref(kind)
    p_opt = copy.deepcopy(p0)
    p_ref = copy.deepcopy(p0)
    for g in gs:
        opt.step(p_opt, g)
        ref.step(p_ref, g)
        for k in p0:
            np.testing.assert_allclose(p_opt[k], p_ref[k], rtol=1e-12, atol=1e-14)
    assert opt.t == len(gs)


def test_sgd_single_step_is_exact():
    p = {"w": np.array([1.0, -2.0, 3.0])}
    SGD(0.5).step(p, {"w": np.array([2.0, 2.0, -4.0])})
    np.testing.assert_array_equal(p["w"], [0.0, -3.0, 5.0])


def test_momentum_two_steps_by_hand():
    # v1 = -η g1 = -0.1; θ1 = 0.9.  v2 = 0.5·(-0.1) - 0.1·2 = -0.25; θ2 = 0.65
    p = {"w": np.array([1.0])}
    opt = Momentum(0.1, momentum=0.5)
    opt.step(p, {"w": np.array([1.0])})
    np.testing.assert_allclose(p["w"], [0.9])
    opt.step(p, {"w": np.array([2.0])})
    np.testing.assert_allclose(p["w"], [0.65])
    # Nesterov (θ += μ v − η g): θ1 = 1 + 0.5·(-0.1) - 0.1 = 0.85; v2 = -0.25, θ2 = 0.85 - 0.125 - 0.2 = 0.525
    p = {"w": np.array([1.0])}
    opt = Momentum(0.1, momentum=0.5, nesterov=True)
    opt.step(p, {"w": np.array([1.0])})
    np.testing.assert_allclose(p["w"], [0.85])
    opt.step(p, {"w": np.array([2.0])})
    np.testing.assert_allclose(p["w"], [0.525])


def test_nesterov_is_classic_nag_in_lookahead_variables():
    """Our θ_t equals φ_t + μ v_t where (φ, v) follow the original NAG with the gradient at φ + μ v."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0.1, 2.0, size=5)
    grad = lambda x: a * x  # noqa: E731  f = ½ Σ a x²
    lr, mu = 0.2, 0.9
    phi = rng.standard_normal(5)
    v = np.zeros(5)
    p = {"x": phi.copy()}
    opt = Momentum(lr, momentum=mu, nesterov=True)
    for _ in range(20):
        opt.step(p, {"x": grad(p["x"])})
        v = mu * v - lr * grad(phi + mu * v)
        phi = phi + v
        np.testing.assert_allclose(p["x"], phi + mu * v, rtol=1e-12, atol=1e-14)


def test_adam_first_step_has_magnitude_lr_per_coordinate():
    rng = np.random.default_rng(4)
    g = rng.choice([-1.0, 1.0], size=50) * 10.0 ** rng.uniform(-3, 3, size=50)
    for lr in (1e-3, 0.1):
        p = {"w": np.zeros(50)}
        Adam(lr, beta1=0.9, beta2=0.999, eps=1e-8).step(p, {"w": g})
        np.testing.assert_allclose(np.abs(p["w"]), lr, rtol=1e-4)
        np.testing.assert_array_equal(np.sign(p["w"]), -np.sign(g))


def test_adam_key_trained_late_gets_its_own_bias_correction():
    opt = Adam(0.01)
    p = {"a": np.zeros(4), "b": np.zeros(4)}
    for _ in range(30):
        opt.step(p, {"a": np.ones(4)})
    np.testing.assert_array_equal(p["b"], 0.0)
    opt.step(p, {"a": np.ones(4), "b": np.full(4, -3.0)})
    np.testing.assert_allclose(p["b"], 0.01, rtol=1e-6)


def test_nesterov_converges_faster_than_sgd_on_a_quadratic():
    a = np.linspace(0.01, 1.0, 20)  # f(x) = ½ Σ a x², condition number 100
    x0 = np.ones(20)
    f0 = 0.5 * np.sum(a * x0**2)

    def steps_to_converge(opt, limit=5000):
        p = {"x": x0.copy()}
        for n in range(1, limit + 1):
            opt.step(p, {"x": a * p["x"]})
            if 0.5 * np.sum(a * p["x"] ** 2) < 1e-8 * f0:
                return n
        return limit + 1

    lr = 0.5
    n_sgd = steps_to_converge(SGD(lr))
    n_nag = steps_to_converge(Momentum(lr, momentum=0.9, nesterov=True))
    assert n_sgd <= 5000  # SGD does converge, just slowly
    assert n_nag * 5 < n_sgd, (n_nag, n_sgd)


@pytest.mark.parametrize("kind", KINDS)
def test_lr_change_mid_run_takes_effect_at_next_step(kind):
    rng = np.random.default_rng(5)
    p0 = random_params(rng)
    gs = grad_sequence(8, seed=6)
    opt, ref = make(kind, lr=0.05), make_ref(kind, lr=0.05)
    p_opt, p_ref = copy.deepcopy(p0), copy.deepcopy(p0)
    for i, g in enumerate(gs):
        if i == 4:
            opt.lr = 0.3
            ref.lr = 0.3
        before = copy.deepcopy(p_opt)
        opt.step(p_opt, g)
        ref.step(p_ref, g)
        for k in p0:
            np.testing.assert_allclose(p_opt[k], p_ref[k], rtol=1e-12, atol=1e-14)
        if kind == "sgd" and i == 4:
            for k in p0:
                np.testing.assert_allclose(p_opt[k] - before[k], -0.3 * g[k], rtol=1e-12, atol=1e-15)


# --- which keys, dtype, in place, allocations --------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_only_keys_present_in_grads_are_updated(kind):
    rng = np.random.default_rng(7)
    p = random_params(rng)
    frozen = {k: p[k].copy() for k in ("W_hh", "b_y")}
    opt = make(kind)
    for g in grad_sequence(3):
        del g["W_hh"], g["b_y"]
        opt.step(p, g)
    for k, v in frozen.items():
        np.testing.assert_array_equal(p[k], v)
    assert set(opt.state_dict()["slots"]) <= {"W_hx", "b_h", "W_yh"}


@pytest.mark.parametrize("kind", KINDS)
def test_update_is_in_place_and_grads_are_not_modified(kind):
    rng = np.random.default_rng(8)
    p = random_params(rng)
    ids = {k: id(v) for k, v in p.items()}
    views = {k: v for k, v in p.items()}
    gs = grad_sequence(3)
    gs_copy = copy.deepcopy(gs)
    run(make(kind), p, gs)
    for k in p:
        assert id(p[k]) == ids[k]
        assert views[k] is p[k]
    for g, gc in zip(gs, gs_copy):
        for k in g:
            np.testing.assert_array_equal(g[k], gc[k])


@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_float32_parameters_stay_float32(kind, grad_dtype):
    rng = np.random.default_rng(9)
    p64 = random_params(rng)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    gs = grad_sequence(5, dtype=grad_dtype)
    opt = make(kind)
    run(opt, p32, gs)
    for k, v in p32.items():
        assert v.dtype == np.float32
    for entry in opt.state_dict()["slots"].values():
        for value in entry.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32
    # and the float32 run tracks the float64 one to float32 accuracy
    run(make(kind), p64, gs)
    for k in p64:
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_step_allocates_no_array_after_the_first(kind):
    rng = np.random.default_rng(10)
    p = {"W": rng.standard_normal((128, 128)), "b": rng.standard_normal(128)}
    g = {"W": rng.standard_normal((128, 128)), "b": rng.standard_normal(128)}
    opt = make(kind, lr=1e-4)
    opt.step(p, g)  # creates the buffers
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(5):
            opt.step(p, g)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 4096  # one 128-vector of float64 is 1024 bytes, W is 131072


def test_gradient_with_wrong_shape_is_rejected():
    opt = SGD(0.1)
    with pytest.raises(ValueError, match="shape"):
        opt.step({"w": np.zeros((3, 3))}, {"w": np.zeros(3)})


def test_parameter_of_new_shape_gets_fresh_state():
    opt = Momentum(0.1, momentum=0.9)
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    p = {"w": np.zeros(5)}
    opt.step(p, {"w": np.ones(5)})  # rebuilt network: the old velocity is not used
    np.testing.assert_allclose(p["w"], -0.1)


# --- state_dict / load_state_dict -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_restores_exactly(kind):
    rng = np.random.default_rng(11)
    p = random_params(rng)
    gs = grad_sequence(10, seed=12)
    a = make(kind)
    run(a, p, gs[:5])
    saved = a.state_dict()
    p_saved = copy.deepcopy(p)

    b = make(kind, lr=9.0)  # different hyper-parameters, empty state: all overwritten by the load
    b.load_state_dict(saved)
    assert b.t == a.t == 5
    pa, pb = run(a, copy.deepcopy(p_saved), gs[5:]), run(b, copy.deepcopy(p_saved), gs[5:])
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])

    # rewind the first optimiser to the checkpoint and replay: same trajectory again
    a.load_state_dict(saved)
    pa2 = run(a, copy.deepcopy(p_saved), gs[5:])
    for k in pa:
        np.testing.assert_array_equal(pa2[k], pa[k])


@pytest.mark.parametrize("kind", KINDS)
def test_saved_state_is_not_aliased_to_the_live_one(kind):
    rng = np.random.default_rng(13)
    p = random_params(rng)
    gs = grad_sequence(6, seed=14)
    a = make(kind)
    run(a, p, gs[:3])
    saved = a.state_dict()
    pristine = copy.deepcopy(saved)

    # stepping the live optimiser does not change the saved state
    run(a, p, gs[3:])
    assert a.t == 6 and saved["t"] == 3
    for key, entry in saved["slots"].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(value, pristine["slots"][key][name])

    # a second state_dict is a different copy
    s2 = a.state_dict()
    for key, entry in s2["slots"].items():
        for name, value in entry.items():
            if isinstance(value, np.ndarray):
                value += 1.0
    s3 = a.state_dict()
    for key, entry in s3["slots"].items():
        for name, value in entry.items():
            if isinstance(value, np.ndarray):
                assert not np.array_equal(value, s2["slots"][key][name])

    # after a load, mutating the dict that was loaded does not reach the optimiser
    b, c = make(kind), make(kind)
    b.load_state_dict(saved)
    c.load_state_dict(pristine)
    for entry in saved["slots"].values():
        for value in entry.values():
            if isinstance(value, np.ndarray):
                value *= -7.0
    saved["lr"] = 123.0
    pb = run(b, copy.deepcopy(p), gs[3:])
    pc = run(c, copy.deepcopy(p), gs[3:])
    for k in pb:
        np.testing.assert_array_equal(pb[k], pc[k])


def test_state_dict_contents():
    opt = Adam(0.01, beta1=0.8, beta2=0.95, eps=1e-7)
    opt.step({"w": np.zeros(2)}, {"w": np.array([1.0, -2.0])})
    s = opt.state_dict()
    assert s["kind"] == "adam" and s["t"] == 1
    assert (s["lr"], s["beta1"], s["beta2"], s["eps"]) == (0.01, 0.8, 0.95, 1e-7)
    np.testing.assert_allclose(s["slots"]["w"]["m"], [0.2, -0.4])
    np.testing.assert_allclose(s["slots"]["w"]["v"], [0.05, 0.2])
    assert s["slots"]["w"]["beta1_power"] == pytest.approx(0.8)
    assert Momentum(0.1, 0.5, nesterov=True).state_dict()["kind"] == "nesterov"


def test_load_state_of_another_kind_is_refused():
    adam = Adam(0.01)
    adam.step({"w": np.zeros(2)}, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="adam"):
        RMSProp(0.01).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError):
        Momentum(0.1, nesterov=True).load_state_dict(Momentum(0.1).state_dict())


def test_invalid_hyperparameters_are_refused():
    for bad in (lambda: SGD(0.0), lambda: SGD(float("nan")), lambda: Momentum(0.1, momentum=1.0),
                lambda: RMSProp(0.1, beta=-0.1), lambda: Adam(0.1, eps=0.0), lambda: Adam(0.1, beta2=1.0)):
        with pytest.raises(ValueError):
            bad()


# --- make_optimizer / rebuild_optimizer -------------------------------------------------------------------------

def test_make_optimizer_follows_the_config():
    cfg = TrainingConfig(learning_rate=0.02, momentum=0.7, beta1=0.85, beta2=0.97, eps=1e-6)
    expect = {
        "sgd": (SGD, {"lr": 0.02}),
        "momentum": (Momentum, {"lr": 0.02, "momentum": 0.7}),
        "nesterov": (Momentum, {"lr": 0.02, "momentum": 0.7}),
        "rmsprop": (RMSProp, {"lr": 0.02, "beta": 0.97, "eps": 1e-6}),
        "adam": (Adam, {"lr": 0.02, "beta1": 0.85, "beta2": 0.97, "eps": 1e-6}),
    }
    for kind, (cls, hyper) in expect.items():
        opt = make_optimizer(dataclasses.replace(cfg, optimizer=kind))
        assert type(opt) is cls and opt.kind == kind and opt.t == 0
        assert opt.hyperparameters() == hyper
    assert make_optimizer(Experiment().replace("training.optimizer", "adam")).kind == "adam"


def test_rebuild_with_new_hyperparameters_keeps_the_state():
    cfg = TrainingConfig(optimizer="adam", learning_rate=0.01, beta1=0.9, beta2=0.999)
    opt = make_optimizer(cfg)
    rng = np.random.default_rng(15)
    p = random_params(rng)
    gs = grad_sequence(6, seed=16)
    run(opt, p, gs[:3])
    before = opt.state_dict()

    new_cfg = dataclasses.replace(cfg, learning_rate=0.003, beta1=0.8, beta2=0.99, eps=1e-6, momentum=0.5)
    same = rebuild_optimizer(opt, new_cfg)
    assert same is opt and same.t == 3
    assert same.hyperparameters() == {"lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}
    after = same.state_dict()
    for key, entry in before["slots"].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(after["slots"][key][name], value)

    # the next step uses the kept moments with the new hyper-parameters
    ref = Adam(0.003, beta1=0.8, beta2=0.99, eps=1e-6)
    ref.load_state_dict({**before, "lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})
    p1, p2 = copy.deepcopy(p), copy.deepcopy(p)
    same.step(p1, gs[3])
    ref.step(p2, gs[3])
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])

    mom = make_optimizer(dataclasses.replace(cfg, optimizer="momentum", momentum=0.9))
    run(mom, copy.deepcopy(p), gs[:2])
    v = mom.state_dict()["slots"]["W_hh"]["velocity"]
    mom2 = rebuild_optimizer(mom, dataclasses.replace(cfg, optimizer="momentum", momentum=0.5, learning_rate=0.1))
    assert mom2 is mom and mom2.momentum == 0.5 and mom2.lr == 0.1
    np.testing.assert_array_equal(mom2.state_dict()["slots"]["W_hh"]["velocity"], v)


@pytest.mark.parametrize("old_kind,new_kind", [("adam", "sgd"), ("sgd", "adam"), ("momentum", "nesterov"),
                                               ("nesterov", "momentum"), ("rmsprop", "adam"), ("adam", "rmsprop")])
def test_rebuild_with_another_kind_starts_fresh(old_kind, new_kind):
    cfg = TrainingConfig(optimizer=old_kind, learning_rate=0.01)
    old = make_optimizer(cfg)
    rng = np.random.default_rng(17)
    run(old, random_params(rng), grad_sequence(3))
    new = rebuild_optimizer(old, dataclasses.replace(cfg, optimizer=new_kind, learning_rate=0.02))
    assert new is not old and new.kind == new_kind
    assert new.t == 0 and new.state_dict()["slots"] == {} and new.lr == 0.02
    assert old.t == 3  # the old optimiser is left as it was


def test_rebuild_from_nothing_makes_a_new_optimizer():
    opt = rebuild_optimizer(None, TrainingConfig(optimizer="rmsprop"))
    assert isinstance(opt, RMSProp) and opt.t == 0


def test_repr_mentions_kind_and_hyperparameters():
    text = repr(Momentum(0.1, 0.5, nesterov=True))
    assert "nesterov" in text and "momentum=0.5" in text
