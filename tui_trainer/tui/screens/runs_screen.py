"""The Runs screen: every training recorded in the run store, newest first.

A table of the runs (read again every ``REFRESH_SECONDS``: statuses change while runs go on); space
marks runs whose curves are overlaid below, one colour each, next to the settings that differ among
them; Enter continues a run that ended from its checkpoint in the main screen, or follows a running one
in the watch view (w follows any run). The screen only reads the runs' folders, on a thread worker
(never on the event loop), which posts what it read.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...engine.text import visible
from ...experiments.files import about
from ...engine import optimizers
from ...experiments.runs import (Metrics, Run, differing, final_settings, list_runs, metric_text, overview,
                                 read_curves,
                                 read_metrics, runs_dir)
from ..guard import Guarded
from ..screen_size import AtAppSize
from ..keys import HELP_KEY, HelpKey, key
from ..training import SessionLink
from ..widgets.lane_colors import BLUE, CYAN, GREEN, GREY, MAGENTA, ORANGE, RED, RGB, WHITE, YELLOW, rgb
from ..widgets.multi_plot import Curve, MultiPlot, PlotOptions
from ..widgets.key_footer import KeyFooter
from .dialogs import ConfirmDialog
from .leaving import LeavesSafely
from .watch import STATUS_STYLE, WatchScreen, as_dict, metric_label, network_text, number, short

REFRESH_SECONDS = 2.0
"""How often the run list is read again."""
RUN_COLORS: tuple[RGB, ...] = (CYAN, YELLOW, MAGENTA, GREEN, RED, BLUE, ORANGE, WHITE)
"""The selected runs' colours, in the order they were selected (grey past the eighth)."""
COLUMNS = ("", "run", "status", "dataset", "opt", "lr", "epochs", "val loss", "val acc", "train",
           "network", "when", "id")
"""Most telling first, so that 80 columns show the numbers: the run (its name, else its id), ..., its id last."""
LEFT_OUT_FIRST = ("id", "when", "network", "train", "lr", "opt", "epochs", "dataset")
"""The columns left out, first to last, while the table is wider than the screen (as ``nn-tui runs``
leaves out its own): at 80 columns the validation numbers show whole."""


def shown_columns(rows: list[tuple], width: int) -> tuple[int, ...]:
    """The indexes in ``COLUMNS`` of the columns a table ``width`` cells wide shows whole for
    ``rows`` (each column one cell of padding either side)."""
    sizes = [max([len(header), *(_cell_len(row[i]) for row in rows)]) + 2 for i, header in enumerate(COLUMNS)]
    shown = list(range(len(COLUMNS)))
    for name in LEFT_OUT_FIRST:
        if sum(sizes[i] for i in shown) <= width:
            break
        shown.remove(COLUMNS.index(name))
    return tuple(shown)


def _cell_len(cell: Any) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len
EMPTY = "No runs yet in {root}/: every training is recorded; press space on the main screen"


def when(started: Any) -> str:
    """``11-30 02:15`` from a run's ISO start time (``-`` when unreadable)."""
    if not isinstance(started, str):
        return "-"
    try:
        return datetime.fromisoformat(started).strftime("%m-%d %H:%M")
    except ValueError:
        return started[:16]


def setting_text(key: str, settings: dict[str, Any]) -> str:
    """One setting of a run as the Differs panel shows it: a number short, an optimizer setting
    the run left out as its default (when that optimizer is the run's), ``-`` for none."""
    value = settings.get(key)
    if value is None and "." in key:
        name, hparam = key.split(".", 1)
        if settings.get("optimizer") == name and name in optimizers.OPTIMIZERS:
            value = optimizers.defaults(name).get(hparam)
    return short(value) if number(value) is not None else ("-" if value is None else visible(value))


def run_cells(run: Run, row: dict[str, Any], selected: bool, color: RGB | None) -> tuple[Any, ...]:
    """The table row of a run, from ``overview`` (the numbers ``nn-tui runs`` lists: a running
    run's come from its last epoch)."""
    settings = as_dict(run.settings)
    mark = Text("●", style=f"bold {rgb(color)}") if selected and color else Text("●" if selected else " ")
    epochs = row.get("epochs")
    return (  # every text from the run's files shown as ``visible`` makes it: data, never terminal control
        mark, visible(run.name or run.id), Text(run.status, style=STATUS_STYLE.get(run.status, "")),
        visible(settings.get("dataset", "-")), visible(row.get("optimizer") or "-"), short(row.get("lr")),
        str(epochs) if isinstance(epochs, int) else short(epochs), short(row.get("val_loss")), metric_text(row),
        short(row.get("train_loss")), visible(network_text(settings)), when(run.meta.get("started")),
        visible(run.id),
    )


