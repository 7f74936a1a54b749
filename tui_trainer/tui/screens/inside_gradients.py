"""Gradient flow: each layer's weight-gradient norm over the steps, on a log scale.

The chart shows one line per layer; below it a bar per layer on the same log scale and the
ratio of the first layer's gradient to the last's. A ratio far below 1 is a vanishing gradient
(try the deep-sigmoid preset), far above 1 an exploding one. What a vanishing gradient does depends
on the optimizer (``verdict``): the SGD family steps by lr times the gradient, so the first layers
barely learn; the adaptive ones (AdaGrad, RMSprop, Adam, ...) divide each weight's step by the size
of its own recent gradients, so those weights still move. Before the first step the norms are those
of the initial weights on a training batch.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from ...engine import inspect as insp
from ...engine.optimizers import OPTIMIZERS
from ...experiments.session import Snapshot
from ..widgets.line_chart import ChartSeries, LineChart
from .inside_base import InsideScreen

LAYER_COLORS = (9, 3, 11, 10, 14, 12, 13)
"""16-colour ANSI numbers, first layer first: red for the layer that starves when gradients vanish;
the output layer is always white (``LAST_COLOR``)."""
LAST_COLOR = 15
INIT_BATCH = 256
"""Samples used for the gradients at initialisation (before any step)."""
RECENT = 50
"""Stored points the ratio's median covers."""


def verdict(ratio: float, optimizer: str) -> tuple[str, str]:
    """The sentence under the ratio, and its style, for training with ``optimizer`` (a name)."""
    if not math.isfinite(ratio):
        return "no gradient yet", ""
    if ratio < 1e-3:
        cls = OPTIMIZERS.get(optimizer)
        text = f"Vanishing: the first layer gets ~{1 / ratio:.0e} times less gradient than the last"
        if cls is not None and cls.adaptive:
            return (text + f"; {optimizer} divides each weight's step by the size of its own recent "
                    "gradients, so the first layer's weights still move.", "bold yellow")
        return text + f"; {optimizer}'s step is lr times the gradient, so its weights barely move.", "bold red"
    if ratio > 1e3:
        return f"Exploding: the first layer's gradient is ~{ratio:.0e} times the last's.", "bold red"
    return "Healthy: the gradient reaches the first layer (ratio between 1e-3 and 1e3).", "green"


def layer_color(i: int, n: int) -> int:
    """The colour of layer ``i`` (0-based) of ``n``."""
    return LAST_COLOR if i == n - 1 else LAYER_COLORS[i % len(LAYER_COLORS)]


class GradientFlowScreen(InsideScreen):
    """Per-layer gradient norms over time, and the first-to-last ratio."""

    VIEW_TITLE = "Gradient flow"

    DEFAULT_CSS = """
    GradientFlowScreen LineChart { height: 1fr; min-height: 6; padding: 0 1; }
    GradientFlowScreen #gf-bars { height: auto; padding: 0 1; border-top: hkey $primary 30%; }
    GradientFlowScreen #gf-verdict { height: auto; padding: 0 1; }
    """

    def compose_view(self) -> ComposeResult:
        yield LineChart()
        yield Static("", id="gf-bars")
        yield Static("", id="gf-verdict")

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    def draw(self, snap: Snapshot) -> None:
        history = list(self.session.grad_norm_history)
        n_layers = len(snap.params) // 2
        if snap.step and snap.grad_norms:
            norms, when = list(snap.grad_norms), f"step {snap.step}"
        else:
            d = self.session.experiment.data
            net = self.network_copy(snap)
            X, Y = d.X_train[:INIT_BATCH], d.Y_train[:INIT_BATCH]
            norms = insp.layer_gradient_norms(net, X, Y, self.session.experiment.loss)
            when = f"the initial weights, {len(X)} samples"
        self._draw_chart(history if len(history) == n_layers and snap.step else [])
        self._draw_bars(norms, when)
        self._draw_verdict(norms, history if snap.step else [], snap.optimizer)

    def _draw_chart(self, history) -> None:
        chart = self.query_one(LineChart)
        title = Text("‖dL/dW‖ per layer, log scale: ", style="bold")
        series = []
        for i, s in enumerate(history):
            x, y = s.arrays()
            series.append(ChartSeries(x, y, layer_color(i, len(history))))  # thinned to the width by the chart
        for i in range(len(history)):
            title.append(f"W{i + 1} ", style=f"bold color({layer_color(i, len(history))})")
        if not history:
            title = Text("‖dL/dW‖ per layer over the steps: none yet (space: train, n: one step)", style="dim")
        chart.set_series(series, title=title, log_y=True, x_label="step", y_label="‖dL/dW‖ (log)")

    def _draw_bars(self, norms: list[float], when: str) -> None:
        bars = self.query_one("#gf-bars", Static)
        width = max(20, bars.content_size.width or self.size.width - 2)
        positive = [v for v in norms if v > 0 and math.isfinite(v)]
        lo = math.floor(math.log10(min(positive))) if positive else -6
        hi = math.ceil(math.log10(max(positive))) if positive else 0
        if hi - lo < 1:
            hi = lo + 1
        label_w = len(f"W{len(norms)}") + 1
        bar_w = max(4, width - label_w - 11)
        t = Text()
        t.append(f"‖dL/dW‖ at {when}\n", style="dim")
        for i, v in enumerate(norms):
            t.append(f"W{i + 1}".ljust(label_w), style=f"bold color({layer_color(i, len(norms))})")
            if v > 0 and math.isfinite(v):
                n = max(1, round((math.log10(v) - lo) / (hi - lo) * bar_w))
            else:
                n = 0
            t.append("█" * n, style=f"color({layer_color(i, len(norms))})")
            t.append("·" * (bar_w - n), style="dim")
            t.append(f" {v:9.2e}\n" if math.isfinite(v) else f" {v!s:>9}\n")
        left, right = f"1e{lo:+03d}", f"1e{hi:+03d}"
        t.append(" " * label_w + left + " " * max(1, bar_w - len(left) - len(right)) + right + "  (log)", style="dim")
        self.update_text("#gf-bars", t)

    def _draw_verdict(self, norms: list[float], history, optimizer: str) -> None:
        ratio = insp.gradient_ratio(norms)
        t = Text()
        t.append("first / last layer: ", style="bold")
        t.append(f"{ratio:.2e}" if math.isfinite(ratio) else "–", style="bold reverse" if _vanishing(ratio) else "bold")
        if len(history) >= 2:
            first, last = history[0].arrays()[1], history[-1].arrays()[1]
            recent = insp.ratio_series(first[-RECENT:], last[-RECENT:])
            recent = recent[np.isfinite(recent)]
            if len(recent):
                t.append(f"  (median of the last {len(recent)} points {float(np.median(recent)):.2e})", style="dim")
        t.append("\n")
        text, style = verdict(ratio, optimizer)
        t.append(text, style=style)
        self.update_text("#gf-verdict", t)


def _vanishing(ratio: float) -> bool:
    return math.isfinite(ratio) and (ratio < 1e-3 or ratio > 1e3)
