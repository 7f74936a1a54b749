"""The loss plot: training loss per step and validation loss per epoch, drawn with plotext."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip

from ...engine.numbers import DASH, abbreviated
from ...engine.numbers import compact as compact_number  # `compact` here is a plot's narrow mode
from ...experiments.series import thin
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
BEST_COLOR = 10  # bright green: the best epoch's rule
_NOTE_STYLE = Style(color=f"color({VAL_COLOR})")
_LIMIT = 1e300  # beyond this plotext's arithmetic overflows; such points are dropped like NaN


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
    """A title's current value: a dash before there is one; a float (NaN too) in ``digits`` digits."""
    if value is None:
        return DASH
    if isinstance(value, (float, np.floating)):
        return compact_number(value, digits)
    return str(value)


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
    best_step: float | None = None,
    note: str = "",
) -> list[Strip] | None:
    """The whole plot, title line included, as at most ``height`` strips of ``width`` cells.

    ``best_step``: a vertical rule there (the best epoch's end); ``note``: a line under the plot
    (a diagnosis such as overfitting), when there is room for it.
    Returns None when there is nothing to plot at all (no points, finite or not).
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
    note_strip = None
    if note and height >= 9:
        note_text = Text(note, style=_NOTE_STYLE, no_wrap=True, overflow="ellipsis")
        note_text.truncate(width, overflow="ellipsis")
        note_strip = text_strip(note_text, width)
        height -= 1
    plot_height = height - 1
    if width < 16 or plot_height < 4 or len(sx) + len(vx) == 0:
        if plot_height < 1 or len(sx) + len(vx):
            return [text_strip(title, width)]  # too small for axes: the title still gives the numbers
        body = Text("no positive values to plot" if s_nonpos + v_nonpos else "no finite values to plot", style="dim")
        body.align("center", max(width, 1))
        return [text_strip(title, width), text_strip(body, width)]

    if log_scale:
        sy, vy = np.log10(sy), np.log10(vy)

    # About two points per column (braille has two dot columns per cell); the limits come from what is
    # drawn, and each curve's highest point is drawn itself (not averaged with its neighbours), so a
    # divergence spike keeps its height on both scales. The y labels take ~4 columns.
    max_points = 2 * max(1, width - 5)
    sx, sy = thin(sx, sy, max_points, keep_peak=True)
    vx_line, vy_line = thin(vx, vy, max_points, keep_peak=True)
    vx_mark, vy_mark = thin(vx, vy, max(1, (width - 5) // 4), keep_peak=True)  # markers at most every ~4 columns

    # Limits over both series, widened when they collapse to a point.
    all_x = np.concatenate([sx, vx_line])
    all_y = np.concatenate([sy, vy_line])
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    y_lo, y_hi = y_range(float(all_y.min()), float(all_y.max()), log=log_scale)
    if x_hi - x_lo <= 0:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0

    # Layout: left ticks, one axis column, bottom axis + tick row, and a label row when there is room.
    show_labels = plot_height >= 10
    canvas_rows = plot_height - 2 - show_labels
    y_ticks, y_labels = y_axis(y_lo, y_hi, max(2, min(6, canvas_rows // 3)), log=log_scale)
    label_width = max((len(s) for s in y_labels), default=1)
    canvas_cols = max(1, width - label_width - 1)
    x_ticks, _ = linear_ticks(x_lo, x_hi, max(2, min(8, canvas_cols // 11)), min_step=1.0)
    x_labels = [abbreviated(t) for t in x_ticks]

    curves = []
    if len(vx_line) > 1:
        curves.append(Curve(vx_line.tolist(), vy_line.tolist(), VAL_COLOR))
    if len(sx):
        curves.append(Curve(sx.tolist(), sy.tolist(), TRAIN_COLOR))
    if len(vx_mark):
        curves.append(Curve(vx_mark.tolist(), vy_mark.tolist(), VAL_COLOR, marker=VAL_MARKER, lines=False))
    rules = []
    if best_step is not None and x_lo <= best_step <= x_hi:
        rules.append(Rule(float(best_step), BEST_COLOR, vertical=True))
    plot = Plot(
        width, plot_height, (x_lo, x_hi), (y_lo, y_hi), (x_ticks, x_labels), (y_ticks, y_labels),
        x_label="step" if show_labels else "",
        y_label=(f"{label} (log)" if log_scale else label) if show_labels else "",
        curves=curves,
        rules=rules,
    )
    strips = [text_strip(title, width), *plot_strips(plot)]
    if not show_labels and width > 5:
        # No room for a label row: name the x axis at the end of its tick row instead, always there
        # (it does not jump from one redraw to the next); a tick label in its place gives way, whole.
        ticks_row, text = strips[-1], strips[-1].text
        end = width - len(" step")
        cut = end
        while cut > 0 and not text[cut - 1].isspace() and not text[cut:cut + 1].isspace():
            cut -= 1  # back to the start of a tick label that runs into the name's place
        strips[-1] = Strip.join([ticks_row.crop(0, cut), Strip.blank(end - cut),
                                 Strip([Segment(" step", _AXIS_LABEL_STYLE)])])
    if note_strip is not None:
        strips.append(note_strip)
    return strips


class LossPlot(ThrottledRedraw, Chart):
    """Training loss per step (a line) and validation loss per epoch (markers), against the step number.

    Feed it with :meth:`update_series` from the UI thread; it redraws only when the data, the scale or its
    size changed, at most ``1 / min_interval`` times a second, at its content size. The plot is drawn
    into strips for Textual's line API, cheaper than a ``Static`` (~1 ms instead of ~4 ms per redraw).
    """

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
        super().__init__(hint=hint, name=name, id=id, classes=classes, disabled=disabled)
        self._init_throttle(min_interval, max_share)
        empty = np.empty(0)
        self._data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (empty, empty, empty, empty)
        self._label = "loss"
        self._current: dict[str, Any] | None = None
        self._best_step: float | None = None
        self._note = ""

    @property
    def label(self) -> str:
        """``loss`` (mini-batch, single sample) or ``cost`` (full batch): the y label and title name."""
        return self._label

    @property
    def current(self) -> dict[str, Any] | None:
        """The values the title names (a copy; None before any data), readable without parsing the title."""
        return None if self._current is None else dict(self._current)

    @property
    def best_step(self) -> float | None:
        """Where the vertical rule marks the best epoch (None: no rule)."""
        return self._best_step

    @property
    def note(self) -> str:
        """The line under the plot ("" when none)."""
        return self._note

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
        best_step: float | None = None,
        note: str = "",
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
        if (label == self._label and current == self._current and best_step == self._best_step
                and note == self._note and all(_same(a, b) for a, b in zip(data, self._data))):
            return
        self._data, self._label, self._current = data, label, current  # type: ignore[assignment]
        self._best_step, self._note = best_step, note
        self.mark_dirty(live=live)

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
        self.mark_dirty(urgent=True)  # a key asked for it: the next frame shows it

    def _rebuild(self, width: int, height: int) -> None:
        self.show_built(build_plot(
            width, height, *self._data, label=self._label, current=self._current, log_scale=self.log_scale,
            best_step=self._best_step, note=self._note,
        ), width, height)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
