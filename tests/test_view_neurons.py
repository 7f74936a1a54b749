"""The neurons view (every unit over the input plane) and the boundary view's discretize toggle."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tui_trainer.engine import inspect as insp
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_boundary import BoundaryScreen
from tui_trainer.tui.screens.inside_neurons import NeuronsScreen
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.widgets.boundary_map import BoundaryMap
from tui_trainer.tui.widgets.neuron_grid import NeuronGrid, thumb_layout

SCREENS = [("u", NeuronsScreen)]


def run(coro):
    return asyncio.run(coro)


async def open_neurons(pilot, app):
    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(app.screen, NeuronsScreen) and app.screen.draw_count >= 1)
    await pilot.pause(0.05)
    return app.screen


async def steps(pilot, app, n: int) -> None:
    training = app.training
    for _ in range(n):
        target = training.session.trainer.step_count + 1
        await pilot.press("n")
        await wait_for(pilot, lambda: training.session.trainer.step_count >= target)
    await wait_for(pilot, lambda: training.session.control.waiting or not training.running)
    await pilot.pause(0.05)


def side_text(screen) -> str:
    return str(screen.query_one("#neurons-side").content)


def test_thumb_layout_fits_or_takes_the_smallest():
    w, h, per_row = thumb_layout(60, 22, [16, 16, 1])
    assert w == 2 * h and per_row == (60 - 1) // (w + 1)
    assert sum(1 + -(-n // per_row) * h for n in (16, 16, 1)) <= 22
    assert thumb_layout(10, 3, [64, 64, 1])[:2] == (6, 3)


@pytest.mark.parametrize("size", [(80, 24)])  # 120x36: the snapshot test and the resizes here cover it
def test_neurons_open_move_follow_training_resize_and_close(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            screen = await open_neurons(pilot, app)
            net = screen.session.net
            grid = screen.query_one(NeuronGrid)
            assert [p.shape[0] for p in screen.pictures] == [16, 16, 1]
            lines = grid.plain_lines()
            assert any("layer 1 · tanh · 16 units" in line for line in lines)
            assert "┃" in "".join(lines)
            assert "unit 1/16" in side_text(screen)
            assert f"{net.weights[0][0, 0]:+.4f}" in side_text(screen)
            # right twice, down once: layer 2, unit 3
            await pilot.press("right", "right", "down")
            await wait_for(pilot, lambda: (screen.picked_layer, screen.picked_unit) == (1, 2) and "layer 2 · unit 3/16" in side_text(screen))
            side = side_text(screen)
            for w in net.weights[1][:, 2]:
                assert f"{w:+.4f}" in side
            assert f"{net.biases[1][2]:+.4f}" in side
            # down to the output, then far right stays on its only unit
            await pilot.press("down", "down", "right", "right")
            await wait_for(pilot, lambda: screen.picked_layer == 2 and "output · unit 1/1" in side_text(screen))
            assert screen.picked_unit == 0
            assert f"{net.biases[2][0]:+.4f}" in side_text(screen)
            await pilot.press("up", "left", "left", "left", "left")
            await wait_for(pilot, lambda: (screen.picked_layer, screen.picked_unit) == (1, 0))
            # training steps change the pictures
            before = [p.copy() for p in screen.pictures]
            drawn = screen.draw_count
            await steps(pilot, app, 3)
            await wait_for(pilot, lambda: screen.draw_count > drawn and "step 3" in str(screen.query_one("#inside-title").content))
            assert any(not np.allclose(a, b) for a, b in zip(before, screen.pictures))
            # train a while, move meanwhile, pause
            await pilot.press("space")
            await pilot.press("right", "down", "up", "left")
            await pilot.pause(0.3)
            await pilot.press("space")
            await wait_for(pilot, lambda: not app.training.running)
            await pilot.resize_terminal(80, 24)
            await pilot.pause(0.2)
            await pilot.resize_terminal(60, 20)
            await pilot.pause(0.2)
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
            assert any("layer" in line for line in grid.plain_lines())
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_a_picture_cell_is_the_hand_forward_pass():
    async def scenario():
        app = NNTuiApp(small_config(dataset="circles", features=["x1", "x2", "x1sq", "x2sq"], hidden=[5]))
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 2)
            screen = await open_neurons(pilot, app)
            net, d = screen.session.net, screen.session.experiment.data
            units, ny, nx = screen.pictures[0].shape
            r, c = ny // 3, nx - 2
            xs, ys = insp.grid_points(screen.bounds, nx, ny)
            x1, x2 = xs[c], ys[r]
            features = np.array([[x1, x2, x1 * x1, x2 * x2]])
            z = (features - d.standardizer.mean) / d.standardizer.std
            hidden = np.tanh(z @ net.weights[0] + net.biases[0])
            out = 1 / (1 + np.exp(-(hidden @ net.weights[1] + net.biases[1])))
            assert np.allclose(screen.pictures[0][:, r, c], hidden[0])
            assert np.allclose(screen.pictures[1][0, r, c], out[0, 0])

    run(scenario())


def test_data_without_two_inputs_shows_a_message():
    async def scenario():
        app = NNTuiApp(small_config(dataset="sine"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_neurons(pilot, app)
            assert not screen.query(NeuronGrid)
            assert "2 raw inputs" in str(screen.query_one("#neurons-message").content)
            await pilot.press("left", "down", "n")
            await pilot.resize_terminal(60, 20)
            await pilot.pause(0.1)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_no_color_pictures_use_shade_glyphs(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_neurons(pilot, app)
            text = "".join(screen.query_one(NeuronGrid).plain_lines())
            assert "▀" not in text and any(g in text for g in "■≡=-░▒▓█")

    run(scenario())


def test_boundary_discretize_toggle():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 3)
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, BoundaryScreen) and app.screen.draw_count >= 1)
            await pilot.pause(0.05)
            screen = app.screen
            boundary = screen.query_one(BoundaryMap)
            shaded_keys = boundary.region_keys.copy()
            shaded = boundary.styled_lines()
            await pilot.press("z")
            await wait_for(pilot, lambda: screen.discrete)
            await pilot.pause(0.05)
            discrete = boundary.styled_lines()
            assert "class colours only" in str(screen.query_one("#boundary-side").content)
            assert shaded != discrete
            assert len({int(k) % 6 for k in np.unique(boundary.region_keys)}) == 1
            assert len({int(k) % 6 for k in np.unique(shaded_keys)}) > 1
            await pilot.press("z")
            await wait_for(pilot, lambda: not screen.discrete)
            await pilot.pause(0.05)
            assert np.array_equal(boundary.region_keys, shaded_keys)
            assert boundary.styled_lines() == shaded

    run(scenario())


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_neurons_snapshot(snap_compare, size):
    async def prepare(pilot):
        app = pilot.app
        await settings_ready(pilot, app)
        await steps(pilot, app, 4)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, NeuronsScreen) and app.screen.draw_count >= 1)
        await pilot.press("right", "down")
        await wait_for(pilot, lambda: (app.screen.picked_layer, app.screen.picked_unit) == (1, 1))
        await pilot.pause(0.1)

    assert snap_compare(NNTuiApp(small_config()), terminal_size=size, run_before=prepare)
