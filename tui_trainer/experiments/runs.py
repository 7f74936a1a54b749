"""The run store: every training recorded as a folder that other processes can read while it grows.

A run is a folder under the runs directory (``./runs``, ``NN_TUI_RUNS`` or ``--runs-dir``)::

    runs/20261130-021503-7f3a/
        run.json        id, name, status, pid and host, times, source, settings, final summary
        config.toml     the experiment as it started
        metrics.jsonl   one JSON object a line, appended: epochs (all), steps (a few a second), events
        heartbeat       its modification time is the writer's last sign of life
        model.npz       the latest checkpoint (written whole, through the atomic writer)

The writer appends each record with one ``write`` of a whole line to a file opened for appending,
so a reader sees whole lines, and at worst, after a crash, a last line cut short, which readers
skip. ``run.json`` and the checkpoint are replaced atomically. Readers never lock or write a
run's files. A run whose ``run.json`` says ``running`` is shown as ``interrupted`` once its writer
is gone: its process no longer exists (same host), or its heartbeat is older than
``STALE_SECONDS`` (the writer beats every ``HEARTBEAT_SECONDS``, paused or not).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from ..engine.atomic import write_atomic
from ..engine.numbers import finite_or_none
from .config import ExperimentConfig, dumps_config
from .series import DownsampledSeries
from .settings import SETTINGS, is_set, live_names, stored_value

RUNS_ENV = "NN_TUI_RUNS"
"""Environment variable naming the runs directory."""
DEFAULT_RUNS_DIR = Path("runs")
HEARTBEAT_SECONDS = 2.0
"""How often a live writer touches its ``heartbeat`` file."""
STALE_SECONDS = 15.0
"""A ``running`` run whose heartbeat is older than this is taken for interrupted (its writer died
on another machine, or froze)."""
STEP_RECORDS_PER_SECOND = 10
"""At most this many step records a second: enough for a live curve, little disk for a long run."""
CHECKPOINT_SECONDS = 30.0
"""Default least seconds between two checkpoints of a running headless run."""
CURVE_POINTS = 2048
"""Points a reader keeps per curve, however long the run (older ones are averaged together)."""
STATUSES = ("running", "finished", "diverged", "interrupted")


def runs_dir(option: str | os.PathLike | None = None) -> Path:
    """The runs directory: the option, else ``NN_TUI_RUNS``, else ``./runs``."""
    if option:
        return Path(option)
    env = os.environ.get(RUNS_ENV)
    return Path(env) if env else DEFAULT_RUNS_DIR


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def settings_of(config: ExperimentConfig) -> dict[str, Any]:
    """The settings a run list shows and ``runs compare`` compares, flat and JSON-friendly."""
    d, n, o, t = config.data, config.network, config.optimizer, config.training
    flat = {
        "dataset": d.dataset if d.path is None else str(d.path),
        "n_samples": d.n_samples, "noise": d.noise, "val_split": d.val_split,
        "hidden": list(n.hidden), "activation": n.activation if n.activations is None else list(n.activations),
        "optimizer": o.name, "lr": o.lr, "batch_size": t.batch_size, "epochs": t.epochs, "seed": t.seed,
    }
    flat.update({f"{o.name}.{k}": v for k, v in sorted(o.hparams.items())})
    optional = {  # generalization settings, listed where set, so that a run without them reads as before
        "features": None if d.features is None else list(d.features),
        **{s.name: stored_value(s, getattr(getattr(config, s.section), s.name)) for s in SETTINGS.values()},
        "schedule": None if o.schedule is None else dict(o.schedule),
    }
    flat.update({k: v for k, v in optional.items() if v is not None})
    return flat


# -- writing -----------------------------------------------------------------------------------


class RunWriter:
    """Records one run: ``epoch``, ``step`` and ``event`` as they happen, ``checkpoint`` now and
    then, ``finish`` at the end. Call from one thread at a time (the training thread); only the
    heartbeat runs on a thread of its own."""

    def __init__(self, root: Path, config: ExperimentConfig, *, source: str, name: str | None = None,
                 folder: Path | None = None) -> None:
        self.path = _new_folder(Path(root)) if folder is None else _own_folder(Path(folder))
        self.id = self.path.name
        self.meta: dict[str, Any] = {
            "id": self.id, "name": name or "", "status": "running", "pid": os.getpid(),
            "host": socket.gethostname(), "started": now_iso(), "created": time.time(), "ended": None,
            "source": source,
            "settings": settings_of(config), "summary": None, "checkpoint": None,
        }
        write_atomic(self.path / "config.toml", dumps_config(config))
        self._write_meta()
        self._metrics = os.open(self.path / "metrics.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._last_step_record = 0.0
        self._last_checkpoint = -math.inf  # the first epoch's end writes one: a watcher sees weights early
        self._beating = threading.Event()
        (self.path / "heartbeat").touch()
        self._beat = threading.Thread(target=self._heartbeat, name=f"heartbeat {self.id}", daemon=True)
        self._beat.start()

    # records

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps({k: finite_or_none(v) if isinstance(v, float) else v for k, v in record.items()})
        if not self._beating.is_set():
            os.write(self._metrics, (line + "\n").encode())

    def epoch(self, record) -> None:
        """An ``EpochRecord``: always written."""
        self._append({"kind": "epoch", "epoch": record.epoch, "step": record.step, "train_loss": record.train_loss,
                      "val_loss": record.val_loss, "metric": record.metric_name,
                      "train_metric": record.train_metric, "val_metric": record.val_metric,
                      "lr": record.lr, "seconds": record.seconds})

    def step(self, step: int, loss: float) -> None:
        """A step's loss, written at most ``STEP_RECORDS_PER_SECOND`` times a second."""
        now = time.monotonic()
        if now - self._last_step_record >= 1 / STEP_RECORDS_PER_SECOND:
            self._last_step_record = now
            self._append({"kind": "step", "step": step, "loss": loss})

    def event(self, step: int, what: str, **values: Any) -> None:
        """A live change made while training, e.g. ``event(120, "lr", value=0.01)``."""
        self._append({"kind": "event", "step": step, "what": what, **values})

    def checkpoint_due(self, seconds: float = CHECKPOINT_SECONDS) -> bool:
        return time.monotonic() - self._last_checkpoint >= seconds

    def checkpoint(self, experiment, **save_options: Any) -> None:
        """Write ``model.npz`` whole (``Experiment.save``), for ``watch`` and ``--resume``."""
        experiment.save(self.path / "model.npz", **save_options)
        self._last_checkpoint = time.monotonic()
        if self.meta["checkpoint"] is None:
            self.meta["checkpoint"] = "model.npz"
            self._write_meta()

    def finish(self, status: str, summary: dict[str, Any] | None = None) -> None:
        """End the run: its status (finished, diverged or interrupted) and final numbers."""
        if status not in STATUSES[1:]:
            raise ValueError(f"a run ends finished, diverged or interrupted, not {status!r}")
        if self.finished:
            return
        self._beating.set()
        try:
            os.close(self._metrics)
        except OSError:
            pass
        self.meta.update(status=status, ended=now_iso(), summary=summary)
        self._write_meta()

    def note(self, **values: Any) -> None:
        """Add JSON values to ``run.json`` (e.g. ``out="results/first"``)."""
        self.meta.update(values)
        self._write_meta()

    def _write_meta(self) -> None:
        try:  # a name given meanwhile by ``rename_run`` (another process) is kept
            on_disk = json.loads((self.path / "run.json").read_text(encoding="utf-8"))
            if isinstance(on_disk, dict) and isinstance(on_disk.get("name"), str):
                self.meta["name"] = on_disk["name"]
        except (OSError, ValueError):
            pass
        write_atomic(self.path / "run.json", json.dumps(self.meta, indent=1) + "\n")

    @property
    def finished(self) -> bool:
        return self._beating.is_set()

    def _heartbeat(self) -> None:
        beat = self.path / "heartbeat"
        while not self._beating.wait(HEARTBEAT_SECONDS):
            try:
                os.utime(beat)
            except OSError:  # the folder was removed under a running writer: nothing to keep alive
                return


