"""Every preset demonstrates by contrast: the preset run and the run with its one setting flipped differ as the
preset's ``[check]`` says (SCIENCE.md-backed where it can be; each file's description says what to watch)."""

from __future__ import annotations

import pytest

from rnnlab.lessons.typeset import available
from rnnlab.presets import all_presets, condition_holds, get_preset, measure_run, preset_names
from tests.texcheck import plain, prose_symbols, quotes, typeset_all

REQUIRED = ["vanishing-sigmoid", "exploding-tanh", "clipping", "truncated-bptt", "l2-penalty",
            "pascanu-regularizer", "teacher-forcing", "echo-state", "leaky-units", "orthogonal-init", "lstm", "gru",
            "hessian-free", "edge-of-chaos", "mackey-glass-esn"]


def test_all_required_presets_exist_and_load():
    names = preset_names()
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"missing presets: {missing}"
    for p in all_presets():
        text = plain(p.description)  # the plain form (rnnlab presets, status tips); TexError if it does not parse
        assert len(text) > 80, p.name
        assert p.contrast, p.name
        assert {"steps", "measure", "preset", "contrast"} <= set(p.check), p.name
        # the description names the setting to flip, in prose
        for key in p.contrast:
            assert key.split(".")[-1] in text, (p.name, key)


# --- the descriptions are TeX (docs/lessons.md: prose with $…$ and $$…$$): typeset in the app, plain elsewhere -----------

@pytest.mark.parametrize("name", preset_names())
def test_description_keeps_its_maths_in_equations(name):
    d = get_preset(name).description
    assert not prose_symbols(d), prose_symbols(d)  # ρ, ≈, ‖…‖ written in prose would be neither typeset nor checked
    assert "$" in d


@pytest.mark.skipif(not available(), reason="ziamath is not installed")
def test_every_equation_of_the_descriptions_typesets():
    counts = {p.name: typeset_all(p.description) for p in all_presets()}  # TypesetError: it would fall back
    assert min(counts.values()) >= 3, counts


#: numbers the descriptions quote from measurements, as the slow tests below measure them (each must still be in the
#: description's plain form: change a number here and in its test together)
QUOTED = {
    "edge-of-chaos": [  # test_edge_of_chaos_lambda_1_crosses_zero_as_the_gain_passes_one
        "λ_1 ≈ ln g (measured −0.114 to −0.110 per step on seeds 0–2 after 50 steps",
        "at g = 0.5 it is −0.70, ln 0.5 = −0.69", "≈ −5.7 at lags t − k ≥ 100",
        "Set model.spectral_radius to 2.0", "λ_1 = +0.12 to +0.17 per step", "+7 to +10.5 decades at lags ≥ 100",
        "g = 1.5: λ_1 = +0.03 to +0.07, heatmap +1.5 to +5 decades at lags ≥ 100"],
    "mackey-glass-esn": [  # test_mackey_glass_esn_reaches_jaegers_nrmse84_on_a_held_out_series
        "spectral radius 0.92 here", "the 4500 states left", "NRMSE84 = 1.8·10^-4 to 2.4·10^-4 on seeds 0–2",
        "NRMSE84 rises to 1.8·10^-3 to 1.9·10^-2", "about 3·10^-11", "(10^1 to 10^4)"],
    "echo-state": [  # test_echo_state_description_numbers
        "to 6·10^-4 – 8·10^-4", "≈ −4 for lags ≥ 150", "about −0.05", "+2 to +6 decades at lags ≥ 150",
        "+0.02 to +0.07", "loss to 0.05–0.12", "(at 10^-8 almost no sequence passes)", "baseline 1/6"],
}


@pytest.mark.parametrize("name", sorted(QUOTED))
def test_descriptions_quote_the_measured_numbers(name):
    text = plain(get_preset(name).description)
    missing = [q for q in QUOTED[name] if not quotes(q, text)]
    assert not missing, (name, missing)
    assert not quotes("measured −0.115 to −0.110", plain(get_preset("edge-of-chaos").description))  # can fail


