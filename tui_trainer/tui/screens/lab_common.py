"""What the optimizer-lab screens share: lane colours and letters, explanations, and the race's link.

A race (and a learning-rate sweep, which is a race of one optimizer at many rates) is run by a
``RaceSession`` (Textual-free, like the main run's ``Session``) through a ``TrainingLink``, the same
worker-and-copies link the main run uses; the UI thread never touches the race while its worker runs.
Pausing stops the worker; resuming starts a new one on the same race, which carries on where it was.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static

from ...engine.numbers import compact
from ...engine.optimizers import OPTIMIZERS
from ...experiments.config import ExperimentConfig, with_overrides
from ...experiments.lab import Race
from ...experiments.race_session import RaceSession, RaceSnapshot
from ..keys import HELP_KEY, HelpKey
from ..guard import Guarded
from ..screen_size import AtAppSize
from ..training import SessionLink, TrainingHost, TrainingLink
from ..widgets.lane_colors import BLUE, CYAN, GREEN, GREY, MAGENTA, ORANGE, RED, RGB, WHITE, YELLOW, rgb
from ..widgets.lane_list import LaneSpec
from .leaving import LeavesSafely

LANE_COLORS: tuple[RGB, ...] = (RED, YELLOW, ORANGE, GREEN, CYAN, MAGENTA, BLUE, WHITE)
"""The optimizers' colours in registry order (sgd red, momentum yellow, its sibling nesterov in the
neighbouring hue, ...): the 16 standard colours, so they survive ``TERM=xterm``; grey past the eighth."""


def lane_style(name: str) -> tuple[RGB, str]:
    """An optimizer's colour (by its place in the registry) and letter (its own marker without colour)."""
    names = list(OPTIMIZERS)
    if name not in names:
        return GREY, "?"
    place = names.index(name)
    return LANE_COLORS[place] if place < len(LANE_COLORS) else GREY, OPTIMIZERS[name].letter


def use_optimizer(screen: LabScreen, name: str, lr: float, where: str = "") -> bool:
    """Train the current experiment with optimizer ``name`` at rate ``lr`` (a live change: the weights
    stay), show it on the config panes and say so; ``where`` is added to the notification."""
    training = screen.training
    if training is None:
        screen.notify("This screen was opened without the main experiment.", title="Not applied", severity="warning")
        return False
    try:
        training.apply_live(with_overrides(training.session.config, optimizer=name, lr=lr))
    except (ValueError, TypeError) as exc:
        screen.notify(f"{name} at lr {compact(lr, 3)}: {exc}", title="Not applied", severity="error", timeout=8)
        return False
    screen.notify(f"The experiment now trains with {name} at lr {compact(lr, 3)}{where}.", title="Used")
    return True


OPTIMIZER_DIGITS = "123456789"
"""The lab screens' keys for the optimizers, in registry order: the first nine have one."""


def optimizer_digits() -> str:
    """The digit keys the registered optimizers have now (``12345678`` for eight)."""
    return OPTIMIZER_DIGITS[:len(OPTIMIZERS)]


def digit_range(digits: str | None = None) -> str:
    """How the footer shows the digit keys: ``1-8`` (``1`` for one)."""
    digits = optimizer_digits() if digits is None else digits
    return digits if len(digits) < 2 else f"{digits[0]}-{digits[-1]}"


def optimizer_digit_keys(action: str, description: str) -> list[Binding]:
    """``action(n)`` on the n-th registered optimizer's digit, the first one shown in the footer as
    the range. A lab screen binds them again when it is made (``LabScreen.DIGIT_KEYS``), so an
    optimizer registered after its module loaded has its key."""
    digits = optimizer_digits()
    return [Binding(d, f"{action}({n})", description, show=n == 1, key_display=digit_range(digits) if n == 1 else None)
            for n, d in enumerate(digits, 1)]


BATCH_MODE_STYLE: dict[str, tuple[RGB, str]] = {"full": (CYAN, "F"), "mini": (YELLOW, "B"), "single": (MAGENTA, "1")}

BATCH_MODE_TEXT = {
    "full": "batch gradient descent: one update per epoch, on the cost over all samples",
    "mini": "mini-batch: {k} samples per update, reshuffled each epoch",
    "single": "stochastic gradient descent (SGD): one sample per update",
}
"""A plain-language line per batch mode (``{k}``: the mini-batch size)."""


def optimizer_specs(lr_of: Callable[[str], float]) -> list[LaneSpec]:
    """One lane per registered optimizer, in registry order."""
    return [LaneSpec(name, name, *lane_style(name), lr_of(name)) for name in OPTIMIZERS]


def optimizer_rule(name: str, hparams: dict[str, Any] | None = None) -> Text:
    """``S sgd  rule w <- w - lr * g``: the update rule for these settings alone, on one line."""
    color, letter = lane_style(name)
    text = Text()
    text.append(f"{letter} {name}", style=f"bold {rgb(color)}")
    text.append("  rule ", style="dim")
    text.append(OPTIMIZERS[name].rule_for(hparams), style="bold")
    return text