def _new_folder(root: Path) -> Path:
    """``root/<date>-<time>-<4 hex>``, made here and now (never an existing one)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    while True:
        path = root / f"{stamp}-{secrets.token_hex(2)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _own_folder(path: Path) -> Path:
    """A folder the user named for the run: new, or empty, or a run folder already."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path}: exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- reading -----------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run's ``run.json`` says, with its status as it is now."""

    path: Path
    meta: dict[str, Any]
    status: str

    @property
    def id(self) -> str:
        return self.meta.get("id") or self.path.name

    @property
    def name(self) -> str:
        return self.meta.get("name") or ""

    @property
    def settings(self) -> dict[str, Any]:
        return self.meta.get("settings") or {}

    @property
    def summary(self) -> dict[str, Any]:
        return self.meta.get("summary") or {}


def read_run(path: Path) -> Run:
    """The run in folder ``path``; ``ValueError`` naming the file when it is not one."""
    meta_file = path / "run.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: not a run (no run.json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{meta_file}: cannot be read ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{meta_file}: not a run description")
    return Run(path, meta, _status(path, meta))


def _status(path: Path, meta: dict[str, Any]) -> str:
    status = meta.get("status")
    if status not in STATUSES:
        return "interrupted"
    if status != "running":
        return status
    if meta.get("host") == socket.gethostname() and not _alive(meta.get("pid")):
        return "interrupted"
    try:
        age = time.time() - os.stat(path / "heartbeat").st_mtime
    except OSError:
        return "interrupted"
    return "running" if age < STALE_SECONDS else "interrupted"


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def list_runs(root: Path) -> list[Run]:
    """Every run under ``root``, newest first (folders that are not runs are passed over)."""
    runs = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.is_dir() and not entry.name.startswith("."):
            try:
                runs.append(read_run(Path(entry.path)))
            except ValueError:
                continue
    runs.sort(key=_start_key, reverse=True)
    return runs


