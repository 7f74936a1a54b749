"""The optimizer matrix (m) and the race's "use the best lane" (u), driven with Pilot."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import wait_for
from tests.test_app import screen_lines, settings_ready, small_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.experiments.matrix import verdict
from tui_trainer.tui.screens.lab_matrix import MatrixScreen
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


async def tiny(pilot, screen: MatrixScreen, epochs: str = "2", seeds: str = "2", processes: int | None = 1) -> None:
    """spiral and moons, sgd and adam, few epochs and seeds (in this process unless ``processes``)."""
    await pilot.press("c", "d", *(str(n) for n in range(1, len(screen.optimizers) + 1)))  # all off
    await pilot.press("1", "6")  # sgd, adam
    screen.query_one("#matrix-epochs").value = epochs
    screen.query_one("#matrix-seeds").value = seeds
    screen.processes = processes
    await pilot.pause()
    assert screen.datasets == ["spiral", "moons"] and screen.optimizers == ["sgd", "adam"]


async def run_tiny(pilot, app, processes: int | None = 1) -> MatrixScreen:
    screen = await open_matrix(pilot, app)
    await tiny(pilot, screen, processes=processes)
    await pilot.press("space")
    await wait_for(pilot, lambda: not screen.running and screen.result is not None and screen.result.cells,
                   timeout=60)
    await pilot.pause(0.05)
    return screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matrix_opens_with_m_and_states_its_protocol(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            screen = await open_matrix(pilot, app)
            shown = " ".join(screen_text(app).split())
            assert "Optimizer matrix" in shown and "ready: space runs" in shown
            for name in ("spiral", "moons", "sine", "digits", "sgd", "adam", "adamp"):
                assert name in shown, name
            assert "lr: tuned over 7 rates" in shown
            assert "Protocol: 5 seeds, lr tuned per optimizer over 7 rates (1e-4..1) on val loss, 30 epochs." in shown
            await pilot.press("t")
            assert not screen.tune_lr and "fixed racing rates" in text(screen, "#matrix-tune")
            assert "fixed rates" in text(screen, "#matrix-protocol")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matrix_runs_in_worker_processes_and_shows_each_cells_spread_and_the_verdicts(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            screen = await run_tiny(pilot, app, processes=2 if size == (80, 24) else 1)
            result = screen.result
            assert [(c.dataset, c.optimizer) for c in result.cells] == [
                (d, o) for d in ("spiral", "moons") for o in ("sgd", "adam")]
            assert all(c.score.runs == 2 for c in result.cells)
            lines = text(screen, "#matrix-table").splitlines()
            assert lines[0].split() == ["sgd", "adam"]
            width = (len(lines[1 + 1]) - 8) // 2  # the median line: label, then two cells
            for d, data in enumerate(("spiral", "moons")):
                head = 1 + 5 * d
                v = verdict([c for c in result.cells if c.dataset == data])
                assert lines[head].startswith(data)
                assert lines[head].split(None, 1)[1] == (f"tie ({', '.join(v.best)})" if v.tie else v.text())
                for line, label in zip(lines[head + 1:head + 5], ("median", "low", "high", "acc/R²")):
                    assert line.split()[0] == label
                for i, name in enumerate(("sgd", "adam")):
                    c = result.cell(data, name)
                    cells = [line[8 + width * i: 8 + width * (i + 1)].strip() for line in lines[head + 1:head + 4]]
                    mark = ("=" if v.tie else "★") if name in v.best else ""
                    assert cells[0].startswith(mark) and float(cells[0].lstrip("=★")) == pytest.approx(
                        c.score.median, rel=0.01)
                    assert float(cells[1]) == pytest.approx(c.score.low, rel=0.01)
                    assert float(cells[2]) == pytest.approx(c.score.high, rel=0.01)
            assert "Verdicts: " in text(screen, "#matrix-summary")
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
            c = screen.cell()
            assert c.optimizer == "adam" and c.dataset == "moons"
            assert "adam on moons: lr" in text(screen, "#matrix-cell")
            await pilot.press("u")
            await pilot.pause(0.05)
            config = app.training.session.config
            assert config.optimizer.name == "adam" and config.optimizer.lr == pytest.approx(c.lr)
            await pilot.press("left", "up")  # sgd on spiral
            c = screen.cell()
            assert c.optimizer == "sgd"
            if c.ranked:
                await pilot.press("u")
                await pilot.pause(0.05)
                config = app.training.session.config
                assert config.optimizer.name == "sgd" and config.optimizer.lr == pytest.approx(c.lr)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert app.training.session.config.optimizer.name in ("adam", "sgd")

    run(scenario())


def test_keys_while_running_and_escape_leave_cleanly():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_matrix(pilot, app)
            await tiny(pilot, screen, epochs="100000", processes=None)
            await pilot.press("space")
            assert screen.running
            await pilot.press("right", "down", "u", "t", "a", "3", "left")
            assert screen.running, (screen.error, screen.result)
            before = app.training.session.config.optimizer.name
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), timeout=20)
            assert app.training.session.config.optimizer.name == before
            await wait_for(pilot, lambda: screen.link is None or not screen.link.running, timeout=20)

    run(scenario())


def test_space_stops_a_running_matrix_and_keeps_finished_cells():
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_matrix(pilot, app)
            await tiny(pilot, screen, epochs="100000")
            await pilot.press("space")
            await pilot.pause(0.1)
            await pilot.press("space")
            await wait_for(pilot, lambda: not screen.running)
            await wait_for(pilot, lambda: not screen.link.running, timeout=20)
            assert {c.dataset for c in screen.result.cells} <= {"spiral"}
            assert not screen.query_one("#matrix-progress #eta").display  # no time left to count down
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


def test_lab_screens_get_the_session_link_passed_in():
    """The lab screens reach the main experiment only through the link their view gives them."""
    from pathlib import Path

    import tui_trainer.tui.screens as screens
    from tui_trainer.tui.screens.views import view_named

    for module in Path(screens.__file__).parent.glob("lab_*.py"):
        assert "app.training" not in module.read_text(encoding="utf-8"), module.name

    class Link:
        class session:
            config = small_config()

    for name in ("race", "sweep", "matrix"):
        assert view_named(name).factory(Link).training is Link
