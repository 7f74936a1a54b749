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
from ..engine.text import visible
from .config import ExperimentConfig, dumps_config
from .limits import MAX_EPOCHS
from .series import DownsampledSeries
from .settings import SETTINGS, is_set, listed, live_names, stored_value

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
CHECKPOINT_SECONDS = 5.0
"""Default least seconds between two checkpoints of a running run (the app's and ``nn-tui train``'s):
a kill loses at most this much training and the epoch in progress, well under 10 s. Written on the
training thread, which it holds up little: spiral's default network took 3-20 ms a checkpoint here,
a 2 -> 1024 -> 1024 -> 3 network (1M weights and Adam's state) 50-140 ms: 0.1-3% of 5 s."""
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
    flat = listed({  # with the settings every run lists (the split, the seed) in their places
        "dataset": d.source,
        "hidden": list(n.hidden), "activation": n.activation if n.activations is None else list(n.activations),
        "optimizer": o.name,
    }, config)
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
        self._seconds = 0.0  # training seconds so far: each epoch record's ``total_seconds``
        self._last_checkpoint = -math.inf  # the first epoch's end writes one: a watcher sees weights early
        self._beating = threading.Event()
        (self.path / "heartbeat").touch()
        self._beat = threading.Thread(target=self._heartbeat, name=f"heartbeat {self.id}", daemon=True)
        self._beat.start()

    # records

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps({k: finite_or_none(v) if isinstance(v, float) else v for k, v in record.items()})
        if not self._beating.is_set():
            try:
                os.write(self._metrics, (line + "\n").encode())
            except OSError as exc:  # e.g. a full disk: said naming the file
                raise OSError(exc.errno, exc.strerror, str(self.path / "metrics.jsonl")) from None

    def epoch(self, record) -> None:
        """An ``EpochRecord``: always written."""
        self._append({"kind": "epoch", "epoch": record.epoch, "step": record.step, "train_loss": record.train_loss,
                      "val_loss": record.val_loss, "metric": record.metric_name,
                      "train_metric": record.train_metric, "val_metric": record.val_metric,
                      "lr": record.lr, "seconds": record.seconds,
                      "total_seconds": self._add_seconds(record.seconds)})

    def _add_seconds(self, seconds: Any) -> float:
        if isinstance(seconds, (int, float)) and math.isfinite(seconds):
            self._seconds += float(seconds)
        return round(self._seconds, 6)

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
        with _MetaLock(self.path, wait=2.0):  # ``rename_run`` holds it from its read to its write
            try:  # a name given meanwhile by ``rename_run`` (another process) is kept
                on_disk = _load_meta(self.path / "run.json")
                if isinstance(on_disk.get("name"), str):
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


UNREADABLE = "unreadable"
"""The status of a run whose ``run.json`` cannot be read or holds values of the wrong kind."""
RUN_JSON_MAX_BYTES = 1 << 20
"""The largest ``run.json`` read (1 MiB: a real one is a few KiB)."""
MAX_JSON_DEPTH = 16
"""Deepest nesting a ``run.json`` may have (a real one nests 3 deep)."""
CLOCK_SKEW_SECONDS = 60.0
"""A heartbeat dated this far in the future is believed (another machine's clock); further, it is stale."""
MAX_PID = 2**31 - 1


@dataclass
class Run:
    """What a run's ``run.json`` says, with its status as it is now. An unreadable one has
    status ``unreadable``, empty ``meta`` and the file and reason in ``problem``."""

    path: Path
    meta: dict[str, Any]
    status: str
    problem: str | None = None

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


