"""The optimizer lab in the app: race, learning-rate sweep and loss surfaces, driven with Pilot."""

import asyncio
import random
import threading
import time

import numpy as np
import pytest
from rich.text import Text
from textual import events
from textual.command import CommandList, CommandPalette
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Input, Select
from textual.widgets._select import SelectOverlay

from tests.conftest import wait_for
from tests.test_app import screen_lines
from tui_trainer.experiments.config import with_overrides
from tui_trainer.engine.optimizers import OPTIMIZERS
from tui_trainer.engine.surfaces import SURFACES
from tui_trainer.experiments.lab import Race, suggest_lr
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.keys import palette_entries
from tui_trainer.tui.screens.lab_race import RaceScreen
from tui_trainer.tui.screens.lab_surface import SurfaceScreen
from tui_trainer.tui.screens.lab_sweep import SweepScreen
from tui_trainer.experiments.hparam_text import hparams_hint, parse_hparams
from tui_trainer.tui.screens.lab_common import LabScreen, RaceLabScreen
from tui_trainer.tui.training import TrainingLink
from tui_trainer.tui.screens.lab_race import RACE_EPOCHS, auto_target
from tui_trainer.tui.screens.lab_surface import parse_point
from tui_trainer.tui.screens.main import MainScreen
from tui_trainer.tui.screens.views import VIEWS
from tui_trainer.tui.widgets.lane_list import LaneList, LaneRow, parse_lr
from tui_trainer.tui.widgets.loss_plot import LossPlot
from tui_trainer.tui.widgets.multi_plot import MultiPlot
from tui_trainer.tui.widgets.surface_map import SurfaceMap

SIZES = [(80, 24), (120, 36)]
SCREENS = [("o", RaceScreen), ("s", SweepScreen), ("f", SurfaceScreen)]


def tiny_config(**overrides):
    """A race or sweep of this finishes in well under a second."""
    return with_overrides(default_config(), **{"n_samples": 100, "epochs": 2, **overrides})


def run(coro):
    return asyncio.run(coro)


async def open_screen(pilot, key, cls):
    """From the main screen (once its config pane is filled), open a lab screen with its key."""
    app = pilot.app
    await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, cls))
    await pilot.pause()
    return app.screen


def plain(widget) -> str:
    """What a Static (or a lane's result) shows, as plain text."""
    content = widget.content if hasattr(widget, "content") else widget.render()
    return content.plain if isinstance(content, Text) else str(content)


def lane_result(screen, key) -> str:
    row = next(r for r in screen.query(LaneRow) if r.spec.key == key and r.display)
    return plain(row.query_one(".lane-result"))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key,cls", SCREENS)
def test_each_screen_opens_with_its_key_and_closes_with_escape(key, cls, size):
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=size) as pilot:
            screen = await open_screen(pilot, key, cls)
            assert screen.query_one("Footer")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await open_screen(pilot, key, cls)
            await pilot.press("q")  # q leaves the lab screen, not the app
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert app.is_running

    run(scenario())


def test_race_runs_to_completion_from_one_start_and_marks_the_best():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            assert screen.epochs == 2  # the experiment's own epochs when it asks for few
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            snap = screen.snapshot
            assert [row["label"] for row in snap.results] == list(OPTIMIZERS)
            assert len({row["initial_loss"] for row in snap.results}) == 1
            assert all(lane.costs[0] == snap.initial_loss for lane in snap.lanes)  # the curves share a start
            assert sum(row["best"] for row in snap.results) == 1
            best = next(row["label"] for row in snap.results if row["best"])
            assert "★ best" in lane_result(screen, best)
            for name in OPTIMIZERS:
                assert lane_result(screen, name).split()[0] != ""  # every lane shows its numbers
            plot = screen.query_one(MultiPlot)
            await wait_for(pilot, lambda: len(plot.series) == len(OPTIMIZERS))
            await wait_for(pilot, lambda: "adamp" in plot.plain_lines()[0])  # the legend line, once redrawn
            assert "done" in plain(screen.query_one("#lab-state"))

    run(scenario())


