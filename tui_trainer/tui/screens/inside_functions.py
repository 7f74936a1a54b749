"""Activation functions: f(z) and f'(z) of each one the engine offers, and what they imply.

Every value comes from the engine's own ``engine.activations`` (its forward pass for f, its
backward pass with dL/dA = 1 for f'), so the view shows what training uses: where each one
saturates (f' < 0.01), where relu dies (f' = 0), sigmoid's slope of at most 1/4 and what it does
to a product over many layers, softmax on a small vector, np.exp overflowing in a naive sigmoid and
softmax, and a naive binary cross-entropy on a saturated output (log(0): inf or nan) next to the
engine's, computed from the logits. Every number is computed with NumPy when the view draws.
"""

from __future__ import annotations

import warnings

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...engine import activations as acts
from ...engine.loss_terms import NAIVE_BCE_CASES, naive_bce
from ...experiments.session import Snapshot
from ..widgets.line_chart import ChartSeries, LineChart
from .inside_base import InsideScreen

FUNCTIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")
"""The element-wise activations, in key order (1-5)."""
Z_RANGE = 6.0
"""The chart's z runs over [-Z_RANGE, Z_RANGE]."""
SATURATED_SLOPE = 0.01
"""A slope below this counts as saturated."""
FORMULAS = {
    "linear": "f(z) = z                      f'(z) = 1",
    "sigmoid": "f(z) = 1 / (1 + e^-z)         f'(z) = f(z) (1 - f(z))",
    "tanh": "f(z) = (e^z - e^-z)/(e^z + e^-z)  f'(z) = 1 - f(z)^2",
    "relu": "f(z) = max(0, z)              f'(z) = 1 if z > 0 else 0",
    "leaky_relu": f"f(z) = max({acts.LEAKY_SLOPE:g} z, z)          f'(z) = 1 if z > 0 else {acts.LEAKY_SLOPE:g}",
}
SOFTMAX_EXAMPLE = np.array([2.0, 1.0, 0.1])
"""The small vector softmax is shown on."""


def f(name: str, z) -> np.ndarray:
    """The engine's f(z)."""
    return acts.apply(name, np.asarray(z, dtype=float))


def df(name: str, z) -> np.ndarray:
    """The engine's f'(z): its backward pass with dL/dA = 1, from the output A = f(z)."""
    z = np.atleast_1d(np.asarray(z, dtype=float))
    a = acts.get_activation(name).forward(z.reshape(1, -1).copy(), np.empty((1, z.size)))
    d = acts.get_activation(name).backward(np.ones_like(a), a, np.empty_like(a))
    return d.reshape(z.shape)


def saturation(name: str, limit: float = 50.0) -> float | None:
    """The smallest |z| beyond which f'(z) < 0.01 on both sides (None: never, within ``limit``)."""
    z = np.linspace(0.0, limit, 50001)
    both = np.maximum(df(name, z), df(name, -z))
    below = both < SATURATED_SLOPE
    if not below[-1]:
        return None
    ok = np.flatnonzero(~below)
    return float(z[ok[-1] + 1]) if ok.size else 0.0


def naive_overflow() -> tuple[str, float, float, str, np.ndarray]:
    """sigmoid(-1000) as 1 / (1 + np.exp(-z)): (the warning's text, exp(-z), the result, softmax's
    naive warning, naive softmax of [1000, 0])."""
    z = np.float64(-1000.0)
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", invalid="warn"):
        warnings.simplefilter("always")
        e = np.exp(-z)
        result = 1.0 / (1.0 + e)
    text = "; ".join(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)) or "(no warning)"
    v = np.array([1000.0, 0.0])
    with warnings.catch_warnings(record=True) as caught2, np.errstate(over="warn", invalid="warn"):
        warnings.simplefilter("always")
        soft = np.exp(v) / np.exp(v).sum()
    text2 = "; ".join(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught2)) or "(no warning)"
    return text, float(e), float(result), text2, soft


