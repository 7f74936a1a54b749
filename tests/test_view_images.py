"""Weights as images (w) and activation functions (k), driven with Pilot."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import small_config, settings_ready
from tui_trainer.engine.activations import LEAKY_SLOPE
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens import inside_functions as fns
from tui_trainer.tui.screens.inside_functions import ActivationFunctionsScreen
from tui_trainer.tui.screens.inside_images import WeightImagesScreen, image_side
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("w", WeightImagesScreen), ("k", ActivationFunctionsScreen)]
SIZES = [(80, 24), (120, 36)]


def digits_config():
    return with_overrides(default_config(), dataset="digits", epochs=3)


def run(coro):
    return asyncio.run(coro)


def body_text(screen, selector) -> str:
    return str(screen.query_one(selector).content)


async def open_view(pilot, app, key, cls):
    await settings_ready(pilot, app)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.draw_count >= 1)
    await pilot.pause(0.05)
    return app.screen


def test_image_rule():
    assert image_side(64, False) == 8
    assert image_side(64, True) is None
    assert image_side(2, False) is None
    assert image_side(9, False) is None  # 3x3 is too small to read as an image


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_images_show_w1_columns_and_samples(size):
    async def scenario():
        app = NNTuiApp(digits_config())
        async with app.run_test(size=size) as pilot:
            screen = await open_view(pilot, app, "w", WeightImagesScreen)
            W1 = app.training.session.net.params[0]
            assert screen.units_shown and screen.units_shown[0] == 0
            for j in screen.units_shown:
                np.testing.assert_array_equal(screen.unit_picture(j), W1[:, j].reshape(8, 8))
            image0, pred0 = screen.sample_image().copy(), screen.prediction
            d = app.training.session.experiment.data
            assert pred0[1] == int(d.y_val[0])
            await pilot.press("right")
            await pilot.pause(0.05)
            assert screen.sample == 1
            assert not np.array_equal(screen.sample_image(), image0)
            assert screen.prediction[1] == int(d.y_val[1])
            net = screen.network_copy(app.training.current())
            probs = net.forward(d.X_val[1:2])[0]
            assert screen.prediction[0] == int(np.argmax(probs))
            await pilot.press("left", "left")
            await pilot.pause(0.05)
            assert screen.sample == len(d.X_val) - 1  # wraps around
            # Paging through units: every page holds W1's columns, and paging past the end is safe.
            seen = set(screen.units_shown)
            for _ in range(5):
                await pilot.press("right_square_bracket")
                await pilot.pause(0.02)
                seen |= set(screen.units_shown)
                for j in screen.units_shown:
                    np.testing.assert_array_equal(screen.unit_picture(j), W1[:, j].reshape(8, 8))
            assert seen == set(range(W1.shape[1]))
            await pilot.press("pageup", "pageup", "pageup", "pageup", "pageup")
            await pilot.pause(0.02)
            assert screen.page == 0
            # Training keeps the pictures on the live weights.
            await pilot.press("n")
            await wait_for(pilot, lambda: app.training.session.trainer.step_count >= 1)
            await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.step >= 1)
            await pilot.pause(0.1)
            snapW = screen.snapshot.params[0]
            for j in screen.units_shown:
                np.testing.assert_array_equal(screen.unit_picture(j), snapW[:, j].reshape(8, 8))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_images_on_non_image_data_say_so():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_view(pilot, app, "w", WeightImagesScreen)
            text = body_text(screen, "#images-body")
            assert "For image data only" in text and "nn-tui --dataset digits" in text
            await pilot.press("right", "left_square_bracket", "right_square_bracket", "space")
            await pilot.pause(0.2)
            await pilot.press("space")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_function_facts_match_the_engine():
    sat = fns.saturation("sigmoid")
    assert fns.df("sigmoid", sat)[0] < 0.01 <= fns.df("sigmoid", sat - 0.01)[0]
    sat = fns.saturation("tanh")
    assert fns.df("tanh", sat)[0] < 0.01 <= fns.df("tanh", sat - 0.01)[0]
    assert fns.saturation("linear") is None and fns.saturation("leaky_relu") is None
    assert fns.df("sigmoid", 0.0)[0] == 0.25
    assert np.all(fns.df("sigmoid", np.linspace(-6, 6, 101)) <= 0.25)
    assert np.all(fns.df("relu", [-3.0, -0.1]) == 0)
    assert np.allclose(fns.df("leaky_relu", [-2.0]), LEAKY_SLOPE)
    warn, e, naive, warn2, soft = fns.naive_overflow()
    assert "overflow encountered in exp" in warn and e == np.inf and naive == 0.0
    assert np.isnan(soft[0])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_functions_view_keys_and_text(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            screen = await open_view(pilot, app, "k", ActivationFunctionsScreen)
            assert screen.function == "sigmoid"
            text = body_text(screen, "#fn-body")
            assert f"saturates for |z| > {fns.saturation('sigmoid'):.3g}" in text
            assert "1/4" in text and "0.25^10 = 9.54e-07" in text
            assert "RuntimeWarning: overflow encountered in exp" in text and "= inf" in text
            assert "this network: layer 1 tanh" in text
            await pilot.press("right")
            await pilot.pause(0.05)
            assert screen.function == "tanh"
            assert f"saturates for |z| > {fns.saturation('tanh'):.3g}" in body_text(screen, "#fn-body")
            await pilot.press("4")
            await pilot.pause(0.05)
            assert screen.function == "relu" and "dies" in body_text(screen, "#fn-body")
            await pilot.press("left", "left", "left", "left")
            await pilot.pause(0.05)
            assert screen.function == "leaky_relu"
            await pilot.press("1", "space", "down", "pagedown")
            await pilot.pause(0.2)
            assert screen.function == "linear"
            await pilot.press("space")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


SNAP_CASES = {"w": (digits_config, WeightImagesScreen), "k": (small_config, ActivationFunctionsScreen)}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", list(SNAP_CASES))
def test_view_snapshot(snap_compare, key, size):
    config, cls = SNAP_CASES[key]

    async def prepare(pilot):
        app = pilot.app
        await settings_ready(pilot, app)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.draw_count >= 1)
        await pilot.pause(0.1)

    assert snap_compare(NNTuiApp(config()), terminal_size=size, run_before=prepare)


@pytest.mark.parametrize("key,cls", SCREENS)
def test_keys_while_training_and_resizing_do_not_break_the_view(key, cls):
    async def scenario():
        app = NNTuiApp(digits_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_view(pilot, app, key, cls)
            await pilot.press("space")
            for size in [(60, 16), (120, 36), (40, 10), (80, 24)]:
                await pilot.resize_terminal(*size)
                await pilot.press("right", "right_square_bracket", "2", "left", "pagedown", "pageup")
                await pilot.pause(0.05)
            await pilot.press("space")
            await wait_for(pilot, lambda: not app.training.running)
            await pilot.pause(0.2)
            assert screen.draw_count >= 2
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_the_functions_view_draws_and_closes_without_colour(monkeypatch):
    # NO_COLOR: Textual's monochrome filter cannot take an unstyled segment (the chart's blank lines had one).
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, ActivationFunctionsScreen))
            await pilot.press("right")
            await pilot.pause()
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.pause()
            assert app.is_running

    asyncio.run(scenario())