def _start_key(run: Run) -> tuple[float, str]:
    created = run.meta.get("created")
    if not isinstance(created, (int, float)) or isinstance(created, bool):
        try:
            created = datetime.fromisoformat(str(run.meta.get("started"))).timestamp()
        except ValueError:
            created = 0.0
    return float(created), run.id


def find_run(root: Path, ref: str) -> Run:
    """A run by its folder path, its id, the start of its id, or its name; ``ValueError`` saying
    which runs there are when none (or several) match."""
    if not ref:
        raise ValueError("an empty run id; `nn-tui runs` lists them")
    candidate = Path(ref)
    if (candidate / "run.json").is_file():
        return read_run(candidate)
    if candidate.is_dir() and (len(candidate.parts) > 1 or not (Path(root) / ref).is_dir()):
        raise ValueError(f"{ref}: not a run (no run.json)")
    runs = list_runs(root)
    for test in (lambda r: r.id == ref, lambda r: r.name == ref, lambda r: r.id.startswith(ref)):
        found = [r for r in runs if test(r)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"{ref!r} matches {len(found)} runs ({', '.join(r.id for r in found[:4])}); "
                             "give more of the id")
    where = f"in {root}" if runs else f"{root} holds no runs"
    raise ValueError(f"no run {ref!r} {where}; `nn-tui runs` lists them")


def rename_run(run: Run, name: str) -> None:
    """Give a run a name (a running writer keeps it). Re-reads ``run.json`` so nothing the
    writer wrote since ``run`` was read is lost."""
    meta = read_run(run.path).meta
    meta["name"] = name
    write_atomic(run.path / "run.json", json.dumps(meta, indent=1) + "\n")
    run.meta = meta


