"""Files in the app by keys: a model trained on a data file asks for that file; bad answers are messages."""

import asyncio
import os

from tests.conftest import wait_for
from tests.test_app import notes
from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.main import MainScreen

ROWS = "a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40))


def csv_model(tmp_path):
    """A model trained two epochs on a small CSV, saved beside it."""
    data = tmp_path / "points.csv"
    data.write_text(ROWS)
    cfg = with_overrides(ExperimentConfig(), path=str(data), hidden=[4], epochs=2)
    exp = Experiment.from_config(cfg)
    exp.trainer.run(2)
    model = tmp_path / "points.npz"
    exp.save(model)
    return model, data


async def open_file(pilot, path) -> None:
    await pilot.press("ctrl+o")
    await pilot.press("ctrl+a", "ctrl+k", *str(path), "enter")


def test_a_model_trained_on_a_csv_asks_for_the_data_file_and_loads_with_it(tmp_path):
    model, data = csv_model(tmp_path)

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=100))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            await open_file(pilot, model)
            await wait_for(pilot, lambda: "trained on a data file" in str(app.screen.query_one(".dialog-question").render()))
            assert app.screen.query_one("#path").value == str(data)  # the file it was trained on, to confirm
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.session.trainer.epoch == 2)
            assert app.screen.session.config.data.path == str(data)
            await pilot.press("q")

    asyncio.run(scenario())


def test_escape_or_a_changed_data_file_leaves_the_training_as_it_was(tmp_path):
    model, data = csv_model(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text(ROWS.replace("yes", "maybe"))

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=100))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await open_file(pilot, model)
            await wait_for(pilot, lambda: bool(app.screen.query(".dialog-question")))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.screen.query(".dialog-question"))
            await open_file(pilot, model)
            await wait_for(pilot, lambda: bool(app.screen.query(".dialog-question")))
            await pilot.press("ctrl+a", "ctrl+k", *str(other), "enter")
            await wait_for(pilot, lambda: "Could not load" in notes(app))
            assert "classes" in notes(app) and "other.csv" in notes(app)
            assert app.screen.session is session and session.config.data.dataset == "spiral"
            await pilot.press("q")

    asyncio.run(scenario())


def test_a_pipe_named_as_the_model_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=100))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            await open_file(pilot, fifo)
            await wait_for(pilot, lambda: "Could not load" in notes(app))
            assert "not a regular file" in notes(app)
            await pilot.press("q")

    asyncio.run(scenario())


def test_a_network_over_the_memory_budget_is_a_message_and_the_old_one_stays(monkeypatch):
    monkeypatch.setenv("NN_TUI_MEMORY_BUDGET", "2M")
    from tests.test_config_keys import open_config, type_into

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=100))
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await open_config(pilot)
            await type_into(pilot, "width-0", "4000")
            await wait_for(pilot, lambda: "memory budget" in notes(app))
            assert "[network] hidden" in notes(app) and "NN_TUI_MEMORY_BUDGET" in notes(app)
            def shown() -> str:
                return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))

            await wait_for(pilot, lambda: "memory budget" in shown())
            assert "[network] hidden" in shown()  # as written: not taken for markup
            assert session.config.network.hidden == [16, 16]
            assert list(session.net.layer_sizes) == [2, 16, 16, 1]
            assert app.screen.query_one("#width-0").value == "16"  # the form shows what the network is
            await pilot.press("escape", "space")  # out of the field; it trains on as it was
            await wait_for(pilot, lambda: session.trainer.step_count > 0)
            await pilot.press("q")

    asyncio.run(scenario())


def test_a_config_with_bad_values_names_the_file_the_key_and_what_is_wrong(tmp_path):
    one = tmp_path / "weird.toml"
    one.write_text('[network]\nhidden = "abc"\n')
    several = tmp_path / "many.toml"
    several.write_text('[network]\nhidden = "abc"\n[training]\nepochs = -5\nbatch_size = 0\n')

    async def scenario():
        app = NNTuiApp(with_overrides(default_config(), n_samples=100))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await open_file(pilot, one)
            await wait_for(pilot, lambda: "Could not load" in notes(app))
            note = app.notes_shown[-1]
            assert note.startswith(f"Could not load {one}: [network] hidden = \"abc\": must be a list")
            assert "\n" not in note and "1 problem" not in note
            await open_file(pilot, several)
            await wait_for(pilot, lambda: "many.toml" in notes(app))
            note = app.notes_shown[-1]
            assert note.startswith(f"Could not load {several}: 3 problems: [network] hidden = \"abc\"")
            assert "[training] epochs = -5: must be an integer >= 1" in note
            assert "[training] batch_size = 0" in note
            assert app.screen.session is session and session.config.network.hidden == [16, 16]
            await pilot.press("q")

    asyncio.run(scenario())


def test_a_failure_of_several_lines_is_one_line_with_its_first_lines_kept():
    from pathlib import Path

    from tui_trainer.experiments.config import ConfigError, Problem
    from tui_trainer.experiments.files import about, describe_error

    problems = [Problem("training", "epochs", "must be an integer >= 1", -n) for n in range(1, 10)]
    text = describe_error(ConfigError("x.toml", problems))
    assert text.startswith("x.toml: 9 problems: [training] epochs = -1: must be")
    assert "\n" not in text and "epochs = -9" not in text and "4 more" in text
    assert about(Path("x.toml"), ConfigError("x.toml", problems[:1])) == "x.toml: [training] epochs = -1: must be an integer >= 1"
    assert describe_error(ValueError("one line")) == "one line"
