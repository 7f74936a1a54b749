"""Lessons: the course in order, each with a ready experiment, a task and a check that measures it.

Textual-free: the app's lessons screen and ``nn-tui learn`` both use it. A ``Lesson`` names the
view that shows its idea, the preset it loads, a task the learner does by changing settings, and a
``check`` that reads a session ``Snapshot`` (and the current config) and says in one line what it
measured against what it wants (``Measured``). ``check_lesson`` trains a config headless for the
lesson's epoch budget and runs the check on the last snapshot.

Progress (the ids of the completed lessons) lives in ``progress_path()``, written atomically; a
broken or unreadable progress file is a warning, never a crash.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..engine.atomic import write_atomic
from ..engine.csvdata import open_regular
from .config import ExperimentConfig, with_overrides

if TYPE_CHECKING:
    from .session import Snapshot

__all__ = ["LESSONS", "Lesson", "Measured", "check_lesson", "lesson_config", "lesson_named", "load_progress",
           "mark_completed", "progress_path"]


@dataclass(frozen=True)
class Measured:
    """A check's verdict: passed, and one line saying what was measured against what is wanted."""

    passed: bool
    text: str
    unmet: str = ""
    """What keeps it from passing, said as in ``text`` ("" when it passed, or when ``text`` is all)."""


@dataclass(frozen=True)
class Lesson:
    """One step of the course (module docstring)."""

    id: str
    """Stable slug, e.g. ``vanishing-gradient``."""
    title: str
    topics: tuple[str, ...]
    text: str
    """What to look at and why: a few short lines."""
    view_key: str
    """The key of the view that shows it; "" for the main screen."""
    preset: str
    """The preset (``presets.PRESETS``) loaded when the lesson opens."""
    task: str
    epochs: int
    """The epoch budget the task and the headless check use."""
    check: Callable[["Snapshot", ExperimentConfig], Measured]
    hints: tuple[str, ...]
    misconception: str = ""
    """Where the usual course notes go wrong ("" when the lesson has none)."""


# -- what the checks measure --------------------------------------------------------------------
# A check is a list of parts; each part reads the snapshot and the config and says (passed, text). A
# part that only guards the task's terms ("keeping 6 hidden layers") says nothing while they hold.

Part = Callable[["Snapshot", ExperimentConfig], "tuple[bool, str]"]
METRIC_NAMES = {"accuracy": "val acc", "r2": "val R²"}


def _num(value: float | None, digits: int = 2) -> str:
    """``0.93``; ``-`` for nothing measured yet; small and large values in e-notation (``7e-05``)."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 10 ** -digits or abs(value) >= 1e4):
        return f"{value:.0e}"
    return f"{value:.{digits}f}"


def _all(*parts: Part) -> Callable[["Snapshot", ExperimentConfig], Measured]:
    """A check passed when every part did; the parts' texts joined by ``; `` (empty ones left out)."""

    def check(snap: "Snapshot", config: ExperimentConfig) -> Measured:
        said = [part(snap, config) for part in parts]
        return Measured(all(ok for ok, _ in said), "; ".join(text for _, text in said if text),
                        "; ".join(text for ok, text in said if not ok))

    return check


def within(epochs: int) -> Part:
    """Still inside the epoch budget (a goal reached later does not count)."""
    def part(snap, config):
        return (True, "") if snap.epoch <= epochs else (False, f"epoch {snap.epoch}, past the budget of {epochs}")
    return part


def at_end(epochs: int) -> Part:
    """Trained to the end of the budget (or ended there by early stopping): for goals that must
    hold at the end, not just at some moment."""
    def part(snap, config):
        if snap.epoch >= epochs or snap.early_stopped:
            return True, ""
        return False, f"epoch {snap.epoch} of {epochs}"
    return part


def metric_at_least(want: float) -> Part:
    """The validation metric (accuracy, or R² for a regression) at least ``want``."""
    def part(snap, config):
        name = METRIC_NAMES.get(snap.metric_name, f"val {snap.metric_name}")
        value = snap.val_metric
        if value is None and not config.data.val_split:
            return False, f"no validation set (val split 0), want one to measure {name}"
        ok = value is not None and math.isfinite(value) and value >= want
        return ok, f"{name} {_num(value)}, want >= {_num(want)}"
    return part