def remove_run(run: Run) -> None:
    """Delete a run's folder; not a running one (its writer would go on writing)."""
    if run.status == "running":
        raise ValueError(f"run {run.id} is still running; stop it first")
    shutil.rmtree(run.path)


@dataclass
class Metrics:
    """A run's records as read so far, bounded whatever the run's length."""

    epochs: list[dict[str, Any]] = field(default_factory=list)
    """The latest epoch records (at most ``CURVE_POINTS``)."""
    train: DownsampledSeries = field(default_factory=lambda: DownsampledSeries(CURVE_POINTS))
    """Cost over the training set by epoch."""
    val: DownsampledSeries = field(default_factory=lambda: DownsampledSeries(CURVE_POINTS))
    val_metric: DownsampledSeries = field(default_factory=lambda: DownsampledSeries(CURVE_POINTS))
    steps: DownsampledSeries = field(default_factory=lambda: DownsampledSeries(CURVE_POINTS))
    """Mini-batch loss by step."""
    events: list[dict[str, Any]] = field(default_factory=list)
    live: dict[str, Any] = field(default_factory=dict)
    """The live changes read so far, folded: the last value of each setting changed live
    (``final_settings`` puts them over the run's starting settings); bounded however many came."""
    metric: str = "accuracy"
    seconds: float = 0.0
    """Training seconds of all the epochs read (each epoch's own time, summed)."""
    offset: int = 0
    """Bytes of ``metrics.jsonl`` read so far: ``follow`` reads on from here."""

    @property
    def last(self) -> dict[str, Any] | None:
        return self.epochs[-1] if self.epochs else None


def read_metrics(path: Path, metrics: Metrics | None = None) -> Metrics:
    """Read ``metrics.jsonl`` of run folder ``path`` (on from ``metrics.offset`` when given): whole
    lines only, so a line being written, or cut short by a crash, is left for later."""
    metrics = metrics or Metrics()
    try:
        with open(path / "metrics.jsonl", "rb") as f:
            f.seek(metrics.offset)
            data = f.read()
    except FileNotFoundError:
        return metrics
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # a damaged line is passed over, the rest still counts
        if isinstance(record, dict):
            _take(metrics, record)
    metrics.offset += end
    return metrics


def _take(metrics: Metrics, r: dict[str, Any]) -> None:
    kind = r.get("kind")
    try:
        if kind == "epoch":
            metrics.epochs.append(r)
            del metrics.epochs[:-CURVE_POINTS]
            metrics.metric = r.get("metric") or metrics.metric
            x = float(r["epoch"])
            if isinstance(r.get("seconds"), (int, float)):
                metrics.seconds += float(r["seconds"])
            _add(metrics.train, x, r.get("train_loss"))
            _add(metrics.val, x, r.get("val_loss"))
            _add(metrics.val_metric, x, r.get("val_metric"))
        elif kind == "step":
            _add(metrics.steps, float(r["step"]), r.get("loss"))
        elif kind == "event":
            metrics.events.append(r)
            del metrics.events[:-CURVE_POINTS]
            _fold_change(metrics.live, r)
    except (KeyError, TypeError, ValueError):
        pass


def _add(series: DownsampledSeries, x: float, y: Any) -> None:
    if isinstance(y, (int, float)) and not isinstance(y, bool) and math.isfinite(y):
        series.append(x, float(y))


def live_settings() -> tuple[str, ...]:
    """Settings a live change event of that name sets (``Session``'s run events), besides the optimizer's."""
    return ("batch_size", "epochs", *live_names(), "schedule")


def _fold_change(live: dict[str, Any], event: dict[str, Any]) -> None:
    """Fold one live change event (as the session records them) into ``live``."""
    what = event.get("what")
    if what == "lr" and "value" in event:
        live["lr"] = event["value"]
    elif what in ("optimizer", "hparams") and isinstance(event.get("name"), str):
        live["optimizer"] = event["name"]
        if "lr" in event:
            live["lr"] = event["lr"]
        hparams = event.get("hparams")
        live["hparams"] = {"name": event["name"], "values": dict(hparams) if isinstance(hparams, dict) else {}}
    elif what in live_settings() and "value" in event:
        live[what] = event["value"]