class RunsScreen(HelpKey, LeavesSafely, AtAppSize, Guarded, Screen):
    """The run store: a table, the selected runs' curves and what differs among them."""

    DEFAULT_CSS = """
    RunsScreen #runs-title {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    RunsScreen #runs-table { height: auto; max-height: 45%; min-height: 3; }
    RunsScreen #runs-empty { height: 1fr; padding: 1 2; color: $text-muted; }
    RunsScreen #runs-bottom { height: 1fr; min-height: 6; }
    RunsScreen #runs-plot { width: 1fr; height: 1fr; }
    RunsScreen #runs-diff { width: 30; height: 1fr; padding: 0 1; border-left: solid $panel; }
    """

    BINDINGS = [
        key("escape,q", "leave", "Back", help="Back to the main screen"),
        key("space", "toggle_select", "Mark", title="Mark run",  # "Mark": w Watch fits at 80 columns
            help="Mark or unmark the run: marked runs' curves are overlaid and their settings compared",
            priority=True),
        key("enter", "open", "Continue/follow", title="Continue or follow",
            help="A run that ended: continue it from its checkpoint; a running one: follow it", priority=True),
        key("w", "watch", "Watch", title="Watch run", help="Follow the run: its curves, status and weights live"),
        HELP_KEY,
    ]

    def __init__(self, training: SessionLink | None = None, root: Path | None = None) -> None:
        super().__init__()
        self.training = training
        self._root = Path(root) if root is not None else None
        self.runs: list[Run] = []
        """The runs listed, as shown (newest first)."""
        self.selected: list[Path] = []
        """The marked runs, in the order they were marked."""
        self.metrics: dict[Path, Metrics] = {}
        self._opening = False
        self._cells: dict[str, tuple] = {}
        self._columns: tuple[int, ...] = ()
        """The indexes in ``COLUMNS`` of the columns shown (``shown_columns``)."""
        self._reading = False
        """Whether a worker reads the store now."""
        self._wanted: set[Path] = set()
        """Runs whose records the screen showed before they were read: the next read reads them."""

    @property
    def root(self) -> Path:
        """The runs directory: the one given, else the app's (``--runs-dir``), else ``NN_TUI_RUNS`` or ``./runs``."""
        if self._root is None:
            self._root = runs_dir(getattr(self.app, "runs_dir", None))
        return self._root

    # -- composition -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-title")
        yield Static(EMPTY.format(root=self.root), id="runs-empty")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)  # its columns: ``show_runs``
        with Horizontal(id="runs-bottom"):
            yield MultiPlot(id="runs-plot", hint="space marks runs to overlay their curves")
            yield Static("", id="runs-diff")
        yield KeyFooter()

    def on_resize(self) -> None:
        """Another width may show more columns, or fewer (the runs as read: no file is read)."""
        if self.is_mounted:
            self.show_runs(self.runs)

    def on_mount(self) -> None:
        self.refresh_runs()
        self.set_interval(REFRESH_SECONDS, self.refresh_runs, name="runs refresh")
        self.query_one(DataTable).focus()

    # -- the list ------------------------------------------------------------------------------

    @property
    def current(self) -> Run | None:
        """The run under the cursor."""
        if not self.runs:
            return None
        row = self.query_one(DataTable).cursor_row
        return self.runs[row] if 0 <= row < len(self.runs) else None

    @property
    def opening(self) -> bool:
        """Whether a run is being opened (read, asked about, loaded): Enter does nothing meanwhile."""
        return self._opening

    def color_of(self, path: Path) -> RGB | None:
        if path not in self.selected:
            return None
        i = self.selected.index(path)
        return RUN_COLORS[i] if i < len(RUN_COLORS) else GREY

    class StoreRead(Message):
        """What the reading worker found: the runs (None when the store cannot be read, ``error``
        says why) and the records it read on."""

        def __init__(self, runs: list[Run] | None, metrics: dict[Path, Metrics], error: OSError | None) -> None:
            super().__init__()
            self.runs, self.metrics, self.error = runs, metrics, error

    def refresh_runs(self) -> None:
        """Have a thread read the store again (one read at a time); ``StoreRead`` shows it."""
        if not self.shown or self._reading:
            return
        self._reading = True
        current = self.current
        wanted = {*self.selected, *self._wanted, *([current.path] if current is not None else [])}
        self._wanted.clear()
        self._read_store(self.root, dict(self.metrics), wanted)

    @work(thread=True, group="runs-read", exit_on_error=False)
    def _read_store(self, root: Path, known: dict[Path, Metrics], wanted: set[Path]) -> None:
        """On a worker thread: the runs, and the records of those the screen shows that are new or
        still growing (read on from copies: the screen's own are never changed here)."""
        try:
            runs = list_runs(root)
        except OSError as exc:  # the store is a file, unreadable...
            self.post_message(self.StoreRead(None, {}, exc))
            return
        read: dict[Path, Metrics] = {}
        for run in runs:
            before = known.get(run.path)
            needed = run.path in wanted or not as_dict(run.summary)
            if needed and (before is None or run.status == "running" or before.offset == 0):
                try:
                    read[run.path] = (read_curves(run.path) if before is None  # a long file sampled
                                      else read_metrics(run.path, copy.deepcopy(before)))
                except (OSError, ValueError):
                    read[run.path] = before or Metrics()
        self.post_message(self.StoreRead(runs, read, None))

    def on_runs_screen_store_read(self, message: StoreRead) -> None:
        self._reading = False
        if not self.shown:
            return
        if message.runs is None:  # say so, keep what was shown
            self.query_one("#runs-title", Static).update(
                Text(f"Runs in {visible(self.root)}: cannot read ({visible(message.error)})", style="red"))
            return
        self.metrics.update(message.metrics)
        self.show_runs(message.runs)  # a run shown unread asks for another read

    def show_runs(self, runs: list[Run]) -> None:
        """Show ``runs``, the cursor kept on the same run (no file is read here)."""
        current = self.current
        self.runs = runs
        paths = {r.path for r in runs}
        self.selected = [p for p in self.selected if p in paths]
        for p in list(self.metrics):
            if p not in paths:
                del self.metrics[p]
        table = self.query_one(DataTable)
        keys = [str(r.path) for r in runs]
        rows = [run_cells(run, self._overview(run), run.path in self.selected, self.color_of(run.path))
                for run in runs]
        columns = shown_columns(rows, self.size.width - 2)  # room for the scroll bar
        if columns != self._columns:
            self._columns = columns
            table.clear(columns=True)
            table.add_columns(*(COLUMNS[i] for i in columns))
        rows = [tuple(cells[i] for i in columns) for cells in rows]
        if [str(k.value) for k in table.rows] == keys:
            for i, (k, cells) in enumerate(zip(keys, rows)):
                before = self._cells.get(k, ())
                for col, cell in enumerate(cells):
                    if col >= len(before) or before[col] != cell:
                        table.update_cell_at(Coordinate(i, col), cell)
        else:
            table.clear()
            for cells, k in zip(rows, keys):
                table.add_row(*cells, key=k)
            if current is not None and str(current.path) in keys:
                table.move_cursor(row=keys.index(str(current.path)), animate=False)
        self._cells = dict(zip(keys, rows))
        empty = not runs
        self.query_one("#runs-empty").display = empty
        table.display = not empty
        self.query_one("#runs-bottom").display = not empty
        running = sum(r.status == "running" for r in runs)
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Runs", style="bold")
        title.append(f" in {visible(self.root)}: {len(runs)}" + (f", {running} running" if running else ""))
        if self.selected:
            title.append(f" · {len(self.selected)} marked")
        self.query_one("#runs-title", Static).update(title)
        self.show_selection()

    def _overview(self, run: Run) -> dict[str, Any]:
        """``overview`` of a run, its records read incrementally where it has no summary yet."""
        try:
            return overview(run, None if as_dict(run.summary) else self._read(run))
        except (AttributeError, TypeError, ValueError):  # a hand-edited run.json of odd types
            return {}

    def _read(self, run: Run) -> Metrics:
        """The run's records as read so far; none yet for one not read: a thread reads them, and
        the screen shows them when they come."""
        metrics = self.metrics.get(run.path)
        if metrics is None:
            self._wanted.add(run.path)
            self.call_later(self.refresh_runs)
            return Metrics()
        return metrics

    def show_selection(self) -> None:
        """The marked runs' curves (the run under the cursor when none is marked) and their differences."""
        by_path = {r.path: r for r in self.runs}
        chosen = [by_path[p] for p in self.selected if p in by_path]
        shown = chosen or ([self.current] if self.current is not None else [])
        series = []
        for run in shown:
            metrics = self._read(run)
            x, y = metrics.val.arrays()
            if not len(x):
                x, y = metrics.train.arrays()
            label = visible(run.name or run.id)
            series.append(Curve(x, y, self.color_of(run.path) or CYAN, name=label))
        y_label = "val loss" if all(len(self._read(r).val.arrays()[0]) for r in shown) else "loss"
        self.query_one(MultiPlot).update_plot(series, PlotOptions(x_label="epoch", y_label=y_label, x_integer=True))
        self.query_one("#runs-diff", Static).update(self.diff_text(chosen))

    def diff_text(self, chosen: list[Run]) -> Text:
        text = Text()
        current = self.current
        if len(chosen) < 2 and current is not None and current.problem is not None:  # why it cannot be shown
            text.append("Unreadable\n", style="bold red")
            text.append(visible(current.problem))
            return text
        if len(chosen) < 2:
            text.append("Mark two runs or more (space) to see the settings that differ.", style="dim")
            return text
        try:  # the settings each run began with, and those its live changes left it with
            starts = [as_dict(run.settings) for run in chosen]
            finals = [final_settings(run, self._read(run)) for run in chosen]
            keys = list(dict.fromkeys(differing(starts) + differing(finals)))
            texts = [[{k: setting_text(k, s) for k in keys} for s in (start, final)] for start, final in zip(starts, finals)]
        except (TypeError, AttributeError, ValueError):  # a damaged run.json: nothing to compare
            keys = []
        if not keys:
            text.append("Same settings.", style="bold")
            return text
        text.append("Differs\n", style="bold")
        if any(start[k] != final[k] for k in keys for start, final in texts):
            text.append("a ", style="dim")
            text.append("->", style="yellow")
            text.append(" b: changed live\n", style="dim")
        for k in keys:
            text.append(f"{visible(k)}\n", style="bold")
            for run, (start, final) in zip(chosen, texts):
                color = self.color_of(run.path) or GREY
                began, ended = start[k], final[k]
                text.append("  ● ", style=rgb(color))
                if began == ended:
                    text.append(f"{ended}\n")
                else:  # the value it began with, and the one its live changes left
                    text.append(began)
                    text.append(" -> ", style="yellow")
                    text.append(f"{ended}\n")
        return text

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.selected and self.shown:
            self.show_selection()

    # -- actions -----------------------------------------------------------------------------

    def action_toggle_select(self) -> None:
        run = self.current
        if run is None:
            return
        if run.path in self.selected:
            self.selected.remove(run.path)
        else:
            self.selected.append(run.path)
        self.show_runs(self.runs)

    def action_watch(self) -> None:
        run = self.current
        if run is not None:
            self.app.push_screen(WatchScreen(run.path))

    def action_open(self) -> None:
        run = self.current
        if run is None or self._opening:
            return
        if run.status == "running":
            self.app.push_screen(WatchScreen(run.path))
            return
        if self.training is None:
            self.notify("Continuing a run needs the main screen", severity="warning", timeout=4)
            return
        self._opening = True
        self._continue(run)

    @work(group="runs-open")
    async def _continue(self, run: Run) -> None:
        """Open the run's checkpoint in the main screen to go on from it."""
        from ...experiments.session import read_experiment

        try:
            file = run.path / "model.npz"
            if not file.is_file():
                self.notify(f"Run {visible(run.id)} has no checkpoint ({visible(file)}) to continue from",
                            severity="warning", timeout=6, markup=False)
                return
            try:
                loaded = await asyncio.to_thread(read_experiment, file)  # off the event loop
            except Exception as exc:  # noqa: BLE001 - a file that cannot be used is a message, the app goes on
                self.notify(f"Could not continue {visible(about(file, exc))}", severity="error", timeout=8,
                            markup=False)
                return
            if self.training.session.trained and not await self.app.push_screen_wait(
                ConfirmDialog(f"Replace the current training with run {visible(run.id)}?", yes="Continue it",
                              no="Cancel")
            ):
                return
            if not self.shown:
                return
            await self.training.use(loaded)
            self.notify(f"Loaded run {visible(run.id)}: space trains on from it, recorded as a new run", timeout=5,
                        markup=False)
            if self.start_leaving():
                self.dismiss_when_on_top()
        finally:
            self._opening = False

    def action_leave(self) -> None:
        if self.start_leaving():
            self.dismiss_when_on_top()
