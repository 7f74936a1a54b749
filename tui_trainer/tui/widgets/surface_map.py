"""A 2-D loss surface as a terminal heatmap, with its minima, the start point and optimizer paths drawn over it.

Colours follow ``log(f - min f)``, so a narrow valley such as Rosenbrock's stands out from walls thousands of
times higher. The map uses the line API with half blocks (two grid rows per text line) where there is colour,
and one glyph per cell of a shading ramp without colour (``NO_COLOR``). The map's colours stay dark so that
the paths, drawn in the bright standard colours, read on top of it; every path also has its own letter (its
head is that letter, and without colour its trail too), so paths stay apart in 16 colours and in none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from ...engine.surfaces import Surface
from .colormap import half_block_style
from .lane_colors import RGB, rgb

__all__ = ["SurfaceMap", "TracedPath"]

_HALF_BLOCK = "▀"
_GLOBAL_MARK = "★"
_LOCAL_MARK = "☆"
_START_MARK = "◆"
_TRAIL = "•"
_GLYPH_RAMP = " .:-=+*#%"
"""Low to high, for terminals without colour."""

# Dark stops (low to high) so bright path colours stay readable on every level.
_SMOOTH_STOPS = ((0.0, (4, 6, 24)), (0.3, (20, 42, 110)), (0.65, (35, 110, 120)), (1.0, (125, 130, 85)))
_SMOOTH_LEVELS = 24
# The 16-colour map: black, blue, bright black, as the exact triplets of the standard palette (see colormap.py).
_ANSI16_LEVELS = ((0, 0, 0), (0, 0, 170), (85, 85, 85))


@dataclass(frozen=True)
class TracedPath:
    """One optimizer's path so far: the points it visited, first to last."""

    letter: str
    color: RGB
    points: np.ndarray
    """Shape ``(n, 2)``; a copy the widget may keep."""


@lru_cache(maxsize=1)
def _smooth_colors() -> tuple[Color, ...]:
    pos = np.linspace(0.0, 1.0, _SMOOTH_LEVELS)
    stops = np.array([p for p, _ in _SMOOTH_STOPS])
    rgb = np.array([c for _, c in _SMOOTH_STOPS], float)
    table = np.stack([np.interp(pos, stops, rgb[:, k]) for k in range(3)], axis=1)
    return tuple(Color.from_rgb(*(int(round(v)) for v in row)) for row in table)


def log_levels(values: np.ndarray, n_levels: int) -> np.ndarray:
    """Integer levels ``0 .. n_levels - 1`` of ``log10(f - min f + floor)``, the floor a tiny part of the range."""
    v = np.asarray(values, float)
    finite = np.isfinite(v)
    if not finite.any():
        return np.zeros(v.shape, dtype=np.intp)
    lo, hi = float(v[finite].min()), float(v[finite].max())
    floor = max((hi - lo) * 1e-5, 1e-12)
    logs = np.log10(np.where(finite, v, hi) - lo + floor)
    l_lo, l_hi = float(logs.min()), float(logs.max())
    if l_hi - l_lo <= 0:
        return np.zeros(v.shape, dtype=np.intp)
    return np.clip(((logs - l_lo) / (l_hi - l_lo) * n_levels).astype(np.intp), 0, n_levels - 1)


