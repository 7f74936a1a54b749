"""Headless training for scripts: the report, and the ``--out`` folder written as a transaction.

Used by ``nn-tui train``; kept apart from the click definitions so that tests and other
commands can call it directly.

The ``--out`` folder
--------------------
A result is three files, config.toml, model.npz and metrics.csv, that always belong to the same
run, whatever stops the writer (an error, a full disk, Ctrl-C, a kill); the folder may hold other
files of the user's, which are never touched.

1. Before training, ``prepare_out_dir`` finishes or removes what a killed writer left (see 4),
   then checks that the folder (or its nearest existing parent) is a folder it can write in, by
   making and removing a temporary folder there, and that no output name is taken by a folder.
2. ``write_outputs`` writes the three files (each through ``engine.atomic.write_atomic``, so each is
   on the disk before the folder is renamed) into a staging folder: ``.NAME.<pid>.<hex>.tmp``
   beside DIR when DIR does not exist yet, ``DIR/.nn-tui.<pid>.<hex>.tmp`` inside it when it does
   (inside: on the same file system as the files it replaces, and DIR's parent need not be
   writable, e.g. ``--out .``). A failure removes the staging folder: DIR is as it was, and the
   error names the file (``DIR/model.npz: cannot write: No space left on device``).
3. A new DIR is the staging folder renamed: it appears whole or not at all. In an existing DIR
   the staging folder is renamed to ``.nn-tui.<pid>.<hex>.commit``, the commit point: from here
   the new result is whole and is the one. Then each file replaces the old one (``os.replace``)
   in ``MOVE_ORDER`` and the emptied folder is removed.
4. A writer killed during those three moves leaves DIR mixing old and new files beside the
   ``.commit`` folder, which marks it as mid-update; the next writer (``recover_out_dir``) moves
   the rest in (roll forward). A ``.tmp`` staging folder is an unfinished write and is removed.
   Both only once the process named in them is gone, so a live writer's work is never touched.
   Older writers' per-file temporaries (``.model.npz.<random>.tmp``) go once an hour old.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .config import dumps_config
from ..engine.atomic import sync, write_atomic
from ..engine.trainer import EpochRecord, TrainResult
from .experiment import Experiment
from .results import ended_numbers

OUT_FILES = ("config.toml", "model.npz", "metrics.csv")
MOVE_ORDER = ("model.npz", "metrics.csv", "config.toml")
"""The order a save moves its files into an existing folder: the model (which holds its own
config) first, the config.toml copy last, so no new config.toml ever stands beside an old model."""
STALE_SECONDS = 3600.0
"""A temporary file of an older writer (no process id in its name) is stale after this long."""

_INSIDE = re.compile(r"\.nn-tui\.(\d+)\.[0-9a-f]{8}\.(tmp|commit)")
_OLD_WRITER = re.compile(r"\.(config\.toml|model\.npz|metrics\.csv)\.[A-Za-z0-9_]+\.tmp")


def prepare_out_dir(out: Path, overwrite: bool) -> None:
    """Get ``out`` ready for a result, or refuse in one line naming the path (before training)."""
    path = Path(os.path.abspath(out))
    if path.is_symlink() and not path.exists():
        raise ValueError(f"--out {out}: a symlink to {os.readlink(path)}, which does not exist")
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    if path.is_dir():
        recover_out_dir(path)
        for name in OUT_FILES:
            if (path / name).is_dir():
                raise ValueError(f"{out / name}: is a folder; move it away or choose another --out")
        existing = [name for name in OUT_FILES if os.path.lexists(path / name)]
        if existing and not overwrite:
            raise ValueError(
                f"--out {out}: already holds {', '.join(existing)}; choose another folder or add --overwrite"
            )
        where, stem = path, ".nn-tui"
    else:
        below, where = path, path.parent
        while not where.exists():
            if where.is_symlink():
                raise ValueError(f"--out {out}: {where} is a symlink to {os.readlink(where)}, which does not exist")
            below, where = where, where.parent
        if not where.is_dir():
            raise ValueError(f"--out {out}: {where} is not a folder")
        if where == path.parent:
            recover_out_dir(path)
        stem = f".{below.name}"
    try:
        os.rmdir(_staging_folder(where, stem))
    except OSError as exc:
        place = "there" if where == path else f"in {where}"
        raise ValueError(f"--out {out}: cannot write {place} ({exc.strerror or exc})") from None


def write_outputs(out: Path, exp: Experiment, *, progress: dict | None = None) -> None:
    """config.toml, model.npz and metrics.csv in ``out``: all three or none (module docstring).

    ``progress`` goes into the model's meta (e.g. whether the run was interrupted). Every
    failure is a ``ValueError`` naming the file.
    """
    path = Path(os.path.abspath(out))
    exists = path.is_dir()
    try:
        if not exists:
            path.parent.mkdir(parents=True, exist_ok=True)
        staging = _staging_folder(path if exists else path.parent, ".nn-tui" if exists else f".{path.name}")
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        _write_files(staging, out, exp, progress)
        if not exists:
            try:
                os.rename(staging, path)
            except OSError as exc:
                raise ValueError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
            sync(path.parent)
            return
        commit = staging.with_suffix(".commit")
        os.rename(staging, commit)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _finish_commit(commit, path, shown=out)


def recover_out_dir(out: Path) -> None:
    """Finish or remove what killed writers left in and beside ``out`` (module docstring).

    Only our own temporaries, by their names, and only once the process that made them is gone.
    """
    path = Path(os.path.abspath(out))
    beside = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")
    if path.parent.is_dir():
        for entry in _entries(path.parent):
            match = beside.fullmatch(entry.name)
            if match and _own_folder(entry) and _gone(int(match[1]), entry):
                shutil.rmtree(entry, ignore_errors=True)
    if not path.is_dir():
        return
    for entry in _entries(path):
        match = _INSIDE.fullmatch(entry.name)
        if match and _own_folder(entry) and _gone(int(match[1]), entry):
            if match[2] == "commit":
                _finish_commit(Path(entry.path), path, shown=out)
            else:
                shutil.rmtree(entry, ignore_errors=True)
        elif _OLD_WRITER.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            if time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                Path(entry.path).unlink(missing_ok=True)


def _finish_commit(commit: Path, out: Path, *, shown: Path) -> None:
    """Move a committed result's files over the old ones, then drop the emptied folder."""
    for name in MOVE_ORDER:
        if os.path.lexists(commit / name):
            try:
                os.replace(commit / name, out / name)
            except OSError as exc:
                raise ValueError(f"{shown / name}: cannot write: {exc.strerror or exc}") from None
    sync(out)
    shutil.rmtree(commit, ignore_errors=True)


