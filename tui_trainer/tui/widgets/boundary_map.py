"""A network's output over the input plane as colours, with the data points on top.

Each character shows two grid cells with an upper half block (foreground = the upper cell,
background = the lower one), so an ``nx`` x ``ny`` grid fills ``nx`` columns and ``ny / 2``
lines, and a cell is about as wide as it is tall. Classification colours each cell by the most
likely class, brighter where the network is surer (``discrete``: each class in one colour); regression uses the diverging map of the
weight heatmaps. Points are drawn over their cell: ``●`` training, ``○`` validation, in a light
version of their class's colour (or of their target value). Without colour, the regions become
glyphs and the points class digits (validation points in reverse video).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from . import colormap

__all__ = ["BoundaryMap", "MapPoints", "class_color", "point_color", "TRAIN_MARK", "VAL_MARK"]

TRAIN_MARK = "●"
VAL_MARK = "○"
_HALF = "▀"

_CLASS_RGB = [
    (35, 105, 215), (215, 100, 20), (40, 160, 70), (160, 60, 190), (200, 40, 60),
    (20, 160, 170), (190, 170, 30), (220, 90, 160), (130, 95, 55), (130, 130, 130),
]
"""Class colours: blue and orange first (the heatmaps' negative and positive), then others."""
_NEUTRAL = (38, 38, 44)
_STRENGTHS = 6
"""Brightness levels of a region: how sure the network is of the class there."""

# 16-colour terminals: exact triplets of the standard palette (see colormap), dark for regions,
# bright for points.
_ANSI_REGION = [(0, 0, 170), (170, 85, 0), (0, 170, 0), (170, 0, 170), (170, 0, 0), (0, 170, 170),
                (85, 85, 85), (170, 170, 170)]
_ANSI_POINT = [(85, 85, 255), (255, 255, 85), (85, 255, 85), (255, 85, 255), (255, 85, 85), (85, 255, 255),
               (255, 255, 255), (0, 0, 0)]
_NO_COLOR_REGIONS = "·:░=+-~*#%"


@lru_cache(maxsize=512)
def class_color(k: int, strength: int, system: str) -> Color:
    """The region colour of class ``k`` at ``strength`` (0 .. _STRENGTHS - 1)."""
    if system == "ansi16":
        return Color.from_rgb(*_ANSI_REGION[k % len(_ANSI_REGION)])
    rgb = _CLASS_RGB[k % len(_CLASS_RGB)]
    t = 0.3 + 0.7 * strength / (_STRENGTHS - 1)
    return Color.from_rgb(*(int(round(n + (c - n) * t * 0.8)) for n, c in zip(_NEUTRAL, rgb)))


@lru_cache(maxsize=64)
def point_color(k: int, system: str) -> Color:
    """The colour of a class-``k`` point: a light version of the class colour."""
    if system == "ansi16":
        return Color.from_rgb(*_ANSI_POINT[k % len(_ANSI_POINT)])
    rgb = _CLASS_RGB[k % len(_CLASS_RGB)]
    return Color.from_rgb(*(int(round(c + (255 - c) * 0.55)) for c in rgb))


@dataclass
class MapPoints:
    """Data points in grid coordinates."""

    col: np.ndarray
    """Grid column of each point (0 .. nx - 1)."""
    row: np.ndarray
    """Grid row of each point (0 .. ny - 1, 0 at the top)."""
    label: np.ndarray
    """Class index (classification) or target value (regression)."""
    validation: np.ndarray
    """True for validation points."""


class BoundaryMap(Widget):
    """The output of a network over a grid (``set_classes`` / ``set_values``) and the points."""

    DEFAULT_CSS = """
    BoundaryMap {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._keys: np.ndarray | None = None  # (ny, nx) region keys: class * _STRENGTHS + strength, or level
        self._mode = "classes"
        self._points: dict[int, dict[int, tuple[str, int, bool, int]]] = {}  # line -> col -> (mark, key, val, row)
        self._strips: dict[int, Strip] = {}
        self._styles: dict[tuple, Style] = {}  # per data: (top, bottom) or ("p", key, bg) -> style
        self._hint = ""
        self._system: str | None = None
        self.discrete = False
        """Class colours only (every region at full strength), not shaded by how sure it is."""

    # -- data ------------------------------------------------------------------------------

    @property
    def grid_size(self) -> tuple[int, int]:
        """``(nx, ny)``: the grid that fills the widget (two cells per character, vertically)."""
        width, height = self.content_size
        per_line = 1 if self.color_system == "glyphs" else 2
        return max(1, width), max(1, height * per_line)

    @property
    def cell_aspect(self) -> int:
        """How many times taller than wide one grid cell is: 1 with half blocks, 2 with glyphs."""
        return 2 if self.color_system == "glyphs" else 1

    @property
    def color_system(self) -> str:
        """``smooth`` (truecolor / 256), ``ansi16`` or ``glyphs`` (no colour)."""
        if self._system is None:
            try:
                app = self.app
            except Exception:  # not mounted yet
                return "smooth"
            self._system = colormap.select_palette(app.console.color_system, app.no_color).name
        return self._system

    def set_classes(self, probs: np.ndarray, points: MapPoints | None) -> None:
        """Show class probabilities ``(ny, nx, k)`` (``k = 1``: P(class 1) of a binary problem)."""
        probs = np.asarray(probs, dtype=np.float64)
        if probs.shape[2] == 1:
            p1 = probs[:, :, 0]
            cls = (p1 >= 0.5).astype(np.intp)
            sure = np.abs(2.0 * p1 - 1.0)
        else:
            k = probs.shape[2]
            cls = probs.argmax(axis=2)
            sure = (probs.max(axis=2) - 1.0 / k) / (1.0 - 1.0 / k)
        if self.discrete:
            strength = np.full(cls.shape, _STRENGTHS - 1, dtype=np.intp)
        else:
            strength = np.clip(np.floor(np.nan_to_num(sure) * _STRENGTHS), 0, _STRENGTHS - 1).astype(np.intp)
        self._show(cls * _STRENGTHS + strength, "classes", points, lambda labels: np.asarray(labels).astype(int))

    def set_values(self, values: np.ndarray, center: float, scale: float, points: MapPoints | None) -> None:
        """Show a regression output ``(ny, nx)`` on the diverging map ``center -+ scale``."""
        palette = self._palette()
        keys = colormap.values_to_levels(np.asarray(values) - center, scale, palette.n_levels)

        def levels(labels) -> np.ndarray:
            return colormap.values_to_levels(np.asarray(labels, dtype=float) - center, scale, palette.n_levels)

        self._show(keys, "values", points, levels)

    def clear(self, hint: str = "") -> None:
        """No map: show ``hint`` in the middle instead."""
        self._keys = None
        self._points = {}
        self._hint = hint
        self._changed()

    def _show(self, keys: np.ndarray, mode: str, points: MapPoints | None, keys_of) -> None:
        """Take new region keys and points; repaint only the lines that changed.

        While training most lines keep their colours from one redraw to the next, and a full
        repaint of the map is the costliest thing this view does.
        """
        old_keys, old_points = self._keys, self._points
        same_frame = mode == self._mode and old_keys is not None and old_keys.shape == keys.shape
        self._mode, self._keys = mode, keys
        self._points = self._place(points, keys_of)
        if not same_frame:
            self._changed()
            return
        per_line = 1 if self.color_system == "glyphs" else 2
        width = self.content_size.width
        row_changed = np.any(keys != old_keys, axis=1)
        if per_line == 2 and len(row_changed) % 2:
            row_changed = np.append(row_changed, False)
        changed = row_changed.reshape(-1, per_line).any(axis=1)
        lines = len(changed)
        regions = []
        for y in range(lines):
            if changed[y] or self._points.get(y) != old_points.get(y):
                self._strips.pop(y, None)
                regions.append(Region(0, y, width, 1))
        if len(regions) > lines // 2:
            self.refresh()
        elif regions:
            self.refresh(*regions)

    def _place(self, points: MapPoints | None, keys_of) -> dict[int, dict[int, tuple[str, int, bool, int]]]:
        """Points by line and column; a validation point wins a cell shared with a training one."""
        placed: dict[int, dict[int, tuple[str, int, bool, int]]] = {}
        if points is None or self._keys is None or not len(points.col):
            return placed
        ny, nx = self._keys.shape
        per_line = 1 if self.color_system == "glyphs" else 2
        col, row = np.asarray(points.col), np.asarray(points.row)
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        order = np.flatnonzero(inside)[np.argsort(points.validation[inside], kind="stable")]
        keys = keys_of(np.asarray(points.label)[order])
        for c, r, val, key in zip(col[order].tolist(), row[order].tolist(),
                                  np.asarray(points.validation)[order].tolist(), keys.tolist()):
            placed.setdefault(r // per_line, {})[c] = (VAL_MARK if val else TRAIN_MARK, key, val, r)
        return placed

    def on_resize(self) -> None:
        self._strips = {}

    def _changed(self) -> None:
        self._strips = {}
        self._styles = {}
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------

    def _palette(self) -> colormap.Palette:
        system = self.color_system
        return {"ansi16": colormap.ANSI16, "glyphs": colormap.GLYPHS}.get(system, colormap.SMOOTH)

    def _region_color(self, key: int) -> Color:
        if self._mode == "values":
            colors = self._palette().colors
            return colors[min(key, len(colors) - 1)] if colors else Color.default()
        return class_color(key // _STRENGTHS, key % _STRENGTHS, self.color_system)

    def _point_style(self, key: int, background: Color | None) -> Style:
        if self._mode == "values":
            color = self._region_color(key)
            fg = colormap.contrast_color(color) if background == color else color
            return Style(color=fg, bgcolor=background, bold=True)
        return Style(color=point_color(key, self.color_system), bgcolor=background, bold=True)

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._build_line(y, width)
        return strip

    def _build_line(self, y: int, width: int) -> Strip:
        base = self.rich_style
        keys = self._keys
        if keys is None:
            if y == self.content_size.height // 2 and self._hint:
                text = self._hint[:width].center(width)
                return Strip([Segment(text, base + Style(dim=True, italic=True))], width)
            return Strip.blank(width, base)
        glyphs = self.color_system == "glyphs"
        per_line = 1 if glyphs else 2
        ny, nx = keys.shape
        if y * per_line >= ny:
            return Strip.blank(width, base)
        segments: list[Segment] = []
        if glyphs:
            row = keys[y]
            chars = []
            line_points = self._points.get(y, {})
            for x in range(min(nx, width)):
                point = line_points.get(x)
                if point is not None:
                    if chars:
                        segments.append(Segment("".join(chars), base))
                        chars = []
                    mark = self._glyph_mark(point)
                    segments.append(Segment(mark, base + Style(bold=True, reverse=point[2])))
                else:
                    chars.append(self._glyph_region(int(row[x])))
            if chars:
                segments.append(Segment("".join(chars), base))
            return Strip(segments).adjust_cell_length(width, base)
        top = keys[2 * y, :width]
        bottom = keys[2 * y + 1, :width] if 2 * y + 1 < ny else np.full_like(top, -1)
        n = len(top)
        # One segment per run of equal (top, bottom) cells, cut again at every point.
        pair = top.astype(np.int64) * 4096 + (bottom.astype(np.int64) + 1)
        cuts = set((np.flatnonzero(pair[1:] != pair[:-1]) + 1).tolist())
        line_points = self._points.get(y, {})
        marks = sorted(x for x in line_points if x < n)
        for x in marks:
            cuts.add(x)
            cuts.add(x + 1)
        bounds = [0, *sorted(c for c in cuts if 0 < c < n), n]
        styles = self._styles
        point_at = line_points
        top_l, bottom_l = top.tolist(), bottom.tolist()
        for x, end in zip(bounds, bounds[1:]):
            point = point_at.get(x)
            if point is not None:
                mark, key, _, row = point
                bg = int(keys[row, x])
                style = styles.get(("p", key, bg))
                if style is None:
                    style = styles[("p", key, bg)] = base + self._point_style(key, self._region_color(bg))
                segments.append(Segment(mark, style))
                continue
            t, b = top_l[x], bottom_l[x]
            style = styles.get((t, b))
            if style is None:
                top_color = self._region_color(t)
                if b < 0:
                    style = base + colormap.half_block_style(top_color, base.bgcolor)
                elif b == t:
                    style = base + colormap.fill_style(top_color)
                else:
                    style = base + colormap.half_block_style(top_color, self._region_color(b))
                styles[(t, b)] = style
            segments.append(Segment((" " if b == t else _HALF) * (end - x), style))
        return Strip(segments).adjust_cell_length(width, base)

    def _glyph_region(self, key: int) -> str:
        if self._mode == "values":
            glyphs = colormap.GLYPHS.glyphs or ("?",)
            return glyphs[min(key, len(glyphs) - 1)]
        return _NO_COLOR_REGIONS[(key // _STRENGTHS) % len(_NO_COLOR_REGIONS)]

    def _glyph_mark(self, point) -> str:
        mark, key, _, _ = point
        if self._mode == "values":
            return mark
        return str(key % 10)

    @property
    def region_keys(self) -> np.ndarray | None:
        """The drawn grid's region keys ``(ny, nx)``: ``class * 6 + strength`` or a value level (for tests)."""
        return None if self._keys is None else self._keys.copy()

    def styled_lines(self) -> list[list[Segment]]:
        """The segments of every line, text and style (for tests)."""
        width, height = self.content_size
        return [list(self.render_line(y)) for y in range(height)]

    def plain_lines(self) -> list[str]:
        """The text of every line (for tests)."""
        width, height = self.content_size
        return [self.render_line(y).text for y in range(height)]
