"""The "inside the network" views, driven with Pilot: each opens with its key, shows the engine's
numbers for the live network, and closes with Escape; the weight edit takes effect; presets load."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import threading
import time

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tests.engine.test_inspect import drive_to_tiny_loss
from tui_trainer.engine import inspect as insp
from tui_trainer.engine.network import Network
from tui_trainer.engine.metrics import accuracy
from tui_trainer.experiments.presets import get_preset
from tui_trainer.experiments.session import Session
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog
from tui_trainer.tui.screens.inside_activations import ActivationsScreen
from tui_trainer.tui.screens.inside_boundary import BoundaryScreen
from tui_trainer.tui.screens.inside_collapse import CollapseScreen
from tui_trainer.tui.screens.inside_data import DataScreen
from tui_trainer.tui.screens.inside_gradients import GradientFlowScreen
from tui_trainer.tui.screens.inside_inspector import InspectorScreen
from tui_trainer.tui.screens.inside_partials import BATCH, PartialsScreen
from tui_trainer.tui.screens.inside_presets import PresetsScreen
from tui_trainer.tui.screens.inside_activations import column_bars
from tui_trainer.tui.screens.inside_base import network_shape
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.screens.views import VIEWS
from tui_trainer.tui.widgets.boundary_map import BoundaryMap
from tui_trainer.tui.widgets.line_chart import LineChart
from tui_trainer.tui.widgets.loss_plot import LossPlot
from tui_trainer.tui.widgets.weight_heatmap import WeightHeatmap

SCREENS = {
    "b": BoundaryScreen, "g": GradientFlowScreen, "a": ActivationsScreen, "x": CollapseScreen,
    "d": PartialsScreen, "i": InspectorScreen, "t": DataScreen, "p": PresetsScreen,
}


def run(coro):
    return asyncio.run(coro)


def text_of(static) -> str:
    """What a Static shows, as plain text (wide, so nothing wraps)."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text()


def plain(app, selector: str) -> str:
    """What a Static in the current screen shows, as plain text."""
    return text_of(app.screen.query_one(selector))


async def steps(pilot, app, n: int) -> None:
    """Make ``n`` single steps with ``n`` and wait until the loop waits again."""
    training = app.training
    for _ in range(n):
        target = training.session.trainer.step_count + 1
        await pilot.press("n")
        await wait_for(pilot, lambda: training.session.trainer.step_count >= target)
    await wait_for(pilot, lambda: training.session.control.waiting or not training.running)
    await pilot.pause(0.05)


async def open_view(pilot, app, key: str):
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, SCREENS[key]) and app.screen.draw_count >= 1)
    await pilot.pause(0.05)
    return app.screen


def test_every_view_is_registered_with_its_key_and_help_and_is_tested():
    import importlib
    from pathlib import Path

    covered = set(SCREENS)
    # The other view tests say which views they drive: tests/test_lab_screens.py, test_runs_screens.py
    # and one tests/test_view_<name>.py per further view, each with a SCREENS list of (key, screen class).
    names = ["test_lab_screens", "test_runs_screens"] + sorted(
        p.stem for p in Path(__file__).parent.glob("test_view_*.py"))
    for name in names:
        covered |= {key for key, _ in importlib.import_module(f"tests.{name}").SCREENS}
    views = {v.key: v for v in VIEWS}
    for key in covered:
        assert key in views and views[key].help and views[key].description, key
    # A new view gets its key, palette command and help from its line in VIEWS; it must also be driven by
    # one of those tests, so that the journeys run it.
    assert set(views) == covered


def footer_line(app) -> str:
    footer = app.screen.query_one("Footer")
    x, y, width, _ = footer.region
    return screen_lines(app)[y].crop(x, x + width).text


