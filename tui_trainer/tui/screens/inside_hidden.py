"""Hidden space: the training points as one hidden layer sees them, with the input grid warped through it.

``[`` and ``]`` pick the layer. A layer of 2 units is drawn on its own axes; more units are projected onto
the two principal axes of the training points' current activations (``engine.hidden.project_2d``: a fixed
sign convention, so the picture does not flip between redraws). With 2 raw inputs, lines of constant x1
and of constant x2 over the input range are mapped through the layers up to the chosen one and projected
the same way: a nonlinear layer bends the plane, linear layers keep the lines straight and parallel (the
linear collapse, key x). The caption claims no separation it has not measured: it says the step the
picture is at and how many training points the output layer, linear in the last hidden layer's units,
gets right now (``shaping_sentence``). Points are class-coloured digits,
so the view reads without colour too. Drawn by plotext through ``widgets.plotting``.
"""

from __future__ import annotations

import numpy as np
from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from ...engine import hidden
from ...engine.metrics import accuracy, r2_score
from ...engine.numbers import tick_label
from ...experiments.session import Snapshot
from ..widgets.plotting import Curve, Plot, hint_strips, linear_ticks, plot_strips, styled
from .inside_base import InsideScreen, network_shape

CLASS_COLORS = (14, 11, 13, 10, 9, 12, 3, 6, 5, 2)
"""A standard colour per class (16-colour terminals keep them apart); the marker is the class digit."""
GRID_X1_COLOR, GRID_X2_COLOR = 4, 8
GRID_LINES, GRID_POINTS = 9, 48
MAX_POINTS = 2000
"""The most training points drawn (a deterministic subset beyond that)."""


def shaping_sentence(bent: str, classes: bool, step: int, score: float) -> str:
    """The caption's last sentence: at ``step`` (0: the initial weights), the ``bent`` activations
    bend the inputs, and the output layer, linear in the last hidden layer, scores ``score`` on the
    training points (accuracy for classes, else R^2)."""
    when = "Step 0, the initial weights" if step == 0 else f"At step {step}"
    if classes:
        return (f"{when}: {bent} bends the plane; the output layer, linear in the last hidden layer's units, "
                f"gets {score:.0%} of the training points right.")
    return (f"{when}: {bent} bends the inputs' space; the output layer, linear in the last hidden layer's "
            f"units, fits the training points with R^2 = {score:.3g}.")


