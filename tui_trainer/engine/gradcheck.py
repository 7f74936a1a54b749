"""Numerical partial derivatives: the gradient that backprop should give, found by nudging each weight.

For each parameter ``w``: dL/dw ~ (L(w + s) - L(w - s)) / 2s (central differences), with a step
``s = h * max(1, |w|)`` that grows with the weight. Its error has two parts:

- truncation, ~ s^2 |L'''| / 6: smaller for a smaller step;
- rounding: L itself is only known to some ``noise`` (a few units in the last place of the numbers
  it is computed from, which at a tiny loss can be far larger than L), so a difference of two
  losses over 2s is only good to ~ noise / s: larger for a smaller step.

``h = eps^(1/3)`` (about 6e-6 in float64) balances the two for a smooth loss. ``loss_noise``
measures the rounding near the current weights, and ``gradcheck`` turns it into an uncertainty
for each numeric value: below it, a numeric value is rounding and cannot be compared with
backprop's. The app shows these next to backprop's values to explain what a partial derivative is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

NOISE_MARGIN = 4.0
"""A numeric value's uncertainty is ``NOISE_MARGIN * noise / s``: (L(w + s) - L(w - s)) / 2s
carries sqrt(2) * noise / 2s of rounding (one standard deviation), so this is ~5.7 of them,
room for a rough estimate of ``noise`` too."""


def default_step(dtype=np.float64) -> float:
    """``eps^(1/3)`` of ``dtype``: the relative step that balances truncation and rounding."""
    return float(np.finfo(dtype).eps) ** (1.0 / 3.0)


def step_for(w: float, h: float) -> float:
    """The step for a weight of value ``w``: ``h`` relative to the weight, at least ``h``."""
    return h * max(1.0, abs(float(w)))


@dataclass
class ParamCheck:
    """Backprop vs finite differences for one parameter array."""

    index: int
    """Position in ``net.params`` (W1, b1, W2, ...)."""
    name: str
    """``W1``, ``b1``, ... for display."""
    analytic: np.ndarray
    numeric: np.ndarray
    """The central differences (NaN where not checked)."""
    rel_error: float
    """||a - n|| / (||a|| + ||n||) over the entries checked (0 when both are zero)."""
    step: np.ndarray | None = None
    """The step ``s`` used for each entry (NaN where not checked)."""
    uncertainty: np.ndarray | None = None
    """How much of each numeric value rounding in L may account for: ``NOISE_MARGIN * noise / s``."""
    noise: float = 0.0
    """The loss's rounding near these weights (``loss_noise``)."""