def _depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar is 0), without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, (dict, list)):
            level += 1
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            todo.extend((v, level) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _time_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        return "not a time"
    try:
        when = datetime.fromisoformat(value)
        when.timestamp()
        when.astimezone()
    except (ValueError, OverflowError, OSError):
        return f"{value!r} is not a time nn-tui can read"
    return None


def _meta_problem(meta: Any) -> str | None:
    """Why a parsed ``run.json`` is not a run description nn-tui can show, or None."""
    if not isinstance(meta, dict):
        return "not a run description (a JSON object)"
    if _depth(meta) > MAX_JSON_DEPTH:
        return "nested too deeply"
    for key in ("id", "name", "status", "host", "source"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            return f"{key} is not a text"
    for key in ("settings", "summary"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            return f"{key} is not a table of values"
    pid = meta.get("pid")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID):
        return "pid is not a process id"
    created = meta.get("created")
    if created is not None:
        if isinstance(created, bool) or not isinstance(created, (int, float)):
            return "created is not a time"
        try:
            if not math.isfinite(float(created)) or abs(float(created)) > 1e11:
                return "created is not a time"
        except OverflowError:
            return "created is not a time"
    for key in ("started", "ended"):
        problem = _time_problem(meta.get(key))
        if problem is not None:
            return f"{key}: {problem}"
    return None


def _load_meta(meta_file: Path) -> dict[str, Any]:
    """The parsed, checked ``run.json``; ``FileNotFoundError`` when there is none, else
    ``ValueError`` with the reason."""
    from ..engine.csvdata import UnreadableFile, open_regular

    try:
        os.lstat(meta_file)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror or exc})") from None
    try:
        with open_regular(meta_file, RUN_JSON_MAX_BYTES, expected="a run description") as f:
            data = f.read(RUN_JSON_MAX_BYTES + 1)
    except UnreadableFile as exc:
        raise ValueError(str(exc)) from None
    except OSError as exc:
        raise ValueError(f"cannot read it ({exc.strerror or exc})") from None
    if len(data) > RUN_JSON_MAX_BYTES:
        raise ValueError(f"larger than the {RUN_JSON_MAX_BYTES // 1024} KiB allowed")
    try:
        meta = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    problem = _meta_problem(meta)
    if problem is not None:
        raise ValueError(problem)
    return meta


def read_run(path: Path) -> Run:
    """The run in folder ``path``; ``ValueError`` naming the file when it is not one (no
    ``run.json``) or it cannot be read (``read_run_or_unreadable`` lists it instead)."""
    run = read_run_or_unreadable(path)
    if run is None:
        raise ValueError(f"{path}: not a run (no run.json)")
    if run.problem is not None:
        raise ValueError(run.problem)
    return run


def read_run_or_unreadable(path: Path) -> Run | None:
    """The run in folder ``path``, an ``unreadable`` one saying which file and why, or None when
    the folder is no run (no ``run.json``). Only a regular ``run.json`` of at most
    ``RUN_JSON_MAX_BYTES`` is read, and only checked values are kept: never a hang, never a failure."""
    meta_file = Path(path) / "run.json"
    try:
        meta = _load_meta(meta_file)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        return Run(Path(path), {}, UNREADABLE, f"{meta_file}: {exc}")
    return Run(Path(path), meta, _status(Path(path), meta))


def _status(path: Path, meta: dict[str, Any]) -> str:
    status = meta.get("status")
    if status not in STATUSES:
        return "interrupted"
    if status != "running":
        return status
    local = meta.get("host") == socket.gethostname()
    state = _process_state(meta.get("pid")) if local else None
    if local and state is None:
        return "interrupted"
    if state in ("T", "t"):  # stopped (Ctrl-Z, a debugger): paused, not dead; its heartbeat waits too
        return "running"
    try:
        age = time.time() - os.stat(path / "heartbeat").st_mtime
    except OSError:
        return "interrupted"
    if age < -CLOCK_SKEW_SECONDS:  # dated in the future: a far-off clock or a copied file, no live writer
        return "interrupted"
    return "running" if age < STALE_SECONDS else "interrupted"


def _process_state(pid: Any) -> str | None:
    """The state letter of process ``pid`` on this machine (``R``, ``S``, ``T`` stopped, ...),
    ``?`` when it lives but its state is unknown, None when there is no such live process."""
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat_line = f.read(4096)
        state = stat_line[stat_line.rindex(b")") + 2:][:1].decode("ascii", "replace")
        return None if state in ("Z", "X", "x") else state
    except (OSError, ValueError):
        pass
    return "?" if _alive(pid) else None


def _alive(pid: Any) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OSError, OverflowError):
        return False
    return True


