"""The nn-tui engine: networks, losses, optimizers and training in pure NumPy.

Nothing here imports a UI library or anything else of nn-tui (only NumPy and the standard
library), so the same engine serves the app, the headless CLI, benchmarks and tests, and its tests
run with only NumPy and pytest installed. Besides the numerics it holds the data loaders, model
files (``checkpoint``, written through ``atomic``) and ``numbers`` (numbers as text), which the
engine's own messages need.
"""

from . import optimizers
from .activations import ACTIVATIONS
from .gradcheck import gradcheck, numerical_grads
from .initializers import INIT_CHOICES
from .losses import LOSSES
from .network import Network
from .optimizers import OPTIMIZERS

__all__ = [
    "ACTIVATIONS",
    "INIT_CHOICES",
    "LOSSES",
    "OPTIMIZERS",
    "Network",
    "gradcheck",
    "numerical_grads",
    "optimizers",
]