def optimizer_explanation(name: str, hparams: dict[str, Any] | None = None) -> Text:
    """``name  summary`` and ``rule  the update rule``: what the optimizer does with these settings (None:
    its defaults), in words and in symbols."""
    cls = OPTIMIZERS[name]
    color, letter = lane_style(name)
    text = Text()
    text.append(f"{letter} {name}", style=f"bold {rgb(color)}")
    text.append(f"  {cls.summary_for(hparams)}\n")
    text.append("rule ", style="dim")
    text.append(cls.rule_for(hparams), style="bold")
    return text


SEP = " · "
"""Between the parts of a header title."""


@dataclass(frozen=True)
class Part:
    """One part of a header title, and how it gives way when the line is too narrow."""

    text: str
    short: str | None = None
    """A shorter form, used before any part is left out."""
    drop: int | None = None
    """Left out when even the shorter forms do not fit: lowest first; None: always shown."""
    style: str = ""


def experiment_parts(config: ExperimentConfig, summary: str | None = None) -> list[Part]:
    """The data and the network a lab screen trains: ``spiral``, ``2 -> 16 -> 16 -> 1 tanh``
    (short: ``2-16-16-1 tanh``)."""
    data = config.data.dataset if config.data.path is None else config.data.path
    activation = config.network.activation if config.network.activations is None else "mixed"
    hidden = ",".join(str(h) for h in config.network.hidden)
    if summary:
        network, short = f"{summary} {activation}", f"{summary.replace(' -> ', '-')} {activation}"
    else:
        network, short = f"hidden {hidden} {activation}", f"{hidden} {activation}"
    return [Part(str(data)), Part(network, short)]


def fit_title(parts: list[Part], width: int) -> Text:
    """``parts`` joined by `` · `` in at most ``width`` cells where that can be done with whole
    parts: shorter forms first (the last part first), then parts left out (lowest ``drop``
    first). Cut with an ellipsis only when even the parts always shown do not fit."""
    forms: list[str | None] = [p.text for p in parts]

    def joined() -> str:
        return SEP.join(f for f in forms if f is not None)

    for i in reversed(range(len(parts))):
        if Text(joined()).cell_len <= width:
            break
        if parts[i].short is not None:
            forms[i] = parts[i].short
    for i in sorted((i for i, p in enumerate(parts) if p.drop is not None), key=lambda i: parts[i].drop):
        if Text(joined()).cell_len <= width:
            break
        forms[i] = None
    text = Text(no_wrap=True, overflow="ellipsis")
    for form, part in zip(forms, parts):
        if form is None:
            continue
        if text:
            text.append(SEP)
        text.append(form, style=part.style)
    return text


# --- screens --------------------------------------------------------------------------------------


def while_shown(method: Callable) -> Callable:
    """For a lab screen's handlers that draw: nothing happens once the screen is leaving or gone.

    A worker's last progress message, a play timer, a resize or a field's blur can reach a screen
    after it was dismissed, while its widgets are being removed.
    """

    @functools.wraps(method)
    def wrapper(self: LabScreen, *args: Any, **kwargs: Any) -> Any:
        if self.shown:
            return method(self, *args, **kwargs)
        return None

    return wrapper


