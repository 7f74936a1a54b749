"""The command palette: Textual's own, made safe against fast keys.

In Textual 8.2, page up / page down pressed while the palette's list is still being laid out
(right after ctrl+p, or while the commands are being searched) raise a KeyError, and a second
Enter before the palette has gone dismisses it twice: the second time pops the screen under it
("Can't pop screen; there must be at least one screen on the stack"). A search of the commands
(a worker) that starts or goes on after the palette began to close finds no list to fill
(``NoMatches``), and Textual ended the app for it.
"""

from __future__ import annotations

from textual import work
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.css.query import NoMatches

from .screen_size import AtAppSize


class SafeCommandPalette(AtAppSize, CommandPalette):
    """Page keys move a page once the list has been laid out; closing happens once."""

    BINDINGS = [
        Binding("pagedown", "page('page_down')", "Next page", show=False),
        Binding("pageup", "page('page_up')", "Previous page", show=False),
    ]

    def action_page(self, action: str) -> None:
        try:
            self._action_command_list(action)
        except (KeyError, IndexError):
            pass  # not laid out yet: there is no page to move by

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        """Textual's search for the commands matching what was typed, which ends quietly once the
        palette has lost its list (closed, or closing): there is nothing to show the commands in."""
        try:
            await CommandPalette._gather_commands.__wrapped__(self, search_value)
        except NoMatches:
            if self.is_attached and self.query(CommandList):
                raise  # the list is there: something else is missing, not to be hidden

    def dismiss(self, result=None) -> AwaitComplete:
        """Close, if this palette is still the screen on top (else it has closed already)."""
        if self.app.screen is not self:
            return AwaitComplete.nothing()
        return super().dismiss(result)

    @staticmethod
    def is_open(app) -> bool:
        """A palette anywhere in the stack (one may be under the dialog its command opened)."""
        return any(isinstance(screen, CommandPalette) for screen in app.screen_stack)
