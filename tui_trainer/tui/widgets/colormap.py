"""Diverging colour maps for signed values such as network weights.

Pure functions and small immutable tables, no Textual: values go to integer *levels* (vectorised with NumPy),
levels go to Rich colours, glyphs or styles (cached). Every palette has an odd number of levels, so zero lands on
the exact middle level and the map is symmetric: ``level(-v) == n_levels - 1 - level(v)``.

Three palettes cover the terminals the app meets:

- ``smooth``: 65 truecolor levels from light blue through dark grey to orange (Textual downgrades them to the
  256-colour cube on its own).
- ``ansi16``: 5 levels taken from the 16 standard colours, for ``TERM=xterm`` and other 16-colour terminals,
  where a smooth map would collapse into a few muddy, look-alike colours.
- ``glyphs``: no colour at all (``NO_COLOR``): 9 levels drawn with characters, shading blocks for positive
  values and dashes of growing weight for negative ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.style import Style

__all__ = [
    "Palette",
    "SMOOTH",
    "ANSI16",
    "ANSI16_WINDOWS",
    "GLYPHS",
    "select_palette",
    "symmetric_scale",
    "partition_percentile",
    "values_to_levels",
    "level_center",
    "half_block_style",
    "fill_style",
    "contrast_color",
    "block_average",
    "smooth_rgb_table",
]

# Stops of the smooth map, position in [-1, 1] -> RGB. Blue/orange is readable with the common red-green colour
# blindnesses; the dark-grey middle keeps near-zero weights quiet and still visible on a black background.
_SMOOTH_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (-1.00, (130, 195, 255)),
    (-0.50, (35, 105, 215)),
    (0.00, (52, 52, 58)),
    (0.50, (215, 100, 20)),
    (1.00, (255, 205, 110)),
)
SMOOTH_LEVELS = 65
"""Number of levels of the smooth map (odd, so that zero is a level of its own)."""


def smooth_rgb_table(n_levels: int = SMOOTH_LEVELS) -> np.ndarray:
    """Return an ``(n_levels, 3)`` uint8 table of the smooth diverging map, from -scale to +scale."""
    if n_levels < 3 or n_levels % 2 == 0:
        raise ValueError(f"n_levels must be odd and >= 3, got {n_levels}")
    positions = np.linspace(-1.0, 1.0, n_levels)
    stops = np.array([p for p, _ in _SMOOTH_STOPS])
    rgb = np.array([c for _, c in _SMOOTH_STOPS], dtype=float)
    table = np.stack([np.interp(positions, stops, rgb[:, k]) for k in range(3)], axis=1)
    return np.rint(table).astype(np.uint8)


@dataclass(frozen=True)
class Palette:
    """A discrete diverging map: ``n_levels`` levels from most negative to most positive.

    Colour palettes set ``colors`` (and draw two values per character with half blocks); the glyph palette sets
    ``glyphs`` (one value per character) and leaves the colours ``None``.
    """

    name: str
    """Short name: "smooth", "ansi16" or "glyphs"."""
    colors: tuple[Color, ...] | None
    """One Rich colour per level, or None for the glyph palette."""
    glyphs: tuple[str, ...] | None
    """One character per level for the glyph palette, else None."""
    nan_color: Color | None
    """Colour for NaN / infinite values."""
    nan_glyph: str
    """Glyph for NaN / infinite values in the glyph palette."""
    highlight: Color | None
    """Colour of the cursor where it covers only half a character."""
    description: str
    """One line for the legend: how to read the palette."""

    @property
    def n_levels(self) -> int:
        """Number of value levels (odd)."""
        if self.colors is not None:
            return len(self.colors)
        assert self.glyphs is not None
        return len(self.glyphs)

    @property
    def middle(self) -> int:
        """The level of zero."""
        return self.n_levels // 2

    @property
    def uses_color(self) -> bool:
        """True for colour palettes (drawn with half blocks), False for the glyph palette."""
        return self.colors is not None


def _triplet_colors(triplets: list[tuple[int, int, int]]) -> tuple[Color, ...]:
    return tuple(Color.from_rgb(*t) for t in triplets)


SMOOTH = Palette(
    name="smooth",
    colors=_triplet_colors([tuple(int(v) for v in row) for row in smooth_rgb_table()]),
    glyphs=None,
    nan_color=Color.from_rgb(255, 0, 255),
    nan_glyph="?",
    highlight=Color.from_rgb(255, 255, 255),
    description="blue negative, grey zero, orange positive",
)
"""Truecolor (and 256-colour) palette."""

# The 16-colour palettes use the exact RGB triplets of Rich's standard (and Windows) palettes rather than ANSI
# colour names: Textual turns ANSI names into its theme's truecolor and then back to the nearest standard colour,
# which maps "blue" and "bright_blue" to the same colour. A triplet of the palette itself round-trips exactly.
# Levels: bright blue, blue, bright black (grey), yellow (brown/orange on many terminals), bright yellow.
ANSI16 = Palette(
    name="ansi16",
    colors=_triplet_colors([(85, 85, 255), (0, 0, 170), (85, 85, 85), (170, 85, 0), (255, 255, 85)]),
    glyphs=None,
    nan_color=Color.from_rgb(255, 85, 255),
    nan_glyph="?",
    highlight=Color.from_rgb(255, 255, 255),
    description="blue negative, grey zero, yellow positive",
)
"""16-colour palette for the "standard" colour system."""

ANSI16_WINDOWS = Palette(
    name="ansi16",
    colors=_triplet_colors([(59, 120, 255), (0, 55, 218), (118, 118, 118), (193, 156, 0), (249, 241, 165)]),
    glyphs=None,
    nan_color=Color.from_rgb(180, 0, 158),
    nan_glyph="?",
    highlight=Color.from_rgb(242, 242, 242),
    description="blue negative, grey zero, yellow positive",
)
"""16-colour palette for the legacy "windows" colour system (same colour indices as ``ANSI16``)."""

GLYPHS = Palette(
    name="glyphs",
    colors=None,
    glyphs=("■", "≡", "=", "-", "·", "░", "▒", "▓", "█"),
    nan_color=None,
    nan_glyph="?",
    highlight=None,
    description="negative ■≡=-  zero ·  positive ░▒▓█",
)
"""No-colour palette: one character per value."""

_PALETTES = {"smooth": SMOOTH, "ansi16": ANSI16, "glyphs": GLYPHS}


def select_palette(color_system: str | None, no_color: bool = False, *, override: str | None = None) -> Palette:
    """Pick the palette for a console colour system.

    Args:
        color_system: Rich's ``Console.color_system``: "truecolor", "256", "standard", "windows" or None.
        no_color: True when the app runs with ``NO_COLOR`` (Textual's ``App.no_color``).
        override: "smooth", "ansi16" or "glyphs" to force a palette.
    """
    if override is not None:
        try:
            return _PALETTES[override]
        except KeyError:
            raise ValueError(f"unknown palette {override!r}; expected one of {sorted(_PALETTES)}") from None
    if no_color or color_system is None:
        return GLYPHS
    if color_system == "standard":
        return ANSI16
    if color_system == "windows":
        return ANSI16_WINDOWS
    return SMOOTH


_SCALE_SAMPLE = 32768
"""Above this many values the percentile is estimated from an evenly strided sample (exact below it)."""


def partition_percentile(a: np.ndarray, q: float) -> float:
    """``np.percentile(a, q)`` (linear interpolation) of a non-empty 1-D array, by partition:
    ``np.percentile`` loads ``numpy.ma`` (~80 ms) on first use, which the first frame would wait for."""
    position = q / 100.0 * (a.size - 1)
    lo = int(position)
    hi = min(lo + 1, a.size - 1)
    part = np.partition(a, [lo, hi])
    return float(part[lo] + (part[hi] - part[lo]) * (position - lo))


def symmetric_scale(values: np.ndarray, percentile: float = 99.0) -> float:
    """Return the scale ``s`` of a symmetric map: the given percentile of ``|values|`` (finite values only).

    Large arrays are sampled with a fixed stride (a colour scale needs no more precision, and a full partition of
    a 784x256 matrix costs a few milliseconds). Falls back to the largest ``|value|``, then to 1.0, so the result
    is always positive and finite.
    """
    v = np.asarray(values, dtype=float)
    a = v.ravel()
    if a.size > _SCALE_SAMPLE:
        stride = a.size // _SCALE_SAMPLE
        if v.ndim == 2 and stride % v.shape[1] == 0:
            stride += 1  # do not sample a single column of a matrix
        a = a[::stride]
    a = np.abs(a)
    if not np.isfinite(a).all():
        a = a[np.isfinite(a)]
    if a.size == 0:
        return 1.0
    s = partition_percentile(a, percentile)
    if not s > 0.0:
        s = float(a.max())
        if not s > 0.0:
            finite = np.abs(v[np.isfinite(v)])
            s = float(finite.max()) if finite.size else 0.0
    return s if s > 0.0 else 1.0


def values_to_levels(values: np.ndarray, scale: float, n_levels: int) -> np.ndarray:
    """Map values to integer levels ``0 .. n_levels - 1`` (NaN and infinities to ``n_levels``).

    ``-scale`` and below go to level 0, zero to the middle level, ``+scale`` and above to the top level. The
    rounding is done on ``|value|`` so the map is exactly symmetric about zero.
    """
    half = n_levels // 2
    if not (scale > 0.0 and np.isfinite(scale)):
        scale = 1.0
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    safe = np.where(finite, v, 0.0)
    steps = np.floor(np.minimum(np.abs(safe) / scale, 1.0) * half + 0.5)
    levels = (half + np.sign(safe) * steps).astype(np.intp)
    if not finite.all():
        levels = np.where(finite, levels, n_levels)
    return levels


def level_center(level: int, scale: float, n_levels: int) -> float:
    """The value at the centre of a level (the inverse of ``values_to_levels`` on the level grid)."""
    half = n_levels // 2
    return (level - half) / half * scale


@lru_cache(maxsize=16384)
def half_block_style(top: Color | None, bottom: Color | None) -> Style:
    """Style of an upper half block ``▀`` showing ``top`` above ``bottom``."""
    return Style(color=top, bgcolor=bottom)


@lru_cache(maxsize=1024)
def fill_style(color: Color | None) -> Style:
    """Style of a space filled with one colour (cheaper on the wire than a half block of two equal colours)."""
    return Style(bgcolor=color)


@lru_cache(maxsize=1024)
def contrast_color(color: Color | None) -> Color:
    """Black or white, whichever reads better on ``color``."""
    if color is None or color.triplet is None:
        return Color.from_rgb(255, 255, 255)
    r, g, b = color.triplet
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return Color.from_rgb(0, 0, 0) if luminance > 140 else Color.from_rgb(255, 255, 255)


def block_average(matrix: np.ndarray, row_factor: int, col_factor: int) -> np.ndarray:
    """Average ``row_factor x col_factor`` blocks of a 2-D array (the last blocks may be partial).

    NaNs propagate into their block, so a diverged weight stays visible after downsampling.
    """
    m = np.asarray(matrix, dtype=float)
    if row_factor <= 1 and col_factor <= 1:
        return m
    rows, cols = m.shape
    row_starts = np.arange(0, rows, row_factor)
    col_starts = np.arange(0, cols, col_factor)
    sums = np.add.reduceat(np.add.reduceat(m, row_starts, axis=0), col_starts, axis=1)
    row_counts = np.diff(np.append(row_starts, rows))
    col_counts = np.diff(np.append(col_starts, cols))
    return sums / np.outer(row_counts, col_counts)
