"""Looking inside a network: the numbers behind the app's "inside the network" views.

Pure NumPy, no UI. Every function works on the network it is given, so the UI hands it a copy
(``network_like(net, params)`` builds one from a snapshot's parameters) and never the live
network a training thread is updating.

- ``decision_grid`` / ``prediction_curve``: the network's output over a grid of 2-D inputs, or
  along a line of 1-D inputs.
- ``activation_histograms``: per layer, the distribution of the outputs over a batch, with dead
  relu units and saturated sigmoid / tanh outputs counted.
- ``linear_collapse``: a network whose hidden layers are all linear is one linear map
  ``X @ W + b``; this finds ``W`` and ``b`` and checks them against the network.
- ``gradient_ratio`` and ``layer_gradient_norms``: how much smaller the first layer's weight
  gradient is than the last layer's (vanishing gradients).
- ``gradient_check``: backprop against central differences, per parameter array.
- ``update_explanation`` / ``state_entries``: an optimizer's last update of one weight, written out
  with the numbers plugged in, and its state for that weight; each optimizer writes its own
  (``Optimizer.explain``), computed the way its update computes it so the result is the new weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .activations import apply as apply_activation
from .gradcheck import default_step, gradcheck
from .network import Network
from .optimizers import OPTIMIZERS, UpdateExplanation, format_number
from .optimizers.base import array_index, as_state

__all__ = [
    "ActivationStats",
    "GradCheckEntry",
    "GradCheckReport",
    "GradCheckRow",
    "LinearCollapse",
    "UpdateExplanation",
    "activation_histograms",
    "compare_entry",
    "decision_grid",
    "fit_bounds",
    "format_number",
    "gradient_check",
    "gradient_ratio",
    "layer_gradient_norms",
    "linear_collapse",
    "network_like",
    "param_name",
    "prediction_curve",
    "ratio_series",
    "state_entries",
    "update_explanation",
]

SATURATION = 0.01
"""A sigmoid output below this or above 1 minus this (tanh: |a| above 1 minus this) is saturated:
its slope is under 1% of the largest, so almost no gradient flows back through it."""


# -- copies -----------------------------------------------------------------------------------


def network_like(net: Network, params: Sequence[np.ndarray] | None = None) -> Network:
    """A new network with ``net``'s shape, activations and dtype, holding ``params`` (or a copy of
    ``net``'s own). Reads only ``net``'s fixed structure unless ``params`` is None."""
    copy = Network(net.layer_sizes, net.activations, dtype=net.dtype, init="zeros")
    copy.set_parameters(net.params if params is None else params)
    return copy


def param_name(index: int) -> str:
    """``W1``, ``b1``, ``W2``, ... for position ``index`` in ``net.params``."""
    return f"{'Wb'[index % 2]}{index // 2 + 1}"


# -- decision boundary ------------------------------------------------------------------------


def fit_bounds(
    X: np.ndarray, nx: int, ny: int, *, pad: float = 0.08, features: tuple[int, int] = (0, 1)
) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` around the points' two ``features``, padded, and widened
    so that a grid of ``nx`` x ``ny`` square cells keeps the data's aspect ratio."""
    X = np.asarray(X, dtype=np.float64)
    if len(X) == 0:
        x0 = y0 = -1.0
        x1 = y1 = 1.0
    else:
        a, b = X[:, features[0]], X[:, features[1]]
        x0, x1, y0, y1 = float(a.min()), float(a.max()), float(b.min()), float(b.max())
    span = max(x1 - x0, y1 - y0, 1e-9)
    x0, x1 = x0 - pad * span, x1 + pad * span
    y0, y1 = y0 - pad * span, y1 + pad * span
    per_cell = max((x1 - x0) / max(nx, 1), (y1 - y0) / max(ny, 1))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = per_cell * nx / 2, per_cell * ny / 2
    return cx - half_w, cx + half_w, cy - half_h, cy + half_h