def list_runs(root: Path) -> list[Run]:
    """Every run under ``root``, newest first: folders that are not runs (no ``run.json``) are
    passed over; a run that cannot be read is listed as ``unreadable``, after the others."""
    runs = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            if entry.is_symlink():  # a link to nowhere, or a loop: listed, so that it can be removed
                try:
                    os.stat(entry.path)
                except OSError as exc:
                    runs.append(Run(Path(entry.path), {}, UNREADABLE,
                                    f"{entry.path}: cannot be read ({exc.strerror or exc})"))
            continue
        run = read_run_or_unreadable(Path(entry.path))
        if run is not None:
            runs.append(run)
    runs.sort(key=_start_key, reverse=True)
    return runs


def _start_key(run: Run) -> tuple[int, float, str]:
    created = run.meta.get("created")
    if not isinstance(created, (int, float)) or isinstance(created, bool):
        try:
            created = datetime.fromisoformat(str(run.meta.get("started"))).timestamp()
        except (ValueError, OverflowError, OSError):
            created = 0.0
    return (run.status != UNREADABLE, float(created), run.id)


def find_run(root: Path, ref: str) -> Run:
    """A run by its id, the start of its id or its name, looked up in the store ``root`` only
    (never a folder of that name in the current directory); or by a folder path (``runs/x``,
    ``./x``, ``/abs/x``: a ref with a ``/``). ``ValueError`` saying which runs there are when none
    (or several) match. ``runs rm``, ``runs name``, ``compare``, ``watch`` and ``train --resume``
    all resolve through here."""
    if not ref:
        raise ValueError("an empty run id; `nn-tui runs` lists them")
    shown = visible(ref)
    if "/" in ref or os.sep in ref or ref in (".", ".."):
        run = read_run_or_unreadable(Path(ref))
        if run is None:
            raise ValueError(f"{shown}: not a run (no run.json)")
        return run
    runs = list_runs(root)
    for test in (lambda r: r.id == ref or r.path.name == ref, lambda r: r.name == ref,
                 lambda r: r.id.startswith(ref) or r.path.name.startswith(ref)):
        found = [r for r in runs if test(r)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"'{shown}' matches {len(found)} runs "
                             f"({', '.join(visible(r.id) for r in found[:4])}); give more of the id")
    where = f"in {visible(root)}" if runs else f"{visible(root)} holds no runs"
    raise ValueError(f"no run '{shown}' {where}; `nn-tui runs` lists them")


LOCK_NAME = "run.json.lock"
LOCK_STALE_SECONDS = 10.0
"""A lock on ``run.json`` older than this was left by a killed process: it is broken."""


