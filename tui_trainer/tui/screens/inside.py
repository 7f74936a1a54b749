"""Inside-the-network screens: decision boundary, gradient flow, activations, linear collapse,
partial derivatives, weight inspector, data, presets (registered in ``views``).

Each screen lives in its own ``inside_*`` module; this one only registers them, so the keys and
help lines of the whole family are in one place. Every screen shows the live network through
the main screen's snapshots (see ``inside_base``).
"""

from __future__ import annotations

from .inside_activations import ActivationsScreen
from .inside_boundary import BoundaryScreen
from .inside_collapse import CollapseScreen
from .inside_data import DataScreen
from .inside_gradients import GradientFlowScreen
from .inside_inspector import InspectorScreen
from .inside_partials import PartialsScreen
from .inside_presets import PresetsScreen
from .views import View, register

__all__ = [
    "ActivationsScreen",
    "BoundaryScreen",
    "CollapseScreen",
    "DataScreen",
    "GradientFlowScreen",
    "InspectorScreen",
    "PartialsScreen",
    "PresetsScreen",
]

for _view in (
    View("b", "boundary", "Decision boundary",
         "The output over the input plane, data on top (1 input: the prediction curve); o: points",
         BoundaryScreen),
    View("g", "gradients", "Gradient flow",
         "Each layer's gradient norm over time (log) and the first/last ratio: vanishing gradients",
         GradientFlowScreen),
    View("a", "activations", "Activations",
         "Histograms of each layer's outputs: dead relus and saturated sigmoids in red",
         ActivationsScreen),
    View("x", "collapse", "Linear collapse",
         "All-linear hidden layers are one matrix W = W1 @ ... @ Wn: shown and checked",
         CollapseScreen),
    View("d", "partials", "Partial derivatives",
         "Backprop vs (L(w+h) - L(w-h)) / 2h per layer, with example entries side by side",
         PartialsScreen),
    View("i", "inspector", "Weight inspector",
         "One weight: value, dL/dw, optimizer state, its last update written out; e edits it",
         InspectorScreen),
    View("t", "data", "Data",
         "Shape, rows with label and one-hot, class counts, statistics before/after standardizing",
         DataScreen),
    View("p", "presets", "Presets",
         "Ready-made experiments: deep sigmoid vs relu, linear vs relu on xor, ...",
         PresetsScreen),
):
    register(_view)
