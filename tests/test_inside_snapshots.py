"""How the "inside the network" views look, at 80x24 and 120x36, after a few single steps."""

import pytest

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tests.test_inside_screens import SCREENS, steps
from tui_trainer.experiments.presets import get_preset
from tui_trainer.tui.app import NNTuiApp

SIZES = [(80, 24), (120, 36)]

CASES = {  # view key: (the experiment, single steps before opening it)
    "b": (lambda: small_config(), 4),
    "g": (lambda: get_preset("deep-sigmoid"), 4),
    "a": (lambda: small_config(activation="relu"), 3),
    "x": (lambda: get_preset("linear-xor"), 3),
    "d": (lambda: small_config(), 2),
    "i": (lambda: small_config(), 3),
    "t": (lambda: small_config(dataset="gaussians"), 0),
    "p": (lambda: small_config(), 0),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", list(CASES))
def test_view(snap_compare, key, size):
    config, n_steps = CASES[key]

    async def prepare(pilot):
        app = pilot.app
        await settings_ready(pilot, app)
        await steps(pilot, app, n_steps)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, SCREENS[key]) and app.screen.draw_count >= 1)
        await pilot.pause(0.1)

    assert snap_compare(NNTuiApp(config()), terminal_size=size, run_before=prepare)