@pytest.mark.slow
@pytest.mark.parametrize("name", REQUIRED)
def test_preset_contrast(name):
    p = get_preset(name)
    steps, measure = int(p.check["steps"]), p.check["measure"]
    got = measure_run(p.experiment, steps, measure)
    assert condition_holds(got, p.check["preset"]), f"{name}: {measure} = {got}, expected {p.check['preset']}"
    got_c = measure_run(p.contrast_experiment(), steps, measure)
    assert condition_holds(got_c, p.check["contrast"]), \
        f"{name} with {p.contrast}: {measure} = {got_c}, expected {p.check['contrast']}"


def test_multi_key_contrast_is_validated_as_a_whole():
    from dataclasses import replace as dc_replace

    p = get_preset(preset_names()[0])
    p2 = dc_replace(p, contrast={"remedies.tbptt_k1": 5, "remedies.tbptt_k2": 8})
    e = p2.contrast_experiment()
    assert (e.remedies.tbptt_k1, e.remedies.tbptt_k2) == (5, 8)


# --- the numbers the descriptions quote (each one measured here, on seeds 0–2) ----------------------------------------
SEEDS = (0, 1, 2)


def _probe_measures(tr, lag):
    """λ_1 as the snapshot's diagnostics measure it, and the mean log10 ‖∂h_t/∂h_k‖ over the pairs t − k ≥ lag of the
    probe sequence, from the estimated heatmap (16 probes: bias ≤ 0.014 decades, as the app draws it at this
    size; the exact one costs T²S³/2)."""
    import numpy as np

    from rnnlab.core.bptt import forward
    from rnnlab.core.diagnostics import jacobian_log10, network_lyapunov

    x, _, _ = tr.probe
    trace = forward(tr.net, x)
    lam = float(network_lyapunov(tr.net, trace, tr.exp.diagnostics.lyapunov)[0])
    heat = jacobian_log10(tr.net, trace, mode="estimated", probes=16, rng=np.random.default_rng(0))
    t, k = np.tril_indices(heat.shape[0])
    v = heat[t, k][(t - k) >= lag]
    return lam, float(np.mean(v[np.isfinite(v)]))


def test_the_lyapunov_measure_is_the_snapshots_lambda_1():
    from rnnlab.train.run import run

    exp = get_preset("edge-of-chaos").experiment.with_changes({"model.hidden_size": 12, "task.length": 30})
    res = run(exp, 3, evaluate=False)
    assert measure_run(exp, 3, "lyapunov_max") == res.trainer.diagnostics().lyapunov[0]


@pytest.mark.slow
def test_edge_of_chaos_lambda_1_crosses_zero_as_the_gain_passes_one():
    """The description's table: λ_1 and the heatmap at lags ≥ 100 after 50 steps, g = 0.5, 0.9 (preset), 1.5, 2.0
    (contrast), seeds 0–2."""
    import numpy as np

    from rnnlab.train.run import run

    p = get_preset("edge-of-chaos")
    got = {}
    for g in (0.5, 0.9, 1.5, 2.0):
        for seed in SEEDS:
            exp = p.experiment.with_changes({"seed": seed, "model.spectral_radius": g})
            tr = run(exp, 50, evaluate=False).trainer
            # clipped SGD leaves W_hh where it was (to 0.3 %: how far it drifts in 50 steps depends on the last
            # bits of a chaotic trajectory, 0.0014 to 0.0026 at g = 1.5)
            assert tr.net.spectral_radius() == pytest.approx(g, abs=5e-3)
            got[g, seed] = _probe_measures(tr, 100)
    lam = {g: [got[g, s][0] for s in SEEDS] for g in (0.5, 0.9, 1.5, 2.0)}
    far = {g: [got[g, s][1] for s in SEEDS] for g in (0.5, 0.9, 1.5, 2.0)}
    assert all(abs(v - np.log(0.5)) < 0.015 for v in lam[0.5]) and all(round(v, 2) == -0.70 for v in lam[0.5])
    assert all(-0.1145 <= v <= -0.1095 for v in lam[0.9]) and all(abs(v - np.log(0.9)) < 0.015 for v in lam[0.9])
    assert all(abs(v + 5.7) < 0.1 for v in far[0.9])  # "≈ −5.7"
    # (chaotic above g = 1: the ranges hold for the compiled and the NumPy loops, whose last bits differ)
    assert all(0.025 <= v <= 0.075 for v in lam[1.5]) and all(1.45 <= v <= 5.05 for v in far[1.5])
    assert all(0.115 <= v <= 0.175 for v in lam[2.0]) and all(6.95 <= v <= 10.55 for v in far[2.0])


