"""The loss plot: training loss per step and validation loss per epoch, drawn with plotext."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ...series import thin
from .redraw_throttle import ThrottledRedraw

__all__ = ["LossPlot", "build_plot"]

# 16-colour ANSI numbers, so the lines stay apart on `TERM=xterm` too; the title uses the same colours as a legend.
TRAIN_COLOR = 14  # bright cyan
VAL_COLOR = 11  # bright yellow: cyan vs yellow stays apart in 16 colours and for most colour blindness
VAL_MARKER = "●"
TRAIN_KEY = "──"
"""The training loss's glyph in the title's legend: it is the line (the validation loss is the dots)."""
_TRAIN_STYLE = Style(color=f"color({TRAIN_COLOR})", bold=True)
_VAL_STYLE = Style(color=f"color({VAL_COLOR})", bold=True)
_AXIS_LABEL_STYLE = Style(dim=True)
_LIMIT = 1e300  # beyond this plotext's arithmetic overflows; such points are dropped like NaN


_MANTISSAS = (1.0, 2.0, 2.5, 5.0)


def _y_range(lo: float, hi: float, *, log: bool, decades: float = 0.1) -> tuple[float, float]:
    """``lo..hi`` widened where it has no height to draw: by ``decades`` on a log axis (values are
    log10 already), else by 5% of the value."""
    if not hi - lo > max(abs(lo), abs(hi)) * 1e-9:
        pad = decades if log else max(abs(lo) * 0.05, 1e-9)
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _linear_ticks(lo: float, hi: float, target: int, *, min_step: float = 0.0) -> tuple[list[float], float]:
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


def _format_value(v: float, step: float) -> str:
    """A short label for a linear tick: enough digits to tell ticks ``step`` apart, and no more."""
    if v == 0:
        return "0"
    mag = abs(v)
    if 1e-3 <= mag < 1e5 and step >= 1e-4:
        exp = math.floor(math.log10(step) + 1e-9)
        two_and_a_half = abs(step / 10.0**exp - 2.5) < 1e-6  # 0.25 steps need one more digit than 0.2 steps
        decimals = max(0, -exp + two_and_a_half)
        text = f"{v:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    digits = max(1, math.floor(math.log10(mag)) - math.floor(math.log10(step) + 1e-9) + 2)
    return _short_exp(f"{v:.{min(digits, 4)}g}")


def _short_exp(text: str) -> str:
    """`1e-05` -> `1e-5`, `2.5e+06` -> `2.5e6`: narrower y-axis labels."""
    if "e" not in text:
        return text
    mant, exp = text.split("e")
    return f"{mant}e{int(exp)}"


def _format_step(v: float) -> str:
    """Step numbers on the x axis: 500, 12.5k, 1.5M."""
    mag = abs(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if mag >= div:
            return f"{round(v / div, 3):g}{suffix}"
    return f"{round(v, 3):g}"


def _log_ticks(lo: float, hi: float, target: int) -> tuple[list[float], list[str]]:
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
        return ticks, [_short_exp(f"{10.0**t:.3g}") for t in ticks]
    values, step = _linear_ticks(10.0**lo, 10.0**hi, target)
    values = [v for v in values if v > 0]
    return [math.log10(v) for v in values], [_format_value(v, step) for v in values]


def _plottable(x: np.ndarray, y: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The points that can be drawn, and how many were not: (x, y, non-finite, non-positive on a log axis)."""
    finite = (np.abs(y) < _LIMIT) & (np.abs(x) < _LIMIT)  # False for NaN and inf as well
    keep = finite & (y > 0) if log else finite
    n_keep = int(np.count_nonzero(keep))
    if n_keep == len(x):
        return x, y, 0, 0
    n_finite = int(np.count_nonzero(finite)) if log else n_keep
    return x[keep], y[keep], len(x) - n_finite, n_finite - n_keep