class _MetaLock:
    """``run.json.lock`` made with ``O_EXCL``: held by whoever replaces ``run.json`` (the writer,
    ``rename_run``) from reading it to replacing it, so neither writes back what the other changed."""

    def __init__(self, folder: Path, wait: float) -> None:
        self.file = Path(folder) / LOCK_NAME
        self.wait = wait
        self.held = False

    def __enter__(self) -> "_MetaLock":
        deadline = time.monotonic() + self.wait
        while True:
            try:
                os.close(os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                self.held = True
                return self
            except FileExistsError:
                try:
                    if time.time() - os.stat(self.file).st_mtime > LOCK_STALE_SECONDS:
                        os.unlink(self.file)
                        continue
                except OSError:
                    continue
            except OSError:
                return self  # a folder not writable: nothing to lock against
            if time.monotonic() >= deadline:
                return self
            time.sleep(0.005)

    def __exit__(self, *exc_info) -> None:
        if self.held:
            try:
                os.unlink(self.file)
            except OSError:
                pass


def rename_run(run: Run, name: str) -> None:
    """Give a run a name (a running writer keeps it). ``run.json`` is read again and replaced
    under its lock, which the writer takes too, so nothing the writer wrote is written back old."""
    with _MetaLock(run.path, wait=5.0) as lock:
        if not lock.held and (run.path / LOCK_NAME).exists():
            raise ValueError(f"{visible(run.path / 'run.json')}: being written; try again")
        meta = read_run(run.path).meta
        meta["name"] = name
        write_atomic(run.path / "run.json", json.dumps(meta, indent=1) + "\n")
    run.meta = meta


TEMPORARY_PATTERN = ".*.tmp"
"""Temporaries of the atomic writer (``.model.npz.<hex>.tmp``) that a killed writer leaves."""


def clean_temporaries(run: Run) -> int:
    """Remove the temporaries a killed writer left in a run's folder (only when no writer of
    it lives: not ``running``); how many were removed."""
    if run.status in ("running", UNREADABLE):
        return 0
    removed = 0
    try:
        leftovers = list(run.path.glob(TEMPORARY_PATTERN))
    except OSError:
        return 0
    for tmp in leftovers:
        try:
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def remove_run(run: Run) -> None:
    """Delete a run's folder; not a running one (its writer would go on writing), its status
    read again right before. A link in the store is removed as a link (what it points to stays)."""
    if run.status != UNREADABLE:
        again = read_run_or_unreadable(run.path)
        if again is not None and again.status == "running":
            run.status = "running"
    if run.status == "running":
        raise ValueError(f"run {visible(run.id)} is still running; stop it first")
    if run.path.is_symlink():
        run.path.unlink()
        return
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
    skipping: bool = False
    """In the middle of a line too long to be a record (skipped up to its end)."""
    skipped: int = 0
    """Lines passed over for their length."""
    identity: tuple[int, int] | None = None
    """The file read (device, inode): another one there means the run's folder was replaced."""
    restarted: bool = False
    """Read again from the start: the file was replaced since the last read."""
    complete: bool = False
    """Whether the last read reached the end of the file."""
    sampled: bool = False
    """Read by sampling a long file (``read_curves``): the curves hold some of its records."""

    @property
    def last(self) -> dict[str, Any] | None:
        return self.epochs[-1] if self.epochs else None


READ_CHUNK = 1 << 20
"""Bytes of ``metrics.jsonl`` read at a time."""
MAX_RECORD_BYTES = 1 << 20
"""A longer line of ``metrics.jsonl`` is no record of nn-tui's: it is skipped, never held whole."""
TAIL_BYTES = 64 * 1024
"""Bytes read from the end of ``metrics.jsonl`` for its last records (``tail_metrics``)."""


def _open_metrics(file: Path):
    """``metrics.jsonl`` opened (a regular file only: never a pipe or a device), None when there
    is none; ``ValueError`` with the reason when it cannot be read."""
    from ..engine.csvdata import UnreadableFile, open_regular

    try:
        os.lstat(file)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"{visible(file)}: cannot read it ({exc.strerror or exc})") from None
    try:
        return open_regular(file, expected="a metrics file")
    except (UnreadableFile, OSError) as exc:
        raise ValueError(f"{visible(file)}: {exc}") from None


def read_metrics(path: Path, metrics: Metrics | None = None, *, max_bytes: int | None = None) -> Metrics:
    """Read ``metrics.jsonl`` of run folder ``path`` (on from ``metrics.offset`` when given): whole
    lines only, so a line being written, or cut short by a crash, is left for later. Read in
    chunks, in bounded memory: a line over ``MAX_RECORD_BYTES`` is skipped, not held. At most
    ``max_bytes`` are read when given (call again to go on: ``metrics.complete`` says whether all
    was read). A file replaced since (another inode, or shorter than what was read) is read again
    from the start into a new ``Metrics`` whose ``restarted`` is true."""
    metrics = metrics or Metrics()
    f = _open_metrics(Path(path) / "metrics.jsonl")
    if f is None:
        metrics.complete = True
        return metrics
    with f:
        info = os.fstat(f.fileno())
        identity = (info.st_dev, info.st_ino)
        if metrics.identity is not None and (identity != metrics.identity or info.st_size < metrics.offset):
            metrics = Metrics(restarted=True)
        metrics.identity = identity
        f.seek(metrics.offset)
        start = metrics.offset  # file position of ``pending``'s first byte
        pending = b""
        # at least a whole record's worth, else a long line would be read again and again, never passed
        budget = math.inf if max_bytes is None else max(max_bytes, MAX_RECORD_BYTES + READ_CHUNK)
        while budget > 0:
            chunk = f.read(int(min(READ_CHUNK, budget)))
            if not chunk:
                break
            budget -= len(chunk)
            data = pending + chunk if pending else chunk
            i = 0
            while True:
                nl = data.find(b"\n", i)
                if nl < 0:
                    break
                if metrics.skipping:
                    metrics.skipping = False
                else:
                    _line(metrics, data[i:nl])
                i = nl + 1
            pending = data[i:]
            if metrics.skipping or len(pending) > MAX_RECORD_BYTES:  # an overlong line: passed over
                if not metrics.skipping:
                    metrics.skipped += 1
                metrics.skipping = True
                i, pending = len(data), b""
            metrics.offset = start + i
            start = metrics.offset
        metrics.complete = metrics.offset + len(pending) >= os.fstat(f.fileno()).st_size
    return metrics


