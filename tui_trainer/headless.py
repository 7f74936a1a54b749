"""Headless training for scripts: the engine run to completion, with results as text or JSON.

Used by ``nn-tui train``; kept apart from the click definitions so that tests and other
commands can call it directly.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .config import save_config
from .engine.trainer import EpochRecord, TrainResult
from .experiment import Experiment

OUT_FILES = ("config.toml", "model.npz", "metrics.csv")


def check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse early (before training) to write over files the user already has."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a folder")
    existing = [name for name in OUT_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise ValueError(
            f"--out {out}: already holds {', '.join(existing)}; choose another folder or add --overwrite"
        )


def summary(exp: Experiment, result: TrainResult) -> dict[str, Any]:
    """The numbers a script wants after training (JSON-friendly)."""
    with np.errstate(all="ignore"):  # weights near overflow after a divergence: report, don't warn
        metrics = exp.trainer.evaluate()
    name = exp.trainer.metric_name
    label = "accuracy" if name == "accuracy" else "r2"
    cfg = exp.config
    out: dict[str, Any] = {
        "dataset": exp.dataset.name,
        "problem": exp.dataset.problem,
        "network": exp.net.summary(),
        "optimizer": exp.opt.name,
        "lr": exp.opt.lr,
        "batch_size": cfg.training.batch_size,
        "train_loss": metrics["train_loss"],
        "val_loss": metrics["val_loss"],
        f"train_{label}": metrics["train_metric"],
        f"val_{label}": metrics["val_metric"],
        "epochs": result.epochs,
        "steps": result.steps,
        "seconds": round(result.seconds, 4),
        "steps_per_second": round(result.steps / result.seconds, 1) if result.seconds > 0 else None,
        "diverged": result.diverged,
    }
    if result.divergence is not None:
        out["divergence"] = str(result.divergence)
    return {k: _json_number(v) for k, v in out.items()}


def write_outputs(out: Path, exp: Experiment) -> None:
    """config.toml, model.npz and metrics.csv in ``out`` (each written atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    save_config(exp.config, out / "config.toml")
    exp.save(out / "model.npz")
    write_metrics_csv(out / "metrics.csv", exp.trainer.history)


def write_metrics_csv(path: Path, history: list[EpochRecord]) -> None:
    """One row per epoch: the cost, validation loss, accuracy or R^2, learning rate and time."""
    metric = history[0].metric_name if history else "accuracy"
    fields = ["epoch", "step", "train_loss", "val_loss", f"train_{metric}", f"val_{metric}", "lr", "seconds"]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(fields)
            for r in history:
                writer.writerow([r.epoch, r.step, r.train_loss, _blank(r.val_loss), r.train_metric,
                                 _blank(r.val_metric), r.lr, f"{r.seconds:.6f}"])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _blank(value):
    return "" if value is None else value


def _json_number(value):
    """NaN and infinity are not JSON: report them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
