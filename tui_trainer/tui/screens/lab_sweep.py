"""The learning-rate sweep: short trainings at log-spaced rates, final cost against the rate.

Too high a rate diverges (marked ``x`` on the top edge), too low a one barely moves from the start (the dim
line): the plot shows both, and the rate in between that ``tui_trainer.experiments.lab.suggest_lr`` picks.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select, Static

from ...experiments.config import ExperimentConfig, with_overrides
from ...engine.numbers import compact, figure
from ...engine.optimizers import OPTIMIZERS
from ...experiments.hparam_text import parse_positive
from ...experiments.lab import SWEEP_TOLERANCE, ended_diverged, suggest_lr, sweep_lrs, sweep_race
from ...experiments.race_session import RaceSnapshot
from ...experiments.wording import plural
from ..widgets.lane_colors import CYAN, DARK_GREY, GREEN, RED, rgb
from ..widgets.multi_plot import Curve, MultiPlot, PlotMark, PlotOptions
from ..keys import key
from ..training import SessionLink
from ..widgets.safe_select import SafeSelect
from ..widgets.key_footer import KeyFooter
from .lab_common import (
    optimizer_digit_keys,
    RaceLabScreen,
    Part,
    experiment_parts,
    while_shown,
)

SWEEP_EPOCHS = 10
"""Epochs per rate when the experiment asks for more: a sweep is many short trainings."""
SWEEP_RANGE = (1e-5, 10.0, 13)
"""Lowest rate, highest rate, number of rates."""
CURVE_COLOR = CYAN
DIVERGED_COLOR = RED
SUGGESTED_COLOR = GREEN
START_COLOR = DARK_GREY


def _lr_label(lr: float) -> str:
    """``1e-5``, ``3.2e-4``, ``0.01``, ``10``: short tick and table labels."""
    return compact(lr, 2)


class SweepScreen(RaceLabScreen):
    """Short trainings of one optimizer at many learning rates, from the same weights on the same batches."""

    DEFAULT_CSS = """
    SweepScreen #sweep-controls {
        height: 1;
        padding: 0 1;
    }
    SweepScreen #sweep-controls Label {
        color: $text-muted;
        margin-right: 1;
    }
    SweepScreen #sweep-controls Input {
        width: 7;
        margin-right: 2;
    }
    SweepScreen #sweep-optimizer {
        width: 14;
        margin-right: 2;
    }
    SweepScreen #sweep-body {
        height: 1fr;
    }
    SweepScreen #sweep-table {
        width: 27;
        padding: 0 1;
        border-left: solid $primary 30%;
    }
    SweepScreen #lab-explain {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    """

    DIGIT_KEYS = ("choose", "Optimizer")

    BINDINGS = [
        key("space", "toggle", "Run/pause", title="Run / pause the sweep",
            help="Short trainings at every rate, side by side"),
        key("r", "reset", "Reset", title="Reset the sweep", help="Forget the results; space runs it again"),
        key("l", "toggle_log", "Log", show=False, title="Log scale",
            help="Final cost on a logarithmic axis, or a linear one"),
        *optimizer_digit_keys("choose", "Optimizer"),
        key("u", "use_lr", "Use lr", title="Use the suggested learning rate",
            help="Train the current experiment at the rate the sweep suggests (a live change)"),
        key("escape", "back", "Back", help="Back to the main screen (stops the sweep)"),
    ]

    def __init__(self, config: ExperimentConfig, optimizer: str | None = None, *,
                 training: SessionLink | None = None) -> None:
        super().__init__(training=training)
        self.config = config
        name = optimizer or config.optimizer.name
        self.optimizer = name if name in OPTIMIZERS else "adam"
        self.epochs = min(config.training.epochs, SWEEP_EPOCHS)
        self.low, self.high, self.points = SWEEP_RANGE
        self.log_scale = True
        self._settings = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="sweep-controls"):
            yield SafeSelect([(name, name) for name in OPTIMIZERS], value=self.optimizer, allow_blank=False,
                            compact=True, id="sweep-optimizer")
            yield Label("from")
            yield Input(_lr_label(self.low), compact=True, id="sweep-low", select_on_focus=True)
            yield Label("to")
            yield Input(_lr_label(self.high), compact=True, id="sweep-high", select_on_focus=True)
            yield Label("rates")
            yield Input(str(self.points), compact=True, id="sweep-points", restrict=r"\d*")
            yield Label("epochs")
            yield Input(str(self.epochs), compact=True, id="sweep-epochs", restrict=r"\d*")
        with Horizontal(id="sweep-body"):
            yield MultiPlot(id="sweep-plot", hint="space: run the sweep")
            yield Static(id="sweep-table")
        yield Static(id="lab-explain")
        yield KeyFooter()

    @while_shown  # a screen popped as soon as it was pushed (the palette can) mounts all the same
    def on_mount(self) -> None:
        self._refresh_all()

    def _refresh_all(self) -> None:
        self._show_header()
        self._plot(self.snapshot)
        self._table(self.snapshot)
        self._explain(self.snapshot)

    # -- settings ---------------------------------------------------------------------------------

    def _read(self) -> list[str]:
        """Read the fields into the settings; the problems, also marked on the fields."""
        problems = []

        def read(field_id: str, what: str, *, whole: bool = False):
            field = self.query_one(field_id, Input)
            try:
                value = parse_positive(field.value, what, whole=whole)
            except ValueError as exc:
                field.add_class("-invalid")
                problems.append(str(exc))
                return None
            field.remove_class("-invalid")
            return value

        low = read("#sweep-low", "the lowest rate")
        high = read("#sweep-high", "the highest rate")
        points = read("#sweep-points", "rates", whole=True)
        epochs = read("#sweep-epochs", "epochs", whole=True)
        if low is not None and high is not None and low >= high:
            problems.append(f"the lowest rate ({low:g}) must be below the highest ({high:g})")
        elif points is not None and points < 2:
            problems.append("a sweep needs at least 2 rates")
        if not problems:
            self.low, self.high, self.points, self.epochs = low, high, points, epochs
        return problems

    def _settings_key(self):
        return (self.optimizer, self.low, self.high, self.points, self.epochs)

    async def _settings_changed(self) -> None:
        if self._read():
            return
        if self._settings_key() != self._settings and (self.race is not None or self.snapshot is not None):
            await self.reset_race()
            self._settings = None
        self._refresh_all()

    @on(Input.Submitted)
    @on(Input.Blurred)
    @while_shown
    async def _field_entered(self, event) -> None:
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        await self._settings_changed()

    @on(Select.Changed, "#sweep-optimizer")
    @while_shown
    async def _optimizer_chosen(self, event: Select.Changed) -> None:
        if event.value in OPTIMIZERS and event.value != self.optimizer:
            self.optimizer = str(event.value)
            await self._settings_changed()

    # -- actions ----------------------------------------------------------------------------------

    async def action_toggle(self) -> None:
        if self.running:
            await self.stop_work()
            self._show_header()
            return
        problems = self._read()
        if problems:
            self.notify("\n".join(problems), title="Cannot start the sweep", severity="error", timeout=6)
            return
        if self.done or self._settings_key() != self._settings:
            await self.reset_race()
        self._settings = self._settings_key()
        config, name, epochs = self.config, self.optimizer, self.epochs
        lrs = sweep_lrs(self.low, self.high, self.points)
        self.start_race(lambda: sweep_race(config, name, lrs, epochs))
        self._show_header()

    async def action_reset(self) -> None:
        await self.reset_race()
        self._settings = None
        self._refresh_all()

    def action_choose(self, number: int) -> None:
        names = list(OPTIMIZERS)
        if 1 <= number <= len(names):
            self.query_one("#sweep-optimizer", Select).value = names[number - 1]

    def action_use_lr(self) -> None:
        """Apply the suggested rate to the main experiment (when it trains with the swept optimizer)."""
        lr = self._suggested(self.snapshot) if self.done else None
        if lr is None:
            why = "every rate diverged" if self.done else "run the sweep to the end first (space)"
            self.notify(f"No suggested learning rate: {why}", title="Nothing to use", severity="warning")
            return
        if self.training is None:
            self.notify("This screen was opened without the main experiment.", title="Not applied", severity="warning")
            return
        session = self.training.session
        current = session.config.optimizer.name
        if current != self.optimizer:
            self.notify(f"The sweep is of {self.optimizer}, the experiment trains with {current}: "
                        f"sweep {current}, or switch the experiment's optimizer first",
                        title="Not applied", severity="warning", timeout=6)
            return
        self.training.apply_live(with_overrides(session.config, lr=lr))
        self.notify(f"learning rate {_lr_label(lr)} applied to the experiment ({current})", title="Used")

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self._plot(self.snapshot)

    async def stop_work(self) -> None:
        await super().stop_work()
        if self.is_mounted:
            self._show_header()

    # -- showing ----------------------------------------------------------------------------------

    def show_progress(self, snapshot: RaceSnapshot) -> None:
        self._refresh_all()

    def show_failed(self, error: str) -> None:
        self._show_header()

    def _show_header(self) -> None:
        snap = self.snapshot
        if snap is None:
            state = "ready: space starts"
        elif snap.results is not None:
            state = "done"
        else:
            state = f"{'running' if self.running else 'paused'} {snap.progress:.0%}"
        epochs = plural(self.epochs, "epoch")
        self.set_header([
            Part("LR sweep", style="bold"), Part(self.optimizer),
            *experiment_parts(self.config, snap.summary if snap else None),
            Part(f"batch {self.config.training.batch_size}", drop=1),
            Part(f"{epochs} per rate", f"{epochs} each", drop=2),
        ], state)

    def _runs(self, snap: RaceSnapshot) -> list[dict]:
        """Per rate: lr, the latest cost (final once done) and whether it diverged, lowest rate first."""
        lrs = sweep_lrs(self.low, self.high, self.points) if snap.results is None else [r["lr"] for r in snap.results]
        runs = []
        for lr, lane in zip(lrs, snap.lanes):
            cost = None if lane.diverged else float(lane.costs[-1])
            if snap.results is not None:
                cost = snap.results[len(runs)]["final_loss"]
            diverged = ended_diverged(lane.diverged, cost, snap.initial_loss)
            runs.append({"lr": lr, "final_loss": cost, "diverged": diverged, "steps": lane.steps})
        return runs

    def _suggested(self, snap: RaceSnapshot | None) -> float | None:
        if snap is None or snap.results is None:
            return None
        return suggest_lr(list(snap.results), snap.initial_loss)

    def _plot(self, snap: RaceSnapshot | None) -> None:
        lrs = sweep_lrs(self.low, self.high, self.points)
        ticks = [math.log10(lr) for lr in lrs]
        options = PlotOptions(log_y=self.log_scale, x_label="learning rate", y_label="final cost",
                              x_ticks=(tuple(ticks), tuple(_lr_label(lr) for lr in lrs)),
                              x_range=(ticks[0] - 0.15, ticks[-1] + 0.15))
        plot = self.query_one(MultiPlot)
        if snap is None:
            plot.update_plot([], options)
            return
        runs = self._runs(snap)
        ok = [r for r in runs if not r["diverged"]]
        color = CURVE_COLOR
        x = np.array([math.log10(r["lr"]) for r in ok])
        y = np.array([r["final_loss"] for r in ok], dtype=float)
        series = [Curve(x, y, color, marker="o", name=f"{self.optimizer}: cost after {plural(self.epochs, 'epoch')}")]
        if len(ok):
            series.append(Curve(x, y, color, marker="o", lines=False, name="rates"))
        marks = tuple(PlotMark(math.log10(r["lr"]), None, "x", DIVERGED_COLOR) for r in runs if r["diverged"])
        suggested = self._suggested(snap)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"o {self.optimizer}", style=f"bold {rgb(color)}")
        title.append("  ")
        title.append("x diverged", style=f"bold {rgb(DIVERGED_COLOR)}")
        title.append("  ")
        title.append("─ start", style=rgb(START_COLOR))
        if suggested is not None:
            title.append("  ")
            title.append(f"│ pick {_lr_label(suggested)}", style=f"bold {rgb(SUGGESTED_COLOR)}")
        options = replace(options, marks=marks, title=title, hline=(snap.initial_loss, START_COLOR),
                          vline=None if suggested is None else (math.log10(suggested), SUGGESTED_COLOR))
        plot.update_plot(series, options, live=self.running and snap.results is None)

    def _table(self, snap: RaceSnapshot | None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{'lr':<8}{'cost':>9}\n", style="bold")
        if snap is None:
            for lr in sweep_lrs(self.low, self.high, self.points):
                text.append(f"{_lr_label(lr):<8}{'·':>9}\n", style="dim")
        else:
            suggested = self._suggested(snap)
            for run in self._runs(snap):
                text.append(f"{_lr_label(run['lr']):<8}")
                if run["diverged"]:
                    text.append(f"{figure(run['final_loss'], 3):>9}", style="dim")
                    text.append(" x", style=f"bold {rgb(DIVERGED_COLOR)}")
                else:
                    text.append(f"{figure(run['final_loss'], 4):>9}")
                    if suggested is not None and run["lr"] == suggested:
                        text.append(" ◀ pick", style=f"bold {rgb(SUGGESTED_COLOR)}")
                text.append("\n")
        text.rstrip()
        self.query_one("#sweep-table", Static).update(text)

    def _explain(self, snap: RaceSnapshot | None) -> None:
        explain = self.query_one("#lab-explain", Static)
        if snap is None or snap.results is None:
            text = Text(f"Each rate trains {plural(self.epochs, 'epoch')} from the same weights on the same batches. ")
            text.append("Too high diverges, too low crawls: watch where the curve bends. ", style="dim")
            text.append(f"\n{self.optimizer}: {OPTIMIZERS[self.optimizer].summary}", style="dim")
            explain.update(text)
            return
        suggested = self._suggested(snap)
        diverged = [_lr_label(r["lr"]) for r in self._runs(snap) if r["diverged"]]
        text = Text()
        if suggested is None:
            text.append("Every rate diverged: ", style=f"bold {rgb(DIVERGED_COLOR)}")
            text.append("lower the range.")
        else:
            text.append(f"Suggested lr {_lr_label(suggested)}", style=f"bold {rgb(SUGGESTED_COLOR)}")
            text.append(f": the smallest rate whose cost came within {SWEEP_TOLERANCE:.0%} of the best rate's "
                        "gain; higher rates gain little and risk diverging, lower ones crawl.")
        if diverged:
            text.append("\nDiverged (overflowed, or ended above the start cost): ", style="dim")
            text.append(", ".join(diverged), style=rgb(DIVERGED_COLOR))
        explain.update(text)