def test_race_epochs_default_short_when_the_experiment_is_long():
    screen = RaceScreen(tiny_config(epochs=500))
    assert screen.epochs == RACE_EPOCHS


def test_switching_an_optimizer_off_leaves_it_out_of_the_race():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("1", "6")  # sgd and adam off
            lanes = screen.query_one("#race-optimizers", LaneList)
            assert [s.key for s in lanes.enabled()] == ["momentum", "nesterov", "adagrad", "rmsprop", "adamw", "adamp"]
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            labels = [row["label"] for row in screen.snapshot.results]
            assert "sgd" not in labels and "adam" not in labels and len(labels) == 6
            assert lane_result(screen, "sgd") == ""
            await pilot.press("1")  # back on: the finished race is forgotten, the next one has it
            assert screen.snapshot is None
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            assert "sgd" in [row["label"] for row in screen.snapshot.results]

    run(scenario())


def test_an_invalid_learning_rate_is_shown_in_its_line_and_blocks_the_start():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            field = screen.query_one("#race-optimizers LaneRow Input", Input)  # sgd's learning rate
            field.focus()
            field.value = "-1"
            await pilot.press("enter")
            await pilot.pause()
            assert field.has_class("-invalid")
            assert "lr must be a number > 0" in lane_result(screen, "sgd")
            assert screen.focused is field  # a bad value keeps the field
            await pilot.press("escape")  # out of the field, not out of the screen
            assert screen.focused is None and app.screen is screen
            await pilot.press("space")
            await pilot.pause(0.2)
            assert screen.race is None and not screen.running
            field.value = "0.1"
            await pilot.pause()
            assert not field.has_class("-invalid")
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)

    run(scenario())


def test_hyperparameters_are_checked_by_the_optimizer():
    assert parse_hparams("sgd", "momentum=0.5 nesterov=true") == {"momentum": 0.5, "nesterov": True}
    assert parse_hparams("adam", "betas=0.8,0.9 eps=1e-6") == {"betas": (0.8, 0.9), "eps": 1e-6}
    assert parse_hparams("adam", "") == {}
    with pytest.raises(ValueError, match="momentum"):
        parse_hparams("sgd", "momentum=-1")
    with pytest.raises(ValueError):
        parse_hparams("adam", "momentum=0.9")
    with pytest.raises(ValueError):
        parse_hparams("sgd", "lr=1")
    assert "momentum=0.9" in hparams_hint("momentum")
    with pytest.raises(ValueError):
        parse_lr("abc")
    assert parse_lr(" 1e-3 ") == 1e-3
    assert auto_target(1.0, [0.5, None, 0.8, 1.5]) == 0.8
    assert auto_target(1.0, [None, 2.0]) is None


def test_hyperparameters_typed_for_an_optimizer_reach_its_lane():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("down")  # momentum
            assert "momentum" in plain(screen.query_one("#lab-explain"))
            assert "v <- momentum * v + g" in plain(screen.query_one("#lab-explain"))
            field = screen.query_one("#race-hparams", Input)
            field.focus()
            field.value = "momentum=0.5"
            await pilot.press("enter")
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            row = next(r for r in screen.snapshot.results if r["label"] == "momentum")
            assert row["hparams"]["momentum"] == 0.5

    run(scenario())


def test_batch_mode_race_shows_updates_per_epoch():
    async def scenario():
        app = NNTuiApp(tiny_config(batch_size=16))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("down", "down")  # nesterov
            await pilot.press("m")
            assert screen.mode == "batch" and screen.batch_optimizer == "nesterov"
            explain = plain(screen.query_one("#lab-explain"))
            for words in ("batch gradient descent", "16 samples per update", "one sample per update"):
                assert words in explain
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            results = {row["label"]: row for row in screen.snapshot.results}
            assert list(results) == ["full", "mini", "single"]
            n_train = results["single"]["updates_per_epoch"]
            assert results["full"]["updates_per_epoch"] == 1
            assert results["mini"]["updates_per_epoch"] == -(-n_train // 16)
            assert {row["optimizer"] for row in results.values()} == {"nesterov"}
            assert lane_result(screen, "single").split()[0] == str(n_train)
            assert "upd/ep" in plain(screen.query_one("#race-batch .lane-header"))
            await pilot.press("m")  # back to the optimizers
            assert screen.mode == "optimizers" and screen.snapshot is None

    run(scenario())


def test_leaving_mid_race_stops_the_worker():
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.progress > 0)
            assert screen.running
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert not screen.stepping  # the thread has left the race

    run(scenario())


