"""What the key storms (``tools/key-storm``) found, each pinned down deterministically: a user driving
the app by keys and resizes cannot break it. The error guard is off here, so an error fails the test."""

import asyncio
import inspect

import pytest
from textual import events
from textual.command import CommandPalette
from textual.geometry import Size
from textual.screen import Screen

from tests.conftest import wait_for
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import default_config
from tui_trainer.tui import palette as palette_module
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screen_size import AtAppSize
from tui_trainer.tui.screens.main import MainScreen


@pytest.fixture(autouse=True)
def no_guard(monkeypatch):
    monkeypatch.setattr(NNTuiApp, "GUARD_ERRORS", False)


def tiny_config(**overrides):
    return with_overrides(default_config(), **{"n_samples": 100, "epochs": 2, **overrides})


def run(coro):
    return asyncio.run(coro)


async def main_ready(pilot):
    await wait_for(pilot, lambda: bool(pilot.app.screen.query("#lr")))
    await pilot.pause()


def stale_resizes(screen, sizes):
    """Resize events that reached ``screen`` in one burst, none handled yet: all but the last are stale."""
    for width, height in sizes:
        screen.post_message(events.Resize(Size(width, height), Size(width, height)))


# --- 1. stale resizes, on every screen --------------------------------------------------------------


@pytest.mark.parametrize("palette", [False, True])
def test_stale_resizes_leave_the_main_screen_and_the_palette_at_the_terminal_size(palette, monkeypatch):
    # Each stale size was laid out in turn and re-queued, and the screen swapped between two sizes for
    # ever (a frozen main thread at full load, drawing a stale width).
    laid_out = []
    screen_resized = Screen._screen_resized
    monkeypatch.setattr(Screen, "_screen_resized", lambda s, size: (laid_out.append(size), screen_resized(s, size)))

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            main = app.screen
            if palette:
                await pilot.press("ctrl+p")
                await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
                await pilot.pause()
            for screen in {main, app.screen}:
                stale_resizes(screen, [(61, 51), (109, 30), (53, 51)])
            for _ in range(5):
                await pilot.pause()
            laid_out.clear()
            for _ in range(5):
                await pilot.pause()
            assert laid_out == []  # nothing goes on resizing
            for s in app.screen_stack:
                assert s.outer_size == app.size == Size(120, 36), type(s).__name__

    run(scenario())


def test_every_screen_of_the_app_is_laid_out_at_the_terminal_size():
    # One implementation, shared: every screen class nn-tui defines (and the palette) has it.
    import importlib
    import pkgutil

    import tui_trainer.tui.screens as screens

    for info in pkgutil.iter_modules(screens.__path__):
        importlib.import_module(f"{screens.__name__}.{info.name}")
    classes = [palette_module.SafeCommandPalette]
    pending = list(Screen.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("tui_trainer."):
            classes.append(cls)
    assert MainScreen in classes
    missing = [cls.__qualname__ for cls in classes if not issubclass(cls, AtAppSize)]
    assert missing == []


# --- 2. a note that runs out while its toast is being made ------------------------------------------


def test_a_toast_made_for_a_note_that_has_just_run_out_gets_a_positive_time(monkeypatch):
    # Textual checks a note has not expired, then gives its toast the time left, read again: a note that
    # ran out in between got a negative time, and a timer of negative interval spun for ever (frozen app).
    from textual.widgets._toast import Toast

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            app.notify("learning rate 0.1", setting=True)
            app.notify("a file could not be read", timeout=0.5)
            await wait_for(pilot, lambda: any(n.timeout == 0.5 for n in app._notifications))
            note = next(n for n in app._notifications if n.timeout == 0.5)
            await asyncio.sleep(0.6)
            assert note.has_expired
            assert Toast(note)._timeout > 0  # what the toast's timer is set to
            await pilot.pause(0.1)
            assert app.is_running

    run(scenario())


# --- 3. page keys in a list not laid out yet ---------------------------------------------------------


def test_page_keys_in_a_config_list_opened_by_the_key_before_do_nothing():
    # Keys come in bursts: the field's list opened by Enter is not laid out when PageDown arrives
    # (Textual's OptionList raised KeyError: the highlighted option's index).
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            for choice in app.screen.query(Select):
                choice.focus()
                choice.action_show_overlay()
                overlay = choice.query_one(SelectOverlay)
                overlay.action_page_down()  # before any layout
                overlay.action_page_up()
                await pilot.pause()
                await pilot.press("pagedown", "pageup", "escape")
            assert app.is_running

    run(scenario())


def test_page_keys_in_the_presets_list_before_it_is_drawn_do_nothing(monkeypatch):
    from textual.geometry import Region
    from textual.widgets import OptionList

    from tui_trainer.tui.screens.views import view_named

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            app.push_screen(view_named("presets").factory(app.training))
            await pilot.pause(0)
            options = app.screen.query_one(OptionList)
            options.highlighted = 1
            with monkeypatch.context() as before_layout:  # no room yet: no lines
                before_layout.setattr(OptionList, "scrollable_content_region", property(lambda s: Region(0, 0, 0, 0)))
                options._line_cache.clear()
                options.action_page_down()
                options.action_page_up()
            await pilot.press("pagedown", "pageup", "escape")
            assert app.is_running

    run(scenario())


# --- 4. a search of the commands that ends after the palette closed --------------------------------


def test_a_command_search_that_runs_after_the_palette_lost_its_list_ends_quietly():
    # ctrl+p then Escape (or a command) at once: the search worker started by the palette ran while
    # the palette was being taken down, found no CommandList (NoMatches) and failed the app.
    from textual.command import CommandList

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen.query(CommandList))
            palette = app.screen
            await palette.query_one(CommandList).remove()  # as while the palette closes
            worker = palette._gather_commands("quit")
            await worker.wait()
            await pilot.pause()
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert app.is_running

    run(scenario())


