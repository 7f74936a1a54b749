"""Weight initialisation schemes, selectable so that the app can show why initialisation matters.

Every scheme draws in float64 from one seeded generator, so float32 and float64 networks with the
same seed start from the same weights (up to rounding).
"""

from __future__ import annotations

import math

import numpy as np


def he(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """Kaiming/He normal, std sqrt(2 / n_in): keeps relu activations from shrinking layer by layer."""
    return rng.normal(0.0, math.sqrt(2.0 / n_in), size=(n_in, n_out))


def xavier(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """Glorot/Xavier uniform, limit sqrt(6 / (n_in + n_out)): suits sigmoid, tanh and linear layers."""
    limit = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """Standard normal (std 1): too large for wide layers, saturating sigmoids and exploding relus."""
    return rng.normal(0.0, 1.0, size=(n_in, n_out))


def small(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """Normal with std 0.01: signals and gradients shrink towards zero in deep networks."""
    return rng.normal(0.0, 0.01, size=(n_in, n_out))


def zeros(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """All zeros: every hidden unit stays identical (the symmetry is never broken)."""
    return np.zeros((n_in, n_out))


INITIALIZERS = {"he": he, "xavier": xavier, "normal": normal, "small": small, "zeros": zeros}
"""Registry: scheme name -> function(rng, n_in, n_out) returning a float64 ``(n_in, n_out)`` matrix."""

INIT_CHOICES = ("auto", *INITIALIZERS)
"""What ``Network(init=...)`` accepts: ``auto`` is He for relu-like layers, Xavier otherwise."""

RELU_LIKE = frozenset({"relu", "leaky_relu"})


def scheme_for(init: str, activation: str) -> str:
    """The scheme a layer with ``activation`` gets under ``init`` (resolves ``auto``)."""
    if init == "auto":
        return "he" if activation in RELU_LIKE else "xavier"
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}; choose one of: {', '.join(INIT_CHOICES)}")
    return init