def test_pause_and_resume_continue_the_same_race():
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=200, batch_size=1))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.progress > 0)
            await pilot.press("space")
            await wait_for(pilot, lambda: not screen.stepping)
            race, progress = screen.race, screen.race.progress
            await pilot.pause(0.2)
            assert screen.race.progress == progress  # paused: nothing moves
            assert "paused" in plain(screen.query_one("#lab-state"))
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.race.progress > progress)
            assert screen.race is race
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.race is None and screen.snapshot is None)

    run(scenario())


def test_sweep_marks_diverged_rates_and_suggests_one():
    async def scenario():
        app = NNTuiApp(tiny_config(dataset="plane"))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "s", SweepScreen)
            await pilot.press("1")  # sgd
            await pilot.pause()
            assert screen.optimizer == "sgd"
            assert screen.points == 13 and screen.low == 1e-5 and screen.high == 10
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            results, initial = screen.snapshot.results, screen.snapshot.initial_loss
            # diverged, or ended above where it started (the wrong way, as a diverging run goes)
            diverged = [r["lr"] for r in results
                        if r["diverged"] or r["final_loss"] is None or not r["final_loss"] <= initial]
            assert diverged and max(diverged) == pytest.approx(10.0)
            assert min(diverged) > 0.1  # only the high rates
            table = plain(screen.query_one("#sweep-table"))
            assert table.count(" x") == len(diverged)
            assert "◀ pick" in table
            explain = plain(screen.query_one("#lab-explain"))
            suggested = suggest_lr(list(results), initial)
            assert suggested is not None and suggested < min(diverged)
            assert "Suggested lr" in explain and "crawl" in explain
            plot = screen.query_one(MultiPlot)
            assert len(plot.options.marks) == len(diverged)
            assert plot.options.vline is not None and plot.options.vline[0] == pytest.approx(np.log10(suggested))
            # log-axis tick labels, once the plot's last (throttled) redraw is in
            await wait_for(pilot, lambda: any("1e-5" in line and "10" in line for line in plot.plain_lines()))

    run(scenario())


def test_sweep_rejects_a_bad_range():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "s", SweepScreen)
            low = screen.query_one("#sweep-low", Input)
            low.focus()
            low.value = "100"
            await pilot.press("enter")
            await pilot.press("space")
            await pilot.pause(0.2)
            assert screen.race is None and not screen.running

    run(scenario())


def test_surface_steps_paths_and_resets():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            surface_map = screen.query_one(SurfaceMap)
            await pilot.press("n", "n", "n")
            assert screen.step_count == 3
            assert set(surface_map.paths) == set(OPTIMIZERS)
            for path in surface_map.paths.values():
                assert len(path.points) == 4
                assert tuple(path.points[0]) == SURFACES["rosenbrock"].start
            await pilot.press("3")  # nesterov off: its path goes, the others stay where they are
            assert "nesterov" not in surface_map.paths and screen.step_count == 3
            assert all(len(p.points) == 4 for p in surface_map.paths.values())
            await pilot.press("3")  # on again: its path catches up at once
            assert len(surface_map.paths["nesterov"].points) == 4 and screen.step_count == 3
            await pilot.press("3", "n", "r")
            assert screen.step_count == 0
            assert all(len(p.points) == 1 for p in surface_map.paths.values())
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.step_count > 5)
            await pilot.press("space")
            steps = screen.step_count
            await pilot.pause(0.2)
            assert screen.step_count == steps  # paused
            lines = surface_map.plain_lines()
            assert any("★" in line for line in lines) and any("◆" in line for line in lines)

    run(scenario())


