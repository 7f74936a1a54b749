"""Optimizers with torch.optim's names, defaults and update rules.

``create("adam", lr=1e-3)`` makes one; ``opt.step(params, grads)`` updates the arrays in place.
State (``opt.state[i]``, e.g. Adam's ``exp_avg`` and ``exp_avg_sq`` for parameter ``i``) is
created on the first step, kept per position in the list, and can be read by the UI.
Hyperparameters can be changed between steps (``opt.lr = 0.01`` or ``opt.set(...)``) without
losing state.

When the parameters are consecutive views of one array (as ``Network.params`` are) the update
runs once over that whole array: a few NumPy calls per step instead of a few per parameter.
For a large network the element-wise update runs chunk by chunk, all of its ~13 NumPy passes
over one cache-sized chunk before the next, instead of ~13 passes through main memory; every
element gets exactly the same arithmetic, so the result is bit-identical to whole-array passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .network import split_flat


@dataclass(frozen=True)
class HParam:
    """One hyperparameter: its default, its kind and the values it may take."""

    name: str
    default: Any
    doc: str
    kind: str = "float"  # "float" | "bool" | "betas"
    low: float = 0.0
    high: float = math.inf
    high_open: bool = False  # True: value < high, else value <= high

    def check(self, value: Any) -> Any:
        """The value normalised to its kind, or ``ValueError`` naming the value and the range."""
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return bool(value)
        if self.kind == "betas":
            try:
                b1, b2 = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"betas must be two numbers in [0, 1), got {value!r}") from None
            for b in (b1, b2):
                if not 0.0 <= b < 1.0:
                    raise ValueError(f"each of betas must be in [0, 1), got {value!r}")
            return (b1, b2)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        value = float(value)
        above = value < self.high if self.high_open else value <= self.high
        if not (math.isfinite(value) and value >= self.low and above):
            raise ValueError(f"{self.name} must be in {self.range_text()}, got {value!r}")
        return value

    def range_text(self) -> str:
        """The allowed range, e.g. ``[0, 1)``."""
        high = "inf)" if self.high == math.inf else f"{self.high:g}{')' if self.high_open else ']'}"
        return f"[{self.low:g}, {high}"


CHUNK_BYTES = 256 * 1024
"""Bytes of each array that one chunk of an element-wise update covers: the handful of arrays an
update touches then stay in the CPU's cache between its passes."""


def _lr(default: float) -> HParam:
    return HParam("lr", default, "learning rate: the size of each step")


_WEIGHT_DECAY = HParam("weight_decay", 0.0, "L2 penalty added to the gradient (wd * w)")
_EPS = HParam("eps", 1e-8, "added to the denominator so it is never zero")
_BETAS = HParam(
    "betas", (0.9, 0.999), "decay rates of the running mean of g and of g^2", kind="betas"
)