# --- 5. dialog texts are never markup ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run[/x].npz", "[b]model.npz", "a[1].json"])
def test_dialogs_show_typed_file_names_with_brackets_as_they_are(name):
    # A typed file name with "[" made the question markup: a MarkupError, or a name garbled.
    from textual.widgets import Button, Label

    from tui_trainer.tui.screens.dialogs import ConfirmDialog, PathDialog

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            answers = []
            app.push_screen(ConfirmDialog(f"{name} exists. Replace it?", yes=f"Replace {name}", also="[/i]"),
                            answers.append)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen.query(Label))
            await pilot.pause()
            dialog = app.screen
            assert str(dialog.query_one(".dialog-question", Label).render()) == f"{name} exists. Replace it?"
            assert str(dialog.query_one("#yes", Button).label) == f"Replace {name} (y)"  # the y key shown
            await pilot.press("escape")
            await wait_for(pilot, lambda: answers == [False])
            app.push_screen(PathDialog(f"Save as (was {name})", name))
            await wait_for(pilot, lambda: isinstance(app.screen, PathDialog) and app.screen.query(Label))
            await pilot.pause()
            assert str(app.screen.query_one(".dialog-question", Label).render()) == f"Save as (was {name})"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())


# --- 6. the weight inspector under a storm of its own keys -------------------------------------------


def test_the_weight_inspector_answers_after_a_storm_of_edits_and_resizes(no_idle_wait, seed=4):
    # Edits (e, digits, Enter), nudges, layers, the cursor, Escape, training and resizes in any order:
    # the view still answers at the end. (A terminal storm once left the app idle on this view: the
    # palette's Quit, found by random typing, had ended the app, and a ctrl+s typed just after, once the
    # terminal was back in its normal mode, stopped its output: the exiting app's last write waited.)
    import random

    from tui_trainer.tui.screens.inside_inspector import InspectorScreen

    keys = (list("e0123456789") + ["full_stop", "minus", "plus", "enter", "enter", "escape", "up", "down",
            "left", "right", "left_square_bracket", "right_square_bracket", "space", "n", "backspace", "tab"])
    sizes = [(80, 24), (120, 36), (60, 20), (200, 50), (30, 10)]
    rng = random.Random(seed)

    async def scenario():
        app = NNTuiApp(tiny_config(epochs=400))
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen))
            for i in range(150):
                if not isinstance(app.screen, InspectorScreen):
                    await pilot.press("escape")  # back to the main screen; then the inspector again
                    if isinstance(app.screen, MainScreen):
                        await pilot.press("i")
                    continue
                await pilot.press(rng.choice(keys))
                if i % 11 == 0:
                    await pilot.resize_terminal(*rng.choice(sizes))
            await pilot.resize_terminal(120, 36)
            for _ in range(6):
                if isinstance(app.screen, MainScreen):
                    break
                await pilot.press("escape")
                await pilot.pause()
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            assert app.screen.outer_size == Size(120, 36)

    run(scenario())


# --- views: a snapshot of a network replaced since ----------------------------------------------------


@pytest.mark.parametrize("view", ["activations", "inspector", "gradients", "boundary"])
def test_a_view_given_a_snapshot_of_a_replaced_network_keeps_the_current_one(view):
    # The random-key storm: a view opened just before a key replaced the network got the snapshot of
    # the old one after its first refresh, and computed it with the new network (ValueError: expected
    # 2 arrays, got 6).
    import dataclasses

    import numpy as np

    from tui_trainer.tui.screens.views import view_named

    async def scenario():
        app = NNTuiApp(tiny_config())
        async with app.run_test(size=(120, 36)) as pilot:
            await main_ready(pilot)
            app.push_screen(view_named(view).factory(app.training))
            await wait_for(pilot, lambda: not isinstance(app.screen, MainScreen) and app.screen.snapshot is not None)
            screen = app.screen
            current = app.training.current()
            old = dataclasses.replace(current, params=list(current.params) + [np.zeros((3, 3)), np.zeros(3)],
                                      grads=list(current.grads) + [np.zeros((3, 3)), np.zeros(3)],
                                      updates=list(current.updates) + [np.zeros((3, 3)), np.zeros(3)])
            screen.show_snapshot(old)
            await pilot.pause()
            assert screen.snapshot is not old
            screen.redraw()
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(scenario())
