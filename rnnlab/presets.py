"""Built-in presets: small, fast demonstrations in ``resources/presets/*.toml``.

Each preset is an ordinary experiment file with a ``description`` a teacher can read aloud, plus:

* ``[contrast]``: the one setting to flip (e.g. ``"remedies.clip" = "none"``);
* ``[check]``: how the difference is measured: ``steps`` (both runs), ``measure`` (one of :data:`MEASURES`), and
  a condition for each run, ``preset = ">= 0.9"`` and ``contrast = "<= 0.7"`` (operators ``>= <= > < ==``;
  ``== true``/``== false`` for booleans). The tests run both and check both conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ConfigError, Experiment, _short
from .io import guarded, read_toml
from .resources import resource_path

__all__ = ["Preset", "preset_names", "load_preset", "get_preset", "all_presets", "MEASURES", "measure_run",
           "condition_holds"]

#: what a contrast check can measure after training ``steps`` updates
MEASURES = {
    "success": "held-out success rate at the end (the task's own criterion, fresh batch)",
    "final_loss": "mean training loss over the last 10 % of the steps",
    "exploded": "whether the run stopped on a non-finite loss or gradient",
    "max_grad_norm": "largest gradient norm (before clipping) over the run",
    "final_rho": "spectral radius of W_hh at the end",
    "jacobian_far": "mean log10 ‖∂h_t/∂h_k‖ over the pairs with t − k ≥ T/2, on the probe sequence at the end",
    "long_term_share": "share of ‖∂E/∂θ_rec‖ (W_hh, or the cell's recurrent parameters) from lags longer than "
                       "diagnostics.long_lag, at the end",
    "lag_peak": "how far the lag profile rises above its value at lag 0, in decades (max_d of mean log10 "
                "‖∂h_t/∂h_{t−d}‖ minus the lag-0 value; 0 when it only decays), on the probe sequence at the end",
    "sensitivity_far": "mean log10 ‖ds_t/dθ_rec‖ (the curse-of-memory sensitivity) over t ≥ T/2, on the probe "
                       "sequence at the end",
    "lyapunov_max": "largest Lyapunov exponent λ_1 (per step) along the probe sequence, at the end",
    "nrmse84": "Jaeger's NRMSE84 on a held-out Mackey–Glass series (100 runs: 1000 teacher-forced steps, then the "
               "prediction 84 free-running steps ahead, in the delay equation's own coordinates), at the end",
}


@dataclass(frozen=True)
class Preset:
    name: str
    experiment: Experiment
    contrast: dict  # dotted key -> value that brings the problem back
    check: dict  # steps, measure, preset condition, contrast condition

    @property
    def description(self) -> str:
        return self.experiment.description

    def check_text(self) -> str:
        """What the preset's check measures, in one sentence (shown with the description): the measure, after how
        many updates, and the condition for the preset and for its contrast."""
        c = self.check
        if not c:
            return ""
        flip = ", ".join(f"{k} = {v!r}" for k, v in self.contrast.items())
        return (f"Checked (tests): {MEASURES[c['measure']]}, after {c['steps']} updates: {c['preset']} for this "
                f"preset, {c['contrast']} with {flip}.")

    def contrast_experiment(self) -> Experiment:
        """The preset with every contrast key changed at once (validated as a whole)."""
        return self.experiment.replace(**{k.replace(".", "__"): v for k, v in self.contrast.items()})


def preset_names() -> list[str]:
    return sorted(p.stem for p in resource_path("presets").glob("*.toml"))


def get_preset(name: str) -> Preset:
    names = preset_names()
    if name not in names:
        raise ConfigError(f"unknown preset {name!r}: expected one of {', '.join(names)}")
    path = resource_path("presets", f"{name}.toml")
    data = read_toml(path, what="preset")  # the guarded reader: size, UTF-8, nesting depth
    with guarded(path, "preset"):
        contrast = data.pop("contrast", {})
        check = data.pop("check", {})
        if not isinstance(contrast, dict) or not isinstance(check, dict):
            raise ConfigError("[contrast] and [check] must be tables")
        exp = Experiment.from_dict(data)
        exp.with_changes(contrast)  # the contrast is valid on the preset (keys, values, as a whole)
        if check and check.get("measure") not in MEASURES:
            raise ConfigError(f"check.measure = {_short(check.get('measure'))}: expected one of "
                              f"{', '.join(MEASURES)}")
    return Preset(name, exp, dict(contrast), dict(check))


def load_preset(name: str) -> Experiment:
    """The experiment of the preset called ``name`` (a ConfigError lists the valid names)."""
    return get_preset(name).experiment


def all_presets() -> list[Preset]:
    return [get_preset(n) for n in preset_names()]


def measure_run(exp: Experiment, steps: int, measure: str) -> float | bool:
    """Train ``exp`` for ``steps`` updates (:func:`rnnlab.train.run.run`) and return the requested measure (see
    :data:`MEASURES`)."""
    import numpy as np

    from .train.run import run

    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    res = run(exp, steps, evaluate=measure == "success")
    if measure == "exploded":
        return res.exploded
    if measure == "max_grad_norm":
        return res.max_grad_norm
    if measure == "final_loss":
        return res.final_loss
    if measure == "success":
        return res.final_metric
    tr = res.trainer
    if measure == "final_rho":
        return tr.net.spectral_radius()
    if measure == "nrmse84":
        from .train.tasks.mackey_glass import nrmse84

        return nrmse84(tr.net)
    if measure == "lyapunov_max":  # what diagnostics().lyapunov[0] holds, without the heatmap (T²S³/2 at S = 200)
        from .core.bptt import forward
        from .core.diagnostics import network_lyapunov

        x, _, _ = tr.probe
        return float(network_lyapunov(tr.net, forward(tr.net, x), tr.exp.diagnostics.lyapunov)[0])
    d = tr.diagnostics()
    if measure == "jacobian_far":
        heat = d.jacobian_log10
        T = heat.shape[0]
        t, k = np.tril_indices(T)
        far = (t - k) >= T // 2
        vals = heat[t[far], k[far]]
        vals = vals[np.isfinite(vals)]
        return float(np.mean(vals)) if vals.size else float("-inf")
    if measure == "lag_peak":
        prof = d.lag_profile
        ok = np.isfinite(prof)
        return float(np.max(prof[ok]) - prof[0]) if ok.any() else float("nan")
    if measure == "sensitivity_far":
        sens = d.param_sensitivity
        far = sens[len(sens) // 2 :]
        far = far[np.isfinite(far)]
        return float(np.mean(far)) if far.size else float("-inf")
    return float(d.long_term[2])  # long_term_share


def condition_holds(value, condition: str) -> bool:
    """``condition`` is ``"<op> <number|true|false>"``, e.g. ``">= 0.9"``."""
    op, _, rhs = condition.strip().partition(" ")
    rhs = rhs.strip()
    target = {"true": True, "false": False}.get(rhs.lower(), None)
    if target is None:
        target = float(rhs)
    ops = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           "<": lambda a, b: a < b, "==": lambda a, b: a == b}
    if op not in ops:
        raise ValueError(f"bad condition {condition!r}: expected one of {', '.join(ops)} then a value")
    return bool(ops[op](value, target))
