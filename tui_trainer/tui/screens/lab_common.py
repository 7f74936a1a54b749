"""What the optimizer-lab screens share: lane colours and letters, explanations, and the race worker.

A race (and a learning-rate sweep, which is a race of one optimizer at many rates) is stepped by one thread
worker that checks its cancel flag between steps and posts :class:`RaceSnapshot` copies at most
``SNAPSHOT_INTERVAL`` apart; the UI thread never touches the race while that worker runs. Pausing stops the
worker; resuming starts a new one on the same race, which carries on where it was.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from dataclasses import dataclass
from time import monotonic
from typing import Any, Callable

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from ...experiments.config import ExperimentConfig
from ...engine.optimizers import OPTIMIZERS
from ...experiments.lab import Race
from ..guard import Guarded
from ..widgets.lane_colors import BLUE, CYAN, GREEN, GREY, MAGENTA, ORANGE, RED, RGB, WHITE, YELLOW, rgb
from ..widgets.lane_list import LaneSpec

SNAPSHOT_INTERVAL = 0.2
"""Seconds between two progress messages from a race worker (about 5 a second)."""

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


# --- race snapshots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LaneSnapshot:
    """One lane's progress, as copies: safe to keep on the UI thread."""

    label: str
    epochs: np.ndarray
    """Epochs at which ``costs`` were measured: 0 (the shared start), 1, 2, ..."""
    costs: np.ndarray
    """The cost over the training set at those epochs."""
    val_loss: float | None
    metric: float | None
    """Training accuracy or R^2 at the latest epoch end."""
    val_metric: float | None
    steps: int
    steps_per_epoch: int
    diverged: bool
    seconds_per_step: float | None


@dataclass(frozen=True)
class RaceSnapshot:
    """A race's progress (and, once finished, its results)."""

    generation: int
    """Which race this is (a reset starts a new one): messages from an older race are ignored."""
    progress: float
    initial_loss: float
    metric_name: str
    """``accuracy`` or ``r2``."""
    summary: str
    """The network, e.g. ``2 -> 16 -> 16 -> 1``."""
    lanes: tuple[LaneSnapshot, ...]
    results: tuple[dict[str, Any], ...] | None
    """``Race.results()`` once every lane is done; None before."""
    target: float | None = None
    """The target cost steps-to-target are counted to."""


class _Recorder:
    """Keeps each lane's epoch-end numbers as the race reports them (on the worker thread)."""

    def __init__(self, race: Race) -> None:
        self.curves: dict[str, list[tuple[int, float]]] = {lane.label: [(0, race.initial_loss)] for lane in race.lanes}
        self.latest: dict[str, Any] = {}
        race.on_epoch = self._on_epoch

    def _on_epoch(self, lane, record) -> None:
        self.curves[lane.label].append((record.epoch, record.train_loss))
        self.latest[lane.label] = record


def take_snapshot(race: Race, recorder: _Recorder, generation: int, *, final: bool) -> RaceSnapshot:
    """Copies of what the UI shows; ``final`` adds ``race.results()`` (it evaluates the networks)."""
    lanes = []
    for lane in race.lanes:
        curve = np.array(recorder.curves[lane.label], dtype=float)
        rec = recorder.latest.get(lane.label)
        t = lane.trainer
        lanes.append(LaneSnapshot(
            label=lane.label,
            epochs=curve[:, 0].copy(),
            costs=curve[:, 1].copy(),
            val_loss=None if rec is None else rec.val_loss,
            metric=None if rec is None else rec.train_metric,
            val_metric=None if rec is None else rec.val_metric,
            steps=t.step_count,
            steps_per_epoch=t.steps_per_epoch,
            diverged=lane.diverged,
            seconds_per_step=lane.seconds / t.step_count if t.step_count else None,
        ))
    results = tuple(race.results()) if final else None
    return RaceSnapshot(generation, race.progress, race.initial_loss, race.lanes[0].trainer.metric_name,
                        race.lanes[0].trainer.net.summary(), tuple(lanes), results, race.target_loss)


def steps_to(curve_epochs: np.ndarray, curve_costs: np.ndarray, steps_per_epoch: int, target: float) -> int | None:
    """Updates made when the epoch-end cost first reached ``target`` (as ``Lane.steps_to_target`` counts)."""
    reached = np.flatnonzero(curve_costs <= target)
    return None if not len(reached) else int(curve_epochs[reached[0]]) * steps_per_epoch


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


