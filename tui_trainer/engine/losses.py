"""Loss functions, each fused with the output activation it belongs to.

``bce`` is computed from the sigmoid's logits and ``cross_entropy`` from the softmax's logits
(log-sum-exp), so neither overflows or returns NaN for logits of any size. Their gradient with
respect to the logits is simply ``(output - Y) / N``, which is what the network propagates.
"""

from __future__ import annotations

import numpy as np


class Loss:
    """A scalar cost of the network's output against the targets ``Y`` (same shape)."""

    name: str = ""
    output_activation: str | None = None
    """The last layer's activation this loss requires, or None when any will do."""
    fused: bool = False
    """True when the gradient written is dL/dZ (logits), False when it is dL/dA (outputs)."""

    def value_and_grad(self, z, a, y, grad, work) -> float:
        """Return the loss for logits ``z`` / outputs ``a`` and write its gradient into ``grad``."""
        raise NotImplementedError

    def value(self, z, a, y, work) -> float:
        """Return the loss only; ``work`` is scratch shaped like ``z``."""
        return self.value_and_grad(z, a, y, np.empty_like(z), work)


class MeanSquaredError(Loss):
    """mean((A - Y)^2) over every element, as torch's ``mse_loss``."""

    name = "mse"

    def value_and_grad(self, z, a, y, grad, work):
        np.subtract(a, y, out=grad)
        flat = grad.reshape(-1)
        loss = float(np.dot(flat, flat)) / grad.size
        grad *= 2.0 / grad.size
        return loss


class BinaryCrossEntropy(Loss):
    """mean(-y log p - (1 - y) log(1 - p)) with p = sigmoid(z), over every element."""

    name = "bce"
    output_activation = "sigmoid"
    fused = True

    def value_and_grad(self, z, a, y, grad, work):
        loss = self._value(z, y, grad, work)
        np.subtract(a, y, out=grad)
        grad *= 1.0 / grad.size
        return loss

    def value(self, z, a, y, work):
        return self._value(z, y, np.empty_like(z), work)

    @staticmethod
    def _value(z, y, scratch, work) -> float:
        # Per element: log(1 + e^z) - z * y, with log(1 + e^z) = logaddexp(0, z) stable for any z.
        np.logaddexp(0.0, z, out=work)
        np.multiply(z, y, out=scratch)
        work -= scratch
        return float(np.add.reduce(work, axis=None)) / work.size


class CrossEntropy(Loss):
    """-mean over samples of sum_c Y_c log softmax(z)_c, as torch's ``cross_entropy``."""

    name = "cross_entropy"
    output_activation = "softmax"
    fused = True

    def value_and_grad(self, z, a, y, grad, work):
        loss = self._value(z, y, grad, work)
        # d/dz = softmax(z) * sum_c Y_c - Y, which is A - Y for one-hot (or any normalised) targets.
        np.multiply(a, y.sum(axis=1, keepdims=True), out=grad)
        grad -= y
        grad *= 1.0 / len(grad)
        return loss

    def value(self, z, a, y, work):
        return self._value(z, y, np.empty_like(z), work)

    @staticmethod
    def _value(z, y, scratch, work) -> float:
        np.subtract(z, z.max(axis=1, keepdims=True), out=work)
        np.exp(work, out=scratch)
        work -= np.log(scratch.sum(axis=1, keepdims=True))  # work = log softmax(z)
        return -float(np.vdot(work, y)) / len(work)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (MeanSquaredError, BinaryCrossEntropy, CrossEntropy)
}
"""Registry: loss name -> class."""


_INSTANCES = {name: cls() for name, cls in LOSSES.items()}


def get_loss(name: str) -> Loss:
    """The (stateless, shared) loss object for ``name``; ``ValueError`` lists the allowed names."""
    try:
        return _INSTANCES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}") from None
