"""Architecture: the cell, its size and when the output is read."""

from .base import ConfigSection


class ArchitecturePanel(ConfigSection):
    section_title = "Architecture"
    rows = [("Cell", "model.arch"), ("Hidden units H", "model.hidden_size"), ("Output read", "model.readout"),
            ("Input weight scale", "model.input_scale"), ("Readout weight scale", "model.output_scale"),
            ("Precision", "model.dtype"),
            # the settings of one cell each (greyed out, with the reason, for the others)
            ("IndRNN: smallest u / ρ", "model.indrnn_u_min"),
            ("Antisymmetric: step ε", "model.antisymmetric_epsilon"),
            ("Antisymmetric: diffusion γ", "model.antisymmetric_gamma"),
            ("LRU: ring r_min", "model.lru_r_min"), ("LRU: ring r_max", "model.lru_r_max"),
            ("LRU: largest phase", "model.lru_max_phase"), ("LRU: normalise γ", "model.lru_normalize")]
