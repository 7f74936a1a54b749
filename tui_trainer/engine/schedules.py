"""Learning-rate schedules, stepped once per epoch, with torch's names and torch's exact numbers.

``create_schedule(name, **params)`` gives a ``Schedule``; ``Schedule.lr_at(epoch, base_lr)`` is the
learning rate for the epoch after ``epoch`` completed ones (``epoch`` is torch's ``last_epoch``: the
number of ``scheduler.step()`` calls made, one after each epoch). The numbers are the ones
``torch.optim.lr_scheduler`` produces when stepped that way, bit for bit: torch works the learning
rate out recursively (the "chainable form": each epoch's lr from the previous epoch's), which
differs in the last bits from the closed formulas in its docs, so ``lr_at`` does the same recursion
(remembering where it got to, so that asking for one epoch after another costs O(1) each).

- ``constant`` (no torch scheduler): ``base_lr``;
- ``step``, torch ``StepLR(step_size, gamma=0.1)``: ``base_lr * gamma ** (t // step_size)``;
- ``exponential``, torch ``ExponentialLR(gamma)``: ``base_lr * gamma ** t``;
- ``cosine``, torch ``CosineAnnealingLR(T_max, eta_min=0)``:
  ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``

for epoch ``t`` (``t`` epochs completed): the closed forms, which the recursion follows to within
a few units in the last place. Like torch's, ``cosine``
does not stop at ``T_max``: after ``eta_min`` at ``t = T_max`` the lr climbs back along the cosine.

A linear warmup (``warmup_epochs`` > 0) goes with any of them, like torch's ``LinearLR(optimizer,
start_factor=warmup_start_factor, end_factor=1.0, total_iters=warmup_epochs)``: the first epoch
runs at ``warmup_start_factor * base_lr`` and the lr grows linearly to ``base_lr`` over
``warmup_epochs`` epochs. With ``constant`` that is ``LinearLR`` alone; with another schedule it
is ``SequentialLR(optimizer, [LinearLR(...), schedule], milestones=[warmup_epochs])``: the schedule
starts at ``base_lr`` once the warmup is over and counts its epochs (``step_size``, ``T_max``)
from there.

Pure Python (``math``): nothing here touches an optimizer; the ``Trainer`` applies a schedule.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

WARMUP_START_FACTOR = 1.0 / 3
"""torch's ``LinearLR`` default ``start_factor``."""


