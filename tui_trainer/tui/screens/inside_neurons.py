"""Neurons: every unit's output over the input plane, as a small picture, layer by layer.

For data with two raw inputs: the grid of the decision boundary (the raw x1, x2 plane, each cell
made into the network's inputs), passed through the network once with every layer's outputs kept;
a thumbnail per hidden unit and per output, a row of them per layer. The arrows pick a unit; the
side panel shows its incoming weights and its bias. Other data: one line saying why there is no
picture.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from ...engine import inspect as insp
from ...experiments.session import Snapshot
from ..widgets import colormap
from ..widgets.neuron_grid import LayerPictures, NeuronGrid
from .inside_base import InsideScreen
from .inside_boundary import plane_inputs

NOT_2D = "Neurons need data with 2 raw inputs (x1, x2) to draw each unit over the plane; this data has {n}."
_HALF_RANGE = {"sigmoid": 0.5, "softmax": 0.5}
"""Activations whose outputs lie in [0, 1]: their pictures are centred on 0.5."""


class _SidePanel(VerticalScroll):
    """The unit's numbers: scrolls with the mouse, never takes the arrows from the cursor."""

    can_focus = False


class NeuronsScreen(InsideScreen):
    """Each hidden unit's (and output's) response over the input plane; the arrows pick one."""

    VIEW_TITLE = "Neurons"

    DEFAULT_CSS = """
    NeuronsScreen #neurons-body { height: 1fr; }
    NeuronsScreen NeuronGrid { width: 1fr; height: 1fr; }
    NeuronsScreen #neurons-side-scroll {
        width: 28;
        height: 1fr;
        padding: 0 1;
        border-left: vkey $primary 30%;
    }
    NeuronsScreen #neurons-side { height: auto; }
    NeuronsScreen #neurons-message { height: 1; padding: 0 1; }
    """

    BINDINGS = [
        Binding("left", "move(0, -1)", "Unit", show=False),
        Binding("right", "move(0, 1)", "Unit", show=False),
        Binding("up", "move(-1, 0)", "Layer", show=False),
        Binding("down", "move(1, 0)", "Layer", show=False),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.picked_layer = 0
        """The picked unit's layer (0: the first hidden layer; the last: the outputs)."""
        self.picked_unit = 0
        """The picked unit in its layer."""
        self.two_inputs = self._has_two_inputs()
        self.pictures: list[np.ndarray] = []
        """Per layer, the drawn values ``(units, ny, nx)`` (for tests)."""
        self.bounds: tuple[float, float, float, float] | None = None
        """The raw x1, x2 bounds the pictures cover."""

    def _has_two_inputs(self) -> bool:
        return np.asarray(self.session.experiment.dataset.X).shape[1] == 2

    def compose_view(self) -> ComposeResult:
        if self.two_inputs:
            with Horizontal(id="neurons-body"):
                yield NeuronGrid()
                with _SidePanel(id="neurons-side-scroll"):
                    yield Static("", id="neurons-side")
        else:
            yield Static("", id="neurons-message")

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    async def on_screen_resume(self) -> None:
        two = self._has_two_inputs()
        if two != self.two_inputs:  # another experiment (a preset)
            self.two_inputs = two
            await self.recompose()
        super().on_screen_resume()

    def action_move(self, d_layer: int, d_unit: int) -> None:
        sizes = self.session.net.layer_sizes[1:]
        layer = min(max(self.picked_layer + d_layer, 0), len(sizes) - 1)
        unit = min(max(self.picked_unit + d_unit, 0), sizes[layer] - 1)
        if (layer, unit) != (self.picked_layer, self.picked_unit):
            self.picked_layer, self.picked_unit = layer, unit
            self.redraw()

    # -- drawing ---------------------------------------------------------------------------

    def draw(self, snap: Snapshot) -> None:
        if not self.two_inputs or not self.query(NeuronGrid):
            n = np.asarray(self.session.experiment.dataset.X).shape[1]
            for message in self.query("#neurons-message"):
                message.update(NOT_2D.format(n=n))
            return
        net = self.network_copy(snap)
        d = self.session.experiment.data
        sizes = list(net.layer_sizes[1:])
        self.picked_layer = min(self.picked_layer, len(sizes) - 1)
        self.picked_unit = min(self.picked_unit, sizes[self.picked_layer] - 1)
        grid = self.query_one(NeuronGrid)
        nx, ny = grid.cells_for(sizes)
        raw = np.asarray(d.dataset.X, dtype=np.float64)
        self.bounds = bounds = insp.fit_bounds(raw, nx, ny * grid.cell_aspect)
        outs = net.forward_all(plane_inputs(d, bounds, nx, ny, raw[:0], net.dtype))
        layers, self.pictures = [], []
        for li, (out, act) in enumerate(zip(outs, net.activations)):
            values = np.asarray(out, dtype=np.float64).T.reshape(sizes[li], ny, nx)
            center = _HALF_RANGE.get(act, 0.0)
            scale = colormap.symmetric_scale(values - center)
            last = li == len(outs) - 1
            name = "output" if last else f"layer {li + 1}"
            count = f"{sizes[li]} unit{'s' if sizes[li] != 1 else ''}"
            layers.append(LayerPictures(f"{name} · {act} · {count}", values, center, scale))
            self.pictures.append(values)
        grid.set_cursor(self.picked_layer, self.picked_unit)
        grid.set_layers(layers)
        self._side(net, grid)

    def _side(self, net, grid: NeuronGrid) -> None:
        d = self.session.experiment.data
        li, u = self.picked_layer, self.picked_unit
        W, b = net.weights[li], net.biases[li]
        last = li == net.n_layers - 1
        act = net.activations[li]
        t = Text()
        t.append(f"{'output' if last else f'layer {li + 1}'} · unit {u + 1}/{W.shape[1]}\n", style="bold")
        t.append(f"{act}(x · w + b)\n\n", style="dim")
        t.append("bias ")
        t.append(f"{float(b[u]):+.4f}\n", style="bold")
        names = list(d.feature_names) if li == 0 else [f"u{i + 1}" for i in range(W.shape[0])]
        t.append(f"weights in ({'inputs' if li == 0 else f'from layer {li}'}):\n")
        items = [f"{name[:5]:>5} {float(w):+.4f}" for name, w in zip(names, W[:, u])]
        columns = 2 if len(items) > 8 else 1
        for i in range(0, len(items), columns):
            t.append("  ".join(items[i:i + columns]) + "\n")
        values = self.pictures[li][u]
        t.append(f"\nover the plane:\n{insp.format_number(float(np.nanmin(values)), 3)} … "
                 f"{insp.format_number(float(np.nanmax(values)), 3)}\n", style="dim")
        palette = grid.palette
        t.append(palette.description + "\n", style="dim")
        t.append("\n←→ unit  ↑↓ layer", style="dim")
        self.update_text("#neurons-side", t)
