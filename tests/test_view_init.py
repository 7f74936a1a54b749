"""The initialization view (I), driven with Pilot: the schemes side by side on the network's shape,
zeros keeping a layer's units identical, and the neurons view (u) showing it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tests.test_inside_screens import steps
from tests.test_view_losses import run, survives_keys_training_and_resizes, text
from tui_trainer.engine import symmetry as sym
from tui_trainer.experiments.presets import get_preset
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_init import STEPS, InitScreen, init_report
from tui_trainer.tui.screens.inside_neurons import NeuronsScreen
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("I", InitScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""
SIZES = [(80, 24), (120, 36)]


def test_the_report_reads_the_measurements():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    Y = (X[:, :1] > 0).astype(float)
    sizes, acts = (2, 5, 4, 1), ("relu", "relu", "sigmoid")
    results = sym.compare_inits(sizes, acts, X, Y, "bce", optimizer="adam", lr=0.01, steps=5, seed=2)
    body = text(init_report(results, sizes, acts, "auto", "adam", 0.01, 2, 30))
    assert ("this network: 2 -> 5 -> 4 -> 1 (relu x2, sigmoid); init = auto (He for relu-like layers, Xavier "
            "for the others): layers 1-2 he, output xavier") in body
    assert "after 5 steps of adam (lr 0.01)" in body
    lines = body.splitlines()
    assert lines.count(" " * 10 + "".join(f"{s:>9}" for s in sym.SCHEMES)) == 2  # both tables' heads
    w_std = next(line for line in lines if line.startswith("W1 std"))
    assert w_std.split()[2:] == ["0"] + [inits_number(r.weight_std[0]) for r in results[1:]]
    spread = [line for line in lines if line.startswith("layer 1 ")][0]  # the spreads' table comes first
    assert spread.split()[2:] == [inits_number(r.activation_std[0]) for r in results]
    assert spread.split()[2] == "0"  # zeros: every output f(0)
    start = [line for line in lines if line.startswith("layer 2 ") and line.endswith("start")][0]
    after = lines[lines.index(start) + 1]
    assert after.split()[:-1] == [inits_number(r.unit_diff_after[1]) for r in results]
    assert after.split()[0] == "0" and start.split()[2] == "0"
    assert ("after 5 steps: zeros identical; constant identical; small distinct; normal distinct; "
            "xavier distinct; he distinct") in body


def inits_number(value: float) -> str:
    from tui_trainer.tui.screens.inside_init import _number

    return _number(value)


def test_layer_runs_are_named_in_words():
    from tui_trainer.tui.screens.inside_init import _layers, runs

    assert runs(["a", "a", "b", "a"]) == [(0, 1, "a"), (2, 2, "b"), (3, 3, "a")]
    assert _layers(0, 5, 7) == "layers 1-6" and _layers(0, 6, 7) == "layers 1-6 and the output"
    assert _layers(6, 6, 7) == "output" and _layers(1, 1, 7) == "layer 2" and _layers(0, 1, 2) == "layer 1 and the output"


def test_no_hidden_layer():
    X = np.zeros((4, 2))
    results = sym.compare_inits((2, 1), ("sigmoid",), X, np.zeros((4, 1)), "bce", steps=1, schemes=["zeros"])
    assert "no hidden layer" in text(init_report(results, (2, 1), ("sigmoid",), "auto", "sgd", 0.1, 0, 4))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_I_opens_the_view_for_the_networks_shape_and_escape_goes_back(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("I")
            await wait_for(pilot, lambda: isinstance(app.screen, InitScreen) and app.screen.draw_count >= 1)
            await pilot.pause(0.05)
            screen = app.screen
            net = app.training.session.net
            assert [r.scheme for r in screen.results] == list(sym.SCHEMES)
            zeros = screen.results[0]
            assert zeros.unit_diff_after == [0.0] * (net.n_layers - 1) and zeros.steps == STEPS
            shown = "\n".join(line.text for line in screen_lines(app))
            assert "Initialization" in shown and "this network: 2 -> " in shown
            body = str(screen.query_one("#init-body").content)
            assert f"after {STEPS} steps of" in body and "the neurons view (u" in body
            drawn = screen.results
            await pilot.press("n")  # the live weights change; the comparison does not depend on them
            await pilot.pause(0.2)
            assert screen.results is drawn
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_with_zeros_init_the_neurons_view_draws_one_picture_per_layer():
    """What the I view says of the u view: with init = zeros, after training, every unit of a hidden
    layer draws the same picture."""
    async def scenario():
        app = NNTuiApp(small_config(init="zeros"))
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            training = app.training
            await steps(pilot, app, 5)
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, NeuronsScreen) and app.screen.draw_count >= 1)
            await wait_for(pilot, lambda: app.screen.snapshot.step >= 5)
            for layer in app.screen.pictures[:-1]:
                assert np.ptp(layer, axis=0).max() == 0.0
            assert training.session.net.params[-1].any()  # it did train (the output bias)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_I_on_the_deep_sigmoid_preset_fits_the_width():
    async def scenario():
        app = NNTuiApp(get_preset("deep-sigmoid"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("I")
            await wait_for(pilot, lambda: isinstance(app.screen, InitScreen) and app.screen.draw_count >= 1)
            head = " " * 11 + "".join(f"{name:>9}" for name in sym.SCHEMES)  # one column per scheme fits
            await wait_for(pilot, lambda: head in [line.text.rstrip() for line in screen_lines(app)])  # drawn
            shown = [line.text.rstrip() for line in screen_lines(app)]
            assert head in shown
            assert any(line.startswith(" layer 6 ") for line in shown)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_I_survives_keys_training_and_resizes():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await survives_keys_training_and_resizes(
                pilot, app, "I", InitScreen, ["pagedown", "right", "I", "down", "pageup", "n"])

    run(scenario())
