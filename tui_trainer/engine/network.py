"""A fully connected network: stacked linear maps ``X @ W + b`` with an activation after each.

All parameters live in one contiguous array (``params`` are views into it, in the order
``W1, b1, W2, b2, ...``) and so do all gradients. That lets an optimizer update every parameter
with a handful of NumPy calls instead of a loop, and the training loop allocates nothing: the
activation and gradient buffers for each batch size are made once and reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import Activation, get_activation
from .initializers import INITIALIZERS, scheme_for
from .losses import Loss, get_loss

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
MAX_WORKSPACES = 4
"""Batch sizes whose buffers are kept (full batch, mini-batch, its remainder, validation)."""


@dataclass
class _Workspace:
    """Reusable buffers for one batch size: layer outputs, scratch, deltas and the logits."""

    outputs: list[np.ndarray]
    work: list[np.ndarray]
    deltas: list[np.ndarray]
    logits: np.ndarray


class Network:
    """A multilayer perceptron with live parameter arrays.

    ``params`` is ``[W1, b1, W2, b2, ...]``; ``W_i`` has shape ``(n_in, n_out)`` (rows are the
    layer's inputs, columns its nodes) and ``b_i`` shape ``(n_out,)``. Writing into them sets
    the weights.
    """

    def __init__(
        self,
        layer_sizes,
        activations,
        *,
        seed: int = 0,
        init: str = "auto",
        dtype=np.float64,
    ) -> None:
        self.layer_sizes = _check_sizes(layer_sizes)
        self.activations = _check_activations(activations, len(self.layer_sizes) - 1)
        self.dtype = _check_dtype(dtype)
        for name in self.activations:
            scheme_for(init, name)  # validates init
        self.init = init
        self.seed = seed
        self._acts: list[Activation] = [get_activation(a) for a in self.activations]
        self.shapes = [
            shape
            for n_in, n_out in zip(self.layer_sizes, self.layer_sizes[1:])
            for shape in ((n_in, n_out), (n_out,))
        ]
        self.n_params = sum(int(np.prod(s)) for s in self.shapes)
        self.flat_params = np.zeros(self.n_params, dtype=self.dtype)
        self.flat_grads = np.zeros(self.n_params, dtype=self.dtype)
        self.params = split_flat(self.flat_params, self.shapes)
        self.grads = split_flat(self.flat_grads, self.shapes)
        self._workspaces: dict[int, _Workspace] = {}
        self.reset_parameters()

    # -- structure -------------------------------------------------------------------------

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + the output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def weights(self) -> list[np.ndarray]:
        """The live ``W`` matrices, one per layer."""
        return self.params[0::2]

    @property
    def biases(self) -> list[np.ndarray]:
        """The live ``b`` vectors, one per layer."""
        return self.params[1::2]

    def summary(self) -> str:
        """The shape of the network, e.g. ``2 -> 16 -> 1``."""
        return " -> ".join(str(n) for n in self.layer_sizes)

    def __repr__(self) -> str:
        acts = ", ".join(self.activations)
        return f"Network({self.summary()}; {acts}; {self.n_params} parameters, {self.dtype})"

    def reset_parameters(self, seed: int | None = None, init: str | None = None) -> None:
        """Re-draw every weight (biases become zero) in place: the arrays stay the same objects."""
        if init is not None:
            for name in self.activations:
                scheme_for(init, name)
            self.init = init
        if seed is not None:
            self.seed = seed
        rng = np.random.default_rng(self.seed)
        for W, b, act in zip(self.weights, self.biases, self.activations):
            W[...] = INITIALIZERS[scheme_for(self.init, act)](rng, *W.shape)
            b[...] = 0.0

    def get_parameters(self) -> list[np.ndarray]:
        """Copies of the parameters, safe to keep or hand to another thread."""
        return [p.copy() for p in self.params]

    def set_parameters(self, values) -> None:
        """Copy ``values`` (aligned with ``params``) into the live parameters."""
        values = list(values)
        if len(values) != len(self.params):
            raise ValueError(f"expected {len(self.params)} arrays, got {len(values)}")
        for p, v in zip(self.params, values):
            v = np.asarray(v)
            if v.shape != p.shape:
                raise ValueError(f"parameter shape {v.shape} does not match {p.shape}")
            p[...] = v

    # -- computation -----------------------------------------------------------------------

    def forward(self, X) -> np.ndarray:
        """The network's output for ``X`` of shape ``(n_samples, layer_sizes[0])``, a new array.

        Allocates its own buffers, so it is safe to call beside a training loop on this network.
        """
        return self.forward_all(X)[-1]

    def forward_all(self, X) -> list[np.ndarray]:
        """The outputs of every layer for ``X`` (new arrays): ``[A1, ..., A_L]``."""
        a = self._as_input(X)
        outs = []
        for W, b, act in zip(self.weights, self.biases, self._acts):
            z = a @ W
            z += b
            a = act.forward(z, np.empty_like(z))
            outs.append(a)
        return outs

    def loss(self, X, Y, loss: str = "mse", *, l1: float = 0.0, l2: float = 0.0, dropout_masks=None) -> float:
        """The loss on ``(X, Y)`` without computing gradients; with ``l1`` / ``l2`` the penalty
        (``penalty``) is added, and ``dropout_masks`` applies fixed masks (see ``loss_and_grads``)."""
        loss_fn = self._check_loss(loss)
        X, Y = self._as_input(X), self._as_target(Y, len(X))
        masks = None if dropout_masks is None else self._check_masks(dropout_masks, len(X))
        ws = self._workspace(len(X))
        self._forward(X, ws, masks)
        value = loss_fn.value(ws.logits, ws.outputs[-1], Y, ws.work[-1])
        if l1 != 0 or l2 != 0:  # a bad value (None, NaN, ...) is refused in ``penalty``
            value += self.penalty(l1, l2)
        return value

    def loss_and_grads(
        self, X, Y, loss: str = "mse", *, l1: float = 0.0, l2: float = 0.0, dropout_masks=None
    ) -> tuple[float, list[np.ndarray]]:
        """The loss on ``(X, Y)`` and its gradient with respect to each parameter, by backprop.

        The returned gradient arrays are the network's own reused buffers (``self.grads``,
        aligned with ``params``): the next call overwrites them, so copy what you keep.

        ``l1`` / ``l2`` add the weight penalty ``l1 * sum|W| + l2 / 2 * sum W^2`` over every weight
        matrix (biases are not penalized), as TensorFlow Playground defines it; the value returned
        is then the data loss plus ``penalty(l1, l2)``. The L1 subgradient at a weight of exactly 0
        is 0 (``sign(0) = 0``, as torch's ``abs``).

        ``dropout_masks`` (default None: no dropout) holds one entry per hidden layer: None, or an
        array of shape ``(n_samples, layer_size)`` that multiplies that layer's output (inverted
        dropout: 0 where a node is dropped, ``1 / (1 - p)`` where kept; see ``dropout_masks``).
        The loss and gradients are those of the network with these masks held fixed.
        """
        loss_fn = self._check_loss(loss)
        X, Y = self._as_input(X), self._as_target(Y, len(X))
        masks = None if dropout_masks is None else self._check_masks(dropout_masks, len(X))
        ws = self._workspace(len(X))
        inputs = self._forward(X, ws, masks)
        last = self.n_layers - 1
        delta = ws.deltas[last]
        value = loss_fn.value_and_grad(ws.logits, ws.outputs[last], Y, delta, ws.work[last])
        if not loss_fn.fused:
            self._acts[last].backward(delta, ws.outputs[last], ws.work[last])
        grads, weights, acts = self.grads, self.weights, self._acts
        for i in range(last, -1, -1):
            a_prev = X if i == 0 else ws.outputs[i - 1] if inputs is None else inputs[i - 1]
            delta = ws.deltas[i]
            np.dot(a_prev.T, delta, out=grads[2 * i])  # np.dot: less call overhead than matmul
            np.add.reduce(delta, axis=0, out=grads[2 * i + 1])
            if i:
                np.dot(delta, weights[i].T, out=ws.deltas[i - 1])
                if masks is not None and masks[i - 1] is not None:
                    ws.deltas[i - 1] *= masks[i - 1]
                acts[i - 1].backward(ws.deltas[i - 1], ws.outputs[i - 1], ws.work[i - 1])
        if l1 != 0 or l2 != 0:  # a bad value (None, NaN, ...) is refused in ``penalty``
            value += self.add_penalty_grads(grads, l1, l2)
        return value, grads

    # -- regularization --------------------------------------------------------------------

    def penalty(self, l1: float = 0.0, l2: float = 0.0) -> float:
        """The weight penalty ``l1 * sum|W| + l2 / 2 * sum W^2`` over all weight matrices (not
        the biases): what ``loss_and_grads(..., l1=, l2=)`` adds to the data loss. 0.0 when both
        are 0, so a caller can show "loss = data + penalty"."""
        check_penalty(l1, l2)
        value = 0.0
        if l1:
            value += l1 * sum(float(np.abs(W).sum()) for W in self.weights)
        if l2:
            value += l2 / 2 * sum(float(np.vdot(W, W)) for W in self.weights)
        return value

    def add_penalty_grads(self, grads, l1: float = 0.0, l2: float = 0.0) -> float:
        """Add the penalty's gradient (``l1 * sign(W) + l2 * W``) into the weight gradients of
        ``grads`` (aligned with ``params``, e.g. those ``loss_and_grads`` returned) in place;
        returns ``penalty(l1, l2)``."""
        value = self.penalty(l1, l2)
        for W, g in zip(self.weights, grads[0::2]):
            if l1:
                g += l1 * np.sign(W)
            if l2:
                g += l2 * W
        return value

    def dropout_masks(self, rates, n_samples: int, rng: np.random.Generator) -> list | None:
        """Inverted-dropout masks for a batch of ``n_samples``, drawn from ``rng``: for each hidden
        layer with rate ``p > 0`` an array of shape ``(n_samples, layer_size)`` holding 0 (dropped,
        probability ``p``) or ``1 / (1 - p)`` (kept), so each node's expected output is unchanged;
        None for a layer with ``p = 0``. ``rates`` is one float for every hidden layer or one per
        hidden layer (``check_dropout``). Returns None when every rate is 0 (nothing drawn)."""
        rates = check_dropout(rates, self.n_layers - 1)
        if not any(rates):
            return None
        masks = []
        for p, size in zip(rates, self.layer_sizes[1:-1]):
            if not p:
                masks.append(None)
                continue
            keep = 1.0 - p
            mask = (rng.random((n_samples, size)) < keep).astype(self.dtype)
            mask *= 1.0 / keep
            masks.append(mask)
        return masks

    # -- internals -------------------------------------------------------------------------

    def _forward(self, X: np.ndarray, ws: _Workspace, masks=None) -> list[np.ndarray] | None:
        """Fill ``ws``; with dropout ``masks``, returns each layer's output as the next layer sees
        it (masked: new arrays; ``ws.outputs`` keep the unmasked outputs for the backward pass)."""
        a = X
        last = self.n_layers - 1
        inputs = None if masks is None else []
        for i, (W, b, act) in enumerate(zip(self.weights, self.biases, self._acts)):
            z = ws.logits if i == last else ws.outputs[i]
            np.dot(a, W, out=z)
            z += b
            if i == last:
                np.copyto(ws.outputs[i], z)
                z = ws.outputs[i]
            a = act.forward(z, ws.work[i])
            if inputs is not None and i < last:
                if masks[i] is not None:
                    a = a * masks[i]
                inputs.append(a)
        return inputs

    def _check_masks(self, masks, n: int) -> list:
        masks = list(masks)
        hidden = self.layer_sizes[1:-1]
        if len(masks) != len(hidden):
            raise ValueError(f"need one dropout mask (or None) per hidden layer ({len(hidden)}), got {len(masks)}")
        out = []
        for m, size in zip(masks, hidden):
            if m is not None:
                m = np.asarray(m)
                if m.shape != (n, size):
                    raise ValueError(f"dropout mask must have shape ({n}, {size}), got {m.shape}")
                m = np.ascontiguousarray(m, dtype=self.dtype)
            out.append(m)
        return out

    def _workspace(self, n: int) -> _Workspace:
        ws = self._workspaces.get(n)
        if ws is None:
            if len(self._workspaces) >= MAX_WORKSPACES:
                self._workspaces.pop(next(iter(self._workspaces)))
            shapes = [(n, k) for k in self.layer_sizes[1:]]
            ws = _Workspace(
                outputs=[np.empty(s, self.dtype) for s in shapes],
                work=[np.empty(s, self.dtype) for s in shapes],
                deltas=[np.empty(s, self.dtype) for s in shapes],
                logits=np.empty(shapes[-1], self.dtype),
            )
            self._workspaces[n] = ws
        return ws

    def _check_loss(self, name: str) -> Loss:
        loss_fn = get_loss(name)
        needs = loss_fn.output_activation
        if needs is not None and self.activations[-1] != needs:
            raise ValueError(
                f"loss {name!r} needs a {needs!r} output layer, "
                f"but the last activation is {self.activations[-1]!r}"
            )
        return loss_fn

    def _as_input(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"input must have shape (n_samples, {self.layer_sizes[0]}), got {X.shape}"
            )
        if len(X) == 0:
            raise ValueError("input has no samples")
        if X.dtype != self.dtype or not X.flags.c_contiguous:
            X = np.ascontiguousarray(X, dtype=self.dtype)
        return X

    def _as_target(self, Y, n: int) -> np.ndarray:
        Y = np.asarray(Y)
        n_out = self.layer_sizes[-1]
        if Y.ndim == 1 and n_out == 1:
            Y = Y.reshape(-1, 1)
        if Y.shape != (n, n_out):
            raise ValueError(f"targets must have shape ({n}, {n_out}), got {Y.shape}")
        if Y.dtype != self.dtype or not Y.flags.c_contiguous:
            Y = np.ascontiguousarray(Y, dtype=self.dtype)
        return Y


def split_flat(flat: np.ndarray, shapes) -> list[np.ndarray]:
    """Views of consecutive pieces of ``flat`` with the given shapes (e.g. ``[p.shape for p in params]``)."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start : start + size].reshape(shape))
        start += size
    return views