def _title(label: str, current: Mapping[str, Any] | None, log: bool, note: str, *, compact: int = 0) -> Text:
    """``── loss 0.123 · ● val loss 0.145``: the title is the legend, each name in its line's colour
    after the glyph that draws it, so the lines are told apart without colour too (NO_COLOR).

    ``compact`` (for narrow plots): 1 gives 3 significant digits and shortens ``val loss`` to
    ``val``; 2 leaves the validation loss to its glyph alone (``● 0.103``).
    """
    title = Text(no_wrap=True, overflow="ellipsis")
    parts = current.items() if current else [(label, None), (f"val {label}", None)]
    for i, (name, value) in enumerate(parts):
        if i:
            title.append(" · ", style="dim")
        key = str(name)
        style = _VAL_STYLE if key.startswith("val") else _TRAIN_STYLE if key == label else Style(bold=True)
        glyph = VAL_MARKER if key.startswith("val") else TRAIN_KEY if key == label else ""
        if glyph:
            title.append(glyph, style=style)
        name_shown = "val" if compact and key.startswith("val ") else key
        if not (compact > 1 and glyph == VAL_MARKER):
            title.append(f" {name_shown}" if glyph else name_shown, style=style)
        if current:
            title.append(" ")
            title.append(_format_current(value, 3 if compact else 4))
    if log:
        title.append(" (log)", style="dim")
    if note:
        title.append(f" · {note}", style="bold red")
    return title


def _format_current(value: Any, digits: int) -> str:
    if value is None:
        return "–"
    if isinstance(value, (float, np.floating)):
        return _short_exp(f"{value:.{digits}g}")
    return str(value)


# Renders Rich text to segments; nothing is printed through it.
_CONSOLE = Console(file=io.StringIO(), width=1000, color_system="truecolor", force_terminal=True)
_cell_styles: dict[str, Style | None] = {}
_NULL_STYLE = Style()


def _styled(strip: Strip) -> Strip:
    """The strip with a Style on every segment: Textual's NO_COLOR filter cannot take None."""
    if all(seg.style is not None for seg in strip):
        return strip
    return Strip(
        [seg if seg.style is not None else Segment(seg.text, _NULL_STYLE, seg.control) for seg in strip],
        strip.cell_length,
    )


def _text_strip(text: Text, width: int) -> Strip:
    return Strip(text.render(_CONSOLE), text.cell_len).adjust_cell_length(width)