class SurfaceMap(Widget):
    """A surface's heatmap over its ``bounds``, its minima (★ global, ☆ local), a start (◆) and paths."""

    DEFAULT_CSS = """
    SurfaceMap {
        width: 1fr;
        height: 1fr;
        min-height: 6;
    }
    SurfaceMap > .surface-map--caption {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"surface-map--caption"}
    """``surface-map--caption``: the line under the map (bounds and marks)."""

    def __init__(self, surface: Surface, *, start: tuple[float, float] | None = None, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self.surface = surface
        self.start = tuple(surface.start) if start is None else tuple(start)
        self.paths: dict[str, TracedPath] = {}
        """The paths drawn, by lane key (for tests: the data, not the pixels)."""
        self._base: list[list[tuple[str, Style]]] | None = None
        self._lines: list[Strip] | None = None
        self._drawn_for: tuple | None = None
        """What ``_base`` and ``_lines`` were drawn for (size and colours): drawn again when that changes,
        even before the widget's Resize event arrives (a render can come first)."""

    # -- data ------------------------------------------------------------------------------------

    def set_surface(self, surface: Surface, start: tuple[float, float] | None = None) -> None:
        """Show another surface (or start point); forgets the paths."""
        self.surface = surface
        self.start = tuple(surface.start) if start is None else tuple(start)
        self.paths = {}
        self._base = None
        self._lines = None
        self.refresh()

    def set_paths(self, paths: Mapping[str, TracedPath]) -> None:
        """Draw these paths (in this order, the first on top)."""
        self.paths = dict(paths)
        self._lines = None
        self.refresh()

    # -- geometry --------------------------------------------------------------------------------

    @property
    def _glyphs(self) -> bool:
        return self.app.no_color or self.app.console.color_system is None

    @property
    def map_size(self) -> tuple[int, int]:
        """(columns, text lines) of the map itself: the widget less its caption line."""
        width, height = self.content_size
        return max(width, 0), max(height - 1, 0)

    def cell_of(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(column, text line, half: 0 upper / 1 lower) of a point, or None outside the bounds."""
        cols, lines = self.map_size
        if cols <= 0 or lines <= 0 or not (np.isfinite(x) and np.isfinite(y)):
            return None
        (x0, x1), (y0, y1) = self.surface.bounds
        rows = lines if self._glyphs else 2 * lines
        col = int((x - x0) / (x1 - x0) * cols)
        row = int((y1 - y) / (y1 - y0) * rows)
        if not (0 <= col < cols and 0 <= row < rows):
            return None
        return (col, row, 0) if self._glyphs else (col, row // 2, row % 2)

    # -- drawing ---------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._base = None
        self._lines = None

    def _build_base(self) -> list[list[tuple[str, Style]]]:
        """The heatmap alone, as (character, style) cells, one list per text line."""
        cols, lines = self.map_size
        (x0, x1), (y0, y1) = self.surface.bounds
        glyphs = self._glyphs
        rows = lines if glyphs else 2 * lines
        if cols <= 0 or rows <= 0:
            return []
        xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
        ys = y1 - (np.arange(rows) + 0.5) * (y1 - y0) / rows
        with np.errstate(all="ignore"):
            values = self.surface.f(xs[None, :], ys[:, None])
        if glyphs:
            levels = log_levels(values, len(_GLYPH_RAMP))
            plain = Style()
            return [[(_GLYPH_RAMP[k], plain) for k in row] for row in levels]
        if self.app.console.color_system in ("standard", "windows"):
            colors = tuple(Color.from_rgb(*t) for t in _ANSI16_LEVELS)
        else:
            colors = _smooth_colors()
        levels = log_levels(values, len(colors))
        base = []
        for line in range(lines):
            top, bottom = levels[2 * line], levels[2 * line + 1]
            base.append([(_HALF_BLOCK, half_block_style(colors[t], colors[b])) for t, b in zip(top, bottom)])
        return base

    def _overlay(self, cells: list[list[tuple[str, Style]]]) -> None:
        """Draw trails, then the start and the minima, then the heads, over ``cells``."""
        glyphs = self._glyphs
        base = self._base
        assert base is not None

        def put(x: float, y: float, char: str, fg: str | None, bold: bool = False) -> None:
            where = self.cell_of(x, y)
            if where is None:
                return
            col, line, _ = where
            _, style = base[line][col]  # the map's colour there, whatever was drawn over it
            bg = None if glyphs else (style.bgcolor if where[2] else style.color)
            cells[line][col] = (char, Style(color=fg, bgcolor=bg, bold=bold))

        for path in reversed(list(self.paths.values())):
            color = rgb(path.color)
            trail = path.letter.lower() if glyphs else _TRAIL
            for x, y in path.points[:-1]:
                put(x, y, trail, color)
        put(*self.start, _START_MARK, "bright_white", bold=True)
        for m in self.surface.minima:
            put(m.x, m.y, _GLOBAL_MARK if m.label == "global" else _LOCAL_MARK, "bright_white", bold=True)
        for path in reversed(list(self.paths.values())):
            if len(path.points):
                put(*path.points[-1], path.letter, rgb(path.color), bold=True)

    def _caption(self, width: int) -> Strip:
        (x0, x1), (y0, y1) = self.surface.bounds
        marks = f"{_GLOBAL_MARK} min"
        if any(m.label == "local" for m in self.surface.minima):
            marks += f" {_LOCAL_MARK} local"
        text = f"x {x0:g}..{x1:g}  y {y0:g}..{y1:g}  {marks} {_START_MARK} start  colour: log f"
        for variant in (text, f"x {x0:g}..{x1:g} y {y0:g}..{y1:g} {marks} {_START_MARK} start", f"{marks} {_START_MARK} start"):
            if len(variant) <= width:
                text = variant
                break
        style = self.get_component_rich_style("surface-map--caption")
        return Strip([Segment(text[:width], style)]).adjust_cell_length(width)

    def _build_lines(self) -> list[Strip]:
        if self._base is None:
            self._base = self._build_base()
        cells = [list(line) for line in self._base]
        if cells:
            self._overlay(cells)
        strips = []
        for line in cells:
            segments: list[Segment] = []
            for char, style in line:
                if segments and segments[-1].style is style and char == _HALF_BLOCK and segments[-1].text[-1:] == char:
                    segments[-1] = Segment(segments[-1].text + char, style)
                else:
                    segments.append(Segment(char, style))
            strips.append(Strip(segments))
        width = self.content_size.width
        strips.append(self._caption(width))
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.rich_style
        drawn_for = (self.content_size, self._glyphs, self.app.console.color_system)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._base = None
            self._lines = None
        if self._lines is None:
            self._lines = self._build_lines()
        if y < len(self._lines):
            # Every segment gets a style: Textual's no-colour filter cannot take a segment without one.
            return self._lines[y].adjust_cell_length(width, base).apply_style(base)
        return Strip.blank(width, base)

    def plain_lines(self) -> list[str]:
        """The text of every line as drawn (for tests)."""
        return [self.render_line(y).text for y in range(self.content_size.height)]
