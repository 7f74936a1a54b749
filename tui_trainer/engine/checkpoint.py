"""Model files: weights, architecture, optimizer state, preprocessing statistics and the config.

A checkpoint is a NumPy ``.npz`` archive that loads with ``allow_pickle=False``: arrays are stored
as arrays, everything else as one JSON string. It is written to a temporary file in the same
folder and renamed into place, so a crash never leaves half a model where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .network import Network
from .optimizers import Optimizer, create
from .preprocess import Standardizer

FORMAT = "nn-tui-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A model file that is missing, corrupted or not an nn-tui checkpoint."""


@dataclass
class Checkpoint:
    """Everything needed to continue training or to use a model."""

    net: Network
    opt: Optimizer
    standardizer: Standardizer
    config_text: str = ""
    """The experiment config as TOML."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form progress and data facts (epoch, step, problem, class names, loss...)."""
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    """Other arrays to keep with the model, by name (e.g. the loss history)."""


def save_checkpoint(path, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` to ``path`` atomically; returns the path written."""
    path = Path(path)
    opt_state = ckpt.opt.state_dict()
    arrays: dict[str, np.ndarray] = {f"param_{i}": p for i, p in enumerate(ckpt.net.params)}
    for i, state in enumerate(opt_state.pop("state")):
        for name, value in state.items():
            arrays[f"opt_{i}_{name}"] = value
    arrays["scaler_mean"] = np.asarray(ckpt.standardizer.mean)
    arrays["scaler_std"] = np.asarray(ckpt.standardizer.std)
    for name, value in ckpt.extras.items():
        arrays[f"extra_{name}"] = np.asarray(value)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "network": {
            "layer_sizes": list(ckpt.net.layer_sizes),
            "activations": list(ckpt.net.activations),
            "init": ckpt.net.init,
            "seed": ckpt.net.seed,
            "dtype": ckpt.net.dtype.name,
        },
        "optimizer": {**opt_state, "n_params": len(ckpt.net.params)},
        "config": ckpt.config_text,
        "meta": ckpt.meta,
    }
    arrays["header"] = np.array(json.dumps(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint; ``CheckpointError`` with one clear line if it is not a usable one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path}: not an nn-tui model file (not a .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise CheckpointError(f"{path}: not an nn-tui model file ({_reason(exc)})") from None
    try:
        header = json.loads(str(arrays["header"]))
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise KeyError("format")
    except (KeyError, ValueError, TypeError, RecursionError):
        raise CheckpointError(f"{path}: not an nn-tui model file (no nn-tui header)") from None
    if header.get("version") != VERSION:
        raise CheckpointError(f"{path}: model file version {header.get('version')!r} is not supported")
    try:
        return _build(header, arrays)
    except KeyError as exc:
        raise CheckpointError(f"{path}: corrupted model file (missing {exc})") from None
    except (ValueError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        raise CheckpointError(f"{path}: corrupted model file ({_reason(exc)})") from None


def _build(header: dict, arrays: dict[str, np.ndarray]) -> Checkpoint:
    n = header["network"]
    net = Network(n["layer_sizes"], n["activations"], init=n["init"], seed=n["seed"], dtype=n["dtype"])
    net.set_parameters([arrays[f"param_{i}"] for i in range(len(net.params))])
    o = dict(header["optimizer"])
    if o.pop("n_params") != len(net.params):
        raise ValueError("optimizer state does not match the network")
    opt = create(o["name"])
    o["state"] = [
        {name: arrays[f"opt_{i}_{name}"] for name in opt.state_names if f"opt_{i}_{name}" in arrays}
        for i in range(len(net.params))
    ]
    if not any(o["state"]):
        o["state"] = []
    opt.load_state_dict(o)
    scaler = Standardizer(mean=arrays["scaler_mean"], std=arrays["scaler_std"])
    extras = {k[len("extra_"):]: v for k, v in arrays.items() if k.startswith("extra_")}
    return Checkpoint(net, opt, scaler, header.get("config", ""), header.get("meta", {}), extras)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
