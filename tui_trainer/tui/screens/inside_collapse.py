"""Linear collapse: without nonlinear activations, many layers are one layer.

When every hidden activation is ``linear`` the network computes
``f(((X @ W1 + b1) @ W2 + b2) ... @ Wn + bn) = f(X @ W + b)`` with ``W = W1 @ W2 @ ... @ Wn``:
this view shows that ``W`` and ``b`` and the largest difference between the two outputs (only
rounding). Otherwise it says which layers stop the collapse.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult

from ...engine import inspect as insp
from ...engine.metrics import accuracy, r2_score
from ...experiments.session import Snapshot
from ...experiments.wording import plural
from .inside_base import InsideScreen

MAX_ROWS, MAX_COLS = 8, 6
"""The largest part of W printed; the rest is elided."""


def matrix_text(M: np.ndarray, row_name: str, col_name: str) -> Text:
    """``M`` as aligned columns of numbers (its top-left corner only when large)."""
    rows, cols = M.shape
    shown_cols = min(cols, MAX_COLS)
    label_w = len(f"{row_name}{rows - 1}")
    t = Text()
    t.append(" " * label_w, style="dim")
    for j in range(shown_cols):
        t.append(f" {col_name + str(j):>9}", style="dim")
    t.append(" …\n" if cols > shown_cols else "\n", style="dim")
    for i in range(min(rows, MAX_ROWS)):
        t.append(f"{row_name}{i}".rjust(label_w), style="dim")
        t.append("".join(f" {M[i, j]:>9.4f}" for j in range(shown_cols)))
        t.append(" …\n" if cols > shown_cols else "\n")
    if rows > MAX_ROWS:
        t.append("…".rjust(label_w) + "\n", style="dim")
    return t


class CollapseScreen(InsideScreen):
    """The single matrix a linear network amounts to."""

    VIEW_TITLE = "Linear collapse"

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("collapse")

    def draw(self, snap: Snapshot) -> None:
        net = self.network_copy(snap)
        d = self.session.experiment.data
        X = np.concatenate([d.X_train, d.X_val])
        result = insp.linear_collapse(net, X)
        if result is None:
            self.update_text("#collapse-body", self._not_linear(net))
            return
        n = len(result.shapes)
        t = Text()
        t.append("Every hidden layer is linear, so the network is one linear layer:\n", style="bold")
        chain = " @ ".join(f"W{i + 1}" for i in range(n))
        shapes = " @ ".join(f"{a}x{b}" for a, b in result.shapes)
        t.append(f"  W = {chain}", style="bold")
        t.append(f"   ({shapes}) -> {result.W.shape[0]}x{result.W.shape[1]}\n")
        t.append("  b = (...((b1 @ W2 + b2) @ W3 + b3) ...) @ W" + f"{n} + b{n}\n", style="bold")
        f = result.output_activation
        t.append(f"  output = {f}(X @ W + b)\n\n")
        t.append("W", style="bold")
        t.append(f" ({plural(result.W.shape[0], 'input')} x {plural(result.W.shape[1], 'output')})", style="dim")
        t.append("\n")
        W_table = matrix_text(result.W, "x", "out")
        t2 = Text()
        t2.append("b", style="bold")
        t2.append("  " + "  ".join(f"{v: .4f}" for v in result.b[:MAX_COLS]))
        if len(result.b) > MAX_COLS:
            t2.append("  …")
        t2.append("\n\n")
        t2.append("network output vs f(X @ W + b)", style="bold")
        t2.append(f" on all {result.n_samples} samples: max |difference| = ")
        ok = result.max_abs_diff < 1e-10
        t2.append(f"{result.max_abs_diff:.2e}", style="bold green" if ok else "bold red")
        t2.append("  (only rounding)\n" if ok else "\n")
        score = self._score(net, d)
        if score:
            t2.append("\n" + score + "\n")
        t2.append(
            "\nStacking linear layers adds parameters but no power: a product of matrices is a matrix. "
            "One layer draws a straight decision boundary, so it cannot separate xor "
            "(compare the presets linear-xor and relu-xor: p).", style="dim")
        t.append_text(W_table)
        t.append_text(t2)
        self.update_text("#collapse-body", t)

    def _score(self, net, d) -> str:
        problem = d.dataset.problem
        if not len(d.X_train):
            return ""
        out = net.forward(d.X_train)
        if problem == "regression":
            return f"R² of this single linear layer on the training set: {r2_score(out, d.Y_train):.3f}"
        return f"accuracy of this single linear layer on the training set: {accuracy(out, d.y_train, problem):.3f}"

    def _not_linear(self, net) -> Text:
        t = Text()
        hidden = net.activations[:-1]
        if not hidden:
            t.append("This network has no hidden layer: it already is a single layer ", style="bold")
            t.append(f"{net.activations[-1]}(X @ W1 + b1).\n")
            return t
        t.append("No collapse: ", style="bold")
        bad = [f"layer {i + 1} ({a})" for i, a in enumerate(hidden) if a != "linear"]
        t.append(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} nonlinear.\n\n")
        t.append(
            "A nonlinear activation between two layers is what keeps them from multiplying out into "
            "one matrix. With every hidden activation linear, W1 @ W2 @ ... @ Wn would be a single "
            "matrix W and the whole network one linear layer, with a straight decision boundary.\n\n")
        t.append("To see it: ", style="bold")
        t.append("press p and pick linear-xor (3 linear layers on xor), or set the hidden activations "
                 "to linear in the config pane (Escape, then ctrl+p: Set activation).")
        return t
