"""The ``nn-tui`` command: opens the app, or runs the engine headless through subcommands.

Owns the command line only: option parsing, one ``Error:`` line for every failure, exit
statuses. It may import everything below it (the experiments layer and the engine) and imports
the Textual app only when the app opens. ``group`` defines ``main``; each other module adds its
commands to it, and importing this package imports them all.
"""

from . import backprop, catalog, export, lab, learn, runs, serve, train, watch  # noqa: F401  (each adds its commands to main)
from .group import main

__all__ = ["main"]
