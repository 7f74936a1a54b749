"""Decision boundary: the network's output over the input plane, with the data on top.

Two inputs: a colour map of the output over a grid that fills the view (cells kept square, so a
circle stays round), training points ``●`` and validation points ``○`` over it. More inputs: a
slice through the first two, the others at their mean. One input: the prediction curve over the
data. Redrawn at most twice a second while training.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from ...engine import inspect as insp
from ...engine.metrics import accuracy, r2_score
from ...engine.preprocess import train_val_split
from ...experiments.session import Snapshot
from ..widgets.boundary_map import TRAIN_MARK, VAL_MARK, BoundaryMap, MapPoints, class_color, point_color
from ..widgets.line_chart import ChartSeries, LineChart
from .inside_base import InsideScreen

POINT_MODES = ("all", "train", "val", "none")
"""Which points ``o`` shows over the map."""
TRAIN_COLOR, VAL_COLOR, CURVE_COLOR = 14, 11, 13


class BoundaryScreen(InsideScreen):
    """The decision boundary (or a 1-D prediction curve) of the live network."""

    VIEW_TITLE = "Decision boundary"

    DEFAULT_CSS = """
    BoundaryScreen #boundary-body { height: 1fr; }
    BoundaryScreen BoundaryMap, BoundaryScreen LineChart { width: 1fr; height: 1fr; }
    BoundaryScreen #boundary-side {
        width: 36;
        height: 1fr;
        padding: 0 1;
        border-left: vkey $primary 30%;
    }
    """

    BINDINGS = [Binding("o", "cycle_points", "Points"),
                Binding("z", "toggle_discrete", "Shading")]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.points_mode = "all"
        ds = self.session.experiment.dataset
        self.one_input = ds.X.shape[1] == 1

    def compose_view(self) -> ComposeResult:
        with Horizontal(id="boundary-body"):
            yield LineChart() if self.one_input else BoundaryMap()
            yield Static("", id="boundary-side")

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    async def on_screen_resume(self) -> None:
        one_input = self.session.experiment.dataset.X.shape[1] == 1
        if one_input != self.one_input:  # another experiment (a preset): the other kind of plot
            self.one_input = one_input
            await self.recompose()
        super().on_screen_resume()

    def action_cycle_points(self) -> None:
        """Show all points, training only, validation only or none."""
        self.points_mode = POINT_MODES[(POINT_MODES.index(self.points_mode) + 1) % len(POINT_MODES)]
        self.redraw()

    def action_toggle_discrete(self) -> None:
        """Class colours only, or shaded by how sure the network is (classification maps)."""
        for boundary in self.query(BoundaryMap):
            boundary.discrete = not boundary.discrete
        self.redraw()

    @property
    def discrete(self) -> bool:
        """Whether the map shows class colours only (``z``)."""
        maps = self.query(BoundaryMap)
        return bool(maps) and maps.first().discrete

    # -- drawing ---------------------------------------------------------------------------

    def draw(self, snap: Snapshot) -> None:
        net = self.network_copy(snap)
        data = self.session.experiment.data
        problem = data.dataset.problem
        scores = self._scores(net, problem)
        if self.one_input:
            self._draw_curve(net, scores)
        else:
            self._draw_map(net, scores)

    def _scores(self, net, problem: str) -> dict[str, float]:
        """Accuracy (or R^2) of the current weights on each split."""
        d = self.session.experiment.data
        out = {}
        for split, X, Y, y in (("train", d.X_train, d.Y_train, d.y_train), ("val", d.X_val, d.Y_val, d.y_val)):
            if len(X):
                pred = net.forward(X)
                out[split] = r2_score(pred, Y) if problem == "regression" else accuracy(pred, y, problem)
        return out

    def _draw_map(self, net, scores) -> None:
        boundary = self.query_one(BoundaryMap)
        d = self.session.experiment.data
        ds = d.dataset
        nx, ny = boundary.grid_size
        if d.features is None:
            # the network's inputs are the data's columns: the grid is over them, standardized
            # (the cells square in the units the network sees), the axes named in raw units
            bounds = insp.fit_bounds(np.concatenate([d.X_train, d.X_val]), nx, ny * boundary.cell_aspect)
            grid = insp.decision_grid(net, bounds, nx, ny)
            points = self._points(bounds, nx, ny, d.X_train, d.X_val)
            std = d.standardizer
            x0, x1, y0, y1 = bounds
            bounds_shown = (x0 * std.std[0] + std.mean[0], x1 * std.std[0] + std.mean[0],
                            y0 * std.std[1] + std.mean[1], y1 * std.std[1] + std.mean[1])
        else:
            # features of x1, x2: the grid is over the raw plane, each cell made into features
            raw_train, raw_val = self._raw_splits()
            bounds = insp.fit_bounds(np.asarray(ds.X, dtype=np.float64), nx, ny * boundary.cell_aspect)
            grid = raw_grid(net, d, bounds, nx, ny, raw_train)
            points = self._points(bounds, nx, ny, raw_train, raw_val)
            bounds_shown = bounds
        if ds.problem == "regression":
            y = d.Y_train[:, 0]
            center = float(y.mean()) if len(y) else 0.0
            scale = float(np.abs(y - center).max()) if len(y) else 1.0
            boundary.set_values(grid[:, :, 0], center, scale or 1.0, points)
            self._side(scores, bounds_shown, value_range=(center - scale, center + scale))
        else:
            boundary.set_classes(grid, points)
            self._side(scores, bounds_shown)

    def _raw_splits(self) -> tuple[np.ndarray, np.ndarray]:
        """The training and validation inputs as the dataset has them (before any feature or
        standardization), in the order of ``X_train`` / ``X_val``."""
        d, cfg = self.session.experiment.data, self.session.config
        key = (d, cfg.data.val_split, cfg.training.seed)
        old = getattr(self, "_raw_key", None)
        if old is None or old[0] is not d or old[1:] != key[1:]:
            self._raw_key, self._raw = key, raw_splits(d, cfg.data.val_split, cfg.training.seed)
        return self._raw

    def _points(self, bounds, nx: int, ny: int, raw_train, raw_val) -> MapPoints | None:
        d = self.session.experiment.data
        parts = []
        if self.points_mode in ("all", "train"):
            parts.append((raw_train, d.y_train if d.dataset.problem != "regression" else d.Y_train[:, 0], False))
        if self.points_mode in ("all", "val"):
            parts.append((raw_val, d.y_val if d.dataset.problem != "regression" else d.Y_val[:, 0], True))
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return None
        X = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([np.asarray(p[1]) for p in parts])
        val = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
        x0, x1, y0, y1 = bounds
        col = np.floor((X[:, 0] - x0) / (x1 - x0) * nx).astype(np.intp)
        row = np.floor((y1 - X[:, 1]) / (y1 - y0) * ny).astype(np.intp)
        return MapPoints(col, row, labels, val)

    def _draw_curve(self, net, scores) -> None:
        d = self.session.experiment.data
        std = d.standardizer
        X_all = np.concatenate([d.X_train, d.X_val])[:, 0]
        lo, hi = float(X_all.min()), float(X_all.max())
        pad = 0.05 * (hi - lo or 1.0)
        chart = self.query_one(LineChart)
        width = max(chart.content_size.width, 20)
        xs, ys = insp.prediction_curve(net, lo - pad, hi + pad, 2 * width)

        def raw(z):
            return np.asarray(z) * std.std[0] + std.mean[0]

        series = []
        if self.points_mode in ("all", "train") and len(d.X_train):
            series.append(ChartSeries(raw(d.X_train[:, 0]), d.Y_train[:, 0], TRAIN_COLOR, "scatter", "•"))
        if self.points_mode in ("all", "val") and len(d.X_val):
            series.append(ChartSeries(raw(d.X_val[:, 0]), d.Y_val[:, 0], VAL_COLOR, "scatter", "◦"))
        series.append(ChartSeries(raw(xs), ys, CURVE_COLOR, "line"))
        title = Text()
        title.append("prediction", style="bold color(13)")
        title.append(" over the data: ", style="dim")
        title.append("• train", style="bold color(14)")
        title.append(" ", style="dim")
        title.append("◦ val", style="bold color(11)")
        ds = d.dataset
        chart.set_series(series, title=title, x_label=ds.feature_names[0], y_label=ds.target_name, x_steps=False)
        self._side(scores, None)

    def _side(self, scores: dict[str, float], bounds, value_range=None) -> None:
        d = self.session.experiment.data
        ds = d.dataset
        system = self.query_one(LineChart if self.one_input else BoundaryMap)
        color_system = getattr(system, "color_system", "smooth")
        t = Text()
        if self.one_input:
            t.append("The network's output for every\ninput along the axis (the line),\nand the data (the dots).\n\n")
        elif ds.problem == "regression":
            t.append("What the network predicts at\nevery point of the input plane.\n\n", style="dim")
            t.append("Colour: the predicted ", style="bold")
            t.append(f"{ds.target_name}\n", style="bold")
            lo, hi = value_range
            t.append(f"blue {insp.format_number(lo, 3)} … orange {insp.format_number(hi, 3)}\n")
            t.append("points: their true value on the\nsame scale: a good fit hides them\n\n")
        else:
            t.append("What the network predicts at\nevery point of the input plane:\n"
                     "the boundary is where the\ncolour changes.\n\n", style="dim")
            t.append("Colour: the most likely class", style="bold")
            if self.discrete:
                t.append("\n(class colours only: z shades)\n")
            else:
                t.append("\n(brighter where it is surer)\n" if color_system == "smooth" else "\n")
            names = ds.class_names[:10]
            two_columns = len(names) > 4
            for k, name in enumerate(names):
                if color_system == "glyphs":
                    t.append(f" {k} ", style="reverse")
                else:
                    t.append("▀▀", style=f"{class_color(k, 5, color_system).name} on "
                                         f"{class_color(k, 1, color_system).name}")
                    t.append(TRAIN_MARK, style=f"bold {point_color(k, color_system).name}")
                if two_columns:
                    t.append(f" {name}"[:13].ljust(14))
                    if k % 2 == 1 or k == len(names) - 1:
                        t.append("\n")
                else:
                    t.append(f" {name}"[:30] + "\n")
            if len(ds.class_names) > 10:
                t.append(f" … {len(ds.class_names) - 10} more classes\n")
            t.append("\n")
        shown = {"all": "", "train": " (only train shown)", "val": " (only val shown)", "none": " (hidden)"}
        t.append(f"{TRAIN_MARK} train {len(d.X_train)}   {VAL_MARK} validation {len(d.X_val)}", style="bold")
        t.append(f"{shown[self.points_mode]}\n")
        metric = "R²" if ds.problem == "regression" else "accuracy"
        t.append(f"{metric} ")
        for split in ("train", "val"):
            if split in scores:
                t.append(f" {split} ")
                t.append(f"{scores[split]:.3f}", style="bold")
        t.append("\n")
        if bounds is not None:
            x0, x1, y0, y1 = bounds
            names = ds.feature_names
            for axis, (lo, hi), j in (("x", (x0, x1), 0), ("y", (y0, y1), 1)):
                t.append(f"\n{axis} {names[j][:12]}: {insp.format_number(lo, 3)} … {insp.format_number(hi, 3)}")
            if d.features is not None and list(d.features) != ["x1", "x2"]:
                t.append("\ninputs: " + ", ".join(d.feature_names), style="italic")
            if len(names) > 2:
                others = "the other input\nis" if len(names) == 3 else f"the other {len(names) - 2} inputs\nare"
                t.append(f"\na slice: {others} held at their mean", style="italic")
        t.append("\n\no: points (all/train/val/none)", style="dim")
        self.update_text("#boundary-side", t)


def raw_splits(d, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The raw (dataset) rows of ``d``'s training and validation splits, in their order.

    Without features the standardization is undone; with features the seeded split is drawn
    again (as ``prepare`` drew it) and checked against the prepared inputs."""
    ds = d.dataset
    if d.features is None:
        std = d.standardizer
        return d.X_train * std.std + std.mean, d.X_val * std.std + std.mean
    classification = ds.problem != "regression"
    try:
        train, val = train_val_split(ds.y if classification else len(ds.y), val_split, seed, classification)
        raw_train, raw_val = np.asarray(ds.X, dtype=np.float64)[train], np.asarray(ds.X, dtype=np.float64)[val]
        if (len(raw_train) == len(d.X_train) and len(raw_val) == len(d.X_val)
                and np.allclose(d.inputs(raw_train), d.X_train, rtol=1e-4, atol=1e-4)
                and np.allclose(d.inputs(raw_val), d.X_val, rtol=1e-4, atol=1e-4)):
            return raw_train, raw_val
    except Exception:  # a split that cannot be redrawn: the points are left off, the map stays
        pass
    empty = np.empty((0, ds.X.shape[1]))
    return empty, empty


