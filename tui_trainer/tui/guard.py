"""The last-resort guard: an unexpected exception in a handler is shown, and the app goes on.

Textual ends the app on any exception a message handler, an action or a worker raises, and a
message pump whose handler raised stops processing messages. Every handler in nn-tui catches
the failures it expects (bad files, bad values) and says what to do; this guard is for the
ones nobody expected: the training so far must not be lost to a bug in one view.
"""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump

REPORT_HINT = "please report it; your training goes on"


class Guarded(MessagePump):
    """Mixed into the app, its screens and the panes: a failing handler is reported, not fatal."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)
        except Exception as error:  # the last resort: anything a handler did not expect
            if not self.app.report_unexpected(error):
                raise
