"""Loss and output: mse, bce and softmax cross-entropy written out on a batch, with the numbers.

On the first batch of the training set (the batch size's worth of samples, all of them for a full
batch), through the live network's copy: a few samples' logits z, outputs p = f(z), targets y and
errors p - y; each loss that fits the output layer (the experiment's own first) as its terms' sum,
the count it is divided by and the mean, which is the engine's loss; the gradient at the output
dL/dz and, for the experiment's loss, its sum over the batch next to backprop's bias gradient of the
output layer; signed errors against their squares; and a naive binary cross-entropy against the
engine's, on this batch where a sigmoid output allows it and on saturated logits where the naive
one takes log(0). Every number comes from ``engine.loss_terms`` when the view draws.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.app import ComposeResult

from ...engine import loss_terms as lt
from ...engine.network import Network
from ...engine.numbers import compact
from ...experiments.session import Snapshot
from .inside_base import InsideScreen

ROWS = 3
"""Samples written out one by one."""
ENTRIES = 3
"""Outputs shown of a wider output layer (the rest are "…")."""
LOSS_NAMES = {"mse": "mse", "bce": "bce", "cross_entropy": "softmax cross-entropy"}


def vector(values, digits: int = 4) -> str:
    """``[0.41, -1.2, …]``: the first ``ENTRIES`` values."""
    values = np.asarray(values, dtype=np.float64).ravel()
    shown = [compact(v, digits) for v in values[:ENTRIES]]
    return "[" + ", ".join(shown) + (", …" if values.size > ENTRIES else "") + "]"


def batch_size_of(batch_size, n_train: int) -> int:
    """Samples in one batch: the batch size (``full``: every training sample), at most ``n_train``."""
    return n_train if batch_size == "full" else max(1, min(int(batch_size), n_train))


def loss_report(net: Network, X, Y, used: str, batch_note: str) -> Text:
    """The view's text for the network ``net`` on the batch ``(X, Y)`` with the experiment's loss ``used``
    (a diverged network's NaN and inf are written as such, without NumPy's warnings)."""
    with np.errstate(all="ignore"):
        return _loss_report(net, X, Y, used, batch_note)


def _loss_report(net: Network, X, Y, used: str, batch_note: str) -> Text:
    out_act = net.activations[-1]
    z, p = lt.output_logits(net, X)
    Y = np.asarray(Y, dtype=np.float64).reshape(p.shape)
    n, k = p.shape
    names = [used] + [name for name in lt.applicable(out_act, Y) if name != used]
    t = Text()
    t.append(f"batch: {batch_note}; output layer: {k} unit{'s' if k != 1 else ''}, {out_act}\n", style="bold")
    t.append(f"this experiment's loss: {LOSS_NAMES[used]}", style="bold")
    others = [LOSS_NAMES[x] for x in names[1:]]
    t.append("; also fits this output and its targets: " + ", ".join(others) if others
             else "; no other loss fits this output and its targets")
    t.append("\n")
    for i in range(min(ROWS, n)):
        t.append(f"  sample {i + 1}: z = {vector(z[i])}  p = f(z) = {vector(p[i])}  y = {vector(Y[i])}"
                 f"  p - y = {vector(p[i] - Y[i])}\n")

    used_terms = None
    for name in names:
        terms = lt.loss_terms(name, z, p, Y, out_act)
        if name == used:
            used_terms = terms
        term, over, grad = lt.FORMULAS[name]
        t.append(f"\n{LOSS_NAMES[name]}{' (this experiment)' if name == used else ''}: {term}\n", style="bold")
        what = "elements" if name != "cross_entropy" else "samples"
        t.append(f"  sum of the {terms.count} terms = {compact(terms.total, 6)}   "
                 f"mean = sum / {terms.count} = ")
        t.append(compact(terms.mean, 6), style="bold")
        t.append(f"  ({over})\n")
        t.append(f"  {grad}; sample 1: {vector(terms.grad_z[0])}\n")
        if name != "mse":
            t.append(f"  the {out_act}'s f'(z) cancels against the log's derivative: p - y is all that is left\n",
                     style="dim")
        elif out_act != "linear":
            t.append(f"  the {out_act}'s f'(z) stays in: a saturated output passes little gradient back\n",
                     style="dim")
        t.append(f"  as a sum instead of a mean: the same minimum, a gradient {terms.count} times larger "
                 f"(the {terms.count} {what} at once)\n", style="dim")

    if used_terms is not None:
        _, grads = net.loss_and_grads(X, Y, used)
        t.append("\nbackprop: ", style="bold")
        t.append(f"db of the output layer = {vector(grads[-1], 6)} = the sum over the batch of dL/dz "
                 f"= {vector(used_terms.grad_z.sum(axis=0), 6)}\n")

    s = lt.signed_errors(p, Y)
    t.append("\nsigned errors cancel; squares do not\n", style="bold")
    if not np.all(np.isfinite(p)):
        t.append("  the outputs are not finite on this batch (the training diverged): nothing to compare\n",
                 style="bold red")
    t.append(f"  sum of p - y over the {p.size} elements = ")
    t.append(compact(s.signed_sum, 4), style="bold")
    t.append(f" ({s.positive} above 0, {s.negative} below)\n")
    t.append(f"  sum of |p - y| = {compact(s.abs_sum, 4)}   sum of (p - y)^2 = ")
    t.append(compact(s.square_sum, 4), style="bold")
    t.append("\n")
    if not np.all(np.isfinite(p)):
        pass
    elif s.cancels:
        t.append("  errors of both signs are here: in the signed sum they cancel, so it is smaller than the "
                 "sum of their sizes; a square is never below 0, so the sum of squares is 0 only where "
                 "every p = y\n", style="dim")
    else:
        t.append("  every error has the same sign on this batch: nothing cancels here; with errors of both "
                 "signs the signed sum would shrink while the squares still add up\n", style="dim")
    if out_act == "softmax" and Y.sum(axis=1).round(12).tolist() == [1.0] * n:
        t.append("  softmax against one-hot targets: each sample's p - y sums to 0 (both sum to 1), "
                 "whatever the prediction\n", style="dim")

    t.append("\nnaive vs stable bce\n", style="bold")
    t.append("  naive: p = 1 / (1 + np.exp(-z)), then -(y log p + (1 - y) log(1 - p)); "
             "stable (the engine's): log(1 + e^z) - y z from the logit\n")
    if "bce" in names:
        _, naive = lt.naive_bce_terms(z, Y)
        bad = int((~np.isfinite(naive)).sum())
        stable = lt.loss_terms("bce", z, p, Y, out_act).mean
        t.append(f"  on this batch: naive mean = {compact(float(naive.mean()), 8)}, stable = "
                 f"{compact(stable, 8)}; {bad} of {naive.size} naive terms not finite; "
                 f"largest |z| = {compact(float(np.abs(z).max()), 4)}\n")
    elif out_act != "sigmoid":
        t.append(f"  bce needs a sigmoid output, this one is {out_act}: saturated logits instead\n")
    else:
        t.append("  bce needs targets in [0, 1], these are not: saturated logits instead\n")
    t.append(f"  p rounds to exactly 1.0 in float64 from z = {lt.saturating_logit():g}: then log(1 - p) "
             "= log(0)\n", style="dim")
    for zc, yc in lt.NAIVE_BCE_CASES:
        pc, naive_c, stable_c = lt.naive_bce(zc, yc)
        term = "-log(1 - p)" if pc == 1.0 else "0 * log(p)"
        t.append(f"  z = {zc:g}, y = {yc:g}: p = {pc!r}, {term} = ")
        t.append(f"{naive_c}", style="bold red" if not math.isfinite(naive_c) else "")
        t.append(f"; stable: {stable_c:g}\n")
    t.rstrip()
    return t


class LossOutputScreen(InsideScreen):
    """The losses on the current batch, written out."""

    VIEW_TITLE = "Loss and output"
    REDRAW_INTERVAL = 1.0

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("losses")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#losses-scroll").focus()

    def draw(self, snap: Snapshot) -> None:
        exp = self.session.experiment
        d = exp.data
        bs = exp.config.training.batch_size
        n = batch_size_of(bs, len(d.X_train))
        if bs == "full":
            note = f"all {n} training samples (full batch)"
        elif n < bs:
            note = f"all {n} training samples (fewer than the batch size {bs})"
        else:
            note = f"the first {n} training samples (batch size {bs})"
        net = self.network_copy(snap)
        self.update_text("#losses-body", loss_report(net, d.X_train[:n], d.Y_train[:n], exp.loss, note))
