"""A 1-D slice of the loss through one weight: L(w) with every other parameter held fixed.

``loss_slice`` evaluates the loss on a batch at evenly spaced values of one weight around its
current value, with the tangent there: its slope is backprop's partial derivative dL/dw, and next
to it the central difference (L(w + s) - L(w - s)) / 2s on the same slice (``gradcheck``'s step).
The weight is put back exactly; the network is otherwise untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradcheck import default_step, step_for
from .inspect import param_name
from .network import Network

__all__ = ["LossSlice", "loss_at", "loss_slice", "weight_name"]

POINTS = 41
"""Values of the weight the slice is evaluated at."""


def weight_name(param_index: int, index: tuple[int, ...]) -> str:
    """``W1[0, 3]``, ``b2[1]``: the entry ``index`` of ``net.params[param_index]``."""
    return f"{param_name(param_index)}[{', '.join(str(i) for i in index)}]"


@dataclass
class LossSlice:
    """L(w) along one weight, every other parameter held fixed."""

    param_index: int
    index: tuple[int, ...]
    w0: float
    """The weight's current value."""
    loss0: float
    """L at ``w0``: the loss of the network as it is."""
    slope: float
    """Backprop's dL/dw at ``w0``: the tangent's slope."""
    numeric: float
    """(L(w0 + step) - L(w0 - step)) / 2 step on the slice."""
    step: float
    ws: np.ndarray
    """The weight values, ascending, ``w0`` among them (the middle one)."""
    losses: np.ndarray
    """L at each of ``ws``."""

    @property
    def name(self) -> str:
        return weight_name(self.param_index, self.index)

    def tangent(self, w) -> np.ndarray:
        """The tangent line at ``w0``: ``L(w0) + slope (w - w0)``."""
        return self.loss0 + self.slope * (np.asarray(w, dtype=np.float64) - self.w0)


def loss_at(net: Network, X, Y, loss: str, param_index: int, index: tuple[int, ...], value: float) -> float:
    """The loss with ``net.params[param_index][index] = value``, every other parameter as it is
    (the weight is put back afterwards)."""
    p = net.params[param_index]
    saved = p[index]
    try:
        p[index] = value
        return float(net.loss(X, Y, loss))
    finally:
        p[index] = saved


def loss_slice(
    net: Network, X, Y, loss: str, param_index: int, index: tuple[int, ...], *,
    points: int = POINTS, half_width: float | None = None,
) -> LossSlice:
    """L(w) at ``points`` values of the weight over ``w0 ± half_width`` (default ``max(1, |w0|)``),
    with backprop's slope and a central difference at ``w0``."""
    index = tuple(int(i) for i in index)
    p = net.params[param_index]
    w0 = float(p[index])
    if half_width is None:
        half_width = max(1.0, abs(w0))
    points = max(3, points | 1)  # odd: w0 is the middle point
    ws = w0 + np.linspace(-half_width, half_width, points)
    ws[points // 2] = w0
    losses = np.array([loss_at(net, X, Y, loss, param_index, index, w) for w in ws])
    loss0, grads = net.loss_and_grads(X, Y, loss)
    slope = float(grads[param_index][index])
    s = step_for(w0, default_step(net.dtype))
    plus, minus = (float(np.asarray(w0 + d, dtype=p.dtype)) for d in (s, -s))  # as stored
    up = loss_at(net, X, Y, loss, param_index, index, plus)
    down = loss_at(net, X, Y, loss, param_index, index, minus)
    return LossSlice(param_index, index, w0, float(loss0), slope, (up - down) / (plus - minus), s, ws, losses)