def raw_grid(net, d, bounds, nx: int, ny: int, raw_train: np.ndarray) -> np.ndarray:
    """The network's output over a grid of the raw inputs x1, x2 (the first two dataset columns;
    any others held at their training mean), each cell turned into the network's inputs by
    ``d.inputs``: ``(ny, nx, n_outputs)``, row 0 at the top."""
    return net.forward(plane_inputs(d, bounds, nx, ny, raw_train, net.dtype)).reshape(ny, nx, -1)


def plane_inputs(d, bounds, nx: int, ny: int, raw_train: np.ndarray, dtype=None) -> np.ndarray:
    """The network's inputs at the centres of an ``nx`` x ``ny`` grid over the raw plane x1, x2
    (``bounds``; any other raw column at its training mean): ``(ny * nx, n_inputs)``, row by row
    from the top."""
    xs, ys = insp.grid_points(bounds, nx, ny)
    gx, gy = np.meshgrid(xs, ys)
    k = d.dataset.X.shape[1]
    G = np.empty((nx * ny, k), dtype=np.float64)
    if k > 2:
        G[:, 2:] = raw_train[:, 2:].mean(axis=0) if len(raw_train) else d.standardizer.mean[2:]
    G[:, 0], G[:, 1] = gx.ravel(), gy.ravel()
    return d.inputs(G, dtype=dtype)