def _line(metrics: Metrics, line: bytes) -> None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return  # a damaged line is passed over, the rest still counts
    if isinstance(record, dict):
        _take(metrics, record)


SAMPLE_ABOVE = 64 * 2**20
"""A ``metrics.jsonl`` larger than this is sampled for its curves (``read_curves``), not parsed whole."""
SAMPLES = 4096
"""Places of a long ``metrics.jsonl`` read for its curves."""
SAMPLE_LINES = 8
"""Records parsed at each place."""


def read_curves(path: Path) -> Metrics:
    """A run's records for its curves, quick however long the file: ``read_metrics`` up to
    ``SAMPLE_ABOVE`` bytes; a longer file is sampled: ``SAMPLE_LINES`` records at each of
    ``SAMPLES`` evenly spaced places (in order, so each curve keeps its shape, every point a
    recorded value), every live change event (found by a byte search), and the last records
    whole (``tail_metrics``). ``sampled`` says so; ``offset`` is the end, so ``read_metrics`` goes on."""
    file = Path(path) / "metrics.jsonl"
    f = _open_metrics(file)
    if f is None:
        return Metrics(complete=True)
    with f:
        size = os.fstat(f.fileno()).st_size
        if size <= SAMPLE_ABOVE:
            f.close()
            return read_metrics(path)
        metrics = Metrics(sampled=True, identity=(os.fstat(f.fileno()).st_dev, os.fstat(f.fileno()).st_ino))
        events: list[bytes] = []
        position = 0
        while position < size:  # the live changes, wherever they are: a byte search, no parsing
            f.seek(position)
            chunk = f.read(READ_CHUNK + 4096)
            if not chunk:
                break
            at = chunk.find(b'"kind": "event"')
            while 0 <= at < READ_CHUNK:
                start, end = chunk.rfind(b"\n", 0, at) + 1, chunk.find(b"\n", at)
                if end > 0:
                    events.append(chunk[start:end])
                at = chunk.find(b'"kind": "event"', at + 1)
            position += READ_CHUNK
        tail_start = max(0, size - TAIL_BYTES)
        step = tail_start / SAMPLES
        for i in range(SAMPLES):
            at = int(i * step)
            f.seek(at)
            chunk = f.read(max(0, min(64 * 1024, tail_start - at)))  # never into the tail, read below
            lines = chunk.split(b"\n")[1 if i else 0:-1][:SAMPLE_LINES]
            for line in lines:
                if b'"kind": "event"' not in line:
                    _line(metrics, line)
        for line in events:
            _line(metrics, line)
        f.seek(tail_start)
        tail = f.read(TAIL_BYTES).split(b"\n")[1:-1]
        for line in tail:
            if b'"kind": "event"' not in line:
                _line(metrics, line)
        metrics.offset = _last_line_end(f, size)
        last = metrics.last
        total = last.get("total_seconds") if last else None
        metrics.seconds = float(total) if isinstance(total, (int, float)) and not isinstance(total, bool) \
            and math.isfinite(total) else math.nan
        metrics.complete = True
    return metrics


def _last_line_end(f, size: int) -> int:
    """The offset just past the last newline of the open file of ``size`` bytes."""
    f.seek(max(0, size - MAX_RECORD_BYTES))
    data = f.read(MAX_RECORD_BYTES)
    return max(0, size - MAX_RECORD_BYTES) + data.rfind(b"\n") + 1


