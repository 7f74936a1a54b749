"""An experiment: the engine objects that one config describes, built and saved together.

The headless CLI and the app both go through here, so a config means the same thing in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import ExperimentConfig, dumps_config, loads_config
from .engine import Network, optimizers
from .engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from .engine.datasets import DataError, Dataset, load_csv, load_dataset
from .engine.preprocess import PreparedData, prepare
from .engine.trainer import Trainer

DEFAULT_OUTPUT = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}
ALLOWED_LOSSES = {
    "binary": ("bce", "mse"),
    "multiclass": ("cross_entropy", "mse"),
    "regression": ("mse",),
}


def output_and_loss(problem: str, output: str = "auto", loss: str = "auto") -> tuple[str, str]:
    """The output activation and loss for a problem type, with the config's overrides checked."""
    loss = DEFAULT_LOSS[problem] if loss == "auto" else loss
    if loss not in ALLOWED_LOSSES[problem]:
        raise ValueError(
            f"loss {loss!r} does not fit a {problem} problem; use one of: "
            f"{', '.join(ALLOWED_LOSSES[problem])}"
        )
    if output == "auto":
        output = DEFAULT_OUTPUT[problem]
    if problem == "multiclass" and output != "softmax":
        raise ValueError(f"a multiclass problem needs a softmax output, not {output!r}")
    return output, loss


def load_data(cfg: ExperimentConfig) -> Dataset:
    """The dataset a config names: a built-in one or a user CSV."""
    d = cfg.data
    if d.path is not None:
        return load_csv(d.path, target=d.target)
    return load_dataset(d.dataset, n_samples=d.n_samples, noise=d.noise, seed=cfg.training.seed, **d.options)


@dataclass
class Experiment:
    """Config, data, network, optimizer and trainer, consistent with one another."""

    config: ExperimentConfig
    data: PreparedData
    net: Network
    trainer: Trainer
    loss: str

    @property
    def opt(self) -> optimizers.Optimizer:
        return self.trainer.opt

    @property
    def dataset(self) -> Dataset:
        return self.data.dataset

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, dataset: Dataset | None = None) -> "Experiment":
        """Build everything from ``cfg`` (loading the dataset unless one is given)."""
        ds = dataset if dataset is not None else load_data(cfg)
        t = cfg.training
        dtype = np.dtype(t.dtype)
        data = prepare(ds, val_split=cfg.data.val_split, seed=t.seed, dtype=dtype)
        if len(data.X_train) == 0:
            raise DataError(f"dataset {ds.name!r} leaves no training samples")
        output, loss = output_and_loss(ds.problem, cfg.network.output, cfg.network.loss)
        sizes = [ds.X.shape[1], *cfg.network.hidden, ds.n_outputs]
        net = Network(
            sizes,
            [*cfg.network.hidden_activations, output],
            seed=t.seed,
            init=cfg.network.init,
            dtype=dtype,
        )
        opt = optimizers.create(cfg.optimizer.name, lr=cfg.optimizer.lr, **cfg.optimizer.hparams)
        trainer = Trainer(net, opt, data, loss=loss, batch_size=t.batch_size, seed=t.seed)
        return cls(cfg, data, net, trainer, loss)

    def save(self, path, *, config: ExperimentConfig | None = None, progress: dict | None = None,
             arrays: dict[str, np.ndarray] | None = None) -> Path:
        """Write a model file: weights, optimizer state, preprocessing, config and progress.

        ``config`` (default: this experiment's) is what the file says the experiment is;
        ``progress`` (JSON values) and ``arrays`` keep more of the run, e.g. its loss history.
        """
        ds = self.dataset
        meta = {
            "epoch": self.trainer.epoch,
            "step": self.trainer.step_count,
            "loss": self.loss,
            "problem": ds.problem,
            "dataset": ds.name,
            "feature_names": list(ds.feature_names),
            "target_name": ds.target_name,
            "class_names": list(ds.class_names),
            "shuffle_rng": self.trainer.rng_state(),
            **({"progress": progress} if progress else {}),
        }
        text = dumps_config(config or self.config)
        ckpt = Checkpoint(self.net, self.opt, self.data.standardizer, text, meta, dict(arrays or {}))
        return save_checkpoint(path, ckpt)

    @classmethod
    def load(cls, path) -> "Experiment":
        """Rebuild an experiment from a model file, ready to continue where it stopped."""
        return cls.open(path)[0]

    @classmethod
    def open(cls, path) -> tuple["Experiment", Checkpoint]:
        """``load``, and the checkpoint itself (for the progress and arrays saved with it)."""
        ckpt = load_checkpoint(path)
        try:
            cfg = loads_config(ckpt.config_text, source=f"{path} (config)")
        except ValueError as exc:
            raise CheckpointError(f"{path}: the config inside is not valid: {exc}") from None
        exp = cls.from_config(cfg)
        if exp.net.layer_sizes != ckpt.net.layer_sizes or exp.net.activations != ckpt.net.activations:
            raise CheckpointError(f"{path}: the network does not match its own config")
        try:
            exp.net.set_parameters(ckpt.net.params)
            exp.opt.load_state_dict(ckpt.opt.state_dict())
            exp.trainer.epoch = _count(ckpt.meta.get("epoch", 0), "epoch")
            exp.trainer.step_count = _count(ckpt.meta.get("step", 0), "step")
            if "shuffle_rng" in ckpt.meta:
                exp.trainer.set_rng_state(ckpt.meta["shuffle_rng"])
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise CheckpointError(f"{path}: corrupted model file ({exc})") from None
        return exp, ckpt


def _count(value, name: str) -> int:
    """A saved counter (epoch, step): a whole number from 0 to 2**53."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2**53 or value != int(value):
        raise ValueError(f"{name} {value!r} is not a whole number from 0 to 2**53")
    return int(value)
