"""The run store in the app, driven with Pilot: the Runs screen (list, marks, overlaid curves, what
differs, continue a run that ended, follow a running one) and the watch view of a growing run."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time

import pytest
from click.testing import CliRunner
from rich.console import Console
from textual.widgets import DataTable

from tests.conftest import wait_for
from tests.test_config_keys import footer_text
from tests.test_app import screen_lines, settings_ready, small_config
from tui_trainer.engine.trainer import EpochRecord
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.runs import RUNS_ENV, RunWriter
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.screens.runs_screen import RunsScreen
from tui_trainer.tui.screens.watch import WatchScreen
from tui_trainer.tui.watch_app import watch_app
from tui_trainer.tui.widgets.multi_plot import MultiPlot

SCREENS = [("h", RunsScreen)]
"""The views of VIEWS these tests drive (see tests/test_inside_screens.py)."""
SIZES = [(80, 24), (120, 36)]


def run(coro):
    return asyncio.run(coro)


def text_of(static) -> str:
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text()


def screen_text(app) -> str:
    return "\n".join(line.text for line in screen_lines(app))


def record(epoch: int, loss: float) -> EpochRecord:
    return EpochRecord(epoch=epoch, step=epoch * 10, train_loss=loss, val_loss=loss * 1.1, metric_name="accuracy",
                       train_metric=0.5 + epoch / 100, val_metric=0.5, lr=0.01, seconds=0.1)


def finished_run(root, name: str, *, lr: float = 0.01, hidden=(5,), epochs: int = 4, checkpoint: bool = True):
    config = small_config(lr=lr, hidden=list(hidden), epochs=epochs)
    writer = RunWriter(root, config, source="test", name=name)
    for e in range(1, epochs + 1):
        writer.epoch(record(e, 1.0 / e))
    if checkpoint:
        writer.checkpoint(Experiment.from_config(config))
    writer.finish("finished", {"train_loss": 0.25, "val_loss": 0.3, "val_accuracy": 0.9, "epochs": epochs,
                               "seconds": 1.0})
    return writer


@pytest.fixture
def store(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_ENV, str(root))
    return root


async def open_runs(pilot, app, empty: bool = False):
    """Open the Runs screen with its key, and wait until its list is read and shown, with the keys
    going to it (``empty``: an empty store, until it says so)."""
    await settings_ready(pilot, app)
    await pilot.press("h")
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
    table = app.screen.query_one(DataTable)
    if empty:
        await wait_for(pilot, lambda: "No runs yet in" in screen_text(app))
    else:
        await wait_for(pilot, lambda: table.has_focus and table.row_count == len(app.screen.runs) > 0)
    await pilot.pause()
    return app.screen


async def cursor_to(pilot, screen, name: str) -> None:
    """Move the cursor down (by key) to the run called ``name`` (the app records its own trainings too)."""
    for _ in range(len(screen.runs)):
        if screen.current is not None and screen.current.name == name:
            return
        await pilot.press("down")
    assert screen.current is not None and screen.current.name == name


@pytest.mark.parametrize("size", SIZES)
def test_runs_screen_lists_marks_overlays_and_compares_runs(store, size):
    first = finished_run(store, "small", lr=0.01)
    second = finished_run(store, "big", lr=0.1, hidden=(7,))
    live = RunWriter(store, small_config(), source="test", name="live")
    try:
        async def scenario():
            app = NNTuiApp(small_config())
            async with app.run_test(size=size) as pilot:
                screen = await open_runs(pilot, app)
                assert [r.id for r in screen.runs][1:] == [second.id, first.id]
                assert {r.name: r.status for r in screen.runs} == {"live": "running", "big": "finished",
                                                                    "small": "finished"}
                text = screen_text(app)
                assert "big" in text and "running" in text and "finished" in text
                await pilot.press("down", "space", "down", "space")
                await pilot.pause()
                assert screen.selected == [second.path, first.path]
                plot = screen.query_one(MultiPlot)
                assert [s.name for s in plot.series] == ["big", "small"]
                assert len({s.color for s in plot.series}) == 2
                diff = text_of(screen.query_one("#runs-diff"))
                assert "lr" in diff and "hidden" in diff and "dataset" not in diff
                await wait_for(pilot, lambda: "━ big" in screen_text(app) and "━ small" in screen_text(app))
                await pilot.press("space")  # unmark the one under the cursor
                await pilot.pause()
                assert screen.selected == [second.path]
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        run(scenario())
    finally:
        live.finish("interrupted")


def test_enter_continues_a_finished_run_in_the_main_screen(store):
    finished_run(store, "wide", hidden=(9, 3))

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await open_runs(pilot, app)
            await pilot.press("enter", "enter")  # twice: the second is ignored while the first loads
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.pause()
            assert list(app.training.session.config.network.hidden) == [9, 3]
            assert app.unexpected_errors == 0
    run(scenario())


def test_continuing_asks_first_when_the_network_was_trained_and_escape_keeps_it(store):
    finished_run(store, "wide", hidden=(9, 3))

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("n")
            await wait_for(pilot, lambda: app.training.session.trained)
            screen = await open_runs(pilot, app)
            await cursor_to(pilot, screen, "wide")  # under the run of the step just made
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen) and not app.screen.opening)
            assert list(app.training.session.config.network.hidden) != [9, 3]
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert list(app.training.session.config.network.hidden) == [9, 3]
    run(scenario())


def test_a_run_without_a_usable_checkpoint_is_one_notification(store):
    damaged = finished_run(store, "damaged")
    (damaged.path / "model.npz").write_bytes(b"not a model")
    (store / "not-a-run").mkdir()
    (store / "bad-json").mkdir()
    (store / "bad-json" / "run.json").write_text("{")
    odd = finished_run(store, "odd")  # a run.json edited by hand into odd types
    meta = json.loads((odd.path / "run.json").read_text())
    meta.update(name=5, settings=["x"], summary="none", started=3)
    (odd.path / "run.json").write_text(json.dumps(meta))
    (odd.path / "metrics.jsonl").write_text('{"kind": "epoch", "epoch": "x"}\n[1]\n{"kind": "epo')

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runs(pilot, app)
            assert [r.name for r in screen.runs if r.problem is None] == ["damaged"]
            unreadable = sorted(r.path.name for r in screen.runs if r.status == "unreadable")
            assert unreadable == sorted(["bad-json", odd.path.name])  # listed, with the file and why
            await pilot.press("space", "down", "space", "w")  # an unreadable one compared and followed
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            await pilot.pause(0.6)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            await pilot.press("up", "up")  # back to the top: the unreadable runs are listed last
            await cursor_to(pilot, screen, "damaged")
            await pilot.press("enter")
            await wait_for(pilot, lambda: "model.npz" in "\n".join(app.notes_shown))
            assert isinstance(app.screen, RunsScreen) and app.unexpected_errors == 0
            assert sum("model.npz" in n for n in app.notes_shown) == 1
    run(scenario())


def test_an_empty_store_says_how_runs_come(store):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runs(pilot, app, empty=True)
            await pilot.press("down", "space", "enter", "w")  # nothing to act on: nothing happens
            await pilot.pause()
            assert app.screen is screen and app.unexpected_errors == 0
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    run(scenario())


class Trainer(threading.Thread):
    """Appends an epoch to a run every few hundredths of a second until told to finish."""

    def __init__(self, writer: RunWriter, experiment: Experiment) -> None:
        super().__init__(daemon=True)
        self.writer, self.experiment = writer, experiment
        self.finish = threading.Event()

    def run(self) -> None:
        epoch = 0
        while not self.finish.wait(0.05):
            epoch += 1
            self.writer.epoch(record(epoch, 1.0 / epoch))
            if epoch % 5 == 0:
                self.writer.checkpoint(self.experiment)
        self.writer.finish("finished", {"train_loss": 0.1, "epochs": epoch})


@pytest.mark.parametrize("size", SIZES)
def test_following_a_running_run_from_the_runs_screen(store, size):
    config = small_config(hidden=[6])
    writer = RunWriter(store, config, source="test", name="growing")
    trainer = Trainer(writer, Experiment.from_config(config))
    trainer.start()
    try:
        async def scenario():
            app = NNTuiApp(small_config())
            async with app.run_test(size=size) as pilot:
                await open_runs(pilot, app)
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
                watch = app.screen
                await wait_for(pilot, lambda: (watch.epoch or 0) >= 2)
                first = watch.epoch
                await wait_for(pilot, lambda: watch.epoch > first + 2)
                await wait_for(pilot, lambda: f"epoch {watch.epoch}" in text_of(watch.query_one("#watch-state")))
                assert "running" in text_of(watch.query_one("#watch-state"))
                assert "growing" in text_of(watch.query_one("#watch-title"))
                await wait_for(pilot, lambda: watch.params is not None)
                assert watch.params[0].shape[1] == 6
                await pilot.press("]", "[")
                trainer.finish.set()
                await wait_for(pilot, lambda: "finished" in text_of(watch.query_one("#watch-state")))
                await pilot.press("escape", "escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
                assert app.unexpected_errors == 0
        run(scenario())
    finally:
        trainer.finish.set()
        trainer.join(5)


def test_the_watch_app_follows_a_run_and_quits_with_q(store):
    writer = finished_run(store, "done")

    async def scenario():
        app = watch_app(writer.path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            watch = app.screen
            await wait_for(pilot, lambda: watch.epoch == 4 and watch.params is not None)
            state = text_of(watch.query_one("#watch-state"))
            assert "finished" in state and "epoch 4/4" in state
            # A damaged checkpoint replacing the good one is passed over: the weights shown stay.
            (writer.path / "model.npz").write_bytes(b"broken")
            await pilot.pause(0.7)
            assert watch.params is not None and app.unexpected_errors == 0
            await pilot.press("q")
            await wait_for(pilot, lambda: not app.is_running)
    run(scenario())


def test_nn_tui_watch_with_an_unknown_run_is_one_error_line(store):
    from tui_trainer.cli import main

    finished_run(store, "known")
    result = CliRunner().invoke(main, ["watch", "nope", "--runs-dir", str(store)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "nope" in lines[0]


def test_a_run_that_ended_without_a_checkpoint_cannot_be_continued_but_can_be_followed(store):
    finished_run(store, "bare", checkpoint=False)

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_runs(pilot, app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: "no checkpoint" in "\n".join(app.notes_shown) and not screen.opening)
            assert app.screen is screen
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen) and app.screen.epoch == 4)
            assert "no checkpoint yet" in screen_text(app)
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    run(scenario())


def test_the_watch_view_follows_a_training_in_another_process_until_it_is_killed(store):
    """The live-follow path across processes: a child trains and records, the watch view reads."""
    import signal
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "train", "--dataset", "xor", "--hidden", "4",
         "--epochs", "100000000", "--checkpoint-every", "0.05", "--runs-dir", str(store), "--name", "live"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a deadline for a hang, not a measurement
        while not (list(store.glob("*/run.json")) and list(store.glob("*/model.npz"))):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        [path] = [p.parent for p in store.glob("*/run.json")]

        async def scenario():
            app = watch_app(path)
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
                watch = app.screen
                await wait_for(pilot, lambda: watch.epoch is not None and watch.params is not None)
                first = watch.epoch
                await wait_for(pilot, lambda: watch.epoch > first)  # the numbers move
                assert "running" in text_of(watch.query_one("#watch-state"))
                child.send_signal(signal.SIGKILL)
                child.wait()
                await wait_for(pilot, lambda: "interrupted" in text_of(watch.query_one("#watch-state")))
                assert app.unexpected_errors == 0
        run(scenario())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("size", SIZES)
def test_the_runs_footer_shows_every_key_at_80_columns(store, size):
    """w Watch was left out at 80 columns (one column short); every key of the list fits."""
    finished_run(store, "wide")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await open_runs(pilot, app)
            await wait_for(pilot, lambda: "Help" in footer_text(app))
            footer = footer_text(app)
            for shown in ("Back", "space Mark", "Continue/follow", "w Watch", "? Help", "Quit", "palette"):
                assert shown in footer, (shown, footer)
    run(scenario())


def test_help_in_the_watch_app_shows_the_watch_views_keys(store):
    """? in ``nn-tui watch`` opened the main app's help (space trains, c opens the config...), keys
    the watch view does not have: its help names its own keys."""
    writer = finished_run(store, "done")

    async def scenario():
        app = watch_app(writer.path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: not isinstance(app.screen, WatchScreen))
            await pilot.pause()
            text = "\n".join(m.source for m in app.screen.query("Markdown"))
            assert "Leave the watch view" in text and "previous layer's weights" in text, text
            assert "linear / log" in text, text
            assert "start / pause training" not in text and "config pane" not in text, text
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, WatchScreen))
            assert app.unexpected_errors == 0
    run(scenario())
