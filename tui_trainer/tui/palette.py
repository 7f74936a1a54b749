"""The command palette: Textual's own, with page keys that cannot crash it.

In Textual 8.2, page up / page down pressed while the palette's list is still being laid out
(right after ctrl+p, or while the commands are being searched) raise a KeyError.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.command import CommandPalette


class SafeCommandPalette(CommandPalette):
    """Page keys move a page when the list has been laid out, and do nothing before."""

    BINDINGS = [
        Binding("pagedown", "page('page_down')", "Next page", show=False),
        Binding("pageup", "page('page_up')", "Previous page", show=False),
    ]

    def action_page(self, action: str) -> None:
        try:
            self._action_command_list(action)
        except (KeyError, IndexError):
            pass  # not laid out yet: there is no page to move by
