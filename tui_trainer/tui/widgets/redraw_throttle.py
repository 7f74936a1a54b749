"""When a widget with a costly rebuild (a plotext plot) redraws: seldom enough to leave training alone.

The UI thread shares the interpreter with the training thread, so every millisecond spent
rebuilding a plot is a millisecond the trainer waits. A widget using :class:`ThrottledRedraw`
rebuilds at most every ``min_interval`` seconds, and while live data streams in, at most
``max_share`` of the time: a plot that takes 16 ms to build waits 0.32 s before the next. What
the user asks for (a new scale) is drawn in the next frame: a key's effect is not held back.
Keys go first: while keys come (any key, ``KEYS_QUIET`` apart or less) a live redraw waits for them
to stop, at most ``KEYS_FIRST_AT_MOST`` behind, so that a rebuild (10-25 ms at 120x36 and wider)
does not hold back the frame that shows what a key did (a Down through the config pane).
"""

from __future__ import annotations

import math
from time import monotonic

from textual.timer import Timer

LIVE_FALLBACK = 0.5
"""Seconds a deferred live redraw waits for more data before drawing what it has."""
KEYS_QUIET = 0.2
"""Seconds after a key before a live redraw: longer than a key takes to show, and than the gap
between a held key's repeats (~33 ms), so a held key keeps live redraws waiting (up to the limit below)."""
KEYS_FIRST_AT_MOST = 1.0
"""Seconds at most a live redraw waits for keys to stop (a held key still sees the plot move)."""


def keys_first(app, last_draw: float, now: float) -> float:
    """Seconds a live redraw waits for the keys coming to stop (0: none came lately): until
    ``KEYS_QUIET`` after the latest, ``KEYS_FIRST_AT_MOST`` after ``last_draw`` at the latest."""
    key_at = getattr(app, "last_key_at", -math.inf)
    if now >= key_at + KEYS_QUIET or last_draw == -math.inf:
        return 0.0
    return max(0.0, min(key_at + KEYS_QUIET, last_draw + KEYS_FIRST_AT_MOST) - now)


class ThrottledRedraw:
    """Mixin for a Textual widget: call :meth:`_init_throttle` in ``__init__``, implement
    :meth:`_rebuild`, and call :meth:`mark_dirty` whenever what it shows changes (mounting,
    showing and resizing already do)."""

    min_interval: float
    max_share: float

    def _init_throttle(self, min_interval: float, max_share: float) -> None:
        self.min_interval = min_interval
        """The least time between two redraws, in seconds."""
        self.max_share = max_share
        """While live data streams in, the largest share of the UI thread's time redraws may take."""
        self.draw_count = 0
        """How many times the widget was rebuilt (for tests and profiling)."""
        self.last_draw_seconds = 0.0
        """How long the latest rebuild took."""
        self._dirty = True
        self._soon = False
        self._timer: Timer | None = None
        self._due = math.inf
        self._last_draw = -math.inf

    def on_resize(self) -> None:
        self.mark_dirty()

    def on_mount(self) -> None:
        self.mark_dirty()

    def on_show(self) -> None:
        self.mark_dirty()

    def plain_lines(self) -> list[str]:
        """The text of every line as drawn, without colours (for tests and screenshots)."""
        width, height = self.content_size  # type: ignore[attr-defined]
        return [self.render_line(y).text.ljust(width) for y in range(height)]  # type: ignore[attr-defined]

    def mark_dirty(self, *, live: bool = False, urgent: bool = False) -> None:
        """Ask for a redraw: now if the last one was long enough ago, else once it has been.

        Live data keeps to the time share and is drawn when the next batch arrives after that, in the
        same frame as the other panes; a timer catches the last batch. Anything else (a new size, data
        while idle) only waits out ``min_interval``, and an ``urgent`` change (what a key asked for,
        e.g. a new scale) waits for nothing.
        """
        self._dirty = True
        if self._soon or not self.is_mounted:  # type: ignore[attr-defined]
            return
        interval = self.min_interval
        if urgent:
            interval = 0.0
        elif live:  # at most a second, though: the first build also loads plotext
            interval = max(interval, min(1.0, self.last_draw_seconds / self.max_share))
        now = monotonic()
        if live:
            interval = max(interval, now + keys_first(self.app, self._last_draw, now) - self._last_draw)  # type: ignore[attr-defined]
        due = self._last_draw + interval + (LIVE_FALLBACK if live else 0.0)
        if self._last_draw + interval <= now:
            self._cancel_timer()
            self._soon = True
            self.call_later(self._flush)  # type: ignore[attr-defined]  # a zero-delay Timer divides by zero
        elif self._timer is None or due < self._due:
            self._cancel_timer()
            self._due = due
            self._timer = self.set_timer(due - now, self._flush, name=f"{type(self).__name__} redraw")  # type: ignore[attr-defined]

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _flush(self) -> None:
        self._soon = False
        self._cancel_timer()
        # Hidden (another tab, scrolled away): stay dirty and draw on the next Show or Resize.
        if self._dirty and self.is_on_screen:  # type: ignore[attr-defined]
            self.redraw()

    def redraw(self) -> None:
        """Rebuild now, at the current size (the UI thread only; normally automatic)."""
        self._dirty = False
        self._last_draw = start = monotonic()
        width, height = self.content_size  # type: ignore[attr-defined]
        if width <= 0 or height <= 0:
            return
        self._rebuild(width, height)
        self.refresh()  # type: ignore[attr-defined]
        self.last_draw_seconds = monotonic() - start
        self.draw_count += 1

    def _rebuild(self, width: int, height: int) -> None:
        """Build what the widget shows at ``width`` x ``height`` cells."""
        raise NotImplementedError
