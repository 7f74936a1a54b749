"""The help screen: every key, and what each pane shows."""

from __future__ import annotations

from ..keys import key_names
from .help_box import MarkdownHelp

KEY_ROWS = (
    # (the main screen's actions, or keys that widgets bind, as written; what they do)
    (("toggle_training",), "start / pause training"),
    (("single_step",), "one training step (pauses first)"),
    (("reset",), "reset: new weights, history cleared (asks first when trained)"),
    (("lr_up", "lr_down"), "learning rate up / down a notch (1-2-5 ladder), at once"),
    (("pace(-1)", "pace(1)"), "slower / faster pace: 1 to 1,000 updates a second, or max (default 100)"),
    (("toggle_log",), "loss plot: linear / log scale"),
    (("layer(-1)", "layer(1)"), "previous / next layer in the heatmap"),
    (("cycle_view",), "heatmap: weights / last gradient / last update"),
    ("arrows", "move the heatmap cursor (value shown below it)"),
    (("toggle_config",), "to the config pane, at the field left there; from it, back to the plots"),
    (("focus_pane(1)", "focus_pane(-1)"), "next / previous pane"),
    ("`up` / `down` (`k` / `j`)", "previous / next field in the config pane"),
    ("`enter`", "open a list, toggle a box, apply a typed value"),
    ("`a` / `d`", "add a layer after the focused one / remove the focused layer"),
    (("leave_field",), "close a list; leave the config pane (c comes back to the field)"),
    (("save", "load"), "save / open an experiment (with its history)"),
    ("`ctrl+p`", "command palette: every action by name"),
    (("help",), "this help"),
    (("quit",), "quit (stops training first)"),
)
"""The help's table of keys: the main screen's keys are read from its bindings."""


def keys_table(screen: type) -> str:
    """The help's table of keys, as Markdown: the rows of ``KEY_ROWS`` with the keys bound on
    ``screen`` (the main screen's class), then one row per view."""
    from .views import VIEWS

    lines = ["| key | what it does |", "|---|---|"]
    for keys, text in KEY_ROWS:
        if not isinstance(keys, str):
            keys = " / ".join(f"`{name}`" for name in key_names(screen, *keys))
        lines.append(f"| {keys} | {text} |")
    lines += [f"| `{v.key}` | {v.description}: {v.help} |" for v in VIEWS]
    return "\n".join(lines) + "\n"


_PANES = """\
**Config** (left): the data, the hidden layers (width and activation of each; with two or more,
`all layers` above them sets every layer's activation at once and reads `mixed` while they differ),
the output layer and loss that the problem type implies, weight init, the optimizer with its own
hyperparameters, the learning rate, batch mode (full batch = batch gradient descent, mini-batch, single sample = SGD),
epochs and seed. Press Enter in a field to apply it; space trains from anywhere but a text field. The shape line shows `2 -> 16 -> 16 -> 1`
and each weight matrix's shape: rows are a layer's inputs, columns its nodes.

{generalization}

**Loss** (top): the loss of every step (called *cost* when each step sees the full batch) and the
validation loss at the end of each epoch. Current values are in the title.

**Weights** (bottom left): one layer's matrix `W` as colours (blue negative, orange positive, dark
near zero), its bias `b`, the colour scale, and the value under the cursor. `v` switches to the
last gradient dL/dW or the last update (how much the optimizer moved each weight).

**Status** (bottom right): state, epoch and step, cost, validation loss, accuracy or R^2, speed and
pace, elapsed time, optimizer and learning rate. A diverged run (the loss became NaN or infinite, or
the cost exploded to 10 times where it started) stops with a hint: lower the learning rate and
press space.
"""


def generalization_text() -> str:
    """The help's paragraph on the config's last fields: each registered setting's own words
    (``experiments.settings``), then the lr schedule."""
    from ...experiments.settings import by_rank

    shown = [s for s in by_rank() if s.help]  # one without a paragraph (the seed) is named above
    every_live = all(s.live for s in shown)
    where = "config, at the end; all apply while training, weights kept" if every_live else "config, at the end"
    parts = [s.help if every_live else f"{s.help} ({'live' if s.live else 'new weights'})" for s in shown]
    return (f"**Generalization** ({where}): " + " ".join(parts)
            + " *lr sched*: step, exponential or cosine, with its main parameter, applied each epoch.")


def panes_text() -> str:
    """The help's part on the panes, as Markdown."""
    return _PANES.format(generalization=generalization_text())


CLOSING = "*Escape closes this help (q and ? too); up, down, Page Up and Page Down scroll it.*"


class HelpScreen(MarkdownHelp):
    """Keys (the main screen's, ``keys_of``) and panes."""

    def markdown(self) -> str:
        return "# nn-tui help\n\n" + CLOSING + "\n\n" + compute_note() + "\n\n" + keys_table(self.keys_of) + "\n" + panes_text()


def compute_note() -> str:
    """What trains the network (the CPU, never a GPU), as one Markdown paragraph."""
    from ...experiments import compute  # looked up when help opens, not at start-up

    return f"**Compute**: {compute.describe_compute()}"