def test_each_view_opens_with_its_key_fits_its_footer_keys_and_closes_with_escape():
    # One pass over the views at 80x24 for both: each opens ready with its key, and each key its
    # footer shows comes with its whole description, before the palette's key; help and quit always
    # show, and a key left out for room is one the screen says it leaves out first.
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            for key in SCREENS:
                screen = await open_view(pilot, app, key)
                assert "step 0 · ready" in plain(app, "#inside-title"), key
                assert screen.query("Footer")
                if key == "x":  # tanh hidden layers: nothing to collapse
                    assert "No collapse: layer 1 (tanh), layer 2 (tanh)" in plain(app, "#collapse-body")
                await pilot.pause()
                line = footer_line(app)
                shown = [a.binding for a in screen.active_bindings.values() if a.binding.show]
                for binding in shown:
                    label = binding.group.description if binding.group else binding.description
                    assert f" {label}" in line or binding.action in screen.FOOTER_LEFT_OUT_FIRST, (key, label, line)
                assert "? Help" in line and "^q Quit" in line, (key, line)
                assert line.rstrip().endswith("^p palette"), (key, line)
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_boundary_shows_the_live_accuracy_and_cycles_points():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 3)
            screen = await open_view(pilot, app, "b")
            session = screen.session
            d = session.experiment.data
            acc = accuracy(session.net.forward(d.X_train), d.y_train, "binary")
            side = plain(app, "#boundary-side")
            assert f"train {acc:.3f}" in side and "step 3" in plain(app, "#inside-title")
            lines = screen.query_one(BoundaryMap).plain_lines()
            assert sum(line.count("●") for line in lines) > 20 and any("○" in line for line in lines)
            await pilot.press("o")  # training points only
            await wait_for(pilot, lambda: not any("○" in s for s in screen.query_one(BoundaryMap).plain_lines()))
            assert screen.points_mode == "train"
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_boundary_of_a_one_input_regression_is_a_curve():
    async def scenario():
        app = NNTuiApp(small_config(dataset="sine"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, "b")
            assert screen.one_input and not screen.query(BoundaryMap)
            assert "prediction" in screen.query_one(LineChart).plain_lines()[0]
            assert "R²" in plain(app, "#boundary-side")

    run(scenario())


def test_gradient_flow_shows_the_vanishing_ratio_of_deep_sigmoid():
    async def scenario():
        app = NNTuiApp(get_preset("deep-sigmoid"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, "g")
            assert "initial weights" in plain(app, "#gf-bars")
            assert "Vanishing" in plain(app, "#gf-verdict")
            await steps(pilot, app, 2)
            await wait_for(pilot, lambda: screen.snapshot.step == 2 and "step 2" in plain(app, "#gf-bars"))
            ratio = insp.gradient_ratio(screen.snapshot.grad_norms)
            assert ratio < 1e-3
            assert f"{ratio:.2e}" in plain(app, "#gf-verdict")
            assert "sgd's step is lr times the gradient, so its weights barely move" in plain(app, "#gf-verdict")
            assert len(screen.session.grad_norm_history) == 7
            assert "W7" in screen.query_one(LineChart).plain_lines()[0]

    run(scenario())


def test_activations_report_dead_relus_as_the_engine_counts_them():
    async def scenario():
        app = NNTuiApp(small_config(activation="relu"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            session.net.params[1][:3] = -100.0  # b1: three units of layer 1 never fire
            screen = await open_view(pilot, app, "a")
            net = insp.network_like(session.net)
            X = session.experiment.data.X_train
            stats = insp.activation_histograms(net, X)  # the whole training set
            assert stats[0].dead_units >= 3
            assert f"on all {len(X):,} training samples" in plain(app, "#act-note")
            text = plain(app, "#act-body")
            assert f"dead {stats[0].dead_units}/16" in text
            assert "output · sigmoid · 1 unit" in text
            assert screen.draw_count >= 1

    run(scenario())


def test_linear_collapse_of_linear_xor():
    async def scenario():
        app = NNTuiApp(get_preset("linear-xor"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await open_view(pilot, app, "x")
            text = plain(app, "#collapse-body")
            assert "W = W1 @ W2 @ W3 @ W4   (2x8 @ 8x8 @ 8x8 @ 8x1) -> 2x1" in text
            diff = float(text.split("max |difference| = ")[1].split()[0])
            assert diff < 1e-10

    run(scenario())


def test_partial_derivatives_agree_with_backprop():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, "d")
            report = screen.report
            assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2", "W3", "b3"]
            assert report.max_rel_error < 1e-4
            text = plain(app, "#pd-body")
            assert "agree" in text and "L(w + h) =" in text
            w = report.worked
            assert f"{w.numeric:.8g}" in text and f"{w.analytic:.8g}" in text

    run(scenario())


def test_partial_derivatives_at_a_tiny_loss_are_too_small_to_compare():
    # A network trained to a loss of ~1e-10: the nudges are rounding, not a sign that backprop
    # is wrong.
    async def scenario():
        app = NNTuiApp(small_config(dataset="linear", noise=0.0))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            d = session.experiment.data
            assert drive_to_tiny_loss(session.net, d.X_train[:BATCH], d.Y_train[:BATCH]) < 2e-10
            screen = await open_view(pilot, app, "d")
            assert screen.report.loss < 2e-10
            text = plain(app, "#pd-body")
            assert "disagree" not in text and not re.search(r"\bdiffer\b", text)
            assert "too small to compare at this loss" in text

    run(scenario())


def test_partial_derivatives_call_out_a_wrong_backprop(monkeypatch):
    right = Network.loss_and_grads

    def wrong(self, *args, **kwargs):
        value, grads = right(self, *args, **kwargs)
        grads[1] *= -1.0  # b1's gradient with the wrong sign
        return value, grads

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            monkeypatch.setattr(Network, "loss_and_grads", wrong)
            await open_view(pilot, app, "d")
            text = plain(app, "#pd-body")
            assert "backprop and the nudges disagree" in text
            b1 = next(line for line in text.splitlines() if line.split()[:1] == ["b1"])
            assert "differ" in b1

    run(scenario())


def test_weight_inspector_explains_the_last_update_and_edits_take_effect():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 2)
            screen = await open_view(pilot, app, "i")
            session = screen.session
            await pilot.press("right_square_bracket", "down", "right", "right")  # W2[1, 2]
            await wait_for(pilot, lambda: screen.cursor == (1, 2) and screen.layer_index == 1)
            text = plain(app, "#wi-panel")
            now = float(session.net.params[2][1, 2])
            assert "W2[1, 2]: dL/dw" in text and "m_hat / (sqrt(v_hat) + eps)" in text
            assert text.splitlines()[text.splitlines().index(next(
                line for line in text.splitlines() if "w <- w - lr" in line))].rstrip().endswith(
                "= " + insp.format_number(now))
            # Edit by hand while paused: at once, in the network and on screen.
            await pilot.press("e")
            field = screen.query_one("#wi-edit")
            assert screen.has_class("-editing") and field.has_focus
            field.value = "0.75"
            await pilot.press("enter")
            await wait_for(pilot, lambda: session.net.params[2][1, 2] == 0.75)
            await wait_for(pilot, lambda: "edited by hand since: now 0.75" in plain(app, "#wi-panel"))
            assert screen.query_one(WeightHeatmap).matrix[1, 2] == 0.75
            await pilot.press("plus")
            await wait_for(pilot, lambda: session.net.params[2][1, 2] == pytest.approx(0.85))
            # The next step starts from the edited weight.
            await steps(pilot, app, 1)
            assert abs(session.net.params[2][1, 2] - 0.85) < 0.05
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_data_view_shows_rows_one_hot_counts_and_statistics():
    async def scenario():
        app = NNTuiApp(small_config(dataset="gaussians"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await open_view(pilot, app, "t")
            text = plain(app, "#data-body")
            ds = app.screen.session.experiment.dataset
            assert f"gaussians: {len(ds.X)} samples x 2 features, multiclass, 3 classes" in text
            label = int(ds.y[0])
            onehot = "[" + " ".join("1" if k == label else "0" for k in range(3)) + "]"
            assert f"{label} {ds.class_names[label]}" in text and onehot in text
            assert "class counts" in text and "before -> after" in text

    run(scenario())


def test_p_in_a_view_opens_the_presets_over_it():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            view = await open_view(pilot, app, "b")
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, PresetsScreen))
            assert app.screen_stack[-2] is view and app.screen.training is app.training

    run(scenario())


def test_presets_picker_asks_when_trained_then_rebuilds_the_session():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            await steps(pilot, app, 1)
            await open_view(pilot, app, "p")
            await pilot.press("down", "down", "enter")  # deep-relu
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and main.session.trainer.step_count == 0)
            await wait_for(pilot, lambda: bool(main.query("#width-5")))  # the config pane reloaded
            cfg, want = main.session.config, get_preset("deep-relu")
            assert (cfg.data, cfg.network, cfg.training) == (want.data, want.network, want.training)
            assert (cfg.optimizer.name, cfg.optimizer.lr) == ("sgd", 0.1)
            assert main.session.net.layer_sizes == (2, 16, 16, 16, 16, 16, 16, 1)
            assert main.session.trainer.step_count == 0
            assert main.query_one("#width-5").value == "16"  # the config pane was reloaded

    run(scenario())


def test_views_redraw_at_most_twice_a_second_while_training():
    """A view follows the training; snapshots that come within ``REDRAW_INTERVAL`` (0.5 s) of its
    last draw wait for one trailing redraw, which shows the latest; in any other state it draws at
    once. Counted with ``draw_count`` on snapshots handed to ``show_snapshot``, with the interval
    stretched or shrunk on the view, so that no count depends on the machine's speed."""
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, "b")
            assert screen.REDRAW_INTERVAL == 0.5
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.snapshot.state == "training" and screen.snapshot.step > 0)
            before = screen.draw_count
            await wait_for(pilot, lambda: screen.draw_count >= before + 2)  # it follows the training
            session = screen.session
            session.pause()  # no snapshots from here on but the ones handed in below
            await wait_for(pilot, lambda: session.control.waiting and screen.snapshot.state == "paused")
            await pilot.pause()
            live = dataclasses.replace(screen.snapshot, state="training")

            def title() -> str:
                return plain(app, "#inside-title")

            screen.REDRAW_INTERVAL = 3600.0  # the last draw was just now: every one of these waits
            drawn = screen.draw_count
            for step in range(1001, 1011):
                screen.show_snapshot(dataclasses.replace(live, step=step))
            await pilot.pause()
            assert screen.draw_count == drawn and "step 1010" not in title()
            assert screen.snapshot.step == 1010  # kept for the trailing redraw

            screen.REDRAW_INTERVAL = 0.0  # the interval is over: the next one draws at once
            screen.show_snapshot(dataclasses.replace(live, step=1011))
            assert screen.draw_count == drawn + 1 and "step 1011" in title()

            screen.REDRAW_INTERVAL = 0.5  # within it again: one trailing redraw, of the latest
            screen.show_snapshot(dataclasses.replace(live, step=1012))
            screen.show_snapshot(dataclasses.replace(live, step=1013))
            assert screen.draw_count == drawn + 1
            await wait_for(pilot, lambda: screen.draw_count == drawn + 2)
            assert "step 1013" in title()
            await pilot.pause(0.1)
            assert screen.draw_count == drawn + 2  # that one redraw only

            screen.REDRAW_INTERVAL = 3600.0
            screen.show_snapshot(dataclasses.replace(live, step=1014, state="paused"))  # not training: at once
            assert screen.draw_count == drawn + 3 and "step 1014" in title()

    run(scenario())


def test_main_panes_wait_while_a_view_covers_them_and_catch_up_on_return():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            plot = main.query_one(LossPlot)

            def status() -> str:
                return text_of(main.query_one("#status"))

            shown, plot_draws = status(), plot.draw_count
            await open_view(pilot, app, "b")
            await steps(pilot, app, 3)
            assert status() == shown and plot.draw_count == plot_draws  # hidden panes cost the trainer nothing
            assert app.screen.snapshot.step == 3  # while the view itself follows every step
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is main)
            await pilot.pause(0.05)
            assert "step      3 (" in status() == plain(app, "#status")  # caught up, on return

    run(scenario())


