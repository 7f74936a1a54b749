"""Journeys through the app driven only with keys, checked by what the user sees."""

import asyncio
import io
import time

from rich.console import Console

from tui_trainer.config import with_overrides
from tui_trainer.session import DEFAULT_PACE, default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.widgets.status_pane import StatusPane


async def wait_for(pilot, condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.02)


def status_text(app) -> str:
    console = Console(width=60, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(StatusPane).content)
    return console.export_text()


def notes(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def test_an_exploding_loss_is_flagged_like_nan():
    """iris with the learning rate raised to 50 by keys: the cost explodes without becoming NaN;
    the app stops, says so, and says what to do."""

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), dataset="iris", epochs=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            await pilot.press(*["plus"] * 12)
            session = app.screen.session
            assert session.config.optimizer.lr == 50
            await pilot.press("greater_than_sign")  # faster: the explosion comes in the first epoch anyway
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "diverged")
            await wait_for(pilot, lambda: "diverged" in status_text(app))
            assert "exploded" in notes(app) and "lower the learning rate" in notes(app)
            await pilot.press("q")

    asyncio.run(scenario())


def test_the_default_pace_can_be_watched_and_max_is_one_key_away():
    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            assert session.pace == DEFAULT_PACE
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 0)
            started, steps = time.monotonic(), session.trainer.step_count
            await pilot.pause(0.5)
            rate = (session.trainer.step_count - steps) / (time.monotonic() - started)
            assert rate <= DEFAULT_PACE * 1.2
            await pilot.press(*["greater_than_sign"] * 3)  # 300, 1000, max
            assert session.pace is None
            await wait_for(pilot, lambda: "max" in status_text(app))
            steps = session.trainer.step_count
            await pilot.pause(0.5)
            assert session.trainer.step_count - steps > DEFAULT_PACE  # faster than the default pace
            await pilot.press(*["less_than_sign"] * 8)  # down to one update a second
            assert session.pace == 1
            await wait_for(pilot, lambda: "pace 1)" in status_text(app) or "pace 1/s" in status_text(app))
            await pilot.press("q")

    asyncio.run(scenario())
