"""Leaving a full screen safely: from a key, from the command palette, twice, with a dialog on top.

Textual's ``dismiss`` pops whichever screen is on top, and the command palette may run a command on
a screen that was taken off meanwhile; a worker's last message, a timer or a resize may reach a
screen after it was dismissed. A screen mixing this in (before ``Screen``) leaves once, dismisses
itself only when it is on top (else when the dialog over it closes), runs no more actions once it
is leaving, and says through ``shown`` whether there is still something to draw on.
"""

from __future__ import annotations

from typing import Any


class LeavesSafely:
    """For a ``Screen`` subclass: ``start_leaving``, then ``dismiss_when_on_top``."""

    _leaving = False
    """Set by the first request to leave (or by the removal): the screen draws nothing more."""

    @property
    def shown(self) -> bool:
        """Whether the screen is still there to draw on: not leaving, and in the app's screen stack
        (a dismissed screen is out of it at once, before its widgets are removed)."""
        return not self._leaving and self.is_attached and self in self.app.screen_stack

    async def run_action(self, action: str, namespaces: Any = None) -> None:
        """Run ``action`` on this screen, unless it has left: the command palette holds on to the
        screen it listed its commands for, and may run one after the screen was taken off."""
        if self.shown:
            await super().run_action(action, namespaces)

    def start_leaving(self) -> bool:
        """Mark the screen as leaving; False when it already was (a second request does nothing:
        it would dismiss the screen under this one)."""
        if self._leaving:
            return False
        self._leaving = True
        return True

    def dismiss_when_on_top(self) -> None:
        """Dismiss this screen if it is the top one; with a palette or a dialog over it, when that
        closes (``on_screen_resume``)."""
        if self.app.screen is self:
            self.dismiss()

    def on_screen_resume(self) -> None:
        if self._leaving and self.is_attached:
            self.dismiss_when_on_top()

    def on_unmount(self) -> None:
        self._leaving = True
