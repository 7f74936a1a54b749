"""Generalization in the app, driven by keys: penalties and dropout change live while training
(weights kept, an event recorded), input features are new data (asked first when trained), and
early stopping ends a run with the best epoch marked on the plot and said in the status pane."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import wait_for
from tests.test_app import notes, settings_ready, small_config, status_text
from tests.test_config_keys import open_config, settle
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog
from tui_trainer.tui.screens.main import plot_note
from tui_trainer.tui.widgets.loss_plot import LossPlot

WIDE, NARROW = (120, 36), (80, 24)


def run(coro):
    return asyncio.run(coro)


async def palette(pilot, text: str) -> None:
    """Run a palette command by typing its name."""
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*text, "enter")
    await settle(pilot)
    await pilot.pause(0.1)


async def type_into(pilot, text: str) -> None:
    field = pilot.app.focused
    field.value = ""
    await pilot.press(*text, "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", [NARROW])  # the narrow layout is the harder one: the pane opens over the plots
def test_l2_and_dropout_by_keys_while_training_keep_the_weights_and_are_events(size):
    async def scenario():
        app = NNTuiApp(small_config(epochs=100000))
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            session = app.training.session
            events = []
            real_event = session.recorder.event
            session.recorder.event = lambda step, what, **values: (events.append(what), real_event(step, what, **values))
            experiment = session.experiment
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 5)
            await palette(pilot, "Set L2 penalty")
            assert app.focused.id == "l2"
            await type_into(pilot, "0.01")
            await wait_for(pilot, lambda: session.trainer.l2 == 0.01)
            await palette(pilot, "Set dropout")
            await type_into(pilot, "0.2")
            await wait_for(pilot, lambda: session.trainer.dropout == (0.2, 0.2))
            assert session.experiment is experiment and session.trainer.step_count > 5  # weights kept
            assert {"l2", "dropout"} <= set(events)
            steps = session.trainer.step_count
            await wait_for(pilot, lambda: session.trainer.step_count > steps + 3)
            await wait_for(pilot, lambda: "pen" in status_text(app))
            from tui_trainer.tui.widgets.loss_plot import LossPlot
            await wait_for(pilot, lambda: (app.screen.query_one(LossPlot).current or {}).get("penalty", 0) > 0)
            await palette(pilot, "Set dropout")
            await type_into(pilot, "1.5")  # refused, with the config's reason
            assert "must be in [0, 1)" in str(app.screen.query_one("#err-dropout").content)
            assert session.trainer.dropout == (0.2, 0.2)
            await pilot.press("escape", "space")

    run(scenario())


def test_features_on_circles_are_new_data_and_asked_for_when_trained():
    async def scenario():
        app = NNTuiApp(small_config(dataset="circles", hidden=[]))
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            session = app.training.session
            await pilot.press("n")
            await wait_for(pilot, lambda: session.trainer.step_count == 1)
            await palette(pilot, "Set input features")
            assert app.focused.id == "features"
            await pilot.press("right", "right", "enter")  # x1sq on
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")  # keep the training: nothing changes
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            await settle(pilot)
            assert session.config.data.features is None and session.trainer.step_count == 1
            await palette(pilot, "Set input features")
            await pilot.press("right", "right", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: session.config.data.features == ["x1", "x2", "x1sq"])
            await settle(pilot)
            assert session.experiment.data.feature_names == ["X1", "X2", "X1²"]
            assert session.trainer.step_count == 0 and session.net.layer_sizes[0] == 3
            # untrained now: the next toggle rebuilds without asking
            app.screen.query_one("#features").focus()
            toggles = app.screen.query_one("#features")
            assert toggles.has_focus and toggles.cursor == 2  # the cursor stays where it was
            await pilot.press("right", "enter")  # x2sq on
            await wait_for(pilot, lambda: session.config.data.features == ["x1", "x2", "x1sq", "x2sq"])
            assert not isinstance(app.screen, ConfirmDialog)

    run(scenario())


def test_features_are_off_for_data_without_two_inputs():
    async def scenario():
        app = NNTuiApp(small_config(dataset="sine"))
        async with app.run_test(size=WIDE) as pilot:
            await open_config(pilot)
            await palette(pilot, "Set input features")
            assert app.focused.id == "dataset"
            assert "exactly 2 inputs" in notes(app)

    run(scenario())


@pytest.mark.parametrize("size", [WIDE, NARROW])
def test_patience_stops_early_and_the_plot_and_status_say_so(size):
    async def scenario():
        app = NNTuiApp(small_config(epochs=400, patience=1, lr=0.05))
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            session = app.training.session
            session.set_pace(None)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "finished" and not app.training.running, timeout=30)
            await pilot.pause(0.3)
            snap = session.snapshot()
            assert snap.early_stopped and snap.epoch < 400 and snap.best_epoch is not None
            plot = app.screen.query_one(LossPlot)
            await wait_for(pilot, lambda: plot.note.startswith(f"stopped early at epoch {snap.epoch}"))
            assert plot.best_step == snap.best_step and plot.note == plot_note(snap)
            assert "finished" in status_text(app) and "stopped early" in status_text(app)
            assert "stopped early" in notes(app)
            await pilot.press("space")  # goes on from the best weights (patience 1 stops it again soon)
            await wait_for(pilot, lambda: session.trainer.epoch > snap.epoch)

    run(scenario())


def test_the_plot_marks_the_best_epoch_and_writes_its_note_under_the_plot():
    import numpy as np

    from tui_trainer.tui.widgets.loss_plot import build_plot

    x = np.arange(1, 201, dtype=float)
    train = 1 / x
    vx, vy = x[9::10], 0.5 + (x[9::10] - 60) ** 2 / 4e4
    note = "overfitting since epoch 6: try L2, dropout, fewer units, more data, or early stopping"
    for width, height in ((78, 12), (40, 9), (80, 24)):
        plain = build_plot(width, height, x, train, vx, vy)
        marked = build_plot(width, height, x, train, vx, vy, best_step=60, note=note)
        assert len(marked) == len(plain) == height
        assert marked[-1].text.startswith("overfitting since epoch 6")
        assert len(marked[-1].text) <= width
        assert [s.text for s in marked[:-1]] != [s.text for s in plain[:-1]]  # the rule is drawn
    tiny = build_plot(40, 6, x, train, vx, vy, best_step=60, note=note)
    assert not any("overfitting" in s.text for s in tiny)  # no room: the plot keeps its rows


def test_an_lr_schedule_chosen_in_the_pane_starts_from_its_main_parameter_and_takes_a_typed_one():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=WIDE) as pilot:
            await settings_ready(pilot, app)
            session = app.training.session
            await palette(pilot, "Set lr schedule")
            await pilot.press("down", "down", "down", "enter")  # none, step, exponential, cosine
            await wait_for(pilot, lambda: session.config.optimizer.schedule == {"name": "cosine", "T_max": 100})
            await wait_for(pilot, lambda: not app.screen.query_one("#sched_param").disabled)
            app.screen.query_one("#sched_param").focus()
            await pilot.pause()
            await type_into(pilot, "50")
            await wait_for(pilot, lambda: session.config.optimizer.schedule == {"name": "cosine", "T_max": 50})
            assert session.trainer.schedule is not None and session.trainer.schedule.name == "cosine"

    run(scenario())
