"""The optimizer matrix (m) and the race's "use the best lane" (u), driven with Pilot."""

from __future__ import annotations

import asyncio

import pytest

from tests.test_app import screen_lines, settings_ready, small_config, wait_for
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.lab_matrix import MatrixScreen, matrix_summary
from tui_trainer.tui.screens.lab_race import RaceScreen
from tui_trainer.tui.screens.main import MainScreen

SCREENS = [("m", MatrixScreen)]
SIZES = [(80, 24), (120, 36)]


def run(coro):
    return asyncio.run(coro)


def text(screen, selector) -> str:
    return str(screen.query_one(selector).content)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in screen_lines(app))


async def open_matrix(pilot, app) -> MatrixScreen:
    await settings_ready(pilot, app)
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, MatrixScreen))
    await pilot.pause(0.05)
    return app.screen


async def tiny(pilot, screen: MatrixScreen, epochs: str = "2") -> None:
    """spiral and moons, sgd and adam."""
    await pilot.press("c", "d", "2", "5")  # sine, digits, momentum, rmsprop off
    screen.query_one("#matrix-epochs").value = epochs
    await pilot.pause()
    assert screen.datasets == ["spiral", "moons"] and screen.optimizers == ["sgd", "adam"]


async def run_tiny(pilot, app) -> MatrixScreen:
    screen = await open_matrix(pilot, app)
    await tiny(pilot, screen)
    await pilot.press("space")
    await wait_for(pilot, lambda: not screen.running and screen.rows, timeout=60)
    await pilot.pause(0.05)
    return screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matrix_opens_with_m_and_shows_its_choices(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            screen = await open_matrix(pilot, app)
            shown = screen_text(app)
            assert "Optimizer matrix" in shown and "ready: space runs" in shown
            for name in ("spiral", "moons", "sine", "digits", "sgd", "adam"):
                assert name in shown, name
            assert "tune lr: off" in shown
            await pilot.press("t")
            assert screen.tune_lr and "tune lr: on" in text(screen, "#matrix-tune")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matrix_runs_and_marks_the_best_per_dataset(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            screen = await run_tiny(pilot, app)
            rows = screen.rows
            assert {(r["dataset"], r["optimizer"]) for r in rows} == {
                (d, o) for d in ("spiral", "moons") for o in ("sgd", "adam")}
            table = text(screen, "#matrix-table")
            lines = table.splitlines()
            assert "sgd" in lines[0] and "adam" in lines[0]
            for d, data in enumerate(("spiral", "moons")):
                cost_line = lines[1 + 3 * d]
                assert cost_line.startswith(data)
                cells = [cost_line[8 + 9 * i: 8 + 9 * (i + 1)] for i in range(2)]
                for cell, name in zip(cells, ("sgd", "adam")):
                    row = next(r for r in rows if r["dataset"] == data and r["optimizer"] == name)
                    assert ("★" in cell) == bool(row["best"]), (data, name, cell)
                assert sum(r["best"] for r in rows if r["dataset"] == data) == 1
            summary = text(screen, "#matrix-summary")
            best = [r["optimizer"] for r in rows if r["best"]]
            most = max(best.count(name) for name in best)
            top = summary.split(" best on ")[0]
            assert best.count(top) == most and f"{top} best on {most} of 2 datasets" in summary
            assert summary == matrix_summary(rows, ["spiral", "moons"], False)
            assert "done" in screen_text(app)
            if size == (80, 24):
                assert screen.query_one("#matrix-summary").region.bottom <= 23

    run(scenario())


def test_arrows_and_u_apply_a_cells_optimizer_and_rate():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await run_tiny(pilot, app)
            await pilot.press("right", "down")  # adam on moons
            assert screen.cursor == (1, 1)
            row = screen.cell()
            assert row["optimizer"] == "adam" and row["dataset"] == "moons"
            assert "adam on moons" in text(screen, "#matrix-cell")
            await pilot.press("u")
            await pilot.pause(0.05)
            config = app.training.session.config
            assert config.optimizer.name == "adam" and config.optimizer.lr == pytest.approx(row["lr"])
            await pilot.press("left", "up")  # sgd on spiral
            row = screen.cell()
            assert row["optimizer"] == "sgd"
            if not row["diverged"]:
                await pilot.press("u")
                await pilot.pause(0.05)
                config = app.training.session.config
                assert config.optimizer.name == "sgd" and config.optimizer.lr == pytest.approx(row["lr"])
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert app.training.session.config.optimizer.name in ("adam", "sgd")

    run(scenario())


def test_keys_while_running_and_escape_leave_cleanly():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_matrix(pilot, app)
            await tiny(pilot, screen, epochs="100000")
            await pilot.press("space")
            assert screen.running
            await pilot.press("right", "down", "u", "t", "a", "3", "left")
            assert screen.running, (screen.error, len(screen.rows))
            before = app.training.session.config.optimizer.name
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), timeout=10)
            assert app.training.session.config.optimizer.name == before
            await wait_for(pilot, lambda: screen._worker is None or screen._worker.is_finished, timeout=10)

    run(scenario())


def test_space_stops_a_running_matrix_and_keeps_finished_rows():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_matrix(pilot, app)
            await tiny(pilot, screen, epochs="100000")
            await pilot.press("space")
            await pilot.pause(0.1)
            await pilot.press("space")
            await wait_for(pilot, lambda: not screen.running)
            assert screen._worker.is_finished
            datasets = {r["dataset"] for r in screen.rows}
            assert datasets <= {"spiral"}
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_race_u_uses_the_best_lane():
    async def scenario():
        app = NNTuiApp(small_config(optimizer="sgd"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, RaceScreen))
            screen = app.screen
            await pilot.pause(0.05)
            await pilot.press("u")  # nothing yet: a warning, no change
            assert app.training.session.config.optimizer.name == "sgd"
            screen.query_one("#race-epochs").value = "2"
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done, timeout=60)
            await pilot.pause(0.05)
            results = screen.snapshot.results
            best = next(r for r in results if r["best"])
            await pilot.press("u")
            await pilot.pause(0.05)
            config = app.training.session.config
            assert config.optimizer.name == best["optimizer"]
            assert config.optimizer.lr == pytest.approx(best["lr"])
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


def test_matrix_taken_off_before_it_has_mounted_does_not_fail():
    # The palette's double dismiss can pop a screen as soon as it was pushed.
    from tui_trainer.tui.screens.views import view_named

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            app.push_screen(view_named("matrix").factory(app.training))
            app.pop_screen()
            await pilot.pause(0.3)
            assert isinstance(app.screen, MainScreen)

    run(scenario())
