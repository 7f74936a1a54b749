"""The watch view: follows one run folder of the run store while another process (or this app) trains.

It only reads: ``run.json`` for the status, ``metrics.jsonl`` incrementally (``read_metrics`` goes on from
where it stopped) and ``model.npz`` for the weights, reloaded only when the file changes. A checkpoint that
cannot be read (being replaced, damaged) is passed over until the next one. Nothing is ever written to the
run's folder. The files are read on a thread worker (``read_folder``), never on the event loop: it posts
what it read, which the screen shows.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Static

from ...engine.numbers import figure
from ...engine.text import visible
from ...experiments.runs import Metrics, Run, read_metrics, read_run
from ..guard import Guarded
from ..screen_size import AtAppSize
from ..keys import HELP_KEY, HelpKey, key
from ..widgets.lane_colors import CYAN, YELLOW
from ..widgets.multi_plot import Curve, MultiPlot, PlotOptions
from ..widgets.weight_heatmap import WeightHeatmap
from ..widgets.key_footer import KeyFooter
from .lab_common import Part, fit_title
from .leaving import LeavesSafely

POLL_SECONDS = 0.5
"""How often the run's files are read again (a few small reads)."""

STATUS_STYLE = {"running": "bold green", "finished": "bold cyan", "diverged": "bold red", "interrupted": "bold yellow",
                "unreadable": "bold red"}


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict (a damaged ``run.json`` may hold anything), else an empty one."""
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """A finite number, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def short(value: Any) -> str:
    """A number as a short text (``-`` for none, or for a value of another type in a hand-edited file)."""
    return figure(number(value), 4, missing="-")


def network_text(settings: dict[str, Any]) -> str:
    """``16-16 tanh`` from a run's settings (hidden widths and activation)."""
    hidden = settings.get("hidden")
    widths = "-".join(str(h) for h in hidden) if isinstance(hidden, list) and hidden else "no hidden"
    activation = settings.get("activation")
    if isinstance(activation, list):
        activation = "mixed"
    return f"{widths} {activation}" if isinstance(activation, str) else widths


def metric_label(metric: str) -> str:
    return "R^2" if metric == "r2" else "acc"


@dataclass
class FolderRead:
    """What one look at a run folder found (``read_folder``); None where nothing new came."""

    run: Run | None = None
    problem: str | None = None
    """Why ``run.json`` cannot be read now, else None."""
    metrics: Metrics | None = None
    """The records read on from the ones given, when the file grew."""
    metrics_problem: str | None = None
    """Why ``metrics.jsonl`` cannot be read now (a pipe, a device, a folder, ...), else None."""
    checkpoint_problem: str | None = None
    """Why the changed checkpoint cannot be read, else None."""
    params: list | None = None
    """The parameters of a checkpoint that changed and could be read."""
    ckpt_stamp: tuple[int, int] | None = None
    """The checkpoint file's (mtime, size) as seen now."""


READ_BYTES = 16 * 2**20
"""Most bytes of ``metrics.jsonl`` one look reads (a long run's records come in over a few looks)."""


def _in_folder(path: Path, problem: str) -> str:
    """``problem`` with the run folder's path left out of it (the view names the run already)."""
    folder = visible(str(path)) + os.sep
    return problem.replace(folder, "", 1) if problem.startswith(folder) else problem


def read_folder(path: Path, metrics: Metrics, ckpt_stamp: tuple[int, int] | None,
                run_id: str | None = None) -> FolderRead:
    """Read what changed in run folder ``path`` since ``metrics`` and ``ckpt_stamp`` (on a worker
    thread: ``metrics`` is copied before reading on, so the screen's own is never changed). A
    folder replaced by another run's (another id than ``run_id``, or another ``metrics.jsonl``)
    is read from the start: the new ``metrics`` says ``restarted``."""
    from ...engine.checkpoint import load_checkpoint

    found = FolderRead(ckpt_stamp=ckpt_stamp)
    try:
        found.run = read_run(path)
    except ValueError as exc:
        found.problem = str(exc)
    if found.run is not None and run_id is not None and found.run.id != run_id:
        metrics, ckpt_stamp = Metrics(restarted=True), None  # another run in the same folder
        found.ckpt_stamp = None
    try:
        before = metrics.offset, metrics.identity, metrics.restarted
        after = read_metrics(path, copy.deepcopy(metrics), max_bytes=READ_BYTES)
        if (after.offset, after.identity, after.restarted) != before or after.restarted:
            found.metrics = after
    except (OSError, ValueError) as exc:
        found.metrics_problem = _in_folder(path, str(exc) or type(exc).__name__)
    try:
        st = (path / "model.npz").stat()
    except OSError:
        return found
    found.ckpt_stamp = (st.st_mtime_ns, st.st_size)
    if found.ckpt_stamp != ckpt_stamp:
        try:
            params = [p.copy() for p in load_checkpoint(path / "model.npz").net.params]
        except Exception as exc:  # noqa: BLE001 - being replaced or damaged: said, and the next one waited for
            found.checkpoint_problem = _in_folder(path, str(exc) or type(exc).__name__)
            return found
        if len(params) >= 2:
            found.params = params
    return found


