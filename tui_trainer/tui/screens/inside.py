"""Inside-the-network screens: decision boundary, gradient flow, activations, linear collapse,
partial derivatives, weight inspector, data, presets (registered in ``views``).

Each screen lives in its own ``inside_*`` module; this one only registers them, so the keys and
help lines of the whole family are in one place. Every screen shows the live network through
the main screen's snapshots (see ``inside_base``).
"""

from __future__ import annotations

from importlib import import_module

from .views import View, register


def _lazy(module: str, cls: str):
    """A factory that imports its screen's module when the screen first opens (not at start-up)."""
    return lambda main: getattr(import_module(f"{__package__}.{module}"), cls)(main)


for _view in (
    View("b", "boundary", "Decision boundary",
         "The output over the input plane, data on top (1 input: the prediction curve); o: points",
         _lazy("inside_boundary", "BoundaryScreen")),
    View("g", "gradients", "Gradient flow",
         "Each layer's gradient norm over time (log) and the first/last ratio: vanishing gradients",
         _lazy("inside_gradients", "GradientFlowScreen")),
    View("a", "activations", "Activations",
         "Histograms of each layer's outputs: dead relus and saturated sigmoids in red",
         _lazy("inside_activations", "ActivationsScreen")),
    View("x", "collapse", "Linear collapse",
         "All-linear hidden layers are one matrix W = W1 @ ... @ Wn: shown and checked",
         _lazy("inside_collapse", "CollapseScreen")),
    View("d", "partials", "Partial derivatives",
         "Backprop vs (L(w+h) - L(w-h)) / 2h per layer, with example entries side by side",
         _lazy("inside_partials", "PartialsScreen")),
    View("i", "inspector", "Weight inspector",
         "One weight: value, dL/dw, optimizer state, its last update written out; e edits it",
         _lazy("inside_inspector", "InspectorScreen")),
    View("t", "data", "Data",
         "Shape, rows with label and one-hot, class counts, statistics before/after standardizing",
         _lazy("inside_data", "DataScreen")),
    View("p", "presets", "Presets",
         "Ready-made experiments: deep sigmoid vs relu, linear vs relu on xor, ...",
         _lazy("inside_presets", "PresetsScreen")),
):
    register(_view)
