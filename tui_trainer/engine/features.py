"""Feature inputs for 2-D data, as TensorFlow Playground offers them.

A network with no hidden layer draws a straight boundary in whatever inputs it gets: on the raw
``x1, x2`` it cannot separate a ring from the disc inside it, yet on ``x1², x2²`` the same network
can (the circle ``x1² + x2² = r²`` is a line there). Each feature is computed from the raw
``(n, 2)`` inputs, before standardization; ``preprocess.prepare(..., features=...)`` applies them.

``FEATURES`` maps a name to its display name and its function of the raw array; the default,
``DEFAULT_FEATURES == ("x1", "x2")``, is the raw inputs themselves.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

__all__ = ["DEFAULT_FEATURES", "FEATURES", "check_features", "display_names", "expand", "feature_names"]

FEATURES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1": ("X1", lambda X: X[:, 0]),
    "x2": ("X2", lambda X: X[:, 1]),
    "x1sq": ("X1²", lambda X: X[:, 0] * X[:, 0]),
    "x2sq": ("X2²", lambda X: X[:, 1] * X[:, 1]),
    "x1x2": ("X1·X2", lambda X: X[:, 0] * X[:, 1]),
    "sinx1": ("sin X1", lambda X: np.sin(X[:, 0])),
    "sinx2": ("sin X2", lambda X: np.sin(X[:, 1])),
}
"""name -> (display name, function of the raw (n, 2) inputs giving an (n,) column)."""

DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")
"""The raw inputs, unchanged: what a network sees without a choice of features."""

RAW_INPUTS = 2
"""Raw input columns the features are defined on."""


def feature_names() -> list[str]:
    """Every feature name, in display order."""
    return list(FEATURES)


def check_features(names: Iterable[str], n_inputs: int | None = None) -> tuple[str, ...]:
    """The names as a tuple, or a ``ValueError`` naming what is wrong: an unknown name (with the
    choices), no name at all, a name given twice, or (``n_inputs``: the data's raw input columns)
    data that does not have exactly 2 raw inputs."""
    if isinstance(names, str):
        names = [part.strip() for part in names.split(",")] if names.strip() else []
    try:
        names = tuple(names)
    except TypeError:
        raise ValueError(f"features must be a list of names, got {names!r}") from None
    for name in names:
        if name not in FEATURES:
            raise ValueError(f"unknown feature {name!r}; choose from: {', '.join(FEATURES)}")
    if not names:
        raise ValueError(f"at least one feature is needed; choose from: {', '.join(FEATURES)}")
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"feature {name!r} is given twice")
        seen.add(name)
    if n_inputs is not None and n_inputs != RAW_INPUTS:
        raise ValueError(f"features ({', '.join(names)}) apply to data with exactly {RAW_INPUTS} inputs "
                         f"(x1, x2); this data has {n_inputs}")
    return names


def display_names(names: Iterable[str]) -> list[str]:
    """The display names (``X1²``, ``sin X2``, ...) of checked feature names."""
    return [FEATURES[name][0] for name in check_features(names)]


def expand(X_raw, names: Iterable[str] = DEFAULT_FEATURES) -> np.ndarray:
    """(n, 2) raw inputs -> (n, len(names)) float64 feature columns, in the order of ``names``."""
    X = np.asarray(X_raw, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"features need a 2-D array of raw inputs, got shape {X.shape}")
    names = check_features(names, X.shape[1])
    out = np.empty((len(X), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        out[:, j] = FEATURES[name][1](X)
    return out
