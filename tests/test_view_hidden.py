"""The hidden-space view (key e): points in a hidden layer's space, the input grid warped through it."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tests.test_inside_screens import steps
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.presets import get_preset
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_hidden import HiddenPlot, HiddenSpaceScreen
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("e", HiddenSpaceScreen)]


def run(coro):
    return asyncio.run(coro)


def text(app) -> str:
    return "\n".join(strip.text for strip in screen_lines(app))


async def open_view(pilot, app, n_steps=0):
    await settings_ready(pilot, app)
    await steps(pilot, app, n_steps)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, HiddenSpaceScreen) and app.screen.draw_count >= 1)
    await pilot.pause(0.05)
    return app.screen


async def redrawn(pilot, screen, before):
    await wait_for(pilot, lambda: screen.draw_count > before)
    await pilot.pause(0.05)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_opens_moves_between_layers_steps_and_closes(size):
    async def go():
        app = NNTuiApp(small_config(hidden=[16, 2], activation="tanh"))
        async with app.run_test(size=size) as pilot:
            screen = await open_view(pilot, app)
            title = text(app).splitlines()[0]
            assert "Hidden space" in title and "layer 1/2" in title and "16 units" in title
            assert screen.projected and screen.grid_drawn
            assert "projected (PCA" in text(app)
            assert "bends the plane" in text(app)
            assert "Step 0, the initial weights" in " ".join(text(app).split())  # no claim of a split yet
            plot = app.screen.query_one(HiddenPlot)
            assert plot.plot is not None and any(c.lines for c in plot.plot.curves)
            before = screen.coords.copy()
            n = screen.draw_count
            await pilot.press("right_square_bracket")
            await redrawn(pilot, screen, n)
            assert "layer 2/2" in text(app).splitlines()[0] and "2 units" in text(app).splitlines()[0]
            assert not screen.projected
            assert "drawn directly" in text(app)
            # a 2-unit layer is its activations themselves
            net = screen.network_copy(screen.snapshot)
            d = app.training.session.experiment.data
            np.testing.assert_allclose(screen.coords, net.forward_all(d.X_train)[1])
            n = screen.draw_count
            await pilot.press("right_square_bracket")  # wraps around
            await redrawn(pilot, screen, n)
            assert "layer 1/2" in text(app).splitlines()[0]
            n = screen.draw_count
            await pilot.press("left_square_bracket")
            await redrawn(pilot, screen, n)
            assert "layer 2/2" in text(app).splitlines()[0]
            n = screen.draw_count
            await pilot.press("left_square_bracket")
            await redrawn(pilot, screen, n)
            np.testing.assert_allclose(screen.coords, before)
            # single steps change the picture
            n = screen.draw_count
            await pilot.press("n")
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.draw_count > n and screen.snapshot.step >= 2)
            await pilot.pause(0.05)
            assert not np.allclose(screen.coords, before)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(go())


def test_linear_layers_say_the_grid_stays_linear():
    async def go():
        app = NNTuiApp(get_preset("linear-xor"))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_view(pilot, app, 2)
            shown = text(app)
            assert "stays a linear map" in shown and "x: linear collapse" in shown
            # the warped grid is straight: every projected line lies on a line
            plot = app.screen.query_one(HiddenPlot).plot
            for c in [c for c in plot.curves if c.lines]:
                P = np.column_stack([c.x, c.y])
                Q = P - P[0]
                assert np.linalg.matrix_rank(Q, tol=1e-6 * max(1.0, np.abs(Q).max())) <= 1
            assert screen.grid_drawn

    run(go())


def test_data_without_two_inputs_shows_the_points_only():
    async def go():
        app = NNTuiApp(with_overrides(default_config(), dataset="iris", hidden=[5], epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_view(pilot, app)
            assert not screen.grid_drawn and screen.projected
            assert "No grid: the data has 4 inputs" in text(app)

    run(go())


def test_keys_while_training_and_resizing(no_idle_wait):
    async def go():
        app = NNTuiApp(small_config(epochs=50))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_view(pilot, app)
            await pilot.press("space")
            for key in ["right_square_bracket", "left_square_bracket", "right_square_bracket", "n"]:
                await pilot.press(key)
                await pilot.pause(0.05)
            await pilot.resize_terminal(60, 16)
            await pilot.pause(0.2)
            await pilot.resize_terminal(120, 36)
            await pilot.pause(0.2)
            await pilot.press("space")
            await pilot.pause(0.2)
            n = screen.draw_count
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.draw_count > n)
            assert "Hidden space" in text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(go())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot(snap_compare, size):
    async def prepare(pilot):
        app = pilot.app
        screen = await open_view(pilot, app, 3)
        assert screen.snapshot.state == "paused" or screen.snapshot.state != "training"

    assert snap_compare(NNTuiApp(small_config()), terminal_size=size, run_before=prepare)


def test_the_title_ends_with_the_state_at_80_columns_on_a_wide_network():
    """overfit's 2 -> 64 -> 64 -> 1: at 80 columns the title leaves out the network's shape rather than
    cut the step and the state."""
    async def go():
        app = NNTuiApp(get_preset("overfit"))
        async with app.run_test(size=(80, 24)) as pilot:
            await open_view(pilot, app)
            title = text(app).splitlines()[0].rstrip()
            assert title.endswith("· step 0 · ready") and "…" not in title, title
            assert "Hidden space · layer 1/2 · 64 units" in title

    run(go())
