"""Initialization schemes side by side on one network shape: symmetry and the spread of activations.

For each scheme (the engine's zeros, small, normal, Xavier and He, and a constant init that is
not a scheme of the engine's) a network of the given shape is drawn from the same seed and:

- the spread (standard deviation) of each layer's outputs on a batch is measured at the start;
- a copy is trained a few full-batch steps on that batch, and for every hidden layer the largest
  difference between two of its units is measured before and after: a unit is its column of
  incoming weights, its bias and its row of outgoing weights, and two units that agree in all
  three compute the same output and get the same gradient, so no optimizer can part them.

With zeros (or any constant) every unit of a hidden layer starts identical and stays so: with
zeros the difference stays exactly 0, with a constant it stays at rounding (``ROUNDING``). No dropout is used in these trainings (its masks
differ per unit and would break the symmetry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import optimizers
from .initializers import INITIALIZERS
from .network import Network

__all__ = ["CONSTANT", "InitResult", "ROUNDING", "SCHEMES", "compare_inits", "network_with", "reading",
           "unit_difference"]

CONSTANT = 0.5
"""The value of every weight under the ``constant`` scheme (biases are 0, as for every scheme)."""
SCHEMES = ("zeros", "constant", "small", "normal", "xavier", "he")
"""The schemes compared, in the order shown."""
assert set(SCHEMES) - {"constant"} == set(INITIALIZERS)
ROUNDING = 1e-12
"""A difference between units below this is rounding: the products of a layer's units may be summed
in different orders (BLAS), which parts equal columns by a unit in the last place or so."""


def reading(difference: float) -> str:
    """``identical`` (exactly 0), ``identical up to rounding`` (under ``ROUNDING``), ``distinct``, or
    ``diverged`` (not a finite number: the training blew up)."""
    if not np.isfinite(difference):
        return "diverged"
    if difference == 0.0:
        return "identical"
    return "identical up to rounding" if difference < ROUNDING else "distinct"


def network_with(layer_sizes, activations, scheme: str, *, seed: int = 0, dtype=np.float64) -> Network:
    """A network of this shape with every layer drawn by ``scheme`` (``constant``: every weight
    ``CONSTANT``)."""
    if scheme == "constant":
        net = Network(layer_sizes, activations, seed=seed, init="zeros", dtype=dtype)
        for W in net.weights:
            W[...] = CONSTANT
        return net
    return Network(layer_sizes, activations, seed=seed, init=scheme, dtype=dtype)


def unit_difference(net: Network) -> list[float]:
    """For each hidden layer: the largest difference between two of its units, over their incoming
    weights, their biases and their outgoing weights (0: every unit of the layer is the same)."""
    out = []
    for W_in, b, W_out in zip(net.weights[:-1], net.biases[:-1], net.weights[1:]):
        spreads = [np.ptp(W_in, axis=1), np.ptp(b, keepdims=True), np.ptp(W_out, axis=0)]
        out.append(float(max(s.max() for s in spreads)))
    return out


@dataclass
class InitResult:
    """One scheme on the network's shape."""

    scheme: str
    weight_std: list[float]
    """Standard deviation of each layer's starting W."""
    activation_std: list[float]
    """Standard deviation of each layer's outputs on the batch, at the start."""
    unit_diff_start: list[float]
    """``unit_difference`` at the start, per hidden layer."""
    unit_diff_after: list[float]
    """``unit_difference`` after ``steps`` steps."""
    loss_start: float
    loss_after: float
    steps: int
    losses: list[float] = field(default_factory=list)
    """The loss before each step."""


def compare_inits(
    layer_sizes, activations, X, Y, loss: str, *, optimizer: str = "sgd", lr: float = 0.1,
    hparams: dict | None = None, steps: int = 20, seed: int = 0, schemes=SCHEMES, dtype=np.float64,
) -> list[InitResult]:
    """Each of ``schemes`` on this shape: its spreads at the start, and ``steps`` full-batch steps
    of ``optimizer`` (torch's update rules, ``lr`` and ``hparams``) on ``(X, Y)``."""
    results = []
    for scheme in schemes:
        net = network_with(layer_sizes, activations, scheme, seed=seed, dtype=dtype)
        outs = net.forward_all(X)
        act_std = [float(np.std(a)) for a in outs]
        w_std = [float(np.std(W)) for W in net.weights]
        diff_start = unit_difference(net)
        opt = optimizers.create(optimizer, lr=lr, **(hparams or {}))
        losses = []
        with np.errstate(all="ignore"):
            for _ in range(steps):
                value, grads = net.loss_and_grads(X, Y, loss)
                losses.append(float(value))
                opt.step(net.params, grads)
            final = float(net.loss(X, Y, loss))
        results.append(InitResult(scheme, w_std, act_std, diff_start, unit_difference(net),
                                  losses[0] if losses else final, final, steps, losses))
    return results
