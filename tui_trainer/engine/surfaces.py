"""2-D test functions for watching optimizers walk: each has an analytic gradient and known minima.

A surface's ``f`` and ``grad`` take ``x`` and ``y`` as numbers or arrays (so a plot can evaluate a
whole grid at once). Paths are made by the engine's own optimizer classes stepping a 2-element
parameter array, so what the lab shows is exactly what those classes do in training.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .optimizers import OPTIMIZERS, SGD, Optimizer


@dataclass(frozen=True)
class Minimum:
    """A known minimum of a surface."""

    x: float
    y: float
    label: str
    """``global`` or ``local``."""


@dataclass(frozen=True)
class Surface:
    """A 2-D function with its gradient, its minima and a start that shows something."""

    name: str
    description: str
    f: Callable
    """``f(x, y)``, vectorised over arrays."""
    grad: Callable
    """``grad(x, y) -> (df/dx, df/dy)``, vectorised over arrays."""
    minima: tuple[Minimum, ...]
    """Empty when the function has no minimum (e.g. a saddle)."""
    start: tuple[float, float]
    """The documented default start point."""
    bounds: tuple[tuple[float, float], tuple[float, float]]
    """``((xmin, xmax), (ymin, ymax))`` for plotting."""
    lr: float
    """Default learning rate for the SGD family, whose step scales with the gradient."""
    adaptive_lr: float
    """Default learning rate for the adaptive optimizers, whose step is roughly ``lr`` in size."""
    steps: int
    """Default number of updates."""

    def default_lr(self, optimizer: str) -> float:
        """The learning rate to use here when none is given, by the optimizer's family."""
        cls = OPTIMIZERS.get(optimizer)
        if cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        return self.lr if issubclass(cls, SGD) else self.adaptive_lr

    def nearest_minimum(self, x: float, y: float) -> tuple[Minimum, float] | None:
        """The closest known minimum and its distance; None when there is none."""
        if not self.minima:
            return None
        return min(((m, math.hypot(x - m.x, y - m.y)) for m in self.minima), key=lambda md: md[1])


# --- the functions ------------------------------------------------------------------------------


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return t1**2 + t2**2 + t3**2


def _beale_grad(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    dx = 2 * (t1 * (y - 1) + t2 * (y**2 - 1) + t3 * (y**3 - 1))
    dy = 2 * x * (t1 + 2 * t2 * y + 3 * t3 * y**2)
    return dx, dy


def _saddle(x, y):
    return x**2 - y**2


def _saddle_grad(x, y):
    return 2 * x, -2 * y


_STIFFNESS = 50.0
"""Curvature of the ill-conditioned bowl along y (1 along x): its condition number."""


def _ill_conditioned(x, y):
    return 0.5 * (x**2 + _STIFFNESS * y**2)


def _ill_conditioned_grad(x, y):
    return x, _STIFFNESS * y


_TILT = 0.5
"""Tilt of the double well: it makes the left well the deeper one."""


def _double_well(x, y):
    return x**4 - 2 * x**2 + _TILT * x + y**2


def _double_well_grad(x, y):
    return 4 * x**3 - 4 * x + _TILT, 2 * y


# The double well's minima are the outer roots of d/dx = 4x^3 - 4x + tilt (the middle one is the bump).
_GLOBAL_X, _BUMP_X, _LOCAL_X = np.sort(np.roots([4.0, 0.0, -4.0, _TILT]).real)


SURFACES: dict[str, Surface] = {s.name: s for s in (
    Surface(
        "rosenbrock",
        "(1-x)^2 + 100 (y-x^2)^2: a curved, narrow valley; easy to find, slow to follow to (1, 1)",
        _rosenbrock, _rosenbrock_grad,
        (Minimum(1.0, 1.0, "global"),),
        start=(-1.2, 1.0), bounds=((-2.0, 2.0), (-1.0, 3.0)),
        lr=1e-3, adaptive_lr=0.05, steps=1000,
    ),
    Surface(
        "beale",
        "Beale's function: flat plateaus and steep walls around the minimum at (3, 0.5)",
        _beale, _beale_grad,
        (Minimum(3.0, 0.5, "global"),),
        start=(1.0, 1.5), bounds=((-4.5, 4.5), (-4.5, 4.5)),
        lr=1e-3, adaptive_lr=0.05, steps=1000,
    ),
    Surface(
        "saddle",
        "x^2 - y^2: a saddle point at the origin and no minimum; the question is how fast a path escapes",
        _saddle, _saddle_grad,
        (),
        start=(-1.8, 0.02), bounds=((-2.0, 2.0), (-2.0, 2.0)),
        lr=0.01, adaptive_lr=0.05, steps=100,
    ),
    Surface(
        "ill_conditioned",
        f"0.5 (x^2 + {_STIFFNESS:g} y^2): a long narrow bowl; plain SGD zig-zags across it and crawls along it",
        _ill_conditioned, _ill_conditioned_grad,
        (Minimum(0.0, 0.0, "global"),),
        start=(-4.0, 0.5), bounds=((-5.0, 5.0), (-1.0, 1.0)),
        lr=0.025, adaptive_lr=0.1, steps=150,
    ),
    Surface(
        "local_minimum",
        f"x^4 - 2x^2 + {_TILT:g}x + y^2: a shallow well on the right, a deeper one on the left; from the "
        "start, plain SGD settles in the shallow one and momentum 0.9 rolls over the bump into the deep one",
        _double_well, _double_well_grad,
        (Minimum(float(_GLOBAL_X), 0.0, "global"), Minimum(float(_LOCAL_X), 0.0, "local")),
        start=(2.0, 1.0), bounds=((-2.0, 2.5), (-1.5, 1.5)),
        lr=0.01, adaptive_lr=0.05, steps=300,
    ),
)}
"""Registry: surface name -> ``Surface``."""


# --- paths --------------------------------------------------------------------------------------


def descend(surface: Surface, opt: Optimizer, start=None) -> Iterator[np.ndarray]:
    """The points ``opt`` visits from ``start`` (included), one per update, without end.

    Stops early once a point or its value is no longer finite: the path diverged. Each point
    is a new array, so a UI thread may keep it.
    """
    p = np.array(surface.start if start is None else start, dtype=np.float64)
    g = np.empty(2)
    yield p.copy()
    while True:
        with np.errstate(all="ignore"):  # an overflow is a divergence, reported by stopping
            g[:] = surface.grad(p[0], p[1])
            opt.step([p], [g])
            finite = np.isfinite(p).all() and np.isfinite(surface.f(p[0], p[1]))
        if not finite:
            return
        yield p.copy()


def run_paths(surface: Surface, optimizers: dict[str, Optimizer], start=None, steps: int | None = None,
              ) -> dict[str, np.ndarray]:
    """Each optimizer's path from the same start: an array of shape ``(steps + 1, 2)``.

    A path that diverged is shorter: it ends at its last finite point (see ``path_result``).
    """
    steps = surface.steps if steps is None else steps
    return {label: np.array(list(itertools.islice(descend(surface, opt, start), steps + 1)))
            for label, opt in optimizers.items()}


@dataclass(frozen=True)
class PathResult:
    """Where a path ended and how that compares with the surface's minima."""

    final_point: tuple[float, float]
    final_value: float
    distance: float | None
    """To the nearest known minimum; None when the surface has none."""
    nearest: str | None
    """The nearest minimum's label (``global`` / ``local``); None when the surface has none."""
    diverged: bool
    steps: int
    """Updates made (fewer than asked for when the path diverged)."""


def path_result(surface: Surface, path: np.ndarray, steps: int) -> PathResult:
    """Summarise a path that ``run_paths`` made with ``steps`` updates asked for."""
    x, y = (float(v) for v in path[-1])
    near = surface.nearest_minimum(x, y)
    with np.errstate(all="ignore"):  # a diverged path may end far out: its value is inf, not an error
        value = float(surface.f(np.float64(x), np.float64(y)))
    return PathResult(
        final_point=(x, y),
        final_value=value,
        distance=None if near is None else near[1],
        nearest=None if near is None else near[0].label,
        diverged=len(path) < steps + 1,
        steps=len(path) - 1,
    )