def tail_metrics(path: Path) -> Metrics:
    """The last records of ``metrics.jsonl`` (its last ``TAIL_BYTES``): enough for a run's last
    epoch (``overview``) however long the file, without reading it all. ``seconds`` is the last
    epoch record's ``total_seconds`` (the writer's running sum) where it has one; NaN (not known)
    for a long file of an older writer without it."""
    metrics = Metrics()
    f = _open_metrics(Path(path) / "metrics.jsonl")
    if f is None:
        return metrics
    with f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - TAIL_BYTES))
        data = f.read(TAIL_BYTES)
    lines = data.split(b"\n")[:-1]  # the last piece has no end yet
    if size > TAIL_BYTES and lines:
        lines = lines[1:]  # the first piece may be the end of a longer line
    for line in lines:
        _line(metrics, line)
    last = metrics.last
    total = last.get("total_seconds") if last else None
    if isinstance(total, (int, float)) and not isinstance(total, bool) and math.isfinite(total):
        metrics.seconds = float(total)
    elif size > TAIL_BYTES:  # an older file without running sums: not known without reading it all
        metrics.seconds = math.nan
    return metrics


def _take(metrics: Metrics, r: dict[str, Any]) -> None:
    kind = r.get("kind")
    try:
        if kind == "epoch":
            x = r.get("epoch")
            if not _whole_epoch(x):
                return  # a forged epoch (1e308) would stretch every curve's axis to nothing
            metrics.epochs.append(r)
            del metrics.epochs[:-CURVE_POINTS]
            metrics.metric = r.get("metric") or metrics.metric
            x = float(x)
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


def _whole_epoch(value: Any) -> bool:
    """Whether ``value`` can be an epoch count of a run: a whole number from 0 to ``MAX_EPOCHS``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value == int(value) and 0 <= value <= MAX_EPOCHS


def _add(series: DownsampledSeries, x: float, y: Any) -> None:
    if isinstance(y, (int, float)) and not isinstance(y, bool) and math.isfinite(y):
        series.append(x, float(y))


def live_settings() -> tuple[str, ...]:
    """Settings a live change event of that name sets (``Session``'s run events), besides the optimizer's."""
    return (*live_names(), "schedule")


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
    if run.problem is not None:
        row.update(epochs=None, train_loss=None, val_loss=None, val_accuracy=None, started=None, seconds=None,
                   problem=run.problem)
        return row
    if summary:
        label = "val_r2" if "val_r2" in summary else "val_accuracy"
        row.update(optimizer=summary.get("optimizer", row["optimizer"]), lr=summary.get("lr", row["lr"]),
                   epochs=summary.get("epochs"), train_loss=summary.get("train_loss"),
                   val_loss=summary.get("val_loss"))
        row[label] = summary.get(label)
        seconds = summary.get("seconds")
    else:
        if metrics is None:
            try:
                metrics = tail_metrics(run.path)  # the last epoch's numbers: the file's end suffices
            except ValueError as exc:
                metrics = Metrics()
                row["problem"] = str(exc)
        last = metrics.last or {}
        label = "val_r2" if metrics.metric == "r2" else "val_accuracy"
        row.update(epochs=last.get("epoch", 0), train_loss=last.get("train_loss"), val_loss=last.get("val_loss"))
        row[label] = last.get("val_metric")
        if last.get("lr") is not None:
            row["lr"] = last["lr"]
        seconds = round(metrics.seconds, 4)
    row.update(started=run.meta.get("started"), seconds=seconds)
    return row


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity as None (``null``), so that ``json.dumps`` of it is
    JSON (``NaN`` is not); nesting kept."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def metric_text(row: dict[str, Any]) -> str:
    """A run's validation metric as ``overview`` gives it: ``85.0%`` accuracy, ``R2 0.912``, or ``-``."""
    accuracy, r2 = row.get("val_accuracy"), row.get("val_r2")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool) and math.isfinite(accuracy):
        return f"{100 * accuracy:.1f}%"
    if isinstance(r2, (int, float)) and not isinstance(r2, bool) and math.isfinite(r2):
        return f"R2 {r2:.3f}"
    return "-"
