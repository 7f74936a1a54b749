"""Partial derivatives: backprop's gradient next to the one found by nudging each weight.

For a few entries of every parameter array, dL/dw ~ (L(w + h) - L(w - h)) / 2h on a small
training batch, compared with backprop's value: the per-array maximum relative error, one
difference written out, and example entries side by side. Recomputed at most every 3 seconds
while training.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from ...engine import inspect as insp
from ...session import Snapshot
from .inside_base import InsideScreen

BATCH = 32
"""Training samples in the loss being differentiated."""
ENTRIES = 12
"""Most entries checked per parameter array (spread evenly; all of a smaller array)."""
BUDGET = 100
"""Most entries checked in all: a deep network gets fewer per array (each costs two forward
passes, and the check holds the interpreter while it runs)."""
H = 1e-6
INTERVAL = 3.0
"""Seconds between two checks while training (a check costs 10-80 ms of the interpreter)."""


def _verdict(rel: float) -> tuple[str, str]:
    """The usual reading of a gradient check's relative error (e.g. CS231n's notes)."""
    if rel < 1e-4:
        return "agree", "green"
    if rel < 1e-2:
        return "close", "yellow"
    return "differ", "bold red"


def _index_text(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


class PartialsScreen(InsideScreen):
    """Gradient check of the current weights."""

    VIEW_TITLE = "Partial derivatives"
    REDRAW_INTERVAL = INTERVAL

    def __init__(self, main) -> None:
        super().__init__(main)
        self.report: insp.GradCheckReport | None = None

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("pd")

    def draw(self, snap: Snapshot) -> None:
        exp = self.session.experiment
        d = exp.data
        net = self.network_copy(snap)
        X, Y = d.X_train[:BATCH], d.Y_train[:BATCH]
        entries = max(2, min(ENTRIES, BUDGET // len(net.params)))
        self.report = report = insp.gradient_check(net, X, Y, exp.loss, entries=entries, h=H)
        f = insp.format_number
        head = Text()
        head.append("dL/dw ≈ (L(w + h) − L(w − h)) / 2h", style="bold")
        head.append(f", h = {H:g}, on {report.n_samples} training samples "
                    f"({report.loss_name} = {report.loss:.6g}), up to {entries} entries per array.\n")
        w = report.worked
        if w is not None:
            name = f"{w.name}{_index_text(w.index)}"
            head.append(f"\n{name} = {f(w.w, 6)}:  ", style="bold")
            head.append(f"L(w + h) = {w.loss_plus:.12f}   L(w − h) = {w.loss_minus:.12f}\n")
            head.append(f"  numeric: (L(w + h) − L(w − h)) / {2 * H:g} = ")
            head.append(f"{w.numeric:.8g}", style="bold")
            head.append("   backprop: ")
            head.append(f"{w.analytic:.8g}\n\n", style="bold")
        # Plain text columns: a Rich Table costs ~100 ms to lay out on every paint.
        table = Text()
        rows = []
        for row in report.rows:
            shape = "x".join(str(n) for n in row.shape)
            examples = row.examples or [((), float("nan"), float("nan"))]
            for k, (index, a, n) in enumerate(examples):
                first = k == 0
                rows.append((row.name if first else "", shape if first else "",
                             f"{row.max_rel_error:.1e}" if first else "",
                             _verdict(row.max_rel_error) if first else ("", ""),
                             _index_text(index), f"{a: .6e}", f"{n: .6e}"))
        w_name = max(4, *(len(r[0]) for r in rows))
        w_shape = max(5, *(len(r[1]) for r in rows))
        w_entry = max(5, *(len(r[4]) for r in rows))
        table.append(f"{'':<{w_name}} {'shape':<{w_shape}} {'max rel err':>11} {'':<6} "
                     f"{'entry':<{w_entry}} {'backprop':>13} {'numeric':>13}\n", style="bold")
        for name, shape, rel, (word, style), entry, a, n in rows:
            table.append(f"{name:<{w_name}} {shape:<{w_shape}} {rel:>11} ")
            table.append(f"{word:<6}", style=style)
            table.append(f" {entry:<{w_entry}} {a:>13} {n:>13}\n")
        tail = Text()
        tail.append(f"\nlargest relative error {report.max_rel_error:.1e}: ", style="bold")
        word, style = _verdict(report.max_rel_error)
        tail.append({"agree": "backprop is right",
                     "close": "close: the nudge itself is inexact for tiny or sharply curved gradients",
                     "differ": "backprop and the nudges disagree"}[word], style=style)
        tail.append("\nrelative error = |backprop − numeric| / max(|backprop|, |numeric|, 1e-8)", style="dim")
        head.append_text(table)
        head.append_text(tail)
        self.update_text("#pd-body", head)
