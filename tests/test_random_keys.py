"""A seeded storm of keys: every binding, the palette, dialogs, letters, digits and resizes.

The app must be alive at the end (no exception anywhere: in tests an unexpected error fails
the test instead of being reported) and quit with status 0. More keys and other seeds run with
``NN_TUI_STORM_KEYS=5000 NN_TUI_STORM_SEED=7 pytest tests/test_random_keys.py``.
"""

import asyncio
import os
import random

import pytest

from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.main import MainScreen

KEYS = (
    list("abcdefghijklmnoprstuvwxyz0123456789")
    + ["space", "enter", "escape", "tab", "shift+tab", "up", "down", "left", "right", "pageup", "pagedown",
       "home", "end", "backspace", "delete", "ctrl+p", "ctrl+s", "ctrl+o", "plus", "minus",
       "left_square_bracket", "right_square_bracket", "question_mark", "less_than_sign", "greater_than_sign",
       "full_stop", "comma", "equals_sign", "j", "k", "insert"]
)
SIZES = [(80, 24), (120, 36), (100, 30), (200, 50), (60, 20)]


def storm_keys(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(KEYS) for _ in range(count)]


async def storm(seed: int, count: int, tmp_path) -> int | None:
    config = with_overrides(default_config(), n_samples=120, epochs=40)
    app = NNTuiApp(config)
    quits = []

    async def count_quit() -> None:
        quits.append(True)  # the palette's Quit, found by random typing: the storm goes on

    app.action_quit = count_quit
    rng = random.Random(seed + 1)
    cwd = os.getcwd()
    os.chdir(tmp_path)  # ctrl+s with the default name writes here
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            for i, key in enumerate(storm_keys(seed, count)):
                await pilot.press(key)
                if i % 97 == 0:
                    await pilot.resize_terminal(*rng.choice(SIZES))
                if i % 50 == 0:
                    await pilot.pause()
            await pilot.resize_terminal(120, 36)
            for _ in range(10):  # close whatever is open: dialogs, views, the palette
                if isinstance(app.screen, MainScreen):
                    break
                await pilot.press("escape")
                await pilot.pause()
            assert isinstance(app.screen, MainScreen), f"stuck on {app.screen_stack!r}, focus {app.focused!r}"
            await pilot.press("q")
            await pilot.pause()
        return app.return_code
    finally:
        os.chdir(cwd)


def test_seven_hundred_random_keys_leave_the_app_alive(tmp_path, no_idle_wait):
    seed = int(os.environ.get("NN_TUI_STORM_SEED", "0"))
    count = int(os.environ.get("NN_TUI_STORM_KEYS", "700"))
    assert asyncio.run(storm(seed, count, tmp_path)) in (0, None)
