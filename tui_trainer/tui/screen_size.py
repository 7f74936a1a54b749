"""Every screen of nn-tui (the palette and the dialogs too) is laid out at the terminal's current size.

Textual lays a screen out at each Resize event's size and, when that changed the screen's size,
posts the screen one more Resize of that size; it also passes the event's size on to the screens
drawn under it. A screen that got two terminal resizes of different sizes before it handled the
first (busy, or under the palette or a dialog) then swapped between the two for ever: each handled
event re-queued its own size behind the other's, a main thread at full load drawing a stale width,
and keys waiting behind the resizes. The terminal's current size ends that: a stale event lays
nothing out again and queues nothing.
"""

from __future__ import annotations

from textual import events
from textual.geometry import Size


class AtAppSize:
    """Mixed into every screen before Textual's ``Screen``: layouts always at ``app.size``."""

    def _screen_resized(self, size: Size) -> None:
        """Lay the screen out at the terminal's size now, whatever size the event that asked carried;
        not again when it is laid out at that size already (a screen just opened gets two resizes
        after the layout it is shown with: each laid it all out and drew it whole again)."""
        size = self.app.size  # type: ignore[attr-defined]
        if self.app._dom_ready and self._compositor.size == size and not self._layout_required:  # type: ignore[attr-defined]
            return
        super()._screen_resized(size)  # type: ignore[misc]

    _shown_before = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual restyles a screen's every widget each time it comes on top; the first time, they
        were styled as they mounted a moment before (a tenth of the time to a new screen's first
        picture). Later times restyle, as the theme may have changed meanwhile."""
        if not self._shown_before:
            self._shown_before = True
            event.refresh_styles = False
        super()._on_screen_resume(event)  # type: ignore[misc]

    async def _on_resize(self, event: events.Resize) -> None:
        """A resize: this screen and those drawn under it at the terminal's size. In place of
        Textual's own handler (the same, without breakpoints, which no screen here uses), which
        passes the event's size, stale or not, on to the screens under it."""
        event.stop()
        event.prevent_default()
        size = self.app.size  # type: ignore[attr-defined]
        self._screen_resized(size)
        for screen in self.app._background_screens:  # type: ignore[attr-defined]
            screen._screen_resized(size)