# -- pieces ------------------------------------------------------------------------------------


def test_set_weight_while_training_runs_on_the_training_thread_before_the_next_step():
    session = Session(small_config(epochs=100000))
    session.set_pace(None)  # steps back to back: an edit has to wait for the one in progress
    steps_seen = []
    thread = threading.Thread(target=session.run, args=(lambda snap: steps_seen.append(snap.step),))
    session.prepare_run()
    thread.start()
    try:
        while session.trainer.step_count < 5:
            time.sleep(0.001)
        assert session.set_weight(0, 1, 2, 3.5) is False  # queued: a step may be running
        deadline = time.monotonic() + 5
        while session.net.params[0][1, 2] == 0 or abs(session.net.params[0][1, 2] - 3.5) > 0.5:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        session.pause()
        while not session.control.waiting:
            time.sleep(0.001)
        assert session.set_weight(1, 0, 4, -2.0) is True  # the loop waits: at once
        assert session.net.params[1][4] == -2.0
    finally:
        session.stop()
        thread.join()
    assert session.set_weight(0, 0, 0, 1.25) is True and session.net.params[0][0, 0] == 1.25
    with pytest.raises(ValueError):
        session.set_weight(0, 9, 0, 1.0)
    with pytest.raises(ValueError):
        session.set_weight(0, 0, 0, float("nan"))


