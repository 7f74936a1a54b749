"""Numerical partial derivatives: the gradient that backprop should give, found by nudging each weight.

For each parameter ``w``: dL/dw ~ (L(w + h) - L(w - h)) / 2h (central differences, error O(h^2)).
The app shows these next to backprop's values to explain what a partial derivative is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


@dataclass
class ParamCheck:
    """Backprop vs finite differences for one parameter array."""

    index: int
    """Position in ``net.params`` (W1, b1, W2, ...)."""
    name: str
    """``W1``, ``b1``, ... for display."""
    analytic: np.ndarray
    numeric: np.ndarray
    rel_error: float
    """||a - n|| / (||a|| + ||n||) over the entries checked (0 when both are zero)."""


def numerical_grads(net: Network, X, Y, loss: str, h: float = 1e-6, entries=None) -> list[np.ndarray]:
    """Central-difference estimate of dL/dp for every parameter (NaN where not checked).

    ``entries`` optionally limits the work: a number of entries per array, chosen evenly.
    """
    out = []
    for p in net.params:
        num = np.full(p.shape, np.nan)
        flat, numf = p.reshape(-1), num.reshape(-1)
        for j in _chosen(flat.size, entries):
            saved = flat[j]
            flat[j] = saved + h
            up = net.loss(X, Y, loss)
            flat[j] = saved - h
            down = net.loss(X, Y, loss)
            flat[j] = saved
            numf[j] = (up - down) / (2 * h)
        out.append(num)
    return out


def gradcheck(net: Network, X, Y, loss: str, h: float = 1e-6, entries=None) -> list[ParamCheck]:
    """Compare ``net.loss_and_grads`` with central differences, per parameter array."""
    _, grads = net.loss_and_grads(X, Y, loss)
    analytic = [g.astype(np.float64) for g in grads]  # copies: grads are reused buffers
    numeric = numerical_grads(net, X, Y, loss, h, entries)
    checks = []
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        mask = ~np.isnan(n)
        a_m, n_m = a[mask], n[mask]
        scale = np.linalg.norm(a_m) + np.linalg.norm(n_m)
        err = float(np.linalg.norm(a_m - n_m) / scale) if scale > 0 else 0.0
        name = f"{'Wb'[i % 2]}{i // 2 + 1}"
        checks.append(ParamCheck(i, name, a, n, err))
    return checks


def _chosen(size: int, entries) -> range | np.ndarray:
    if entries is None or entries >= size:
        return range(size)
    return np.unique(np.linspace(0, size - 1, entries).round().astype(int))