def test_surface_local_minimum_sgd_stays_momentum_rolls_over():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            for _ in range(4):  # rosenbrock -> beale -> saddle -> ill_conditioned -> local_minimum
                await pilot.press("right_square_bracket")
            await pilot.pause()
            assert screen.surface.name == "local_minimum"
            surface = screen.surface
            await pilot.press("e")
            assert screen.step_count == surface.steps
            paths = screen.query_one(SurfaceMap).paths
            near = {name: surface.nearest_minimum(*paths[name].points[-1]) for name in ("sgd", "momentum")}
            assert near["sgd"][0].label == "local" and near["sgd"][1] < 0.05
            assert near["momentum"][0].label == "global" and near["momentum"][1] < 0.05
            assert "☆" in lane_result(screen, "sgd") and "★" in lane_result(screen, "momentum")

    run(scenario())


def test_surface_learning_rate_and_start_point():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            start = screen.query_one("#surface-start", Input)
            start.focus()
            start.value = "0.5, -0.5"
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.start == (0.5, -0.5))  # the field's Submitted handled
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.step_count > 0)
            assert tuple(screen.query_one(SurfaceMap).paths["sgd"].points[0]) == (0.5, -0.5)
            lr = screen.query_one("LaneRow Input", Input)  # sgd
            lr.focus()
            lr.value = "10"
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.walkers["sgd"].lr == 10)
            await pilot.press("e")  # far too big a step on Rosenbrock: the path blows up
            await wait_for(pilot, lambda: screen.walkers["sgd"].diverged)
            assert "diverged" in lane_result(screen, "sgd")
            start.focus()
            start.value = "nonsense"
            await pilot.press("enter")
            await wait_for(pilot, lambda: start.has_class("-invalid"))
            assert screen.start == (0.5, -0.5)
            assert "start must be two numbers" in plain(screen.query_one("#surface-status"))

    run(scenario())


def test_parse_point():
    assert parse_point("-1.2, 1") == (-1.2, 1.0)
    assert parse_point("3 4") == (3.0, 4.0)
    for bad in ("1", "a, b", "1, 2, 3", "inf, 0"):
        with pytest.raises(ValueError):
            parse_point(bad)


@pytest.mark.parametrize("key,cls", SCREENS)
def test_explanations_next_to_the_choices(key, cls):
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, key, cls)
            explain = plain(screen.query_one("#lab-explain"))
            name = "adam" if cls is SweepScreen else "sgd"
            assert OPTIMIZERS[name].summary[:30] in explain.replace("\n", " ")
            if cls is not SweepScreen:
                assert OPTIMIZERS[name].rule in explain
                await pilot.press("down", "down", "down", "down", "down")  # adam
                explain = plain(screen.query_one("#lab-explain"))
                assert OPTIMIZERS["adam"].rule in explain

    run(scenario())


def test_surface_map_without_colour_tells_paths_apart_by_letter(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            assert app.no_color
            screen = await open_screen(pilot, "f", SurfaceScreen)
            await pilot.press("e")
            text = "\n".join(screen.query_one(SurfaceMap).plain_lines())
            assert "▀" not in text  # glyphs, not colour blocks
            assert "S" in text and "s" in text  # sgd's head and trail

    run(scenario())


def test_race_plot_without_colour_draws_each_lane_with_its_letter(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("2", "3", "4", "5", "7", "8")  # only sgd and adam
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            plot = screen.query_one(MultiPlot)
            await wait_for(pilot, lambda: len(plot.series) == 2)
            await pilot.pause(0.3)
            body = "\n".join(plot.plain_lines()[1:])
            assert "S" in body and "A" in body and not any("⠁" <= c <= "⣿" for c in body)  # letters, no lines

    run(scenario())


def test_quitting_the_app_mid_race_stops_the_worker_and_exits():
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.progress > 0)
            screen.query_one("#race-epochs", Input).focus()  # a field with focus as the app goes
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0
        deadline = time.monotonic() + 5  # a deadline for a hang, not a measurement
        while screen.stepping:  # the screen's removal stopped the race: its thread leaves after a step
            assert time.monotonic() < deadline, "the race thread did not stop"
            time.sleep(0.005)

    run(scenario())


def test_digits_typed_into_a_field_do_not_switch_lanes():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            field = screen.query_one("#race-epochs", Input)
            field.focus()
            await wait_for(pilot, lambda: field.has_focus)  # else the keys reach the screen
            field.value = ""
            await pilot.press("3")
            await wait_for(pilot, lambda: field.value == "3")
            assert len(screen.query_one("#race-optimizers", LaneList).enabled()) == len(OPTIMIZERS)
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.focused is None)  # the field's Submitted handled
            assert screen.epochs == 3

    run(scenario())