def test_column_bars_and_network_shape():
    assert column_bars(np.array([0, 4, 8]), 1) == [" ▄█"]
    assert column_bars(np.array([0, 1, 16]), 2) == ["  █", " ▁█"]
    assert network_shape([2, 16, 16, 16, 16, 16, 16, 1]) == "2 -> 6x16 -> 1"
    assert network_shape([2, 16, 16, 1]) == "2 -> 16 -> 16 -> 1"


@pytest.mark.parametrize("key", ["d", "b", "p"])
def test_closing_a_view_that_was_taken_off_leaves_the_main_screen_alone(key):
    # Textual's palette, given a second Enter before it has closed, dismisses itself twice: the
    # second time it pops the screen under it. A "Back" that then reaches the view, or a second
    # Back, must not pop the main screen ("Can't pop screen; there must be at least one screen").
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, key)
            app.pop_screen()
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await screen.run_action("close")
            await screen.run_action("close")
            await pilot.pause(0.2)
            assert [type(s) for s in app.screen_stack] == [MainScreen]
            screen.show_snapshot(app.screen.session.snapshot())  # a late snapshot draws nothing
            await pilot.press("x")  # the main screen still answers keys
            await wait_for(pilot, lambda: isinstance(app.screen, SCREENS["x"]))

    run(scenario())


