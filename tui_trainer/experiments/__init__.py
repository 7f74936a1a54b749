"""The experiments layer: what an experiment is and how one runs, without a UI.

Owns the config (TOML and validation), the limits and the memory budget, the experiment (data,
network, optimizer and trainer built from a config; model files), the training controllers (the
session for the main run, the race session for the optimizer lab), races and sweeps, presets,
bounded series, headless runs, and the wording of file problems and numbers shared by the CLI and
the app. May import ``tui_trainer.engine`` and the standard library, numpy and tomli-w; never
Textual, Rich or click, so the CLI, the app, tests and benchmarks share it.
"""