class LabScreen(HelpKey, LeavesSafely, AtAppSize, Guarded, Screen):
    """A lab screen: Escape leaves a field, then the screen; q leaves the screen.

    Leaving is safe from a key, from the command palette and twice: the first request stops the
    work and dismisses the screen once it is on top (a palette or a dialog opened meanwhile
    closes first); later ones do nothing, and so do late messages and timers (``while_shown``).
    A screen removed any other way still stops its work (``on_unmount``).
    """

    AUTO_FOCUS = ""  # keys go to the screen until a field is chosen (tab or a click)

    DEFAULT_CSS = """
    LabScreen #lab-header {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    LabScreen #lab-title {
        width: 1fr;
    }
    LabScreen #lab-state {
        width: auto;
        margin-left: 2;
        text-style: bold;
        color: $accent;
    }
    LabScreen .lane-header {
        background: $panel;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),  # each screen binds it again, with its own help
        Binding("q", "leave", "Back", show=False),
        HELP_KEY,
    ]
    """The keys; those with help text are also the palette's commands (``keys.palette_entries``)."""

    FOOTER_LEFT_OUT_FIRST = ("reset", "toggle_lane", "choose", "toggle_optimizer", "toggle_mode")
    """Left out of a narrow footer first (``KeyFooter``): reset, then the digits (the lane list
    shows each lane's digit), then the batch modes; each stays in the palette."""

    DIGIT_KEYS: tuple[str, str] | None = None
    """``(action, description)`` of the screen's ``optimizer_digit_keys``, which are bound again
    for the registry as it is when the screen is made."""

    def __init__(self, *, training: SessionLink | None = None) -> None:
        super().__init__()
        self.training = training
        """The main session's link, for what a lab screen gives the experiment (``u``); None where the
        screen was opened without one (it then says it cannot)."""
        if self.DIGIT_KEYS is not None:
            # A class's bindings were made when its module loaded; this screen's own copy of them
            # (Textual's per-node map) gets the digits of the optimizers registered now, in place.
            for d in OPTIMIZER_DIGITS[len(optimizer_digits()):]:
                self._bindings.key_to_bindings.pop(d, None)
            for binding in optimizer_digit_keys(*self.DIGIT_KEYS):
                self._bindings.key_to_bindings[binding.key] = [binding]

    @staticmethod
    def compose_header() -> ComposeResult:
        """The header line: what runs on what (left, cut to fit) and the state (right, always whole)."""
        with Horizontal(id="lab-header"):
            yield Static(id="lab-title")
            yield Static(id="lab-state")

    _header: tuple[list[Part], str] | None = None

    @while_shown
    def set_header(self, title: list[Part], state: str) -> None:
        """Show ``title`` fitted to what the state (always whole) leaves of the line."""
        self._header = (title, state)
        header = self.query_one("#lab-header")
        width = header.content_size.width or self.size.width - 2
        room = width - Text(state).cell_len - 2  # the state's left margin
        self.query_one("#lab-title", Static).update(fit_title(title, room))
        self.query_one("#lab-state", Static).update(state)

    async def _on_resize(self, event: events.Resize) -> None:
        """A resize (laid out at the terminal's size, ``AtAppSize``): then the header fitted again."""
        await super()._on_resize(event)
        if self._header is not None:
            self.call_after_refresh(self.refit_header)

    def refit_header(self) -> None:
        """Fit the header to the screen's width again (after a resize)."""
        if self._header is not None:
            self.set_header(*self._header)

    async def action_back(self) -> None:
        """Out of a field first; out of the screen when no field has focus."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
        else:
            await self.action_leave()

    async def action_leave(self) -> None:
        """Stop the work and go back to the main screen; a second request while the first waits
        for the worker does nothing (it would dismiss the main screen)."""
        if self.start_leaving():
            await self.stop_work()
            self.dismiss_when_on_top()

    def on_unmount(self) -> None:
        """Removed (dismissed, or taken off the stack some other way): nothing runs for it any more."""
        self.cancel_work()

    async def stop_work(self) -> None:
        """Stop whatever runs for this screen and wait until it has (overridden where something runs)."""
        self.cancel_work()

    def cancel_work(self) -> None:
        """Ask whatever runs for this screen to stop, without waiting (overridden where something runs)."""


class RaceLabScreen(TrainingHost, LabScreen):
    """A lab screen driven by a race (the race and the sweep): a ``RaceSession`` behind a ``TrainingLink``."""

    def __init__(self, *, training: SessionLink | None = None) -> None:
        super().__init__(training=training)
        self.link: TrainingLink | None = None
        """The current race's link; None until a race starts, and after a reset."""

    @property
    def snapshot(self) -> RaceSnapshot | None:
        """The latest progress shown."""
        return None if self.link is None else self.link.last

    @property
    def race(self) -> Race | None:
        """The current race, once built (only its worker touches it while it runs)."""
        return None if self.link is None else self.link.controller.race

    @property
    def running(self) -> bool:
        """Whether the race's worker runs (until its thread has left the race)."""
        return self.link is not None and self.link.running

    @property
    def stepping(self) -> bool:
        """Whether a thread is inside the race now (the worker's state may say cancelled before its
        thread has left, e.g. once the screen is removed)."""
        return self.link is not None and self.link.controller.stepping

    @property
    def done(self) -> bool:
        return self.snapshot is not None and self.snapshot.results is not None

    def start_race(self, build: Callable[[], Race]) -> None:
        """Start (or resume) the race; ``build`` makes it on the worker if there is none yet."""
        if self.link is None:
            self.link = TrainingLink(self, RaceSession(build), "lab-race")
            self.link.subscribe(self, self._progress)
            self.link.subscribe_end(self, self._ended)
        self.link.start()

    def cancel_work(self) -> None:
        if self.link is not None:
            self.link.stop_soon()

    async def stop_work(self) -> None:
        """Stop the race and wait until its worker thread has left it (a step at most)."""
        if self.link is not None:
            await self.link.stop()

    async def reset_race(self) -> None:
        """Forget the race: the next start builds a new one from the current settings."""
        await self.stop_work()
        self._drop_link()

    def _drop_link(self) -> None:
        if self.link is not None:
            self.link.forget()  # anything still queued from it is dropped
            self.link = None
            self.refresh_bindings()

    @while_shown
    def _progress(self, snapshot: RaceSnapshot) -> None:
        self.show_progress(snapshot)

    @while_shown
    def _ended(self, error: BaseException | None) -> None:
        """A run of the race ended: after an error, say so and forget the race."""
        if error is None:
            if self.snapshot is not None:
                self.show_progress(self.snapshot)  # the state in the header: paused or done now
            self.refresh_bindings()  # keys for a finished race (u) show in the footer
            return
        text = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        self._drop_link()
        self.notify(text, title="The race could not run", severity="error", timeout=8)
        self.show_failed(text)

    def show_progress(self, snapshot: RaceSnapshot) -> None:
        """Show a snapshot (the UI thread)."""

    def show_failed(self, error: str) -> None:
        """Show that the race could not run."""