def test_closing_a_view_under_a_dialog_waits_for_the_dialog():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            screen = await open_view(pilot, app, "d")
            app.push_screen(ConfirmDialog("A question over the view?"))
            await pilot.pause(0.1)
            await screen.run_action("close")  # the dialog stays
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")  # the dialog closes, and the view with it
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert [type(s) for s in app.screen_stack] == [MainScreen]

    run(scenario())


@pytest.mark.parametrize("key", list(SCREENS))
def test_a_view_taken_off_before_it_has_mounted_does_not_fail(key):
    # A palette command opens the view and the palette's double dismiss pops it at once: its
    # mount handler then runs on a screen that is going away.
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(100, 30)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            view = next(v for v in VIEWS if v.key == key)
            app.push_screen(view.factory(app.training))
            app.pop_screen()
            await pilot.pause(0.3)
            assert app.screen is main and len(app.screen_stack) == 1
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, SCREENS["x"]))

    run(scenario())


def test_relative_errors_below_rounding_noise_show_as_a_bound():
    """Digits of a 1e-9 relative error are rounding noise that any last-bit change moves: shown as a bound."""
    from tui_trainer.tui.screens.inside_partials import rel_error_text

    assert rel_error_text(3e-9) == "< 1e-7"
    assert rel_error_text(3.2e-5) == "3.2e-05"
    assert rel_error_text(float("nan")) == "—"


def test_boundary_and_data_views_use_the_feature_inputs():
    """With x1², x2² as the network's inputs the map is still drawn over the raw x1, x2 plane, the
    points sit where the data is, and the data view names the inputs the network sees."""
    from tui_trainer.tui.screens.inside_boundary import raw_grid, raw_splits

    config = small_config(dataset="circles", features=["x1sq", "x2sq"], hidden=[], epochs=30)
    session = Session(config)
    d = session.experiment.data
    assert d.n_inputs == 2 and d.feature_names == ["X1²", "X2²"]
    raw_train, raw_val = raw_splits(d, config.data.val_split, config.training.seed)
    assert len(raw_train) == len(d.X_train) and np.allclose(d.inputs(raw_train), d.X_train)
    bounds = insp.fit_bounds(d.dataset.X, 8, 8)
    grid = raw_grid(session.net, d, bounds, 8, 8, raw_train)
    assert grid.shape[:2] == (8, 8) and np.isfinite(grid).all()

    async def go():
        app = NNTuiApp(config)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 3)
            screen = await open_view(pilot, app, "b")
            await wait_for(pilot, lambda: "inputs: X1², X2²" in plain(app, "#boundary-side"))
            assert "x x1:" in plain(app, "#boundary-side")
            lines = screen.query_one(BoundaryMap).plain_lines()
            assert sum(line.count("●") for line in lines) > 20
            await pilot.press("escape")
            await open_view(pilot, app, "t")
            await wait_for(pilot, lambda: "network inputs: X1², X2²" in plain(app, "#data-body"))
            assert "inputs X1² X2²" in plain(app, "#data-body")

    run(go())