class LabScreen(Guarded, Screen):
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
    ]
    """The keys; those with help text are also the palette's commands (``keys.palette_entries``)."""

    @staticmethod
    def compose_header() -> ComposeResult:
        """The header line: what runs on what (left, cut to fit) and the state (right, always whole)."""
        with Horizontal(id="lab-header"):
            yield Static(id="lab-title")
            yield Static(id="lab-state")

    _header: tuple[list[Part], str] | None = None
    _leaving = False
    """Set by the first request to leave (or by the removal): the screen draws nothing more."""

    @property
    def shown(self) -> bool:
        """Whether the screen is still there to draw on: not leaving, and in the app's screen stack
        (a dismissed screen is out of it at once, before its widgets are removed)."""
        return not self._leaving and self.is_attached and self in self.app.screen_stack

    async def run_action(self, action: str, namespaces: Any = None) -> None:
        """Run ``action`` on this screen, unless the screen has left: the command palette holds on
        to the screen it listed its commands for, and may run one after the screen was taken off."""
        if self._leaving or not self.is_attached or self not in self.app.screen_stack:
            return
        await super().run_action(action, namespaces)

    @while_shown
    def set_header(self, title: list[Part], state: str) -> None:
        """Show ``title`` fitted to what the state (always whole) leaves of the line."""
        self._header = (title, state)
        header = self.query_one("#lab-header")
        width = header.content_size.width or self.size.width - 2
        room = width - Text(state).cell_len - 2  # the state's left margin
        self.query_one("#lab-title", Static).update(fit_title(title, room))
        self.query_one("#lab-state", Static).update(state)

    def on_resize(self) -> None:
        if self._header is not None:
            self.call_after_refresh(self._refit_header)

    def _refit_header(self) -> None:
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
        if self._leaving:
            return
        self._leaving = True
        await self.stop_work()
        self._dismiss_when_on_top()

    def _dismiss_when_on_top(self) -> None:
        """Dismiss this screen if it is the top one: ``dismiss`` pops whichever screen is on top, so
        with a palette or a dialog over this one it waits until that closes (``on_screen_resume``)."""
        if self.app.screen is self:
            self.dismiss()

    def on_screen_resume(self) -> None:
        if self._leaving and self.is_attached:
            self._dismiss_when_on_top()

    def on_unmount(self) -> None:
        """Removed (dismissed, or taken off the stack some other way): nothing runs for it any more."""
        self._leaving = True
        self.cancel_work()

    async def stop_work(self) -> None:
        """Stop whatever runs for this screen and wait until it has (overridden where something runs)."""
        self.cancel_work()

    def cancel_work(self) -> None:
        """Ask whatever runs for this screen to stop, without waiting (overridden where something runs)."""


class RaceLabScreen(LabScreen):
    """A lab screen driven by a :class:`Race` on a thread worker (the race and the sweep)."""

    class Progress(Message):
        """A copy of a race's progress, posted by the worker."""

        def __init__(self, snapshot: RaceSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RaceLabScreen.Progress) and message.snapshot.results is None

    class Failed(Message):
        """The race could not be built or stopped on an error."""

        def __init__(self, generation: int, error: str) -> None:
            super().__init__()
            self.generation = generation
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.race: Race | None = None
        """The current race; only the worker touches it while one runs."""
        self.generation = 0
        self.snapshot: RaceSnapshot | None = None
        """The latest progress shown."""
        self._recorder: _Recorder | None = None
        self._worker: Worker | None = None
        self._lock = threading.Lock()
        self._active = False
        """True while a worker thread is inside the race loop."""

    @property
    def stepping(self) -> bool:
        """Whether a worker thread is inside the race loop now (it steps the race and posts copies)."""
        return self._active

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.is_cancelled and not self._worker.is_finished

    @property
    def done(self) -> bool:
        return self.snapshot is not None and self.snapshot.results is not None

    def start_race(self, build: Callable[[], Race]) -> None:
        """Start (or resume) stepping: ``build`` makes the race on the worker if there is none yet."""
        self._worker = self._drive(build, self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lab-race")
    def _drive(self, build: Callable[[], Race], generation: int) -> None:
        """Runs on a thread: steps the race and posts copies, never touching a widget."""
        worker = get_current_worker()
        with self._lock:
            if worker.is_cancelled:
                return
            self._active = True
        try:
            if self.race is None:
                try:
                    race = build()
                except ValueError as exc:
                    self.post_message(self.Failed(generation, str(exc)))
                    return
                self._recorder = _Recorder(race)
                self.race = race
            race, recorder = self.race, self._recorder
            assert recorder is not None
            self.post_message(self.Progress(take_snapshot(race, recorder, generation, final=False)))
            last = monotonic()
            with np.errstate(all="ignore"):
                while not worker.is_cancelled:
                    if not race.step():
                        self.post_message(self.Progress(take_snapshot(race, recorder, generation, final=True)))
                        return
                    if monotonic() - last >= SNAPSHOT_INTERVAL:
                        last = monotonic()
                        self.post_message(self.Progress(take_snapshot(race, recorder, generation, final=False)))
            self.post_message(self.Progress(take_snapshot(race, recorder, generation, final=False)))
        except Exception as exc:  # noqa: BLE001 - shown to the user; the screen stays usable
            self.post_message(self.Failed(generation, f"{type(exc).__name__}: {exc}"))
        finally:
            with self._lock:
                self._active = False

    def cancel_work(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    async def stop_work(self) -> None:
        """Cancel the worker and wait until its thread has left the race (a step at most)."""
        self.cancel_work()
        deadline = monotonic() + 5.0
        while monotonic() < deadline:
            with self._lock:
                if not self._active:
                    break
            await asyncio.sleep(0.005)

    async def reset_race(self) -> None:
        """Forget the race: the next start builds a new one from the current settings."""
        await self.stop_work()
        self._worker = None
        self.race = None
        self._recorder = None
        self.snapshot = None
        self.generation += 1

    @while_shown
    def on_race_lab_screen_progress(self, message: Progress) -> None:
        if message.snapshot.generation != self.generation:
            return
        self.snapshot = message.snapshot
        self.show_progress(message.snapshot)

    @while_shown
    def on_race_lab_screen_failed(self, message: Failed) -> None:
        if message.generation != self.generation:
            return
        self.race = None
        self.notify(message.error, title="The race could not run", severity="error", timeout=8)
        self.show_failed(message.error)

    def show_progress(self, snapshot: RaceSnapshot) -> None:
        """Show a snapshot (the UI thread)."""

    def show_failed(self, error: str) -> None:
        """Show that the race could not run."""
