"""Backprop written out: one training step on one batch, layer by layer, with the real numbers.

The forward pass (``Network.forward_all``), the loss and the gradients (``Network.loss_and_grads``)
and the update (the optimizer's own ``step``) are the engine's; the deltas in between are written
out with the engine's loss and activation objects, as ``delta = (delta_next W_next^T) * f'(z)``,
and ``dW = a^T delta`` is compared with the engine's gradient (``StepTrace.engine_difference``).
Everything runs on a copy of the network and a throwaway optimizer: nothing live is touched.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from ..engine import optimizers
from ..engine.activations import get_activation
from ..engine.inspect import network_like
from ..engine.losses import get_loss
from ..engine.network import Network
from ..engine.preprocess import PreparedData
from ..engine.trainer import batch_rows, epoch_order
from .config import ExperimentConfig
from .experiment import Experiment
from .wording import plural

__all__ = ["LayerStep", "StepTrace", "dropout_notes", "first_batch", "first_step", "optimizer_copy", "trace_lines",
           "trace_step"]

WIDTH = 76
"""Longest line of the text: it fits an 80-column terminal with a margin and a scroll bar."""
DIGITS = 9
"""Significant digits the text shows (a published worked example prints 8 or 9)."""


@dataclass
class LayerStep:
    """One layer's part of the step, every array a copy (batch rows first)."""

    activation: str
    a_in: np.ndarray
    """The layer's input: X for the first layer, the previous layer's output after it."""
    W: np.ndarray
    b: np.ndarray
    z: np.ndarray
    """a_in W + b."""
    a: np.ndarray
    """f(z)."""
    grad_a: np.ndarray | None
    """dL/da: the loss's gradient (output layer), else delta_next W_next^T; None where the loss
    gives dL/dz at once (bce and cross-entropy are computed from z)."""
    f_prime: np.ndarray | None
    """f'(z), which ``grad_a`` is multiplied by; None where ``grad_a`` is None, or for softmax (its
    Jacobian mixes a row's entries: no element-wise factor)."""
    delta: np.ndarray
    """dL/dz."""
    dW: np.ndarray
    """The gradient the optimizer gets: a_in^T delta (plus the penalty's, when one is on)."""
    db: np.ndarray
    """delta summed over the batch."""
    W_new: np.ndarray
    b_new: np.ndarray


@dataclass
class StepTrace:
    """One training step written out."""

    loss_name: str
    loss: float
    """The data loss on the batch before the update."""
    n_values: int
    """The N the loss is a mean over (every output value for mse and bce, the samples for cross-entropy)."""
    X: np.ndarray
    Y: np.ndarray
    layers: list[LayerStep]
    optimizer: str
    lr: float
    rule: str = ""
    """The optimizer's update rule for its settings, e.g. ``w <- w - lr * g`` (g: dW or db)."""
    l1: float = 0.0
    l2: float = 0.0
    penalty: float = 0.0
    engine_difference: float = 0.0
    """Largest |a_in^T delta - the engine's dW| over every layer: the written-out deltas checked."""
    batch_note: str = ""
    """Which samples the batch holds, in words."""
    notes: tuple[str, ...] = ()
    """What the trace leaves out (dropout) or adds (a schedule's lr), in words."""

    @property
    def fused(self) -> bool:
        """True when the loss gives dL/dz of the output layer directly."""
        return self.layers[-1].grad_a is None

    def as_json(self) -> dict:
        """``{"loss": x, "layers": [{"W", "b", "z", "a", "delta", "dW", "db", "W_new", "b_new"}, ...]}``."""
        keys = ("W", "b", "z", "a", "delta", "dW", "db", "W_new", "b_new")
        return {"loss": self.loss,
                "layers": [{key: getattr(layer, key).tolist() for key in keys} for layer in self.layers]}