def central_differences(
    net: Network, X, Y, loss: str, h: float | None = None, entries=None, **options
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The central differences and the steps used, one array each per parameter (NaN where not
    checked). ``h`` is the relative step (default ``default_step``); the step put in the
    denominator is the one the stored weights really moved by. ``options`` (``l1``, ``l2``,
    ``dropout_masks``) go to ``net.loss``: the penalized loss, or the loss with fixed masks."""
    if h is None:
        h = default_step(net.dtype)
    numeric, steps = [], []
    for p in net.params:
        num = np.full(p.shape, np.nan)
        st = np.full(p.shape, np.nan)
        flat, numf, stf = p.reshape(-1), num.reshape(-1), st.reshape(-1)
        for j in _chosen(flat.size, entries):
            saved = flat[j]
            s = step_for(saved, h)
            flat[j] = saved + s
            plus = float(flat[j])
            up = net.loss(X, Y, loss, **options)
            flat[j] = saved - s
            minus = float(flat[j])
            down = net.loss(X, Y, loss, **options)
            flat[j] = saved
            numf[j] = (up - down) / (plus - minus)
            stf[j] = (plus - minus) / 2
        numeric.append(num)
        steps.append(st)
    return numeric, steps


def numerical_grads(
    net: Network, X, Y, loss: str, h: float | None = None, entries=None, **options
) -> list[np.ndarray]:
    """Central-difference estimate of dL/dp for every parameter (NaN where not checked).

    ``h`` is the relative step (``step_for``); ``entries`` optionally limits the work: a number of
    entries per array, chosen evenly; ``options`` as for ``central_differences``.
    """
    return central_differences(net, X, Y, loss, h, entries, **options)[0]


def loss_noise(
    net: Network, X, Y, loss: str, h: float | None = None, *, points: int = 11, directions: int = 3,
    seed: int = 0, **options,
) -> float:
    """How much rounding alone moves the loss near the current weights, for moves of about ``h``
    (the relative step, default ``default_step``).

    Along a few random straight lines through the weights, in moves of one step (``h`` relative to
    each weight, in all), the loss is a smooth curve plus rounding: the spread of ``points`` losses
    about their least-squares quartic is the rounding. The moves must be as large as the steps:
    rounding is not random at any scale (at a tiny loss, ``log(1 + e^z) - z`` keeps the same
    rounding while ``z`` moves by less than a unit in its last place of ``e^-z``), so a smaller
    move would see less of it than the nudges meet. Returns the largest spread found, at least
    ``eps * |L|`` and ``eps * mean(|z|)`` over the output layer's logits ``z``: the last step of a
    loss is only as exact as the numbers it starts from (``log(1 + e^z) - z`` for a large ``z``
    is off by up to half a unit in the last place of ``z``, however small the result), and that
    error can be the same at every nearby weight, where no spread shows it. The weights are put
    back exactly. ``options`` as for ``central_differences``.
    """
    if h is None:
        h = default_step(net.dtype)
    flat = net.flat_params
    saved = flat.copy()
    eps = float(np.finfo(flat.dtype).eps)
    scale = np.maximum(1.0, np.abs(saved.astype(np.float64)))
    ks = np.arange(points, dtype=np.float64) - (points - 1) / 2
    basis = np.vander(ks, 5)
    rng = np.random.default_rng(seed)
    base = float(net.loss(X, Y, loss, **options))
    worst = 0.0
    try:
        for _ in range(directions):
            d = rng.standard_normal(flat.size)
            d *= h / (np.linalg.norm(d) or 1.0)
            d *= scale
            values = np.empty(points)
            for i, k in enumerate(ks):
                flat[...] = saved + k * d
                values[i] = net.loss(X, Y, loss, **options)
            values -= base
            if not np.all(np.isfinite(values)):
                continue
            coef = np.linalg.lstsq(basis, values, rcond=None)[0]
            resid = values - basis @ coef
            worst = max(worst, float(np.sqrt(np.sum(resid**2) / max(1, points - 5))))
    finally:
        flat[...] = saved
    if not np.isfinite(base):
        return float("nan")
    return max(worst, eps * abs(base), eps * _mean_abs_logit(net, X))


def _mean_abs_logit(net: Network, X) -> float:
    """mean(|z|) of the output layer's pre-activations on ``X``."""
    outs = net.forward_all(X)
    a = np.asarray(X, dtype=net.dtype) if len(outs) == 1 else outs[-2]
    z = a @ net.weights[-1] + net.biases[-1]
    value = float(np.mean(np.abs(z))) if z.size else 0.0
    return value if np.isfinite(value) else 0.0


def gradcheck(
    net: Network, X, Y, loss: str, h: float | None = None, entries=None, **options
) -> list[ParamCheck]:
    """Compare ``net.loss_and_grads`` with central differences, per parameter array.

    ``options`` (``l1``, ``l2``, ``dropout_masks``) go to both: the penalized loss, or the loss
    with fixed dropout masks, is checked."""
    _, grads = net.loss_and_grads(X, Y, loss, **options)
    analytic = [g.astype(np.float64) for g in grads]  # copies: grads are reused buffers
    numeric, steps = central_differences(net, X, Y, loss, h, entries, **options)
    noise = loss_noise(net, X, Y, loss, h, **options)
    checks = []
    for i, (a, n, s) in enumerate(zip(analytic, numeric, steps)):
        mask = ~np.isnan(n)
        a_m, n_m = a[mask], n[mask]
        scale = np.linalg.norm(a_m) + np.linalg.norm(n_m)
        err = float(np.linalg.norm(a_m - n_m) / scale) if scale > 0 else 0.0
        name = f"{'Wb'[i % 2]}{i // 2 + 1}"
        checks.append(ParamCheck(i, name, a, n, err, s, NOISE_MARGIN * noise / s, noise))
    return checks


def _chosen(size: int, entries) -> range | np.ndarray:
    if entries is None or entries >= size:
        return range(size)
    return np.unique(np.linspace(0, size - 1, entries).round().astype(int))
