"""nn-tui: build and train small neural networks in the terminal and see how they learn.

Layers, each importing only those below it:
  cli/          the ``nn-tui`` command (click): option parsing, one ``Error:`` line per failure
  tui/          the Textual app: screens, panes, dialogs; owns no training logic
  experiments/  Textual-free: config (TOML and validation), budget, experiment, the training
                controllers (session, race session), lab (races), presets, series, headless
  engine/       pure NumPy: networks, losses, optimizers, trainer, data, checkpoints
"""

__version__ = "0.1.0"
