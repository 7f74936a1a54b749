"""The optimizer race: several optimizers (or the batch modes of one) trained side by side.

Every lane starts from the same weights and sees the same batches in the same order (``tui_trainer.experiments.lab.Race``),
so the curves differ only by what is compared. The plot overlays each lane's cost at each epoch's end, along
epochs, updates, training samples seen or seconds of training (``x`` cycles them); the lane list is the legend
and the results table at once.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from ...experiments.config import ExperimentConfig
from ...engine.numbers import DASH, figure
from ...engine.optimizers import OPTIMIZERS
from ...experiments.hparam_text import hparams_hint, hparams_text, parse_hparams, parse_positive
from ...experiments.lab import Race, RaceEntry, auto_target, batch_mode_label, race_lr
from ...experiments.race_session import X_AXES, RaceSnapshot
from ...experiments.wording import plural
from ..widgets.lane_colors import rgb
from ..widgets.lane_list import LaneList, LaneSpec
from ..widgets.multi_plot import Curve, MultiPlot, PlotOptions
from ..keys import key
from ..training import SessionLink
from ..widgets.key_footer import KeyFooter
from .lab_common import (
    use_optimizer,
    OPTIMIZER_DIGITS,
    digit_range,
    optimizer_digit_keys,
    BATCH_MODE_STYLE,
    BATCH_MODE_TEXT,
    RaceLabScreen,
    Part,
    experiment_parts,
    optimizer_explanation,
    optimizer_rule,
    optimizer_specs,
    while_shown,
)

RACE_EPOCHS = 30
"""Epochs a race runs when the experiment asks for more: enough to tell optimizers apart, quick to watch."""
DEFAULT_MINI_BATCH = 32
START_HINT = "space: start the race"
AXIS_TEXT = {
    # axis: (the x axis's title, the header's word for it, the to-target column's unit)
    "epoch": ("epoch", None, "to "),
    "updates": ("updates", Part("x: updates"), "to "),
    "samples": ("samples seen", Part("x: samples seen", "x: samples"), "smp→"),
    "seconds": ("seconds of training", Part("x: seconds"), "s→"),
}
"""How each of ``X_AXES`` is told: the race is measured at each epoch's end, along this axis."""
STARTING_HINT = "starting the race: every lane from the same weights"


class RaceScreen(RaceLabScreen):
    """Race optimizers (``m``: the batch modes of one) from the same weights on the same batches."""

    freeze_timings = False
    """Show ``--`` instead of the time per update (snapshot tests set it: timings are not reproducible)."""

    DEFAULT_CSS = """
    RaceScreen #race-plot {
        height: 1fr;
        min-height: 6;
    }
    RaceScreen LaneList {
        padding: 0 0 0 1;
    }
    RaceScreen #race-batch {
        display: none;
    }
    RaceScreen.-batch #race-batch {
        display: block;
    }
    RaceScreen.-batch #race-optimizers {
        display: none;
    }
    RaceScreen #lab-explain {
        height: auto;
        max-height: 5;
        padding: 0 1;
    }
    RaceScreen #race-controls {
        height: 1;
        padding: 0 1;
    }
    RaceScreen #race-controls Label {
        color: $text-muted;
        margin-right: 1;
    }
    RaceScreen #race-controls Input {
        margin-right: 2;
    }
    RaceScreen #race-hparams {
        width: 1fr;
    }
    RaceScreen #race-epochs {
        width: 6;
    }
    RaceScreen #race-target {
        width: 8;
    }
    """

    DIGIT_KEYS = ("toggle_lane", "On/off")

    BINDINGS = [
        key("space", "toggle", "Run/pause", title="Run / pause the race",
            help="Every lane one update in turn, on a worker"),
        key("r", "reset", "Reset", title="Reset the race", help="A new race from the same weights and settings"),
        key("m", "toggle_mode", "Batch modes", title="Race batch modes",
            help="Full / mini / single batch for the highlighted optimizer"),
        key("l", "toggle_log", "Log", show=False, title="Log scale", help="Plot the cost on a logarithmic axis"),
        key("x", "cycle_axis", "X axis", show=False, title="Plot along epochs / updates / samples / seconds",
            help="The x axis, and the unit of the to-target column: epochs, updates, training samples seen, "
                 "or seconds of each lane's own training"),
        *optimizer_digit_keys("toggle_lane", "On/off"),
        key("u", "use_best", "Use best", title="Use the best lane",
            help="Train the current experiment with the finished race's best optimizer and rate (a live change)"),
        key("up", "highlight(-1)", "Previous", show=False),
        key("down", "highlight(1)", "Next", show=False),
        key("escape", "back", "Back", help="Back to the main screen (stops the race)"),
    ]

    def __init__(self, config: ExperimentConfig, *, training: SessionLink | None = None) -> None:
        super().__init__(training=training)
        self.config = config
        self.epochs = min(config.training.epochs, RACE_EPOCHS)
        batch = config.training.batch_size
        self.mini_batch = batch if isinstance(batch, int) and batch > 1 else DEFAULT_MINI_BATCH
        self.mode = "optimizers"
        """``optimizers`` or ``batch`` (the batch modes of ``batch_optimizer``)."""
        self.batch_optimizer = config.optimizer.name if config.optimizer.name in OPTIMIZERS else "adam"
        self.hparams: dict[str, dict[str, Any]] = {name: {} for name in OPTIMIZERS}
        """Per optimizer, the hyperparameters set apart from its defaults."""
        self.target: float | None = None
        """The target cost typed in; None: ``auto_target`` of the results."""
        self.log_scale = False
        self.x_axis = "epoch"
        """What the plot's x axis and the to-target column measure: one of ``X_AXES``."""
        self._settings: Any = None

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield MultiPlot(id="race-plot", hint=START_HINT)
        yield LaneList(optimizer_specs(lambda name: race_lr(name, None)), id="race-optimizers",
                       header=self._lane_header())
        yield LaneList(self._batch_specs(), id="race-batch", header=self._lane_header(batch=True))
        yield Static(id="lab-explain")
        with Horizontal(id="race-controls"):
            yield Label("hparams", id="race-hparams-label")
            yield Input(compact=True, id="race-hparams")
            yield Label("epochs")
            yield Input(str(self.epochs), compact=True, id="race-epochs", restrict=r"\d*")
            yield Label("target")
            target = Input("auto", compact=True, id="race-target", select_on_focus=True)
            target.tooltip = "Count what each lane needs to bring the cost down to this, in the x axis's unit\n" \
                             "(updates for epochs; x switches to samples seen or seconds).\n" \
                             "auto: the highest final cost below the start, a level every improving lane reached."
            yield target
        yield KeyFooter()

    @while_shown  # a screen popped as soon as it was pushed (the palette can) mounts all the same
    def on_mount(self) -> None:
        self._explain()
        self._show_header()
        self.query_one(MultiPlot).update_plot([], self._plot_options(None))

    def _lanes(self) -> LaneList:
        return self.query_one("#race-batch" if self.mode == "batch" else "#race-optimizers", LaneList)

    def _batch_specs(self, lr: float | None = None) -> list[LaneSpec]:
        lr = race_lr(self.batch_optimizer, lr)
        return [
            LaneSpec("full", "full", *BATCH_MODE_STYLE["full"], lr),
            LaneSpec("mini", batch_mode_label(self.mini_batch), *BATCH_MODE_STYLE["mini"], lr),
            LaneSpec("single", "single", *BATCH_MODE_STYLE["single"], lr),
        ]

    def _lane_header(self, *, batch: bool = False, target: float | None = None, metric: str = "accuracy",
                     validation: bool = True) -> Text:
        """Column names over the lanes' numbers (which ``_table`` writes in the same widths)."""
        short = "acc" if metric == "accuracy" else "r2"
        head = f"{'':4}{'optimizer' if not batch else 'mode':<11}{'lr':<10}"
        cols = f"{'upd/ep':>6}" if batch else ""
        cols += f"{'cost':>8}" + (f"{'val loss':>9}{'val ' + short:>8}" if validation else f"{'':>9}{short:>8}")
        to = _to_header(AXIS_TEXT[self.x_axis][2], target)
        cols += f"{to:>9}{'µs/upd':>7}"
        return Text(head + cols, no_wrap=True, overflow="ellipsis")

    # -- header and explanations ------------------------------------------------------------------

    def _show_header(self) -> None:
        snap = self.snapshot
        if snap is None:
            state = "starting" if self.running else "ready: space starts"
        elif snap.results is not None:
            state = "done"
        elif self.running:
            state = f"racing {snap.progress:.0%}"
        else:
            state = f"paused {snap.progress:.0%}"
        name = "Race" if self.mode == "optimizers" else f"Batch modes of {self.batch_optimizer}"
        parts = [Part(name, style="bold"), *experiment_parts(self.config, snap.summary if snap else None)]
        if self.mode == "optimizers":
            parts.append(Part(f"batch {self.config.training.batch_size}", drop=2))
        parts.append(Part(plural(self.epochs, "epoch"), drop=3))
        axis = AXIS_TEXT[self.x_axis][1]
        if axis is not None:
            parts.append(axis)
        if snap is not None:
            cost = figure(snap.initial_loss, 4)
            parts.append(Part(f"start cost {cost}", f"start {cost}", drop=1))
        self.set_header(parts, state)

    def _explain(self) -> None:
        explain = self.query_one("#lab-explain", Static)
        hp_input = self.query_one("#race-hparams", Input)
        if self.mode == "batch":
            text = optimizer_rule(self.batch_optimizer)
            for key, spec in zip(("full", "mini", "single"), self._lanes().specs):
                color = BATCH_MODE_STYLE[key][0]
                text.append(f"\n{spec.label:<9}", style=f"bold {rgb(color)}")
                text.append(BATCH_MODE_TEXT[key].format(k=self.mini_batch))
            text.no_wrap = True
            text.overflow = "ellipsis"
            explain.update(text)
            name = self.batch_optimizer
        else:
            name = self._lanes().highlighted
            explain.update(optimizer_explanation(name))
        self.query_one("#race-hparams-label", Label).update(f"{name}")
        hp_input.placeholder = hparams_hint(name) or "(no other hyperparameters)"
        hp_input.value = hparams_text(self.hparams[name])
        hp_input.set_class(False, "-invalid")

    @on(LaneList.Highlighted)
    @while_shown
    def _highlighted(self, event: LaneList.Highlighted) -> None:
        if self.mode == "optimizers":
            self._explain()

    # -- settings ---------------------------------------------------------------------------------

    def _entries(self) -> tuple[list[RaceEntry], list[str]]:
        """The race entries the settings describe, and the problems that stop a race from starting."""
        lrs, problems = self._lanes().learning_rates()
        if self.mode == "batch":
            sizes = {"full": "full", "mini": self.mini_batch, "single": 1}
            hp = self.hparams[self.batch_optimizer]
            entries = [RaceEntry(self.batch_optimizer, lr, dict(hp), key, sizes[key]) for key, lr in lrs.items()]
        else:
            entries = [RaceEntry(name, lr, dict(self.hparams[name]), name) for name, lr in lrs.items()]
        if not entries and not problems:
            problems.append(f"switch at least one lane on (keys {self._lane_keys()})")
        return entries, problems

    def _lane_keys(self) -> str:
        """The keys of the lanes shown: ``1-3`` for the batch modes, the optimizers' digits else."""
        return digit_range(OPTIMIZER_DIGITS[:len(self._lanes().rows)])

    def _settings_key(self) -> Any:
        entries, problems = self._entries()
        return (self.mode, tuple((e.label, e.lr, tuple(sorted(e.hparams.items()))) for e in entries),
                self.epochs, self.target, tuple(problems))

    async def _settings_changed(self) -> None:
        """Settings that differ from the race's: forget that race (the next start uses the new ones)."""
        key = self._settings_key()
        if key == self._settings:
            return
        if self.race is not None or self.snapshot is not None or self.running:
            await self.reset_race()
            self._clear()
        self._settings = key

    @on(LaneList.Changed)
    @while_shown
    async def _lanes_changed(self, event: LaneList.Changed) -> None:
        await self._settings_changed()

    @on(Input.Submitted, "#race-hparams")
    @on(Input.Blurred, "#race-hparams")
    @while_shown
    async def _hparams_entered(self, event) -> None:
        name = self.batch_optimizer if self.mode == "batch" else self._lanes().highlighted
        field = self.query_one("#race-hparams", Input)
        try:
            self.hparams[name] = parse_hparams(name, field.value)
        except ValueError as exc:
            field.add_class("-invalid")
            self.notify(f"{name}: {exc}", severity="error", timeout=6)
            return
        field.remove_class("-invalid")
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        await self._settings_changed()

    @on(Input.Submitted, "#race-epochs,#race-target")
    @on(Input.Blurred, "#race-epochs,#race-target")
    @while_shown
    async def _number_entered(self, event) -> None:
        self._read_numbers()
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        await self._settings_changed()
        self._show_header()

    def _read_numbers(self) -> list[str]:
        """Read epochs and target; the problems, also marked on the fields."""
        problems = []
        epochs_field = self.query_one("#race-epochs", Input)
        try:
            self.epochs = parse_positive(epochs_field.value, "epochs", whole=True)
            epochs_field.remove_class("-invalid")
        except ValueError as exc:
            epochs_field.add_class("-invalid")
            problems.append(str(exc))
        target_field = self.query_one("#race-target", Input)
        text = target_field.value.strip().lower()
        try:
            self.target = None if text in ("", "auto") else parse_positive(text, "target")
            target_field.remove_class("-invalid")
        except ValueError as exc:
            target_field.add_class("-invalid")
            problems.append(f"{exc} (or auto)")
        return problems

    # -- actions ----------------------------------------------------------------------------------

    async def action_toggle(self) -> None:
        """Start, pause or resume; after a finished race, start a new one."""
        if self.running:
            await self.stop_work()
            self._show_header()
            self._plot(self.snapshot)  # the race so far, in the same frame as "paused"
            return
        problems = self._read_numbers()
        entries, lane_problems = self._entries()
        problems = lane_problems + problems
        if problems:
            self.notify("\n".join(problems), title="Cannot start the race", severity="error", timeout=6)
            return
        if self.done or self._settings_key() != self._settings:
            if self.done:
                self.notify("New race from the same weights.", timeout=3)
            await self.reset_race()
            self._clear()
        self._settings = self._settings_key()
        config, epochs, target = self.config, self.epochs, self.target
        self.start_race(lambda: Race(config, entries, epochs=epochs, target_loss=target))
        self._show_header()
        if self.snapshot is None:
            self._plot(None)  # "starting", not "space: start"

    async def action_reset(self) -> None:
        await self.reset_race()
        self._clear()
        self.notify("Race reset: space starts it again from the same weights.", timeout=3)

    async def action_toggle_mode(self) -> None:
        """Optimizers <-> the batch modes (full / mini / single) of the highlighted optimizer."""
        await self.reset_race()
        if self.mode == "optimizers":
            name = self._lanes().highlighted
            lrs, _ = self._lanes().learning_rates()
            self.batch_optimizer = name
            batch = self.query_one("#race-batch", LaneList)
            for key in ("full", "mini", "single"):
                batch.set_lr(key, lrs.get(name, race_lr(name, None)))
            self.mode = "batch"
        else:
            self.mode = "optimizers"
        self.set_class(self.mode == "batch", "-batch")
        self._settings = None
        self._clear()
        self._explain()

    def action_toggle_lane(self, number: int) -> None:
        """Switch lane ``number`` on or off (a focused field takes the digit first)."""
        self._lanes().toggle(number)

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self._plot(self.snapshot)

    def action_cycle_axis(self) -> None:
        """Epochs -> updates -> samples seen -> seconds -> epochs, for the plot and the to-target column."""
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self._show_header()
        self._plot(self.snapshot)
        if self.snapshot is not None:
            self._table(self.snapshot)
        else:
            self._lanes().set_header(self._lane_header(batch=self.mode == "batch"))

    def _best(self) -> dict | None:
        """The finished race's best lane that did not diverge (None before the end)."""
        results = self.snapshot.results if self.done else None
        return next((row for row in results or () if row["best"] and not row["diverged"]), None)

    def footer_description(self, binding) -> str:
        """u shows in the footer once a finished race has a best lane to use (``KeyFooter``)."""
        return "" if binding.action == "use_best" and self._best() is None else binding.description

    def action_use_best(self) -> None:
        """Apply the finished race's best lane (optimizer and rate) to the current experiment."""
        results = self.snapshot.results if self.done else None
        best = self._best()
        if best is None:
            why = "every lane diverged" if results else "run the race to the end first (space)"
            self.notify(f"No best lane: {why}.", title="Nothing to use", severity="warning")
            return
        batch = f"; its batch mode ({best['label']}) is not changed" if self.mode == "batch" else ""
        use_optimizer(self, best["optimizer"], float(best["lr"]), f" (best in the race{batch})")

    def action_highlight(self, delta: int) -> None:
        if self.mode == "optimizers":
            self._lanes().move_highlight(delta)

    async def stop_work(self) -> None:
        await super().stop_work()
        if self.is_mounted:
            self._show_header()

    # -- showing progress -------------------------------------------------------------------------

    def _clear(self) -> None:
        """No race: no results, no curves, the column names as before the first race."""
        lanes = self._lanes()
        lanes.clear_results()
        lanes.set_header(self._lane_header(batch=self.mode == "batch"))
        self._plot(None)
        self._show_header()

    def show_progress(self, snapshot: RaceSnapshot) -> None:
        self._show_header()
        self._plot(snapshot)
        self._table(snapshot)

    def show_failed(self, error: str) -> None:
        self._show_header()

    def _plot_options(self, snapshot: RaceSnapshot | None) -> PlotOptions:
        axis = self.x_axis
        x_range: tuple[float, float] | None = (0, self.epochs)
        if snapshot is not None and snapshot.lanes:
            if axis == "updates":
                x_range = (0, self.epochs * max(lane.steps_per_epoch for lane in snapshot.lanes))
            elif axis == "samples":
                x_range = (0, self.epochs * snapshot.lanes[0].samples_per_epoch)
            elif axis == "seconds":  # how long a lane takes is known only once it has taken it
                longest = max(float(lane.at_seconds[-1]) for lane in snapshot.lanes)
                x_range = (0, longest) if longest > 0 else None
        return PlotOptions(log_y=self.log_scale, x_label=f"{AXIS_TEXT[axis][0]} · x: next axis", y_label="cost",
                           x_integer=axis != "seconds", x_range=x_range)

    def _plot(self, snapshot: RaceSnapshot | None) -> None:
        lanes = self._lanes()
        series = []
        if snapshot is not None:
            for lane in snapshot.lanes:
                spec = next(s for s in lanes.specs if s.key == lane.label)
                series.append(Curve(lane.along(self.x_axis), lane.costs, spec.color, marker=spec.letter, name=spec.label))
        live = self.running and snapshot is not None and snapshot.results is None
        plot = self.query_one(MultiPlot)
        plot.hint = STARTING_HINT if snapshot is None and self.running else START_HINT
        first = not plot.series
        plot.update_plot(series, self._plot_options(snapshot), live=live)
        if not live or first:  # a pause, a reset, the end, a key, the first costs: drawn with the
            plot.mark_dirty(urgent=True)  # header's new state, not a throttled redraw later

    def _table(self, snap: RaceSnapshot) -> None:
        lanes = self._lanes()
        batch = self.mode == "batch"
        results = {row["label"]: row for row in snap.results} if snap.results is not None else {}
        target = snap.target
        if target is None and results:
            target = auto_target(snap.initial_loss, [row["final_loss"] for row in results.values()])
        validation = _has_validation(snap)
        lanes.set_header(self._lane_header(batch=batch, target=target, metric=snap.metric_name, validation=validation))
        for lane in snap.lanes:
            row = results.get(lane.label)
            kind = "val" if validation else "train"
            if row is not None:
                cost, val, metric = row["final_loss"], row["val_loss"], row.get(f"{kind}_{snap.metric_name}")
            else:
                cost = None if lane.diverged else float(lane.costs[-1])
                val, metric = lane.val_loss, lane.val_metric if validation else lane.metric
            reached = None
            if target is not None and not lane.diverged:
                reached = lane.to(target, "updates" if self.x_axis == "epoch" else self.x_axis)
            text = Text(no_wrap=True, overflow="ellipsis")
            if batch:
                text.append(f"{lane.steps_per_epoch:>6}")
            text.append(f"{figure(cost, 4):>8}{figure(val, 4) if validation else '':>9}")
            text.append(f"{_metric(metric, snap.metric_name):>8}{self._amount(reached):>9}")
            if self.freeze_timings:
                per = "--"
            else:
                per = "–" if lane.seconds_per_step is None else f"{lane.seconds_per_step * 1e6:.0f}"
            text.append(f"{per:>7}")
            if lane.diverged:
                text.append(" ✗ diverged", style="bold red")
            elif row is not None and row["best"]:
                text.append(" ★ best", style="bold green")
            lanes.set_result(lane.label, text)


    def _amount(self, value: float | None) -> str:
        """A to-target cell in the x axis's unit: updates (for epochs too), samples or seconds."""
        if value is None:
            return DASH
        if self.x_axis == "seconds":
            return "--" if self.freeze_timings else figure(value, 3)
        return f"{int(value)}"


def _to_header(unit: str, target: float | None) -> str:
    """The to-target column's name, e.g. ``to 0.645`` or ``smp→0.65``: at most 8 cells (the column
    is 9 wide), so that it keeps a space from the column before it."""
    if target is None:
        return unit + "tgt"
    for digits in (3, 2, 1):
        text = unit + figure(target, digits)
        if len(text) <= 8:
            return text
    return text


def _has_validation(snap: RaceSnapshot) -> bool:
    return any(lane.val_loss is not None for lane in snap.lanes) or (
        snap.results is not None and any(row["val_loss"] is not None for row in snap.results))


def _metric(value: float | None, name: str) -> str:
    if value is None:
        return DASH
    return f"{value:.0%}" if name == "accuracy" else f"{value:.3f}"
