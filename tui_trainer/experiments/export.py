"""A recorded run written out for other tools: TensorBoard event files and CSV.

Reads the run store (``runs``) like every reader, never locking or disturbing a writer, and
streams ``metrics.jsonl`` record by record, whole lines only (a line being written is left out),
so a long run exports in bounded memory. TensorBoard files are written through ``tensorboardX``
(the optional extra ``nn-tui[tensorboard]``), imported only here and only when asked for.

What a run's TensorBoard folder holds (every value as recorded; TensorBoard keeps scalars as
32-bit floats):

- ``step/train_loss``: the mini-batch loss at the recorded steps (a few a second), x = step;
- ``epoch/train_loss``, ``epoch/val_loss``: the cost over the training and validation sets at
  each epoch's end, x = epoch;
- ``epoch/train_accuracy`` and ``epoch/val_accuracy`` (or ``..._r2`` for regression), ``epoch/lr``;
- ``events``: each change made while training, as text at its step;
- the settings the run started with, as hparams (the hparams tab lists runs by them).

Wall times are the run's start plus the training seconds of the epochs recorded up to that point.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any, Iterator

from . import runs as store

INSTALL_HINT = ("TensorBoard export needs tensorboardX: pip install tensorboardX, or in nn-tui's checkout "
                "pip install '.[tensorboard]' (the tensorboard extra)")
EVENT_FILES = "events.out.tfevents.*"


def records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record of run folder ``path``'s ``metrics.jsonl`` in order, one at a time, as the run
    store reads them: a regular file only (``ValueError`` with the reason otherwise), whole lines
    only (one being written is left out), damaged lines and lines longer than any record passed
    over, in bounded memory whatever the file holds."""
    f = store._open_metrics(Path(path) / "metrics.jsonl")
    if f is None:
        return
    with f:
        pending, skipping = b"", False
        while chunk := f.read(store.READ_CHUNK):
            data = pending + chunk if pending else chunk
            start = 0
            while (end := data.find(b"\n", start)) >= 0:
                if skipping:
                    skipping = False  # the end of an overlong line
                else:
                    record = _record(data[start:end])
                    if record is not None:
                        yield record
                start = end + 1
            pending = data[start:]
            if skipping or len(pending) > store.MAX_RECORD_BYTES:
                skipping, pending = True, b""


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def number(value: Any) -> float | None:
    """A finite number as a float, else None (a diverged epoch records its losses as null)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def metric_name(run: store.Run) -> str:
    """``accuracy`` or ``r2``: the run's metric, as its epoch records name it."""
    for record in records(run.path):
        if record.get("kind") == "epoch" and record.get("metric") in ("accuracy", "r2"):
            return record["metric"]
    return "accuracy"


EPOCH_COLUMNS = ("epoch", "step", "train_loss", "val_loss", "train_{m}", "val_{m}", "lr", "seconds")
"""The CSV's columns (``{m}``: accuracy or r2), one row per epoch."""


def epoch_values(record: dict[str, Any], metric: str) -> dict[str, Any]:
    """An epoch record as the CSV's columns and TensorBoard's epoch scalars name its values."""
    return {"epoch": record.get("epoch"), "step": record.get("step"), "train_loss": record.get("train_loss"),
            "val_loss": record.get("val_loss"), f"train_{metric}": record.get("train_metric"),
            f"val_{metric}": record.get("val_metric"), "lr": record.get("lr"), "seconds": record.get("seconds")}


def write_csv(run: store.Run, out: io.TextIOBase) -> int:
    """The run's epochs as CSV, a header row naming the columns then one row per epoch (an empty
    cell where nothing was recorded, e.g. no validation set); returns the rows written."""
    metric = metric_name(run)
    columns = [c.format(m=metric) for c in EPOCH_COLUMNS]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    rows = 0
    for record in records(run.path):
        if record.get("kind") != "epoch":
            continue
        values = epoch_values(record, metric)
        writer.writerow(["" if values[c] is None else repr(values[c]) if isinstance(values[c], float) else values[c]
                         for c in columns])
        rows += 1
    return rows


