"""ThrottledRedraw: data waits out ``min_interval``; what a key asked for is drawn at once."""

import asyncio

from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from tests.conftest import wait_for  # its deadline is a hang's, far inside min_interval
from tui_trainer.tui.widgets.redraw_throttle import ThrottledRedraw


class Counting(ThrottledRedraw, Widget):
    def __init__(self, min_interval: float) -> None:
        super().__init__()
        self._init_throttle(min_interval, max_share=0.05)

    def _rebuild(self, width: int, height: int) -> None:
        pass

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.content_size.width)


class CountingApp(App):
    def compose(self) -> ComposeResult:
        yield Counting(min_interval=3600.0)


def test_data_waits_out_the_interval_and_an_urgent_change_does_not():
    async def main():
        app = CountingApp()
        async with app.run_test(size=(40, 10)) as pilot:
            widget = app.query_one(Counting)
            await wait_for(pilot, lambda: widget.draw_count >= 1)  # drawn on mount
            n = widget.draw_count
            widget.mark_dirty()  # new data, just after a draw: waits out the hour
            widget.mark_dirty(live=True)
            await pilot.pause(0.2)
            assert widget.draw_count == n
            widget.mark_dirty(urgent=True)  # e.g. a new scale: the next frame
            await wait_for(pilot, lambda: widget.draw_count == n + 1)  # long before the hour is out
            await pilot.pause(0.2)
            assert widget.draw_count == n + 1  # the pending data went into that redraw: none more

    asyncio.run(main())
