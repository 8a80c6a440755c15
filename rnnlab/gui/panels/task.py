"""Task: which problem, how long the sequences, how many per minibatch."""

from .base import ConfigSection


class TaskPanel(ConfigSection):
    section_title = "Task"
    rows = [("Task", "task.name"), ("Sequence length T", "task.length"), ("Batch size B", "task.batch_size"),
            ("Memorisation: symbols", "task.mem_values"), ("Memorisation: positions", "task.mem_positions")]

    def sync_extras(self, exp) -> None:
        mem = exp.task.name == "memorization"
        for key in ("task.mem_values", "task.mem_positions"):
            w = self.editors[key].widget
            w.setEnabled(mem)
            self.form.labelForField(w).setEnabled(mem)
