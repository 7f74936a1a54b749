"""How the optimizer lab looks: each screen in a finished, reproducible state, at 80x24 and 120x36."""

import pytest

from tests.conftest import wait_for
from tests.test_lab_screens import open_screen, tiny_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.lab_race import RaceScreen
from tui_trainer.tui.screens.lab_surface import SurfaceScreen
from tui_trainer.tui.screens.lab_sweep import SweepScreen
from tui_trainer.tui.widgets.multi_plot import MultiPlot

SIZES = [(80, 24), (120, 36)]


@pytest.fixture(autouse=True)
def frozen_timings(monkeypatch):
    """Times per update differ from run to run: the race shows ``--`` instead."""
    monkeypatch.setattr(RaceScreen, "freeze_timings", True)


async def finished(pilot, screen, lanes: int) -> None:
    """Wait for the worker's results, then for the throttled plot to draw them."""
    await wait_for(pilot, lambda: screen.done)
    plot = screen.query_one(MultiPlot)
    await wait_for(pilot, lambda: len(plot.series) >= lanes)
    await pilot.pause(0.4)


@pytest.mark.parametrize("size", SIZES)
def test_race_finished(snap_compare, size):
    async def race(pilot):
        screen = await open_screen(pilot, "o", RaceScreen)
        await pilot.press("space")
        await finished(pilot, screen, 8)

    assert snap_compare(NNTuiApp(tiny_config(epochs=5)), terminal_size=size, run_before=race)


@pytest.mark.parametrize("size", SIZES)
def test_batch_mode_race_finished(snap_compare, size):
    async def batch_race(pilot):
        screen = await open_screen(pilot, "o", RaceScreen)
        await pilot.press("m", "space")
        await finished(pilot, screen, 3)

    assert snap_compare(NNTuiApp(tiny_config(epochs=5)), terminal_size=size, run_before=batch_race)


@pytest.mark.parametrize("size", SIZES)
def test_sweep_finished(snap_compare, size):
    async def sweep(pilot):
        screen = await open_screen(pilot, "s", SweepScreen)
        await pilot.press("1", "space")
        await finished(pilot, screen, 1)

    assert snap_compare(NNTuiApp(tiny_config(dataset="plane")), terminal_size=size, run_before=sweep)


@pytest.mark.parametrize("size", SIZES)
def test_surface_after_60_steps(snap_compare, size):
    async def steps(pilot):
        screen = await open_screen(pilot, "f", SurfaceScreen)
        screen.advance(59)
        await pilot.press("n")
        await pilot.pause(0.2)

    assert snap_compare(NNTuiApp(tiny_config()), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_surface_local_minimum_to_the_end(snap_compare, size):
    async def to_end(pilot):
        await open_screen(pilot, "f", SurfaceScreen)
        await pilot.press(*["right_square_bracket"] * 4, "down", "e")
        await pilot.pause(0.2)

    assert snap_compare(NNTuiApp(tiny_config()), terminal_size=size, run_before=to_end)
