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
        ("ESN bias input scale", "model.esn_bias"),
    ]
