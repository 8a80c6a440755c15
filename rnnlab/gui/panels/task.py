"""Task: which problem, how long the sequences, how many per minibatch; your own data for the file task."""

from .base import ConfigSection


class TaskPanel(ConfigSection):
    section_title = "Task"
    rows = [("Task", "task.name"), ("Sequence length T", "task.length"), ("Batch size B", "task.batch_size"),
            ("Memorisation: symbols", "task.mem_values"), ("Memorisation: positions", "task.mem_positions"),
            ("Data file", "task.path"), ("Target at", "task.target"), ("Target kind", "task.kind"),
            ("Held out", "task.holdout"), ("CSV: sequence column", "task.id_column"),
            ("CSV: target columns", "task.target_columns"), ("CSV: feature columns", "task.feature_columns")]
