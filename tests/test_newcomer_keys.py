"""A newcomer's path through the app by keys: the learning-rate keys at the ends of their ladder,
dialogs by arrow keys, checkboxes that show their state without colour, and the footer at 80x24."""

import asyncio

from tests.conftest import wait_for
from tests.test_app import notes, settings_ready, small_config
from tui_trainer.experiments.session import LR_LADDER
from tui_trainer.tui.app import NNTuiApp


def run(coro):
    return asyncio.run(coro)


def test_lr_keys_at_the_ends_of_the_ladder_say_it_is_the_limit():
    async def scenario():
        app = NNTuiApp(small_config(lr=LR_LADDER[-2]))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("plus")
            await wait_for(pilot, lambda: session.config.optimizer.lr == LR_LADDER[-1])
            assert notes(app).splitlines()[-1] == f"learning rate {LR_LADDER[-1]:g}"
            await pilot.press("plus")
            await wait_for(pilot, lambda: "no higher" in notes(app).splitlines()[-1])
            assert session.config.optimizer.lr == LR_LADDER[-1]
            assert notes(app).splitlines()[-1] == f"learning rate {LR_LADDER[-1]:g}: + goes no higher"
        app = NNTuiApp(small_config(lr=LR_LADDER[1]))
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("minus", "minus")
            await wait_for(pilot, lambda: "no lower" in notes(app).splitlines()[-1])
            assert session.config.optimizer.lr == LR_LADDER[0]
            assert notes(app).splitlines()[-1] == f"learning rate {LR_LADDER[0]:g}: - goes no lower"

    run(scenario())


def test_a_checkbox_shows_its_state_in_characters():
    """Without colour (``--colors none``, NO_COLOR) a box's colour cannot tell on from off: its characters do."""
    from tests.test_config_keys import settle

    def drawn(app) -> str:  # what the box draws (a change may rebuild the pane: queried anew)
        return str(app.screen.query_one("#hp-amsgrad").render())

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            app.screen.action_config_field("hp-amsgrad")  # as a palette command does (Down walks there slowly)
            await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "hp-amsgrad")
            assert drawn(app) == "[ ] amsgrad "
            await pilot.press("enter")
            await settle(pilot)
            await wait_for(pilot, lambda: app.screen.session.config.optimizer.hparams["amsgrad"] is True)
            assert drawn(app) == "[x] amsgrad "
            await pilot.press("enter")
            await settle(pilot)
            await wait_for(pilot, lambda: app.screen.session.config.optimizer.hparams["amsgrad"] is False)
            assert drawn(app) == "[ ] amsgrad "

    run(scenario())


def test_a_dialog_by_arrow_keys_and_its_y_shown():
    from tui_trainer.tui.screens.dialogs import ConfirmDialog

    def focused(app) -> str:
        return app.focused.id if app.focused is not None else ""

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            await pilot.press("n")  # one step: resetting now throws training away, so it asks
            await wait_for(pilot, lambda: session.trained)
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and focused(app) == "no")
            assert "(y)" in str(app.screen.query_one("#yes").label)
            await pilot.press("right")
            assert focused(app) == "yes"
            await pilot.press("right")
            assert focused(app) == "also"
            await pilot.press("right")
            assert focused(app) == "also"  # the last button stays
            await pilot.press("left", "left", "left")
            assert focused(app) == "no"
            await pilot.press("right", "enter")  # Reset
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog) and not session.trained)

    run(scenario())


def test_help_and_quit_stay_in_the_footer_at_80x24():
    """At 80 columns the footer leaves out the keys help and the palette list (n Step first), never ? Help or q Quit."""
    from tests.test_config_keys import footer_text

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(80, 24)) as pilot:
            await settings_ready(pilot, app)
            shown = lambda: footer_text(app)  # noqa: E731
            await wait_for(pilot, lambda: "? Help" in shown() and "q Quit" in shown() and "c Config" in shown())
            assert "space Train/pause" in shown() and "^p palette" in shown()
            await pilot.press("c")  # the config in place of the plots: the same footer
            await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "dataset")
            assert "? Help" in shown() and "q Quit" in shown()
            await pilot.resize_terminal(120, 36)  # room for every key again
            await wait_for(pilot, lambda: "n Step" in shown() and "q Quit" in shown())

    run(scenario())
