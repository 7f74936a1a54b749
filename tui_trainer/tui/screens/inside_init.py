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


def init_report(results: list[sym.InitResult], sizes, activations, init: str, optimizer: str, lr: float,
                seed: int, n_samples: int) -> Text:
    """The view's text for ``compare_inits``'s ``results`` on a network of ``sizes``."""
    t = Text()
    acts = ", ".join(activations)
    used = [scheme_for(init, a) for a in activations]
    t.append(f"this network: {network_shape(sizes)} ({acts}); init = {init}", style="bold")
    if init == "auto":
        t.append(" (He for relu-like layers, Xavier for the others): " +
                 ", ".join(f"{name} {u}" for name, u in zip(layer_names(len(activations)), used)))
    t.append("\n")
    t.append(f"each scheme drawn from seed {seed}, biases 0; constant: every weight {sym.CONSTANT:g}\n", style="dim")

    names = layer_names(len(activations))
    width = max(9, *(len(n) + 1 for n in names))
    t.append(f"\nspread of each layer's outputs at the start (std over the first {n_samples} training samples)\n",
             style="bold")
    t.append(f"{'scheme':<10}{'W1 std':>9}" + "".join(f"{n:>{width}}" for n in names) + "\n", style="bold")
    for r in results:
        t.append(f"{r.scheme:<10}{_number(r.weight_std[0]):>9}"
                 + "".join(f"{_number(s):>{width}}" for s in r.activation_std) + "\n")
    t.append("zeros: every output is f(0) for every sample, so its spread is 0. The weights' std by design: "
             "small 0.01, normal 1, Xavier sqrt(2 / (n_in + n_out)) (uniform), He sqrt(2 / n_in); a spread "
             "shrinking along a row is a signal fading with depth\n", style="dim")

    hidden = names[:-1]
    t.append(f"\nsymmetry: the largest difference between two units of a layer (incoming weights, bias, "
             f"outgoing weights), at the start -> after {results[0].steps if results else 0} steps of "
             f"{optimizer} (lr {compact(lr, 3)}) on those samples\n", style="bold")
    if not hidden:
        t.append("no hidden layer: each output unit has a target of its own, nothing to compare\n")
    else:
        col = 26
        t.append(f"{'scheme':<10}" + "".join(f"{n:<{col}}" for n in hidden) + "\n", style="bold")
        for r in results:
            t.append(f"{r.scheme:<10}")
            for start, after in zip(r.unit_diff_start, r.unit_diff_after):
                word = sym.reading(after)
                cell = f"{_number(start)} -> {_number(after)} "
                t.append(cell)
                t.append(f"{WORDS[word]:<{max(1, col - len(cell))}}",
                         style={"distinct": "green", "diverged": "dim"}.get(word, "bold red"))
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