def header_shown(app) -> tuple[str, str]:
    """The title and the state as the header line shows them on screen."""
    lines = screen_lines(app)
    out = []
    for selector in ("#lab-title", "#lab-state"):
        x, y, width, _ = app.screen.query_one(selector).content_region
        out.append(lines[y].crop(x, x + width).text.rstrip())
    return out[0], out[1]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
@pytest.mark.parametrize("key,cls", SCREENS)
def test_header_title_is_never_cut(key, cls, size):
    # What the title holds is fitted to the width: parts shortened, then the least needed left
    # out, so that what is shown is whole.
    async def scenario():
        app = NNTuiApp(tiny_config(epochs=500))
        async with app.run_test(size=size) as pilot:
            screen = await open_screen(pilot, key, cls)
            for running in (False, True):  # ready, then running (or done)
                if running:
                    await pilot.press("space")
                    await wait_for(pilot, lambda: plain(screen.query_one("#lab-state")).rstrip() != state)
                # What is on screen once a frame shows the header as it is now (progress may move it on).
                await wait_for(pilot, lambda: header_shown(app) == (
                    plain(screen.query_one("#lab-title")).rstrip(), plain(screen.query_one("#lab-state")).rstrip()))
                title, state = header_shown(app)
                assert title.split(" · ")[0] in ("Race", "LR sweep", "Loss surface")
                assert "…" not in title
            if size[0] >= 80:
                # At 80 columns the essentials stay: what runs, on what, for how long.
                assert {"o": "epochs", "s": "adam", "f": "rosenbrock"}[key] in title
            await app.screen.stop_work()

    run(scenario())


# --- leaving, from keys, the palette, or twice ----------------------------------------------------


@pytest.fixture
def held_steps(monkeypatch):
    """Race and sweep steps that wait for the test's word, so that keys arrive while leaving waits
    for the worker to finish its step: (entered, release) events. (A step made slow by a large
    network took from 0.3 s to over 5 s, the wait's limit, depending on the machine, and burnt
    both cores meanwhile.)"""
    entered, release = threading.Event(), threading.Event()
    step = Race.step

    def held(race):
        entered.set()
        release.wait(10)
        return step(race)

    monkeypatch.setattr(Race, "step", held)
    yield entered, release
    release.set()


async def leave_while_a_step_runs(pilot, screen, keys, held_steps):
    """Start the screen's work, then send ``keys`` at once while its worker is inside a step:
    leaving waits for that step, and the keys after the first arrive meanwhile."""
    app = pilot.app
    entered, release = held_steps
    await pilot.press("space")
    if isinstance(screen, RaceLabScreen):
        await wait_for(pilot, entered.is_set)
    for key in keys:  # posted, not pressed: a press would wait until the leaving is done
        app.post_message(events.Key(key, None))
    await asyncio.sleep(0.3)
    if isinstance(screen, RaceLabScreen):
        assert not screen.shown and screen in app.screen_stack  # leaving, still waiting for the step
    release.set()


def palette_choice(app) -> str:
    """The command the open palette's Enter would run, as plain text ("" while none is shown)."""
    commands = app.screen.query(CommandList)
    if not commands or commands.first().highlighted is None:
        return ""
    command_list = commands.first()
    return str(command_list.get_option_at_index(command_list.highlighted).prompt)


