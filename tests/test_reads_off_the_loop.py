"""Files are read off the event loop: a model being loaded, a run being continued, the watch view's and
the Runs screen's looks at the run store all read on a thread, so keys and redraws never wait on a disk."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tests.test_runs_screens import finished_run, open_runs, store  # noqa: F401 (a fixture)
from tui_trainer.experiments import session as session_module
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens import main as main_module
from tui_trainer.tui.screens import runs_screen, watch
from tui_trainer.tui.screens.dialogs import PathDialog
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.screens.watch import WatchScreen


def threads_of(monkeypatch, module, *names: str) -> list[str]:
    """Wrap the functions ``names`` of ``module``: each call notes the name of the thread it ran on."""
    seen: list[str] = []
    for name in names:
        original = getattr(module, name)

        def noted(*args, _original=original, **kwargs):
            seen.append(threading.current_thread().name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, noted)
    return seen


def off_the_loop(seen: list[str]) -> bool:
    """Every call noted ran on a thread other than the event loop's (the main thread in these tests)."""
    return bool(seen) and threading.main_thread().name not in seen


def test_opening_a_model_reads_it_on_a_thread(store, monkeypatch):
    model = finished_run(store, "saved").path / "model.npz"
    seen = threads_of(monkeypatch, main_module, "read_experiment")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and bool(app.screen.query("Input")))
            app.screen.query_one("Input").value = str(model)
            await pilot.press("enter")
            await wait_for(pilot, lambda: list(app.training.session.config.network.hidden) == [5])
            assert off_the_loop(seen), seen

    asyncio.run(scenario())


def test_continuing_a_run_reads_its_checkpoint_on_a_thread(store, monkeypatch):
    finished_run(store, "wide", hidden=(9, 3))
    seen = threads_of(monkeypatch, session_module, "read_experiment")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runs(pilot, app)
            await wait_for(pilot, lambda: screen.current is not None)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await wait_for(pilot, lambda: list(app.training.session.config.network.hidden) == [9, 3])
            assert off_the_loop(seen), seen

    asyncio.run(scenario())


def test_the_runs_screen_reads_the_store_on_a_thread(store, monkeypatch):
    finished_run(store, "one")
    finished_run(store, "two", lr=0.1)
    seen = threads_of(monkeypatch, runs_screen, "list_runs", "read_metrics")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_runs(pilot, app)
            await wait_for(pilot, lambda: len(screen.runs) == 2)
            await pilot.press("space", "down", "space")  # two runs marked: their curves are read
            await wait_for(pilot, lambda: len(screen.query_one("MultiPlot").series) == 2)
            assert off_the_loop(seen), seen

    asyncio.run(scenario())


def test_the_watch_view_reads_the_run_folder_on_a_thread(store, monkeypatch):
    writer = finished_run(store, "done")
    seen = threads_of(monkeypatch, watch, "read_run", "read_metrics")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            app.push_screen(WatchScreen(writer.path))
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            screen = app.screen
            await wait_for(pilot, lambda: screen.epoch == 4 and screen.params is not None)
            assert off_the_loop(seen), seen

    asyncio.run(scenario())
