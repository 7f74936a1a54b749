"""The footer: one line of keys that follows focus without laying the screen out again, a click
on a key presses it, and live panes wait while keys come (``redraw_throttle.keys_first``)."""

import asyncio
import math

import pytest
from textual.widget import Widget

from tests.conftest import wait_for
from tests.test_app import settings_ready, small_config
from tests.test_config_keys import FIELD_ORDER, focused_id, footer_text, open_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.help import HelpScreen
from tui_trainer.tui.widgets.key_footer import KeyFooter
from tui_trainer.tui.widgets.redraw_throttle import KEYS_FIRST_AT_MOST, KEYS_QUIET, keys_first


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_down_through_the_config_pane_never_lays_the_screen_out_again(size, monkeypatch):
    """A move of focus repaints what changed (the footer's keys, the marked row): a new layout of
    the whole screen took 10-25 ms a key while training. Scroll bars may restyle as the pane scrolls."""
    asked: list[str] = []
    refresh = Widget.refresh

    def recording_refresh(self, *regions, layout=False, **kwargs):
        if layout and recording:
            asked.append(type(self).__name__)
        return refresh(self, *regions, layout=layout, **kwargs)

    recording = False
    monkeypatch.setattr(Widget, "refresh", recording_refresh)

    async def scenario():
        nonlocal recording
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=size) as pilot:
            await open_config(pilot)
            await pilot.pause()
            recording = True
            for field in FIELD_ORDER[1:]:
                await pilot.press("down")
                await wait_for(pilot, lambda: focused_id(app) == field)
            for field in reversed(FIELD_ORDER[:-1]):
                await pilot.press("up")
                await wait_for(pilot, lambda: focused_id(app) == field)
            await pilot.pause()
            recording = False
            assert [name for name in asked if name != "ScrollBar"] == []

    run(scenario())


def test_a_click_on_a_footer_key_presses_it_and_one_between_keys_does_nothing():
    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            footer = app.screen.query_one(KeyFooter)
            await wait_for(pilot, lambda: "? Help" in footer_text(app))
            column = footer_text(app).index("? Help")
            await pilot.click(KeyFooter, offset=(column + 2, 0))
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
            assert footer.is_attached
            await pilot.click(KeyFooter, offset=(app.size.width - 30, 0))  # between the keys and ^p
            await pilot.pause()
            assert app.screen is footer.screen

    run(scenario())


def test_live_panes_wait_while_keys_come_and_never_longer_than_the_limit():
    class App:
        last_key_at = -math.inf

    app = App()
    assert keys_first(app, last_draw=10.0, now=10.05) == 0.0  # no key yet
    app.last_key_at = 10.0
    assert keys_first(app, last_draw=9.9, now=10.05) == pytest.approx(KEYS_QUIET - 0.05)
    assert keys_first(app, last_draw=9.9, now=10.0 + KEYS_QUIET) == 0.0  # the keys stopped
    app.last_key_at = 20.0  # a held key: the panes still move, KEYS_FIRST_AT_MOST after the last draw
    assert keys_first(app, last_draw=20.0 - KEYS_FIRST_AT_MOST + 0.01, now=20.05) == 0.0
    assert keys_first(app, last_draw=-math.inf, now=20.05) == 0.0  # never drawn: draw now


def test_the_key_under_the_mouse_is_highlighted_and_only_it():
    def background_at(footer, column):
        x = 0
        for segment in footer.render_line(0):
            if x <= column < x + len(segment.text):
                return segment.style.bgcolor
            x += len(segment.text)

    async def scenario():
        app = NNTuiApp(small_config(), record=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            footer = app.screen.query_one(KeyFooter)
            await wait_for(pilot, lambda: "? Help" in footer_text(app) and "q Quit" in footer_text(app))
            help_at, quit_at = footer_text(app).index("? Help") + 2, footer_text(app).index("q Quit") + 2
            plain = background_at(footer, help_at), background_at(footer, quit_at)
            await pilot.hover(KeyFooter, offset=(help_at, 0))
            await wait_for(pilot, lambda: background_at(footer, help_at) != plain[0])
            assert background_at(footer, quit_at) == plain[1]
            await pilot.hover(KeyFooter, offset=(quit_at, 0))
            await wait_for(pilot, lambda: background_at(footer, help_at) == plain[0])
            assert background_at(footer, quit_at) != plain[1]

    run(scenario())
