"""The backprop view (B), driven with Pilot: the next step written out on the live network, the
published worked example shown in the app, Escape back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tui_trainer.experiments.backprop import first_batch, trace_step
from tui_trainer.experiments.config import load_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_backprop import BackpropScreen
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("B", BackpropScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""
MAZUR = Path(__file__).resolve().parent.parent / "sample_data" / "mazur.toml"


def run(coro):
    return asyncio.run(coro)


def shown(app) -> str:
    return "\n".join(line.text for line in screen_lines(app))


def body(app) -> str:
    return str(app.screen.query_one("#bp-body").content)


async def open_backprop(pilot, app):
    await settings_ready(pilot, app)
    await pilot.press("B")
    await wait_for(pilot, lambda: isinstance(app.screen, BackpropScreen) and app.screen.draw_count >= 1)
    await pilot.pause(0.05)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_B_writes_out_the_next_step_follows_the_network_and_escape_goes_back(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_backprop(pilot, app)
            session = app.training.session
            cfg, d = session.config, session.experiment.data
            X, Y, _ = first_batch(d, cfg.training.batch_size, cfg.training.seed)
            loss = session.net.loss(X, Y, session.experiment.loss)
            screen = shown(app)
            assert "Backprop step by step" in screen and "step 0 · ready" in screen
            assert "One training step of a 2 -> 16 -> 16 -> 1 network" in screen
            text = body(app)
            assert f"LOSS: bce = {loss:.9g}" in text
            assert "Batch: 32 of 160 training samples" in text
            assert "f'(z1) = 1 - a^2, at most 1" in text and "delta1 = dL/da1 * f'(z1)" in text
            cols = 4 if size[0] == 80 else 6  # as many columns as the width holds
            assert f"W1  (2x16; columns 1-{cols} of 16 shown)" in text
            assert f"z1 = a0 W1 + b1  (32x16; rows 1-3 of 32, columns 1-{cols} of 16 shown)" in text
            assert "dW1 = a0^T delta1" in text and "W3_new" in text
            assert max(len(line) for line in text.splitlines()[2:]) <= size[0] - 4  # no matrix row wraps
            before = app.screen.draw_count
            await pilot.press("n")  # one step: the view shows the next one, from the new weights
            await wait_for(pilot, lambda: app.screen.draw_count > before and "from the weights of step 1" in body(app))
            loss = session.net.loss(X, Y, session.experiment.loss)
            assert f"LOSS: bce = {loss:.9g}" in body(app)
            await pilot.press("end")
            await wait_for(pilot, lambda: "Check: a^T delta vs the engine's backprop" in shown(app))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_the_worked_example_in_the_app():
    async def scenario():
        app = NNTuiApp(load_config(MAZUR))
        async with app.run_test(size=(80, 24)) as pilot:
            await open_backprop(pilot, app)
            text = body(app)
            for expected in ("a1 = sigmoid(z1)  (1x2)\n    [0.593269992  0.596884378]", "LOSS: mse = 0.298371109",
                             "f'(z2) = a (1 - a), at most 1/4", "[ 0.35891648   0.51130127]",
                             "[0.408666186  0.561370121]", "[0.149780716  0.249751144]"):
                assert expected in text, expected
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_the_new_weights_shown_are_those_the_next_step_makes():
    # A full batch (the next step's batch is the first batch) and Adam two steps in: its state counts.
    async def scenario():
        app = NNTuiApp(small_config(batch_size="full"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            session = app.training.session
            assert session.config.optimizer.name == "adam"
            for step in (1, 2):
                await pilot.press("n")
                await wait_for(pilot, lambda: session.trainer.step_count == step and app.training.current().step == step)
            await pilot.press("B")
            await wait_for(pilot, lambda: isinstance(app.screen, BackpropScreen) and app.screen.trace is not None
                           and "from the weights of step 2" in body(app))
            trace = app.screen.trace
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == 3)
            for layer, W, b in zip(trace.layers, session.net.weights, session.net.biases):
                np.testing.assert_allclose(layer.W_new, W, rtol=0, atol=1e-15)
                np.testing.assert_allclose(layer.b_new, b, rtol=0, atol=1e-15)
            assert trace.optimizer == "adam" and "UPDATE: adam" in body(app)
            await pilot.press("escape")

    run(scenario())


def test_the_config_pane_keeps_exact_weights_until_the_shape_changes():
    from tui_trainer.tui.widgets.config_pane import ConfigPane

    async def scenario():
        app = NNTuiApp(load_config(MAZUR))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.training.session
            assert "config: inline" in shown(app)  # the data is the config's own
            lr = app.screen.query_one("#lr")
            lr.focus()
            lr.value = "0.25"
            await pilot.press("enter")
            await wait_for(pilot, lambda: session.config.optimizer.lr == 0.25)
            assert session.config.network.weights is not None and app.screen.query_one(ConfigPane).valid
            assert session.net.weights[0].tolist() == [[0.15, 0.25], [0.2, 0.3]]
            width = app.screen.query_one("#width-0")
            width.focus()
            width.value = "3"  # W1 2x2 no longer fits: the network starts from the seed's weights
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.training.session.net.layer_sizes == (2, 3, 2))
            session = app.training.session
            assert session.config.network.weights is None and session.config.data.inputs == [[0.05, 0.10]]
            await pilot.press("escape", "B")  # out of the field, then the view
            await wait_for(pilot, lambda: isinstance(app.screen, BackpropScreen) and app.screen.draw_count >= 1)
            assert "One training step of a 2 -> 3 -> 2 network" in body(app)

    run(scenario())