@dataclass(frozen=True)
class ScheduleParam:
    """One parameter of a schedule: its default (None: it must be given), kind and range."""

    name: str
    default: Any
    doc: str
    kind: str = "float"  # "float" | "int"
    low: float = 0.0
    low_open: bool = False  # True: value > low, else value >= low
    high: float = math.inf
    suggested: Any = None
    """A value to start from where one must be given (a form's first value)."""

    @property
    def required(self) -> bool:
        return self.default is None

    def check(self, value: Any) -> int | float:
        """The value as an int or float, or ``ValueError`` naming the parameter and its range."""
        if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
            kind = "a whole number" if self.kind == "int" else "a number"
            raise ValueError(f"{self.name} must be {kind} in {self.range_text()}, got {value!r}")
        if self.kind == "int":
            if not isinstance(value, numbers.Integral) and not float(value).is_integer():
                raise ValueError(f"{self.name} must be a whole number in {self.range_text()}, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        above = value > self.low if self.low_open else value >= self.low
        if not (math.isfinite(value) and above and value <= self.high):
            raise ValueError(f"{self.name} must be in {self.range_text()}, got {value!r}")
        return value

    def range_text(self) -> str:
        """The allowed range, e.g. ``(0, 1]`` or ``[1, inf)``."""
        high = "inf)" if self.high == math.inf else f"{self.high:g}]"
        return f"{'(' if self.low_open else '['}{self.low:g}, {high}"


@dataclass(frozen=True)
class ScheduleSpec:
    """What ``SCHEDULES`` says about one schedule (for help texts and validation)."""

    name: str
    torch: str
    """torch's class, as a torch user would write it."""
    summary: str
    params: tuple[ScheduleParam, ...]

    @property
    def main_param(self) -> ScheduleParam | None:
        """The parameter that must be given (the first), the one a form shows; None: none must."""
        return next((p for p in self.params if p.required), None)

    def defaults(self) -> dict[str, Any]:
        """Each parameter's default (None: it must be given)."""
        return {p.name: p.default for p in self.params}


WARMUP_PARAMS = (
    ScheduleParam("warmup_epochs", 0, "epochs of linear warmup before the schedule (0: none)", "int"),
    ScheduleParam("warmup_start_factor", WARMUP_START_FACTOR,
                  "the first epoch's lr as a fraction of the lr (torch LinearLR start_factor)",
                  low=0.0, low_open=True, high=1.0),
)
"""Parameters every schedule takes: a linear warmup (torch ``LinearLR`` before it, ``SequentialLR``)."""

_GAMMA_DOC = "factor the lr is multiplied by at each decay"
SCHEDULES: dict[str, ScheduleSpec] = {
    spec.name: spec
    for spec in (
        ScheduleSpec("constant", "none", "the lr stays as set", ()),
        ScheduleSpec("step", "StepLR", "the lr is multiplied by gamma every step_size epochs", (
            ScheduleParam("step_size", None, "epochs between decays", "int", low=1, suggested=30),
            ScheduleParam("gamma", 0.1, _GAMMA_DOC, low=0.0, low_open=True, high=1.0),
        )),
        ScheduleSpec("exponential", "ExponentialLR", "the lr is multiplied by gamma every epoch", (
            ScheduleParam("gamma", None, _GAMMA_DOC, low=0.0, low_open=True, high=1.0, suggested=0.99),
        )),
        ScheduleSpec("cosine", "CosineAnnealingLR",
                     "the lr follows half a cosine from the lr down to eta_min over T_max epochs", (
            ScheduleParam("T_max", None, "epochs from the lr down to eta_min", "int", low=1, suggested=100),
            ScheduleParam("eta_min", 0.0, "the lowest lr"),
        )),
    )
}
"""Every schedule by name, with its parameters (besides ``WARMUP_PARAMS``, which all take)."""


class Schedule:
    """A learning-rate schedule: ``lr_at(epoch, base_lr)``, a pure function of its arguments."""

    def __init__(self, name: str, params: dict[str, Any], warmup_epochs: int, warmup_start_factor: float) -> None:
        self.name = name
        self.params = dict(params)
        """The schedule's own parameters, validated, defaults filled in (warmup apart)."""
        self.warmup_epochs = warmup_epochs
        self.warmup_start_factor = warmup_start_factor
        self._memo: tuple[float, int, float] | None = None  # (base_lr, epoch, lr) last worked out

    @property
    def spec(self) -> ScheduleSpec:
        return SCHEDULES[self.name]

    @property
    def settings(self) -> dict[str, Any]:
        """Every parameter, warmup included: ``create_schedule(name, **settings)`` makes it again."""
        return {**self.params, "warmup_epochs": self.warmup_epochs, "warmup_start_factor": self.warmup_start_factor}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"Schedule({self.name!r}, {args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and (self.name, self.settings) == (other.name, other.settings)

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.settings.items())))

    @property
    def description(self) -> str:
        """The schedule in a line, e.g. ``cosine (torch CosineAnnealingLR): T_max=50, eta_min=0; ...``."""
        spec = self.spec
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        text = spec.name if spec.torch == "none" else f"{spec.name} (torch {spec.torch})"
        text += f": {args}; {spec.summary}" if args else f": {spec.summary}"
        if self.warmup_epochs:
            text += (f"; after a linear warmup over {self.warmup_epochs} epoch"
                     f"{'s' if self.warmup_epochs != 1 else ''} from {self.warmup_start_factor:.4g} x the lr")
        return text

    # -- the numbers -----------------------------------------------------------------------

    def lr_at(self, epoch: int, base_lr: float) -> float:
        """The lr for the epoch after ``epoch`` completed ones (torch's lr after ``epoch`` calls of
        ``scheduler.step()``), for a user-set lr of ``base_lr``."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a whole number >= 0, got {epoch!r}")
        base_lr = float(base_lr)
        memo = self._memo
        if memo is not None and memo[0] == base_lr and memo[1] <= epoch:
            t, lr = memo[1], memo[2]
        else:
            t, lr = 0, self._first(base_lr)
        while t < epoch:
            t += 1
            lr = self._next(t, lr, base_lr)
        self._memo = (base_lr, epoch, lr)
        return lr

    def lrs(self, epochs: int, base_lr: float) -> list[float]:
        """The lr of each of the first ``epochs`` epochs."""
        return [self.lr_at(t, base_lr) for t in range(epochs)]

    def _first(self, base: float) -> float:
        if self.warmup_epochs:
            return base * self.warmup_start_factor  # LinearLR's first value
        return base

    def _next(self, t: int, lr: float, base: float) -> float:
        """torch's lr after step ``t`` from ``lr``, the lr after step ``t - 1``."""
        w = self.warmup_epochs
        if w and (t < w or self.name == "constant"):
            return _linear_next(t, lr, self.warmup_start_factor, 1.0, w)
        if w:  # SequentialLR: the schedule starts at its closed form for step 0, then steps on its own
            if t == w:
                return self._closed_first(base)
            t -= w
        return self._schedule_next(t, lr, base)

    def _closed_first(self, base: float) -> float:
        """The schedule's closed form at step 0 (what ``SequentialLR`` sets at a milestone)."""
        p = self.params
        if self.name in ("step", "exponential"):
            return base * p["gamma"] ** 0
        if self.name == "cosine":
            eta_min = p["eta_min"]
            return eta_min + (base - eta_min) * (1 + math.cos(math.pi * 0 / p["T_max"])) / 2
        return base

    def _schedule_next(self, t: int, lr: float, base: float) -> float:
        """torch's chainable ``get_lr`` for step ``t`` >= 1 of the schedule itself."""
        p = self.params
        if self.name == "step":
            return lr * p["gamma"] if t % p["step_size"] == 0 else lr
        if self.name == "exponential":
            return lr * p["gamma"]
        if self.name == "cosine":
            t_max, eta_min = p["T_max"], p["eta_min"]
            if (t - 1 - t_max) % (2 * t_max) == 0:  # just past a minimum: the ratio below would be 0/0
                return lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
            return ((1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
                    * (lr - eta_min) + eta_min)
        return lr


def _linear_next(t: int, lr: float, start: float, end: float, total: int) -> float:
    """torch ``LinearLR``'s chainable step ``t`` >= 1."""
    if t > total:
        return lr
    return lr * (1.0 + (end - start) / (total * start + (t - 1) * (end - start)))


def create_schedule(name: str, **params: Any) -> Schedule:
    """The schedule ``name`` (a key of ``SCHEDULES``) with ``params``: its own (see ``SCHEDULES``)
    and ``warmup_epochs``/``warmup_start_factor``. ``ValueError`` names a bad name, a missing,
    unknown or out-of-range parameter and the range."""
    spec = SCHEDULES.get(name)
    if spec is None:
        raise ValueError(f"unknown lr schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")
    own = {p.name: p for p in spec.params}
    warm = {p.name: p for p in WARMUP_PARAMS}
    unknown = [k for k in params if k not in own and k not in warm]
    if unknown:
        allowed = ", ".join([*own, *warm])
        raise ValueError(f"schedule {name!r} has no parameter {unknown[0]!r}; allowed: {allowed}")
    values: dict[str, Any] = {}
    for p in (*spec.params, *WARMUP_PARAMS):
        value = params.get(p.name, p.default)
        if value is None:
            raise ValueError(f"schedule {name!r} needs {p.name} ({p.doc}), in {p.range_text()}")
        values[p.name] = p.check(value)
    warmup_epochs = values.pop("warmup_epochs")
    warmup_start_factor = values.pop("warmup_start_factor")
    return Schedule(name, values, warmup_epochs, warmup_start_factor)
