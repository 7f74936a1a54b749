"""What a trained network ended with, by the names every result uses (a training's summary, a race lane's
result): one place evaluates the trainer and names its numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.numbers import finite_or_none
from ..engine.trainer import Trainer


def metric_keys(metric_name: str) -> tuple[str, str]:
    """``("train_accuracy", "val_accuracy")``, or ``_r2`` for regression (``Trainer.metric_name``)."""
    return f"train_{metric_name}", f"val_{metric_name}"


def ended_numbers(trainer: Trainer) -> dict[str, float | None]:
    """The cost over the training set (``train_loss``) and the validation set (``val_loss``) and the
    metric on both (``metric_keys``), evaluated now on the trainer's thread; a non-finite number is None
    (JSON has none; weights near overflow after a divergence give no warning)."""
    with np.errstate(all="ignore"):
        m = trainer.evaluate()
    train_metric, val_metric = metric_keys(trainer.metric_name)
    return {"train_loss": finite_or_none(m["train_loss"]), "val_loss": finite_or_none(m["val_loss"]),
            train_metric: finite_or_none(m["train_metric"]), val_metric: finite_or_none(m["val_metric"])}


def no_numbers(metric_name: str) -> dict[str, Any]:
    """``ended_numbers``' names with no values: a network stopped by a divergence has no result."""
    return dict.fromkeys(("train_loss", "val_loss", *metric_keys(metric_name)))
