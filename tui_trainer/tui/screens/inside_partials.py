"""Partial derivatives: backprop's gradient next to the one found by nudging each weight.

For a few entries of every parameter array, dL/dw ~ (L(w + h) - L(w - h)) / 2h on a small
training batch, with h = eps^(1/3) * max(1, |w|), compared with backprop's value: the per-array
maximum relative error, one difference written out, and example entries side by side, each read
as agree / close / differ, or "too small" where rounding in the loss could account for the
difference (at a tiny loss, L(w + h) and L(w - h) agree in almost every digit). Recomputed at
most every 3 seconds while training.

Above the table, a 1-D slice L(w) through one weight with the others held fixed
(``engine.slices``), drawn with its tangent at the current value, whose slope is backprop's dL/dw;
``[`` and ``]`` step through the weights the check compares.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...engine import inspect as insp
from ...engine.numbers import compact
from ...engine.slices import LossSlice, loss_slice, weight_name
from ...experiments.session import Snapshot
from ..widgets.line_chart import ChartSeries, LineChart
from .inside_base import InsideScreen

BATCH = 32
"""Training samples in the loss being differentiated."""
ENTRIES = 12
"""Most entries checked per parameter array (spread evenly; all of a smaller array)."""
BUDGET = 100
"""Most entries checked in all: a deep network gets fewer per array (each costs two forward
passes, and the check holds the interpreter while it runs)."""
INTERVAL = 3.0
"""Seconds between two checks while training (a check costs 10-80 ms of the interpreter)."""

STYLES = {"agree": "green", "close": "yellow", insp.TOO_SMALL: "dim", "differ": "bold red"}


def _index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _verdict_text(report: insp.GradCheckReport) -> Text:
    """The closing line: what the check says about backprop."""
    f = insp.format_number
    word = report.verdict
    text = Text()
    if word == insp.TOO_SMALL:
        text.append("\ntoo small to compare at this loss: ", style="bold")
        text.append("a nudge changes L so little that rounding in L (about "
                    f"±{f(report.noise, 2)}) could account for the differences", style=STYLES[word])
        return text
    text.append(f"\nlargest relative error {rel_error_text(report.max_rel_error)}: ", style="bold")
    text.append({"agree": "backprop is right",
                 "close": "close: the nudge itself is inexact for tiny or sharply curved gradients",
                 "differ": "backprop and the nudges disagree"}[word], style=STYLES[word])
    if report.too_small:
        text.append(f" ({report.too_small} of {report.checked} entries too small to compare "
                    "at this loss)", style="dim")
    return text


REL_ERROR_FLOOR = 1e-7
"""Relative errors below this are rounding noise of the differences (their digits change with any
last-bit change in the arithmetic): shown as ``< 1e-7``."""


def rel_error_text(value: float) -> str:
    """``3.2e-05``; ``< 1e-7`` for rounding noise; ``—`` when nothing could be compared."""
    if math.isnan(value):
        return "—"
    return f"< {REL_ERROR_FLOOR:.0e}".replace("e-0", "e-") if value < REL_ERROR_FLOOR else f"{value:.1e}"


def slice_weights(report: insp.GradCheckReport) -> list[tuple[int, tuple[int, ...]]]:
    """The weights ``[`` and ``]`` step through: every entry the check compared, array by array."""
    return [(row.index, tuple(e.index)) for row in report.rows for e in row.entries]


def slice_title(sl: LossSlice) -> Text:
    """The chart's title: what the slice is."""
    t = Text()
    t.append(f"L({sl.name})", style="bold cyan")
    t.append(", the others held fixed", style="bold")
    t.append(" · ")
    t.append("tangent", style="yellow")
    t.append(f" at w = {compact(sl.w0, 4)}")
    return t


def slice_text(sl: LossSlice, n_samples: int, loss: str) -> Text:
    """The line under the chart: the tangent's slope is backprop's partial derivative."""
    t = Text()
    t.append(f"{loss} on {n_samples} training samples along {sl.name} alone; slope of the tangent = "
             "backprop's dL/dw = ")
    t.append(f"{sl.slope:.6g}", style="bold")
    t.append(f"; on the slice (L(w + s) − L(w − s)) / 2s = {sl.numeric:.6g}, s = {sl.step:.2g}")
    return t