class Optimizer:
    """Base class: hyperparameter handling, state, the flat fast path and checkpoints."""

    name: ClassVar[str] = ""
    hparam_specs: ClassVar[tuple[HParam, ...]] = ()
    state_names: ClassVar[tuple[str, ...]] = ()
    nonnegative_state: ClassVar[tuple[str, ...]] = ()
    """State that sums or averages squares: never negative (a loaded negative value is damage)."""
    """Names of the per-parameter state arrays (e.g. ``exp_avg``)."""
    summary: ClassVar[str] = ""
    """One plain-language sentence on what the optimizer does."""
    rule: ClassVar[str] = ""
    """The update rule written out, with ``g`` the gradient and ``w`` the parameter."""
    elementwise: ClassVar[bool] = True
    """Whether ``_update`` treats every element on its own, so that a group may be cut into chunks."""

    def __init__(self, **hparams: Any) -> None:
        self.hparams: dict[str, Any] = {spec.name: spec.default for spec in self.hparam_specs}
        self.set(**hparams)
        self.steps = 0
        """Updates made so far (torch's ``state['step']``)."""
        self.state: list[dict[str, np.ndarray]] = []
        self._bound: list[np.ndarray] = []
        self._bound_grads: list[np.ndarray] = []
        self._groups: list[_Group] = []

    # -- hyperparameters -------------------------------------------------------------------

    def set(self, **hparams: Any) -> None:
        """Change hyperparameters (validated together); the state is kept."""
        specs = {spec.name: spec for spec in self.hparam_specs}
        new = dict(self.hparams)
        for key, value in hparams.items():
            if key not in specs:
                raise ValueError(
                    f"{self.name} has no hyperparameter {key!r}; allowed: {', '.join(specs)}"
                )
            new[key] = specs[key].check(value)
        self._check(new)
        self.hparams = new

    def _check(self, hp: dict[str, Any]) -> None:
        """Cross-field checks (e.g. nesterov needs momentum)."""

    @property
    def lr(self) -> float:
        """The learning rate."""
        return self.hparams["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.set(lr=value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({args})"

    # -- stepping --------------------------------------------------------------------------

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads`` (aligned lists)."""
        if not self._same(params, grads):
            self._bind(params, grads)
        self.steps += 1
        for group in self._groups:
            for part in group.chunks or (group,):
                self._update(part, self.hparams, self.steps)

    def _update(self, g: _Group, hp: dict[str, Any], t: int) -> None:
        """Apply one update to ``g.p`` from ``g.g`` with state ``g.s`` and scratch ``g.tmp``."""
        raise NotImplementedError

    def _init_state(self, name: str, p: np.ndarray) -> np.ndarray:
        """A fresh state array of this kind for parameter ``p``."""
        return np.zeros_like(p)

    def _same(self, params, grads) -> bool:
        bound, bound_g = self._bound, self._bound_grads
        return (
            len(params) == len(bound)
            and len(grads) == len(bound_g)
            and all(a is b for a, b in zip(params, bound))
            and all(a is b for a, b in zip(grads, bound_g))
        )

    def _bind(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Set up state (keeping any that fits) and the groups the update runs over."""
        params, grads = list(params), list(grads)
        if len(params) != len(grads):
            raise ValueError(f"{len(params)} parameters but {len(grads)} gradients")
        for i, (p, g) in enumerate(zip(params, grads)):
            if p.shape != g.shape:
                raise ValueError(f"parameter {i} has shape {p.shape} but its gradient {g.shape}")
        old = self.state
        keep = len(old) == len(params) and all(
            s[name].shape == p.shape for s, p in zip(old, params) for name in self.state_names
        )
        flat_p, flat_g = _span(params), _span(grads)
        shapes = [p.shape for p in params]
        if flat_p is not None and flat_g is not None and flat_p.dtype == flat_g.dtype:
            flat_state = {name: self._init_state(name, flat_p) for name in self.state_names}
            self.state = [
                {name: view for name, view in zip(self.state_names, views)}
                for views in zip(*(split_flat(flat_state[n], shapes) for n in self.state_names))
            ] or [{} for _ in params]
            tmp = [np.empty_like(flat_p), np.empty_like(flat_p)]
            members = [
                _Member(*views)
                for views in zip(*(split_flat(a, shapes) for a in (flat_p, flat_g, *tmp)))
            ]
            group = _Group(flat_p, flat_g, flat_state, tmp, members)
            if self.elementwise:
                group.chunks = _chunks(group, max(1, CHUNK_BYTES // flat_p.itemsize))
            self._groups = [group]
        else:
            self.state = [{n: self._init_state(n, p) for n in self.state_names} for p in params]
            self._groups = []
            for p, g, s in zip(params, grads, self.state):
                tmp = [np.empty_like(p), np.empty_like(p)]
                self._groups.append(_Group(p, g, s, tmp, [_Member(p, g, tmp[0], tmp[1])]))
        if keep:
            for s_new, s_old in zip(self.state, old):
                for name in self.state_names:
                    s_new[name][...] = s_old[name]
        elif old:  # different parameters: start afresh, as torch would for new tensors
            self._forget()
        self._bound, self._bound_grads = params, grads

    def reset_state(self) -> None:
        """Forget all state (moments, step count), keeping the hyperparameters."""
        self.state = []
        self._bound, self._bound_grads, self._groups = [], [], []
        self._forget()

    def _forget(self) -> None:
        """Reset the counters that belong with the state arrays."""
        self.steps = 0

    # -- checkpoints -----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters, step count and copies of the state arrays."""
        return {
            "name": self.name,
            "hparams": dict(self.hparams),
            "steps": self.steps,
            "state": [{k: v.copy() for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; arrays are copied in on the next step."""
        if state.get("name", self.name) != self.name:
            raise ValueError(f"state is for optimizer {state.get('name')!r}, not {self.name!r}")
        self.set(**state["hparams"])
        self.steps = int(state["steps"])
        loaded = [{k: np.array(v) for k, v in s.items()} for s in state["state"]]
        for i, s in enumerate(loaded):
            missing = set(self.state_names) - set(s)
            if missing:
                raise ValueError(f"optimizer state lacks {', '.join(sorted(missing))}")
            negative = [k for k in self.nonnegative_state if k in s and (s[k] < 0).any()]
            if negative:
                raise ValueError(f"optimizer state {negative[0]} of parameter {i} holds negative values "
                                 "(it is a sum or average of squares)")
        self.state = loaded
        self._bound, self._bound_grads, self._groups = [], [], []


@dataclass
class _Member:
    """One parameter inside a group, with its views of the group's scratch arrays."""

    p: np.ndarray
    g: np.ndarray
    tmp0: np.ndarray
    tmp1: np.ndarray


@dataclass
class _Group:
    """Arrays one update runs over: a single parameter, or all of them as one flat array."""

    p: np.ndarray
    g: np.ndarray
    s: dict[str, np.ndarray]
    tmp: list[np.ndarray]
    members: list[_Member]
    chunks: list[_Group] = field(default_factory=list)
    """Consecutive cache-sized pieces of this group (views), updated one after the other; empty for
    a group small enough to update in one go."""


def _chunks(group: _Group, size: int) -> list[_Group]:
    """``group`` cut into consecutive pieces of ``size`` elements (the last one shorter), or none
    when it has fewer than four: then one pass is as good, with fewer calls."""
    n = group.p.size
    if n < 4 * size:
        return []
    bounds = list(range(0, n, size)) + [n]
    return [
        _Group(group.p[lo:hi], group.g[lo:hi], {name: a[lo:hi] for name, a in group.s.items()},
               [a[lo:hi] for a in group.tmp], [])
        for lo, hi in zip(bounds, bounds[1:])
    ]


def _span(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D array that ``arrays`` tile exactly, in order, without gaps; else None."""
    if not arrays:
        return None
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    item = base.itemsize
    base_addr = base.ctypes.data
    start = addr = arrays[0].ctypes.data
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous:
            return None
        if a.ctypes.data != addr:
            return None
        addr += a.nbytes
    return base[(start - base_addr) // item : (addr - base_addr) // item]



def _with_weight_decay(p: np.ndarray, g: np.ndarray, out: np.ndarray, wd: float) -> np.ndarray:
    """``g + wd * p`` in ``out`` (coupled L2), or ``g`` itself when ``wd`` is 0."""
    if wd == 0.0:
        return g
    np.multiply(p, wd, out=out)
    out += g
    return out


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as ``torch.optim.SGD``."""

    name = "sgd"
    hparam_specs = (
        _lr(0.01),
        HParam("momentum", 0.0, "fraction of the previous step kept (0: plain gradient descent)"),
        HParam("dampening", 0.0, "fraction of the new gradient left out of the momentum buffer"),
        _WEIGHT_DECAY,
        HParam("nesterov", False, "look ahead along the momentum before taking the gradient", "bool"),
    )
    state_names = ("momentum_buffer",)
    summary = "Step straight down the gradient: the learning rate alone sets the step size."
    rule = "w <- w - lr * g"

    def __init__(self, **hparams: Any) -> None:
        super().__init__(**hparams)
        self.momentum_started = False
        """Whether the momentum buffer holds a value (torch starts it from the first gradient)."""

    def _check(self, hp):
        if hp["nesterov"] and (hp["momentum"] <= 0.0 or hp["dampening"] != 0.0):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0")

    def step(self, params, grads):
        super().step(params, grads)
        if self.hparams["momentum"] != 0.0:
            self.momentum_started = True

    def _update(self, grp, hp, t):
        d = _with_weight_decay(grp.p, grp.g, grp.tmp[0], hp["weight_decay"])
        momentum = hp["momentum"]
        if momentum != 0.0:
            buf = grp.s["momentum_buffer"]
            if not self.momentum_started:
                np.copyto(buf, d)
            else:
                buf *= momentum
                if hp["dampening"] == 0.0:
                    buf += d
                else:
                    np.multiply(d, 1.0 - hp["dampening"], out=grp.tmp[1])
                    buf += grp.tmp[1]
            if hp["nesterov"]:
                np.multiply(buf, momentum, out=grp.tmp[1])
                grp.tmp[1] += d
                d = grp.tmp[1]
            else:
                d = buf
        np.multiply(d, hp["lr"], out=grp.tmp[0])
        grp.p -= grp.tmp[0]

    def _forget(self):
        super()._forget()
        self.momentum_started = False

    def state_dict(self):
        return {**super().state_dict(), "momentum_started": self.momentum_started}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.momentum_started = bool(state.get("momentum_started", self.steps > 0))


class Momentum(SGD):
    """SGD with momentum 0.9: a heavy ball that keeps rolling through flat stretches and small bumps."""

    name = "momentum"
    hparam_specs = tuple(
        HParam(s.name, 0.9, s.doc) if s.name == "momentum" else s for s in SGD.hparam_specs
    )
    summary = "Keep a running velocity of past gradients: speeds up along steady slopes, damps zig-zags."
    rule = "v <- momentum * v + g;  w <- w - lr * v"


class Nesterov(SGD):
    """SGD with Nesterov momentum 0.9: corrects the velocity by looking one step ahead."""

    name = "nesterov"
    hparam_specs = tuple(
        HParam(s.name, 0.9, s.doc)
        if s.name == "momentum"
        else HParam(s.name, True, s.doc, "bool")
        if s.name == "nesterov"
        else s
        for s in SGD.hparam_specs
    )
    summary = "Momentum that looks ahead: the step uses the gradient plus the velocity it is about to add."
    rule = "v <- momentum * v + g;  w <- w - lr * (g + momentum * v)"


class Adagrad(Optimizer):
    """Per-weight step sizes that shrink with the sum of past squared gradients (``torch.optim.Adagrad``)."""

    name = "adagrad"
    hparam_specs = (
        _lr(0.01),
        HParam("lr_decay", 0.0, "the learning rate is lr / (1 + (t - 1) * lr_decay)"),
        _WEIGHT_DECAY,
        HParam("initial_accumulator_value", 0.0, "starting value of the sum of squares"),
        HParam("eps", 1e-10, "added to the denominator so it is never zero"),
    )
    state_names = ("sum",)
    nonnegative_state = ("sum",)
    summary = "Divide each weight's step by the root of its summed squared gradients: rare features get big steps."
    rule = "s <- s + g^2;  w <- w - lr * g / (sqrt(s) + eps)"

    def _init_state(self, name, p):
        return np.full_like(p, self.hparams["initial_accumulator_value"])

    def _update(self, grp, hp, t):
        d = _with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        clr = hp["lr"] / (1.0 + (t - 1) * hp["lr_decay"])
        acc, tmp = grp.s["sum"], grp.tmp[0]
        np.multiply(d, d, out=tmp)
        acc += tmp
        np.sqrt(acc, out=tmp)
        tmp += hp["eps"]
        np.divide(d, tmp, out=tmp)
        tmp *= clr
        grp.p -= tmp


class RMSprop(Optimizer):
    """Divide by a running root-mean-square of recent gradients (``torch.optim.RMSprop``)."""

    name = "rmsprop"
    hparam_specs = (
        _lr(0.01),
        HParam("alpha", 0.99, "decay rate of the running mean of g^2"),
        HParam("eps", 1e-8, "added to the denominator so it is never zero"),
        _WEIGHT_DECAY,
        HParam("momentum", 0.0, "momentum applied to the scaled step"),
        HParam("centered", False, "divide by the variance of g instead of its mean square", "bool"),
    )
    state_names = ("square_avg", "momentum_buffer", "grad_avg")
    nonnegative_state = ("square_avg",)
    summary = "Like AdaGrad but forgets old gradients, so steps do not shrink to nothing."
    rule = "s <- alpha * s + (1 - alpha) * g^2;  w <- w - lr * g / (sqrt(s) + eps)"

    def _update(self, grp, hp, t):
        d = _with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        alpha, tmp = hp["alpha"], grp.tmp[0]
        sq = grp.s["square_avg"]
        sq *= alpha
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - alpha
        sq += tmp
        if hp["centered"]:
            ga = grp.s["grad_avg"]
            np.subtract(d, ga, out=tmp)  # lerp: ga += (1 - alpha) * (d - ga)
            tmp *= 1.0 - alpha
            ga += tmp
            np.multiply(ga, ga, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += hp["eps"]
        if hp["momentum"] > 0.0:
            buf = grp.s["momentum_buffer"]
            buf *= hp["momentum"]
            np.divide(d, tmp, out=tmp)
            buf += tmp
            np.multiply(buf, hp["lr"], out=tmp)
        else:
            np.divide(d, tmp, out=tmp)
            tmp *= hp["lr"]
        grp.p -= tmp


class Adam(Optimizer):
    """Momentum on the gradient divided by a running RMS, with bias correction (``torch.optim.Adam``)."""

    name = "adam"
    hparam_specs = (
        _lr(1e-3),
        _BETAS,
        _EPS,
        _WEIGHT_DECAY,
        HParam("amsgrad", False, "divide by the largest v seen so far (never a growing step)", "bool"),
    )
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    nonnegative_state = ("exp_avg_sq", "max_exp_avg_sq")
    summary = "Momentum and RMSprop together, corrected for their zero start: a robust default."
    rule = (
        "m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2;  "
        "w <- w - lr * m_hat / (sqrt(v_hat) + eps)"
    )
    decoupled = False
    """AdamW: decay the weights directly instead of adding wd * w to the gradient."""

    def _update(self, grp, hp, t):
        if self.decoupled:
            if hp["weight_decay"] != 0.0:
                grp.p *= 1.0 - hp["lr"] * hp["weight_decay"]
            d = grp.g
        else:
            d = _with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        denom, step_size = self._moments(grp, d, hp, t)
        np.divide(grp.s["exp_avg"], denom, out=denom)
        denom *= step_size
        grp.p -= denom

    @staticmethod
    def _moments(grp, d, hp, t) -> tuple[np.ndarray, float]:
        """Update m and v from ``d``; return (denominator in ``grp.tmp[0]``, step size).

        ``m / denom * step_size`` is torch's ``lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)``
        with ``sqrt(bc2)`` moved into ``eps`` and the step size: one pass over the
        parameters fewer, and the same numbers to a rounding or two.
        """
        beta1, beta2 = hp["betas"]
        m, v, tmp = grp.s["exp_avg"], grp.s["exp_avg_sq"], grp.tmp[0]
        np.subtract(d, m, out=tmp)  # lerp, as torch: m += (1 - b1) * (d - m)
        tmp *= 1.0 - beta1
        m += tmp
        v *= beta2
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if hp.get("amsgrad"):
            v = np.maximum(grp.s["max_exp_avg_sq"], v, out=grp.s["max_exp_avg_sq"])
        root_bc2 = math.sqrt(1.0 - beta2**t)
        np.sqrt(v, out=tmp)
        tmp += hp["eps"] * root_bc2
        return tmp, hp["lr"] / (1.0 - beta1**t) * root_bc2


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``)."""

    name = "adamw"
    hparam_specs = tuple(
        HParam(s.name, 1e-2, "decay applied to the weights directly: w <- w - lr * wd * w")
        if s.name == "weight_decay"
        else s
        for s in Adam.hparam_specs
    )
    decoupled = True
    summary = "Adam whose weight decay shrinks the weights directly, not through the adaptive step."
    rule = "w <- w - lr * wd * w;  then the Adam step"


class AdamP(Optimizer):
    """Adam that removes the radial part of the step for scale-invariant weights (Heo et al., 2021)."""

    elementwise = False  # the projection looks at whole weight matrices
    name = "adamp"
    hparam_specs = (
        _lr(1e-3),
        _BETAS,
        _EPS,
        _WEIGHT_DECAY,
        HParam("delta", 0.1, "cosine threshold below which a weight counts as scale-invariant"),
        HParam("wd_ratio", 0.1, "weight decay multiplier where the projection applies"),
        HParam("nesterov", False, "use the Nesterov form of the first moment", "bool"),
    )
    state_names = ("exp_avg", "exp_avg_sq")
    nonnegative_state = ("exp_avg_sq",)
    summary = "Adam, but for weights whose scale does not matter it drops the part of the step that only grows their norm."
    rule = "the Adam step, minus its projection onto w where |cos(g, w)| < delta / sqrt(dim)"

    def _update(self, grp, hp, t):
        beta1 = hp["betas"][0]
        denom, step_size = Adam._moments(grp, grp.g, hp, t)
        perturb = grp.tmp[1]
        if hp["nesterov"]:
            np.multiply(grp.s["exp_avg"], beta1, out=perturb)
            perturb += (1.0 - beta1) * grp.g
            perturb /= denom
        else:
            np.divide(grp.s["exp_avg"], denom, out=perturb)
        for mem in grp.members:
            wd_ratio = 1.0
            if mem.p.ndim > 1:
                wd_ratio = _project(mem.p, mem.g, mem.tmp1, hp["delta"], hp["wd_ratio"], hp["eps"])
            if hp["weight_decay"] > 0.0:
                mem.p *= 1.0 - hp["lr"] * hp["weight_decay"] * wd_ratio
        perturb *= step_size
        grp.p -= perturb


def _project(p, g, perturb, delta, wd_ratio, eps) -> float:
    """AdamP's projection of ``perturb`` (in place); returns the weight-decay ratio to use.

    The channel view is one output unit, which is a column of ``W`` (n_in, n_out); if that
    does not fire, the whole matrix is tried as one vector.
    """
    for axis in (0, None):
        cos = _abs_cosine(g, p, eps, axis)
        dim = p.shape[0] if axis == 0 else p.size
        if cos.max() < delta / math.sqrt(dim):
            norm = np.sqrt((p * p).sum(axis=axis, keepdims=axis is not None))
            p_n = p / (norm + eps)
            perturb -= p_n * (p_n * perturb).sum(axis=axis, keepdims=axis is not None)
            return wd_ratio
    return 1.0


def _abs_cosine(x, y, eps, axis) -> np.ndarray:
    """|cos(x, y)| along ``axis`` as torch's ``cosine_similarity`` computes it."""
    keep = axis is not None
    xn = np.maximum(np.sqrt((x * x).sum(axis=axis, keepdims=keep)), eps)
    yn = np.maximum(np.sqrt((y * y).sum(axis=axis, keepdims=keep)), eps)
    return np.atleast_1d(np.abs(((x / xn) * (y / yn)).sum(axis=axis)))


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW, AdamP)
}
"""Registry: optimizer name -> class."""


def create(name: str, **hparams: Any) -> Optimizer:
    """An optimizer by name with torch.optim's defaults, overridden by ``hparams``."""
    cls = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    return cls(**hparams)


def defaults(name: str) -> dict[str, Any]:
    """The default hyperparameters of optimizer ``name``."""
    return dict(create(name).hparams)
