"""Initialization and symmetry: the weight schemes side by side on the current network's shape.

For zeros, a constant, small, normal, Xavier and He (``engine.symmetry``), each drawn from the
experiment's seed: the spread (std) of every layer's outputs on the first training samples at the
start, and the largest difference between two units of each hidden layer at the start and after a
few steps of the experiment's optimizer on those samples (a copy each: the live network is not
touched). Computed once per shape, data and optimizer: it does not depend on the live weights.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from ...engine import symmetry as sym
from ...engine.initializers import scheme_for
from ...engine.numbers import compact
from ...experiments.session import Snapshot
from .inside_base import InsideScreen, network_shape

SAMPLES = 64
"""Training samples the spreads are measured on and the copies are trained on."""
STEPS = 20
"""Full-batch steps each copy is trained."""
WORDS = {"identical": "identical", "identical up to rounding": "same (rounding)", "distinct": "distinct",
         "diverged": "diverged"}


def _number(value: float) -> str:
    return "0" if value == 0 else compact(value, 2)


def layer_names(n_layers: int) -> list[str]:
    return [f"layer {i + 1}" for i in range(n_layers - 1)] + ["output"]


def runs(values) -> list[tuple[int, int, str]]:
    """``(first, last, value)`` for each run of equal neighbours (0-based, inclusive)."""
    out: list[tuple[int, int, str]] = []
    for i, v in enumerate(values):
        if out and out[-1][2] == v:
            out[-1] = (out[-1][0], i, v)
        else:
            out.append((i, i, v))
    return out


def _layers(first: int, last: int, n_layers: int) -> str:
    """``layer 2``, ``layers 1-6``, ``output``, ``layers 1-2 and the output``."""
    top = n_layers - 1
    if first == last:
        return "output" if first == top else f"layer {first + 1}"
    if last == top:
        inner = f"layer {first + 1}" if last - 1 == first else f"layers {first + 1}-{last}"
        return f"{inner} and the output"
    return f"layers {first + 1}-{last + 1}"


def scheme_reading(diffs: list[float]) -> str:
    """One word for a scheme over its hidden layers: ``reading`` of each, the distinct words joined."""
    return " / ".join(dict.fromkeys(WORDS[sym.reading(d)] for d in diffs))


COLUMN = 9
"""Width of a scheme's column."""


def init_report(results: list[sym.InitResult], sizes, activations, init: str, optimizer: str, lr: float,
                seed: int, n_samples: int) -> Text:
    """The view's text for ``compare_inits``'s ``results`` on a network of ``sizes``: one column per
    scheme, one row per layer."""
    t = Text()
    n = len(activations)
    acts = ", ".join(a if i == j else f"{a} x{j - i + 1}" for i, j, a in runs(activations))
    t.append(f"this network: {network_shape(sizes)} ({acts}); init = {init}", style="bold")
    if init == "auto":
        used = [scheme_for(init, a) for a in activations]
        t.append(" (He for relu-like layers, Xavier for the others): " +
                 ", ".join(f"{_layers(i, j, n)} {u}" for i, j, u in runs(used)))
    t.append("\n")
    t.append(f"each scheme drawn from seed {seed}, biases 0; constant: every weight {sym.CONSTANT:g}\n", style="dim")

    names = layer_names(n)
    head = f"{'':<10}" + "".join(f"{r.scheme:>{COLUMN}}" for r in results) + "\n"
    t.append(f"\nspread of each layer's outputs at the start (std over the first {n_samples} training samples)\n",
             style="bold")
    t.append(head, style="bold")
    t.append(f"{'W1 std':<10}" + "".join(f"{_number(r.weight_std[0]):>{COLUMN}}" for r in results) + "\n",
             style="dim")
    for li, name in enumerate(names):
        t.append(f"{name:<10}" + "".join(f"{_number(r.activation_std[li]):>{COLUMN}}" for r in results) + "\n")
    t.append("zeros: every output is f(0) for every sample, so its spread is 0. The weights' std by design: "
             "small 0.01, normal 1, Xavier sqrt(2 / (n_in + n_out)) (uniform), He sqrt(2 / n_in); a spread "
             "shrinking down a column is a signal fading with depth\n", style="dim")

    steps = results[0].steps if results else 0
    t.append(f"\nsymmetry: the largest difference between two units of a layer (incoming weights, bias, "
             f"outgoing weights), at the start and after {steps} steps of {optimizer} (lr {compact(lr, 3)}) "
             "on those samples\n", style="bold")
    if n < 2:
        t.append("no hidden layer: each output unit has a target of its own, nothing to compare\n")
    else:
        t.append(head, style="bold")
        for li, name in enumerate(names[:-1]):
            t.append(f"{name:<10}" + "".join(f"{_number(r.unit_diff_start[li]):>{COLUMN}}" for r in results)
                     + "  start\n", style="dim")
            t.append(f"{'':<10}" + "".join(f"{_number(r.unit_diff_after[li]):>{COLUMN}}" for r in results)
                     + "  after\n")
        t.append(f"after {steps} steps: ")
        for k, r in enumerate(results):
            word = scheme_reading(r.unit_diff_after)
            t.append(("; " if k else "") + f"{r.scheme} ")
            t.append(word, style={"distinct": "green", "diverged": "dim"}.get(word, "bold red"))
        t.append("\n")
        t.append("with zeros or a constant every unit of a layer has the same weights in and out, so it computes "
                 "the same output and gets the same gradient: the layer stays one unit copied (\"same "
                 "(rounding)\": equal up to the order a product's terms are summed in)\n", style="dim")
    t.append("\nthe neurons view (u, data with 2 inputs) draws every unit's output over the input plane: "
             "with init = zeros (config pane: c) every unit of a hidden layer draws the same picture, "
             "before and after training without dropout\n", style="dim")
    t.rstrip()
    return t


class InitScreen(InsideScreen):
    """Initialization schemes compared on the current shape."""

    VIEW_TITLE = "Initialization"

    def __init__(self, training) -> None:
        super().__init__(training)
        self.results: list[sym.InitResult] = []
        """``compare_inits``'s results last drawn (for tests)."""
        self._key: tuple | None = None

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("init")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#init-scroll").focus()

    def draw(self, snap: Snapshot) -> None:
        exp = self.session.experiment
        cfg = exp.config
        net = self.session.net
        d = exp.data
        X, Y = d.X_train[:SAMPLES], d.Y_train[:SAMPLES]
        opt = cfg.optimizer
        key = (id(exp), net.layer_sizes, net.activations, exp.loss, opt.name, opt.lr,
               tuple(sorted(opt.hparams.items())), cfg.training.seed, cfg.network.init)
        if key == self._key:
            return  # nothing here depends on the live weights
        self._key = key
        self.results = sym.compare_inits(
            net.layer_sizes, net.activations, X, Y, exp.loss, optimizer=opt.name, lr=opt.lr,
            hparams=dict(opt.hparams), steps=STEPS, seed=cfg.training.seed, dtype=net.dtype)
        self.update_text("#init-body", init_report(
            self.results, net.layer_sizes, net.activations, cfg.network.init, opt.name, opt.lr,
            cfg.training.seed, len(X)))
