"""Journeys through the app driven only with keys, checked by what the user sees."""

import asyncio
import time

from tests.conftest import wait_for
from tests.test_app import notes, status_text
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import DEFAULT_PACE, default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog, PathDialog
from tui_trainer.tui.screens.main import MainScreen


def test_an_exploding_loss_is_flagged_like_nan():
    """iris with the learning rate raised to 50 by keys: the cost explodes without becoming NaN;
    the app stops, says so, and says what to do."""

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), dataset="iris", epochs=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            await pilot.press(*["plus"] * 12)
            session = app.screen.session
            assert session.config.optimizer.lr == 50
            await pilot.press("greater_than_sign")  # faster: the explosion comes in the first epoch anyway
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "diverged")
            await wait_for(pilot, lambda: "diverged" in status_text(app))
            assert "exploded" in notes(app) and "lower the learning rate" in notes(app)
            await pilot.press("q")

    asyncio.run(scenario())


def test_the_default_pace_can_be_watched_and_max_is_one_key_away():
    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            assert session.pace == DEFAULT_PACE
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 0)
            started, steps = time.monotonic(), session.trainer.step_count
            await pilot.pause(0.5)
            made, seconds = session.trainer.step_count - steps, time.monotonic() - started
            # an upper bound (a busy machine makes fewer, never more); a late step catches up 0.1 s at most
            assert made <= DEFAULT_PACE * (seconds * 1.2 + 0.1)
            await pilot.press(*["greater_than_sign"] * 3)  # 300, 1000, max
            assert session.pace is None and session.control.pace is None  # as fast as it goes: benchmarks/
            await wait_for(pilot, lambda: "max" in status_text(app))
            steps = session.trainer.step_count
            await wait_for(pilot, lambda: session.trainer.step_count > steps + DEFAULT_PACE)
            await pilot.press(*["less_than_sign"] * 8)  # down to one update a second
            assert session.pace == 1
            await wait_for(pilot, lambda: "pace 1)" in status_text(app) or "pace 1/s" in status_text(app))
            await pilot.press("q")

    asyncio.run(scenario())


def test_build_train_change_live_save_reset_load_with_keys_only(tmp_path, monkeypatch):
    """The core loop by keys: a 3-hidden-layer relu network on moons, sgd with momentum, single
    sample switched on while training, save, reset, load: config, weights, optimizer state and
    history come back exactly."""
    import numpy as np

    from tests.test_config_keys import choose, open_config, settle, type_into
    from tests.test_session import opt_state_equal

    monkeypatch.chdir(tmp_path)

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await open_config(pilot)
            await choose(pilot, "dataset", "moons")
            await type_into(pilot, "width-0", "8")
            await pilot.press("a")  # a third hidden layer after the first
            await settle(pilot)
            for i in range(3):
                await choose(pilot, f"act-{i}", "relu")
            await choose(pilot, "optimizer", "sgd")
            await type_into(pilot, "hp-momentum", "0.9")
            session = app.screen.session
            assert list(session.net.layer_sizes) == [2, 8, 8, 16, 1]
            assert list(session.net.activations) == ["relu", "relu", "relu", "sigmoid"]
            assert session.config.optimizer.name == "sgd" and session.config.optimizer.hparams["momentum"] == 0.9
            assert session.trainer.opt.name == "sgd" and session.trainer.opt.hparams["momentum"] == 0.9
            await pilot.press("escape", "space")  # at the default pace: keys stay quick while it trains
            await wait_for(pilot, lambda: session.trainer.step_count > 20)
            await pilot.press("shift+tab")  # from the weights back to the config pane
            await choose(pilot, "batch_mode", "single")  # while training
            await wait_for(pilot, lambda: session.trainer.batch_size == 1)
            steps = session.trainer.step_count
            await wait_for(pilot, lambda: session.trainer.step_count > steps + 20)
            await pilot.press("escape", "space")
            await wait_for(pilot, lambda: session.control.paused and session.control.waiting)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))  # else the keys go to the main screen
            await pilot.press("ctrl+a", "ctrl+k", *"run1", "enter")
            await wait_for(pilot, lambda: (tmp_path / "run1.npz").exists())
            saved = dict(config=session.config, params=session.net.get_parameters(),
                         opt=session.trainer.opt.state_dict(), losses=session.losses.arrays(),
                         val=session.val_losses.arrays(), step=session.trainer.step_count)
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.step_count == 0)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
            await pilot.press("ctrl+a", "ctrl+k", *"run1.npz", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.step_count == saved["step"])
            loaded = app.screen.session
            assert loaded.config == saved["config"]
            assert loaded.config.training.batch_size == 1 and loaded.trainer.batch_size == 1
            assert all(np.array_equal(p, q) for p, q in zip(loaded.net.params, saved["params"]))
            assert opt_state_equal(loaded.trainer.opt.state_dict(), saved["opt"])
            for now, before in ((loaded.losses.arrays(), saved["losses"]), (loaded.val_losses.arrays(), saved["val"])):
                assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(now, before))
            await wait_for(pilot, lambda: f"step      {saved['step']:,}" in status_text(app))
            assert "sgd" in status_text(app) and "single sample" in status_text(app)
            await pilot.press("q")

    asyncio.run(scenario())


def test_the_pace_keys_work_inside_a_view():
    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=200))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await pilot.press("b")  # the decision boundary
            await wait_for(pilot, lambda: type(app.screen).__name__ == "BoundaryScreen")
            await pilot.press("less_than_sign", "less_than_sign")
            assert session.pace == 10
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 0)
            await pilot.pause(0.5)
            assert session.trainer.step_count <= 10  # ten a second
            await pilot.press("escape", "q")

    asyncio.run(scenario())
