"""The base of every optimizer: hyperparameter specs, the description API, state, the flat fast path and checkpoints.

An optimizer is one class that says everything about itself (see the package docstring for the list);
this module holds what they share. When the parameters are consecutive views of one array (as
``Network.params`` are) the update runs once over that whole array: a few NumPy calls per step instead of
a few per parameter. For a large network the element-wise update runs chunk by chunk, all of its ~13 NumPy
passes over one cache-sized chunk before the next, instead of ~13 passes through main memory; every element
gets exactly the same arithmetic, so the result is bit-identical to whole-array passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..network import split_flat
from .explain import UpdateExplanation, Worked, f, fp


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


def lr_param(default: float) -> HParam:
    """The learning rate's spec with this optimizer's default."""
    return HParam("lr", default, "learning rate: the size of each step")


WEIGHT_DECAY = HParam("weight_decay", 0.0, "L2 penalty added to the gradient (wd * w)")
EPS = HParam("eps", 1e-8, "added to the denominator so it is never zero")
BETAS = HParam("betas", (0.9, 0.999), "decay rates of the running mean of g and of g^2", kind="betas")


class Optimizer:
    """Base class: hyperparameter handling, the description API, state, the flat fast path and checkpoints.

    A subclass describes itself with the class attributes below and implements ``_update`` (all weights at
    once), ``_explain`` (one weight, with numbers), ``_rule`` and ``_summary`` (text for given settings).
    """

    name: ClassVar[str] = ""
    """The registry name (``create(name)``)."""
    hparam_specs: ClassVar[tuple[HParam, ...]] = ()
    state_labels: ClassVar[dict[str, str]] = {}
    """Each per-parameter state array (e.g. ``exp_avg``) with how explanations call it."""
    state_names: ClassVar[tuple[str, ...]] = ()
    """The keys of ``state_labels``, in order (set for every subclass)."""
    nonnegative_state: ClassVar[tuple[str, ...]] = ()
    """State that sums or averages squares: never negative (a loaded negative value is damage)."""
    letter: ClassVar[str] = ""
    """One capital letter that marks this optimizer wherever colour is not available (the lab's lanes)."""
    race_lr: ClassVar[float | None] = None
    """The learning rate for a race on the built-in toy sets; None: its default ``lr``. The torch defaults
    are tuned for big networks and would make the SGD family look needlessly slow there."""
    summary: ClassVar[str] = ""
    """``summary_for()`` at the default settings (set for every subclass)."""
    rule: ClassVar[str] = ""
    """``rule_for()`` at the default settings (set for every subclass)."""
    elementwise: ClassVar[bool] = True
    """Whether ``_update`` treats every element on its own, so that a group may be cut into chunks."""
    adaptive: ClassVar[bool] = False
    """Whether each weight's step is divided by a running size of its own gradients (AdaGrad, RMSprop,
    Adam): then a gradient a thousand times smaller still makes about the same step, where the SGD
    family's step is ``lr`` times the gradient and shrinks with it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.state_names = tuple(cls.state_labels)
        try:
            cls.summary, cls.rule = cls.summary_for(), cls.rule_for()
        except NotImplementedError:  # not written yet: ``register`` says so
            cls.summary = cls.rule = ""

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

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def settings(cls, hparams: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every hyperparameter: the defaults, overridden by the valid values of ``hparams``.

        An invalid or unknown entry (a field half typed) is left out, so a description never fails.
        """
        hp = {spec.name: spec.default for spec in cls.hparam_specs}
        for spec in cls.hparam_specs:
            if hparams is not None and spec.name in hparams:
                try:
                    hp[spec.name] = spec.check(hparams[spec.name])
                except ValueError:
                    pass
        return hp

    @classmethod
    def rule_for(cls, hparams: Mapping[str, Any] | None = None) -> str:
        """The update rule in symbols (``g`` the gradient, ``w`` the weight) for these settings."""
        return cls._rule(cls.settings(hparams))

    @classmethod
    def summary_for(cls, hparams: Mapping[str, Any] | None = None) -> str:
        """What the optimizer does, in plain words, for these settings."""
        return cls._summary(cls.settings(hparams))

    @classmethod
    def state_in_use(cls, hparams: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The state arrays the update reads with these settings (e.g. no momentum buffer without momentum)."""
        return cls.state_names

    @classmethod
    def _rule(cls, hp: dict[str, Any]) -> str:
        raise NotImplementedError

    @classmethod
    def _summary(cls, hp: dict[str, Any]) -> str:
        raise NotImplementedError

    # -- one weight's update, explained ----------------------------------------------------

    @classmethod
    def state_entries(cls, opt: Optimizer | Mapping[str, Any], param_index: int, index) -> dict[str, float]:
        """The state in use for one weight: ``{label: value}`` (empty before a step).

        ``opt`` is an optimizer or its ``state_dict()`` (what a snapshot carries); ``index`` a flat index
        or a tuple.
        """
        st = as_state(opt)
        states = st.get("state") or []
        if param_index >= len(states):
            return {}
        arrays = states[param_index]
        used = [k for k in cls.state_in_use(cls.settings(st["hparams"])) if k in arrays]
        if not used:
            return {}
        idx = array_index(np.asarray(arrays[used[0]]), index)
        return {cls.state_labels[k]: float(arrays[k][idx]) for k in used}

    @classmethod
    def explain(cls, opt: Optimizer | Mapping[str, Any], param_index: int, index, w_before, grad
                ) -> UpdateExplanation:
        """The last update of weight ``index`` of parameter ``param_index``, written out.

        ``opt`` is the optimizer (or its ``state_dict()``) just after that update; ``w_before`` and
        ``grad`` are the whole parameter array before the update and the gradient it used (AdamP looks
        at a whole column). The new value is computed with the update's own operations in its own order,
        so it is the weight ``step`` wrote.
        """
        st = as_state(opt)
        hp, t = cls.settings(st["hparams"]), int(st["steps"])
        states = st.get("state") or []
        w_arr = np.asarray(w_before, dtype=np.float64)
        g_arr = np.asarray(grad, dtype=np.float64)
        idx = array_index(w_arr, index)
        w, g = float(w_arr[idx]), float(g_arr[idx])
        rule = cls.rule_for(hp)
        if t < 1 or param_index >= len(states):
            return UpdateExplanation(st["name"], rule, ["no update yet: make a step (n) to see one"], w, g, w)
        ex = Worked(hp, t, {k: np.asarray(v) for k, v in states[param_index].items()}, idx, w_arr, g_arr)
        ex.add(f"g = dL/dw = {f(g)}")
        new = cls._explain(ex)
        return UpdateExplanation(st["name"], rule, ex.lines, w, g, new, cls.state_entries(st, param_index, idx))

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        """Write the update of ``ex``'s weight on ``ex``; return the new value, computed as ``_update`` does."""
        raise NotImplementedError

    # -- stepping --------------------------------------------------------------------------

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update ``params`` in place from ``grads`` (aligned lists)."""
        if not self._same(params, grads):
            self._bind(params, grads)
        self.steps += 1
        for group in self._groups:
            for part in group.chunks or (group,):
                self._update(part, self.hparams, self.steps)

    @property
    def chunk_count(self) -> int:
        """How many cache-sized pieces a step's update runs over (0: whole arrays), to check when chunking applies."""
        return sum(len(group.chunks) for group in self._groups)

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


def as_state(opt: Optimizer | Mapping[str, Any]) -> dict[str, Any]:
    """``opt`` (an optimizer, or the dict its ``state_dict`` returns) as that dict, arrays not copied."""
    if isinstance(opt, Optimizer):
        return {
            "name": opt.name, "hparams": opt.hparams, "steps": opt.steps, "state": opt.state,
            "momentum_started": getattr(opt, "momentum_started", opt.steps > 0),
        }
    return dict(opt)


def array_index(array: np.ndarray, index) -> tuple[int, ...]:
    """``index`` (flat int or tuple) as a tuple index into ``array``."""
    if isinstance(index, (int, np.integer)):
        return tuple(int(v) for v in np.unravel_index(int(index), array.shape))
    return tuple(int(v) for v in index)


# -- coupled weight decay (L2 added to the gradient), shared by most optimizers ---------------------


def with_weight_decay(p: np.ndarray, g: np.ndarray, out: np.ndarray, wd: float) -> np.ndarray:
    """``g + wd * p`` in ``out`` (coupled L2), or ``g`` itself when ``wd`` is 0."""
    if wd == 0.0:
        return g
    np.multiply(p, wd, out=out)
    out += g
    return out


def weight_decay_rule(hp: dict[str, Any]) -> tuple[list[str], str]:
    """The rule's first part for coupled weight decay and the symbol the rest uses: ``g``, or ``d``."""
    if hp.get("weight_decay", 0.0) == 0.0:
        return [], "g"
    return ["d = g + weight_decay * w"], "d"


def explain_weight_decay(ex: Worked) -> tuple[float, str]:
    """Coupled weight decay for one weight, as ``with_weight_decay``: ``(d, its symbol)``."""
    wd = float(ex.hp.get("weight_decay", 0.0))
    w, g = ex.w, ex.g
    if wd == 0.0:
        return g, "g"
    d = w * wd + g
    ex.add(f"d = g + weight_decay * w = {f(g)} + {f(wd)} * {fp(w)} = {f(d)}")
    return d, "d"


WEIGHT_DECAY_NOTE = " Weight decay adds weight_decay * w to the gradient, pulling every weight toward 0."
"""What coupled weight decay adds to a summary."""
