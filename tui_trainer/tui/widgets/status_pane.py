"""The status pane: where training stands, in numbers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...engine.numbers import figure, finite_or_none, readout
from ...experiments.hparam_text import hparam_text
from ...experiments.session import Snapshot

STATE_STYLE = {
    "ready": ("ready", "bold"),
    "training": ("training", "bold green"),
    "paused": ("paused", "bold yellow"),
    "diverged": ("diverged", "bold red"),
    "finished": ("finished", "bold cyan"),
}
STATE_HINT = {
    "ready": "space train · n one step",
    "training": "space pause · < > pace",
    "paused": "space go on · n one step",
    "diverged": "lower the rate (-), then space",
    "finished": "space: more epochs",
}


def number(value: float | None, digits: int = 4) -> str:
    """A number in ``digits`` significant digits; '-' when there is none yet."""
    return figure(value, digits, short=False, missing="-")


def metric(value: float | None, places: int = 4) -> str:
    """An accuracy or R² with ``places`` decimals, trailing zeros kept, so that the validation and
    the training figure side by side read alike (``0.6500  train 1.0000``); '-' when there is none yet."""
    value = finite_or_none(value)
    return "-" if value is None else readout(value, places)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class StatusPane(Static, can_focus=True):
    """State, progress, metrics, speed and the optimizer, refreshed with every snapshot."""

    DEFAULT_CSS = """
    StatusPane { padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def _fitting(self, *candidates: str) -> str:
        """The first value that fits beside its 10-column name, else the shortest (the last)."""
        for text in candidates:
            if 10 + len(text) <= self.content_size.width:
                return text
        return candidates[-1]

    def _speed(self, snap: Snapshot) -> str:
        """Steps per second, the pace they are held to, and the elapsed time; shorter where the
        pane is narrow, so that the clock is never the part cut off."""
        rate, elapsed = f"{snap.steps_per_second:,.0f}", clock(snap.elapsed)
        if snap.pace is None:
            return self._fitting(f"{rate} steps/s (max)  {elapsed}", f"{rate}/s (max)  {elapsed}",
                                 f"{rate}/s max  {elapsed}")
        pace = f"{snap.pace:g}"
        return self._fitting(f"{rate} steps/s (pace {pace})  {elapsed}", f"{rate}/s (pace {pace})  {elapsed}",
                             f"pace {pace}/s  {elapsed}")

    def _metrics(self, snap: Snapshot) -> str:
        """Validation and training metric, with fewer digits where the pane is narrow, so that
        the training figure is never the part cut off."""
        return self._fitting(*(f"{metric(snap.val_metric, d)}  train {metric(snap.train_metric, d)}"
                               for d in (4, 3, 2)))

    def _loss(self, snap: Snapshot) -> str:
        """The latest loss; with a weight penalty, ``data + penalty`` (what the step minimized)."""
        if not snap.penalty or snap.loss is None:
            return number(snap.loss)
        return self._fitting(f"{number(snap.loss)} + {number(snap.penalty, 3)} pen",
                             f"{number(snap.loss, 3)} + {number(snap.penalty, 2)} pen",
                             f"{number(snap.loss, 3)}+{number(snap.penalty, 2)}pen")

    def _lr(self, snap: Snapshot) -> str:
        """The lr the optimizer uses now; with a schedule, its name too (the lr it has reached)."""
        if not snap.schedule:
            return f"lr {hparam_text(snap.lr)}"
        return self._fitting(f"lr {hparam_text(snap.lr)} ({snap.schedule})", f"lr {number(snap.lr, 3)} ({snap.schedule})",
                             f"lr {number(snap.lr, 3)} {snap.schedule[:3]}")

    def show(self, snap: Snapshot) -> None:
        label, style = STATE_STYLE[snap.state]
        loss_name = "cost" if snap.batch_mode == "full" else "loss"
        metric_short = "acc" if snap.metric_name == "accuracy" else "R^2"
        batch = {"full": "full batch", "single": "single sample"}.get(snap.batch_mode, "mini-batch")
        rows = [
            ("state", Text(label, style=style)),
            ("epoch", f"{snap.epoch}/{snap.epochs}"),
            ("step", f"{snap.step:,} ({snap.steps_per_epoch}/epoch)"),
            (loss_name, self._loss(snap)),
            *([("cost", number(snap.train_loss))] if snap.batch_mode != "full" else []),
            ("val loss", number(snap.val_loss)),
            (f"val {metric_short}", self._metrics(snap)),
            ("speed", self._speed(snap)),
            (snap.optimizer, self._lr(snap)),
            ("batch", batch),
        ]
        text = Text(no_wrap=True, overflow="ellipsis")
        for name, value in rows:
            text.append(f"{name:<9} ", style="dim")
            text.append(value)
            text.append("\n")
        hint = snap.message or STATE_HINT[snap.state]
        text.append(hint, style=("bold cyan" if snap.early_stopped else "red") if snap.message else "dim italic")
        self.update(text, layout=False)  # fixed size: no need to lay the screen out again
