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
from ...experiments.backprop import WIDTH, columns_for, dropout_notes, first_batch, optimizer_copy, trace_lines, trace_step
from ...experiments.session import Snapshot
from .inside_base import InsideScreen

HEADINGS = ("FORWARD", "LOSS", "BACKWARD", "UPDATE", "Layer ", "One training step")
"""Lines that start a part of the text: shown in bold."""


class BackpropScreen(InsideScreen):
    """One training step of the current network, written out."""

    VIEW_TITLE = "Backprop step by step"
    REDRAW_INTERVAL = 1.0

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("bp")

    def draw(self, snap: Snapshot) -> None:
        exp, cfg = self.session.experiment, self.session.config
        X, Y, note = first_batch(exp.data, cfg.training.batch_size, cfg.training.seed)
        state = snap.optimizer_state
        opt = optimizer_copy(state) if state is not None else optimizers.create(
            cfg.optimizer.name, lr=cfg.optimizer.lr, **cfg.optimizer.hparams)
        trace = trace_step(self.network_copy(snap), X, Y, exp.loss, opt, l1=cfg.network.l1, l2=cfg.network.l2)
        trace.batch_note, trace.notes = note, dropout_notes(cfg)
        text = Text()
        text.append(f"The next update from the weights of step {snap.step}, on the batch a run's first step "
                    "takes. Space trains and the numbers follow; pause to read.\n\n", style="dim")
        width = self.query_one("#bp-body").content_size.width or WIDTH
        for line in trace_lines(trace, cols=columns_for(width), width=width):
            text.append(line + "\n", style="bold" if line.startswith(HEADINGS) else "")
        self.update_text("#bp-body", text)
