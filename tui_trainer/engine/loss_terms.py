"""The losses written out term by term on a batch: what the loss and output view shows.

For the network's output on a batch, each loss that fits its output layer (``applicable``: mse for
any output, bce for a sigmoid one, cross-entropy for a softmax one) as its terms, their sum, the
count it is divided by and the mean (the engine's loss), with the gradient at the output
``dL/dz`` (z: the last layer's pre-activations). Alongside: the signed errors ``p - y`` against
their squares (signed errors cancel in a sum), and a binary cross-entropy computed naively from
``p = 1 / (1 + e^-z)`` against the engine's, computed from the logit (the naive one takes log(0)
once p rounds to exactly 0 or 1).

Each value is computed here from the formula, apart from the engine's ``losses`` module, so that
the tests can hold the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .losses import LOSSES, get_loss
from .network import Network

__all__ = [
    "FORMULAS",
    "LossTerms",
    "NAIVE_BCE_CASES",
    "SignedErrors",
    "applicable",
    "loss_terms",
    "naive_bce",
    "naive_bce_terms",
    "output_logits",
    "saturating_logit",
    "signed_errors",
]

FORMULAS = {
    "mse": ("(p - y)^2 per element", "mean over all n x k elements",
            "dL/dz = 2 (p - y) f'(z) / (n k)"),
    "bce": ("-(y log p + (1 - y) log(1 - p)) per element", "mean over all n x k elements",
            "dL/dz = (p - y) / (n k)"),
    "cross_entropy": ("-log p[true class] per sample", "mean over the n samples",
                      "dL/dz = (p - y) / n"),
}
"""Each loss: (its term, what the mean is over, its gradient at the output)."""

NAIVE_BCE_CASES = ((40.0, 0.0), (-1000.0, 0.0))
"""(logit z, target y) pairs where a saturated sigmoid breaks the naive cross-entropy."""


def applicable(output_activation: str, y=None) -> list[str]:
    """The losses the engine computes for an output layer with ``output_activation`` and, given the
    targets ``y``, that are what their names say there: bce only for targets in [0, 1] (probabilities),
    cross-entropy only for rows of targets >= 0 that sum to 1 (one-hot or class probabilities)."""
    names = [name for name in LOSSES if get_loss(name).output_activation in (None, output_activation)]
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        if "bce" in names and not bool(np.all((y >= 0) & (y <= 1))):
            names.remove("bce")
        if "cross_entropy" in names and not (bool(np.all(y >= 0)) and np.allclose(y.sum(axis=1), 1.0)):
            names.remove("cross_entropy")
    return names


def output_logits(net: Network, X) -> tuple[np.ndarray, np.ndarray]:
    """``(z, p)``: the output layer's pre-activations ``a_prev @ W + b`` and its outputs ``f(z)``
    on ``X`` (float64 copies)."""
    outs = net.forward_all(np.asarray(X))
    a_prev = np.asarray(X, dtype=np.float64) if len(outs) == 1 else outs[-2].astype(np.float64)
    z = a_prev @ net.weights[-1].astype(np.float64) + net.biases[-1].astype(np.float64)
    return z, outs[-1].astype(np.float64)


@dataclass
class LossTerms:
    """One loss on a batch, term by term."""

    name: str
    terms: np.ndarray
    """``(n, k)`` element terms (mse, bce) or ``(n,)`` per-sample terms (cross-entropy)."""
    total: float
    """The sum of the terms: the loss "as a sum"."""
    count: int
    """What the sum is divided by: n x k elements (mse, bce) or n samples (cross-entropy)."""
    grad_z: np.ndarray
    """dL/dz of the mean loss, ``(n, k)``."""

    @property
    def mean(self) -> float:
        """The loss as the engine computes it: ``total / count``."""
        return self.total / self.count


def loss_terms(name: str, z, p, y, output_activation: str) -> LossTerms:
    """``name``'s terms for logits ``z``, outputs ``p = f(z)`` and targets ``y`` (all ``(n, k)``).

    bce's terms come from the logits, ``log(1 + e^z) - y z`` (the stable form of
    ``-(y log p + (1 - y) log(1 - p))``), cross-entropy's from ``z - logsumexp(z)``; mse's gradient
    goes back through the output activation's own backward pass."""
    z, p, y = (np.asarray(v, dtype=np.float64) for v in (z, p, y))
    if get_loss(name).output_activation not in (None, output_activation):
        raise ValueError(f"loss {name!r} does not fit a {output_activation!r} output")
    n = len(z)
    if name == "mse":
        terms = (p - y) ** 2
        count = terms.size
        da = 2.0 * (p - y) / count
        grad = get_activation(output_activation).backward(da, p, np.empty_like(p))
    elif name == "bce":
        terms = np.logaddexp(0.0, z) - y * z
        count = terms.size
        grad = (p - y) / count
    else:
        log_soft = z - z.max(axis=1, keepdims=True)
        log_soft -= np.log(np.exp(log_soft).sum(axis=1, keepdims=True))
        terms = -(y * log_soft).sum(axis=1)
        count = n
        grad = (p - y) / count
    return LossTerms(name, terms, float(terms.sum()), count, grad)


@dataclass
class SignedErrors:
    """The errors ``p - y`` of a batch summed with their signs, their sizes and their squares."""

    signed_sum: float
    abs_sum: float
    square_sum: float
    positive: int
    """Errors above 0."""
    negative: int
    """Errors below 0."""

    @property
    def cancels(self) -> bool:
        """Whether errors of both signs are there, so that the signed sum is below the sum of sizes."""
        return self.positive > 0 and self.negative > 0


def signed_errors(p, y) -> SignedErrors:
    """Sum of ``p - y`` over every element, of ``|p - y|`` and of ``(p - y)^2``."""
    e = np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return SignedErrors(float(e.sum()), float(np.abs(e).sum()), float((e ** 2).sum()),
                        int((e > 0).sum()), int((e < 0).sum()))


def naive_bce_terms(z, y) -> tuple[np.ndarray, np.ndarray]:
    """``(p, terms)``: ``p = 1 / (1 + np.exp(-z))`` and ``-(y log p + (1 - y) log(1 - p))`` as
    NumPy computes them naively, per element (inf or nan where p rounded to 0 or 1)."""
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        p = 1.0 / (1.0 + np.exp(-z))
        terms = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return p, terms


def naive_bce(z: float, y: float) -> tuple[float, float, float]:
    """(p = the naive sigmoid(z), the naive BCE -(y log p + (1 - y) log(1 - p)), the engine's BCE
    computed from the logit z), all as NumPy computes them."""
    Z, Y = np.array([[z]]), np.array([[y]])
    p, naive = naive_bce_terms(Z, Y)
    engine = get_loss("bce").value(Z, p, Y, np.empty_like(Z))
    return float(p[0, 0]), float(naive[0, 0]), float(engine)


def saturating_logit() -> float:
    """The smallest whole-number z at which the naive ``1 / (1 + np.exp(-z))`` is exactly 1.0 in
    float64 (from there on, ``log(1 - p)`` is ``log(0)``)."""
    z = 1
    while 1.0 / (1.0 + np.exp(-float(z))) != 1.0:
        z += 1
    return float(z)