def hint_strips(hint: str, style: Style, width: int, height: int, blank: Style | None = None) -> list[Strip]:
    """What an empty plot shows: ``hint`` centred on the middle line, blank lines above it."""
    text = Text(hint, style=style)
    text.truncate(width, overflow="ellipsis")
    text.align("center", width)
    return [Strip.blank(width, blank)] * ((height - 1) // 2) + [_text_strip(text, width)]


def _cell_style(fg: Any, style: Any, bg: Any) -> Style | None:
    """The Rich style of a plotext cell, by way of plotext's own ANSI codes (cached: a handful of colours)."""
    key = repr((fg, style, bg))
    if key not in _cell_styles:
        import plotext._utility as plotext_utility  # plotext loads on the first plot, not at start-up

        ansi = plotext_utility.colors_to_ansi(fg, style, bg)
        _cell_styles[key] = Text.from_ansi(ansi + "x").get_style_at_offset(_CONSOLE, 0) if ansi else None
    return _cell_styles[key]


def _figure_strips(fig: Any, width: int) -> list[Strip]:
    """Build ``fig`` and turn its character matrix into strips.

    Reading plotext's matrix directly skips its ANSI canvas string and Rich's ANSI parser: about a quarter
    of a redraw. Should a plotext release move the matrix, fall back to the public ``build()``.
    """
    try:
        fig._set_sizes()
        fig._build_matrix()
        matrix = fig.monitor.matrix
        rows = [(matrix.marker[r], matrix.fullground[r], matrix.style[r], matrix.background[r])
                for r in range(matrix.rows - 1, -1, -1)]  # plotext's row 0 is the bottom
    except (AttributeError, IndexError, TypeError):  # pragma: no cover - only with another plotext
        return [_text_strip(line, width) for line in Text.from_ansi(fig.build()).split("\n")]
    strips = []
    for markers, fg, style, bg in rows:
        segments = []
        for colors, cells in groupby(zip(zip(fg, style, bg), markers), key=itemgetter(0)):
            segments.append(Segment("".join(cell for _, cell in cells), _cell_style(*colors)))
        strips.append(Strip(segments).adjust_cell_length(width))
    return strips


def new_figure(width, height, xlim, ylim, xticks, yticks):
    """A private plotext figure with the house look: clear theme, left and bottom axes, given ticks."""
    from plotext._figure import _figure_class  # plotext loads on the first plot, not at start-up

    fig = _figure_class()
    fig.plotsize(width, height)
    fig.theme("clear")
    fig.xaxes(True, False)
    fig.yaxes(True, False)
    fig.xlim(*xlim)
    fig.ylim(*ylim)
    fig.xticks(*xticks)
    fig.yticks(*yticks)
    return fig


def build_plot(
    width: int,
    height: int,
    step_x: np.ndarray,
    step_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    *,
    label: str = "loss",
    current: Mapping[str, Any] | None = None,
    log_scale: bool = False,
) -> list[Strip] | None:
    """The whole plot, title line included, as at most ``height`` strips of ``width`` cells.

    Returns None when there is nothing to plot at all (no points, finite or not). Touches no global state:
    plotext is driven through a private figure, so nothing leaks between renders or into other plotext users.
    """
    n_points = len(step_x) + len(val_x)
    if n_points == 0:
        return None
    sx, sy, s_bad, s_nonpos = _plottable(np.asarray(step_x, float), np.asarray(step_y, float), log_scale)
    vx, vy, v_bad, v_nonpos = _plottable(np.asarray(val_x, float), np.asarray(val_y, float), log_scale)
    notes = ["NaN/inf hidden"] * bool(s_bad + v_bad) + ["values ≤ 0 hidden"] * bool(s_nonpos + v_nonpos)
    title = _title(label, current, log_scale, ", ".join(notes))
    for compact in (1, 2):
        if title.cell_len > width:
            title = _title(label, current, log_scale, ", ".join(notes), compact=compact)
    title.truncate(max(width, 1), overflow="ellipsis")
    title.align("center", max(width, 1))
    width = max(width, 1)
    plot_height = height - 1
    if width < 16 or plot_height < 4 or len(sx) + len(vx) == 0:
        if plot_height < 1 or len(sx) + len(vx):
            return [_text_strip(title, width)]  # too small for axes: the title still gives the numbers
        body = Text("no positive values to plot" if s_nonpos + v_nonpos else "no finite values to plot", style="dim")
        body.align("center", max(width, 1))
        return [_text_strip(title, width), _text_strip(body, width)]

    if log_scale:
        sy, vy = np.log10(sy), np.log10(vy)

    # About two points per column (braille has two dot columns per cell); the limits come from what is
    # drawn, so a spike that thinning averages away does not leave empty rows. The y labels take ~4 columns.
    max_points = 2 * max(1, width - 5)
    sx, sy = thin(sx, sy, max_points)
    vx_line, vy_line = thin(vx, vy, max_points)
    vx_mark, vy_mark = thin(vx, vy, max(1, (width - 5) // 4))  # markers at most every ~4 columns

    # Limits over both series, widened when they collapse to a point.
    all_x = np.concatenate([sx, vx_line])
    all_y = np.concatenate([sy, vy_line])
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    y_lo, y_hi = _y_range(float(all_y.min()), float(all_y.max()), log=log_scale)
    if x_hi - x_lo <= 0:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0

    # Layout: left ticks, one axis column, bottom axis + tick row, and a label row when there is room.
    show_labels = plot_height >= 10
    canvas_rows = plot_height - 2 - show_labels
    if log_scale:
        y_ticks, y_labels = _log_ticks(y_lo, y_hi, max(2, min(6, canvas_rows // 3)))
    else:
        y_ticks, y_step = _linear_ticks(y_lo, y_hi, max(2, min(6, canvas_rows // 3)))
        y_labels = [_format_value(t, y_step) for t in y_ticks]
    label_width = max((len(s) for s in y_labels), default=1)
    canvas_cols = max(1, width - label_width - 1)
    x_ticks, _ = _linear_ticks(x_lo, x_hi, max(2, min(8, canvas_cols // 11)), min_step=1.0)
    x_labels = [_format_step(t) for t in x_ticks]

    fig = new_figure(width, plot_height, (x_lo, x_hi), (y_lo, y_hi), (x_ticks, x_labels), (y_ticks, y_labels))
    if show_labels:
        fig.xlabel("step")
        fig.ylabel(f"{label} (log)" if log_scale else label)
    if len(vx_line) > 1:
        fig.plot(vx_line.tolist(), vy_line.tolist(), marker="braille", color=VAL_COLOR)
    if len(sx):
        fig.plot(sx.tolist(), sy.tolist(), marker="braille", color=TRAIN_COLOR)
    if len(vx_mark):
        fig.scatter(vx_mark.tolist(), vy_mark.tolist(), marker=VAL_MARKER, color=VAL_COLOR)
    strips = [_text_strip(title, width), *_figure_strips(fig, width)]
    if not show_labels:
        # No room for a label row: name the x axis at one end of its tick row instead.
        ticks_row, step_label = strips[-1], Strip([Segment("step", _AXIS_LABEL_STYLE)])
        if ticks_row.text[-6:].isspace():
            strips[-1] = Strip.join([ticks_row.crop(0, width - 4), step_label])
        elif ticks_row.text[:6].isspace():
            strips[-1] = Strip.join([step_label, ticks_row.crop(4)])
    return strips


class LossPlot(ThrottledRedraw, Widget):
    """Training loss per step (a line) and validation loss per epoch (markers), against the step number.

    Feed it with :meth:`update_series` from the UI thread; it redraws only when the data, the scale or its
    size changed, at most ``1 / min_interval`` times a second, at its content size. The plot is drawn
    into strips for Textual's line API, cheaper than a ``Static`` (~1 ms instead of ~4 ms per redraw).
    """

    DEFAULT_CSS = """
    LossPlot {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    LossPlot > .loss-plot--hint {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES = {"loss-plot--hint"}
    """``loss-plot--hint``: the text shown while there is no data."""

    log_scale: reactive[bool] = reactive(False)
    """Plot log10 of the losses (non-positive values are left out)."""

    def __init__(
        self,
        *,
        hint: str = "press space to train",
        min_interval: float = 0.1,
        max_share: float = 0.05,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's signature
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Args:
        hint: What the plot says while it has no data.
        min_interval: The least time between two redraws, in seconds.
        max_share: While new data streams in, the largest share of the UI thread's time that redraws
            may take: a plot that takes 16 ms to build waits 0.32 s before the next (1 s at most). The UI
            thread shares the interpreter with training, so this keeps a large plot from slowing it.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.hint = hint
        self._init_throttle(min_interval, max_share)
        empty = np.empty(0)
        self._data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (empty, empty, empty, empty)
        self._label = "loss"
        self._current: dict[str, Any] | None = None
        self._lines: list[Strip] = []
        self._empty = True

    @property
    def label(self) -> str:
        """``loss`` (mini-batch, single sample) or ``cost`` (full batch): the y label and title name."""
        return self._label

    @property
    def is_empty(self) -> bool:
        """Whether the hint is showing (no data was drawn)."""
        return self._empty

    def update_series(
        self,
        step_x: Any,
        step_y: Any,
        val_x: Any,
        val_y: Any,
        *,
        label: str = "loss",
        current: Mapping[str, Any] | None = None,
        live: bool = False,
    ) -> None:
        """Show new data: the loss at steps ``step_x`` and the validation loss at steps ``val_x``.

        ``current`` fills the title, e.g. ``{"loss": 0.123, "val loss": 0.145}``; by default the title shows
        the latest value of each series. The arrays are used as given: pass copies. ``live`` says more
        data follows soon (training runs): the redraw then keeps to ``max_share``.
        """
        data = tuple(np.asarray(a, dtype=np.float64).ravel() for a in (step_x, step_y, val_x, val_y))
        if len(data[0]) != len(data[1]) or len(data[2]) != len(data[3]):
            raise ValueError(
                f"x and y lengths differ: step {len(data[0])} vs {len(data[1])}, val {len(data[2])} vs {len(data[3])}")
        current = self._latest(data, label) if current is None else dict(current)
        if (label == self._label and current == self._current
                and all(_same(a, b) for a, b in zip(data, self._data))):
            return
        self._data, self._label, self._current = data, label, current  # type: ignore[assignment]
        self._mark_dirty(live=live)

    @staticmethod
    def _latest(data: tuple[np.ndarray, ...], label: str) -> dict[str, Any] | None:
        step_y, val_y = data[1], data[3]
        if not len(step_y) and not len(val_y):
            return None
        out: dict[str, Any] = {label: float(step_y[-1]) if len(step_y) else None}
        if len(val_y):
            out[f"val {label}"] = float(val_y[-1])
        return out

    def clear(self) -> None:
        """Forget the data and show the hint again."""
        self.update_series([], [], [], [], label=self._label)

    # -- redrawing ---------------------------------------------------------------------------------

    def watch_log_scale(self) -> None:
        self._mark_dirty(urgent=True)  # a key asked for it: the next frame shows it

    def _rebuild(self, width: int, height: int) -> None:
        strips = build_plot(
            width, height, *self._data, label=self._label, current=self._current, log_scale=self.log_scale,
        )
        self._empty = strips is None
        if strips is None:
            strips = hint_strips(self.hint, self.get_component_rich_style("loss-plot--hint"), width, height,
                                 _NULL_STYLE)
        self._lines = [_styled(strip) for strip in strips[:height]]

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y < len(self._lines):
            strip = self._lines[y]
            return strip if strip.cell_length == width else strip.adjust_cell_length(width, _NULL_STYLE)
        return Strip.blank(width, _NULL_STYLE)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
