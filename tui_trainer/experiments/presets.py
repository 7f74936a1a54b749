"""Ready-made experiments, each showing one idea about neural networks (UI-free).

``PRESETS`` maps a name to a ``Preset``: a one-line description and a function that builds a
fresh ``ExperimentConfig``. The app lists them (key ``p``); the CLI opens or trains one with
``--preset NAME``. Pairs differ in one setting only, so the difference they show has one cause:

- ``deep-sigmoid`` / ``deep-relu``: 6 hidden layers of 16 on circles, plain SGD, default init.
  With sigmoid the first layer's weight gradient is ~1e-5 of the last layer's (each sigmoid
  multiplies the gradient by at most 1/4) and the network never leaves 50% accuracy; with relu
  the ratio stays near 1 and it learns the rings in a few epochs.
- ``linear-xor`` / ``relu-xor``: 3 hidden layers of 8 on xor. With linear activations the whole
  network is one linear map (see the linear-collapse view), and no line separates xor; relu
  learns it.
- ``overfit`` / ``overfit-fixed``: 50 noisy moons to train on (50 more held out), two relu
  layers of 64, 400 full-batch Adam epochs. Alone the network learns the noise: the training
  loss goes to ~0 while the validation loss climbs past 1 (1.9-3.9 at epoch 400, seeds 0-2); with
  L2 0.01 the validation loss stays near its best (0.30-0.48 at epoch 400, within 0.02 of its
  lowest). Dropout and early stopping (their options in ``nn-tui train --help``) are the other settings to try.
- ``features-circles``: circles with no hidden layer, on the inputs x1², x2²: a straight line
  there is a circle in the plane, so a single layer separates the rings (on x1, x2 it cannot).
- ``spiral-tanh``: the app's default experiment.

The lessons (``lessons.py``) start from these too; each is a problem the lesson's task fixes:

- ``circles-no-hidden``: circles with no hidden layer: one line, and the rings need a curve.
- ``moons-sgd`` / ``moons-full-batch``: moons with plain SGD at lr 0.1, in mini-batches of 32 or
  one full batch an epoch (1 update an epoch instead of 10).
- ``lr-too-low``: the same network at lr 1e-4: the loss barely moves.
- ``spiral-sgd`` / ``spiral-adagrad``: the spiral with plain SGD at lr 0.1 or AdaGrad at lr 0.01;
  after 100 epochs both are below 65% validation accuracy.
- ``overfit-adamw``: ``overfit`` trained with AdamW and its default weight decay 0.01.
- ``zero-init``: moons with every weight starting at zero: the units of a layer stay identical.
- ``sine-sgd``: the sine regression with plain SGD at lr 0.01, 30 epochs (the matrix's horizon).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from .config import DataConfig, ExperimentConfig, NetworkConfig, OptimizerConfig, TrainingConfig

__all__ = ["PRESETS", "Preset", "get_preset", "preset_names", "unknown_preset_message"]


@dataclass(frozen=True)
class Preset:
    """A named experiment."""

    name: str
    description: str
    """One line: what it shows and which view shows it."""
    config: Callable[[], ExperimentConfig]
    """Builds a fresh config (callers may change it freely)."""
    view: str = ""
    """Key of the view that shows the point best (for the picker's hint)."""


def _deep(activation: str) -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(dataset="circles"),
        network=NetworkConfig(hidden=[16] * 6, activation=activation),
        optimizer=OptimizerConfig(name="sgd", lr=0.1),
        training=TrainingConfig(epochs=200, batch_size=32, seed=0),
    )


def _xor(activation: str) -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(dataset="xor"),
        network=NetworkConfig(hidden=[8, 8, 8], activation=activation),
        optimizer=OptimizerConfig(name="adam", lr=0.01),
        training=TrainingConfig(epochs=50, batch_size=32, seed=0),
    )


def _overfit(fixed: bool) -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(dataset="moons", n_samples=100, noise=0.35, val_split=0.5),
        network=NetworkConfig(hidden=[64, 64], activation="relu", l2=0.01 if fixed else 0.0),
        optimizer=OptimizerConfig(name="adam", lr=0.01),
        training=TrainingConfig(epochs=400, batch_size="full", seed=0),
    )


def _features_circles() -> ExperimentConfig:
    return ExperimentConfig(
        data=DataConfig(dataset="circles", features=["x1sq", "x2sq"]),
        network=NetworkConfig(hidden=[]),
        optimizer=OptimizerConfig(name="adam", lr=0.05),
        training=TrainingConfig(epochs=30, batch_size=32, seed=0),
    )