def check_penalty(l1, l2) -> None:
    """Raise ``ValueError`` unless ``l1`` and ``l2`` are finite numbers >= 0."""
    for name, value in (("l1", l1), ("l2", l2)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_dropout(rates, n_hidden: int) -> tuple[float, ...]:
    """Dropout rates, one per hidden layer, from one float (every hidden layer) or a list of
    ``n_hidden``; each in [0, 1), else ``ValueError`` naming the value."""
    if isinstance(rates, (int, float, np.integer, np.floating)):
        values = (rates,) * n_hidden
    else:
        try:
            values = tuple(rates)
        except TypeError:
            raise ValueError(f"dropout rate must be a number in [0, 1) or a list of them, got {rates!r}") from None
        if len(values) != n_hidden:
            raise ValueError(f"need one dropout rate per hidden layer ({n_hidden}), got {len(values)}: {list(values)}")
    for p in values:
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
                or not math.isfinite(p) or not 0 <= p < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {p!r}")
    return tuple(float(p) for p in values)


def _check_sizes(layer_sizes) -> tuple[int, ...]:
    sizes = tuple(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes needs an input and an output size, got {list(sizes)}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"layer sizes must be positive integers, got {s!r} in {list(sizes)}")
    return tuple(int(s) for s in sizes)


def _check_activations(activations, n_layers: int) -> tuple[str, ...]:
    names = (activations,) * n_layers if isinstance(activations, str) else tuple(activations)
    if len(names) != n_layers:
        raise ValueError(
            f"need one activation per layer ({n_layers}), got {len(names)}: {list(names)}"
        )
    for i, name in enumerate(names):
        act = get_activation(name)
        if not act.hidden_ok and i != n_layers - 1:
            raise ValueError(f"{name!r} is only allowed in the last layer (layer {i + 1})")
    return names


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in DTYPES:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}")
    return dt
