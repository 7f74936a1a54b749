"""The app of ``nn-tui watch``: the nn-tui app opened on one run's watch view.

It lives beside the app, not in the watch screen's module: the Runs screen opens that screen, and
a screen module importing the app would import itself back through the main screen's views.
"""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from .app import NNTuiApp
from .keys import keys_markdown
from .screens.help_box import MarkdownHelp
from .screens.watch import WatchScreen


class WatchHelpScreen(MarkdownHelp):
    """The watch view's keys (its bindings): the app's help would list keys this app does not have
    (training, the config pane, the views)."""

    ABOUT = ("`nn-tui watch` follows one run as it is written: its loss curves, its state and the "
             "weights of its latest checkpoint, read again as they change. It only reads the run: "
             "leaving the view quits and the run goes on.")

    def markdown(self) -> str:
        return f"# Watching a run\n\n{self.ABOUT}\n\n{keys_markdown(WatchScreen)}"


class WatchApp(NNTuiApp):
    """The app opened on one run's watch view (``nn-tui watch``); leaving the view quits."""

    def __init__(self, path: Path) -> None:
        super().__init__(None, record=False)
        self.watch_path = Path(path)

    def get_default_screen(self) -> Screen:
        return Screen()

    def on_mount(self) -> None:
        self.push_screen(WatchScreen(self.watch_path), callback=lambda _: self.exit())

    def action_help(self) -> None:
        """? : the watch view's own keys."""
        self.push_screen(WatchHelpScreen())


def watch_app(path: Path) -> WatchApp:
    """An app that shows the run in folder ``path`` and quits when its watch view is left."""
    return WatchApp(path)
