"""The views, one per file, and their registry.

Every view is a :class:`~rnnlab.gui.plots.base.SnapshotPlot` subclass that declares a stable ``view_id`` (used by
lessons' ``watch``, presentation mode, the layout and export file names), a ``label`` (how a lesson names it) and a
``description`` (its "What am I looking at?": lesson-style text with typeset equations).
To add a view: write its file here and add the class to :data:`VIEWS` below (in the order the window shows them).
"""

from .grad_norms import GradNormsPlot
from .gradient_flow import GradientFlowPlot
from .heatmap import HeatmapPlot
from .hidden_states import HiddenStatesPlot
from .lag_profile import LagProfilePlot
from .loss import LossPlot
from .lyapunov import LyapunovPlot
from .memory import MemoryPlot
from .saturation import SaturationPlot
from .spectrum import SpectrumPlot
from .unrolled import UnrolledPlot

__all__ = ["VIEWS", "view_labels"]

#: view id -> view class, in the window's reading order (the heatmap first: it is the point of the app)
VIEWS = {cls.view_id: cls for cls in (HeatmapPlot, LagProfilePlot, GradientFlowPlot, GradNormsPlot, LossPlot,
                                      SpectrumPlot, HiddenStatesPlot, SaturationPlot, MemoryPlot, LyapunovPlot,
                                      UnrolledPlot)}


def view_labels() -> dict[str, str]:
    """``{view id: label}``: what lessons may ``watch`` and how the lesson panel names each view."""
    return {vid: cls.label for vid, cls in VIEWS.items()}