def val_loss_at_most(want: float) -> Part:
    def part(snap, config):
        value = snap.val_loss
        if value is None and not config.data.val_split:
            return False, "no validation set (val split 0), want one to measure val loss"
        ok = value is not None and math.isfinite(value) and value <= want
        return ok, f"val loss {_num(value)}, want <= {_num(want)}"
    return part


def not_overfitting(snap: "Snapshot", config: ExperimentConfig) -> tuple[bool, str]:
    if snap.overfit_since is None:
        return True, ""
    return False, f"overfitting since epoch {snap.overfit_since}, want none"


def keeps_data(name: str) -> Part:
    def part(snap, config):
        if config.data.dataset == name and config.data.path is None:
            return True, ""
        return False, f"data {config.data.dataset or config.data.path}, want {name} (the task keeps the data)"
    return part


def keeps_depth(layers: int) -> Part:
    def part(snap, config):
        n = len(config.network.hidden)
        return (True, "") if n >= layers else (False, f"{n} hidden layers, want >= {layers} (the task keeps them)")
    return part


def _activations(config: ExperimentConfig) -> list[str]:
    """Each hidden layer's activation."""
    net = config.network
    return list(net.activations or [net.activation] * len(net.hidden))


def keeps_network(hidden: list[int], activation: str) -> Part:
    """The hidden layers' widths and activation stay as the lesson's preset has them."""
    def part(snap, config):
        net, used = config.network, _activations(config)
        if list(net.hidden) == hidden and all(a == activation for a in used):
            return True, ""
        return False, (f"network {'-'.join(map(str, net.hidden)) or 'no hidden layer'} {'/'.join(sorted(set(used)))}, "
                       f"want {'-'.join(map(str, hidden))} {activation} (the task keeps the network)")
    return part


def keeps_activation(name: str) -> Part:
    def part(snap, config):
        used = _activations(config)
        if all(a == name for a in used):
            return True, ""
        return False, f"activations {', '.join(sorted(set(used)))}, want {name} (the task keeps it)"
    return part


def keeps_optimizer(*names: str, plain: bool = False) -> Part:
    """The optimizer is one of ``names``; ``plain``: and without momentum."""
    def part(snap, config):
        opt = config.optimizer
        momentum = opt.hparams.get("momentum", 0.0) if opt.name == "sgd" else 0.0
        if opt.name in names and not (plain and momentum):
            return True, ""
        want = " or ".join(names) + (" without momentum" if plain else "")
        have = opt.name + (f" with momentum {momentum:g}" if momentum else "")
        return False, f"optimizer {have}, want {want} (the task keeps it)"
    return part


def keeps_lr(lr: float) -> Part:
    def part(snap, config):
        if config.optimizer.lr is not None and math.isclose(config.optimizer.lr, lr, rel_tol=1e-9):
            return True, ""
        return False, f"lr {_num(config.optimizer.lr, 4)}, want {lr:g} (the task keeps it)"
    return part


def grad_ratio(snap: "Snapshot") -> float | None:
    """The first layer's weight-gradient norm over the last layer's (None before a step)."""
    norms = snap.grad_norms
    if len(norms) < 2 or not norms[-1] or not all(math.isfinite(n) for n in norms):
        return None
    return norms[0] / norms[-1]


def grad_ratio_above(want: float) -> Part:
    def part(snap, config):
        ratio = grad_ratio(snap)
        return ratio is not None and ratio > want, f"first-layer gradient ratio {_num(ratio)}, want > {want:.0e}"
    return part


def step_ratio(snap: "Snapshot") -> float | None:
    """The first layer's last step over the last layer's, each as a root mean square per weight
    (None before a step)."""
    if len(snap.updates) < 4 or not snap.epoch and not snap.step:
        return None
    first, last = snap.updates[0], snap.updates[-2]
    rms = [float(np.sqrt(np.mean(np.square(u)))) for u in (first, last)]
    if not rms[1] or not all(math.isfinite(r) for r in rms):
        return None
    return rms[0] / rms[1]


