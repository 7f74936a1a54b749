"""Optimizer lab screens: race, learning-rate sweep, loss surfaces (registered in ``views``)."""

from __future__ import annotations

from .views import View, register


# The screen modules load when a screen first opens, not at start-up.
def _race(main):
    from .lab_race import RaceScreen

    return RaceScreen(main.session.config)


def _sweep(main):
    from .lab_sweep import SweepScreen

    return SweepScreen(main.session.config)


def _surface(main):
    from .lab_surface import SurfaceScreen

    return SurfaceScreen()


register(View(
    key="o",
    name="race",
    description="Optimizer race",
    help="Race optimizers (m: batch modes) from the same weights on the same batches",
    factory=_race,
))
register(View(
    key="s",
    name="sweep",
    description="LR sweep",
    help="Short trainings over log-spaced learning rates: too high diverges, too low crawls",
    factory=_sweep,
))
register(View(
    key="f",
    name="surface",
    description="Loss surfaces",
    help="Watch optimizers walk 2-D functions (Rosenbrock, saddle, two wells, ...)",
    factory=_surface,
))
