"""Activation functions as forward / backward pairs that work in place.

The network keeps only each layer's *output* ``A = f(Z)``: every activation here can
compute its derivative from ``A`` alone, so the pre-activation ``Z`` buffer is reused
for ``A`` and no extra memory traffic is spent on it.
"""

from __future__ import annotations

import numpy as np

LEAKY_SLOPE = 0.01
"""Slope of ``leaky_relu`` for negative inputs (PyTorch's default)."""


class Activation:
    """A nonlinearity applied element-wise (or row-wise for softmax) after ``X @ W + b``."""

    name: str = ""
    hidden_ok: bool = True
    """Whether the activation may be used in a hidden layer (softmax may not)."""
    derivative: str = ""
    """f'(z) written from the output ``a`` (what ``backward`` multiplies by), for explanations."""

    def forward(self, z: np.ndarray, work: np.ndarray) -> np.ndarray:
        """Overwrite ``z`` with ``f(z)`` and return it; ``work`` is scratch of the same shape."""
        raise NotImplementedError

    def backward(self, da: np.ndarray, a: np.ndarray, work: np.ndarray) -> np.ndarray:
        """Overwrite ``da`` (dL/dA) with dL/dZ given the output ``a``; ``work`` is scratch of the same shape."""
        raise NotImplementedError


class Linear(Activation):
    """Identity: without a nonlinearity stacked layers collapse into one linear map."""

    name = "linear"
    derivative = "1"

    def forward(self, z, work):
        return z

    def backward(self, da, a, work):
        return da


class Sigmoid(Activation):
    """1 / (1 + e^-z): squashes to (0, 1); its slope is at most 1/4, so deep stacks vanish."""

    name = "sigmoid"
    derivative = "a (1 - a), at most 1/4"

    def forward(self, z, work):
        np.negative(z, out=z)
        with np.errstate(over="ignore"):  # e^1000 -> inf -> 1/inf = 0, the right limit
            np.exp(z, out=z)
        z += 1.0
        return np.reciprocal(z, out=z)

    def backward(self, da, a, work):
        np.subtract(1.0, a, out=work)
        work *= a
        da *= work
        return da


class Tanh(Activation):
    """Hyperbolic tangent: like sigmoid but centred on zero, slope up to 1."""

    name = "tanh"
    derivative = "1 - a^2, at most 1"

    def forward(self, z, work):
        return np.tanh(z, out=z)

    def backward(self, da, a, work):
        np.multiply(a, a, out=work)
        np.subtract(1.0, work, out=work)
        da *= work
        return da


class ReLU(Activation):
    """max(0, z): slope 1 where active, so gradients pass through deep stacks."""

    name = "relu"
    derivative = "1 where z > 0, else 0"

    def forward(self, z, work):
        return np.maximum(z, 0.0, out=z)

    def backward(self, da, a, work):
        mask = _bool_scratch(work)
        np.greater(a, 0.0, out=mask)
        da *= mask
        return da


def _bool_scratch(work: np.ndarray) -> np.ndarray:
    """A bool array of ``work``'s shape in ``work``'s own memory: a 1-byte mask is written and
    read several times faster than a float one (the ReLU backward pass of a wide layer)."""
    if work.flags.c_contiguous:
        return work.reshape(-1).view(np.bool_)[: work.size].reshape(work.shape)
    return np.empty(work.shape, np.bool_)


class LeakyReLU(Activation):
    """z for z > 0, else 0.01 z: keeps a small gradient so units cannot die."""

    name = "leaky_relu"
    derivative = f"1 where z > 0, else {LEAKY_SLOPE:g}"

    def forward(self, z, work):
        np.multiply(z, LEAKY_SLOPE, out=work)
        return np.maximum(z, work, out=z)  # max(z, 0.01 z) is leaky relu for a slope below 1

    def backward(self, da, a, work):
        np.greater(a, 0.0, out=work)  # 1 where z > 0, else 0
        work *= 1.0 - LEAKY_SLOPE
        work += LEAKY_SLOPE
        da *= work
        return da


class Softmax(Activation):
    """Row-wise e^z / sum(e^z): turns the last layer's scores into class probabilities."""

    name = "softmax"
    hidden_ok = False
    derivative = "a (g - sum(g a)) for the gradient g over a row (the softmax Jacobian)"

    def forward(self, z, work):
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def backward(self, da, a, work):
        # dZ = A * (dA - sum(dA * A, axis=1)): the softmax Jacobian applied row by row.
        np.multiply(da, a, out=work)
        da -= work.sum(axis=1, keepdims=True)
        da *= a
        return da


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax)
}
"""Registry: activation name -> class."""


def get_activation(name: str) -> Activation:
    """A fresh activation object for ``name``; ``ValueError`` lists the allowed names."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None


def apply(name: str, z: np.ndarray) -> np.ndarray:
    """``f(z)`` on a copy of ``z`` (for plots and explanations, not the training loop)."""
    z = np.array(z, dtype=np.result_type(z, np.float64))
    rows = z.reshape(1, -1) if z.ndim == 1 else z  # softmax works on rows
    return get_activation(name).forward(rows, np.empty_like(rows)).reshape(z.shape)