def folder_name(run: store.Run, taken: set[str] = frozenset()) -> str:
    """The run's folder in an export: its name (else its id), safe as a file name, unique in ``taken``;
    never with a leading dash (``-rf.csv`` reads as options to a shell command) or dot (hidden)."""
    label = re.sub(r"[^A-Za-z0-9._+=-]+", "_", run.name).lstrip("-._").rstrip("._") if run.name else ""
    label = label or run.id
    return label if label not in taken else f"{label}-{run.id}"


def event_text(event: dict[str, Any]) -> str:
    """A live change as one line: ``lr: value = 0.01`` (the values as JSON)."""
    values = ", ".join(f"{k} = {json.dumps(v)}" for k, v in event.items() if k not in ("kind", "step", "what"))
    return f"{event.get('what')}: {values}" if values else str(event.get("what"))


TEXT_SETTINGS = frozenset({"batch_size"})
"""Settings always exported as text: their values are a number or a word (``32`` or ``full``)."""


def hparam_values(settings: dict[str, Any], as_text: frozenset[str] | set[str] = frozenset()
                  ) -> dict[str, bool | str | float | int]:
    """Settings as the hparams plugin takes them: numbers, text and flags as they are, the rest as
    JSON; ``TEXT_SETTINGS`` and the keys in ``as_text`` as text always (one type per column, as
    TensorBoard's hparams table needs, even where runs differ in kind)."""
    out: dict[str, bool | str | float | int] = {}
    for key, value in settings.items():
        if value is None:
            continue
        plain = isinstance(value, (bool, str, int, float))
        if key in TEXT_SETTINGS or key in as_text:
            out[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            out[key] = value if plain else json.dumps(value)
    return out


def kind(value: Any) -> str:
    """The hparams type a setting's value gets: bool, number or text."""
    if isinstance(value, bool):
        return "bool"
    return "number" if isinstance(value, (int, float)) else "text"


def mixed_settings(runs: list[store.Run]) -> set[str]:
    """The settings whose values are of different kinds in different runs (to export as text)."""
    kinds: dict[str, set[str]] = {}
    for run in runs:
        for key, value in run.settings.items():
            if value is not None:
                kinds.setdefault(key, set()).add(kind(value))
    return {key for key, seen in kinds.items() if len(seen) > 1}


def tensorboard_writer():
    """tensorboardX's ``SummaryWriter`` class and its ``hparams`` helper; ``ImportError`` with
    ``INSTALL_HINT`` when the extra is not installed."""
    try:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return SummaryWriter, hparams


def write_tensorboard(run: store.Run, folder: Path, as_text: set[str] = frozenset()) -> dict[str, int]:
    """The run's event file in ``folder`` (replacing the event files an earlier export left there),
    the settings in ``as_text`` as text; returns how many values each tag got."""
    SummaryWriter, hparams = tensorboard_writer()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(EVENT_FILES):
        old.unlink()
    metric = metric_name(run)
    start = number(run.meta.get("created")) or 0.0
    elapsed = 0.0
    counts: dict[str, int] = {}
    epoch_tags = [c.format(m=metric) for c in EPOCH_COLUMNS if c not in ("epoch", "step", "seconds")]
    with SummaryWriter(logdir=str(folder), flush_secs=3600) as writer:
        def scalar(tag: str, value: Any, step: int) -> None:
            value = number(value)
            if value is not None:
                writer.add_scalar(tag, value, step, walltime=start + elapsed)
                counts[tag] = counts.get(tag, 0) + 1

        for record in records(run.path):
            kind = record.get("kind")
            try:
                if kind == "epoch":
                    elapsed += number(record.get("seconds")) or 0.0
                    values = epoch_values(record, metric)
                    for tag in epoch_tags:
                        scalar(f"epoch/{tag}", values[tag], int(record["epoch"]))
                elif kind == "step":
                    scalar("step/train_loss", record.get("loss"), int(record["step"]))
                elif kind == "event":
                    writer.add_text("events", event_text(record), int(record.get("step") or 0),
                                    walltime=start + elapsed)
                    counts["events"] = counts.get("events", 0) + 1
            except (KeyError, TypeError, ValueError):
                continue  # a record without its step: passed over, as the run store's reader does
        experiment, session_start, session_end = hparams(
            hparam_values(run.settings, as_text), {f"epoch/{t}": 0.0 for t in epoch_tags if f"epoch/{t}" in counts})
        file_writer = writer._get_file_writer()
        for summary in (experiment, session_start, session_end):
            file_writer.add_summary(summary, walltime=start)
    return counts
