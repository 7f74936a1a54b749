"""Nothing kills the app: bad files, failing actions and failing handlers are messages, and the
training in progress goes on."""

import asyncio

import numpy as np
import pytest

from tests.conftest import wait_for
from tests.test_app import notes
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog, PathDialog
from tui_trainer.tui.screens.main import MainScreen


def small_config(**overrides):
    return with_overrides(default_config(), **{"n_samples": 200, "epochs": 10**6, **overrides})


def hostile_files(folder):
    """Files that once killed the app through ctrl+o."""
    nested = folder / "nested.toml"
    nested.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    garbage = folder / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    words = folder / "words.toml"
    words.write_text("[network]\nhidden = 'many'\n")
    return [nested, garbage, words, folder / "missing.npz", folder]


def test_bad_files_through_ctrl_o_are_messages_and_training_goes_on(tmp_path):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 3)
            for path in hostile_files(tmp_path):
                await pilot.press("ctrl+o")
                await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and bool(app.screen.query("Input")))
                app.screen.query_one("Input").value = str(path)
                await pilot.press("enter")
                await wait_for(pilot, lambda: f"Could not load {path}" in notes(app))
                if isinstance(app.screen, ConfirmDialog):  # a readable file: it asks, then fails
                    raise AssertionError(f"asked before checking {path}")
                assert isinstance(app.screen, MainScreen) and app.screen.session is session
            steps = session.trainer.step_count
            await wait_for(pilot, lambda: session.trainer.step_count > steps)  # still training
            assert "missing.npz: no such file" in notes(app)
            assert f"{tmp_path / 'nested.toml'}: {tmp_path / 'nested.toml'}" not in notes(app)  # named once
            assert "it is a folder" in notes(app)
            await pilot.press("q")
        assert app.return_code in (0, None)

    asyncio.run(scenario())


def test_a_hostile_model_header_is_a_message(tmp_path):
    """A model whose header holds an infinite epoch: the file is refused, the session kept."""
    from tui_trainer.experiments.session import Session

    good = tmp_path / "good.npz"
    source = Session(small_config(epochs=1))
    source.save(good).result(timeout=5)
    with np.load(good) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["header"] = np.array(str(arrays["header"]).replace('"epoch": 0', '"epoch": Infinity'))
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    session = Session(small_config())
    with pytest.raises(ValueError, match="epoch"):
        session.load(bad)
    assert session.trainer.step_count == 0 and session.config == small_config()


def test_the_guard_reports_an_unexpected_error_and_the_app_goes_on(monkeypatch):
    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", True)

    def broken(self):
        raise RuntimeError("a bug in a view")

    monkeypatch.setattr(MainScreen, "action_cycle_view", broken)

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            session = app.screen.session
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.step_count > 3)
            await pilot.press("v")
            await wait_for(pilot, lambda: app.unexpected_errors == 1)
            assert "RuntimeError: a bug in a view (please report it" in notes(app)
            steps = session.trainer.step_count
            await wait_for(pilot, lambda: session.trainer.step_count > steps)
            await pilot.press("space")  # keys still work
            await wait_for(pilot, lambda: session.state == "paused")
            await pilot.press("q")
        assert app.return_code in (0, None)

    asyncio.run(scenario())


def test_without_the_guard_an_error_ends_the_app_with_a_nonzero_status(monkeypatch):
    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(MainScreen, "action_cycle_view", broken)

    async def scenario():
        app = NNTuiApp(small_config())
        with pytest.raises(RuntimeError):
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                await pilot.press("v")
                await pilot.pause()
        return app.return_code

    assert asyncio.run(scenario()) == 1


def test_the_palette_closes_once_and_is_never_opened_twice():
    """A second Enter reaching the palette before it has gone dismissed it twice, and the second
    time popped the main screen ('Can't pop screen; there must be at least one screen')."""
    from tui_trainer.tui.palette import SafeCommandPalette

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, SafeCommandPalette))
            palette = app.screen
            app.push_screen(PathDialog("a dialog a command opened", "x.npz"))
            await pilot.pause()
            await pilot.press("ctrl+p")  # a palette is open under the dialog: no second one
            await pilot.pause()
            assert sum(isinstance(s, SafeCommandPalette) for s in app.screen_stack) == 1
            palette.dismiss()  # not on top: nothing happens
            await pilot.pause()
            assert isinstance(app.screen, PathDialog) and len(app.screen_stack) == 3
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is palette)
            palette.dismiss()
            palette.dismiss()
            await pilot.pause()
            assert isinstance(app.screen, MainScreen) and len(app.screen_stack) == 1
            await pilot.press("q")
        assert app.return_code in (0, None)

    asyncio.run(scenario())
