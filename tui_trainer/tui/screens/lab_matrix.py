"""The optimizer matrix: which optimizer suits which task, by a protocol a teacher would sign.

Every chosen optimizer trains on every chosen dataset as ``tui_trainer.experiments.matrix`` measures
it: its rate tuned over one log grid (or fixed), every cell repeated over seeds, the median and range
of the validation loss shown, and a winner named only where its range clears the runner-up's (else
a tie). A ``MatrixSession`` runs it through the app's worker link (``TrainingLink``), spreading the
trainings over worker processes, so the screen stays responsive while a progress bar fills; a stop
ends the processes at once. ``u`` trains the current experiment (the session's link, passed in)
with a cell's optimizer and rate.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, ProgressBar, Static

from ...engine.numbers import DASH, compact, figure
from ...engine.optimizers import OPTIMIZERS
from ...experiments.config import ExperimentConfig
from ...experiments.hparam_text import parse_positive
from ...experiments.lab import race_lr
from ...experiments.limits import MATRIX_SEEDS, MAX_LAB_EPOCHS, MAX_MATRIX_SEEDS
from ...experiments.matrix import (DEFAULT_EPOCHS, MATRIX_DATASETS, Cell, MatrixResult, Protocol, Verdict,
                                   score_name)
from ...experiments.matrix_session import MatrixProgress, MatrixSession
from ..keys import key
from ..training import SessionLink, TrainingHost, TrainingLink
from ..widgets.lane_colors import rgb
from ..widgets.key_footer import KeyFooter
from .lab_common import (LabScreen, Part, digit_range, lane_style, optimizer_digit_keys, optimizer_digits,
                         use_optimizer, while_shown)

DATASET_KEYS = "abcd"
NAME_WIDTH = 8
CELL_WIDTH = 9
MIN_CELL_WIDTH = 7


def fitted(value: float, width: int) -> str:
    """``value`` in at most ``width`` characters, with as many significant digits as fit (3 at most)."""
    for digits in (3, 2, 1):
        text = figure(value, digits)
        if len(text) <= width:
            return text
    return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e")


def verdict_text(v: Verdict) -> str:
    """``spiral: adam`` or ``moons: tie (adam, rmsprop)``."""
    if v.tie:
        return f"{v.dataset}: tie ({', '.join(v.best)})"
    return f"{v.dataset}: {v.text()}"


class MatrixScreen(TrainingHost, LabScreen):
    """Every chosen optimizer on every chosen dataset, tuned and repeated: the verdict per dataset."""

    DEFAULT_CSS = """
    MatrixScreen #matrix-choice {
        height: auto;
        padding: 0 1;
    }
    MatrixScreen #matrix-controls {
        height: 1;
        padding: 0 1;
    }
    MatrixScreen #matrix-controls Label {
        color: $text-muted;
        margin-right: 1;
    }
    MatrixScreen #matrix-controls Input {
        width: 6;
        margin-right: 2;
    }
    MatrixScreen #matrix-progress {
        height: 1;
        padding: 0 1;
    }
    MatrixScreen #matrix-progress Bar {
        width: 1fr;
    }
    MatrixScreen #matrix-scroll {
        height: 1fr;
        padding: 0 1;
    }
    MatrixScreen #matrix-protocol, MatrixScreen #matrix-summary, MatrixScreen #matrix-cell {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    """

    DIGIT_KEYS = ("toggle_optimizer", "Optimizer")

    BINDINGS = [
        key("space", "run", "Run", title="Run the matrix",
            help="Train every chosen optimizer on every chosen dataset, tuned and over seeds (space again: stop)"),
        key("t", "toggle_tune", "Tune lr", title="Tune the learning rates",
            help="Each optimizer's rate picked from one log grid on the validation loss, or fixed racing rates"),
        key("u", "use", "Use cell", title="Use the chosen cell",
            help="Train the current experiment with the cell's optimizer and rate (a live change)"),
        key("a", "toggle_dataset(0)", "Data", key_display="a-d"),
        *(key(k, f"toggle_dataset({i})", "Data", show=False) for i, k in enumerate(DATASET_KEYS) if i),
        *optimizer_digit_keys("toggle_optimizer", "Optimizer"),
        key("up", "move(0,-1)", "Up", show=False),
        key("down", "move(0,1)", "Down", show=False),
        key("left", "move(-1,0)", "Left", show=False),
        key("right", "move(1,0)", "Right", show=False),
        key("escape", "back", "Back", help="Back to the main screen (stops the matrix)"),
    ]

    def __init__(self, config: ExperimentConfig, *, training: SessionLink | None = None) -> None:
        super().__init__(training=training)
        self.config = config
        self.epochs = DEFAULT_EPOCHS
        self.seeds = MATRIX_SEEDS
        self.datasets: list[str] = list(MATRIX_DATASETS)
        self.optimizers: list[str] = list(OPTIMIZERS)
        self.tune_lr = True
        self.processes: int | None = None
        """Processes to train in (None: one per core)."""
        self.result: MatrixResult | None = None
        self.cursor = (0, 0)
        """(optimizer column, dataset row) in the table shown."""
        self.running = False
        """Whether a run of the matrix is under way (until its end reaches the screen, or a stop)."""
        self.error: str | None = None
        self.done_tasks = self.total_tasks = 0
        self.link: TrainingLink | None = None
        """The current run's link to its ``MatrixSession``; None before the first run."""

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static(id="matrix-choice")
        with Horizontal(id="matrix-controls"):
            yield Label("epochs")
            yield Input(str(self.epochs), compact=True, id="matrix-epochs", restrict=r"\d*")
            yield Label("seeds")
            yield Input(str(self.seeds), compact=True, id="matrix-seeds", restrict=r"\d*")
            yield Static(id="matrix-tune")
        yield ProgressBar(id="matrix-progress", show_eta=True)
        yield Static(id="matrix-protocol")
        with VerticalScroll(id="matrix-scroll"):
            yield Static(id="matrix-table")
        yield Static(id="matrix-cell")
        yield Static(id="matrix-summary")
        yield KeyFooter()

    @while_shown
    def on_mount(self) -> None:
        self._refresh_all()

    # -- settings ---------------------------------------------------------------------------------

    @property
    def protocol(self) -> Protocol:
        """The protocol the settings on screen describe."""
        fixed = None if self.tune_lr else tuple((n, race_lr(n, None)) for n in self.optimizers)
        return Protocol(seeds=self.seeds, epochs=self.epochs, fixed_lrs=fixed,
                        first_seed=self.config.training.seed)

    def _read_fields(self) -> bool:
        """Epochs and seeds from their fields; False (the field marked, a message) when one is bad."""
        for name, most in (("epochs", MAX_LAB_EPOCHS), ("seeds", MAX_MATRIX_SEEDS)):
            field = self.query_one(f"#matrix-{name}", Input)
            try:
                value = parse_positive(field.value, name, whole=True)
                if value > most:
                    raise ValueError(f"at most {most:,} {name}")
            except ValueError as exc:
                field.add_class("-invalid")
                self.notify(str(exc), title="Cannot run the matrix", severity="error", timeout=6)
                return False
            field.remove_class("-invalid")
            setattr(self, name, int(value))
        return True

    @on(Input.Submitted)
    @on(Input.Blurred)
    @while_shown
    def _field_entered(self, event) -> None:
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        self._read_fields()
        self._show_header()
        self._show_protocol()

    def action_toggle_dataset(self, index: int) -> None:
        name = MATRIX_DATASETS[index]
        if name in self.datasets:
            self.datasets.remove(name)
        else:
            self.datasets = [d for d in MATRIX_DATASETS if d in self.datasets or d == name]
        self._show_choice()
        self._show_header()

    def action_toggle_optimizer(self, number: int) -> None:
        names = list(OPTIMIZERS)
        if not 1 <= number <= len(names):
            return
        name = names[number - 1]
        if name in self.optimizers:
            self.optimizers.remove(name)
        else:
            self.optimizers = [n for n in names if n in self.optimizers or n == name]
        self._show_choice()
        self._show_header()

    def action_toggle_tune(self) -> None:
        self.tune_lr = not self.tune_lr
        self._show_choice()
        self._show_header()
        self._show_protocol()

    # -- running ----------------------------------------------------------------------------------

    async def action_run(self) -> None:
        if self.running:
            await self.stop_work()
            self.notify("Matrix stopped: the cells finished so far stay.", timeout=3)
            return
        if not self._read_fields():
            return
        if not self.datasets or not self.optimizers:
            self.notify(f"Choose at least one dataset (a-d) and one optimizer ({self._optimizer_keys()}).",
                        title="Cannot run the matrix", severity="error", timeout=6)
            return
        session = MatrixSession(self.config, self.datasets, self.optimizers, self.protocol, self.processes)
        self.result = MatrixResult(session.protocol, session.datasets, session.optimizers)
        self.error = None
        self.done_tasks, self.total_tasks = 0, session.total
        self.cursor = (0, 0)
        if self.link is not None:
            self.link.forget()  # a stopped run's late cells are dropped
        self.link = TrainingLink(self, session, "matrix")
        self.link.subscribe(self, self._progress)
        self.link.subscribe_end(self, self._ended)
        self.running = True
        self.link.start()
        self._refresh_all()

    @while_shown
    def _progress(self, progress: MatrixProgress) -> None:
        self.result = progress.result
        self.done_tasks, self.total_tasks = progress.done, progress.total
        self._refresh_all()

    @while_shown
    def _ended(self, error: BaseException | None) -> None:
        """The run returned (done or stopped), or could not run: ``error`` says why."""
        self.running = False
        if error is not None:
            self.error = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
            self.notify(self.error, title="The matrix could not run", severity="error", timeout=8)
        self._refresh_all()

    def cancel_work(self) -> None:
        if self.link is not None:
            self.link.stop_soon()
        self.running = False

    async def stop_work(self) -> None:
        """Stop the run and wait until its worker has returned (its processes are ended at once)."""
        self.running = False
        if self.link is not None:
            await self.link.stop()
        if self.is_mounted and self.shown:
            self._refresh_all()

    # -- the cursor and u ---------------------------------------------------------------------------

    @property
    def shown_optimizers(self) -> list[str]:
        return self.result.optimizers if self.result else []

    @property
    def shown_datasets(self) -> list[str]:
        return self.result.datasets if self.result else []

    def action_move(self, dx: int, dy: int) -> None:
        cols, rows = len(self.shown_optimizers), len(self.shown_datasets)
        if not cols or not rows:
            return
        x, y = self.cursor
        self.cursor = ((x + dx) % cols, (y + dy) % rows)
        self._show_table()
        self._show_cell()
        self._scroll_to_cursor()

    def cell(self) -> Cell | None:
        """The cell under the cursor, once all its seeds have trained."""
        if not self.shown_optimizers or not self.shown_datasets:
            return None
        x, y = self.cursor
        return self.result.cell(self.shown_datasets[y], self.shown_optimizers[x])

    def action_use(self) -> None:
        c = self.cell()
        if c is None:
            why = "wait for its trainings to finish" if self.running else "run the matrix first (space)"
            self.notify(f"No result in this cell: {why}.", title="Nothing to use", severity="warning")
            return
        if not c.ranked:
            self.notify(f"{c.optimizer} diverged on most seeds of {c.dataset}: choose another cell.",
                        title="Not applied", severity="warning", timeout=6)
            return
        v = next((v for v in self.result.verdicts if v.dataset == c.dataset), None)
        if v is not None and c.optimizer in v.best:
            where = f" ({'tied for best' if v.tie else 'best'} on {c.dataset})"
        else:
            where = f" (as on {c.dataset})"
        current = self.training.session.config.data.dataset if self.training is not None else c.dataset
        if current != c.dataset:
            where += f"; the experiment trains on {current}"
        use_optimizer(self, c.optimizer, float(c.lr), where)

    # -- showing ------------------------------------------------------------------------------------

    def _optimizer_keys(self) -> str:
        return digit_range()

    def _refresh_all(self) -> None:
        self._show_header()
        self._show_choice()
        self._show_progress()
        self._show_protocol()
        self._show_table()
        self._show_cell()
        self._show_summary()

    def _state(self) -> str:
        result = self.result
        if self.running:
            return f"running {self.done_tasks}/{self.total_tasks}"
        if self.error:
            return "failed"
        if result is not None and result.cells:
            return "done" if len(result.cells) == len(result.datasets) * len(result.optimizers) else "stopped"
        return "ready: space runs"

    def _show_header(self) -> None:
        self.set_header([
            Part("Optimizer matrix", "Matrix", style="bold"),
            Part(f"{len(self.datasets)} data × {len(self.optimizers)} optimizers",
                 f"{len(self.datasets)}×{len(self.optimizers)}"),
            Part(f"{self.seeds} seeds", drop=3),
            Part(f"{self.epochs} epochs", drop=2),
            Part("tuned lr" if self.tune_lr else "fixed lr", drop=1),
        ], self._state())

    def _show_choice(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("data ", style="dim")
        for k, name in zip(DATASET_KEYS, MATRIX_DATASETS):
            on_ = name in self.datasets
            text.append(f"{k}", style="bold" if on_ else "dim")
            text.append(f" {'■' if on_ else '□'}{name}  ", style="" if on_ else "dim")
        text.append("\nopt  ", style="dim")
        for k, name in zip(optimizer_digits(), OPTIMIZERS):
            on_ = name in self.optimizers
            color, _ = lane_style(name)
            text.append(k, style="bold" if on_ else "dim")
            text.append(f"{'■' if on_ else '□'}{name} ", style=f"{rgb(color)}" if on_ else "dim")
        self.query_one("#matrix-choice", Static).update(text)
        tune = Text(no_wrap=True, overflow="ellipsis")
        tune.append("t ", style="bold")
        tune.append("lr: ")
        grid = Protocol().lr_grid
        tune.append(f"tuned over {len(grid)} rates" if self.tune_lr else "fixed racing rates",
                    style="bold" if self.tune_lr else "")
        self.query_one("#matrix-tune", Static).update(tune)

    def _show_progress(self) -> None:
        bar = self.query_one("#matrix-progress", ProgressBar)
        bar.display = self.running or bool(self.total_tasks)
        bar.update(total=max(self.total_tasks, 1), progress=self.done_tasks)
        for eta in bar.query("#eta"):  # a stopped or finished matrix has no time left to count down
            eta.display = self.running

    def _show_protocol(self) -> None:
        text = Text(style="dim")
        protocol, score = (self.result.protocol, self.result.score) if self.result else (self.protocol, "val_loss")
        text.append("Protocol: ", style="bold")
        text.append(f"{protocol.describe(score)}.")
        self.query_one("#matrix-protocol", Static).update(text)

    def _cell_width(self) -> int:
        opts = self.shown_optimizers
        room = (self.query_one("#matrix-scroll").content_size.width or self.size.width - 2) - NAME_WIDTH
        return max(MIN_CELL_WIDTH, min(CELL_WIDTH, room // max(1, len(opts))))

    LINES = ("median", "low", "high", "acc/R²")
    """The lines of a dataset's row under its name: the score's median and range, and the metric's median."""

    def _show_table(self) -> None:
        opts, datas = self.shown_optimizers, self.shown_datasets
        if not opts:
            intro = Text("space: train every chosen optimizer on every chosen dataset, each rate tuned over one "
                         "grid and every cell repeated over seeds. Rows: datasets; columns: optimizers; per cell "
                         "the validation loss over the seeds (median, lowest, highest) and the median accuracy "
                         "(R² for regression). ★ best: its range clears the runner-up's; = tied for best.",
                         style="dim")
            self.query_one("#matrix-table", Static).update(intro)
            return
        width = self._cell_width()
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{'':<{NAME_WIDTH}}", style="bold")
        for name in opts:
            color, _ = lane_style(name)
            text.append(f"{name[:width - 1]:>{width}}", style=f"bold {rgb(color)}")
        text.append("\n")
        verdicts = {v.dataset: v for v in self.result.verdicts}
        cx, cy = self.cursor
        for y, data in enumerate(datas):
            v = verdicts.get(data)
            text.append(f"{data}", style="bold")
            if v is not None:
                text.append(f"  {verdict_text(v).split(': ', 1)[1]}", style="bold green" if not v.tie else "bold")
            text.append("\n")
            for line, label in enumerate(self.LINES):
                text.append(f"{' ' + label:<{NAME_WIDTH}}", style="dim")
                for x, name in enumerate(opts):
                    cell, style = self._cell_text(self.result.cell(data, name), v, line, width)
                    if (x, y) == (cx, cy):
                        style = f"{style} reverse".strip()
                    text.append(f"{cell:>{width}}", style=style)
                text.append("\n")
        text.append(f"{score_name(self.result.score)} over the seeds · ★ best: its range clears the runner-up's · "
                    "= tied for best · ✗ most seeds diverged", style="dim")
        self.query_one("#matrix-table", Static).update(text)

    @staticmethod
    def _cell_text(c: Cell | None, v: Verdict | None, line: int, width: int) -> tuple[str, str]:
        """Line 0: the median (★ best, = tied, ✗ diverged); 1, 2: the lowest and highest seed; 3: the
        median val accuracy or R²."""
        if c is None:
            return "·", "dim"
        top = v is not None and c.optimizer in v.best
        style = ("bold green" if not v.tie else "bold") if top else ""
        s = c.score
        if not c.ranked:
            return ("✗" if line == 0 else DASH), "bold red" if line == 0 else "dim"
        if line == 0:
            mark = ("=" if v.tie else "★") if top else ""
            return mark + fitted(s.median, width - 1 - len(mark)), style
        if line in (1, 2):
            return fitted(s.low if line == 1 else s.high, width - 1), "dim"
        m = c.metric.median
        if m is None:
            return DASH, "dim"
        return (f"{m:.0%}" if c.metric_name.endswith("accuracy") else f"{m:.3f}"), style

    def _scroll_to_cursor(self) -> None:
        """Keep the cursor's dataset in view: its name line and its four number lines."""
        top = 1 + self.cursor[1] * (1 + len(self.LINES))
        self.query_one("#matrix-scroll", VerticalScroll).scroll_to(y=max(0, top - 1), animate=False)

    def _show_cell(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        c = self.cell()
        if self.error:
            text.append(f"Could not run: {self.error}", style="bold red")
        elif c is not None:
            color, _ = lane_style(c.optimizer)
            s = c.score
            text.append(f"{c.optimizer}", style=f"bold {rgb(color)}")
            tuned = f" (best of {len(c.grid)} rates)" if len(c.grid) > 1 else " (fixed)"
            text.append(f" on {c.dataset}: lr {compact(c.lr, 2)}{tuned}")
            if not c.ranked:
                text.append(f", diverged on {s.diverged} of {s.runs} seeds", style="bold red")
            else:
                text.append(f", val loss {figure(s.median, 3)} ({figure(s.low, 2)}..{figure(s.high, 2)})")
                if s.diverged:
                    text.append(f", {s.diverged} of {s.runs} seeds diverged", style="red")
        elif self.shown_optimizers:
            text.append("arrows: choose a cell; u: train the experiment with its optimizer and rate", style="dim")
        self.query_one("#matrix-cell", Static).update(text)

    def _show_summary(self) -> None:
        text = Text()
        verdicts = self.result.verdicts if self.result else []
        if verdicts:
            text.append("Verdicts: ", style="bold")
            text.append(" · ".join(f"{v.dataset} {'tie of ' + str(len(v.best)) if v.tie else v.text()}"
                                   for v in verdicts), style="bold")
        elif self.running:
            text.append("running: each cell appears when all its seeds and rates have trained", style="dim")
        else:
            text.append(f"a-d: datasets, {self._optimizer_keys()}: optimizers, t: tune or fix the rates, "
                        "epochs and seeds above", style="dim")
        self.query_one("#matrix-summary", Static).update(text)
