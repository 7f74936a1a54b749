"""Weights as images: each first-layer unit's incoming weights drawn as a picture of the input.

For image data a first-layer unit looks at every pixel with one weight: its column of W1, laid
out as the image, is the pattern the unit responds to. The pictures share one colour scale,
symmetric about zero (the weight heatmap's: ``colormap.symmetric_scale`` and its diverging
palette, two pixels a character with half blocks), so units can be compared. Beside them, a
validation sample's image with the network's prediction and its label.

The rule for "image data": the inputs are the dataset's raw columns (no computed features) and
their count is a square of at least 4x4 (``digits``: 64 inputs, 8x8 pixels).
"""

from __future__ import annotations

import math

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from ...experiments.session import Snapshot
from ..widgets import colormap
from .inside_base import InsideScreen

MIN_SIDE = 4
"""Smallest image side the view draws (16 inputs)."""
_GAP = 2
"""Columns between two pictures."""
_SHADES = " ░▒▓█"
"""Pixel shades without colour (the glyph palette)."""


def image_side(n_inputs: int, computed_features: bool) -> int | None:
    """The side of the square images the inputs are, or None when they are not image-like."""
    if computed_features:
        return None
    side = math.isqrt(n_inputs)
    return side if side * side == n_inputs and side >= MIN_SIDE else None


def picture_lines(values: np.ndarray, palette: colormap.Palette, scale: float) -> list[Text]:
    """A 2-D array drawn with the diverging palette: two rows a line (half blocks), one column a
    character; the glyph palette draws one row a line."""
    levels = colormap.values_to_levels(values, scale, palette.n_levels)
    if not palette.uses_color:
        glyphs = list(palette.glyphs or ()) + [palette.nan_glyph]
        return [Text("".join(glyphs[v] for v in row)) for row in levels.tolist()]
    colors = list(palette.colors or ()) + [palette.nan_color]
    return _half_blocks([[colors[v] for v in row] for row in levels.tolist()])


def gray_lines(image: np.ndarray, no_color: bool) -> list[Text]:
    """A raw image in grey levels (its own range: darkest 0, lightest its maximum)."""
    img = np.asarray(image, dtype=float)
    low, high = float(np.nanmin(img)), float(np.nanmax(img))
    unit = (img - low) / (high - low) if high > low else np.zeros_like(img)
    if no_color:
        idx = np.clip(np.rint(unit * (len(_SHADES) - 1)), 0, len(_SHADES) - 1).astype(int)
        return [Text("".join(_SHADES[v] for v in row)) for row in idx.tolist()]
    grey = np.rint(unit * 255).astype(int).tolist()
    return _half_blocks([[Color.from_rgb(v, v, v) for v in row] for row in grey])


def _half_blocks(rows: list[list[Color]]) -> list[Text]:
    if len(rows) % 2:
        rows = rows + [[None] * len(rows[0])]
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        t = Text()
        for a, b in zip(top, bottom):
            if a == b:
                t.append(" ", colormap.fill_style(a))
            else:
                t.append("▀", colormap.half_block_style(a, b))
        lines.append(t)
    return lines