def step_ratio_at_least(want: float) -> Part:
    def part(snap, config):
        ratio = step_ratio(snap)
        return ratio is not None and ratio >= want, f"first-layer step ratio {_num(ratio)}, want >= {_num(want)}"
    return part


def distinct_units(snap: "Snapshot") -> tuple[int, int]:
    """How many of the first hidden layer's units (columns of W1) differ, and how many there are."""
    W = snap.params[0]
    return len({tuple(np.round(column, 12)) for column in W.T}), W.shape[1]


def all_units_distinct(snap: "Snapshot", config: ExperimentConfig) -> tuple[bool, str]:
    distinct, units = distinct_units(snap)
    return distinct == units, f"{distinct} distinct unit{'' if distinct == 1 else 's'} of {units} in layer 1, want {units}"


def output_units_at_least(want: int) -> Part:
    """The output layer (the last W: one column per output unit) has at least ``want`` units."""
    def part(snap, config):
        rows, cols = snap.params[-2].shape
        return cols >= want, f"output layer {rows}x{cols} ({cols} unit{'s' * (cols != 1)}), want >= {want}"
    return part


def has_hidden_layer(snap: "Snapshot", config: ExperimentConfig) -> tuple[bool, str]:
    """Says W1's shape: rows are the inputs, columns the nodes."""
    rows, cols = snap.params[0].shape
    if len(snap.params) < 4:
        return False, f"W {rows}x{cols}: no hidden layer, want one"
    return True, f"W1 {rows}x{cols} ({rows} inputs, {cols} nodes)"


def loss_rises(snap: "Snapshot") -> tuple[float | None, int]:
    """The share of the last ``RISES_OVER`` plotted steps where the loss went up, and how many steps
    that was measured over (None: too few steps yet)."""
    y = np.asarray(snap.loss_y[-RISES_OVER - 1:], dtype=float)
    if len(y) < RISES_MIN_STEPS + 1:
        return None, len(y) - 1 if len(y) else 0
    return float(np.mean(np.diff(y) > 0)), len(y) - 1


RISES_OVER = 20
"""Steps over which ``loss_rises`` counts the rises."""
RISES_MIN_STEPS = 10
"""Fewest steps it counts them over."""


def rises_at_most(want: float) -> Part:
    def part(snap, config):
        share, steps = loss_rises(snap)
        if share is None:
            return False, f"{steps} steps so far, want >= {RISES_MIN_STEPS} to measure the curve"
        return share <= want, f"the loss rose in {share:.0%} of the last {steps} steps, want <= {want:.0%}"
    return part


# -- the lessons ----------------------------------------------------------------------------------

