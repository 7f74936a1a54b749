"""Extra views opened from the main screen by one key each (optimizer lab, inside the network).

This list is the one place where a view's key, name and help are written; the main screen turns
every entry into a key binding, a command-palette command and a line of the help screen. Each
screen lives in its own module, imported when the screen first opens (not at start-up); no screen
module imports this one (the app opens a view from another view), so there is no circle, and the
import test follows these names as imports. Every factory gets the
session's link (``tui.training.SessionLink``): the views of the network subscribe to it, the lab
screens start from its current config.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Callable

from textual.screen import Screen

if TYPE_CHECKING:
    from ..training import SessionLink


@dataclass(frozen=True)
class View:
    """A screen reachable from the main screen."""

    key: str
    """Textual key name, e.g. ``o``."""
    name: str
    """Identifier used in the action, e.g. ``race``."""
    description: str
    """Short label for the footer and palette."""
    help: str
    """One line for the help screen and the palette."""
    factory: Callable[["SessionLink"], Screen]
    """Builds the screen from the session's link."""


def _screen(module: str, cls: str, make: Callable = lambda screen_cls, training: screen_cls(training)):
    """A factory that imports ``module`` when its screen first opens and builds ``cls`` with ``make``."""
    return lambda training: make(getattr(import_module(f"{__package__}.{module}"), cls), training)


def _with_config(screen_cls, training):
    """A lab screen starts from the session's config, and gives the session what it found (``u``)."""
    return screen_cls(training.session.config, training=training)


VIEWS: tuple[View, ...] = (
    View("L", "lessons", "Lessons",
         "The course in order, completed ones marked: each a ready experiment, a task checked live, hints",
         _screen("lessons_screen", "LessonListScreen", lambda screen_cls, training: screen_cls(training, VIEWS))),
    # Inside the network: every one shows the live network through the session's snapshots.
    View("b", "boundary", "Decision boundary",
         "The output over the input plane, data on top (1 input: the prediction curve); o: points, z: shading (or class colours only)",
         _screen("inside_boundary", "BoundaryScreen")),
    View("g", "gradients", "Gradient flow",
         "Each layer's gradient norm over time (log) and the first/last ratio: vanishing gradients",
         _screen("inside_gradients", "GradientFlowScreen")),
    View("a", "activations", "Activations",
         "Histograms of each layer's outputs: dead relus and saturated sigmoids in red",
         _screen("inside_activations", "ActivationsScreen")),
    View("x", "collapse", "Linear collapse",
         "All-linear hidden layers are one matrix W = W1 @ ... @ Wn: shown and checked",
         _screen("inside_collapse", "CollapseScreen")),
    View("e", "hidden", "Hidden space",
         "The training points in a hidden layer's space (PCA above 2 units), the input grid warped through it; [ ]: layer",
         _screen("inside_hidden", "HiddenSpaceScreen")),
    View("d", "partials", "Partial derivatives",
         "L(w) through one weight, the others held fixed, with its tangent ([ ]: weight); backprop vs (L(w+h) - L(w-h)) / 2h per layer",
         _screen("inside_partials", "PartialsScreen")),
    View("i", "inspector", "Weight inspector",
         "One weight: value, dL/dw, optimizer state, its last update written out; e edits it",
         _screen("inside_inspector", "InspectorScreen")),
    View("u", "neurons", "Neurons",
         "Every unit's output over the input plane, layer by layer (2 inputs); arrows: a unit's weights",
         _screen("inside_neurons", "NeuronsScreen")),
    View("t", "data", "Data",
         "Shape, rows with label and one-hot, class counts, statistics before/after standardizing",
         _screen("inside_data", "DataScreen")),
    View("p", "presets", "Presets",
         "Ready-made experiments: deep sigmoid vs relu, linear vs relu on xor, ...",
         _screen("inside_presets", "PresetsScreen")),
    View("w", "images", "Weights as images", "Image data: each first-layer unit's weights as a picture; a sample and its prediction", _screen("inside_images", "WeightImagesScreen")),
    View("k", "functions", "Activation functions", "f(z) and f'(z) of each activation: saturation, dead relus, the 1/4 slope, exp overflow", _screen("inside_functions", "ActivationFunctionsScreen")),
    View("B", "backprop", "Backprop step by step",
         "The next update on the first batch with its numbers: z = aW + b, a = f(z), the loss, "
         "delta = (delta_next W^T) * f'(z), dW = a^T delta, db, the new W",
         _screen("inside_backprop", "BackpropScreen")),
    View("O", "losses", "Loss and output",
         "mse, bce and cross-entropy on the batch with numbers: mean vs sum, signed errors cancel, p - y, naive vs stable bce",
         _screen("inside_losses", "LossOutputScreen")),
    View("I", "init", "Initialization",
         "zeros, constant, small, normal, Xavier, He on this shape: units kept identical, each layer's spread",
         _screen("inside_init", "InitScreen")),
    # The optimizer lab: each starts from the current experiment's config.
    View("o", "race", "Optimizer race",
         "Race optimizers (m: batch modes) from the same weights on the same batches",
         _screen("lab_race", "RaceScreen", _with_config)),
    View("s", "sweep", "LR sweep",
         "Short trainings over log-spaced learning rates: too high diverges, too low crawls",
         _screen("lab_sweep", "SweepScreen", _with_config)),
    View("m", "matrix", "Optimizer matrix", "Which optimizer suits which task: each rate tuned, over seeds, a winner only beyond the spread; u uses a cell", _screen("lab_matrix", "MatrixScreen", _with_config)),
    View("f", "surface", "Loss surfaces",
         "Watch optimizers walk 2-D functions (Rosenbrock, saddle, two wells, ...)",
         _screen("lab_surface", "SurfaceScreen", lambda screen_cls, training: screen_cls())),
    View("h", "runs", "Runs",
         "Every training recorded: overlay runs' curves, compare settings, continue or follow one",
         _screen("runs_screen", "RunsScreen")),
)
"""Every view, in the order its key appears in the help."""


def view_named(name: str) -> View:
    """The view called ``name`` (``LookupError`` when there is none)."""
    for view in VIEWS:
        if view.name == name:
            return view
    raise LookupError(f"no view named {name!r}")