def final_settings(run: Run, metrics: Metrics) -> dict[str, Any]:
    """``run.settings`` as the live changes in ``metrics`` left them: the settings the run ended
    with (or has now), in the form ``settings_of`` gives."""
    start = run.settings if isinstance(run.settings, dict) else {}
    out = dict(start)
    live = metrics.live
    for key in ("optimizer", "lr"):
        if key in live:
            out[key] = live[key]
    if "hparams" in live:
        old = start.get("optimizer")
        out = {k: v for k, v in out.items() if not (isinstance(old, str) and k.startswith(f"{old}."))}
        out.update({f"{live['hparams']['name']}.{k}": v for k, v in sorted(live["hparams"]["values"].items())})
    for key in live_settings():
        if key in live:
            value = live[key]
            if value is None or (key in SETTINGS and not is_set(SETTINGS[key], value)):
                out.pop(key, None)  # off: ``settings_of`` leaves it out
            else:
                out[key] = value
    return out


def differing(settings: list[dict[str, Any]]) -> list[str]:
    """The keys whose values are not the same in every one of ``settings``, in a stable order."""
    keys: list[str] = []
    for one in settings:
        keys += [k for k in one if k not in keys]
    return [k for k in keys if len({json.dumps(one.get(k)) for one in settings}) > 1]


def differing_settings(runs: Iterable[Run]) -> list[str]:
    """The settings whose values are not the same in every run, in a stable order."""
    return differing([run.settings for run in runs])


def overview(run: Run, metrics: Metrics | None = None) -> dict[str, Any]:
    """One run as ``nn-tui runs --json`` lists it: id, name, path, status, dataset, hidden,
    optimizer, lr, epochs, train_loss, val_loss, ``val_accuracy`` or ``val_r2``, started and
    seconds. A finished run's numbers are its summary (what ``train --json`` printed); a running
    or interrupted one's come from its last epoch record (``metrics``, read here when not given)."""
    s, summary = run.settings, run.summary
    row: dict[str, Any] = {
        "id": run.id, "name": run.name, "path": str(run.path), "status": run.status,
        "dataset": s.get("dataset"), "hidden": s.get("hidden"), "optimizer": s.get("optimizer"),
        "lr": s.get("lr"),
    }
    if summary:
        label = "val_r2" if "val_r2" in summary else "val_accuracy"
        row.update(optimizer=summary.get("optimizer", row["optimizer"]), lr=summary.get("lr", row["lr"]),
                   epochs=summary.get("epochs"), train_loss=summary.get("train_loss"),
                   val_loss=summary.get("val_loss"))
        row[label] = summary.get(label)
        seconds = summary.get("seconds")
    else:
        metrics = metrics if metrics is not None else read_metrics(run.path)
        last = metrics.last or {}
        label = "val_r2" if metrics.metric == "r2" else "val_accuracy"
        row.update(epochs=last.get("epoch", 0), train_loss=last.get("train_loss"), val_loss=last.get("val_loss"))
        row[label] = last.get("val_metric")
        if last.get("lr") is not None:
            row["lr"] = last["lr"]
        seconds = round(metrics.seconds, 4)
    row.update(started=run.meta.get("started"), seconds=seconds)
    return row


def metric_text(row: dict[str, Any]) -> str:
    """A run's validation metric as ``overview`` gives it: ``85.0%`` accuracy, ``R2 0.912``, or ``-``."""
    accuracy, r2 = row.get("val_accuracy"), row.get("val_r2")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and math.isfinite(accuracy):
        return f"{100 * accuracy:.1f}%"
    if isinstance(r2, (int, float)) and not isinstance(r2, bool) and math.isfinite(r2):
        return f"R2 {r2:.3f}"
    return "-"