def trace_step(net: Network, X, Y, loss: str, opt: optimizers.Optimizer, *, l1: float = 0.0,
               l2: float = 0.0) -> StepTrace:
    """One step of ``opt`` on the batch ``(X, Y)`` from ``net``'s weights, written out; ``net`` is
    not changed, ``opt`` is stepped (give a copy: ``optimizer_copy``)."""
    work = network_like(net)
    X = np.ascontiguousarray(X, dtype=work.dtype)
    Y = np.ascontiguousarray(np.asarray(Y, dtype=work.dtype).reshape(len(X), -1))
    outs = work.forward_all(X)
    ins = [X, *outs[:-1]]
    zs = [a_in @ W + b for a_in, W, b in zip(ins, work.weights, work.biases)]
    weights, biases = [W.copy() for W in work.weights], [b.copy() for b in work.biases]
    value, grads = work.loss_and_grads(X, Y, loss)
    grads = [g.copy() for g in grads]
    loss_fn = get_loss(loss)
    grad = np.empty_like(zs[-1])
    loss_fn.value_and_grad(zs[-1].copy(), outs[-1].copy(), Y, grad, np.empty_like(grad))
    n_values = int(grad.size if loss_fn.name != "cross_entropy" else len(grad))
    steps: list[dict] = [{} for _ in outs]
    difference = 0.0
    for i in range(work.n_layers - 1, -1, -1):
        act, a = get_activation(work.activations[i]), outs[i]
        if i == work.n_layers - 1 and loss_fn.fused:
            grad_a, f_prime, delta = None, None, grad
        elif act.hidden_ok:  # element-wise: delta = dL/da * f'(z)
            grad_a = grad
            f_prime = act.backward(np.ones_like(a), a, np.empty_like(a))
            delta = grad * f_prime
        else:  # softmax under mse: its Jacobian, row by row
            grad_a, f_prime = grad, None
            delta = act.backward(grad.copy(), a, np.empty_like(a))
        difference = max(difference, float(np.max(np.abs(ins[i].T @ delta - grads[2 * i]), initial=0.0)))
        steps[i] = dict(activation=act.name, a_in=ins[i], W=weights[i], b=biases[i], z=zs[i], a=a,
                        grad_a=grad_a, f_prime=f_prime, delta=delta)
        grad = delta @ weights[i].T
    penalty = work.add_penalty_grads(grads, l1, l2) if l1 or l2 else 0.0
    lr = float(opt.lr)
    opt.step(work.params, grads)
    layers = [LayerStep(**step, dW=grads[2 * i].copy(), db=grads[2 * i + 1].copy(), W_new=work.weights[i].copy(),
                        b_new=work.biases[i].copy()) for i, step in enumerate(steps)]
    return StepTrace(loss_name=loss_fn.name, loss=float(value), n_values=n_values, X=X, Y=Y, layers=layers,
                     optimizer=opt.name, lr=lr, rule=type(opt).rule_for(opt.hparams), l1=l1, l2=l2, penalty=penalty, engine_difference=difference)


def optimizer_copy(state: dict) -> optimizers.Optimizer:
    """A new optimizer in the state ``state_dict()`` gave (the next step as training would take it)."""
    opt = optimizers.create(state["name"], **state["hparams"])
    opt.load_state_dict(state)
    return opt


