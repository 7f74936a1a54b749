"""The partial-derivatives view's slice (d): L(w) through one weight with the others held fixed,
its tangent's slope backprop's dL/dw; [ and ] pick the weight."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tui_trainer.engine.slices import loss_at, loss_slice
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.inside_partials import BATCH, PartialsScreen, slice_weights, tangent_shown
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.widgets.line_chart import LineChart

SCREENS = [("d", PartialsScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""
SIZES = [(80, 24), (120, 36)]


def run(coro):
    return asyncio.run(coro)


def text(static) -> str:
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text()


def test_the_tangent_is_cut_where_it_leaves_the_curves_range():
    from tui_trainer.engine.network import Network

    rng = np.random.default_rng(0)
    net = Network([2, 3, 1], ["tanh", "sigmoid"], seed=0)
    X, Y = rng.normal(size=(8, 2)), rng.integers(0, 2, (8, 1)).astype(float)
    sl = loss_slice(net, X, Y, "bce", 0, (0, 1))
    sl.slope = 1e6  # a steep tangent: only its middle is drawn
    y = tangent_shown(sl)
    mid = len(y) // 2
    assert y[mid] == sl.loss0 and np.isnan(y[0]) and np.isnan(y[-1])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_d_shows_the_slice_with_backprops_slope_and_brackets_pick_the_weight(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, PartialsScreen) and app.screen.draw_count >= 1)
            await pilot.pause(0.05)
            screen = app.screen
            session = app.training.session
            d, loss = session.experiment.data, session.experiment.loss
            X, Y = d.X_train[:BATCH], d.Y_train[:BATCH]
            sl = screen.slice
            worked = screen.report.worked
            assert sl.name == f"{worked.name}[{', '.join(map(str, worked.index))}]"  # the worked example's weight
            # the slope shown is backprop's dL/dw of the live network, and a finite difference of the slice
            _, grads = session.net.loss_and_grads(X, Y, loss)
            assert sl.slope == pytest.approx(float(grads[sl.param_index][sl.index]), rel=1e-12)
            h = 1e-5
            net = screen.network_copy(screen.snapshot)
            fd = (loss_at(net, X, Y, loss, sl.param_index, sl.index, sl.w0 + h)
                  - loss_at(net, X, Y, loss, sl.param_index, sl.index, sl.w0 - h)) / (2 * h)
            assert sl.slope == pytest.approx(fd, rel=1e-5, abs=1e-9)
            shown = "\n".join(line.text for line in screen_lines(app))
            assert f"L({sl.name}), the others held fixed" in shown
            assert "[ ] Weight" in shown  # the footer names the key
            line = text(screen.query_one("#pd-slice-text"))
            assert f"backprop's dL/dw = {sl.slope:.6g}" in line and f"= {sl.numeric:.6g}" in line
            assert screen.query_one("#pd-slice", LineChart).plain_lines()[0].startswith(f"L({sl.name})")
            weights = slice_weights(screen.report)
            i = weights.index((sl.param_index, sl.index))
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda: (screen.slice.param_index, screen.slice.index) == weights[(i + 1) % len(weights)])
            await pilot.press("left_square_bracket", "left_square_bracket")
            await wait_for(pilot, lambda: (screen.slice.param_index, screen.slice.index) == weights[i - 1])
            picked = screen.picked
            before = screen.draw_count
            await pilot.press("n")  # a step: the same weight, at its new value
            await wait_for(pilot, lambda: screen.draw_count > before and screen.snapshot.step >= 1)
            assert (screen.slice.param_index, screen.slice.index) == picked
            assert screen.slice.w0 == float(session.net.params[picked[0]][picked[1]])
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_the_worked_examples_h_is_shown_with_the_digits_its_division_uses():
    """h = 6.1e-06 beside '/ 1.21e-05' read as 2 × 6.1e-6 = 1.22e-5: h has as many digits as 2h."""
    import re

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, PartialsScreen) and app.screen.draw_count >= 1)
            body = text(app.screen.query_one("#pd-body"))
            h = float(re.search(r"with h = (\S+) × max\(1, \|w\|\)", body).group(1))
            w = float(re.search(r"\n(\S+\[[^\]]*\]|\S+) = (\S+)\n", body).group(2))
            divisor = float(re.search(r"L\(w − h\)\) / (\S+) =", body).group(1))
            assert f"{2 * h * max(1.0, abs(w)):.3g}" == f"{divisor:.3g}", (h, w, divisor)

    run(scenario())
