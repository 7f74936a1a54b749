"""Several named curves on one plot, each in its own colour, with a legend line: the optimizer lab's plots.

Drawn like :mod:`.loss_plot`, through :mod:`.plotting`: plotext draws the plot, read back as strips for
Textual's line API. Colours are RGB triplets of the 16 standard colours (see ``lane_colors``), so curves stay
apart on ``TERM=xterm``; without colour (``NO_COLOR``), and where a few rows hold many curves (the race at 80x24),
every curve is drawn with its own letter instead of a line.
The curves are the charts' own ``Curve``s, named for the legend (``Curve.name``), their marker the letter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ...engine.numbers import abbreviated
from ...experiments.series import thin
from .lane_colors import RGB, rgb
from .plotting import (
    Curve,
    Plot,
    Rule,
    linear_ticks,
    plot_strips,
    text_strip,
    y_axis,
    y_range,
)
from .chart import Chart
from .redraw_throttle import ThrottledRedraw

__all__ = ["Curve", "MultiPlot", "PlotMark", "build_multi_plot"]

LETTERS_BELOW_ROWS = 8
"""A plot with fewer rows than this draws three curves or more with their letters, not lines (the
race's 8 curves at 80x24 have 5 rows)."""

_LIMIT = 1e300
"""Beyond this plotext's arithmetic overflows; such points are left out like NaN."""


def letter(curve: Curve) -> str:
    """A curve's one-character marker: drawn for its points without a line, for every curve without
    colour, and in the legend then (``•`` for a curve drawn in braille)."""
    return "•" if curve.marker == "braille" else curve.marker


@dataclass(frozen=True)
class PlotMark:
    """A single marker, e.g. an ``x`` pinned to the top edge for a run that diverged."""

    x: float
    y: float | None
    """None: on the top edge of the plot."""
    char: str
    color: RGB


@dataclass(frozen=True)
class PlotOptions:
    """How to draw: axes, labels, reference lines."""

    log_y: bool = False
    x_label: str = ""
    y_label: str = ""
    x_ticks: tuple[tuple[float, ...], tuple[str, ...]] | None = None
    """Fixed x ticks (values, labels); None: round numbers from the data."""
    x_integer: bool = False
    """Ticks at whole numbers only (epochs, steps)."""
    x_range: tuple[float, float] | None = None
    hline: tuple[float, RGB] | None = None
    """A horizontal reference line at (y, colour), e.g. the initial loss."""
    vline: tuple[float, RGB] | None = None
    """A vertical reference line at (x, colour), e.g. a suggested learning rate."""
    title: Text | None = None
    """Replaces the legend line when given."""
    marks: tuple[PlotMark, ...] = field(default_factory=tuple)


def _keep(x: np.ndarray, y: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    ok = (np.abs(x) < _LIMIT) & (np.abs(y) < _LIMIT)
    if log:
        ok &= y > 0
    return x[ok], y[ok]


def legend_text(series: Sequence[Curve], letters: bool = False) -> Text:
    """``━ sgd  ━ adam ...``: each name in its colour (with its letter when the curves are drawn
    with their letters: without colour, or in a short plot)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, s in enumerate(series):
        if i:
            text.append("  ")
        style = Style(color=rgb(s.color), bold=True)
        text.append(letter(s) if (letters or not s.lines) else "━", style=style)
        text.append(f" {s.name}", style=style)
    return text


def build_multi_plot(width: int, height: int, series: Sequence[Curve], options: PlotOptions = PlotOptions(),
                     *, no_color: bool = False) -> list[Strip] | None:
    """The plot, legend line first, as at most ``height`` strips of ``width`` cells; None with nothing to plot."""
    width = max(width, 1)
    log = options.log_y
    drawn = []
    for s in series:
        x, y = _keep(np.asarray(s.x, float), np.asarray(s.y, float), log)
        drawn.append((s, x, y))
    marks = [m for m in options.marks if abs(m.x) < _LIMIT]
    plot_height = height - 1
    show_labels = plot_height >= 10 and bool(options.x_label or options.y_label)
    canvas_rows = plot_height - 2 - show_labels
    # Lines of many curves in a few rows merge into one band: their letters tell them apart.
    letters = no_color or (canvas_rows < LETTERS_BELOW_ROWS and sum(1 for s in series if s.lines) > 2)
    title = options.title if options.title is not None else legend_text(series, letters)
    title = title.copy()
    title.truncate(width, overflow="ellipsis")
    if title.cell_len < width:
        title.align("center", width)
    if not any(len(x) for _, x, _ in drawn) and not marks:
        return None
    if width < 16 or plot_height < 4:
        return [text_strip(title, width)]

    ys = [y for _, _, y in drawn if len(y)]
    xs = [x for _, x, _ in drawn if len(x)] + [np.array([m.x for m in marks])]
    all_y = np.log10(np.concatenate(ys)) if ys and log else (np.concatenate(ys) if ys else np.array([0.0, 1.0]))
    if options.hline is not None and (options.hline[0] > 0 or not log):
        h = math.log10(options.hline[0]) if log else options.hline[0]
        all_y = np.append(all_y, h)
    all_x = np.concatenate(xs)
    if options.x_range is not None:
        x_lo, x_hi = options.x_range
    else:
        x_lo, x_hi = float(all_x.min()), float(all_x.max())
    if x_hi - x_lo <= 0:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    y_lo, y_hi = y_range(float(all_y.min()), float(all_y.max()), log=log)
    if any(m.y is None for m in marks):  # room on top for the pinned markers
        y_hi += (y_hi - y_lo) * 0.08

    y_ticks, y_labels = y_axis(y_lo, y_hi, max(2, min(6, canvas_rows // 3)), log=log)
    label_width = max((len(s) for s in y_labels), default=1)
    canvas_cols = max(1, width - label_width - 1)
    if options.x_ticks is not None:
        x_ticks, x_labels = list(options.x_ticks[0]), list(options.x_ticks[1])
        stride = max(1, math.ceil(len(x_ticks) * (max(map(len, x_labels), default=1) + 2) / canvas_cols))
        x_ticks, x_labels = x_ticks[::stride], x_labels[::stride]
    else:
        x_ticks, _ = linear_ticks(x_lo, x_hi, max(2, min(8, canvas_cols // 8)), min_step=1.0 if options.x_integer else 0.0)
        x_labels = [abbreviated(t) for t in x_ticks]

    rules = []
    if options.hline is not None and (options.hline[0] > 0 or not log):
        rules.append(Rule(math.log10(options.hline[0]) if log else options.hline[0], options.hline[1]))
    if options.vline is not None:
        rules.append(Rule(options.vline[0], options.vline[1], vertical=True))
    curves = []
    columns = max(1, canvas_cols)
    lettered = [id(s) for s, x, _ in drawn if s.lines and len(x)] if letters else []  # by identity: x may be arrays
    for s, x, y in drawn:
        if not len(x):
            continue
        if log:
            y = np.log10(y)
        if not s.lines or letters:
            if letters and s.lines:
                x, y = _staggered(x, y, (x_lo, x_hi), columns, lettered.index(id(s)), max(3, len(lettered)))
            curves.append(Curve(x.tolist(), y.tolist(), s.color, marker=letter(s), lines=False))
        else:
            x, y = thin(x, y, 2 * columns)
            if len(x) == 1:
                curves.append(Curve(x.tolist(), y.tolist(), s.color, marker=letter(s), lines=False))
            else:
                curves.append(Curve(x.tolist(), y.tolist(), s.color))
    for m in marks:
        my = y_hi if m.y is None else (math.log10(m.y) if log and m.y > 0 else m.y)
        curves.append(Curve([m.x], [my], m.color, marker=m.char, lines=False))
    y_label = f"{options.y_label} (log)" if log and options.y_label else options.y_label
    plot = Plot(
        width, plot_height, (x_lo, x_hi), (y_lo, y_hi), (x_ticks, x_labels), (y_ticks, y_labels),
        x_label=options.x_label if show_labels else "", y_label=y_label if show_labels else "",
        curves=curves, rules=rules,
    )
    return [text_strip(title, width), *plot_strips(plot)]


def _staggered(x: np.ndarray, y: np.ndarray, x_range: tuple[float, float], columns: int, offset: int,
               step: int) -> tuple[np.ndarray, np.ndarray]:
    """A curve drawn with its letter: one point every ``step`` columns from column ``offset``, its
    value there read off its line, so that the letters of curves with other offsets never cover
    one another however close the curves run (x ascending; else every third column's point)."""
    if len(x) < 2 or np.any(np.diff(x) < 0):
        return thin(x, y, max(2, columns // 3))
    lo, hi = x_range
    at = lo + np.arange(offset, columns, step) * (hi - lo) / max(1, columns - 1)
    at = at[(at >= x[0]) & (at <= x[-1])]
    if not len(at):
        return x[-1:], y[-1:]
    return at, np.interp(at, x, y)


class MultiPlot(ThrottledRedraw, Chart):
    """Curves against a shared x axis, each in its own colour; the legend is the first line.

    Feed it with :meth:`update_plot` from the UI thread (copies of the data); it redraws at most every
    ``min_interval`` seconds (less often for live data: see ``ThrottledRedraw``), at its content size.
    """

    def __init__(self, *, hint: str = "", min_interval: float = 0.15, max_share: float = 0.05,
                 name: str | None = None, id: str | None = None, classes: str | None = None,  # noqa: A002
                 disabled: bool = False) -> None:
        super().__init__(hint=hint, name=name, id=id, classes=classes, disabled=disabled)
        self._init_throttle(min_interval, max_share)
        self.series: tuple[Curve, ...] = ()
        """What is plotted (for tests and screenshots)."""
        self.options = PlotOptions()

    def update_plot(self, series: Sequence[Curve], options: PlotOptions | None = None, *,
                    live: bool = False) -> None:
        """Show these curves (the arrays are kept as given: pass copies). ``live`` says more data
        follows soon (a race runs): the redraw then keeps to ``max_share`` of the UI thread."""
        self.series = tuple(series)
        if options is not None:
            self.options = options
        self.mark_dirty(live=live)

    def set_hint(self, hint: str) -> None:
        """What to say while there is nothing to plot."""
        self.hint = hint
        self.mark_dirty()

    def fill_style(self) -> Style:
        """The widget's own colours under every curve (a lab screen's plot is drawn on its panel)."""
        return self.rich_style

    def _rebuild(self, width: int, height: int) -> None:
        self.show_built(build_multi_plot(width, height, self.series, self.options, no_color=self.app.no_color),
                        width, height)