def first_batch(data: PreparedData, batch_size: int | str, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(X, Y, in words) of the batch a run's first step takes: the whole training set for a full
    batch, else the first ``batch_size`` of the epoch's seeded shuffle (as ``Trainer`` draws it)."""
    n = len(data.X_train)
    k = batch_rows(batch_size, n)
    idx = epoch_order(np.random.default_rng(seed), n, k)[:k]
    if k == n:
        return data.X_train, data.Y_train, f"the whole training set ({plural(n, 'sample')})"
    return data.X_train[idx], data.Y_train[idx], (f"{k} of {n} training samples, the first of the first "
                                                  f"epoch's seeded shuffle")


def first_step(cfg: ExperimentConfig) -> StepTrace:
    """The first training step of the experiment ``cfg`` describes, written out."""
    exp = Experiment.from_config(cfg)
    X, Y, note = first_batch(exp.data, cfg.training.batch_size, cfg.training.seed)
    opt = exp.opt  # fresh, and this experiment is thrown away
    notes = []
    schedule = cfg.optimizer.create_schedule()
    if schedule is not None:
        opt.lr = schedule.lr_at(0, cfg.optimizer.lr)
        notes.append(f"lr {opt.lr:g}: the {schedule.name} schedule's first epoch")
    notes += dropout_notes(cfg)
    trace = trace_step(exp.net, X, Y, exp.loss, opt, **penalties(cfg))
    trace.batch_note, trace.notes = note, tuple(notes)
    return trace


def penalties(cfg: ExperimentConfig) -> dict[str, float]:
    """The weight penalties a step of ``cfg`` minimizes beside the loss, as ``trace_step`` takes them."""
    return {"l1": cfg.network.l1, "l2": cfg.network.l2}


def dropout_notes(cfg: ExperimentConfig) -> tuple[str, ...]:
    """What a trace of ``cfg``'s network leaves out: dropout's random masks."""
    rates = cfg.network.dropout
    on = any(rates) if isinstance(rates, (list, tuple)) else bool(rates)
    return ("dropout is left out here: training drops random units each step",) if on else ()


# -- the text ---------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.{DIGITS}g}"


def _matrix(name: str, M: np.ndarray, *, rows: int, cols: int, indent: str = "  ") -> list[str]:
    """``name (shape)``, which part is shown, then the rows (the top-left corner of a large one)."""
    M2 = M.reshape(1, -1) if M.ndim == 1 else M
    r, c = M2.shape
    shape = f"{c}" if M.ndim == 1 else f"{r}x{c}"
    parts = []
    if r > rows:
        parts.append(f"rows 1-{rows} of {r}")
    if c > cols:
        parts.append(f"{'entries' if M.ndim == 1 else 'columns'} 1-{cols} of {c}")
    shown = f"; {', '.join(parts)} shown" if parts else ""
    lines = [f"{indent}{name}  ({shape}{shown})"]
    cells = [[_number(v) for v in row[:cols]] for row in M2[:rows]]
    width = max((len(cell) for row in cells for cell in row), default=1)
    for row in cells:
        more = " ..." if c > cols else ""
        lines.append(f"{indent}  [" + "  ".join(cell.rjust(width) for cell in row) + more + "]")
    if r > rows:
        lines.append(f"{indent}  ...")
    return lines


def loss_formula(trace: StepTrace) -> str:
    """How the loss on the batch is computed, with its N."""
    last = f"a{len(trace.layers)}"
    return {"mse": f"mean of ({last} - y)^2 over N = {trace.n_values} values",
            "bce": f"mean binary cross-entropy over N = {trace.n_values} values, from z",
            "cross_entropy": f"mean over N = {trace.n_values} samples of -sum y log softmax(z)"}[trace.loss_name]


def columns_for(width: int) -> int:
    """How many columns of a matrix fit ``width`` characters (2 to 8; 4 at 80 columns)."""
    return max(2, min(8, (width - 12) // 16))


def trace_lines(trace: StepTrace, *, rows: int = 3, cols: int = 4, width: int = WIDTH) -> list[str]:
    """The step as text lines of at most ``width`` characters: the batch, the forward pass, the loss,
    the backward pass and the update (each matrix's top-left ``rows`` x ``cols`` corner)."""
    L = len(trace.layers)
    sizes = [trace.layers[0].W.shape[0], *(layer.W.shape[1] for layer in trace.layers)]
    m = dict(rows=rows, cols=cols)
    out = [f"One training step of a {' -> '.join(map(str, sizes))} network, written out",
           f"Batch: {trace.batch_note}" if trace.batch_note else f"Batch: {plural(len(trace.X), 'sample')}",
           *_matrix("X = a0 (inputs as the network sees them)", trace.X, **m),
           *_matrix("y (targets)", trace.Y, **m), "",
           "FORWARD: z = a W + b, then a = f(z)"]
    for i, layer in enumerate(trace.layers, 1):
        n_in, n_out = layer.W.shape
        out += [f"Layer {i}: {n_in} -> {n_out}, {layer.activation}",
                *_matrix(f"W{i}", layer.W, **m), *_matrix(f"b{i}", layer.b, **m),
                *_matrix(f"z{i} = a{i - 1} W{i} + b{i}", layer.z, **m),
                *_matrix(f"a{i} = {layer.activation}(z{i})", layer.a, **m)]
    out += ["", f"LOSS: {trace.loss_name} = {_number(trace.loss)}", f"  {loss_formula(trace)}"]
    if trace.penalty:
        out.append(f"  the step also minimizes the weight penalty {_number(trace.penalty)} (l1 {trace.l1:g}, l2 {trace.l2:g})")
    out += ["", "BACKWARD: delta = dL/dz, from the last layer to the first"]
    for i in range(L, 0, -1):
        layer = trace.layers[i - 1]
        out.append(f"Layer {i}" + (" (output)" if i == L else ""))
        if layer.grad_a is None:
            out += _matrix(f"delta{i} = (a{i} - y) / N: {trace.loss_name} from z folds f'(z{i}) in", layer.delta, **m)
        else:
            if i == L:
                source = f"dL/da{i} = 2 (a{i} - y) / N" if trace.loss_name == "mse" else f"dL/da{i}"
            else:
                source = f"dL/da{i} = delta{i + 1} W{i + 1}^T"
            out += _matrix(source, layer.grad_a, **m)
            if layer.f_prime is not None:
                derivative = get_activation(layer.activation).derivative
                out += _matrix(f"f'(z{i}) = {derivative}", layer.f_prime, **m)
                out += _matrix(f"delta{i} = dL/da{i} * f'(z{i})", layer.delta, **m)
                before, after = float(np.mean(np.abs(layer.grad_a))), float(np.mean(np.abs(layer.delta)))
                if before > 0:
                    out.append(f"  mean |dL/da{i}| {before:.3g} -> mean |delta{i}| {after:.3g}: "
                               f"f'(z{i}) scaled it by {after / before:.3g}")
            else:
                out += _matrix(f"delta{i} = softmax's Jacobian applied to dL/da{i}", layer.delta, **m)
        penalty = " + penalty" if trace.l1 or trace.l2 else ""
        out += _matrix(f"dW{i} = a{i - 1}^T delta{i}{penalty}", layer.dW, **m)
        out += _matrix(f"db{i} = delta{i} summed over the batch", layer.db, **m)
    out += ["", f"UPDATE: {trace.optimizer}, lr {trace.lr:g} (the optimizer's own step)"]
    if trace.rule:
        out.append(f"  {trace.rule}   (w: each weight and bias, g: its dW or db)")
    for i, layer in enumerate(trace.layers, 1):
        out += _matrix(f"W{i}_new", layer.W_new, **m) + _matrix(f"b{i}_new", layer.b_new, **m)
    out += ["", f"Check: a^T delta vs the engine's backprop, largest difference {trace.engine_difference:.1e}"]
    out += [f"Note: {note}" for note in trace.notes]
    return [part for line in out for part in _wrapped(line, width)]


def _wrapped(line: str, width: int = WIDTH) -> list[str]:
    """A long line (an optimizer's rule, a note) over several, indented under its start."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)