def _lesson(dataset: str, hidden: list[int], optimizer: str, lr: float, epochs: int, batch_size=32, *,
            init: str = "auto") -> ExperimentConfig:
    """A lesson's starting experiment: tanh hidden layers, seed 0."""
    return ExperimentConfig(
        data=DataConfig(dataset=dataset),
        network=NetworkConfig(hidden=hidden, activation="tanh", init=init),
        optimizer=OptimizerConfig(name=optimizer, lr=lr),
        training=TrainingConfig(epochs=epochs, batch_size=batch_size, seed=0),
    )


def _overfit_adamw() -> ExperimentConfig:
    config = _overfit(False)
    config.optimizer = OptimizerConfig(name="adamw", lr=0.01, hparams={"weight_decay": 0.01})
    return config


def _spiral_tanh() -> ExperimentConfig:
    from .session import default_config

    return default_config()


PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("spiral-tanh", "the default: two spiral arms, 2 tanh layers of 16, Adam", _spiral_tanh, "b"),
    Preset("deep-sigmoid", "6 sigmoid layers of 16 + SGD: the first layer's gradient vanishes",
           lambda: _deep("sigmoid"), "g"),
    Preset("deep-relu", "the same 6 layers with relu: the gradient reaches the first layer",
           lambda: _deep("relu"), "g"),
    Preset("linear-xor", "3 linear hidden layers on xor: one matrix in disguise, cannot learn it",
           lambda: _xor("linear"), "x"),
    Preset("relu-xor", "the same network with relu: learns xor", lambda: _xor("relu"), "b"),
    Preset("overfit", "50 noisy moons, 2 relu layers of 64, 400 epochs: learns the noise, val loss climbs",
           lambda: _overfit(False), "b"),
    Preset("overfit-fixed", "the same with L2 0.01: the val loss stays near its best",
           lambda: _overfit(True), "b"),
    Preset("features-circles", "circles with no hidden layer on x1², x2²: a line there is a circle",
           _features_circles, "b"),
    Preset("circles-no-hidden", "circles, no hidden layer: one line cannot separate the rings",
           lambda: _lesson("circles", [], "adam", 0.05, 50), "b"),
    Preset("moons-sgd", "moons, plain SGD at lr 0.1, batches of 32: a noisy loss curve",
           lambda: _lesson("moons", [16], "sgd", 0.1, 20), ""),
    Preset("moons-full-batch", "the same in one full batch: 1 update an epoch instead of 10",
           lambda: _lesson("moons", [16], "sgd", 0.1, 20, "full"), ""),
    Preset("lr-too-low", "moons, plain SGD at lr 1e-4: the loss barely moves", lambda: _lesson("moons", [16], "sgd", 1e-4, 30), "s"),
    Preset("spiral-sgd", "the spiral, plain SGD at lr 0.1: under 60% after 100 epochs",
           lambda: _lesson("spiral", [16, 16], "sgd", 0.1, 100), "o"),
    Preset("spiral-adagrad", "the spiral, AdaGrad at lr 0.01: its steps shrink as it goes",
           lambda: _lesson("spiral", [16, 16], "adagrad", 0.01, 100), "o"),
    Preset("overfit-adamw", "overfit with AdamW, weight decay 0.01: too weak to stop it",
           _overfit_adamw, "b"),
    Preset("zero-init", "moons, every weight starting at 0: a layer's units stay alike",
           lambda: _lesson("moons", [16, 16], "adam", 0.01, 30, init="zeros"), "u"),
    Preset("sine-sgd", "sin(x), SGD at lr 0.01 for 30 epochs: which optimizer wins?",
           lambda: _lesson("sine", [16, 16], "sgd", 0.01, 30), "m"),
]}
"""Registry: preset name -> ``Preset``, in the order the picker lists them."""


def preset_names() -> list[str]:
    """The preset names, in display order."""
    return list(PRESETS)


def unknown_preset_message(name: object) -> str:
    """``unknown preset 'x'; choose one of: a, b, c`` plus the closest name when there is one."""
    text = f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}"
    close = difflib.get_close_matches(name, list(PRESETS), n=1) if isinstance(name, str) else []
    return text + (f"; did you mean {close[0]!r}?" if close else "")


def get_preset(name: str) -> ExperimentConfig:
    """A fresh config for preset ``name``; ``ValueError`` names the presets for an unknown one."""
    preset = PRESETS.get(name) if isinstance(name, str) else None
    if preset is None:
        raise ValueError(unknown_preset_message(name))
    return preset.config()
