"""The nn-tui Textual app: a thin shell around the main screen and the session's training link."""

from __future__ import annotations

import gc

_COLLECTING = gc.isenabled()
gc.disable()
# No garbage collection while this module's imports load, nor while the app builds its first frame
# (``NNTuiApp.on_load``): importing Textual and NumPy and building the first frame allocate some
# 120,000 objects that live on, and Python's collector went over them 167 times on the way, 30-60 ms
# of the 0.45 s of CPU to the first frame (timed with gc.callbacks at 120x36).

import os
from pathlib import Path
from time import monotonic, time
from typing import Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.worker import WorkerFailed

from ..experiments.config import ExperimentConfig
from ..experiments.files import describe_error
from ..experiments.recording import Recorder
from ..experiments.runs import runs_dir as default_runs_dir
from ..experiments.session import Session
from .guard import REPORT_HINT, Guarded
from .keys import palette_entries
from .palette import SafeCommandPalette
from .screens.main import MainScreen
from .screens.views import view_named
from .training import SessionLink, TrainingHost

gc.freeze()  # the modules, classes and functions just made live on: no collection goes over them again
if _COLLECTING:
    gc.enable()


COLLECTION_THRESHOLDS = (5000, 20, 100)
"""Python's garbage-collection thresholds once the app runs (Python's own: 700, 10, 10). A full
collection stops the UI and the training thread for 80-200 ms at 120x36; with Python's thresholds
10 came in a minute of training and key presses, and a view's first picture took up to 134 ms
(benchmarks/bench_app.py (f)); with these none came and it took 83 ms at most. Young garbage is still
collected every 5,000 allocations."""

SETTING_NOTE_SECONDS = 1.0
"""How long a note of a changed learning rate or pace stays (the status pane shows both)."""


NOTE_MIN_SECONDS = 0.01
"""The least time a toast is shown for: one whose note ran out just before it was shown goes at once."""


class Note(Notification):
    """A notification whose toast always gets a positive time.

    Textual checks that a note has not expired, then makes its toast with the time left, computed
    again: a note that ran out in between (a busy main thread, the training thread holding the
    interpreter) got a negative time, and a timer with a negative interval spins for ever without
    yielding: the app froze. Expired still means no time left; the time a toast is given is never
    below ``NOTE_MIN_SECONDS``."""

    @property
    def time_left(self) -> float:
        return max(NOTE_MIN_SECONDS, self.raised_at + self.timeout - time())

    @property
    def has_expired(self) -> bool:
        return self.raised_at + self.timeout - time() <= 0


