"""nn-tui: build and train small neural networks in the terminal and see how they learn.

Layers, each importing only those below it:
  cli/      the ``nn-tui`` command (click): option parsing, one ``Error:`` line per failure
  tui/      the Textual app: screens, panes, dialogs; owns no training logic
  (this package's modules) the experiments layer, Textual-free: config (TOML and validation),
            budget, experiment, session (the one owner of the current config and the training
            thread's controller), lab (races), presets, series, headless, files, hparam_text
  engine/   pure NumPy: networks, losses, optimizers, trainer, data, checkpoints
"""

__version__ = "0.1.0"