async def back_on_main(pilot, app):
    """The lab screen is gone, the main screen is on top and still works."""
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.pause(0.3)
    assert [type(s) for s in app.screen_stack] == [MainScreen]
    plot = app.screen.query_one(LossPlot)
    log_scale = plot.log_scale
    await pilot.press("l")  # the main screen answers keys (l: a key of its own, quick to answer)
    await wait_for(pilot, lambda: plot.log_scale != log_scale)
    assert [type(s) for s in app.screen_stack] == [MainScreen]


@pytest.mark.parametrize("key,cls", SCREENS)
@pytest.mark.parametrize("keys", [("escape", "escape", "escape", "escape")])
def test_leaving_twice_while_running_leaves_once(key, cls, keys, held_steps):
    # The second key arrives while the first waits for the worker to stop: it must not dismiss
    # a second screen (the main one: "Can't pop screen").
    async def scenario():
        app = NNTuiApp(tiny_config(epochs=500))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            await leave_while_a_step_runs(pilot, screen, keys, held_steps)
            await back_on_main(pilot, app)

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
@pytest.mark.parametrize("running", [True])  # the harder case: the worker must stop first
def test_back_from_the_palette_leaves_the_screen(key, cls, running):
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            if running:
                await pilot.press("space")
                await wait_for(pilot, lambda: screen.stepping if isinstance(screen, RaceLabScreen) else screen.playing)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"Back")
            await wait_for(pilot, lambda: palette_choice(app).startswith("Back"))
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))
            await pilot.press("enter", "enter")
            await back_on_main(pilot, app)

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
def test_leaving_then_opening_the_palette_leaves_the_lab_screen(key, cls, held_steps):
    # Escape waits for the worker; ctrl+p in that time puts the palette on top. Leaving must take
    # the lab screen away, not the palette.
    async def scenario():
        app = NNTuiApp(tiny_config(epochs=500))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            entered, release = held_steps
            await pilot.press("space")
            if isinstance(screen, RaceLabScreen):
                await wait_for(pilot, entered.is_set)
            threading.Timer(0.5, release.set).start()  # the step under way ends half a second from now
            await pilot.press("escape", "ctrl+p")  # ctrl+p comes while escape waits for that step
            await pilot.pause(0.3)
            if not isinstance(app.screen, MainScreen):  # the palette came first: it stays open
                assert isinstance(app.screen, CommandPalette)
                await pilot.press("escape")  # close it: the lab screen then goes too
            await back_on_main(pilot, app)

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
def test_a_dismissed_lab_screen_ignores_late_progress(key, cls):
    # A worker's last progress message, a play timer, a resize or a field's blur can reach a screen
    # that has just been dismissed, while its widgets are being removed: it draws nothing then (it
    # was "NoMatches '#lab-title' on RaceScreen").
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            await pilot.press("space")
            # the first progress: a race's first snapshot, or the surface's first step
            await wait_for(pilot, lambda: screen.snapshot is not None if isinstance(screen, RaceLabScreen) else screen.step_count > 0)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            # What a late message, timer or resize runs:
            screen.refit_header()
            if isinstance(screen, RaceLabScreen):
                link = screen.link
                link.receive(TrainingLink.Update(link, link.run, screen.snapshot))
                link.receive(TrainingLink.Ended(link, link.run, ValueError("late")))
            else:
                screen.tick()
            await pilot.pause(0.2)
            await back_on_main(pilot, app)

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
def test_back_from_the_palette_after_the_screen_was_taken_off(key, cls):
    # Textual's palette, given a second Enter before it has closed, dismisses itself twice: the
    # second time it pops the screen under it, this lab screen, and then runs the chosen "Back"
    # on it. Leaving a screen that is no longer on the stack must not pop the main screen ("Can't
    # pop screen") nor draw on removed widgets ("NoMatches '#lab-title' on RaceScreen"), and its
    # work must stop all the same.
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            await pilot.press("space")
            await pilot.pause(0.3)
            app.pop_screen()  # the palette's second dismiss
            await screen.run_action("leave")  # then its command
            await back_on_main(pilot, app)
            if isinstance(screen, RaceLabScreen):
                await wait_for(pilot, lambda: not screen.stepping)  # the race thread has stopped
            else:
                assert not screen.playing

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
def test_palette_commands_for_a_screen_that_was_taken_off_do_nothing(key, cls):
    # The palette's commands hold on to the screen they were listed for; after the palette's
    # double dismiss has taken that screen off, each of them must do nothing (Reset raised
    # "NoMatches '#race-batch' on RaceScreen").
    async def scenario():
        app = NNTuiApp(tiny_config(n_samples=400, epochs=500, batch_size=1))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_screen(pilot, key, cls)
            app.pop_screen()
            await back_on_main(pilot, app)
            for _key, action, _description, _help in palette_entries(cls):
                await screen.run_action(action)
            await pilot.pause(0.2)
            await back_on_main(pilot, app)

    run(scenario())


