"""The loss and output view (O), driven with Pilot: each loss written out on the batch with the
engine's numbers, signed errors against squares, p - y, naive vs stable bce."""

from __future__ import annotations

import asyncio
import io
import math

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tui_trainer.engine import loss_terms as lt
from tui_trainer.engine.network import Network
from tui_trainer.engine.numbers import compact
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_losses import LossOutputScreen, batch_size_of, loss_report
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("O", LossOutputScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""
SIZES = [(80, 24), (120, 36)]


def run(coro):
    return asyncio.run(coro)


def text(t) -> str:
    console = Console(width=400, file=io.StringIO(), record=True)
    console.print(t)
    return console.export_text()


def net_and_batch(out, k, n=16, seed=0):
    rng = np.random.default_rng(seed)
    net = Network([2, 4, k], ["tanh", out], seed=seed)
    X = rng.normal(size=(n, 2))
    Y = np.eye(k)[rng.integers(0, k, n)] if out == "softmax" else rng.integers(0, 2, (n, k)).astype(float)
    return net, X, Y


def test_the_report_shows_the_engines_losses_and_what_fits_the_output():
    net, X, Y = net_and_batch("sigmoid", 1)
    body = text(loss_report(net, X, Y, "bce", "the first 16 training samples"))
    bce, mse = net.loss(X, Y, "bce"), net.loss(X, Y, "mse")
    assert "this experiment's loss: bce; also fits this output and its targets: mse" in body
    assert f"mean = sum / 16 = {compact(bce, 6)}" in body and f"mean = sum / 16 = {compact(mse, 6)}" in body
    assert "bce (this experiment)" in body and "softmax cross-entropy" not in body
    z, p = lt.output_logits(net, X)
    assert f"sample 1: z = [{compact(z[0, 0], 4)}]" in body and f"p - y = [{compact(p[0, 0] - Y[0, 0], 4)}]" in body
    s = lt.signed_errors(p, Y)
    assert f"sum of p - y over the 16 elements = {compact(s.signed_sum, 4)}" in body
    assert f"sum of (p - y)^2 = {compact(s.square_sum, 4)}" in body
    assert s.cancels and "in the signed sum they cancel" in body and abs(s.signed_sum) < s.abs_sum
    _, grads = net.loss_and_grads(X, Y, "bce")
    assert f"db of the output layer = [{compact(grads[3][0], 6)}]" in body
    assert "a gradient 16 times larger" in body
    # the naive bce on this batch is finite here; on a saturated logit it is inf where the stable one is 40
    assert "0 of 16 naive terms not finite" in body
    assert "z = 40, y = 0: p = 1.0, -log(1 - p) = inf; stable: 40" in body
    assert "z = -1000, y = 0: p = 0.0, 0 * log(p) = nan; stable: 0" in body
    assert f"from z = {lt.saturating_logit():g}" in body


def test_a_saturated_sigmoid_output_makes_the_naive_bce_of_the_batch_infinite():
    net, X, Y = net_and_batch("sigmoid", 1)
    net.params[2][...] = 0.0
    net.params[3][...] = 50.0  # every logit 50: p rounds to 1
    Y[:] = 0.0
    body = text(loss_report(net, X, Y, "bce", "b"))
    assert "naive mean = inf, stable = 50; 16 of 16 naive terms not finite" in body
    assert "every error has the same sign on this batch: nothing cancels here" in body


def test_softmax_and_linear_outputs():
    net, X, Y = net_and_batch("softmax", 3)
    body = text(loss_report(net, X, Y, "cross_entropy", "b"))
    assert "softmax cross-entropy (this experiment): -log p[true class] per sample" in body
    assert f"mean = sum / 16 = {compact(net.loss(X, Y, 'cross_entropy'), 6)}" in body
    assert f"mean = sum / 48 = {compact(net.loss(X, Y, 'mse'), 6)}" in body
    assert "each sample's p - y sums to 0" in body
    assert "bce needs a sigmoid output, this one is softmax" in body
    net = Network([2, 3, 2], ["relu", "linear"], seed=1)
    body = text(loss_report(net, X, np.random.default_rng(0).normal(size=(16, 2)), "mse", "b"))
    assert "no other loss fits this output and its targets" in body and "dL/dz = 2 (p - y) f'(z) / (n k)" in body


def test_batch_sizes():
    assert batch_size_of("full", 150) == 150 and batch_size_of(32, 150) == 32 and batch_size_of(500, 150) == 150


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_O_opens_the_view_shows_the_batch_and_escape_goes_back(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("O")
            await wait_for(pilot, lambda: isinstance(app.screen, LossOutputScreen) and app.screen.draw_count >= 1)
            await pilot.pause(0.05)
            session = app.training.session
            d, loss = session.experiment.data, session.experiment.loss
            n = batch_size_of(session.config.training.batch_size, len(d.X_train))
            value = session.net.loss(d.X_train[:n], d.Y_train[:n], loss)
            shown = "\n".join(line.text for line in screen_lines(app))
            assert "Loss and output" in shown and f"the first {n} training samples" in shown
            body = str(app.screen.query_one("#losses-body").content)
            assert f"mean = sum / {n} = {compact(value, 6)}" in body
            before = app.screen.draw_count
            await pilot.press("n")  # a step: the view follows the new weights
            await wait_for(pilot, lambda: app.screen.draw_count > before)
            value = session.net.loss(d.X_train[:n], d.Y_train[:n], loss)
            await wait_for(pilot, lambda: f"= {compact(value, 6)}" in str(app.screen.query_one("#losses-body").content))
            await pilot.press("pagedown", "end")
            await pilot.pause(0.05)
            shown = "\n".join(line.text for line in screen_lines(app))
            assert "stable:" in shown  # the end of the text can be scrolled to
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_O_on_a_classification_preset_with_softmax():
    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), dataset="gaussians", n_samples=120, epochs=3))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("O")
            await wait_for(pilot, lambda: isinstance(app.screen, LossOutputScreen) and app.screen.draw_count >= 1)
            body = str(app.screen.query_one("#losses-body").content)
            assert app.training.session.experiment.loss == "cross_entropy"
            assert "softmax cross-entropy (this experiment)" in body and "\nmse:" in body
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