def _write_files(staging: Path, out: Path, exp: Experiment, progress: dict | None) -> None:
    """The three files in ``staging``; an error names the file it was for in ``out``."""
    text = dumps_config(exp.config, base_dir=os.path.abspath(out))  # a CSV inside out: relative
    writers = {  # each through engine.atomic: flushed to the disk before the folder is renamed
        "config.toml": lambda p: write_atomic(p, text),
        "model.npz": lambda p: exp.save(p, progress=progress),
        "metrics.csv": lambda p: write_metrics_csv(p, exp.trainer.history),
    }
    for name, write in writers.items():
        try:
            write(staging / name)
        except OSError as exc:
            raise ValueError(f"{out / name}: cannot write: {exc.strerror or exc}") from None


def _staging_folder(where: Path, stem: str) -> Path:
    """A new, empty folder ``where/STEM.<pid>.<hex>.tmp``."""
    folder = where / f"{stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    os.mkdir(folder)
    return folder


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:
        return []


def _own_folder(entry: os.DirEntry) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _gone(pid: int, entry: os.DirEntry) -> bool:
    """Whether the process that made ``entry`` has ended (where that cannot be asked: an hour on)."""
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, and someone else's
        return False
    return False


def summary(exp: Experiment, result: TrainResult, *, interrupted: bool = False) -> dict[str, Any]:
    """The numbers a script wants after training (JSON-friendly); ``interrupted``: by Ctrl-C."""
    cfg = exp.config
    out: dict[str, Any] = {
        "dataset": exp.dataset.name,
        "problem": exp.dataset.problem,
        "network": exp.net.summary(),
        "optimizer": exp.opt.name,
        "lr": exp.opt.lr,
        "batch_size": cfg.training.batch_size,
        **ended_numbers(exp.trainer),  # train_loss, val_loss, train_/val_accuracy (or _r2)
        "epochs": result.epochs,
        "steps": result.steps,
        "seconds": round(result.seconds, 4),
        "steps_per_second": round(result.steps / result.seconds, 1) if result.seconds > 0 else None,
        "diverged": result.diverged,
        "interrupted": interrupted,
        # Early stopping (``[training] patience``): the epoch of the lowest validation loss; when
        # it stopped the run, its weights are the ones reported above.
        "best_epoch": exp.trainer.best_epoch,
        "best_val_loss": exp.trainer.best_val_loss,
        "stopped_early": result.stopped_early,
    }
    if exp.trainer.penalized:
        with np.errstate(all="ignore"):
            out["penalty"] = exp.trainer.weight_penalty()  # the weight penalty on top of train_loss
    if result.divergence is not None:
        out["divergence"] = str(result.divergence)
    if result.early_stop is not None:
        out["early_stop"] = str(result.early_stop)
    return {k: _json_number(v) for k, v in out.items()}


def write_metrics_csv(path: Path, history: list[EpochRecord]) -> None:
    """One row per epoch: the cost, validation loss, accuracy or R^2, learning rate and time
    (written atomically, like every file)."""
    metric = history[0].metric_name if history else "accuracy"
    fields = ["epoch", "step", "train_loss", "val_loss", f"train_{metric}", f"val_{metric}", "lr", "seconds"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(fields)
    for r in history:
        writer.writerow([r.epoch, r.step, r.train_loss, _blank(r.val_loss), r.train_metric,
                         _blank(r.val_metric), r.lr, f"{r.seconds:.6f}"])
    write_atomic(path, text.getvalue())


def _blank(value):
    return "" if value is None else value


def _json_number(value):
    """NaN and infinity are not JSON: report them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