def grid_points(bounds, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres of an ``nx`` x ``ny`` grid over ``bounds``: x ascending, y descending (row 0 is
    the top of a picture)."""
    x0, x1, y0, y1 = bounds
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y1 - (np.arange(ny) + 0.5) * (y1 - y0) / ny
    return xs, ys


def decision_grid(
    net: Network, bounds, nx: int, ny: int, *, features: tuple[int, int] = (0, 1)
) -> np.ndarray:
    """The network's output at the centre of every cell of an ``nx`` x ``ny`` grid over
    ``bounds = (x_min, x_max, y_min, y_max)``: an array ``(ny, nx, n_outputs)``, row 0 at the top.

    With more than two inputs the grid is a slice through ``features``; the other inputs are 0,
    which is their mean once standardized.
    """
    n_in = net.layer_sizes[0]
    if n_in < 2:
        raise ValueError("decision_grid needs a network with at least 2 inputs; use prediction_curve")
    xs, ys = grid_points(bounds, nx, ny)
    gx, gy = np.meshgrid(xs, ys)
    X = np.zeros((nx * ny, n_in), dtype=net.dtype)
    X[:, features[0]] = gx.ravel()
    X[:, features[1]] = gy.ravel()
    return net.forward(X).reshape(ny, nx, -1)


def prediction_curve(net: Network, x_min: float, x_max: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: the output of a one-input network at ``n`` evenly spaced inputs (first output)."""
    if net.layer_sizes[0] != 1:
        raise ValueError(f"prediction_curve needs a network with 1 input, not {net.layer_sizes[0]}")
    x = np.linspace(x_min, x_max, max(n, 2))
    return x, net.forward(x.reshape(-1, 1).astype(net.dtype))[:, 0].astype(np.float64)


# -- activations ------------------------------------------------------------------------------


@dataclass
class ActivationStats:
    """The outputs of one layer over a batch."""

    layer: int
    """1-based layer number (the last one is the output layer)."""
    activation: str
    n_units: int
    n_samples: int
    edges: np.ndarray
    """Bin edges of ``counts`` (for relu: of the positive outputs only)."""
    counts: np.ndarray
    low: float
    high: float
    mean: float
    std: float
    zero_fraction: float = 0.0
    """relu: fraction of all outputs that are exactly 0."""
    dead_units: int = 0
    """relu: units whose output is 0 for every sample of the batch (no gradient ever reaches them)."""
    saturated_fraction: float = 0.0
    """sigmoid / tanh / softmax: fraction of outputs in the flat ends (see ``SATURATION``)."""
    saturated_units: int = 0
    """Units saturated for every sample."""

    @property
    def dead_fraction(self) -> float:
        """Dead units as a fraction of the layer's units."""
        return self.dead_units / self.n_units if self.n_units else 0.0


_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def activation_histograms(net: Network, X, bins: int = 32) -> list[ActivationStats]:
    """Histograms of every layer's outputs for the batch ``X``, with dead and saturated counts.

    Bounded activations use their whole range (sigmoid [0, 1], tanh [-1, 1]) so that pile-ups at
    the ends show; relu histograms its positive outputs and reports the zeros apart; others use
    the observed range.
    """
    bins = max(1, int(bins))
    outs = net.forward_all(np.asarray(X))
    stats = []
    for i, (a, name) in enumerate(zip(outs, net.activations)):
        a = np.asarray(a, dtype=np.float64)
        n, units = a.shape
        values = a.ravel()
        finite = values[np.isfinite(values)]
        extra: dict[str, Any] = {}
        if name == "relu":
            zeros = a == 0.0
            extra["zero_fraction"] = float(zeros.mean()) if a.size else 0.0
            extra["dead_units"] = int(zeros.all(axis=0).sum()) if n else 0
            positive = finite[finite > 0]
            low, high = 0.0, float(positive.max()) if positive.size else 1.0
            hist_values = positive
        else:
            if name in _RANGES:
                low, high = _RANGES[name]
            else:
                low = float(finite.min()) if finite.size else -1.0
                high = float(finite.max()) if finite.size else 1.0
            hist_values = finite
            if name in ("sigmoid", "softmax"):
                sat = (a < SATURATION) | (a > 1.0 - SATURATION)
            elif name == "tanh":
                sat = np.abs(a) > 1.0 - SATURATION
            else:
                sat = None
            if sat is not None:
                extra["saturated_fraction"] = float(sat.mean()) if a.size else 0.0
                extra["saturated_units"] = int(sat.all(axis=0).sum()) if n else 0
        if not high > low:
            low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(hist_values, bins=bins, range=(low, high))
        stats.append(ActivationStats(
            layer=i + 1, activation=name, n_units=units, n_samples=n, edges=edges, counts=counts,
            low=low, high=high,
            mean=float(finite.mean()) if finite.size else float("nan"),
            std=float(finite.std()) if finite.size else float("nan"),
            **extra,
        ))
    return stats


# -- linear collapse --------------------------------------------------------------------------


@dataclass
class LinearCollapse:
    """A network with only linear hidden layers as the single layer ``f(X @ W + b)``."""

    W: np.ndarray
    """``W1 @ W2 @ ... @ Wn``: shape ``(n_inputs, n_outputs)``."""
    b: np.ndarray
    """``(...((b1 @ W2 + b2) @ W3 + b3) ...) @ Wn + bn``: shape ``(n_outputs,)``."""
    output_activation: str
    """``f``: the output layer's activation, which the collapse keeps."""
    shapes: list[tuple[int, int]]
    """The shape of each layer's ``W``, first layer first."""
    max_abs_diff: float
    """Largest |network output - f(X @ W + b)| over the samples checked (nan when none)."""
    n_samples: int

    def forward(self, X) -> np.ndarray:
        """The collapsed layer's output for ``X``."""
        return apply_activation(self.output_activation, np.asarray(X, dtype=self.W.dtype) @ self.W + self.b)


def linear_collapse(net: Network, X=None) -> LinearCollapse | None:
    """The single layer equivalent to ``net``, or None when a hidden activation is not linear.

    ``X`` (optional) is a batch to compare the two on; the difference is only rounding, far
    below 1e-10 in float64.
    """
    if any(name != "linear" for name in net.activations[:-1]):
        return None
    W = np.eye(net.layer_sizes[0], dtype=np.float64)
    b = np.zeros(net.layer_sizes[0], dtype=np.float64)
    for Wi, bi in zip(net.weights, net.biases):
        W = W @ Wi
        b = b @ Wi + bi
    result = LinearCollapse(
        W=W, b=b, output_activation=net.activations[-1],
        shapes=[tuple(w.shape) for w in net.weights], max_abs_diff=float("nan"), n_samples=0,
    )
    if X is not None and len(X):
        X = np.asarray(X)
        diff = np.abs(net.forward(X).astype(np.float64) - result.forward(X))
        result.max_abs_diff = float(diff.max())
        result.n_samples = len(X)
    return result


# -- gradient flow ----------------------------------------------------------------------------


def gradient_ratio(grad_norms: Sequence[float]) -> float:
    """First layer's weight-gradient norm over the last layer's (nan without two finite norms).

    Far below 1: the gradient vanishes on its way back to the input (the first layers barely
    learn); far above 1: it explodes.
    """
    if len(grad_norms) < 2:
        return float("nan")
    first, last = float(grad_norms[0]), float(grad_norms[-1])
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return float("nan")
    return first / last


def ratio_series(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Element-wise first / last of two gradient-norm histories (nan where last is 0)."""
    first = np.asarray(first, dtype=np.float64)
    last = np.asarray(last, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = first / last
    out[~np.isfinite(out)] = np.nan
    return out


def layer_gradient_norms(net: Network, X, Y, loss: str) -> list[float]:
    """The L2 norm of each layer's weight gradient dL/dW on ``(X, Y)``, first layer first."""
    _, grads = net.loss_and_grads(X, Y, loss)
    return [float(np.sqrt(np.vdot(g, g))) for g in grads[0::2]]


# -- gradient check ---------------------------------------------------------------------------


AGREE = 1e-4
"""Relative error under which backprop and the nudges agree (the usual reading of a gradient
check, e.g. CS231n's notes)."""
CLOSE = 1e-2
"""Relative error under which they are close; above it they differ."""
TOO_SMALL = "too small"
"""An entry's status when rounding in the loss could account for the difference."""
STATUSES = ("agree", "close", TOO_SMALL, "differ")
"""From best to worst."""


def compare_entry(analytic: float, numeric: float, uncertainty: float) -> str:
    """``agree`` / ``close`` / ``differ`` for backprop's value against a numeric one known to
    +-``uncertainty``, or ``too small`` where that uncertainty leaves the reading open.

    With ``m = max(|a|, |n|)``, the relative error |a - n| / m lies between (|a - n| - u) / m and
    (|a - n| + u) / m once rounding is allowed for: ``differ`` only when even the lower one is
    ``CLOSE`` or more, ``agree`` / ``close`` only when the upper one is under ``AGREE`` / ``CLOSE``.
    So two values of opposite sign are never ``agree`` or ``close`` (their error is at least 1),
    and values that are both within the uncertainty are ``too small``.
    """
    a, n, u = float(analytic), float(numeric), float(uncertainty)
    if not (math.isfinite(a) and math.isfinite(n)):
        return "differ"
    if a == n:
        return "agree"
    u = u if math.isfinite(u) else math.inf
    m = max(abs(a), abs(n))
    if m <= u:
        return TOO_SMALL
    diff = abs(a - n)
    if (diff - u) / m >= CLOSE:
        return "differ"
    high = (diff + u) / m
    if high < AGREE:
        return "agree"
    if high < CLOSE:
        return "close"
    return TOO_SMALL


def _informative(e: GradCheckEntry) -> bool:
    """Compared, and not two exact zeros (a weight the loss does not depend on, e.g. into a dead
    relu unit: right, but no test of backprop)."""
    return e.status != TOO_SMALL and (e.analytic != 0.0 or e.numeric != 0.0)


def _worst(entries: Sequence[GradCheckEntry]) -> str:
    """One word for several entries: the worst one compared; ``too small`` when rounding left
    every entry that is not an exact zero too small to compare."""
    compared = [e.status for e in entries if _informative(e)]
    if compared:
        return max(compared, key=STATUSES.index)
    return TOO_SMALL if any(e.status == TOO_SMALL for e in entries) else "agree"


@dataclass
class GradCheckEntry:
    """One weight: backprop's partial derivative against the central difference."""

    index: tuple[int, ...]
    w: float
    """The weight's value."""
    analytic: float
    numeric: float
    step: float
    """The step s in (L(w + s) - L(w - s)) / 2s."""
    uncertainty: float
    """How much of ``numeric`` rounding in the loss may account for."""
    rel_error: float
    """|a - n| / max(|a|, |n|) (0 where both are 0)."""
    status: str
    """``compare_entry``'s reading."""


@dataclass
class GradCheckRow:
    """Backprop vs central differences for one parameter array."""

    index: int
    name: str
    shape: tuple[int, ...]
    checked: int
    """Entries compared (spread evenly over the array)."""
    max_abs_error: float
    max_rel_error: float
    """max of ``rel_error`` over the entries that could be compared (NaN when none could)."""
    status: str
    """The worst entry's status; ``too small`` when every entry but exact zeros is."""
    entries: list[GradCheckEntry]
    """Every entry checked."""
    examples: list[GradCheckEntry]
    """A few entries to show: the largest gradients first, and the worst one when it differs."""

    @property
    def too_small(self) -> int:
        """Entries that rounding in the loss leaves too small to compare."""
        return sum(e.status == TOO_SMALL for e in self.entries)


@dataclass
class WorkedExample:
    """One central difference written out."""

    name: str
    index: tuple[int, ...]
    w: float
    loss_plus: float
    loss_minus: float
    numeric: float
    analytic: float
    step: float = 0.0
    """The step s: the losses are at w + s and w - s."""
    uncertainty: float = 0.0
    status: str = "agree"


@dataclass
class GradCheckReport:
    """``gradient_check``'s result."""

    rows: list[GradCheckRow]
    worked: WorkedExample | None
    h: float
    """The relative step: each weight w is nudged by h * max(1, |w|)."""
    n_samples: int
    loss_name: str
    loss: float
    noise: float = 0.0
    """How much rounding alone moves the loss near these weights."""

    @property
    def max_rel_error(self) -> float:
        """The largest relative error among the entries that could be compared (NaN if none)."""
        values = [r.max_rel_error for r in self.rows if r.status != TOO_SMALL]
        if not values and any(r.checked for r in self.rows):
            return float("nan")
        return max(values, default=0.0)

    @property
    def verdict(self) -> str:
        """``agree``, ``close``, ``differ``, or ``too small`` when no entry could be compared."""
        return _worst([e for r in self.rows for e in r.entries])

    @property
    def too_small(self) -> int:
        return sum(r.too_small for r in self.rows)

    @property
    def checked(self) -> int:
        return sum(r.checked for r in self.rows)


def gradient_check(
    net: Network, X, Y, loss: str, *, entries: int | None = 24, h: float | None = None, examples: int = 2
) -> GradCheckReport:
    """Backprop's gradient against ``(L(w + s) - L(w - s)) / 2s`` with ``s = h * max(1, |w|)``
    (``h`` defaults to ``eps^(1/3)``) for up to ``entries`` entries of every parameter array of
    ``net`` (a copy: entries are nudged and put back). Each entry is compared allowing for the
    loss's rounding (``compare_entry``)."""
    X = np.asarray(X)
    if h is None:
        h = default_step(net.dtype)
    checks = gradcheck(net, X, Y, loss, h=h, entries=entries)
    params = [p.copy() for p in net.params]
    rows = []
    for c in checks:
        mask = ~np.isnan(c.numeric)
        found = []
        for where in np.argwhere(mask):
            where = tuple(int(v) for v in where)
            a, n = float(c.analytic[where]), float(c.numeric[where])
            u = float(c.uncertainty[where])
            m = max(abs(a), abs(n))
            rel = abs(a - n) / m if m > 0 else 0.0
            found.append(GradCheckEntry(where, float(params[c.index][where]), a, n,
                                        float(c.step[where]), u, rel, compare_entry(a, n, u)))
        compared = [e for e in found if e.status != TOO_SMALL]
        abs_errs = [abs(e.analytic - e.numeric) for e in found]
        order = sorted(found, key=lambda e: -abs(e.analytic))
        shown = order[: max(0, examples)]
        worst = max(compared, key=lambda e: e.rel_error, default=None)
        if worst is not None and worst.status == "differ" and worst not in shown and shown:
            shown[-1] = worst
        rows.append(GradCheckRow(
            index=c.index, name=c.name, shape=tuple(c.analytic.shape), checked=len(found),
            max_abs_error=max(abs_errs, default=0.0),
            max_rel_error=max((e.rel_error for e in compared), default=float("nan") if found else 0.0),
            status=_worst(found), entries=found, examples=shown,
        ))
    noise = checks[0].noise if checks else 0.0
    worked = None
    candidates = [(r, e) for r in rows for e in r.examples[:1]]
    comparable = [(r, e) for r, e in candidates if e.status != TOO_SMALL] or candidates
    best = max(comparable, key=lambda re: abs(re[1].analytic), default=None)
    if best is not None:
        row, e = best
        p = net.params[row.index]
        saved = p[e.index]
        p[e.index] = saved + e.step
        plus = net.loss(X, Y, loss)
        p[e.index] = saved - e.step
        minus = net.loss(X, Y, loss)
        p[e.index] = saved
        worked = WorkedExample(row.name, e.index, float(saved), plus, minus, e.numeric, e.analytic,
                               e.step, e.uncertainty, e.status)
    return GradCheckReport(rows, worked, h, len(X), loss, float(net.loss(X, Y, loss)), noise)


# -- the last update, explained ---------------------------------------------------------------


def state_entries(opt, param_index: int, index) -> dict[str, float]:
    """The optimizer state that is in use for one weight: ``{label: value}`` (empty before a step, or
    for an optimizer that is not registered). ``opt`` is an optimizer or its ``state_dict()``."""
    cls = OPTIMIZERS.get(as_state(opt)["name"])
    return {} if cls is None else cls.state_entries(opt, param_index, index)


def update_explanation(opt, param_index: int, index, w_before, grad) -> UpdateExplanation:
    """The last update of weight ``index`` of parameter ``param_index``, written out by the optimizer
    itself (its ``explain``), so the result is the weight ``opt.step`` wrote.

    ``opt`` is the optimizer (or its ``state_dict()``) as it is just after that update;
    ``w_before`` and ``grad`` are the whole parameter array before the update and the gradient
    that the update used (AdamP looks at a whole column). ``index`` is a flat index or a tuple.
    """
    name = as_state(opt)["name"]
    cls = OPTIMIZERS.get(name)
    if cls is None:
        w = float(np.asarray(w_before, dtype=np.float64)[array_index(np.asarray(w_before), index)])
        return UpdateExplanation(name, "", [f"{name!r} is not a registered optimizer: nothing to explain"],
                                 w, float("nan"), w)
    return cls.explain(opt, param_index, index, w_before, grad)
