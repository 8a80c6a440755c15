"""Task: which problem, how long the sequences, how many per minibatch."""

from .base import ConfigSection


class TaskPanel(ConfigSection):
    section_title = "Task"
    rows = [("Task", "task.name"), ("Sequence length T", "task.length"), ("Batch size B", "task.batch_size"),
            ("Memorisation: symbols", "task.mem_values"), ("Memorisation: positions", "task.mem_positions")]