LESSONS: tuple[Lesson, ...] = (
    Lesson(
        id="shapes-and-features",
        title="X @ W + b: rows, columns and nodes as new features",
        topics=("X @ W + b and what rows and columns of W mean (shapes)", "nodes as new features"),
        text=("A layer computes X @ W + b: X has one row per sample and one column per input, W one "
              "row per input and one column per node, so X @ W has one column per node: each node "
              "is a new feature, a weighted sum of the inputs bent by the activation. With no hidden "
              "layer the output is one straight line in the plane, and circles need a curve. Press e "
              "to see the samples in the hidden layer's own features, and i for W itself."),
        view_key="e",
        preset="circles-no-hidden",
        task="give the network a hidden layer so it separates the rings: validation accuracy >= 0.9 within 50 epochs",
        epochs=50,
        check=_all(keeps_data("circles"), within(50), has_hidden_layer, metric_at_least(0.9)),
        hints=("One line cannot enclose the inner ring. How many lines make a closed shape?",
               "Add a hidden layer (c: the config pane, + add layer) of 3 nodes: 3 lines, enough for a triangle.",
               "With one hidden layer of 3, W1 is 2x3: 2 rows for x1 and x2, 3 columns for the 3 nodes."),
    ),
    Lesson(
        id="linear-collapse",
        title="Linear collapse: layers without activations",
        topics=("linear collapse without activations",),
        text=("Three hidden layers with no activation compute X @ W1 @ W2 @ W3 @ W4 + b: one matrix "
              "in disguise, so the boundary is a straight line and xor stays out of reach. Press x to "
              "see the product of the layers and the single layer it equals."),
        view_key="x",
        preset="linear-xor",
        task="make the network learn xor: validation accuracy >= 0.9 within 50 epochs, keeping 3 hidden layers",
        epochs=50,
        check=_all(keeps_data("xor"), keeps_depth(3), within(50), metric_at_least(0.9)),
        hints=("The layers are fine; what they lack is a bend between them.",
               "Change the hidden layers' activation (c: the config pane, all layers above the layer rows) to relu or tanh."),
        misconception=("\"A linear map preserves distances\": only rotations and reflections do. A linear "
                       "layer may stretch, squash or flatten the plane; what it cannot do is bend it."),
    ),
    Lesson(
        id="vanishing-gradient",
        title="Sigmoid, np.exp and the vanishing gradient",
        topics=("sigmoid and np.exp", "ReLU and the vanishing gradient"),
        text=("sigmoid(z) = 1 / (1 + np.exp(-z)); for z below about -709 np.exp(-z) overflows to inf and "
              "1 / inf = 0, still the right limit. Its slope a (1 - a) is at most 1/4, so backprop "
              "shrinks the gradient at each sigmoid layer: through 6 of them the first layer's weight "
              "gradient is ~1e-4 of the last layer's, and the first layers barely move. Press g to see "
              "each layer's gradient, k for the activations and their slopes."),
        view_key="g",
        preset="deep-sigmoid",
        task="make the deep-sigmoid network learn: validation accuracy >= 0.9 within 100 epochs, keeping 6 hidden layers",
        epochs=100,
        check=_all(keeps_data("circles"), keeps_depth(6), within(100), grad_ratio_above(1e-3),
                   metric_at_least(0.9)),
        hints=("Watch the g view: which layer's bar is shortest, and by how much?",
               "sigmoid'(z) is at most 0.25; relu'(z) is 1 wherever the unit is active.",
               "Change every hidden layer's activation to relu (c: the config pane, all layers above the layer rows)."),
        misconception=("\"ReLU solves vanishing gradients\": it mitigates them (its slope is 1, not at most "
                       "1/4, where a unit is active), but a unit whose z is negative for every sample gets "
                       "no gradient at all and never recovers: a dying ReLU. Initialization and the "
                       "learning rate still matter."),
    ),
    Lesson(
        id="output-layer",
        title="One-hot targets and the output layer",
        topics=("one-hot and the output layer",),
        text=("A binary classifier ends in one sigmoid unit: the probability of class 1. With k classes "
              "the targets become one-hot rows (class 2 of 3 is [0, 1, 0]) and the output layer gets k "
              "units, whose softmax outputs are positive and sum to 1; with cross-entropy the gradient "
              "at the output is p - y. The config pane (c) says what the output layer is; press O for "
              "the loss written out on a batch."),
        view_key="O",
        preset="spiral-tanh",
        task="train a classifier of 3 or more classes: validation accuracy >= 0.9 within 50 epochs",
        epochs=50,
        check=_all(within(50), output_units_at_least(3), metric_at_least(0.9)),
        hints=("Which datasets in the config pane's list have more than two classes?",
               "Choose iris (3 species) or wine (3 cultivars): the output line becomes 3 x softmax.",
               "The last W then has one column per class: 16x3."),
    ),
    Lesson(
        id="cost-vs-loss",
        title="The cost and the mini-batch loss",
        topics=("cost vs mini-batch loss",),
        text=("The cost is the mean loss over the whole training set; a mini-batch loss is the same mean "
              "over the 32 samples of one step. Each step lowers its own batch's loss, so the plotted "
              "mini-batch loss jumps up and down as the batches change, while the cost of full-batch "
              "gradient descent at a small enough lr falls step after step."),
        view_key="O",
        preset="moons-sgd",
        task="make the plotted curve the cost: the loss rises in at most 5% of the last 20 steps of 30 epochs",
        epochs=30,
        check=_all(keeps_data("moons"), at_end(30), rises_at_most(0.05)),
        hints=("How many samples does each step's loss average over?",
               "Set batch to full batch (c: the config pane, under Training): each step sees the whole training set."),
        misconception=("The cost as a sum of signed differences, sum(p - y): errors of +1 and -1 cancel, so a "
                       "network wrong on every sample can score 0. Losses square the differences (mse) or "
                       "take -log of the right class's probability, so every error counts."),
    ),
    Lesson(
        id="learning-rate",
        title="Gradient descent, partial derivatives and the learning rate",
        topics=("gradient descent and the learning rate (too high, too low)", "partial derivatives"),
        text=("The gradient holds one partial derivative per weight: how the loss changes as that one "
              "weight moves, the others held fixed (press d). Gradient descent steps each weight by -lr "
              "times its partial derivative. At lr 1e-4 the steps are so small that moons is still at "
              "~68% after 30 epochs; at lr 100 the first epoch diverges. Press s to sweep the rate."),
        view_key="s",
        preset="lr-too-low",
        task="keeping the network and plain SGD, reach validation accuracy >= 0.95 within 30 epochs",
        epochs=30,
        check=_all(keeps_data("moons"), keeps_network([16], "tanh"), keeps_optimizer("sgd", plain=True), within(30),
                   metric_at_least(0.95)),
        hints=("On the main screen + raises the lr one notch up the 1-2-5 ladder; or type it in the config pane.",
               "Too far and the loss goes up instead of down: the run diverges.",
               "Somewhere between 1 and 10 works here."),
    ),
    Lesson(
        id="backprop",
        title="Backprop step by step",
        topics=("backprop step by step",),
        text=("Backprop goes from the loss back to the first layer: delta = (delta_next @ W^T) * f'(z), "
              "then dW = a^T @ delta. Each sigmoid layer multiplies delta by f'(z) <= 1/4. Press B to see "
              "one step written out with the real numbers: after 20 epochs the first layer's gradient is "
              "~3e-04 of the last layer's through 6 sigmoid layers, ~3e-02 through 3."),
        view_key="B",
        preset="deep-sigmoid",
        task="keeping sigmoid, bring the first layer's gradient within 1/100 of the last layer's (ratio > 1e-2) in 20 epochs",
        epochs=20,
        check=_all(keeps_data("circles"), keeps_activation("sigmoid"), within(20), grad_ratio_above(1e-2)),
        hints=("Count the factors of 1/4 between the last layer and the first.",
               "Fewer sigmoid layers, fewer factors: remove hidden layers (c: the config pane, x beside a layer)."),
        misconception=("\"Deeper is always more accurate\": here relu stacks of 16 on circles with SGD at lr "
                       "0.1 reach 0.975 validation accuracy in 30 epochs with 2, 6 or 12 layers, and stay "
                       "at 0.5 with 20."),
    ),
    Lesson(
        id="batch-size",
        title="Batch, mini-batch and single-sample",
        topics=("batch, mini-batch and single-sample",),
        text=("Full-batch gradient descent makes one update an epoch from the exact gradient; mini-batches "
              "of 32 make 10 updates an epoch here (320 training samples), single-sample 320, each from "
              "a noisier gradient. With the same lr and epochs, more updates can mean more learning."),
        view_key="",
        preset="moons-full-batch",
        task=("keeping the network and plain SGD at lr 0.1, reach validation accuracy >= 0.95 within 20 epochs "
              "by changing the batch size"),
        epochs=20,
        check=_all(keeps_data("moons"), keeps_network([16], "tanh"), keeps_optimizer("sgd", plain=True), keeps_lr(0.1),
                   within(20),
                   metric_at_least(0.95)),
        hints=("How many updates does one epoch make at each batch size?",
               "Mini-batches of 32 are not enough here (0.85); try smaller.",
               "Set batch to single sample (c: the config pane, under Training): 320 updates an epoch."),
    ),
    Lesson(
        id="momentum",
        title="Momentum",
        topics=("momentum",),
        text=("Momentum keeps a running velocity v = 0.9 v + g and steps along v instead of g: where the "
              "gradient keeps its direction the steps grow up to 10 times, where it flips they cancel. "
              "Plain SGD at lr 0.1 is still near 56% on the spiral after 100 epochs. Press o to race "
              "the optimizers."),
        view_key="o",
        preset="spiral-sgd",
        task="keeping the network and lr 0.1, make the spiral learn: validation accuracy >= 0.95 within 100 epochs",
        epochs=100,
        check=_all(keeps_data("spiral"), keeps_network([16, 16], "tanh"), keeps_lr(0.1), within(100),
                   metric_at_least(0.95)),
        hints=("The lr is fine; the steps do not build up speed.",
               "Set SGD's momentum to 0.9 (c: the config pane, under Optimizer)."),
    ),
    Lesson(
        id="adagrad",
        title="AdaGrad",
        topics=("AdaGrad",),
        text=("AdaGrad divides each weight's step by the square root of the sum of all its past squared "
              "gradients: w -= lr * g / (sqrt(s) + eps). Weights with large gradients get small steps; "
              "and since s only grows, every step shrinks as training goes on. At lr 0.01 the spiral "
              "is still near 64% after 100 epochs."),
        view_key="o",
        preset="spiral-adagrad",
        task="keeping the network and AdaGrad, make the spiral learn: validation accuracy >= 0.95 within 100 epochs",
        epochs=100,
        check=_all(keeps_data("spiral"), keeps_network([16, 16], "tanh"), keeps_optimizer("adagrad"), within(100),
                   metric_at_least(0.95)),
        hints=("AdaGrad's first step moves each weight by about lr; later ones by less.",
               "Raise the lr (c: the config pane, or + on the main screen): here 0.3 learns the spiral."),
        misconception=("AdaGrad written without the square root, w -= lr * g / (s + eps): then the step "
                       "depends on the gradient's scale (halve the loss and the first step doubles). "
                       "With the root the first step is lr * g / |g| = lr per weight, whatever the scale."),
    ),
    Lesson(
        id="rmsprop",
        title="RMSprop",
        topics=("RMSprop",),
        text=("RMSprop keeps AdaGrad's per-weight scaling but replaces the growing sum by a moving average "
              "of g² (s = 0.99 s + 0.01 g²), which forgets old gradients, so its steps do not shrink "
              "away. On this spiral at lr 0.01 AdaGrad is near 64% after 100 epochs."),
        view_key="o",
        preset="spiral-adagrad",
        task="keeping the network and lr 0.01, make the spiral learn: validation accuracy >= 0.95 within 100 epochs",
        epochs=100,
        check=_all(keeps_data("spiral"), keeps_network([16, 16], "tanh"), keeps_lr(0.01), within(100),
                   metric_at_least(0.95)),
        hints=("The sum s only grows; what if it forgot?",
               "Switch the optimizer to rmsprop (c: the config pane): its default lr is 0.01."),
    ),
    Lesson(
        id="adam",
        title="Adam",
        topics=("Adam",),
        text=("Adam combines momentum's running mean of g (m) with RMSprop's running mean of g² (v), both "
              "corrected for starting at zero, and steps lr * m / (sqrt(v) + eps): about lr per weight "
              "whatever the gradient's size. So even a vanished gradient makes full-size steps: with SGD "
              "the first sigmoid layer's steps are ~1e-4 of the last layer's. Press i for one update."),
        view_key="i",
        preset="deep-sigmoid",
        task=("keeping 6 sigmoid layers, make the first layer's steps at least 1/10 of the last layer's "
              "and reach validation accuracy >= 0.8 within 100 epochs"),
        epochs=100,
        check=_all(keeps_data("circles"), keeps_depth(6), keeps_activation("sigmoid"), within(100),
                   step_ratio_at_least(0.1), metric_at_least(0.8)),
        hints=("SGD's step is lr * g: a tiny g, a tiny step.",
               "Switch to adam and set its lr to 0.01 (its default is 0.001)."),
    ),
    Lesson(
        id="adamw",
        title="AdamW versus Adam with L2",
        topics=("AdamW vs Adam with L2",),
        text=("Adam with L2 adds wd * w to the gradient, which Adam then divides by sqrt(v): weights with "
              "large gradients are barely decayed. AdamW takes the decay out of the gradient and shrinks "
              "every weight by lr * wd * w a step. So the same number means different things: here Adam "
              "with weight decay 0.01 ends at val loss 0.46, AdamW with 0.01 at 3.87 (1e-4 a step)."),
        view_key="",
        preset="overfit-adamw",
        task="keeping the network and AdamW, stop the overfitting: validation loss <= 0.6 at the end of 400 epochs",
        epochs=400,
        check=_all(keeps_data("moons"), keeps_network([64, 64], "relu"), keeps_optimizer("adamw"), at_end(400),
                   not_overfitting,
                   val_loss_at_most(0.6)),
        hints=("How much does lr * weight_decay = 0.01 * 0.01 shrink a weight in one step?",
               "Raise AdamW's weight decay (c: the config pane, wt decay; or ctrl+p, Set weight decay) to 3 or 10: "
               "the decay per step is lr * wd."),
    ),
    Lesson(
        id="initialization",
        title="Initialization and symmetry",
        topics=("initialization and symmetry",),
        text=("Start every weight at zero and every unit of a layer computes the same thing and gets the "
              "same gradient (here none at all: delta = delta_next @ W^T is 0), so they stay identical "
              "forever. Random init breaks the symmetry; Xavier and He scale it to the layer's width. "
              "Press I to compare the schemes, u to see the units."),
        view_key="I",
        preset="zero-init",
        task="break the symmetry: all 16 units of layer 1 distinct and validation accuracy >= 0.95 within 30 epochs",
        epochs=30,
        check=_all(keeps_data("moons"), within(30), all_units_distinct, metric_at_least(0.95)),
        hints=("Look at the u view: how many different units are there?",
               "Change init (c: the config pane, under Network) from zeros to xavier or he.",
               "small (std 0.01) breaks the symmetry too, but learns more slowly."),
    ),
    Lesson(
        id="overfitting",
        title="Overfitting and its fixes",
        topics=("overfitting and its fixes",),
        text=("50 noisy training samples (50 more held out), two layers of 64: the network learns the noise, "
              "the training loss goes "
              "to ~0 and the validation loss climbs past 1. The fixes: a penalty on large weights (L2), "
              "dropout, stopping early at the best validation loss, or more data."),
        view_key="",
        preset="overfit",
        task="stop the overfitting: validation loss <= 0.6 at the end of 400 epochs (or where early stopping ends it)",
        epochs=400,
        check=_all(keeps_data("moons"), at_end(400), not_overfitting, val_loss_at_most(0.6)),
        hints=("Watch both loss curves: where do they part?",
               "Set L2 to 0.01, or patience (early stopping) to 20 (c: the config pane, under Generalization)."),
        misconception=("\"Deeper (or bigger) is always more accurate\": a network large enough to learn the "
                       "noise does, and is then worse on new data; here its validation loss climbs to ~3.9."),
    ),
    Lesson(
        id="choosing-an-optimizer",
        title="Which optimizer suits which task (and AdamP)",
        topics=("AdamP", "which optimizer suits which task (with the protocol of the matrix)"),
        text=("One run at one lr says little. The matrix (m) tunes every optimizer's lr on the same grid "
              "of 7 rates from 1e-4 to 1, trains each for the same epochs over 5 seeds and scores the "
              "validation loss; a winner only when its whole range is below the runner-up's. AdamP "
              "is Adam that removes the radial part of the step for scale-invariant weights (those "
              "before a normalization layer); these networks have none, so it steps much like Adam."),
        view_key="m",
        preset="sine-sgd",
        task=("keeping the network, choose the optimizer and lr that fit sin(x): validation R² >= 0.9 within "
              "30 epochs (plain SGD at lr 0.01 reaches 0.79)"),
        epochs=30,
        check=_all(keeps_data("sine"), keeps_network([16, 16], "tanh"), within(30), metric_at_least(0.9)),
        hints=("Run the matrix (m): which optimizer and lr does it pick for sine?",
               "Try momentum (its default lr, 0.01, works here), or adam."),
    ),
)
"""The course, in order."""


