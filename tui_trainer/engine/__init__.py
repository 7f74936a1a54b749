"""The nn-tui engine: networks, losses, optimizers and training in pure NumPy.

Nothing here imports a UI library, so the same engine serves the app, the headless CLI,
benchmarks and tests.
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
