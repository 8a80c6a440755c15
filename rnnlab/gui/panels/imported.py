"""Imported model: the file, the layer and direction diagnosed, the readout; and your data (the file task's keys
are in the Task panel). A change of layer, direction or readout goes through
:func:`rnnlab.train.imported.experiment_for`, so the settings that follow from the file (H of the chosen layer) follow
it; the panel opens by itself when the experiment is an imported model."""

from __future__ import annotations

from ...config import ConfigError
from .base import ConfigSection

#: keys whose change re-reads the model file (the rest of the experiment stays)
_CHOICE = {"model.source_layer": "layer", "model.source_direction": "direction", "model.source_readout": "readout"}


class ImportedPanel(ConfigSection):
    section_title = "Imported model"
    rows = [("Model file", "model.source"), ("Layer", "model.source_layer"), ("Direction", "model.source_direction"),
            ("Readout", "model.source_readout")]

    def _commit(self, ed, *args) -> None:
        value = ed.convert(args[0]) if args else None
        exp = self.controller.exp
        if ed.key == "model.source" and not value:  # an empty file name: a network drawn from the settings again
            self.controller.set_experiment(exp.replace("model.source", ""))
            return
        if ed.key == "model.source":
            source, choice = value, {"layer": 0, "direction": "forward", "readout": ""}
        elif ed.key in _CHOICE and exp.model.source:
            m = exp.model
            source = m.source
            choice = {"layer": m.source_layer, "direction": m.source_direction, "readout": m.source_readout}
            choice[_CHOICE[ed.key]] = value
        else:
            self.controller.set_value(ed.key, value)
            return
        from ...train.imported import data_of, experiment_for

        try:
            new = experiment_for(source, base=exp, data=data_of(exp), **choice)
        except ConfigError as exc:
            self.controller.message.emit(str(exc))
            self.controller.experimentChanged.emit(exp)  # the widgets go back to the experiment as it is
            return
        self.controller.set_experiment(new)

    def build_extras(self) -> None:
        self.editors["model.source"].widget.setPlaceholderText("none: a network drawn from the settings")
        self.editors["model.source_readout"].widget.setPlaceholderText("automatic: the one linear layer with H "
                                                                       "inputs")

    def __init__(self, controller, parent=None, expanded: bool = True):
        super().__init__(controller, parent, expanded=expanded or bool(controller.exp.model.source))

    def sync_extras(self, exp) -> None:
        if exp.model.source and not self.isExpanded():
            self.expand(animate=False)
