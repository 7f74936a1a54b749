"""Charts as text, for the app and the command line alike: tick values and labels, and plots drawn by plotext.

:func:`plot_text` has plotext draw a :class:`Plot` (size, limits, ticks, labels, curves and reference lines)
through its public API only: plotext 6's ``plotext.figure``, whose ``build()`` gives a matrix and
``matrix.string()`` the ANSI text. plotext is imported on the first plot, not at start-up. The app turns the
text into Textual strips (``tui.widgets.plotting``); ``nn-tui runs compare`` prints it.

Plots draw on plotext's one global figure: each plot clears it before and after drawing, so nothing is
left between plots, and a lock keeps two threads from drawing at once. Other code that keeps its own plot in
plotext's global figure loses it when a chart is drawn (nothing in nn-tui does).

The tick helpers (:func:`linear_ticks`, :func:`log_ticks`, :func:`y_axis`, :func:`y_range`, and the labels of
``engine.numbers``: ``tick_label``, ``abbreviated``) are shared by the charts drawn without plotext
(``tui.widgets.line_chart``), so all charts read alike. Textual-free: no UI library is imported here.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from typing import Sequence, Union

from ..engine.numbers import compact, tick_label

Color = Union[int, tuple[int, int, int]]
"""A 256-colour ANSI number (0-15 are the standard colours, which stay apart on ``TERM=xterm``) or an RGB triplet."""

# -- ticks and labels --------------------------------------------------------------------------------

_MANTISSAS = (1.0, 2.0, 2.5, 5.0)


def y_range(lo: float, hi: float, *, log: bool, decades: float = 0.1) -> tuple[float, float]:
    """``lo..hi`` widened where it has no height to draw: by ``decades`` on a log axis (values are
    log10 already), else by 5% of the value."""
    if not hi - lo > max(abs(lo), abs(hi)) * 1e-9:
        pad = decades if log else max(abs(lo) * 0.05, 1e-9)
        lo, hi = lo - pad, hi + pad
    return lo, hi


def linear_ticks(lo: float, hi: float, target: int, *, min_step: float = 0.0) -> tuple[list[float], float]:
    """Round tick values inside [lo, hi] (1, 2, 2.5 or 5 times a power of ten apart) and their spacing.

    Picks the spacing whose tick count is nearest ``target`` without passing ``target + 1``, and gives at
    least two ticks whenever the range allows.
    """
    span = hi - lo
    exp = math.floor(math.log10(span / max(target, 1)))
    best: tuple[tuple[int, float], float, int, int] | None = None
    for e in range(exp - 1, exp + 2):
        for m in _MANTISSAS:
            step = max(m * 10.0**e, min_step)
            first = math.ceil(lo / step - 1e-9)
            last = math.floor(hi / step + 1e-9)
            count = last - first + 1
            if count > max(target + 1, 2) or (count < 2 and step > min_step):
                continue
            key = (abs(count - target), -step)
            if best is None or key < best[0]:
                best = (key, step, first, last)
    if best is None:  # a range too narrow for two round ticks: its ends
        return [lo, hi], span
    _, step, first, last = best
    ticks = [k * step for k in range(first, last + 1)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks], step


def log_ticks(lo: float, hi: float, target: int) -> tuple[list[float], list[str]]:
    """Ticks for log10-transformed data in [lo, hi]: decades, or 1-2-5 steps, or linear steps in a narrow range."""
    span = hi - lo
    if span >= 1.0:
        decades = [float(k) for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
        stride = max(1, math.ceil(span / max(target, 1)))
        ticks = [k for k in decades if k % stride == 0]
        if len(ticks) < 2:
            ticks = decades
        for mantissas in ((1, 2, 5), (1, 3)):  # a decade or two: add the 2s and 5s, or the 3s, if there is room
            if len(ticks) >= 3:
                break
            finer = [
                math.log10(m) + k
                for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
                for m in mantissas
                if lo - 1e-9 <= math.log10(m) + k <= hi + 1e-9
            ]
            if len(finer) <= max(target + 1, 3):
                ticks = finer
        return ticks, [compact(10.0**t, 3) for t in ticks]
    values, step = linear_ticks(10.0**lo, 10.0**hi, target)
    values = [v for v in values if v > 0]
    return [math.log10(v) for v in values], [tick_label(v, step) for v in values]


def y_axis(lo: float, hi: float, target: int, *, log: bool) -> tuple[list[float], list[str]]:
    """A y axis's tick values and labels for data in [lo, hi], about ``target`` of them: :func:`log_ticks`
    when the data is log10 already, else round :func:`linear_ticks` labelled to their spacing."""
    if log:
        return log_ticks(lo, hi, target)
    ticks, step = linear_ticks(lo, hi, target)
    return ticks, [tick_label(t, step) for t in ticks]


# -- plots -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Points of one series, drawn in the order given (a later curve covers an earlier one)."""

    x: Sequence[float]
    y: Sequence[float]
    color: Color
    marker: str = "braille"
    """``braille`` (2 x 4 dots a cell) or one character drawn at each point."""
    lines: bool = True
    """Join the points (a line); False: the markers alone."""
    name: str = ""
    """What a legend calls the curve (the app's multi-curve plots have one)."""


