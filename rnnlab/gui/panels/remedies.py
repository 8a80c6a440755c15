"""Remedies: every one applies to the running experiment (leaky α needs new weights and asks first)."""

from .base import ConfigSection


class RemediesPanel(ConfigSection):
    section_title = "Remedies"
    rows = [
        ("Gradient clipping", "remedies.clip"),
        ("Clip threshold c", "remedies.clip_threshold"),
        ("Truncated BPTT k1", "remedies.tbptt_k1"),
        ("Truncated BPTT k2", "remedies.tbptt_k2"),
        ("L1 on W_hh", "remedies.l1"),
        ("L2 on W_hh", "remedies.l2"),
        ("Pascanu Ω weight α", "remedies.omega"),
        ("Teacher forcing ratio", "remedies.teacher_forcing"),
        ("Leaky retention α min", "model.leak_min"),
        ("Leaky retention α max", "model.leak_max"),
        ("Hessian-free", "remedies.hessian_free"),
        ("HF structural damping μ", "remedies.hf_mu"),
        ("HF damping λ", "remedies.hf_damping"),
        ("HF max CG iterations", "remedies.hf_max_cg"),
        ("ESN washout", "remedies.esn_washout"),
        ("ESN ridge", "remedies.esn_ridge"),
    ]

    def sync_extras(self, exp) -> None:
        r, arch = exp.remedies, exp.model.arch
        enabled = {
            "remedies.clip_threshold": r.clip != "none" and not r.hessian_free,
            "remedies.tbptt_k2": r.tbptt_k1 > 0,
            "model.leak_min": arch in ("leaky", "esn"),
            "model.leak_max": arch in ("leaky", "esn"),
            "remedies.hf_mu": r.hessian_free,
            "remedies.hf_damping": r.hessian_free,
            "remedies.hf_max_cg": r.hessian_free,
            "remedies.esn_washout": arch == "esn",
            "remedies.esn_ridge": arch == "esn",
            "remedies.teacher_forcing": exp.task.name in ("sine", "mackey_glass"),
            "remedies.omega": arch == "rnn",
            "remedies.hessian_free": arch == "rnn",
        }
        for key, on in enabled.items():
            w = self.editors[key].widget
            w.setEnabled(on)
            self.form.labelForField(w).setEnabled(on)
