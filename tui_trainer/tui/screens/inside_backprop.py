"""Backprop step by step: the next training step on the first batch, written out with its numbers.

From the live network's copy and the optimizer's state as the snapshot has them, on the batch a
run's first step takes: per layer z = aW + b and a = f(z), the loss, delta = (delta_next W^T) * f'(z)
with f'(z) named (sigmoid's at most 1/4 shrinks delta), dW = a^T delta, db and the new W and b after
the optimizer's own step (``experiments.backprop``); each matrix's top-left corner, saying which
rows and columns are shown. It follows the network as it trains (pause with space to read).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from ...engine import optimizers
from ...experiments.backprop import WIDTH, StepTrace, columns_for, dropout_notes, first_batch, penalties, optimizer_copy, trace_lines, trace_step
from ...experiments.session import Snapshot
from .inside_base import InsideScreen

HEADINGS = ("FORWARD", "LOSS", "BACKWARD", "UPDATE", "Layer ", "One training step")
"""Lines that start a part of the text: shown in bold."""


class BackpropScreen(InsideScreen):
    """One training step of the current network, written out."""

    VIEW_TITLE = "Backprop step by step"
    REDRAW_INTERVAL = 1.0

    def __init__(self, training) -> None:
        super().__init__(training)
        self.trace: StepTrace | None = None
        """The step shown last."""

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("bp")

    def draw(self, snap: Snapshot) -> None:
        exp, cfg = self.session.experiment, self.session.config
        X, Y, note = first_batch(exp.data, cfg.training.batch_size, cfg.training.seed)
        o, state = cfg.optimizer, snap.optimizer_state
        if state is not None and state.get("name") == o.name:  # its state (momentum, Adam's averages) goes on
            opt = optimizer_copy(state)
            if o.schedule is None:  # the lr and settings as set now (a schedule sets the lr itself)
                opt.set(**{**o.hparams, "lr": o.lr})
        else:  # none yet, or another optimizer chosen since the last update: it starts fresh
            opt = optimizers.create(o.name, lr=o.lr, **o.hparams)
        try:
            trace = trace_step(self.network_copy(snap), X, Y, exp.loss, opt, **penalties(cfg))
        except ValueError as exc:  # e.g. a saved optimizer state that does not fit these weights
            self.update_text("#bp-body", Text(f"cannot write this step out: {exc}"))
            return
        trace.batch_note, trace.notes = note, dropout_notes(cfg)
        self.trace = trace
        text = Text()
        text.append(f"The next update from the weights of step {snap.step}, on the batch a run's first step "
                    "takes. Space trains and the numbers follow; pause to read.\n\n", style="dim")
        width = self.query_one("#bp-body").content_size.width or WIDTH
        for line in trace_lines(trace, cols=columns_for(width), width=width):
            text.append(line + "\n", style="bold" if line.startswith(HEADINGS) else "")
        self.update_text("#bp-body", text)
