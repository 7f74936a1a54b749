"""The shell of every help: a modal box of Markdown over the screen, closed by Escape, q or ?.

The main screen's help (``help.HelpScreen``), the lessons' and the watch app's each say their own
Markdown. Apart from ``help`` so that the lessons' help needs nothing of the main help's (whose table
of views loads the lessons' module).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from ..screen_size import AtAppSize


class MarkdownHelp(AtAppSize, ModalScreen):
    """A help over the screen: ``markdown()`` in the help box; any of Escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, keys_of: type | None = None) -> None:
        super().__init__()
        self.keys_of = keys_of
        """The screen class whose key bindings the help's table shows."""

    def markdown(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it is slow to import: only when help opens

        with VerticalScroll(id="help-box"):
            yield Markdown(self.markdown())
