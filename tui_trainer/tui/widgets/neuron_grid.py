"""Small pictures of every unit's output over the input plane, one group of them per layer.

Each thumbnail is ``2h`` characters wide and ``h`` lines tall; with colour a character shows two
grid cells with an upper half block (foreground = the upper cell, background = the lower one), so
its cells are square; without colour (``NO_COLOR``) one cell a character, drawn with the shade
glyphs of ``colormap.GLYPHS``. A layer is a header line and its thumbnails in rows that wrap at
the widget's width; the thumbnail size is the largest that lets every layer fit, and when even the
smallest does not, the picture scrolls to keep the picked unit (the cursor, between two bars) in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from . import colormap

__all__ = ["LayerPictures", "NeuronGrid", "thumb_layout"]

_HALF = "▀"
_SIZES = (8, 7, 6, 5, 4, 3)
"""Thumbnail heights in lines, largest first (the width is twice the height)."""
_CURSOR = "┃"


@dataclass
class LayerPictures:
    """One layer's thumbnails."""

    label: str
    """Header line, e.g. ``layer 1 · tanh · 16 units``."""
    values: np.ndarray
    """``(units, ny, nx)``: each unit's output over the grid, row 0 at the top."""
    center: float
    """The value drawn as the map's middle (0, or 0.5 for sigmoid outputs)."""
    scale: float
    """``center -+ scale`` are the map's ends."""


def thumb_layout(width: int, height: int, counts: list[int]) -> tuple[int, int, int]:
    """``(w, h, per_row)``: the largest thumbnail (``w = 2h`` characters, ``h`` lines) whose rows,
    one header line per layer, fit ``height``; the smallest when none does."""
    for h in _SIZES:
        w = 2 * h
        per_row = max(1, (width - 1) // (w + 1))
        lines = sum(1 + -(-n // per_row) * h for n in counts)
        if lines <= height:
            return w, h, per_row
    h = _SIZES[-1]
    return 2 * h, h, max(1, (width - 1) // (2 * h + 1))


class NeuronGrid(Widget):
    """Thumbnails by layer (``set_layers``) and a cursor on one unit (``set_cursor``)."""

    DEFAULT_CSS = """
    NeuronGrid {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._layers: list[LayerPictures] = []
        self._cursor = (0, 0)
        self._lines: list[Strip] | None = None
        self._cursor_lines = (0, 0)
        self.offset_y = 0
        """The first content line shown (scrolled when the layers are taller than the widget)."""
        self._palette: colormap.Palette | None = None

    @property
    def palette(self) -> colormap.Palette:
        if self._palette is None:
            try:
                app = self.app
            except Exception:  # not mounted yet
                return colormap.SMOOTH
            self._palette = colormap.select_palette(app.console.color_system, app.no_color)
        return self._palette

    def layout_for(self, counts: list[int]) -> tuple[int, int, int]:
        """``(w, h, per_row)`` of the thumbnails of layers of ``counts`` units at the present size."""
        width, height = self.content_size
        return thumb_layout(max(1, width), max(1, height), counts)

    def cells_for(self, counts: list[int]) -> tuple[int, int]:
        """``(nx, ny)``: the grid one thumbnail shows (two cells a character vertically with colour)."""
        w, h, _ = self.layout_for(counts)
        return w, h * (2 if self.palette.uses_color else 1)

    @property
    def cell_aspect(self) -> int:
        """How many times taller than wide a cell is: 1 with half blocks, 2 with glyphs."""
        return 1 if self.palette.uses_color else 2

    def set_layers(self, layers: list[LayerPictures]) -> None:
        self._layers = layers
        self._changed()

    def set_cursor(self, layer: int, unit: int) -> None:
        self._cursor = (layer, unit)
        self._changed()

    def on_resize(self) -> None:
        self._lines = None

    def _changed(self) -> None:
        self._lines = None
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if self._lines is None:
            self._lines = self._build(width)
            top, bottom = self._cursor_lines
            if len(self._lines) <= height:
                self.offset_y = 0
            else:
                self.offset_y = min(max(self.offset_y, bottom - height), top, len(self._lines) - height)
                self.offset_y = max(0, self.offset_y)
        y += self.offset_y
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.rich_style)

    def plain_lines(self) -> list[str]:
        """The text of every line shown (for tests)."""
        width, height = self.content_size
        return [self.render_line(y).text for y in range(height)]

    def _build(self, width: int) -> list[Strip]:
        base = self.rich_style
        palette = self.palette
        counts = [len(layer.values) for layer in self._layers]
        w, h, per_row = self.layout_for(counts)
        lines: list[Strip] = []
        cur_layer, cur_unit = self._cursor
        self._cursor_lines = (0, 0)
        cursor_style = base + Style(bold=True, color="bright_yellow" if palette.uses_color else None)
        for li, layer in enumerate(self._layers):
            header_style = base + Style(bold=li == cur_layer, dim=li != cur_layer)
            lines.append(Strip([Segment(layer.label[:width], header_style)]).adjust_cell_length(width, base))
            if li == cur_layer:
                self._cursor_lines = (len(lines) - 1, len(lines))
            n = len(layer.values)
            levels = colormap.values_to_levels(layer.values - layer.center, layer.scale, palette.n_levels)
            for start in range(0, n, per_row):
                units = range(start, min(n, start + per_row))
                if li == cur_layer and cur_unit in units:
                    self._cursor_lines = (self._cursor_lines[0], len(lines) + h)
                for row in range(h):
                    segments: list[Segment] = []
                    for u in units:
                        picked = li == cur_layer and u == cur_unit
                        left_picked = picked or (li == cur_layer and u - 1 == cur_unit and u > start)
                        segments.append(Segment(_CURSOR, cursor_style) if left_picked else Segment(" ", base))
                        segments.extend(self._thumb_line(levels[u], row, w, base, palette))
                    last = units[-1]
                    if li == cur_layer and last == cur_unit:
                        segments.append(Segment(_CURSOR, cursor_style))
                    lines.append(Strip(segments).adjust_cell_length(width, base))
        return lines

    @staticmethod
    def _thumb_line(levels: np.ndarray, row: int, w: int, base: Style, palette: colormap.Palette) -> list[Segment]:
        ny, nx = levels.shape
        if not palette.uses_color:
            glyphs = palette.glyphs
            cells = levels[row] if row < ny else np.full(nx, palette.middle)
            text = "".join(palette.nan_glyph if k >= len(glyphs) else glyphs[k] for k in cells[:w].tolist())
            return [Segment(text.ljust(w), base)]
        colors = palette.colors

        def color(k: int):
            return palette.nan_color if k >= len(colors) else colors[k]

        top = levels[2 * row] if 2 * row < ny else None
        bottom = levels[2 * row + 1] if 2 * row + 1 < ny else None
        segments = []
        for x in range(w):
            if top is None or x >= nx:
                segments.append(Segment(" ", base))
                continue
            t = color(int(top[x]))
            b = color(int(bottom[x])) if bottom is not None else base.bgcolor
            segments.append(Segment(_HALF, base + colormap.half_block_style(t, b)))
        return segments