class WatchScreen(HelpKey, LeavesSafely, AtAppSize, Guarded, Screen):
    """One run, live: its header, loss curves and the weights of its latest checkpoint."""

    AUTO_FOCUS = ""

    DEFAULT_CSS = """
    WatchScreen #watch-title, WatchScreen #watch-state {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    WatchScreen #watch-body { height: 1fr; }
    WatchScreen #watch-plot { width: 3fr; height: 1fr; }
    WatchScreen #watch-weights { width: 2fr; height: 1fr; }
    WatchScreen #watch-layer { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    WatchScreen WeightHeatmap { height: 1fr; }
    """

    BINDINGS = [
        key("escape,q", "leave", "Back", help="Leave the watch view (the run goes on)"),
        key("left_square_bracket", "layer(-1)", "Layer", key_display="[", title="Previous layer",
            help="Show the previous layer's weights"),
        key("right_square_bracket", "layer(1)", "Layer", show=False, key_display="]", title="Next layer",
            help="Show the next layer's weights"),
        key("l", "toggle_log", "Log", show=False, title="Log scale", help="Loss plot: linear / log scale"),
        HELP_KEY,
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.run: Run | None = None
        """What ``run.json`` said last (None until it could be read)."""
        self.metrics = Metrics()
        self.problem: str | None = None
        """Why the run cannot be read now (its folder removed, ``run.json`` damaged), else None."""
        self.layer_index = 0
        self.params: list | None = None
        """The latest checkpoint's parameters (W1, b1, W2, b2, ...)."""
        self.checkpoint_loads = 0
        """Checkpoints read so far (for tests)."""
        self._ckpt_stamp: tuple[int, int] | None = None
        self._reading = False
        """Whether a worker reads the folder now."""
        self._plotted_offset = -1
        self._log = False
        self.replaced = 0
        """Times the run's folder was found replaced (another run, or another metrics file)."""

    # -- composition -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="watch-title")
        yield Static("", id="watch-state")
        with Horizontal(id="watch-body"):
            yield MultiPlot(id="watch-plot", hint="Waiting for the first epoch...")
            with Vertical(id="watch-weights"):
                yield Label("weights: no checkpoint yet", id="watch-layer")
                yield WeightHeatmap()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll, name="watch poll")

    def on_resize(self) -> None:
        if self.shown:
            self.call_after_refresh(self.show_header)

    # -- reading -----------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.run.status if self.run is not None else "unknown"

    @property
    def epoch(self) -> int | None:
        """The latest epoch recorded."""
        last = self.metrics.last
        value = number(last.get("epoch")) if last else None
        return None if value is None else int(value)

    class Read(Message):
        """What the reading worker found in the folder."""

        def __init__(self, found: FolderRead) -> None:
            super().__init__()
            self.found = found

    def poll(self) -> None:
        """Have a thread read what changed in the run's folder (one look at a time); ``Read`` shows it."""
        if not self.shown or self._reading:
            return
        self._reading = True
        self._read(self.metrics, self._ckpt_stamp, self.run.id if self.run is not None else None)

    @work(thread=True, group="watch-read", exit_on_error=False)
    def _read(self, metrics: Metrics, ckpt_stamp: tuple[int, int] | None, run_id: str | None) -> None:
        try:
            found = read_folder(self.path, metrics, ckpt_stamp, run_id)
        except Exception as exc:  # noqa: BLE001 - shown as the run's problem; the next look tries again
            found = FolderRead(problem=str(exc) or type(exc).__name__, ckpt_stamp=ckpt_stamp)
        self.post_message(self.Read(found))

    def on_watch_screen_read(self, message: Read) -> None:
        self._reading = False
        if not self.shown:
            return
        found = message.found
        self.run = found.run if found.run is not None else self.run
        self.problem = found.problem
        self._ckpt_stamp = found.ckpt_stamp
        if found.metrics is not None:
            self.metrics = found.metrics
            if found.metrics.restarted:  # the folder now holds another run, or other records: start over
                found.metrics.restarted = False
                self._plotted_offset = -1
                self.replaced += 1
                self.notify("The run's folder was replaced: its records are read again from the start",
                            severity="warning", timeout=6, markup=False)
        if found.params is not None:
            self.params = found.params
            self.checkpoint_loads += 1
            self.show_weights()
        elif found.checkpoint_problem is not None and self.params is None:
            self.query_one("#watch-layer", Label).update(
                Text(f"weights: {visible(found.checkpoint_problem)}", no_wrap=True, overflow="ellipsis"))
        hint = "Waiting for the first epoch..." if found.metrics_problem is None else visible(found.metrics_problem)
        plot = self.query_one(MultiPlot)
        if plot.hint != hint:
            plot.set_hint(hint)
        if self.metrics.offset != self._plotted_offset:
            self._plotted_offset = self.metrics.offset
            self.show_plot()
        self.show_header()

    # -- drawing -----------------------------------------------------------------------------

    def header_parts(self) -> list[Part]:
        run = self.run
        settings = as_dict(run.settings) if run is not None else {}
        parts = [Part(visible(run.id) if run is not None else visible(self.path.name), style="bold")]
        if run is not None and run.name:
            parts.append(Part(visible(run.name), drop=1))
        dataset = settings.get("dataset")
        if dataset is not None:
            parts.append(Part(visible(dataset), drop=3))
        if settings:
            parts.append(Part(visible(network_text(settings)), drop=2))
            lr = short(settings.get("lr"))
            optimizer = visible(settings.get("optimizer", "?"))
            parts.append(Part(f"{optimizer} lr {lr}", optimizer, drop=4))
        return parts

    def state_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.problem is not None and self.run is None:
            text.append(visible(self.problem), style="bold red")
            return text
        status = self.status
        text.append(status, style=STATUS_STYLE.get(status, "bold"))
        if self.problem is not None:
            text.append(" (cannot read run.json now)", style="red")
        epochs = number(as_dict(self.run.settings if self.run else {}).get("epochs"))
        epoch = self.epoch
        shown_epoch = "-" if epoch is None else str(epoch)
        text.append(f"  epoch {shown_epoch}" + (f"/{int(epochs)}" if epochs else ""))
        last = self.metrics.last or {}
        label = metric_label(self.metrics.metric)
        metric = last.get("val_metric") if number(last.get("val_metric")) is not None else last.get("train_metric")
        shown = short(metric) if label != "acc" or number(metric) is None else f"{100 * number(metric):.1f}%"
        train, val = last.get("train_loss"), last.get("val_loss")
        numbers = f"  train loss {short(train)}  val loss {short(val)}  {label} {shown}"
        if text.cell_len + len(numbers) > self.size.width - 2:  # narrow: fewer digits and words, all three shown
            numbers = f"  train {figure(number(train), 2, missing='-')}  val {figure(number(val), 2, missing='-')}" \
                      f"  {label} {shown}"
        text.append(numbers)
        return text

    def show_header(self) -> None:
        if not self.shown:
            return
        title = self.query_one("#watch-title", Static)
        width = title.content_size.width or self.size.width - 2
        title.update(fit_title(self.header_parts(), max(width, 10)))
        self.query_one("#watch-state", Static).update(self.state_text())

    def show_plot(self) -> None:
        series = []
        for name, data, color in (("train loss", self.metrics.train, YELLOW), ("val loss", self.metrics.val, CYAN)):
            x, y = data.arrays()
            if len(x):
                series.append(Curve(x, y, color, name=name))
        self.query_one(MultiPlot).update_plot(
            series, PlotOptions(log_y=self._log, x_label="epoch", y_label="loss", x_integer=True),
            live=self.status == "running")

    def show_weights(self) -> None:
        params = self.params
        if params is None or not self.shown:
            return
        layers = len(params) // 2
        self.layer_index = min(self.layer_index, layers - 1)
        W, b = params[2 * self.layer_index], params[2 * self.layer_index + 1]
        self.query_one("#watch-layer", Label).update(
            f"[b]layer {self.layer_index + 1}/{layers}[/b] · latest checkpoint  [dim]\\[ ] layer[/dim]")
        self.query_one(WeightHeatmap).set_matrix(
            W, b, title=f"W{self.layer_index + 1} ({W.shape[0]} x {W.shape[1]})")

    # -- actions -------------------------------------------------------------------------------

    def action_layer(self, delta: int) -> None:
        if self.params is not None:
            self.layer_index = (self.layer_index + delta) % (len(self.params) // 2)
            self.show_weights()

    def action_toggle_log(self) -> None:
        self._log = not self._log
        self.show_plot()

    def action_leave(self) -> None:
        if self.start_leaving():
            self.dismiss_when_on_top()

