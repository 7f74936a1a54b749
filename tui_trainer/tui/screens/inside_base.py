"""The common shape of the "inside the network" screens: a title line, the view, a footer.

Each view subscribes to the session's link (``tui.training.SessionLink``) for its snapshots, gets
them through ``show_snapshot`` and redraws at most every ``REDRAW_INTERVAL`` seconds while training (the latest snapshot wins; a trailing
timer draws the last one), at once otherwise. Its math runs on copies: ``network_copy`` puts
the snapshot's parameters into a private network of the same shape, never the live one.
"""

from __future__ import annotations

import math
from time import monotonic

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Static

from ...engine import inspect as insp
from ...engine.network import Network
from ...experiments.session import Session, Snapshot
from ..keys import HELP_KEY, HelpKey
from ..guard import Guarded
from ..screen_size import AtAppSize
from ..training import SessionLink
from ..widgets.key_footer import KeyFooter
from .leaving import LeavesSafely

REDRAW_INTERVAL = 0.5
"""Seconds between redraws while training: twice a second reads as live and costs little."""


class InsideScreen(HelpKey, LeavesSafely, AtAppSize, Guarded, Screen):
    """Base class: title, throttled snapshots, keys to go back and to train from here."""

    VIEW_TITLE = ""
    """Shown at the left of the title line."""
    REDRAW_INTERVAL = REDRAW_INTERVAL
    """Least seconds between two redraws while training (views with costlier math wait longer)."""

    DEFAULT_CSS = """
    InsideScreen > #inside-title {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $boost;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    InsideScreen .inside-scroll { height: 1fr; padding: 0 1; }
    InsideScreen .inside-body { height: auto; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("space", "toggle_training", "Train/pause"),
        Binding("n", "single_step", "Step"),
        Binding("greater_than_sign", "pace(1)", "Faster", show=False, key_display=">"),
        Binding("less_than_sign", "pace(-1)", "Slower", show=False, key_display="<"),
        Binding("p", "presets", "Presets", show=False),
        HELP_KEY,
    ]

    FOOTER_LEFT_OUT_FIRST = ("single_step", "toggle_training")
    """Left out of a narrow footer first (``KeyFooter``), before the view's own keys: n, then space
    (both train from every screen, as the help says)."""

    def __init__(self, training: SessionLink) -> None:
        super().__init__()
        self.training = training
        """The session's link: its copies, and the commands the main screen shares."""
        self.snapshot: Snapshot | None = None
        """The latest snapshot received."""
        self.draw_count = 0
        """Redraws so far (for tests and profiling)."""
        self.last_draw_seconds = 0.0
        """How long the latest ``draw`` took (the math and the widget updates, not the paint)."""
        self._drawn_at = -math.inf
        self._timer: Timer | None = None
        self._net: Network | None = None
        self._shapes: dict[str, int] = {}

    @property
    def session(self) -> Session:
        return self.training.session

    # -- composition -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="inside-title")
        yield from self.compose_view()
        yield KeyFooter()  # Textual's Footer, built once per screen and updated in place

    def compose_view(self) -> ComposeResult:
        """The view's own widgets, between the title line and the footer."""
        yield from ()

    @staticmethod
    def scrolling_text(name: str) -> ComposeResult:
        """A scrollable text body: ``#{name}-scroll`` holding ``#{name}-body`` (fill it with
        ``update_text``), for the views that are text from top to bottom."""
        with VerticalScroll(id=f"{name}-scroll", classes="inside-scroll"):
            yield Static("", id=f"{name}-body", classes="inside-body")

    def on_mount(self) -> None:
        self.training.subscribe(self, self.show_snapshot)
        # The snapshot current once drawn, not now: a key queued before this view's first refresh
        # may replace the network meanwhile.
        self.call_after_refresh(lambda: self.show_snapshot(self.training.current()))

    # -- snapshots -------------------------------------------------------------------------

    def show_snapshot(self, snap: Snapshot) -> None:
        """Keep ``snap``; draw it now when idle, else at most every ``REDRAW_INTERVAL`` seconds.

        A snapshot of a network replaced since (a new data set, a new shape, a preset: one queued before
        the change) is dropped: the views compute with the session's network, and the new network's
        snapshot follows."""
        if not self.fits(snap):
            return
        self.snapshot = snap
        delay = self._drawn_at + self.REDRAW_INTERVAL - monotonic()
        if snap.state != "training" or delay <= 0:
            self._draw_now()
        elif self._timer is None:
            self._timer = self.set_timer(delay, self._draw_now, name="inside redraw")

    def fits(self, snap: Snapshot) -> bool:
        """Whether ``snap`` holds parameters of the session's network as it is now."""
        live = self.session.net.params
        return len(snap.params) == len(live) and all(a.shape == b.shape for a, b in zip(snap.params, live))

    def redraw(self) -> None:
        """Draw the latest snapshot again now (after a key changed what the view shows)."""
        if self.snapshot is not None:
            self._draw_now()

    def _draw_now(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        snap = self.snapshot
        if snap is None or not self.shown or not self.fits(snap):
            return
        if self.app.screen is not self and not isinstance(self.app.screen, ModalScreen):
            return  # under another view: drawn again when back on top (``on_screen_resume``)
        self._drawn_at = started = monotonic()
        try:
            self.query_one("#inside-title", Static).update(self.title_text(snap), layout=False)
            self.draw(snap)
        except NoMatches:  # a last snapshot arriving while the app shuts down
            return
        self.draw_count += 1
        self.last_draw_seconds = monotonic() - started

    def draw(self, snap: Snapshot) -> None:
        """Show ``snap`` (the UI thread; ``network_copy`` for any forward pass)."""

    def update_text(self, selector: str, content) -> None:
        """``Static.update`` that lays the screen out again only when the widget's height may
        change: a relayout repaints the whole screen, and while training that adds up.

        A fixed-height widget never needs one; an auto-height one only when its text wraps to
        another number of lines.
        """
        widget = self.query_one(selector, Static)
        height = widget.styles.height
        if not hasattr(content, "plain") or height is None:
            widget.update(content)
            return
        if not height.is_auto:
            widget.update(content, layout=False)
            return
        width = widget.content_size.width
        lines = len(content.wrap(self.app.console, width)) if width > 0 else -1
        widget.update(content, layout=lines < 0 or self._shapes.get(selector) != lines)
        self._shapes[selector] = lines

    def title_text(self, snap: Snapshot) -> str:
        """``Decision boundary · circles · 2 -> 16 -> 1 · step 120 · paused``."""
        ds = self.session.experiment.dataset
        shape = network_shape(self.session.net.layer_sizes)
        parts = [f"[b]{escape(self.VIEW_TITLE)}[/b]", escape(ds.name), shape, f"step {snap.step}", snap.state]
        return " · ".join(parts)

    def network_copy(self, snap: Snapshot) -> Network:
        """A private network of the session's shape holding ``snap``'s parameters."""
        live = self.session.net
        net = self._net
        if net is None or net.layer_sizes != live.layer_sizes or net.activations != live.activations \
                or net.dtype != live.dtype:
            net = self._net = insp.network_like(live, snap.params)
        else:
            net.set_parameters(snap.params)
        return net

    # -- keys ------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to what is under this view; safe twice, from the palette, and with a dialog or the
        palette over the view (it then closes when they do)."""
        if self.start_leaving():
            self.dismiss_when_on_top()

    def on_screen_resume(self) -> None:
        """Back on top (e.g. after the presets): the experiment may be another one now. (A view
        that is leaving is dismissed by ``LeavesSafely.on_screen_resume``.)"""
        if not self._leaving and self.snapshot is not None:
            self.show_snapshot(self.training.current())

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def action_toggle_training(self) -> None:
        self.training.toggle()

    def action_single_step(self) -> None:
        self.training.single_step()

    def action_pace(self, direction: int) -> None:
        """The same pace as on the main screen: one session trains for both."""
        self.training.pace(direction)

    def action_presets(self) -> None:
        """Open the presets over this view; it shows the new experiment when they close. (The app
        opens it: a screen module that imported the table of views would import itself back.)"""
        self.app.action_open_view("presets")


def network_shape(sizes) -> str:
    """``2 -> 6x16 -> 1``: the layer sizes with runs of equal hidden layers counted."""
    sizes = list(sizes)
    parts = [str(sizes[0])]
    hidden = sizes[1:-1]
    i = 0
    while i < len(hidden):
        j = i
        while j < len(hidden) and hidden[j] == hidden[i]:
            j += 1
        parts.append(f"{j - i}x{hidden[i]}" if j - i > 2 else " -> ".join([str(hidden[i])] * (j - i)))
        i = j
    parts.append(str(sizes[-1]))
    return " -> ".join(parts)
