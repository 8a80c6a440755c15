"""Architecture: the cell, its size and when the output is read."""

from .base import ConfigSection


class ArchitecturePanel(ConfigSection):
    section_title = "Architecture"
    rows = [("Cell", "model.arch"), ("Hidden units H", "model.hidden_size"), ("Output read", "model.readout"),
            ("Input weight scale", "model.input_scale"), ("Readout weight scale", "model.output_scale"),
            ("Precision", "model.dtype")]
