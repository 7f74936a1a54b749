"""Weight inspector: one weight's value, its partial derivative, the optimizer's state for it, and
its last update written out with the numbers plugged in; and editing it by hand.

The heatmap's cursor picks the weight (arrows; ``[`` / ``]`` change layer). The explanation is
computed from the snapshot's copies (weights before and after the step, the gradient the step
used, the optimizer's state and hyperparameters), the way the optimizer computes it, so its
result is the weight's new value. ``e`` types a new value and ``+`` / ``-`` nudge it; the edit
goes through ``Session.set_weight``: at once when no step can be running, else on the training
thread before its next step.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ...engine import inspect as insp
from ...experiments.hparam_text import hparam_text
from ...experiments.session import Snapshot
from ..widgets.weight_heatmap import WeightHeatmap
from .inside_base import InsideScreen

NUDGE = 0.1
"""How far ``+`` / ``-`` move a weight."""


class InspectorScreen(InsideScreen):
    """Pick a weight; see and change it."""

    VIEW_TITLE = "Weight inspector"

    DEFAULT_CSS = """
    InspectorScreen WeightHeatmap { height: 1fr; min-height: 6; padding: 0 1; }
    InspectorScreen #wi-panel {
        height: auto;
        max-height: 50%;
        padding: 0 1;
        border-top: hkey $primary 30%;
    }
    InspectorScreen #wi-edit { display: none; margin: 0 1; }
    InspectorScreen.-editing #wi-edit { display: block; }
    """

    BINDINGS = [
        # One footer entry for both ("[] Layer"), and "Nudge" without its amount: at 80 columns
        # the footer cut "+/- Nudge ±0.1" to "+/-".
        Binding("left_square_bracket", "layer(-1)", "Layer", key_display="[]",
                tooltip="[ and ]: the previous and the next layer"),
        Binding("right_square_bracket", "layer(1)", "Next layer", key_display="]", show=False),
        Binding("e", "edit", "Edit"),
        Binding("plus,equals_sign", "nudge(1)", "Nudge", key_display="+/-",
                tooltip=f"Nudge the weight by +{NUDGE:g} / -{NUDGE:g}"),
        Binding("minus", "nudge(-1)", f"Nudge -{NUDGE:g}", show=False),
    ]

    def __init__(self, training) -> None:
        super().__init__(training)
        self.layer_index = 0
        """0-based layer whose W is shown."""

    def compose_view(self) -> ComposeResult:
        yield WeightHeatmap(empty_hint="no weights")
        yield Input(placeholder="new value, e.g. 0.5 (Enter sets it, Escape cancels)", id="wi-edit")
        yield Static("", id="wi-panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(WeightHeatmap).focus()

    # -- what is selected ------------------------------------------------------------------

    @property
    def param_index(self) -> int:
        return 2 * self.layer_index

    @property
    def cursor(self) -> tuple[int, int]:
        return self.query_one(WeightHeatmap).cursor

    # -- drawing ---------------------------------------------------------------------------

    def draw(self, snap: Snapshot) -> None:
        n_layers = len(snap.params) // 2
        self.layer_index = min(self.layer_index, n_layers - 1)
        i = self.param_index
        W, b = snap.params[i], snap.params[i + 1]
        k = self.layer_index + 1
        self.query_one(WeightHeatmap).set_matrix(
            W, b, title=f"W{k} ({W.shape[0]} x {W.shape[1]}) weights · layer {k}/{n_layers}", symbol=f"W{k}",
        )
        self._panel(snap)

    def _panel(self, snap: Snapshot) -> None:
        i = self.param_index
        row, col = self.cursor
        W = snap.params[i]
        if not (row < W.shape[0] and col < W.shape[1]):
            return
        w_now = float(W[row, col])
        grad = float(snap.grads[i][row, col])
        name = f"W{self.layer_index + 1}[{row}, {col}]"
        f = insp.format_number
        t = Text()
        t.append(f"{name}", style="bold")
        t.append(f": dL/dw = {f(grad, 6)}", style="bold")
        opt = snap.optimizer_state
        if opt is None:
            self.update_text("#wi-panel", t)
            return
        entries = insp.state_entries(opt, i, (row, col))
        if entries:
            t.append(f" · {opt['name']} state: ")
            t.append(", ".join(f"{k.split(' ')[0]} = {f(v)}" for k, v in entries.items()))
        t.append("\n")
        before = snap.params[i] - snap.updates[i]
        exp = insp.update_explanation(opt, i, (row, col), before, snap.grads[i])
        if snap.step:
            t.append(f"last update (step {snap.step}, {opt['name']}, {_hparams(opt)}):\n", style="dim")
        lines = [line for line in exp.lines if not line.startswith("g = dL/dw")]
        for line in lines:
            t.append("  " + line + "\n", style="bold" if line is lines[-1] else "")
        if snap.step and (i, row, col) in snap.edited:
            t.append(f"  edited by hand since: now {f(w_now, 6)}\n", style="bold yellow")
        elif snap.step and not math.isclose(exp.new_value, w_now, rel_tol=1e-9, abs_tol=1e-12):
            t.append(f"  changed since that step: now {f(w_now, 6)}\n", style="bold yellow")
        t.rstrip()
        self.update_text("#wi-panel", t)

    @on(WeightHeatmap.CursorMoved)
    def _cursor_moved(self) -> None:
        if self.snapshot is not None:
            self._panel(self.snapshot)

    # -- keys ------------------------------------------------------------------------------

    def action_layer(self, delta: int) -> None:
        if self.snapshot is not None:
            n_layers = len(self.snapshot.params) // 2
            self.layer_index = (self.layer_index + delta) % n_layers
            self.redraw()

    def action_edit(self) -> None:
        """Type a new value for the weight under the cursor."""
        if self.snapshot is None:
            return
        row, col = self.cursor
        field = self.query_one("#wi-edit", Input)
        field.value = f"{float(self.snapshot.params[self.param_index][row, col]):.6g}"
        self.add_class("-editing")
        field.focus()

    def action_nudge(self, direction: int) -> None:
        if self.snapshot is None:
            return
        row, col = self.cursor
        self.set_weight(float(self.snapshot.params[self.param_index][row, col]) + direction * NUDGE)

    def action_close(self) -> None:
        if self.has_class("-editing"):
            self._end_edit()
        else:
            super().action_close()

    @on(Input.Submitted, "#wi-edit")
    def _edit_submitted(self, event: Input.Submitted) -> None:
        try:
            value = float(event.value)
        except ValueError:
            self.notify(f"not a number: {event.value!r}", severity="warning", timeout=3)
            return
        self._end_edit()
        self.set_weight(value)

    def _end_edit(self) -> None:
        self.remove_class("-editing")
        self.query_one(WeightHeatmap).focus()

    def set_weight(self, value: float) -> None:
        """Write ``value`` into the weight under the cursor through the session."""
        row, col = self.cursor
        try:
            now = self.session.set_weight(self.param_index, row, col, value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", timeout=4)
            return
        name = f"W{self.layer_index + 1}[{row}, {col}]"
        if now:
            self.training.show_current()  # every pane and this view
            self.notify(f"{name} = {value:.6g}", timeout=2)
        else:
            self.notify(f"{name} = {value:.6g} (before the next step)", timeout=2)


def _hparams(opt: dict) -> str:
    """The hyperparameters that differ from zero / false, e.g. ``lr 0.01, betas (0.9, 0.999)``."""
    shown = [f"{k} {hparam_text(v, enclosed=True)}" for k, v in opt["hparams"].items() if v not in (0, 0.0, False)]
    return ", ".join(shown)
