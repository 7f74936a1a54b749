"""The app, driven with Textual's Pilot: every key and flow, at 80x24 and 120x36."""

import asyncio
import io

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import wait_for
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog, PathDialog
from tui_trainer.tui.screens.help import HelpScreen
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.widgets.config_pane import ConfigPane
from tui_trainer.tui.widgets.layer_view import LayerView
from tui_trainer.tui.widgets.loss_plot import LossPlot
from tui_trainer.tui.widgets.status_pane import StatusPane

SIZES = [(120, 36), (80, 24)]


def small_config(**overrides):
    """The default experiment, smaller so that tests stay fast."""
    base = dict(n_samples=200, epochs=3)
    return with_overrides(default_config(), **{**base, **overrides})


def run(coro):
    return asyncio.run(coro)


def notes(app) -> str:
    """Every notification the app has shown so far, one a line (recorded by tests/conftest.py)."""
    return "\n".join(getattr(app, "notes_shown", []))


def screen_lines(app):
    """The current screen as drawn, one ``Strip`` a line: what a terminal shows. Textual has no
    public call for this (its own screenshots read the compositor too): the tests' one place that does."""
    return app.screen._compositor.render_strips()


def region_text(app, widget) -> list[str]:
    """The lines of the screen that ``widget`` covers, as plain text."""
    x, y, width, height = widget.region
    lines = screen_lines(app)
    return [lines[row].crop(x, x + width).text.rstrip() for row in range(y, y + height)]


async def settings_ready(pilot, app):
    """The config pane fills its fields just after the first frame: wait until they are there and
    laid out (a click or a scroll before that finds no field where it goes)."""
    await wait_for(pilot, lambda: bool(app.screen.query("#lr")) and not any(p.busy for p in app.screen.query(ConfigPane)))
    await pilot.pause()


def status_text(app) -> str:
    """What the status pane shows, as plain text."""
    console = Console(width=60, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(StatusPane).content)
    return console.export_text()


@pytest.mark.parametrize("size", SIZES)
def test_opens_ready_and_space_trains_then_pauses(size):
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            assert session.state == "ready"
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 20)
            assert session.state == "training"
            await pilot.press("space")
            await wait_for(pilot, lambda: session.control.paused)
            await pilot.pause(0.1)
            steps = session.trainer.step_count
            await pilot.pause(0.2)
            assert session.trainer.step_count == steps  # nothing moves while paused
            assert session.state == "paused"
            await pilot.press("q")
        assert app.return_code in (0, None)

    run(scenario())


def test_single_step_and_status_numbers():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            for expected in (1, 2, 3):
                await pilot.press("n")
                await wait_for(pilot, lambda: session.trainer.step_count == expected)
            await pilot.pause(0.1)
            assert session.trainer.step_count == 3
            assert session.state == "paused"
            await wait_for(pilot, lambda: "step      3 (5/epoch)" in status_text(app))
            await pilot.press("q")

    run(scenario())


def test_reset_goes_back_to_the_seeds_weights_and_clears_history():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            before = session.net.get_parameters()
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == 1)
            await pilot.press("r")  # a trained network: it asks first, and escape keeps it
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            assert session.trainer.step_count == 1
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            question = str(app.screen.query_one(".dialog-question").render())
            assert "new weights" not in question and "seed 0" in question
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.step_count == 0)
            session = app.screen.session
            assert all(np.array_equal(p, q) for p, q in zip(session.net.params, before))  # same seed
            # ... and the words say so: the same start again, and how to get other weights
            await wait_for(pilot, lambda: "history cleared" in notes(app))
            assert "seed 0" in notes(app) and "same" in notes(app) and "New weights" not in notes(app)
            reset_help = next(b for b in type(app.screen).BINDINGS if b.action == "reset")
            assert "new weights" not in str(reset_help).lower()
            assert session.state == "ready" and len(session.losses) == 0
            await pilot.press("r")  # untrained: nothing to lose, no question
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ConfirmDialog)
            await pilot.press("q")

    run(scenario())


def test_learning_rate_keys_take_effect_while_training():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            assert session.trainer.opt.lr == 0.01
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 5)
            await pilot.press("plus")
            await wait_for(pilot, lambda: session.trainer.opt.lr == 0.02)
            await pilot.press("minus", "minus")
            await wait_for(pilot, lambda: session.trainer.opt.lr == 0.005)
            assert app.screen.query_one("#lr").value == "0.005"
            await pilot.press("q")

    run(scenario())