@pytest.mark.slow
def test_mackey_glass_esn_reaches_jaegers_nrmse84_on_a_held_out_series():
    """NRMSE84 ≤ 1e-3 by Jaeger's protocol (100 runs of 1000 teacher-forced + 84 free-running steps on a series the
    readout never saw), 3 seeds of 3, with the quoted ranges; without the bias input 3 of 3 fail."""
    import numpy as np

    from rnnlab.train.run import run
    from rnnlab.train.tasks.mackey_glass import nrmse84

    p = get_preset("mackey-glass-esn")
    exp = p.experiment
    net = run(exp, 1, evaluate=False).trainer.net
    alpha = net.params["alpha"]
    eff = np.diag(alpha) + (1 - alpha)[:, None] * net.params["W_hh"]
    assert round(float(np.max(np.abs(np.linalg.eigvals(eff)))), 2) == 0.92  # "0.92 here"
    assert exp.task.batch_size * (exp.task.length - exp.remedies.esn_washout) == 4500  # "the 4500 states left"
    from rnnlab.core.bptt import forward

    with_bias = []
    for s in SEEDS:
        res = run(exp.replace(seed=s), 1)
        tr = res.trainer
        with_bias.append(nrmse84(tr.net))
        assert res.final_metric == 1.0  # "passes for every sequence"
        b = tr.task.sample(np.random.default_rng(5), 10)
        err = (forward(tr.net, b.x).z - b.y)[..., 0] ** 2
        assert 1e-11 <= err[150:].mean() <= 5e-11  # "about 3·10^-11" after the washout
        assert err[:150].mean() >= 10  # the start-up transient: what keeps the loss curve high
        loss_2 = run(exp.replace(seed=s), 2, trainer=tr).trainer.history.since(0)["loss"][-1]
        assert 10 <= loss_2 <= 1e4  # "10^1 to 10^4"
    without = [nrmse84(run(p.contrast_experiment().replace(seed=s), 1, evaluate=False).trainer.net) for s in SEEDS]
    assert all(v <= 1e-3 for v in with_bias), with_bias
    assert all(1.75e-4 <= v <= 2.45e-4 for v in with_bias), with_bias  # "1.8·10^-4 to 2.4·10^-4"
    assert all(v >= 1e-3 for v in without), without
    assert all(1.75e-3 <= v <= 1.95e-2 for v in without), without  # "1.8·10^-3 to 1.9·10^-2"


@pytest.mark.slow
def test_echo_state_description_numbers():
    """Seeds 0–2: after one update the fresh teacher-forced loss is 6·10^-4 – 8·10^-4 and every held-out sequence
    passes; the heatmap is ≈ −4 at lags ≥ 150 and λ_1 ≈ −0.05; at ρ = 1.5 the loss stays at 0.05–0.12, the heatmap
    is +2 … +6 decades at lags ≥ 150, λ_1 = +0.02 … +0.07 and nothing passes; ridge 1e-8 breaks the free run."""
    import numpy as np

    from rnnlab.core.bptt import forward, loss_and_dz
    from rnnlab.train.run import run

    p = get_preset("echo-state")
    for seed in SEEDS:
        res = run(p.experiment.replace(seed=seed), 1)
        tr = res.trainer
        b = tr.task.sample(np.random.default_rng(99), 20)
        loss, _ = loss_and_dz(tr.net, forward(tr.net, b.x).z, b.y, b.mask)
        assert 5.5e-4 <= loss <= 8.5e-4 and res.final_metric == 1.0
        assert tr.task.baseline.loss == pytest.approx(1 / 6)
        lam, far = _probe_measures(tr, 150)
        assert round(far) == -4 and round(lam, 2) == -0.05
        con = run(p.contrast_experiment().replace(seed=seed), 5)
        lam_c, far_c = _probe_measures(con.trainer, 150)
        assert 0.05 <= con.final_loss <= 0.12 and con.final_metric == 0.0
        assert 2.0 <= far_c <= 6.2 and 0.02 <= lam_c <= 0.07
    weak = [run(p.experiment.with_changes({"seed": s, "remedies.esn_ridge": 1e-8}), 5).final_metric for s in SEEDS]
    assert max(weak) <= 0.15  # "at 10^-8 almost no sequence passes"