@pytest.mark.parametrize("key,cls", SCREENS)
def test_a_lab_screen_taken_off_before_it_has_mounted_does_not_fail(key, cls):
    # A palette command opens the screen and the palette's double dismiss pops it at once: its
    # mount handler then runs on a screen that is going away.
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            view = next(v for v in VIEWS if v.key == key)
            app.push_screen(view.factory(app.training))
            app.pop_screen()
            await pilot.pause(0.3)
            await back_on_main(pilot, app)

    run(scenario())


# --- keys and resizes in any order ------------------------------------------------------------------


LAB_SCREENS = [("f", SurfaceScreen), ("s", SweepScreen)]


def stale_resizes(screen, sizes):
    """Resize events that reached ``screen`` in one burst, none handled yet (a screen busy, or under the
    palette, while the terminal was resized several times): all but the last are stale."""
    for width, height in sizes:
        screen.post_message(events.Resize(Size(width, height), Size(width, height)))


@pytest.mark.parametrize("palette", [False, True])
@pytest.mark.parametrize("key,cls", LAB_SCREENS)
def test_stale_resizes_leave_every_screen_at_the_terminal_size(key, cls, palette, monkeypatch):
    # Each stale size used to be laid out in turn (and passed on to the screens under it), and a
    # screen swapped between two of them for ever: the app drew a stale width, at full load.
    laid_out = []
    screen_resized = Screen._screen_resized
    monkeypatch.setattr(Screen, "_screen_resized", lambda s, size: (laid_out.append(size), screen_resized(s, size)))

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, key, cls)
            if palette:
                await pilot.press("ctrl+p")
                await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            stale_resizes(screen, [(61, 51), (109, 30), (53, 51)])
            for _ in range(5):
                await pilot.pause()
            laid_out.clear()
            for _ in range(5):
                await pilot.pause()
            assert laid_out == []  # nothing goes on resizing
            for s in app.screen_stack:
                assert s.outer_size == app.size == Size(120, 36), type(s).__name__
            if cls is SurfaceScreen:
                assert screen.has_class("-wide")

    run(scenario())


@pytest.mark.parametrize("key,cls", LAB_SCREENS)
def test_page_keys_in_a_list_opened_by_the_key_before_do_nothing(key, cls, monkeypatch):
    # Keys come in bursts: the list opened by Enter is not laid out when PageDown arrives.
    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", False)

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, key, cls)
            choice = screen.query_one(Select)
            choice.focus()
            await pilot.pause()
            choice.action_show_overlay()
            overlay = choice.query_one(SelectOverlay)
            overlay.action_page_down()  # before any layout: the KeyError of the key storms
            overlay.action_page_up()
            await pilot.pause()
            await pilot.press("pagedown", "pageup", "escape")
            assert app.is_running

    run(scenario())


def test_surface_map_is_drawn_for_its_new_size_before_its_resize_event():
    # The compositor draws a resized widget before the widget has handled its Resize event.
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            await pilot.press("n")
            surface_map = screen.query_one(SurfaceMap)
            assert surface_map.plain_lines()
            width = surface_map.content_size.width
            screen._refresh_layout(Size(120, 36))  # the map laid out larger; its Resize event is only queued
            assert surface_map.content_size.width > width
            surface_map.set_paths(dict(surface_map.paths))
            lines = surface_map.plain_lines()
            assert len(lines) == surface_map.content_size.height
            assert all(len(line) == surface_map.content_size.width for line in lines)

    run(scenario())


