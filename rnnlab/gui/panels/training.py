"""Training: optimiser, learning rate (log scale), seed and the held-out measurement."""

from .base import ConfigSection


class TrainingPanel(ConfigSection):
    section_title = "Training"
    rows = [("Optimiser", "training.optimizer"), ("Learning rate η", "training.learning_rate"),
            ("Momentum μ", "training.momentum"), ("Adam β₁", "training.beta1"), ("β₂ (Adam, RMSProp)", "training.beta2"),
            ("Seed", "seed"), ("Measure success every", "training.eval_every"),
            ("Held-out sequences", "training.eval_batch_size")]
