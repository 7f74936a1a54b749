"""The app of ``nn-tui watch``: the nn-tui app opened on one run's watch view.

It lives beside the app, not in the watch screen's module: the Runs screen opens that screen, and
a screen module importing the app would import itself back through the main screen's views.
"""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from .app import NNTuiApp
from .screens.watch import WatchScreen


class WatchApp(NNTuiApp):
    """The app opened on one run's watch view (``nn-tui watch``); leaving the view quits."""

    def __init__(self, path: Path) -> None:
        super().__init__(None, record=False)
        self.watch_path = Path(path)

    def get_default_screen(self) -> Screen:
        return Screen()

    def on_mount(self) -> None:
        self.push_screen(WatchScreen(self.watch_path), callback=lambda _: self.exit())


def watch_app(path: Path) -> WatchApp:
    """An app that shows the run in folder ``path`` and quits when its watch view is left."""
    return WatchApp(path)
