"""The control panels, one file each; every control is bound to one key of the experiment."""

from .activation import ActivationPanel
from .architecture import ArchitecturePanel
from .imported import ImportedPanel
from .recurrent import RecurrentPanel
from .remedies import RemediesPanel
from .task import TaskPanel
from .training import TrainingPanel

ALL_PANELS = (ImportedPanel, TaskPanel, ArchitecturePanel, ActivationPanel, RecurrentPanel, RemediesPanel,
              TrainingPanel)

__all__ = ["ALL_PANELS", "ImportedPanel", "TaskPanel", "ArchitecturePanel", "ActivationPanel", "RecurrentPanel", "RemediesPanel",
           "TrainingPanel"]