@dataclass(frozen=True)
class Rule:
    """A line across the whole plot: horizontal at ``y = at``, or vertical at ``x = at``."""

    at: float
    color: Color
    vertical: bool = False


@dataclass(frozen=True)
class Plot:
    """What to draw: ``width`` x ``height`` cells with the axes on the left and at the bottom.

    Ticks are (values, labels). A label row under the x ticks is drawn when ``x_label`` or ``y_label``
    is given. Rules are drawn first, then the curves in order.
    """

    width: int
    height: int
    x_lim: tuple[float, float]
    y_lim: tuple[float, float]
    x_ticks: tuple[Sequence[float], Sequence[str]]
    y_ticks: tuple[Sequence[float], Sequence[str]]
    x_label: str = ""
    y_label: str = ""
    curves: Sequence[Curve] = field(default_factory=tuple)
    rules: Sequence[Rule] = field(default_factory=tuple)


_LOCK = threading.RLock()
_BACKGROUND = re.compile(r"\x1b\[48;(?:5;\d+|2;\d+;\d+;\d+)m")


def plot_text(plot: Plot) -> str:
    """``plot`` drawn by ``plotext.figure`` (plotext 6), its signals and rulers, as ANSI text."""
    import plotext as plt

    with _LOCK:
        return _draw(plt, plot)


def _draw(plt, plot: Plot) -> str:
    fig = plt.figure
    fig.clear()
    try:
        plt.terminal.limit(False, False)  # a plot larger than the terminal running the app is not cut
        fig.plot_size(plot.width, plot.height)
        fig.theme("colorless")  # no colours but the curves'
        fig.axes(False)
        fig.axes(True, axis="x", side=0)
        fig.axes(True, axis="y", side=0)
        for axis, lim, ticks in (("x", plot.x_lim, plot.x_ticks), ("y", plot.y_lim, plot.y_ticks)):
            ruler = fig.ruler(axis)
            ruler.lim(*lim)
            ruler.ticks(list(ticks[0]), list(ticks[1]))
        if plot.x_label or plot.y_label:
            fig.label(plot.x_label, axis="x")
            fig.label(plot.y_label, axis="y")
        for rule in plot.rules:
            fig.line(rule.at, "vertical" if rule.vertical else "horizontal", pixel=plt.pixel(foreground=rule.color))
        for c in plot.curves:
            marker = plt.marker(c.marker, plt.pixel(foreground=c.color))
            signal = fig.signal(list(c.x), list(c.y), marker=marker)
            if c.lines:
                signal.lines()
            fig.draw(signal)
        # A rule comes with plotext's white background, which no public setting takes away; a plot here has
        # no background, as with plotext 5's clear theme.
        return _BACKGROUND.sub("", fig.build().string())
    finally:
        fig.clear()
        plt.terminal.limit()


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """``text`` without its colour codes (for output that is not a terminal, or ``NO_COLOR``)."""
    return _SGR.sub("", text)


def plotext_version() -> str:
    """The plotext version that draws the plots (imports plotext)."""
    import plotext

    return str(getattr(plotext, "__version__", ""))
