"""The optimizer race's texts agree with its state at once: after a pause, a reset, a new race."""

import asyncio

from tests.test_app import notes, region_text
from tests.conftest import wait_for
from tests.test_lab_screens import open_screen, plain, tiny_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.lab_race import RaceScreen
from tui_trainer.tui.widgets.lane_list import LaneList
from tui_trainer.tui.widgets.multi_plot import MultiPlot

START_HINT = "space: start the race"


def plot_text(screen) -> str:
    return "\n".join(region_text(screen.app, screen.query_one(MultiPlot)))


def lane_header(screen) -> str:
    lanes = screen.query_one("#race-optimizers", LaneList)
    return plain(lanes.query_one(".lane-header"))


def test_an_early_pause_shows_the_race_so_far_not_the_start_hint():
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=200, batch_size=1))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            assert START_HINT in plot_text(screen)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.progress > 0)
            await pilot.press("space")
            # in the same frame as the header's "paused": the start cost of each lane, not the hint
            await wait_for(pilot, lambda: "paused" in plain(screen.query_one("#lab-state")))
            assert START_HINT not in plot_text(screen)
            await pilot.press("r")
            assert "ready" in plain(screen.query_one("#lab-state"))
            assert START_HINT in plot_text(screen)

    asyncio.run(scenario())


def test_a_reset_puts_the_target_column_back_and_a_new_race_is_announced():
    async def scenario():
        app = NNTuiApp(tiny_config(epochs=3))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            assert "to tgt" in lane_header(screen)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            assert "to tgt" not in lane_header(screen)  # the auto target, as a number
            await pilot.press("r")
            assert "to tgt" in lane_header(screen)
            assert "New race" not in notes(app)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            await pilot.press("space")  # a finished race: space runs a new one, and says so
            assert "New race from the same weights" in notes(app)
            await wait_for(pilot, lambda: screen.done)

    asyncio.run(scenario())