def test_learning_rate_and_pace_notes_replace_each_other_and_go_soon():
    """The status pane shows lr and pace already: their notes are short and one at a time, so that
    they never pile up over step, loss and accuracy at 80x24; other notes stay."""

    def toasts(app) -> list[str]:
        return [str(toast.render()) for toast in app.screen.query("Toast")]

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settings_ready(pilot, app)
            for _ in range(3):
                await pilot.press("plus")
            await pilot.press("greater_than_sign", "greater_than_sign")
            await pilot.pause(0.1)
            assert "learning rate 0.1" in notes(app)
            assert len(toasts(app)) == 1 and "pace" in toasts(app)[0]
            await pilot.press("minus")
            await pilot.pause(0.1)
            assert len(toasts(app)) == 1 and "learning rate 0.05" in toasts(app)[0]
            await pilot.pause(1.2)
            assert toasts(app) == []  # gone after a second
            app.notify("Something else to read")  # stays: setting notes beside it still go soon
            await pilot.press("minus", "minus")
            await pilot.pause(0.1)
            assert "Something else" in toasts(app)[0] and "learning rate 0.01" in toasts(app)[-1]
            await pilot.pause(1.2)
            assert len(toasts(app)) == 1 and "Something else" in toasts(app)[0]
            await pilot.press("q")

    run(scenario())


def test_log_scale_layer_and_view_keys():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            plot = app.screen.query_one(LossPlot)
            view = app.screen.query_one(LayerView)
            assert not plot.log_scale
            await pilot.press("l")
            assert plot.log_scale
            assert view.layer_index == 0
            await pilot.press("right_square_bracket")
            assert view.layer_index == 1
            await pilot.press("left_square_bracket", "left_square_bracket")
            assert view.layer_index == 2  # wraps around: 3 layers
            assert view.view_name == "weights"
            await pilot.press("v")
            assert view.view_name == "gradient"
            await pilot.press("v", "v")
            assert view.view_name == "weights"
            await pilot.press("q")

    run(scenario())


def test_invalid_input_shows_a_message_and_blocks_training():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            pane = app.screen.query_one(ConfigPane)
            lr = app.screen.query_one("#lr")
            lr.focus()
            lr.value = "-3"
            await pilot.press("enter")
            await pilot.pause()
            assert not pane.valid
            error = app.screen.query_one("#err-lr")
            assert "lr" in str(error.render()) or "> 0" in str(error.render())
            app.screen.query_one(LayerView).focus()
            await pilot.press("space")
            await pilot.pause(0.2)
            assert app.screen.session.trainer.step_count == 0
            lr.value = "0.05"
            lr.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert pane.valid and app.screen.session.trainer.opt.lr == 0.05
            await pilot.press("q")

    run(scenario())


def test_a_refused_value_in_the_last_row_in_sight_brings_its_message_into_sight():
    """At 80x24 the epochs are the config pane's last row in sight after the palette goes there; the
    message under them said why 0 was refused out of sight, below the pane's edge."""
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("c")
            app.screen.action_config_field("epochs")
            field = app.screen.query_one("#epochs")
            await wait_for(pilot, lambda: app.focused is field)
            await pilot.press("ctrl+u", "0", "enter")
            error, pane = app.screen.query_one("#err-epochs"), app.screen.query_one(ConfigPane)
            await wait_for(pilot, lambda: "must be an integer >= 1" in str(error.render()))
            await wait_for(pilot, lambda: error.region.height > 0
                           and pane.region.contains_region(error.region))  # in sight, whole
            assert app.focused is field

    run(scenario())


def test_changing_the_architecture_after_training_asks_first():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == 1)
            width = app.screen.query_one("#width-0")
            width.focus()
            width.value = "8"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")  # keep the trained network
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            assert app.screen.session.net.layer_sizes[1] == 16
            width = app.screen.query_one("#width-0")
            width.focus()
            width.value = "8"
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.net.layer_sizes[1] == 8)
            assert app.screen.session.trainer.step_count == 0
            await pilot.press("q")

    run(scenario())


