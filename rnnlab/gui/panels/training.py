"""Training: optimiser, learning rate (log scale), seed and the held-out measurement."""

from .base import ConfigSection


class TrainingPanel(ConfigSection):
    section_title = "Training"
    rows = [("Optimiser", "training.optimizer"), ("Learning rate η", "training.learning_rate"),
            ("Momentum μ", "training.momentum"), ("Adam β₁", "training.beta1"), ("β₂ (Adam, RMSProp)", "training.beta2"),
            ("Seed", "seed"), ("Measure success every", "training.eval_every"),
            ("Held-out sequences", "training.eval_batch_size")]

    def sync_extras(self, exp) -> None:
        opt = exp.training.optimizer
        for key, on in (("training.momentum", opt in ("momentum", "nesterov")), ("training.beta1", opt == "adam"),
                        ("training.beta2", opt in ("adam", "rmsprop"))):
            w = self.editors[key].widget
            w.setEnabled(on)
            self.form.labelForField(w).setEnabled(on)
