"""The loss-surface playground: optimizers walking 2-D functions, drawn over a heatmap of the function.

Every path is made by the engine's own optimizer classes through ``surfaces.descend``, from the same start.
A step costs microseconds, so playing runs on a UI timer: a few updates per tick, twenty ticks a second.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from ...engine import optimizers
from ...engine.numbers import figure
from ...engine.surfaces import SURFACES, Surface, descend, path_result
from ..widgets.lane_list import LaneList
from ..widgets.surface_map import SurfaceMap, TracedPath
from ..keys import key
from ..widgets.safe_select import SafeSelect
from ..widgets.key_footer import KeyFooter
from .lab_common import (LabScreen, Part, optimizer_digit_keys, optimizer_explanation, optimizer_specs,
                         while_shown)

TICK = 1 / 20
"""Seconds between two frames while playing."""
PLAY_SECONDS = 8.0
"""About how long playing a surface's default number of updates takes."""
NEAR = 0.05
"""A path this close to a minimum has found it (marked ★ global or ☆ local in its line)."""
WIDE_FROM = 110
"""From this many columns on, the panel is wider."""
PANEL_WIDTH, WIDE_PANEL_WIDTH = 42, 50
PANEL_FRAME = 3
"""Columns of the panel that its text does not get: its padding and its border."""


def parse_point(text: str) -> tuple[float, float]:
    """``-1.2, 1`` -> (-1.2, 1.0), or ``ValueError`` saying what to type."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"start must be two numbers 'x, y', got {text.strip()!r}") from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ValueError(f"start must be finite, got {text.strip()!r}")
    return x, y


def _point_text(point: tuple[float, float]) -> str:
    return f"{point[0]:g}, {point[1]:g}"


class _Walker:
    """One optimizer's path on the surface: its generator and the points it has visited (UI thread only)."""

    def __init__(self, surface: Surface, name: str, lr: float, start: tuple[float, float]) -> None:
        self.lr = lr
        self.path = descend(surface, optimizers.create(name, lr=lr), start)
        self.points: list[np.ndarray] = [next(self.path)]
        self.diverged = False

    def advance(self, steps: int) -> None:
        for _ in range(steps):
            point = next(self.path, None)
            if point is None:
                self.diverged = True
                return
            self.points.append(point)


