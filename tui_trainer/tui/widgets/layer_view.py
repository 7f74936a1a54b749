"""The weights pane: one layer's matrix as a heatmap, switchable by layer and by view."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from ...experiments.session import Snapshot
from .weight_heatmap import WeightHeatmap

VIEWS = ("weights", "gradient", "update")
"""What the heatmap can show: the weights, the last gradient dL/dW, the last change made."""
REDRAW_INTERVAL = 0.5
"""Seconds between heatmap redraws while training (a heatmap is the costliest thing to send)."""


class LayerView(Vertical):
    """Header with the layer and view, then the heatmap."""

    DEFAULT_CSS = """
    LayerView { height: 1fr; }
    LayerView > #layer-title { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    LayerView > WeightHeatmap { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.layer_index = 0
        self.view_name = "weights"
        self._snap: Snapshot | None = None
        self._drawn_at = 0.0
        self._title = ""

    def compose(self) -> ComposeResult:
        yield Label("", id="layer-title")
        yield WeightHeatmap()

    def focus(self, scroll_visible: bool = True):
        return self.query_one(WeightHeatmap).focus(scroll_visible)

    def show(self, snap: Snapshot) -> None:
        """Keep the snapshot; redraw now when idle, at most every REDRAW_INTERVAL while training."""
        self._snap = snap
        now = time.monotonic()
        if snap.state != "training" or now - self._drawn_at >= REDRAW_INTERVAL:
            self._drawn_at = now
            self._draw()

    def move_layer(self, delta: int) -> None:
        if self._snap is not None:
            self.layer_index = (self.layer_index + delta) % (len(self._snap.params) // 2)
            self._draw()

    def cycle_view(self) -> None:
        self.view_name = VIEWS[(VIEWS.index(self.view_name) + 1) % len(VIEWS)]
        self._draw()

    def _draw(self) -> None:
        snap = self._snap
        if snap is None:
            return
        n_layers = len(snap.params) // 2
        self.layer_index = min(self.layer_index, n_layers - 1)
        arrays = {"weights": snap.params, "gradient": snap.grads, "update": snap.updates}[self.view_name]
        W, b = arrays[2 * self.layer_index], arrays[2 * self.layer_index + 1]
        name = {"weights": "W", "gradient": "dL/dW", "update": "ΔW"}[self.view_name]
        title = f"[b]layer {self.layer_index + 1}/{n_layers}[/b] · {self.view_name}  [dim]\\[ ] layer  v view[/dim]"
        if title != self._title:
            self._title = title
            self.query_one("#layer-title", Label).update(title, layout=False)
        self.query_one(WeightHeatmap).set_matrix(
            W, b, title=f"{name}{self.layer_index + 1} ({W.shape[0]} x {W.shape[1]}) {self.view_name}"
        )