def lesson_named(lesson_id: str) -> Lesson:
    """The lesson with this id; ``ValueError`` naming the ids (and the closest one) otherwise."""
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    ids = [lesson.id for lesson in LESSONS]
    text = f"unknown lesson {lesson_id!r}; choose one of: {', '.join(ids)}"
    close = difflib.get_close_matches(lesson_id, ids, n=1) if isinstance(lesson_id, str) else []
    raise ValueError(text + (f"; did you mean {close[0]!r}?" if close else ""))


# -- progress ------------------------------------------------------------------------------------

MAX_PROGRESS_BYTES = 2**20
"""The largest progress file read (a few hundred bytes hold every lesson's id)."""


def progress_path() -> Path:
    """``$XDG_STATE_HOME/nn-tui/lessons.json`` (``~/.local/state`` when the variable is unset or
    not an absolute path, as the XDG spec says)."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "nn-tui" / "lessons.json"


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__


def load_progress(path: Path | None = None) -> tuple[frozenset[str], str]:
    """The completed lesson ids, and a warning ("" when none): a missing file is no progress yet; a
    broken or unreadable one is no progress and a warning naming it."""
    try:
        path = progress_path() if path is None else path
    except RuntimeError as exc:  # no home folder to put it in
        return frozenset(), f"lesson progress not read: {_reason(exc)}"
    if not os.path.lexists(path):
        return frozenset(), ""
    try:  # never blocks on a pipe nor reads a device without end put in its place
        with open_regular(path, MAX_PROGRESS_BYTES, expected="the lessons' progress (JSON)") as f:
            text = f.read(MAX_PROGRESS_BYTES + 1).decode("utf-8")
    except UnicodeDecodeError:
        return frozenset(), f"lesson progress not read: {path}: not UTF-8 text"
    except (OSError, ValueError) as exc:
        return frozenset(), f"lesson progress not read: {path}: {_reason(exc)}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return frozenset(), f"lesson progress not read: {path}: not JSON ({_reason(exc)})"
    done = data.get("completed") if isinstance(data, dict) else None
    if not isinstance(done, list) or not all(isinstance(item, str) for item in done):
        return frozenset(), f"lesson progress not read: {path}: want {{\"completed\": [lesson ids]}}"
    known = {lesson.id for lesson in LESSONS}
    return frozenset(item for item in done if item in known), ""


def mark_completed(lesson_id: str, path: Path | None = None) -> str:
    """Add ``lesson_id`` to the completed lessons, written atomically; returns a warning ("" when
    none). A broken progress file is replaced (its warning returned); a write that fails is a warning."""
    try:
        path = progress_path() if path is None else path
    except RuntimeError as exc:  # no home folder to put it in
        return f"lesson progress not saved: {_reason(exc)}"
    done, warning = load_progress(path)
    if lesson_id in done:
        return warning
    order = {lesson.id: i for i, lesson in enumerate(LESSONS)}
    ids = sorted(done | {lesson_id}, key=lambda item: order.get(item, len(order)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"completed": ids}, indent=1) + "\n")
    except OSError as exc:
        return f"lesson progress not saved: {path}: {_reason(exc)}"
    return warning


# -- headless -------------------------------------------------------------------------------------

def lesson_config(lesson: Lesson, config: ExperimentConfig) -> ExperimentConfig:
    """A copy of ``config`` trained for the lesson's epoch budget."""
    return with_overrides(config, epochs=lesson.epochs)


def check_lesson(lesson: Lesson, config: ExperimentConfig) -> Measured:
    """Train ``config`` for ``lesson.epochs`` through a ``Session`` (as the app does, at full speed)
    and run the lesson's check on the last snapshot."""
    from .session import Session

    session = Session(lesson_config(lesson, config), source="nn-tui learn")
    session.set_pace(None)
    last: list = []
    session.run(lambda snap: last.__setitem__(slice(None), [snap]))  # the latest one only
    snap = last[0] if last else session.snapshot()
    return lesson.check(snap, session.config)
