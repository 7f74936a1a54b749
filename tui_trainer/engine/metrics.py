"""Scores computed from a network's output and the raw targets."""

from __future__ import annotations

import numpy as np


def _binary_labels(output: np.ndarray) -> np.ndarray:
    return (output.reshape(-1) >= 0.5).astype(np.int64)  # output is the sigmoid's P(class 1)


def _multiclass_labels(output: np.ndarray) -> np.ndarray:
    return output.argmax(axis=1)


PREDICT_LABELS = {"binary": _binary_labels, "multiclass": _multiclass_labels}
"""problem -> how a network output of that problem becomes class indices."""


def predict_labels(output: np.ndarray, problem: str) -> np.ndarray:
    """Class index per row from probabilities: threshold 0.5 for binary, argmax for multiclass."""
    try:
        to_labels = PREDICT_LABELS[problem]
    except KeyError:
        raise ValueError(f"class labels need a classification problem, got {problem!r}") from None
    return to_labels(np.asarray(output))


def accuracy(output: np.ndarray, y_labels: np.ndarray, problem: str) -> float:
    """Fraction of rows whose predicted class equals the label (nan for no rows)."""
    y_labels = np.asarray(y_labels).reshape(-1)
    if len(y_labels) == 0:
        return float("nan")
    return float(np.mean(predict_labels(output, problem) == y_labels))


def r2_score(output: np.ndarray, Y: np.ndarray) -> float:
    """1 - SS_res / SS_tot summed over all outputs, each centred on its own mean.

    A constant target has SS_tot = 0: then a perfect fit scores 1 and anything else 0,
    rather than dividing by zero.
    """
    output = np.asarray(output, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(output.shape)
    if Y.size == 0:
        return float("nan")
    ss_res = float(np.sum((Y - output) ** 2))
    ss_tot = float(np.sum((Y - Y.mean(axis=0)) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot
