"""The optimizer matrix: which optimizer suits which task.

Every chosen optimizer races on every chosen dataset (``tui_trainer.experiments.lab.optimizer_matrix``):
on each dataset all of them start from the same weights and see the same batches. The table has a row
per dataset and a column per optimizer (final cost, validation accuracy or R^2, updates to the target);
the best per dataset is marked. ``u`` trains the current experiment with a cell's optimizer and rate.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, Label, Static

from ...engine.numbers import DASH, compact, figure
from ...engine.optimizers import OPTIMIZERS
from ...experiments.config import ExperimentConfig, with_overrides
from ...experiments.hparam_text import parse_positive
from ...experiments.lab import optimizer_matrix
from ...experiments.limits import MAX_LAB_EPOCHS
from ...experiments.wording import plural
from ..keys import key
from ..widgets.lane_colors import rgb
from .lab_common import LabScreen, Part, lane_style, while_shown

MATRIX_DATASETS = ("spiral", "moons", "sine", "digits")
"""The datasets offered, toggled with a-d."""
DATASET_KEYS = "abcd"
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
MATRIX_EPOCHS = 20
"""Epochs per race when the experiment asks for more."""
NAME_WIDTH = 8
CELL_WIDTH = 9


def use_optimizer(screen, name: str, lr: float, where: str = "") -> bool:
    """Train the current experiment with optimizer ``name`` at rate ``lr`` (a live change: the weights
    stay), show it on the config panes and say so; ``where`` is added to the notification."""
    training = screen.app.training
    try:
        training.apply_live(with_overrides(training.session.config, optimizer=name, lr=lr))
    except (ValueError, TypeError) as exc:
        screen.notify(f"{name} at lr {compact(lr, 3)}: {exc}", title="Not applied", severity="error", timeout=8)
        return False
    screen.notify(f"The experiment now trains with {name} at lr {compact(lr, 3)}{where}.", title="Used")
    return True


def best_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Per optimizer, on how many datasets it was best."""
    counts: dict[str, int] = {}
    for row in rows:
        if row["best"]:
            counts[row["optimizer"]] = counts.get(row["optimizer"], 0) + 1
    return counts


def matrix_summary(rows: list[dict[str, Any]], datasets: list[str], tuned: bool) -> str:
    """``adam best on 3 of 4 datasets; sgd diverged on sine``: what the table shows, in a line."""
    done = [d for d in datasets if any(r["dataset"] == d for r in rows)]
    if not done:
        return ""
    counts = sorted(best_counts(rows).items(), key=lambda item: (-item[1], list(OPTIMIZERS).index(item[0])))
    parts = []
    if counts:
        top, n = counts[0]
        parts.append(f"{top} best on {n} of {plural(len(done), 'dataset')}")
        parts += [f"{name} on {k}" for name, k in counts[1:]]
    diverged: dict[str, list[str]] = {}
    for row in rows:
        if row["diverged"]:
            diverged.setdefault(row["optimizer"], []).append(row["dataset"])
    for name, where in diverged.items():
        parts.append(f"{name} diverged on {', '.join(where)}" + ("" if tuned else " (t: tune the rate)"))
    never = [n for n in {r["optimizer"] for r in rows} if n not in dict(counts) and n not in diverged]
    if never and not tuned:
        parts.append(f"{', '.join(sorted(never, key=list(OPTIMIZERS).index))} never best: "
                     "t tunes each rate")
    return "; ".join(parts)


class MatrixScreen(LabScreen):
    """Every chosen optimizer on every chosen dataset, from shared weights: the best per dataset."""

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
    MatrixScreen #matrix-epochs {
        width: 6;
        margin-right: 2;
    }
    MatrixScreen #matrix-scroll {
        height: 1fr;
        padding: 0 1;
    }
    MatrixScreen #matrix-summary, MatrixScreen #matrix-cell {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }
    """

    BINDINGS = [
        key("space", "run", "Run", title="Run the matrix",
            help="Race the optimizers on every chosen dataset (space again: stop)"),
        key("t", "toggle_tune", "Tune lr", title="Tune the learning rates",
            help="Pick each optimizer's rate on each dataset with a short sweep first"),
        key("u", "use", "Use cell", title="Use the chosen cell",
            help="Train the current experiment with the cell's optimizer and rate (a live change)"),
        key("a", "toggle_dataset(0)", "Data", key_display="a-d"),
        *(key(k, f"toggle_dataset({i})", "Data", show=False) for i, k in enumerate(DATASET_KEYS) if i),
        key("1", "toggle_optimizer(1)", "Optimizer", key_display="1-8"),
        *(key(str(n), f"toggle_optimizer({n})", "Optimizer", show=False) for n in range(2, 9)),
        key("up", "move(0,-1)", "Up", show=False),
        key("down", "move(0,1)", "Down", show=False),
        key("left", "move(-1,0)", "Left", show=False),
        key("right", "move(1,0)", "Right", show=False),
        key("escape", "back", "Back", help="Back to the main screen (stops the matrix)"),
    ]

    class Done(Message):
        """The worker's rows so far (``final``: all of them), or its error."""

        def __init__(self, run: int, rows: list[dict[str, Any]], final: bool, error: BaseException | None) -> None:
            super().__init__()
            self.run, self.rows, self.final, self.error = run, rows, final, error

    def __init__(self, config: ExperimentConfig) -> None:
        super().__init__()
        self.config = config
        self.epochs = min(config.training.epochs, MATRIX_EPOCHS)
        self.datasets: list[str] = list(MATRIX_DATASETS)
        self.optimizers: list[str] = [n for n in DEFAULT_OPTIMIZERS if n in OPTIMIZERS] or list(OPTIMIZERS)[:1]
        self.tune_lr = False
        self.rows: list[dict[str, Any]] = []
        self.shown_datasets: list[str] = []
        self.shown_optimizers: list[str] = []
        self.shown_tuned = False
        self.cursor = (0, 0)
        """(optimizer column, dataset row) in the table shown."""
        self.running = False
        self.error: str | None = None
        self._run = 0
        self._stop = threading.Event()
        self._worker = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static(id="matrix-choice")
        with Horizontal(id="matrix-controls"):
            yield Label("epochs")
            yield Input(str(self.epochs), compact=True, id="matrix-epochs", restrict=r"\d*")
            yield Static(id="matrix-tune")
        with VerticalScroll(id="matrix-scroll"):
            yield Static(id="matrix-table")
        yield Static(id="matrix-cell")
        yield Static(id="matrix-summary")
        yield Footer()

    @while_shown
    def on_mount(self) -> None:
        self._refresh_all()

    # -- settings ---------------------------------------------------------------------------------

    def _read_epochs(self) -> bool:
        field = self.query_one("#matrix-epochs", Input)
        try:
            epochs = parse_positive(field.value, "epochs", whole=True)
            if epochs > MAX_LAB_EPOCHS:
                raise ValueError(f"at most {MAX_LAB_EPOCHS:,} epochs")
            self.epochs = epochs
        except ValueError as exc:
            field.add_class("-invalid")
            self.notify(str(exc), title="Cannot run the matrix", severity="error", timeout=6)
            return False
        field.remove_class("-invalid")
        return True

    @on(Input.Submitted, "#matrix-epochs")
    @on(Input.Blurred, "#matrix-epochs")
    @while_shown
    def _epochs_entered(self, event) -> None:
        if isinstance(event, Input.Submitted):
            self.set_focus(None)
        self._read_epochs()
        self._show_header()

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

    # -- running ----------------------------------------------------------------------------------

    async def action_run(self) -> None:
        if self.running:
            await self.stop_work()
            self.notify("Matrix stopped: the datasets finished so far stay.", timeout=3)
            return
        if not self._read_epochs():
            return
        if not self.datasets or not self.optimizers:
            self.notify("Choose at least one dataset (a-d) and one optimizer (1-8).",
                        title="Cannot run the matrix", severity="error", timeout=6)
            return
        self._run += 1
        run, stop = self._run, threading.Event()
        self._stop = stop
        datasets, optimizers, epochs, tune, config = (list(self.datasets), list(self.optimizers), self.epochs,
                                                      self.tune_lr, self.config)
        self.rows, self.error = [], None
        self.shown_datasets, self.shown_optimizers, self.shown_tuned = datasets, optimizers, tune
        self.cursor = (0, 0)
        self.running = True

        def work() -> None:
            rows: list[dict[str, Any]] = []
            try:
                for name in datasets:
                    if stop.is_set():
                        break
                    rows = rows + optimizer_matrix(config, [name], optimizers, epochs=epochs, tune_lr=tune,
                                                   should_stop=stop.is_set)
                    if not stop.is_set():
                        self.post_message(self.Done(run, rows, False, None))
            except BaseException as exc:  # shown on the screen; the worker ends
                self.post_message(self.Done(run, rows, True, exc))
                return
            self.post_message(self.Done(run, rows, True, None))

        self._worker = self.run_worker(work, thread=True, exclusive=True, exit_on_error=False, group="matrix")
        self._refresh_all()

    @on(Done)
    @while_shown
    def _done(self, message: Done) -> None:
        if message.run != self._run:
            return  # a stopped run's late rows
        complete = {r["dataset"] for r in message.rows}
        self.rows = [r for r in message.rows if r["dataset"] in complete]
        if message.final:
            self.running = False
            if message.error is not None:
                exc = message.error
                self.error = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
                self.notify(self.error, title="The matrix could not run", severity="error", timeout=8)
        self._refresh_all()

    def cancel_work(self) -> None:
        self._stop.set()
        self._run += 1
        self.running = False

    async def stop_work(self) -> None:
        """Stop the worker and wait (a step at most) until its thread has left the races."""
        self.cancel_work()
        worker = self._worker
        if worker is not None:
            import asyncio

            for _ in range(500):
                if worker.is_finished:
                    break
                await asyncio.sleep(0.01)
        if self.is_mounted and self.shown:
            self._refresh_all()

    # -- the cursor and u ---------------------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        cols, rows = len(self.shown_optimizers), len(self.shown_datasets)
        if not cols or not rows:
            return
        x, y = self.cursor
        self.cursor = ((x + dx) % cols, (y + dy) % rows)
        self._show_table()
        self._show_cell()

    def cell(self) -> dict[str, Any] | None:
        """The row of the cell under the cursor, once its dataset has run."""
        if not self.shown_optimizers or not self.shown_datasets:
            return None
        x, y = self.cursor
        name, data = self.shown_optimizers[x], self.shown_datasets[y]
        return next((r for r in self.rows if r["dataset"] == data and r["optimizer"] == name), None)

    def action_use(self) -> None:
        row = self.cell()
        if row is None:
            why = "wait for this dataset to finish" if self.running else "run the matrix first (space)"
            self.notify(f"No result in this cell: {why}.", title="Nothing to use", severity="warning")
            return
        if row["diverged"]:
            self.notify(f"{row['optimizer']} diverged on {row['dataset']}: choose another cell.",
                        title="Not applied", severity="warning", timeout=6)
            return
        current = self.app.training.session.config.data.dataset
        if row["best"]:
            where = f" (best on {row['dataset']})"
        else:
            where = f" (as on {row['dataset']})"
        if current != row["dataset"]:
            where += f"; the experiment trains on {current}"
        use_optimizer(self, row["optimizer"], float(row["lr"]), where)

    # -- showing ------------------------------------------------------------------------------------

    def _refresh_all(self) -> None:
        self._show_header()
        self._show_choice()
        self._show_table()
        self._show_cell()
        self._show_summary()

    def _show_header(self) -> None:
        if self.running:
            state = f"running {len({r['dataset'] for r in self.rows})}/{len(self.shown_datasets)}"
        elif self.error:
            state = "failed"
        elif self.rows:
            state = "done" if len({r['dataset'] for r in self.rows}) == len(self.shown_datasets) else "stopped"
        else:
            state = "ready: space runs"
        self.set_header([
            Part("Optimizer matrix", "Matrix", style="bold"),
            Part(f"{len(self.datasets)} data × {len(self.optimizers)} optimizers",
                 f"{len(self.datasets)}×{len(self.optimizers)}"),
            Part(plural(self.epochs, "epoch"), drop=2),
            Part("tuned lr" if self.tune_lr else "default lr", drop=1),
        ], state)

    def _show_choice(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("data ", style="dim")
        for k, name in zip(DATASET_KEYS, MATRIX_DATASETS):
            on_ = name in self.datasets
            text.append(f"{k}", style="bold" if on_ else "dim")
            text.append(f" {'■' if on_ else '□'}{name}  ", style="" if on_ else "dim")
        text.append("\nopt  ", style="dim")
        for number, name in enumerate(OPTIMIZERS, 1):
            on_ = name in self.optimizers
            color, _ = lane_style(name)
            text.append(f"{number}", style="bold" if on_ else "dim")
            text.append(f"{'■' if on_ else '□'}{name} ", style=f"{rgb(color)}" if on_ else "dim")
        self.query_one("#matrix-choice", Static).update(text)
        tune = Text()
        tune.append("t ", style="bold")
        tune.append("tune lr: ")
        tune.append("on (a short sweep per optimizer and dataset)" if self.tune_lr else "off (default rates)",
                    style="bold" if self.tune_lr else "")
        self.query_one("#matrix-tune", Static).update(tune)

    def _show_table(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        opts, datas = self.shown_optimizers, self.shown_datasets
        if not opts:
            intro = Text("space: run every chosen optimizer on every chosen dataset, from the same weights. "
                         "Rows: datasets; columns: optimizers; per cell the final cost, the validation "
                         "accuracy (R² for regression) and the updates to reach the target cost. "
                         "★: best on that dataset.", style="dim")
            self.query_one("#matrix-table", Static).update(intro)
            return
        text.append(f"{'':<{NAME_WIDTH}}", style="bold")
        for name in opts:
            color, _ = lane_style(name)
            text.append(f"{name[:CELL_WIDTH - 1]:>{CELL_WIDTH}}", style=f"bold {rgb(color)}")
        text.append("\n")
        cells = {(r["dataset"], r["optimizer"]): r for r in self.rows}
        cx, cy = self.cursor
        for y, data in enumerate(datas):
            for line in range(3):
                label = (data[:NAME_WIDTH - 1], " acc/R²", " to tgt")[line]
                text.append(f"{label:<{NAME_WIDTH}}", style="bold" if line == 0 else "dim")
                for x, name in enumerate(opts):
                    row = cells.get((data, name))
                    cell, style = self._cell_text(row, line)
                    if (x, y) == (cx, cy):
                        style = f"{style} reverse".strip()
                    text.append(f"{cell:>{CELL_WIDTH}}", style=style)
                text.append("\n")
        text.append("★ best on the dataset (lowest val loss)  ✗ diverged  to tgt: updates until the cost "
                     "reached a level every improving lane reached", style="dim")
        self.query_one("#matrix-table", Static).update(text)

    @staticmethod
    def _cell_text(row: dict[str, Any] | None, line: int) -> tuple[str, str]:
        """Line 0: the final cost (★ best, ✗ diverged); 1: val accuracy or R²; 2: updates to the target."""
        if row is None:
            return "·", "dim"
        best = "bold green" if row["best"] else ""
        if line == 0:
            if row["diverged"]:
                return "✗ diverg", "bold red"
            cost = figure(row["final_loss"], 3)
            return (f"★{cost}" if row["best"] else cost), best
        if line == 1:
            if row.get("val_accuracy") is not None:
                return f"{row['val_accuracy']:.0%}", best
            if row.get("val_r2") is not None:
                return f"{row['val_r2']:.3f}", best
            return DASH, "dim"
        steps = row["steps_to_target"]
        return (DASH if steps is None else f"{steps:,}"), best

    def _show_cell(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        row = self.cell()
        if self.error:
            text.append(f"Could not run: {self.error}", style="bold red")
        elif row is not None:
            color, _ = lane_style(row["optimizer"])
            text.append(f"{row['optimizer']}", style=f"bold {rgb(color)}")
            text.append(f" on {row['dataset']}: lr {compact(row['lr'], 3)}")
            if row["diverged"]:
                text.append(", diverged", style="bold red")
            else:
                text.append(f", cost {figure(row['final_loss'], 4)}")
                if row["steps_to_target"] is not None and row.get("target") is not None:
                    text.append(f", {row['steps_to_target']:,} updates to {figure(row['target'], 3)}")
                text.append("  u: use it", style="dim")
        elif self.shown_optimizers:
            text.append("arrows: choose a cell; u: train the experiment with its optimizer and rate", style="dim")
        self.query_one("#matrix-cell", Static).update(text)

    def _show_summary(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        summary = matrix_summary(self.rows, self.shown_datasets, self.shown_tuned)
        if summary:
            text.append(summary, style="bold")
        elif self.running:
            text.append("running: each dataset's row appears when its race ends", style="dim")
        else:
            text.append(f"a-d: datasets, 1-8: optimizers, t: tune lr; {plural(self.epochs, 'epoch')} per race",
                        style="dim")
        self.query_one("#matrix-summary", Static).update(text)