class SurfaceScreen(LabScreen):
    """Optimizer paths on a 2-D surface: play / step / reset, a learning rate per optimizer, a start point."""

    DEFAULT_CSS = """
    SurfaceScreen #surface-panel {
        width: %d;
        padding: 0 1;
        border-right: solid $primary 30%%;
    }
    SurfaceScreen #surface-controls {
        height: 1;
    }
    SurfaceScreen #surface-controls Label {
        color: $text-muted;
        margin: 0 1;
    }
    SurfaceScreen #surface-choice {
        width: 19;
    }
    SurfaceScreen #surface-start {
        width: 1fr;
    }
    SurfaceScreen #surface-status {
        height: 1;
        background: $panel;
    }
    SurfaceScreen #lab-explain {
        height: 1fr;
    }
    SurfaceScreen SurfaceMap {
        margin-left: 1;
    }
    SurfaceScreen LaneList .lane-lr {
        width: 7;
    }
    SurfaceScreen.-wide #surface-panel {
        width: %d;
    }
    """ % (PANEL_WIDTH, WIDE_PANEL_WIDTH)

    DIGIT_KEYS = ("toggle_lane", "On/off")

    BINDINGS = [
        key("space", "toggle", "Play/pause", title="Play / pause",
            help="Every optimizer walks a few updates per frame"),
        key("n", "step", "Step", title="One step", help="One update for every optimizer"),
        key("e", "to_end", "To end", title="To the end", help="Jump to the surface's default number of updates"),
        key("r", "reset", "Reset", title="Reset the paths", help="Back to the start point"),
        key("left_square_bracket", "surface(-1)", "Surface", key_display="[ ]"),
        key("right_square_bracket", "surface(1)", "Surface", show=False, key_display="]", title="Next surface",
            help="Rosenbrock, Beale, saddle, ill-conditioned, two wells"),
        *optimizer_digit_keys("toggle_lane", "On/off"),
        key("up", "highlight(-1)", "Previous", show=False),
        key("down", "highlight(1)", "Next", show=False),
        key("escape", "back", "Back", help="Back to the main screen"),
    ]

    FOOTER_LEFT_OUT_FIRST = (*LabScreen.FOOTER_LEFT_OUT_FIRST, "step", "to_end")
    """A narrow footer keeps [ ] Surface: one step and To end go before it."""

    def __init__(self, surface: str = "rosenbrock") -> None:
        super().__init__()
        self.surface = SURFACES[surface]
        self.start = tuple(self.surface.start)
        self.step_count = 0
        self.walkers: dict[str, _Walker] = {}
        self.playing = False
        self._timer = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="surface-body"):
            with Vertical(id="surface-panel"):
                with Horizontal(id="surface-controls"):
                    yield SafeSelect([(name, name) for name in SURFACES], value=self.surface.name, allow_blank=False,
                                    compact=True, id="surface-choice")
                    yield Label("start")
                    yield Input(_point_text(self.start), compact=True, id="surface-start", select_on_focus=True)
                yield LaneList(optimizer_specs(self.surface.default_lr), header=self._lane_header())
                yield Static(id="surface-status")
                yield Static(id="lab-explain")
            yield SurfaceMap(self.surface, start=self.start)
        yield KeyFooter()

    @while_shown  # a screen popped as soon as it was pushed (the palette can) mounts all the same
    def on_mount(self) -> None:
        self._timer = self.set_interval(TICK, self.tick, pause=True, name="surface play")
        self._layout_for(self.size.width)
        self._rebuild()
        self._explain()

    def on_resize(self, event) -> None:
        self._layout_for(self.app.size.width)  # not the event's: it may be a stale one (see LabScreen)
        if self._timer is not None:  # mounted: the status line's wording follows the panel's width
            self._status()

    def _layout_for(self, width: int) -> None:
        self.set_class(width >= WIDE_FROM, "-wide")

    @property
    def _status_room(self) -> int:
        """Columns for the status line (from the terminal's width: the panel may not be laid out yet)."""
        return (WIDE_PANEL_WIDTH if self.app.size.width >= WIDE_FROM else PANEL_WIDTH) - PANEL_FRAME

    @staticmethod
    def _lane_header() -> Text:
        return Text(f"{'':4}{'optimizer':<11}{'lr':<8}{'f(x,y)':>7}{'dist':>7}", no_wrap=True, overflow="ellipsis")

    @property
    def steps_per_tick(self) -> int:
        return max(1, round(self.surface.steps * TICK / PLAY_SECONDS))

    @property
    def finished(self) -> bool:
        return self.step_count >= self.surface.steps

    # -- paths ------------------------------------------------------------------------------------

    def _rebuild(self) -> bool:
        """New walkers from the start with the lanes' learning rates; False (and why, inline) if one is bad."""
        self._pause()
        lanes = self.query_one(LaneList)
        lrs, problems = lanes.learning_rates()
        self.step_count = 0
        self.walkers = {}
        if not problems:
            self.walkers = {name: _Walker(self.surface, name, lr, self.start) for name, lr in lrs.items()}
        self._show()
        return not problems

    def advance(self, steps: int) -> None:
        """Move every walker ``steps`` updates on (``n`` is one; a play tick is several)."""
        steps = max(0, steps)
        for walker in self.walkers.values():
            walker.advance(steps)
        self.step_count += steps
        self._show()

    @while_shown
    def tick(self) -> None:
        """One beat of play: the updates a tick makes at the current speed."""
        self.advance(min(self.steps_per_tick, self.surface.steps - self.step_count))
        if self.finished:
            self._pause()
            self._show()

    def _pause(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.pause()

    # -- showing ----------------------------------------------------------------------------------

    def _show(self) -> None:
        lanes = self.query_one(LaneList)
        paths = {}
        for spec in lanes.specs:
            walker = self.walkers.get(spec.key)
            if walker is None:
                lanes.set_result(spec.key, "")
                continue
            points = np.array(walker.points)
            paths[spec.key] = TracedPath(spec.letter, spec.color, points)
            result = path_result(self.surface, points, len(points) - 1)
            text = Text(no_wrap=True, overflow="ellipsis")
            if walker.diverged:
                text.append(f"✗ diverged at {len(points) - 1}", style="bold red")
            else:
                distance = "–" if result.distance is None else f"{result.distance:.3f}"
                text.append(f"{figure(result.final_value, 3):>7}{distance:>7}")
                if result.nearest is not None and result.distance is not None and result.distance < NEAR:
                    text.append(" ★" if result.nearest == "global" else " ☆",
                                style="bold green" if result.nearest == "global" else "bold yellow")
            lanes.set_result(spec.key, text)
        self.query_one(SurfaceMap).set_paths(paths)
        self._status()

    def _status(self) -> None:
        step = f"step {self.step_count}/{self.surface.steps}"
        if self.playing:
            forms = ["playing"]
        elif self.step_count == 0:
            forms = ["ready: space plays, n steps", "space plays, n steps", "space plays"]
        elif self.finished:
            forms = ["done: space replays", "done"]
        else:
            forms = ["paused"]
        room = self._status_room - len(step) - len(" · ")
        state = next((form for form in forms if len(form) <= room), forms[-1])  # the longest that fits
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(step, style="bold")
        text.append(f" · {state}")
        self.query_one("#surface-status", Static).update(text)
        rate = f"{self.steps_per_tick * round(1 / TICK)} updates/s"
        self.set_header([
            Part("Loss surface", style="bold"), Part(self.surface.name),
            Part(f"start ({_point_text(self.start)})", drop=2),
            Part(f"plays {rate}", rate, drop=1),
        ], f"step {self.step_count}/{self.surface.steps}")

    def _explain(self) -> None:
        name = self.query_one(LaneList).highlighted
        text = optimizer_explanation(name)
        text.append(f"\n\n{self.surface.name}: ", style="bold")
        text.append(self.surface.description, style="dim")
        self.query_one("#lab-explain", Static).update(text)

    # -- actions ----------------------------------------------------------------------------------

    def action_toggle(self) -> None:
        if self.playing:
            self._pause()
            self._status()
            return
        if self.finished or not self.walkers:
            if not self._rebuild():
                self.notify("Fix the highlighted learning rates first.", severity="error", timeout=4)
                return
        self.playing = True
        self._timer.resume()
        self._status()

    def action_step(self) -> None:
        self._pause()
        if not self.walkers and not self._rebuild():
            return
        self.advance(1)

    def action_to_end(self) -> None:
        """Jump to the surface's default number of updates."""
        self._pause()
        if not self.walkers and not self._rebuild():
            return
        self.advance(self.surface.steps - self.step_count)

    def action_reset(self) -> None:
        self._rebuild()

    def action_surface(self, delta: int) -> None:
        names = list(SURFACES)
        choice = self.query_one("#surface-choice", Select)
        choice.value = names[(names.index(self.surface.name) + delta) % len(names)]

    def action_toggle_lane(self, number: int) -> None:
        self.query_one(LaneList).toggle(number)

    def action_highlight(self, delta: int) -> None:
        self.query_one(LaneList).move_highlight(delta)

    def cancel_work(self) -> None:
        self._pause()

    # -- settings ---------------------------------------------------------------------------------

    @on(Select.Changed, "#surface-choice")
    @while_shown
    def _surface_chosen(self, event: Select.Changed) -> None:
        if event.value not in SURFACES or event.value == self.surface.name:
            return
        self.surface = SURFACES[str(event.value)]
        self.start = tuple(self.surface.start)
        self.query_one("#surface-start", Input).value = _point_text(self.start)
        lanes = self.query_one(LaneList)
        for spec in lanes.specs:
            lanes.set_lr(spec.key, self.surface.default_lr(spec.key))
        self.query_one(SurfaceMap).set_surface(self.surface, self.start)
        self._rebuild()
        self._explain()

    @on(Input.Submitted, "#surface-start")
    @on(Input.Blurred, "#surface-start")
    @while_shown
    def _start_entered(self, event) -> None:
        field = self.query_one("#surface-start", Input)
        try:
            start = parse_point(field.value)
        except ValueError as exc:
            field.add_class("-invalid")
            self.query_one("#surface-status", Static).update(Text(f"✗ {exc}", style="bold red"))
            return
        field.remove_class("-invalid")
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        if start != self.start:
            self.start = start
            self.query_one(SurfaceMap).set_surface(self.surface, start)
            self._rebuild()

    @on(LaneList.Changed)
    @while_shown
    def _lanes_changed(self, event: LaneList.Changed) -> None:
        """A lane switched on or off, or a new rate: the other paths go on where they are (playing or not);
        a lane switched on or given a new rate walks its path up to the same step at once. A bad rate
        stops everything (the lane's line says why)."""
        lrs, problems = self.query_one(LaneList).learning_rates()
        if problems:
            self._rebuild()
            return
        if lrs == {name: walker.lr for name, walker in self.walkers.items()}:
            return
        walkers = {}
        for name, lr in lrs.items():
            walker = self.walkers.get(name)
            if walker is None or walker.lr != lr:
                walker = _Walker(self.surface, name, lr, self.start)
                walker.advance(self.step_count)
            walkers[name] = walker
        self.walkers = walkers
        self._show()

    @on(LaneList.Highlighted)
    @while_shown
    def _highlighted(self, event: LaneList.Highlighted) -> None:
        self._explain()