class NNTuiApp(TrainingHost, Guarded, App):
    """Build and train a neural network, and watch it learn."""

    GUARD_ERRORS = True
    """Report unexpected exceptions and go on (tests turn this off so that errors fail them)."""

    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True,
                        tooltip="Quit the app and return to the command prompt.")]
    """Textual's ctrl+q, shown in the footer: on a view, where q goes back, it is the quit key."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so that subclasses elsewhere find it
    TITLE = "nn-tui"
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, config: ExperimentConfig | None = None, *, source: str = "",
                 runs_dir: str | Path | None = None, record: bool = True, view: str = "") -> None:
        super().__init__()
        self._config = config
        self._view = view
        """A view (``screens.views``, e.g. ``lessons``) opened over the main screen at start; "" none."""
        self._source = source
        self.runs_dir = default_runs_dir(runs_dir)
        """Where runs are recorded and listed (``--runs-dir``, ``NN_TUI_RUNS`` or ``./runs``)."""
        self.record = record
        """Whether training in the app is recorded as runs (``--no-record`` turns it off)."""

    unexpected_errors: int = 0
    """How many unexpected exceptions the guard has reported."""

    def report_unexpected(self, error: BaseException) -> bool:
        """Show an unexpected exception as a notification; False when the guard is off or the app
        is not up yet (then Textual ends the app, with exit status 1)."""
        if not (self.GUARD_ERRORS and self._running and self.screen_stack and not self._exit_renderables):
            return False
        if isinstance(error, WorkerFailed):
            error = error.error
        self.unexpected_errors += 1
        self.log.error("unexpected", error)
        self.notify(f"{type(error).__name__}: {describe_error(error)} ({REPORT_HINT})",
                    title="Unexpected error", severity="error", timeout=12)
        return True

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False, setting: bool = False) -> None:
        """A notification as plain text, always: messages name keys such as ``[network] hidden`` and
        files whose names may hold brackets, which markup would swallow.

        ``setting``: a short note of a setting the status pane shows too (learning rate, pace): it
        replaces the previous such note rather than stacking over the panes, and goes after
        ``SETTING_NOTE_SECONDS``. (Textual removes notifications only all at once, so while any
        other note is still up, the setting notes stack beside it; they go soon all the same.)
        """
        if setting:
            timeout = SETTING_NOTE_SECONDS
            if monotonic() >= self._other_notes_until:
                self.clear_notifications()  # only setting notes are up: the new one replaces them
        else:
            shown = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
            self._other_notes_until = max(self._other_notes_until, monotonic() + shown)
        if timeout is None:
            timeout = self.NOTIFICATION_TIMEOUT
        # Textual's own notify, with a note whose toast's time is never negative (``Note``).
        self.post_message(Notify(Note(message, title, severity, timeout, markup=False)))

    _other_notes_until: float = 0.0
    """Until when (``time.monotonic``) a notification other than a setting's may still be up."""
    last_key_at: float = float("-inf")
    """When (``time.monotonic``) the latest key came: live plots wait for keys (``redraw_throttle``)."""

    def _handle_exception(self, error: Exception) -> None:
        """Where Textual would end the app (a worker failed, a callback raised): the guard first."""
        if not self.report_unexpected(error):
            super()._handle_exception(error)

    _collecting = False
    """Whether Python's garbage collection was on when the app started (off until its first frame)."""

    def on_load(self) -> None:
        self._collecting = gc.isenabled()
        gc.disable()  # until the first frame is out: see the module's first lines

    def on_ready(self) -> None:
        if self._view:
            self.action_open_view(self._view)
        self.call_after_refresh(self._keep_what_lives)  # once the first frame is out

    def _keep_what_lives(self) -> None:
        """Everything alive now lives as long as the app: keep it out of Python's full garbage
        collections, which otherwise stop the UI and the training thread for 35-165 ms. The
        garbage of the start-up goes first (collected from then on, as Python does)."""
        if self._collecting:
            self._collecting = False
            gc.enable()
            gc.collect(1)
        gc.freeze()
        self._thresholds = gc.get_threshold()
        gc.set_threshold(*COLLECTION_THRESHOLDS)

    _thresholds: tuple[int, ...] | None = None
    """The collection thresholds from before the app set its own (None: not set)."""

    def on_unmount(self) -> None:
        """An app that ends before its first frame turns collection back on too; the thresholds
        go back to what they were."""
        if self._collecting:
            gc.enable()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)

    async def on_event(self, event: events.Event) -> None:
        """A key makes the training loop give way for a moment (``TrainingControl.give_way``), so
        that what it does shows at once, not after the loop's next turns at Python's lock."""
        if isinstance(event, events.Key):
            self.last_key_at = monotonic()
            if hasattr(self, "training"):
                self.training.session.control.give_way()
        await super().on_event(event)

    def action_command_palette(self) -> None:
        """ctrl+p: the palette with every action by name."""
        if self.use_command_palette and not SafeCommandPalette.is_open(self):
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        """The palette's "Change theme": the same palette, listing the themes."""
        from textual.theme import ThemeProvider

        self.push_screen(SafeCommandPalette(providers=[ThemeProvider], placeholder="Search for themes…"))

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """The palette's "Screenshot": an SVG of the screen saved in the current folder (``path``
        when given), its full path said; a failure names the folder and why. Textual's own would
        save to a Downloads folder that need not exist, and fail without a reason."""
        folder = os.path.expanduser(path or os.curdir)
        try:
            folder = os.path.abspath(folder)  # the current folder may have been removed meanwhile
            written = self.save_screenshot(filename, folder, time_format)
        except OSError as exc:
            self.notify(f"Could not save the screenshot in {folder}: {exc.strerror or exc}",
                        severity="error", timeout=8)
            return None
        self.notify(f"Screenshot saved: {written}", timeout=6)
        return None

    training: SessionLink
    """The session and its worker: every screen that shows the main run subscribes to it."""

    def get_default_screen(self) -> Screen:
        recorder = Recorder(self.runs_dir) if self.record else None
        self.training = SessionLink(self, Session(self._config, recorder=recorder))
        return MainScreen(self.training, source=self._source)

    def action_help(self) -> None:
        """? on any screen: the help (the main screen's keys, then every view's), over that screen."""
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen(MainScreen))

    def action_open_view(self, name: str) -> None:
        """Open one of the extra views (``screens.views``) over the screen on top."""
        self.push_screen(view_named(name).factory(self.training))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every key binding of the screen with help text is also a command in the palette."""
        yield from super().get_system_commands(screen)
        for key, action, title, help_text in palette_entries(screen):
            yield SystemCommand(f"{title} ({key})", help_text, lambda a=action: self._run_on(screen, a))

    async def _run_on(self, screen: Screen, action: str) -> None:
        """A palette command's action, on the screen it was listed for while that is still up
        (a fast double Enter may have taken it off meanwhile)."""
        if screen in self.screen_stack:
            await screen.run_action(action)