async def survives_keys_training_and_resizes(pilot, app, key, cls, view_keys):
    """Open the view ``key``, train, resize and press ``view_keys`` at each size; it stays up and
    escape leaves it (the O and I views share this)."""
    await settings_ready(pilot, app)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.draw_count >= 1)
    screen = app.screen
    await pilot.press("space")
    for size in [(60, 16), (120, 36), (40, 10), (80, 24)]:
        await pilot.resize_terminal(*size)
        await pilot.press(*view_keys)
        await pilot.pause(0.05)
    await pilot.press("space")
    await wait_for(pilot, lambda: not app.training.running)
    await pilot.pause(0.2)
    assert app.screen is screen
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    return screen


def test_O_survives_keys_training_and_resizes():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await survives_keys_training_and_resizes(
                pilot, app, "O", LossOutputScreen, ["pagedown", "right", "O", "down", "pageup", "n"])
            assert screen.draw_count >= 2

    run(scenario())


def test_a_diverged_network_says_so_instead_of_reading_the_signs():
    net, X, Y = net_and_batch("sigmoid", 1)
    net.params[3][...] = np.nan
    body = text(loss_report(net, X, Y, "bce", "b"))
    assert "the outputs are not finite on this batch (the training diverged)" in body
    assert "cancel, so it is smaller" not in body and "every error has the same sign" not in body


def test_a_sigmoid_output_on_targets_outside_0_1_is_not_offered_bce():
    net, X, _ = net_and_batch("sigmoid", 1)
    Y = np.sin(X[:, :1] * 3)  # sine-sigmoid-out: targets down to -1
    body = text(loss_report(net, X, Y, "mse", "b"))
    assert "no other loss fits this output and its targets" in body and "\nbce" not in body
    assert "bce needs targets in [0, 1], these are not" in body