class WeightImagesScreen(InsideScreen):
    """First-layer weights as pictures, and a sample with its prediction."""

    VIEW_TITLE = "Weights as images"

    DEFAULT_CSS = """
    WeightImagesScreen #images-scroll { height: 1fr; }
    """

    BINDINGS = [
        Binding("left", "sample(-1)", "Sample", key_display="←→", priority=True),
        Binding("right", "sample(1)", "Sample", show=False, priority=True),
        Binding("pagedown,right_square_bracket", "page(1)", "Units", key_display="[ ]", priority=True),
        Binding("pageup,left_square_bracket", "page(-1)", "Units", show=False, priority=True),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.sample = 0
        """Index of the validation sample shown."""
        self.page = 0
        """Which page of first-layer units is shown."""
        self.units_shown: list[int] = []
        """The units drawn now (indices into W1's columns)."""
        self.prediction: tuple[int, int, float] | None = None
        """(predicted class, label, probability of the predicted class) of the sample shown."""
        self._pictures: dict[int, np.ndarray] = {}
        self._image: np.ndarray | None = None
        self.zoom = 1
        """Characters a weight is drawn with, across (2 when all units fit at twice the size)."""

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("images")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#images-scroll").focus()

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    # -- public accessors (what is drawn, as numbers) ----------------------------------------

    def side(self) -> int | None:
        """The image side of the current data, or None when it is not image-like."""
        d = self.session.experiment.data
        return image_side(d.n_inputs, d.features is not None)

    def unit_picture(self, unit: int) -> np.ndarray:
        """The weights drawn as unit ``unit``'s picture (its column of W1 as a side x side image)."""
        return self._pictures[unit]

    def sample_image(self) -> np.ndarray | None:
        """The raw image of the sample shown."""
        return self._image

    # -- keys --------------------------------------------------------------------------------

    def action_sample(self, step: int) -> None:
        n = len(self.session.experiment.data.X_val) or 1
        self.sample = (self.sample + step) % n
        self.redraw()

    def action_page(self, step: int) -> None:
        self.page += step
        self.redraw()  # clamped in draw, where the page size is known

    # -- drawing -----------------------------------------------------------------------------

    def _palette(self) -> colormap.Palette:
        return colormap.select_palette(self.app.console.color_system, self.app.no_color)

    def draw(self, snap: Snapshot) -> None:
        side = self.side()
        if side is None:
            self._pictures, self._image, self.prediction, self.units_shown = {}, None, None, []
            self.update_text("#images-body", Text(
                "For image data only (square pixel inputs): try `nn-tui --dataset digits`",
                style="dim"))
            return
        d = self.session.experiment.data
        net = self.network_copy(snap)
        W1 = np.asarray(snap.params[0], dtype=float)
        n_units = W1.shape[1]
        palette = self._palette()
        scale = colormap.symmetric_scale(W1)
        pic_lines = (side + 1) // 2 if palette.uses_color else side

        # The sample.
        n_val = len(d.X_val)
        self.sample = min(max(0, self.sample), max(0, n_val - 1))
        left: list[Text] = []
        if n_val:
            x = d.X_val[self.sample:self.sample + 1]
            raw = x * d.standardizer.std + d.standardizer.mean
            self._image = raw.reshape(side, side)
            probs = np.asarray(net.forward(x), dtype=float)[0]
            label = int(d.y_val[self.sample])
            names = d.dataset.class_names
            if probs.size > 1:
                pred, p = int(np.argmax(probs)), float(probs.max())
            else:
                pred, p = int(probs[0] >= 0.5), float(max(probs[0], 1 - probs[0]))
            self.prediction = (pred, label, p)
            left.append(Text(f"sample {self.sample + 1}/{n_val}", style="bold"))
            left.append(Text("validation · ←→", style="dim"))
            left += [Text("  ") + line for line in gray_lines(self._image, not palette.uses_color)]
            left.append(Text(f"label {names[label] if label < len(names) else label}"))
            ok = pred == label
            left.append(Text(f"predicted {names[pred] if pred < len(names) else pred}",
                             style="green" if ok else "bold red"))
            left.append(Text(f"p {p:.2f} {'right' if ok else 'wrong'}", style="dim"))
        else:
            self._image, self.prediction = None, None
            left.append(Text("no validation samples", style="dim"))
        left_w = max(18, max(t.cell_len for t in left) + 2)

        # The grid of units.
        width = max(20, (self.size.width or 80) - 2)
        height = max(6, (self.size.height or 24) - 2)
        grid_w = max(side, width - left_w)
        head_lines = 2
        for zoom in (2, 1):  # twice the size when every unit fits on one page so
            per_row = max(1, (grid_w + _GAP) // (zoom * side + _GAP))
            rows = max(1, (height - head_lines) // (zoom * pic_lines + 1))
            per_page = per_row * rows
            if per_page >= n_units:
                break
        self.zoom = zoom
        pic_lines *= zoom
        cell_w = zoom * side + _GAP
        pages = max(1, -(-n_units // per_page))
        self.page = min(max(0, self.page), pages - 1)
        first = self.page * per_page
        self.units_shown = list(range(first, min(n_units, first + per_page)))
        self._pictures = {j: W1[:, j].reshape(side, side).copy() for j in self.units_shown}

        head = Text()
        head.append(f"Units {first + 1}-{first + len(self.units_shown)} of {n_units}", style="bold")
        head.append(f" · page {self.page + 1}/{pages} ([ ]) · first-layer weights (W1 columns) "
                    f"as {side}x{side} images", style="dim")
        legend = Text(f"one scale for all: ±{scale:.3g} · {palette.description}", style="dim")
        grid: list[Text] = []
        for r in range(0, len(self.units_shown), per_row):
            units = self.units_shown[r:r + per_row]
            label_line = Text()
            for j in units:
                label_line.append(f"#{j + 1}".ljust(cell_w)[:cell_w], style="dim")
            grid.append(label_line)
            pics = [picture_lines(np.kron(self._pictures[j], np.ones((zoom, zoom))), palette, scale)
                    for j in units]
            for k in range(pic_lines):
                line = Text()
                for pic in pics:
                    line.append_text(pic[k])
                    line.append(" " * _GAP)
                grid.append(line)

        body = Text()
        body.append_text(head)
        body.append("\n")
        body.append_text(legend)
        for i in range(max(len(left), len(grid))):
            body.append("\n")
            cell = left[i].copy() if i < len(left) else Text()
            cell.truncate(left_w, pad=True)
            body.append_text(cell)
            if i < len(grid):
                body.append_text(grid[i])
        body.no_wrap = True
        body.overflow = "ellipsis"
        self.update_text("#images-body", body)
