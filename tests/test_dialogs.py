"""The small dialogs: a long question or prompt wraps inside the box instead of being cut off."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import wait_for
from tests.test_app import region_text, settings_ready, small_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.dialogs import ConfirmDialog, PathDialog


def words_shown(app, widget) -> list[str]:
    return " ".join(region_text(app, widget)).split()


async def shows_whole_question(pilot, app, text: str) -> None:
    await wait_for(pilot, lambda: bool(app.screen.query(".dialog-question")))
    await pilot.pause()
    label = app.screen.query_one(".dialog-question")
    box = app.screen.query_one(".dialog-box")
    assert label.region.right <= box.content_region.right
    assert words_shown(app, label) == text.split()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_save_prompt_wraps_in_the_box(size):
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=size) as pilot:
            await settings_ready(pilot, app)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog))
            await shows_whole_question(pilot, app, app.screen.prompt)
            await pilot.press("escape")

    asyncio.run(scenario())


def test_a_long_question_wraps_in_the_box():
    question = ("experiment.npz, experiment.toml already exist and hold a model trained for a long "
                "time. Overwrite them both?")

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            app.push_screen(ConfirmDialog(question, yes="Overwrite", no="Cancel"))
            await shows_whole_question(pilot, app, question)

    asyncio.run(scenario())


@pytest.mark.parametrize("make, button", [
    (lambda: PathDialog("Save where?", "experiment.npz"), "#cancel"),
    (lambda: PathDialog("Save where?", "experiment.npz"), "#ok"),
    (lambda: ConfirmDialog("Overwrite?", yes="Overwrite", no="Cancel"), "#no"),
    (lambda: ConfirmDialog("Overwrite?", yes="Overwrite", no="Cancel"), "#yes"),
])
def test_a_dialog_answers_once(make, button):
    # Two presses of a button (or Enter twice) can both reach the dialog before it has gone: the
    # second must not dismiss the screen under it ("Can't pop screen; there must be at least one
    # screen on the stack").
    answers = []

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            app.push_screen(make(), answers.append)
            await pilot.pause()
            pressed = app.screen.query_one(button)
            pressed.press()
            pressed.press()
            await pilot.pause(0.3)
            assert app.screen is main and len(app.screen_stack) == 1
            assert len(answers) == 1

    asyncio.run(scenario())


def test_escape_twice_answers_once():
    answers = []

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            dialog = ConfirmDialog("Overwrite?")
            app.push_screen(dialog, answers.append)
            await pilot.pause()
            dialog.action_answer(False)
            dialog.action_answer(False)
            await pilot.pause(0.2)
            assert answers == [False] and len(app.screen_stack) == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("make", [
    lambda: PathDialog("Save where?", "experiment.npz"),
    lambda: ConfirmDialog("Overwrite?"),
])
def test_a_dialog_taken_off_before_it_has_mounted_does_not_fail(make):
    # The palette's double dismiss can pop a dialog its command has just pushed, before the
    # dialog's own mount handler runs (it raised "NoMatches 'Input' on PathDialog").
    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            main = app.screen
            dialog = make()
            app.push_screen(dialog)
            app.pop_screen()
            await pilot.pause(0.3)
            dialog.answer(None)  # a late Enter
            if isinstance(dialog, PathDialog):
                dialog.accept()
            await pilot.pause(0.2)
            assert app.screen is main and len(app.screen_stack) == 1

    asyncio.run(scenario())