class ActivationFunctionsScreen(InsideScreen):
    """f and f' of one activation at a time, with the facts that follow from them."""

    VIEW_TITLE = "Activation functions"

    DEFAULT_CSS = """
    ActivationFunctionsScreen #fn-picker { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ActivationFunctionsScreen #fn-chart { height: 9; min-height: 6; padding: 0 1; }
    ActivationFunctionsScreen #fn-scroll { height: 1fr; }
    """

    BINDINGS = [
        Binding("left", "pick(-1)", "Function", key_display="←→ 1-5", priority=True),
        Binding("right", "pick(1)", "Function", show=False, priority=True),
        *(Binding(str(i + 1), f"choose({i})", name, show=False) for i, name in enumerate(FUNCTIONS)),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.function = "sigmoid"
        """The activation shown."""

    def compose_view(self) -> ComposeResult:
        yield Static("", id="fn-picker")
        yield LineChart(id="fn-chart")
        yield from self.scrolling_text("fn")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#fn-scroll").focus()

    def action_pick(self, step: int) -> None:
        i = FUNCTIONS.index(self.function)
        self.function = FUNCTIONS[(i + step) % len(FUNCTIONS)]
        self.redraw()

    def action_choose(self, index: int) -> None:
        self.function = FUNCTIONS[index]
        self.redraw()

    def draw(self, snap: Snapshot) -> None:
        used = list(self.session.net.activations)
        if getattr(self, "_drawn", None) == (self.function, tuple(used)):
            return  # nothing here changes while training
        self._drawn = (self.function, tuple(used))
        name = self.function
        picker = Text()
        for i, fn in enumerate(FUNCTIONS):
            style = "bold reverse" if fn == name else ("bold" if fn in used else "dim")
            picker.append(f" {i + 1} {fn} ", style=style)
            picker.append(" ")
        self.update_text("#fn-picker", picker)

        z = np.linspace(-Z_RANGE, Z_RANGE, 241)
        title = Text()
        title.append(f"{name}: ", style="bold")
        title.append("f(z)", style="cyan")
        title.append(" and ")
        title.append("f'(z)", style="yellow")
        title.append(f" over z in [-{Z_RANGE:g}, {Z_RANGE:g}]", style="dim")
        self.query_one("#fn-chart", LineChart).set_series(
            [ChartSeries(z, f(name, z), 6), ChartSeries(z, df(name, z), 3)],
            title=title, x_label="z", x_steps=False)
        self.update_text("#fn-body", facts(name, used))


def facts(name: str, used: list[str]) -> Text:
    """The text under the chart for activation ``name``, the network's activations being ``used``."""
    t = Text()
    layers = ", ".join(f"{'output' if i == len(used) - 1 else f'layer {i + 1}'} {a}" for i, a in enumerate(used))
    t.append("this network: ", style="bold")
    t.append(layers + "\n")
    t.append(FORMULAS[name] + "\n")
    t.append("f(0) = " + f"{float(f(name, 0.0)):.4g}" + ", f'(0) = " + f"{float(df(name, 0.0)[0]):.4g}" + "\n")
    sat = saturation(name)
    if name == "relu":
        t.append("dies: f'(z) = 0 for every z < 0", style="bold red")
        t.append(" (a unit with z < 0 for every sample passes no gradient back: its incoming weights and bias "
                 "get a gradient of exactly 0); f' = 1 for z > 0\n")
    elif name == "leaky_relu":
        t.append(f"never saturates or dies: f' = {acts.LEAKY_SLOPE:g} for z < 0, 1 for z > 0\n")
    elif sat is None:
        t.append("never saturates: f' = 1 everywhere (and stacked layers collapse to one linear map)\n")
    else:
        t.append(f"saturates for |z| > {sat:.3g}", style="bold yellow")
        t.append(f" (f' < {SATURATED_SLOPE:g} there: almost no gradient passes)\n")
    s_max = float(df("sigmoid", 0.0)[0])
    t.append(f"\nsigmoid's largest slope: f'(0) = {s_max:g} = 1/4", style="bold")
    t.append(" — backprop multiplies one such factor per sigmoid layer:\n")
    t.append("  " + " · ".join(f"0.25^{n} = {s_max ** n:.3g}" for n in (5, 10, 20)) + "\n")
    t.append("  (from the sigmoid slopes alone the factor is at most 0.25^n over n layers; each layer's "
             "weights multiply in too, and can shrink it further or grow it)\n", style="dim")
    soft = f("softmax", SOFTMAX_EXAMPLE)
    t.append("\nsoftmax (output layer, row-wise): e^z / sum(e^z)\n", style="bold")
    t.append(f"  z = [{', '.join(f'{v:g}' for v in SOFTMAX_EXAMPLE)}] -> "
             f"[{', '.join(f'{v:.3f}' for v in soft)}], sum {soft.sum():.3g}\n")
    warn, e, naive, warn2, soft_naive = naive_overflow()
    t.append("\nnp.exp overflow: naive sigmoid at z = -1000, 1 / (1 + np.exp(-z))\n", style="bold")
    t.append(f"  np.exp(1000) = {e}  ", style="")
    t.append(warn, style="red")
    t.append(f"\n  result 1/(1+inf) = {naive}, exact: IEEE 754 arithmetic makes 1/inf = 0\n")
    t.append(f"  engine (errstate ignored, e^1000 -> inf -> 0 is the limit): sigmoid(-1000) = "
             f"{float(f('sigmoid', -1000.0)):g}, sigmoid(1000) = {float(f('sigmoid', 1000.0)):g}\n")
    t.append("  naive softmax([1000, 0]) = exp(z)/sum: ")
    t.append(f"[{', '.join(f'{v:g}' for v in soft_naive)}] ", style="red")
    t.append(warn2, style="red")
    stable = f("softmax", np.array([1000.0, 0.0]))
    t.append(f"\n  engine subtracts max(z) first: [{', '.join(f'{v:g}' for v in stable)}]\n")
    t.append("\nnaive BCE -(y log p + (1-y) log(1-p)) on a saturated p = sigmoid(z)\n", style="bold")
    for z, y in NAIVE_BCE_CASES:
        p, naive_loss, engine_loss = naive_bce(z, y)
        term = "-log(1 - p)" if p == 1.0 else "0 * log(p)"
        t.append(f"  z = {z:g}, y = {y:g}: p = {p!r}, {term} = ")
        t.append(f"{naive_loss}", style="red")
        t.append(f"; engine, from the logit z: {engine_loss:g}\n")
    t.rstrip()
    return t