class HiddenPlot(Widget):
    """A plotext plot built at the widget's size by a function of (width, height), or a hint."""

    DEFAULT_CSS = """
    HiddenPlot { width: 1fr; height: 1fr; min-height: 4; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._make = None
        self._hint = ""
        self._lines: list[Strip] = []
        self._built_for: tuple[int, int] | None = None
        self.plot: Plot | None = None
        """The latest plot drawn (for tests)."""

    def show(self, make) -> None:
        """Draw ``make(width, height) -> Plot`` at the current size (and again on a resize)."""
        self._make, self._hint = make, ""
        self._built_for = None
        self.refresh()

    def show_hint(self, hint: str) -> None:
        self._make, self._hint, self.plot = None, hint, None
        self._built_for = None
        self.refresh()

    def on_resize(self) -> None:
        self._built_for = None

    def _build(self, width: int, height: int) -> None:
        self._built_for = (width, height)
        if width <= 0 or height <= 0:
            self._lines = []
            return
        if self._make is None or width < 20 or height < 5:
            hint = self._hint or ("(too small to draw)" if self._make is not None else "")
            self._lines = [styled(s) for s in hint_strips(hint, self.rich_style, width, height)]
            return
        self.plot = self._make(width, height)
        self._lines = [styled(s) for s in plot_strips(self.plot)]

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if self._built_for != (width, height):
            self._build(width, height)
        base = self.rich_style
        if y < len(self._lines):
            return self._lines[y].adjust_cell_length(width, base).apply_style(base)
        return Strip.blank(width, base)

    def plain_lines(self) -> list[str]:
        """The text of every line (for tests)."""
        width, height = self.content_size
        return [self.render_line(y).text for y in range(height)]


class HiddenSpaceScreen(InsideScreen):
    """The training points in a hidden layer's space, with the warped input grid."""

    VIEW_TITLE = "Hidden space"
    REDRAW_INTERVAL = 1.0

    DEFAULT_CSS = """
    HiddenSpaceScreen #hidden-caption {
        height: auto;
        max-height: 6;
        padding: 0 1;
        border-top: hkey $primary 30%;
    }
    """

    BINDINGS = [
        Binding("left_square_bracket", "layer(-1)", "Layer -", key_display="["),
        Binding("right_square_bracket", "layer(1)", "Layer +", key_display="]"),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.hidden_layer = 0
        """The chosen hidden layer, 0 = the first."""
        self.projected = False
        """Whether the latest picture was projected (more than 2 units) or drawn directly."""
        self.grid_drawn = False
        """Whether the latest picture has the warped grid."""
        self.coords: np.ndarray | None = None
        """The latest points' 2-D positions (for tests)."""

    def compose_view(self) -> ComposeResult:
        yield HiddenPlot(id="hidden-plot")
        yield Static("", id="hidden-caption")

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    # -- keys ------------------------------------------------------------------------------

    def n_hidden(self) -> int:
        return len(self.session.net.layer_sizes) - 2

    def action_layer(self, step: int) -> None:
        n = self.n_hidden()
        if n <= 0:
            return
        self.hidden_layer = (self.hidden_layer + step) % n
        self.redraw()

    # -- drawing ---------------------------------------------------------------------------

    def title_text(self, snap: Snapshot) -> str:
        sizes = self.session.net.layer_sizes
        parts = [f"[b]{escape(self.VIEW_TITLE)}[/b]"]
        n = self.n_hidden()
        if n > 0:
            layer = min(self.hidden_layer, n - 1)
            units = sizes[layer + 1]
            parts.append(f"layer {layer + 1}/{n} · {units} unit{'s' if units != 1 else ''}")
        name, rest = escape(self.session.experiment.dataset.name), [f"step {snap.step}", snap.state]
        full = " · ".join([*parts, name, network_shape(sizes), *rest])
        if len(Text.from_markup(full).plain) <= self.size.width - 2:
            return full
        return " · ".join([*parts, name, *rest])  # narrow: the layer's line says more than the shape

    def draw(self, snap: Snapshot) -> None:
        plot = self.query_one(HiddenPlot)
        net = self.network_copy(snap)
        d = self.session.experiment.data
        ds = d.dataset
        n = self.n_hidden()
        if n <= 0:
            self.coords = None
            plot.show_hint("This network has no hidden layer: there is no hidden space to show.")
            self.update_text("#hidden-caption", Text("Add a hidden layer in the config pane (Escape, then ctrl+p: Add layer).",
                                                     style="dim"))
            return
        self.hidden_layer = min(self.hidden_layer, n - 1)
        layer = self.hidden_layer
        X = d.X_train
        if len(X) > MAX_POINTS:
            keep = np.linspace(0, len(X) - 1, MAX_POINTS).astype(np.intp)
            X, labels_all = X[keep], np.asarray(self._labels())[keep]
        else:
            labels_all = np.asarray(self._labels())
        if not len(X):
            self.coords = None
            plot.show_hint("No training points to map.")
            self.update_text("#hidden-caption", Text(""))
            return
        A = net.forward_all(X)[layer]
        if not np.isfinite(A).all():
            self.coords = None
            plot.show_hint("The activations are not finite: training diverged (a lower learning rate helps).")
            self.update_text("#hidden-caption", Text(""))
            return
        coords, basis, mean = hidden.project_2d(A)
        units = A.shape[1]
        self.projected = units > 2
        self.coords = coords
        share = hidden.variance_share(A, basis, mean)

        lines_x1: list[np.ndarray] = []
        lines_x2: list[np.ndarray] = []
        raw_inputs = ds.X.shape[1]
        if raw_inputs == 2:
            raw = np.asarray(ds.X, dtype=np.float64)
            lo, hi = raw.min(axis=0), raw.max(axis=0)
            span = np.where(hi - lo > 0, hi - lo, 1.0)
            bounds = (lo[0] - 0.05 * span[0], hi[0] + 0.05 * span[0], lo[1] - 0.05 * span[1], hi[1] + 0.05 * span[1])
            const_x, const_y = hidden.grid_lines(bounds, GRID_LINES, GRID_POINTS)
            G = np.concatenate([const_x.reshape(-1, 2), const_y.reshape(-1, 2)])
            H = net.forward_all(d.inputs(G, dtype=net.dtype))[layer]
            P = hidden.project(H, basis, mean)
            if np.isfinite(P).all():
                P = P.reshape(2 * GRID_LINES, GRID_POINTS, 2)
                lines_x1 = list(P[:GRID_LINES])
                lines_x2 = list(P[GRID_LINES:])
        self.grid_drawn = bool(lines_x1)

        classes = ds.problem != "regression"
        groups = self._groups(coords, labels_all, classes)
        pts = [coords] + lines_x1 + lines_x2
        allp = np.concatenate(pts)
        x_lo, x_hi = _limits(allp[:, 0])
        y_lo, y_hi = _limits(allp[:, 1])
        axis_x = "PC1" if self.projected else "unit 1"
        axis_y = "PC2" if self.projected else ("unit 2" if units == 2 else "")

        def make(width: int, height: int) -> Plot:
            x_ticks, x_step = linear_ticks(x_lo, x_hi, max(2, min(8, width // 12)))
            y_ticks, y_step = linear_ticks(y_lo, y_hi, max(2, min(6, height // 4)))
            curves = [Curve(line[:, 0].tolist(), line[:, 1].tolist(), GRID_X1_COLOR) for line in lines_x1]
            curves += [Curve(line[:, 0].tolist(), line[:, 1].tolist(), GRID_X2_COLOR) for line in lines_x2]
            for marker, color, xy in groups:
                curves.append(Curve(xy[:, 0].tolist(), xy[:, 1].tolist(), color, marker=marker, lines=False))
            return Plot(width, height, (x_lo, x_hi), (y_lo, y_hi),
                        (x_ticks, [tick_label(t, x_step) for t in x_ticks]),
                        (y_ticks, [tick_label(t, y_step) for t in y_ticks]),
                        x_label=axis_x, y_label=axis_y, curves=curves)

        plot.show(make)
        self.update_text("#hidden-caption", self._caption(net, layer, units, share, raw_inputs, classes, snap.step))

    def _labels(self):
        d = self.session.experiment.data
        if d.dataset.problem == "regression":
            y = d.Y_train[:, 0]
            return (y > np.median(y)).astype(int) if len(y) else np.zeros(0, dtype=int)
        return np.asarray(d.y_train).astype(int)

    @staticmethod
    def _groups(coords, labels, classes: bool):
        groups = []
        for k in np.unique(labels).tolist():
            sel = labels == k
            if classes:
                marker = str(k % 10)
            else:
                marker = "+" if k else "-"
            groups.append((marker, CLASS_COLORS[k % len(CLASS_COLORS)], coords[sel]))
        return groups

    def _caption(self, net, layer: int, units: int, share: float, raw_inputs: int, classes: bool, step: int) -> Text:
        d = self.session.experiment.data
        ds = self.session.experiment.dataset
        acts = net.activations[: layer + 1]
        t = Text()
        if units > 2:
            pct = f"{share:.1%}" if share > 0.995 else f"{share:.0%}"
            t.append(f"{units} units, projected", style="bold")
            t.append(f" (PCA: 2 axes hold {pct} of the spread). ")
        elif units == 2:
            t.append("2 units, drawn directly. ", style="bold")
        else:
            t.append("1 unit: its value across. ", style="bold")
        if classes:
            names = ds.class_names[:6]
            t.append("  ".join(f"{k} {n}"[:18] for k, n in enumerate(names)))
            if len(ds.class_names) > 6:
                t.append(" …")
        else:
            t.append(f"-/+: {ds.target_name} below/above its median")
        t.append("\n")
        if raw_inputs == 2:
            t.append("Grid: lines of ", style="dim")
            t.append("constant x1", style=f"color({GRID_X1_COLOR})")
            t.append(" and ", style="dim")
            t.append("constant x2", style=f"color({GRID_X2_COLOR})")
            through = "layer 1" if layer == 0 else f"layers 1-{layer + 1}"
            t.append(f" over the inputs, through {through}.\n", style="dim")
        else:
            t.append(f"No grid: the data has {raw_inputs} input{'s' if raw_inputs != 1 else ''} "
                     "(the grid needs 2): points only.\n", style="dim")
        if all(a == "linear" for a in acts):
            t.append("All linear up to here: the grid stays a linear map (straight, parallel lines); "
                     "the layers are one matrix (x: linear collapse).", style="bold")
        else:
            bent = "/".join(sorted({a for a in acts if a != "linear"}))
            with np.errstate(all="ignore"):
                out = net.forward(d.X_train)
            if classes:
                score = accuracy(out, d.y_train, ds.problem)
            else:
                score = r2_score(out, d.Y_train)
            t.append(shaping_sentence(bent, classes, step, score), style="italic")
        return t


def _limits(v: np.ndarray) -> tuple[float, float]:
    lo, hi = float(v.min()), float(v.max())
    if not hi - lo > max(abs(lo), abs(hi)) * 1e-9:
        pad = max(abs(lo) * 0.05, 0.5)
        return lo - pad, hi + pad
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad
