"""Optimizer lab screens: race, learning-rate sweep, loss surfaces (registered in ``views``)."""

from __future__ import annotations

from .lab_race import RaceScreen
from .lab_surface import SurfaceScreen
from .lab_sweep import SweepScreen
from .views import View, register

__all__ = ["RaceScreen", "SurfaceScreen", "SweepScreen"]

register(View(
    key="o",
    name="race",
    description="Optimizer race",
    help="Race optimizers (m: batch modes) from the same weights on the same batches",
    factory=lambda main: RaceScreen(main.session.config),
))
register(View(
    key="s",
    name="sweep",
    description="LR sweep",
    help="Short trainings over log-spaced learning rates: too high diverges, too low crawls",
    factory=lambda main: SweepScreen(main.session.config),
))
register(View(
    key="f",
    name="surface",
    description="Loss surfaces",
    help="Watch optimizers walk 2-D functions (Rosenbrock, saddle, two wells, ...)",
    factory=lambda main: SurfaceScreen(),
))