def test_save_and_load_round_trip(tmp_path):
    async def scenario():
        path = tmp_path / "exp.npz"
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            for _ in range(2):
                await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == 2)
            trained = session.net.get_parameters()
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and bool(app.screen.query("Input")))
            app.screen.query_one("Input").value = str(path)
            await pilot.press("enter")
            await wait_for(pilot, lambda: path.exists() and path.with_suffix(".toml").exists())
            # saving again asks before overwriting
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and bool(app.screen.query("Input")))
            app.screen.query_one("Input").value = str(path)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, (ConfirmDialog, PathDialog)))
            losses = session.losses.arrays()
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))  # else "y" reaches the main screen
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.step_count == 0)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and bool(app.screen.query("Input")))
            app.screen.query_one("Input").value = str(path)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.step_count == 2)
            loaded = app.screen.session
            assert all(np.array_equal(p, q) for p, q in zip(loaded.net.params, trained))
            # the history comes back: the plot and the status show what they showed
            assert all(np.array_equal(a, b) for a, b in zip(loaded.losses.arrays(), losses))
            await wait_for(pilot, lambda: "step      2 (5/epoch)" in status_text(app))
            assert "paused" in status_text(app)
            await pilot.press("q")

    run(scenario())


def test_help_screen_opens_and_closes():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("q")

    run(scenario())


def test_quit_while_training_stops_the_training_thread_and_exits():
    """How fast it quits is benchmarks/bench_app.py's (d); here, that it does, the thread stopped first."""
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            await pilot.press("space")
            await wait_for(pilot, lambda: main.session.trainer.step_count > 10)
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None)
            assert not main.running
            steps = main.session.trainer.step_count
        assert main.session.trainer.step_count == steps
        return app.return_code

    assert run(scenario()) == 0


def test_divergence_shows_state_and_keeps_good_weights():
    async def scenario():
        config = small_config(optimizer="sgd", lr=50.0, dataset="sine", hidden=[32, 32], activation="relu", epochs=50)
        app = NNTuiApp(config)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state in ("diverged", "finished"))
            assert session.state == "diverged"
            assert "lower the learning rate" in session.message
            assert all(np.isfinite(p).all() for p in session.net.params)
            await pilot.pause(0.1)
            assert "diverged" in status_text(app)
            await pilot.press("q")

    run(scenario())


def test_tiny_terminal_asks_to_be_enlarged():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(60, 16)) as pilot:
            await settings_ready(pilot, app)
            await pilot.pause()
            assert app.screen.has_class("-too-small")
            await pilot.resize_terminal(100, 30)
            await pilot.pause()
            assert not app.screen.has_class("-too-small")
            await pilot.press("q")

    run(scenario())


def test_narrow_layout_opens_the_config_pane_with_c():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            pane = app.screen.query_one(ConfigPane)
            assert not pane.display or pane.region.width == 0
            await pilot.press("c")
            await pilot.pause()
            assert pane.region.width > 40
            await pilot.press("escape")
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("q")

    run(scenario())


def test_layer_buttons_with_the_mouse_add_and_remove_rows():
    """The form is read only once its rows show the new layers (reading a row that was not
    there yet ended the app)."""
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            pane = app.screen.query_one(ConfigPane)
            await pilot.click("#add-layer")
            await wait_for(pilot, lambda: pane.config.network.hidden == [16, 16, 16])
            await wait_for(pilot, lambda: bool(app.screen.query("#width-2")))
            await pilot.click("#del-0")
            await wait_for(pilot, lambda: pane.config.network.hidden == [16, 16])
            await wait_for(pilot, lambda: not app.screen.query("#width-2") and not pane.busy)
            for _ in range(2):
                await pilot.click("#del-0")
                await wait_for(pilot, lambda: not pane.busy)
            assert pane.config.network.hidden == []
            await pilot.click("#add-layer")
            await wait_for(pilot, lambda: pane.config.network.hidden == [8])
            await wait_for(pilot, lambda: list(app.screen.session.net.layer_sizes) == [2, 8, 1])
            assert app.is_running and pane.valid
            await pilot.press("q")

    run(scenario())


def test_an_error_in_the_worker_becomes_a_notification():
    async def scenario():
        app = NNTuiApp(small_config(epochs=100))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session

            def broken_step():
                raise RuntimeError("simulated failure")

            session.trainer.step = broken_step
            await pilot.press("space")
            await wait_for(pilot, lambda: "simulated failure" in notes(app))
            assert app.is_running and session.state == "paused"
            await pilot.press("q")

    run(scenario())


def test_no_color_and_16_colours_still_draw_the_heatmap(monkeypatch):
    from tui_trainer.tui.widgets.weight_heatmap import WeightHeatmap

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await pilot.pause(0.2)
            return app.screen.query_one(WeightHeatmap).palette.name

    monkeypatch.setenv("NO_COLOR", "1")
    assert run(scenario()) == "glyphs"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    assert run(scenario()) == "ansi16"