def test_surface_status_line_fits_at_80_columns():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            status = screen.query_one("#surface-status")
            room = status.content_size.width
            seen = []
            for keys in ((), ("n",), ("e",)):
                await pilot.press(*keys)
                text = plain(status)
                seen.append(text)
                assert len(text) <= room, text
            assert "space plays" in seen[0] and "paused" in seen[1] and "done" in seen[2]
            await pilot.resize_terminal(120, 36)
            await pilot.press("r")
            assert "ready: space plays, n steps" in plain(status)  # room for the whole wording

    run(scenario())


def test_switching_a_lane_while_playing_keeps_the_other_paths_going():
    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_screen(pilot, "f", SurfaceScreen)
            surface_map = screen.query_one(SurfaceMap)
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.step_count > 5)
            await pilot.press("3")  # nesterov off
            await wait_for(pilot, lambda: "nesterov" not in surface_map.paths)
            steps = screen.step_count
            assert screen.playing and steps > 5
            await pilot.press("3")  # on again: it catches up with the others
            await wait_for(pilot, lambda: "nesterov" in screen.walkers)
            assert screen.playing and len(screen.walkers["nesterov"].points) == screen.step_count + 1
            await wait_for(pilot, lambda: screen.step_count > steps + 5)
            await pilot.press("space")
            await wait_for(pilot, lambda: not screen.playing)
            counts = {len(w.points) for w in screen.walkers.values() if not w.diverged}
            assert counts == {screen.step_count + 1}

    run(scenario())


STORM_KEYS = (list("abcdefghijklmnoprstuvwxyz0123456789") +
              ["plus", "minus", "left_square_bracket", "right_square_bracket", "question_mark", "full_stop",
               "comma", "space", "space", "enter", "enter", "escape", "tab", "tab", "shift+tab", "up", "down",
               "left", "right", "pageup", "pagedown", "home", "end", "backspace", "ctrl+p"])
STORM_SIZES = [(109, 30), (110, 30), (111, 30), (80, 24), (60, 20), (120, 36), (30, 10)]


@pytest.mark.parametrize("key,cls,seed", [("f", SurfaceScreen, 3), ("s", SweepScreen, 3)])
def test_a_seeded_storm_of_keys_and_resizes_leaves_the_lab_screen_working(key, cls, seed, monkeypatch, no_idle_wait):
    # What the key-storm tool does in a terminal, deterministically: random keys (q aside: it leaves),
    # terminal resizes around the surface's wide layout and below the minimum, bursts of resizes that
    # reach a screen before it has handled the first. Any error fails the test (no guard).
    rng = random.Random(seed)
    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", False)

    async def scenario():
        app = NNTuiApp(tiny_config(epochs=3))
        async with app.run_test(size=(120, 36)) as pilot:
            await open_screen(pilot, key, cls)
            for n in range(160):
                if not isinstance(app.screen, (cls, CommandPalette)):
                    await pilot.press("escape", "escape")  # back to the main screen, then the lab again
                    await open_screen(pilot, key, cls)
                await pilot.press(rng.choice(STORM_KEYS))
                if n % 8 == 0:
                    width, height = rng.choice(STORM_SIZES)
                    await pilot.resize_terminal(width, height)
                if n % 20 == 10:
                    for s in app.screen_stack:
                        if isinstance(s, LabScreen):  # on top, or under the palette
                            stale_resizes(s, rng.sample(STORM_SIZES, 3))
                    # drawn at the terminal's size, once the resizes have been handled
                    await wait_for(pilot, lambda: all(s.outer_size == app.size
                                                      for s in [*app._background_screens, app.screen]))
            await pilot.resize_terminal(120, 36)
            # the screens drawn (the others on their return), once the resize has been handled
            await wait_for(pilot, lambda: all(s.outer_size == Size(120, 36)
                                              for s in [*app._background_screens, app.screen]))
            for _ in range(8):
                await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.outer_size == Size(120, 36))
            assert app.is_running and app.unexpected_errors == 0

    run(scenario())
