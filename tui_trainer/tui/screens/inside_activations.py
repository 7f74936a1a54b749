"""Activation distributions: a histogram of each layer's outputs over the training set.

Dead relu units (0 for every training sample, so no gradient ever passes them) and saturated sigmoid
or tanh outputs (in the flat ends, where the slope is almost 0) are counted and drawn in red. The
count covers the whole training set (up to ``MAX_SAMPLES``, and the note says how many): on a batch
a unit that fires on a few samples elsewhere would be counted dead.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from ...engine import inspect as insp
from ...experiments.session import Snapshot
from .inside_base import InsideScreen

MAX_SAMPLES = 20_000
"""The most training samples the histograms and counts are taken over (the first ones; the note says so)."""
_EIGHTHS = " ▁▂▃▄▅▆▇█"


def column_bars(counts: np.ndarray, height: int) -> list[str]:
    """Vertical bars of ``counts`` (one column each), ``height`` lines tall, top line first."""
    counts = np.asarray(counts, dtype=np.float64)
    top = counts.max() if counts.size else 0.0
    levels = 8 * height
    if top > 0:
        filled = np.where(counts > 0, np.maximum(1, np.round(counts / top * levels)), 0).astype(int)
    else:
        filled = np.zeros(len(counts), dtype=int)
    lines = []
    for j in range(height):
        floor = (height - 1 - j) * 8
        lines.append("".join(_EIGHTHS[min(8, max(0, f - floor))] for f in filled.tolist()))
    return lines


def _saturated_bins(stats: insp.ActivationStats) -> np.ndarray:
    """Which bins lie in the flat ends of a bounded activation."""
    centres = (stats.edges[:-1] + stats.edges[1:]) / 2
    if stats.activation in ("sigmoid", "softmax"):
        return (centres < insp.SATURATION) | (centres > 1 - insp.SATURATION)
    if stats.activation == "tanh":
        return np.abs(centres) > 1 - insp.SATURATION
    return np.zeros(len(centres), dtype=bool)


def layer_stats(net, data, bins: int = 32) -> tuple[list[insp.ActivationStats], int]:
    """Every layer's histogram and counts over the training set of ``data`` (its first ``MAX_SAMPLES``
    samples when larger), and how many samples that was."""
    X = data.X_train[:MAX_SAMPLES]
    return insp.activation_histograms(net, X, bins=bins), len(X)


class ActivationsScreen(InsideScreen):
    """Per-layer histograms of the outputs, with dead and saturated units."""

    VIEW_TITLE = "Activations"
    REDRAW_INTERVAL = 1.0  # a forward pass and a histogram per layer: once a second is plenty

    DEFAULT_CSS = """
    ActivationsScreen #act-note { height: auto; padding: 0 1; color: $text-muted; }
    """

    def compose_view(self) -> ComposeResult:
        yield Static("", id="act-note")
        yield from self.scrolling_text("act")

    def on_resize(self) -> None:
        self.call_after_refresh(self.redraw)

    def draw(self, snap: Snapshot) -> None:
        d = self.session.experiment.data
        scroll = self.query_one("#act-scroll")
        width = max(30, scroll.content_size.width or self.size.width - 2)
        label_w = 7
        bins = max(8, width - 2 * label_w - 2)
        stats, n = layer_stats(self.network_copy(snap), d, bins=bins)
        total = len(d.X_train)
        where = f"all {n:,} training samples" if n == total else f"the first {n:,} of {total:,} training samples"
        note = Text(f"Each layer's outputs on {where}. ", style="dim")
        note.append("Red: ", style="bold red")
        note.append("dead relus (0 for every one of them: no gradient) and saturated outputs "
                    "(sigmoid < 0.01 or > 0.99, |tanh| > 0.99: slope ~0).", style="dim")
        self.update_text("#act-note", note)
        # The room left under the note (laid out after this call, so worked out here).
        note_lines = len(note.wrap(self.app.console, max(1, self.size.width - 2)))
        avail = max(1, self.size.height - 2 - note_lines)
        per_layer = avail // max(1, len(stats))
        height = max(1, min(8, per_layer - 1))
        t = Text()
        last = len(stats) - 1
        for s in stats:
            self._layer(t, s, height, label_w, is_output=s.layer - 1 == last)
        t.rstrip()
        self.update_text("#act-body", t)

    def _layer(self, t: Text, s: insp.ActivationStats, height: int, label_w: int, is_output: bool) -> None:
        name = "output" if is_output else f"layer {s.layer}"
        t.append(f"{name}", style="bold")
        t.append(f" · {s.activation} · {s.n_units} unit{'s' * (s.n_units != 1)}  ", style="")
        if s.activation == "relu":
            style = "bold red" if s.dead_units else ""
            t.append(f"= 0: {s.zero_fraction:.0%} of outputs", style="")
            t.append(" · ")
            t.append(f"dead {s.dead_units}/{s.n_units}", style=style)
        elif s.activation in ("sigmoid", "tanh", "softmax") and is_output:
            # A saturated output is a confident prediction; its loss (bce / cross-entropy) is
            # computed from the logits, so no gradient is lost there.
            t.append(f"confident {s.saturated_fraction:.0%} (< 0.01 or > 0.99)")
        elif s.activation in ("sigmoid", "tanh", "softmax"):
            style = "bold red" if s.saturated_fraction >= 0.25 else ""
            t.append(f"saturated {s.saturated_fraction:.0%}", style=style)
            if s.saturated_units:
                t.append(f" · {s.saturated_units}/{s.n_units} units always", style="bold red")
        else:
            t.append(f"mean {s.mean:.3g} · std {s.std:.3g}")
        t.append("\n")
        lines = column_bars(s.counts, height)
        red = _saturated_bins(s) if not is_output else np.zeros(len(s.counts), dtype=bool)
        low = insp.format_number(s.low, 3)
        high = insp.format_number(s.high, 3)
        color = "green" if s.activation == "relu" else "cyan"
        for j, line in enumerate(lines):
            left = (low if j == len(lines) - 1 else "").rjust(label_w - 1) + "▕"
            t.append(left, style="dim")
            flags = red.tolist()
            start = 0
            for end in range(1, len(line) + 1):  # one span per run of one colour
                if end == len(line) or flags[end] != flags[start]:
                    t.append(line[start:end], style="red" if flags[start] else color)
                    start = end
            t.append("▏" + (high if j == len(lines) - 1 else ""), style="dim")
            t.append("\n")