FIRST_FRAME_MODULES = """
import sys
from tui_trainer.tui.app import NNTuiApp

class FirstFrame(NNTuiApp):
    def on_mount(self):
        self.call_after_refresh(lambda: self.exit(sorted(sys.modules)))

print(" ".join(FirstFrame().run(headless=True, size=(120, 36))))
"""


def test_first_frame_loads_no_module_it_does_not_need():
    """Start-up time: plotext waits for the first plot, and numpy.ma (~80 ms, pulled in by
    np.unique and np.percentile) is not loaded at all."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", FIRST_FRAME_MODULES], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert "tui_trainer.tui.screens.main" in out
    assert not [m for m in out if m == "numpy.ma" or m.startswith(("numpy.ma.", "plotext"))]


def status_lines_at_width(snap, width: int) -> list[str]:
    """The status pane's lines for ``snap`` when its content is ``width`` columns wide."""
    from textual.app import App

    class StatusApp(App):
        CSS = f"StatusPane {{ width: {width + 2}; }}"  # + the pane's padding

        def compose(self):
            yield StatusPane()

    async def scenario():
        app = StatusApp()
        async with app.run_test(size=(80, 24)) as pilot:
            app.query_one(StatusPane).show(snap)
            await pilot.pause()
            return status_text(app).splitlines()

    return run(scenario())


@pytest.mark.parametrize("width, pace, expected", [
    (30, 100, "pace 100/s  01:05"),
    (60, 100, "12,345 steps/s (pace 100)  01:05"),
    (28, None, "12,345/s max  01:05"),  # the 80x24 layout's pane
    (60, None, "12,345 steps/s (max)  01:05"),
])
def test_status_speed_keeps_the_clock_in_a_narrow_pane(width, pace, expected):
    from dataclasses import replace

    from tui_trainer.experiments.session import Session

    snap = replace(Session(small_config()).snapshot(), steps_per_second=12345.0, elapsed=65.0, pace=pace)
    assert f"speed     {expected}" in status_lines_at_width(snap, width)


@pytest.mark.parametrize("width, val, train, expected", [
    (60, 0.8875, 0.9125, "0.8875  train 0.9125"),
    (28, 0.8875, 0.9125, "0.887  train 0.912"),  # the 80x24 layout's pane
    (28, -0.1234, -0.4567, "-0.12  train -0.46"),
    (60, 0.65, 1.0, "0.6500  train 1.0000"),  # the same decimals side by side, trailing zeros kept
    (28, 0.65, 1.0, "0.650  train 1.000"),
])
def test_status_metrics_keep_the_train_figure_in_a_narrow_pane(width, val, train, expected):
    from dataclasses import replace

    from tui_trainer.experiments.session import Session

    snap = replace(Session(small_config()).snapshot(), val_metric=val, train_metric=train)
    assert f"val acc   {expected}" in status_lines_at_width(snap, width)


def test_the_palettes_screenshot_is_saved_in_the_current_folder_and_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: app.screen.query("CommandInput"))
            await pilot.press(*"Screenshot")
            def highlighted() -> str:
                commands = app.screen.query("CommandList")
                if not commands or commands.first().highlighted is None:
                    return ""
                return str(commands.first().get_option_at_index(commands.first().highlighted).prompt)

            await wait_for(pilot, lambda: "Screenshot" in highlighted())
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Screenshot" in notes(app))
            [svg] = list(tmp_path.glob("*.svg"))
            assert f"Screenshot saved: {svg}" in notes(app) and svg.read_text().startswith("<svg")
            missing = tmp_path / "no such folder"
            app.deliver_screenshot(path=str(missing))
            await wait_for(pilot, lambda: "Could not save" in notes(app))
            assert f"Could not save the screenshot in {missing}: " in notes(app)
            assert "No such file or directory" in notes(app)
            await pilot.press("q")

    run(scenario())


def test_a_key_makes_the_training_loop_give_way_and_the_app_sets_its_collection_thresholds_back():
    # A loop at full speed holds Python's lock most of the time: after a key it rests a moment
    # before each step, so that what the key does shows at once (benchmarks/bench_app.py (b)).
    import gc

    from tui_trainer.tui.app import COLLECTION_THRESHOLDS

    before = gc.get_threshold()

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            control = app.training.session.control
            await wait_for(pilot, lambda: gc.get_threshold() == COLLECTION_THRESHOLDS)
            assert control._give_way_until == 0.0
            await pilot.press("l")
            assert control._give_way_until > 0.0

    run(scenario())
    assert gc.get_threshold() == before
