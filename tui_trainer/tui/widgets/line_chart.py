"""A small chart of several series (lines in braille dots, scatters as markers), optionally on
a log y axis.

Drawn directly with NumPy into braille cells (2 x 4 dots per character), not with plotext:
seven lines cost ~2 ms instead of ~140 ms, which matters in a view that redraws while a
training thread wants the interpreter. Tick values and labels come from :mod:`.plotting`, as
every chart's do, so all read alike. The gradient-flow view draws one line per layer on a log
scale with it, the decision-boundary view a 1-D regression's data and prediction curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ...engine.numbers import abbreviated, tick_label
from ...experiments.series import thin
from .chart import Chart
from .plotting import linear_ticks, text_strip, y_axis, y_range

__all__ = ["ChartSeries", "LineChart", "build_chart"]

_BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
"""Bit of each dot of a braille cell, by (dot row 0..3, dot column 0..1)."""
_AXIS = Style(dim=True)


@dataclass
class ChartSeries:
    """One series of a chart."""

    x: np.ndarray
    y: np.ndarray
    color: int
    """A 16-colour ANSI number, so the chart reads on any terminal."""
    kind: str = "line"
    """``line`` (braille dots, joined) or ``scatter`` (``marker`` at each point)."""
    marker: str = "•"


def build_chart(
    width: int,
    height: int,
    series: list[ChartSeries],
    *,
    title: Text,
    log_y: bool = False,
    x_label: str = "",
    y_label: str = "",
    x_steps: bool = True,
) -> list[Strip]:
    """The chart with ``title`` on its first line, as at most ``height`` strips of ``width``.

    ``y_label`` is for the caller's title: the chart has no room for a vertical label.
    """
    title = title.copy()
    title.truncate(max(width, 1), overflow="ellipsis")
    strips = [text_strip(title, width)]
    plot_height = height - 1
    pts = []
    for s in series:
        x, y = np.asarray(s.x, float), np.asarray(s.y, float)
        keep = np.isfinite(x) & np.isfinite(y)
        if log_y:
            keep &= y > 0
        x, y = x[keep], y[keep]
        if log_y:
            y = np.log10(y)
        if s.kind == "line" and len(x) > width:  # about one point per column: noisy steps averaged
            x, y = thin(x, y, width)
        pts.append((s, x, y))
    if width < 16 or plot_height < 4 or not any(len(x) for _, x, _ in pts):
        return strips

    all_x = np.concatenate([x for _, x, _ in pts])
    all_y = np.concatenate([y for _, _, y in pts])
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    y_lo, y_hi = y_range(float(all_y.min()), float(all_y.max()), log=log_y, decades=0.5)
    if x_hi - x_lo <= 0:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0

    rows = plot_height - 2  # the canvas; then the x axis and its labels
    y_ticks, y_text = y_axis(y_lo, y_hi, max(2, min(6, rows // (2 if log_y else 3))), log=log_y)
    gutter = max((len(t) for t in y_text), default=1)
    cols = max(1, width - gutter - 1)
    x_ticks, x_step = linear_ticks(x_lo, x_hi, max(2, min(8, cols // 11)), min_step=1.0 if x_steps else 0.0)
    x_text = [abbreviated(t) if x_steps else tick_label(t, x_step) for t in x_ticks]

    def dot_x(x):
        return np.clip(np.round((x - x_lo) / (x_hi - x_lo) * (2 * cols - 1)), 0, 2 * cols - 1).astype(int)

    def dot_y(y):  # 0 at the top
        return np.clip(np.round((y_hi - y) / (y_hi - y_lo) * (4 * rows - 1)), 0, 4 * rows - 1).astype(int)

    bits = np.zeros((rows, cols), dtype=np.uint8)
    color = np.full((rows, cols), -1, dtype=int)
    marks: dict[tuple[int, int], tuple[str, int]] = {}
    for s, x, y in pts:
        if not len(x):
            continue
        dx, dy = dot_x(x), dot_y(y)
        if s.kind == "scatter":
            for cx, cy in zip((dx // 2).tolist(), (dy // 4).tolist()):
                marks[(cy, cx)] = (s.marker, s.color)
                bits[cy, cx] = 0
            continue
        px, py = _joined(dx, dy)
        np.bitwise_or.at(bits, (py // 4, px // 2), _BRAILLE_BITS[py % 4, px % 2])
        color[py // 4, px // 2] = s.color
        if marks:  # a later series is drawn over earlier markers
            for cell in set(zip((py // 4).tolist(), (px // 2).tolist())):
                marks.pop(cell, None)

    styles: dict[int, Style] = {}

    def style_of(c: int) -> Style:
        if c not in styles:
            styles[c] = Style(color=f"color({c})")
        return styles[c]

    tick_rows = {}
    for t, label in zip(y_ticks, y_text):
        r = int(dot_y(np.array([t]))[0]) // 4
        tick_rows.setdefault(r, label)
    for r in range(rows):
        label = tick_rows.get(r)
        segments = [Segment((label or "").rjust(gutter), _AXIS), Segment("┤" if label else "│", _AXIS)]
        line_bits, line_color = bits[r], color[r]
        c = 0
        while c < cols:
            mark = marks.get((r, c))
            if mark is not None:
                segments.append(Segment(mark[0], style_of(mark[1])))
                c += 1
                continue
            end = c + 1
            while end < cols and line_color[end] == line_color[c] and (r, end) not in marks:
                end += 1
            chunk = "".join(chr(0x2800 + int(b)) if b else " " for b in line_bits[c:end])
            segments.append(Segment(chunk, style_of(int(line_color[c])) if line_color[c] >= 0 else None))
            c = end
        strips.append(Strip(segments).adjust_cell_length(width))

    tick_cols = [int(dot_x(np.array([t]))[0]) // 2 for t in x_ticks]
    axis = ["─"] * cols
    for c in tick_cols:
        axis[c] = "┬"
    strips.append(Strip([Segment(" " * gutter + "└" + "".join(axis), _AXIS)]).adjust_cell_length(width))
    labels = [" "] * (cols + gutter + 1)
    taken = -1
    for c, text in zip(tick_cols, x_text):
        start = max(0, min(gutter + 1 + c - len(text) // 2, len(labels) - len(text)))
        if start <= taken:
            continue
        labels[start:start + len(text)] = list(text)
        taken = start + len(text)
    line = "".join(labels)
    if x_label and len(line.rstrip()) + len(x_label) + 2 <= len(line):
        line = line[: len(line) - len(x_label)] + x_label
    strips.append(Strip([Segment(line, _AXIS)]).adjust_cell_length(width))
    return strips[:height]


def _joined(dx: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dots along the polyline through ``(dx, dy)``: consecutive points joined with no gap."""
    if len(dx) == 1:
        return dx, dy
    steps = np.maximum(np.abs(np.diff(dx)), np.abs(np.diff(dy))) + 1
    starts = np.repeat(np.arange(len(steps)), steps)
    frac = np.concatenate([np.arange(n) / max(n - 1, 1) for n in steps.tolist()])
    px = np.round(dx[starts] + (dx[starts + 1] - dx[starts]) * frac).astype(int)
    py = np.round(dy[starts] + (dy[starts + 1] - dy[starts]) * frac).astype(int)
    return px, py


class LineChart(Chart):
    """Shows what ``set_series`` gave it at its current size (built when first drawn after new data
    or a resize: cheap enough to need no throttle)."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._args: tuple | None = None
        self._built_for: tuple[int, int] | None = None

    def set_series(self, series: list[ChartSeries], *, title: Text, log_y: bool = False,
                   x_label: str = "", y_label: str = "", x_steps: bool = True) -> None:
        """Show ``series`` (copies are not taken: pass arrays nobody changes)."""
        self._args = (series, dict(title=title, log_y=log_y, x_label=x_label, y_label=y_label, x_steps=x_steps))
        self._built_for = None
        self.refresh()

    def on_resize(self) -> None:
        self._built_for = None

    def current_lines(self) -> list[Strip]:
        width, height = self.content_size
        if self._built_for != (width, height):
            self._built_for = (width, height)
            if self._args is None or width <= 0 or height <= 0:
                self.show_built([], width, height)
            else:
                series, kwargs = self._args
                self.show_built(build_chart(width, height, series, **kwargs), width, height)
        return self._lines

    def plain_lines(self) -> list[str]:
        """The text of every line (for tests)."""
        width, height = self.content_size
        return [self.render_line(y).text for y in range(height)]