def tangent_shown(sl: LossSlice) -> np.ndarray:
    """The tangent over the slice's range, cut (NaN) where it leaves the curve's own range by more than
    half its height: a steep tangent would otherwise flatten the curve to a line."""
    y = sl.tangent(sl.ws)
    finite = sl.losses[np.isfinite(sl.losses)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(hi - lo, 1e-12 * max(1.0, abs(hi))) / 2
        y[(y < lo - pad) | (y > hi + pad)] = np.nan
    return y


class PartialsScreen(InsideScreen):
    """Gradient check of the current weights, and the loss along one of them."""

    VIEW_TITLE = "Partial derivatives"
    REDRAW_INTERVAL = INTERVAL

    DEFAULT_CSS = """
    PartialsScreen #pd-slice { height: 10; min-height: 6; }
    PartialsScreen #pd-slice-text { height: auto; }
    """

    BINDINGS = [
        Binding("right_square_bracket", "weight(1)", "Weight", key_display="[ ]"),
        Binding("left_square_bracket", "weight(-1)", "Weight", show=False),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.report: insp.GradCheckReport | None = None
        self.picked: tuple[int, tuple[int, ...]] | None = None
        """The weight the slice goes through (None: the worked example's)."""
        self.slice: LossSlice | None = None
        """The slice last drawn (for tests)."""

    def compose_view(self) -> ComposeResult:
        with VerticalScroll(id="pd-scroll", classes="inside-scroll"):
            yield LineChart(id="pd-slice")
            yield Static("", id="pd-slice-text", classes="inside-body")
            yield Static("", id="pd-body", classes="inside-body")

    def action_weight(self, step: int) -> None:
        """The next (previous) weight the check compares: the slice goes through it."""
        if self.report is None:
            return
        weights = slice_weights(self.report)
        if not weights:
            return
        current = (self.slice.param_index, self.slice.index) if self.slice is not None else weights[0]
        if current not in weights:
            current = weights[0]
        self.picked = weights[(weights.index(current) + step) % len(weights)]
        self.redraw()

    def draw(self, snap: Snapshot) -> None:
        exp = self.session.experiment
        d = exp.data
        net = self.network_copy(snap)
        X, Y = d.X_train[:BATCH], d.Y_train[:BATCH]
        entries = max(2, min(ENTRIES, BUDGET // len(net.params)))
        self.report = report = insp.gradient_check(net, X, Y, exp.loss, entries=entries)
        self._draw_slice(net, X, Y, exp.loss, report)
        f = insp.format_number
        head = Text()
        head.append("dL/dw ≈ (L(w + h) − L(w − h)) / 2h", style="bold")
        head.append(f" with h = {report.h:.4g} × max(1, |w|), on {report.n_samples} training samples "
                    f"({report.loss_name} = {report.loss:.6g}), up to {entries} entries per array.\n")
        w = report.worked
        if w is not None:
            name = f"{w.name}{_index_text(w.index)}"
            head.append(f"\n{name} = {f(w.w, 6)}\n", style="bold")
            head.append(f"  L(w + h) = {w.loss_plus:.15g}   L(w − h) = {w.loss_minus:.15g}\n")
            head.append(f"  numeric:  (L(w + h) − L(w − h)) / {f(2 * w.step, 4)} = ")  # h to as many digits
            head.append(f"{w.numeric:.8g}\n", style="bold")
            head.append("  backprop: ")
            head.append(f"{w.analytic:.8g}\n", style="bold")
            head.append(f"  rounding: each L is good to ±{f(report.noise, 2)}, the numeric value "
                        f"to ±{f(w.uncertainty, 2)}\n\n", style="dim")
        # Plain text columns: a Rich Table costs ~100 ms to lay out on every paint.
        table = Text()
        rows = []
        for row in report.rows:
            shape = "x".join(str(n) for n in row.shape)
            rel = rel_error_text(row.max_rel_error)
            for k, e in enumerate(row.examples or [None]):
                first = k == 0
                cells = (row.name if first else "", shape if first else "", rel if first else "")
                if e is None:
                    rows.append((*cells, "", "", "", ""))
                else:
                    rows.append((*cells, _index_text(e.index), f"{e.analytic: .6e}",
                                 f"{e.numeric: .6e}", e.status))
        w_name = max(4, *(len(r[0]) for r in rows))
        w_shape = max(5, *(len(r[1]) for r in rows))
        w_entry = max(5, *(len(r[3]) for r in rows))
        table.append(f"{'':<{w_name}} {'shape':<{w_shape}} {'max rel err':>11} "
                     f"{'entry':<{w_entry}} {'backprop':>13} {'numeric':>13}\n", style="bold")
        for name, shape, rel, entry, a, n, word in rows:
            table.append(f"{name:<{w_name}} {shape:<{w_shape}} {rel:>11} {entry:<{w_entry}} {a:>13} {n:>13}")
            if word:
                table.append(f"  {word}", style=STYLES[word])
            table.append("\n")
        tail = _verdict_text(report)
        tail.append("\nrelative error = |backprop − numeric| / max(|backprop|, |numeric|); too small: "
                    "rounding in L could account for the difference", style="dim")
        head.append_text(table)
        head.append_text(tail)
        self.update_text("#pd-body", head)

    def _draw_slice(self, net, X, Y, loss: str, report: insp.GradCheckReport) -> None:
        weights = slice_weights(report)
        if self.picked not in weights:
            self.picked = None
        if self.picked is not None:
            where = self.picked
        elif report.worked is not None:
            row = next(r for r in report.rows if r.name == report.worked.name)
            where = (row.index, tuple(report.worked.index))
        else:
            where = weights[0]
        self.slice = sl = loss_slice(net, X, Y, loss, *where)
        self.query_one("#pd-slice", LineChart).set_series(
            [ChartSeries(sl.ws, sl.losses, 6), ChartSeries(sl.ws, tangent_shown(sl), 3),
             ChartSeries(np.array([sl.w0]), np.array([sl.loss0]), 3, kind="scatter", marker="●")],
            title=slice_title(sl), x_label=weight_name(*where), x_steps=False)
        self.update_text("#pd-slice-text", slice_text(sl, len(X), report.loss_name))
