"""An experiment: the engine objects that one config describes, built and saved together.

The headless CLI and the app both go through here, so a config means the same thing in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .budget import check_budget
from .config import ConfigError, ExperimentConfig, dumps_config, inline_dataset, loads_config, weight_problems
from .files import describe_error
from .settings import SETTINGS, apply_to_trainer, engine_value
from ..engine import Network, optimizers
from ..engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from ..engine.datasets import DataError, Dataset, load_csv, load_dataset
from ..engine.preprocess import PreparedData, prepare
from ..engine.trainer import Trainer

DEFAULT_OUTPUT = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
DEFAULT_LOSS = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}
ALLOWED_LOSSES = {
    "binary": ("bce", "mse"),
    "multiclass": ("cross_entropy", "mse"),
    "regression": ("mse",),
}


def output_and_loss(problem: str, output: str = "auto", loss: str = "auto", *,
                    data: str | None = None) -> tuple[str, str]:
    """The output activation and loss for a problem type, with the config's overrides checked.

    ``data`` names the data in the ``ValueError`` for a choice that does not fit (e.g.
    ``"dataset 'moons'"`` or a CSV's path).
    """
    where = f" ({data})" if data else ""
    loss = DEFAULT_LOSS[problem] if loss == "auto" else loss
    if loss not in ALLOWED_LOSSES[problem]:
        raise ValueError(
            f"[network] loss = {loss!r} does not fit a {problem} problem{where}: "
            f"use {' or '.join(ALLOWED_LOSSES[problem])}"
        )
    if output == "auto":
        output = DEFAULT_OUTPUT[problem]
    if problem == "multiclass" and output != "softmax" and loss != "mse":
        # Cross-entropy needs probabilities that sum to 1; mse on one-hot targets takes any output, as
        # textbooks that train sigmoid outputs with the quadratic cost do.
        raise ValueError(f"[network] output = {output!r} does not fit a multiclass problem{where} with loss "
                         f"{loss}: use softmax, or loss = \"mse\" against the one-hot targets")
    return output, loss


def describe_data(cfg: ExperimentConfig, ds: Dataset | None = None) -> str:
    """The data a config trains on, for messages: a CSV's path or ``dataset 'name'``."""
    if cfg.data.path is not None:
        return str(cfg.data.path)
    if cfg.data.is_inline:
        return "the inline data"
    return f"dataset {(ds.name if ds is not None else cfg.data.dataset)!r}"


def load_data(cfg: ExperimentConfig) -> Dataset:
    """The dataset a config names: a built-in one or a user CSV."""
    d = cfg.data
    if d.path is not None:
        return load_csv(d.path, target=d.target)
    if d.is_inline:
        return inline_dataset(d)
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
    def from_config(cls, cfg: ExperimentConfig, dataset: Dataset | None = None, *,
                    networks: int = 1) -> "Experiment":
        """Build everything from ``cfg`` (loading the dataset unless one is given); refused with
        ``BudgetError`` before anything large is made when it, with ``networks`` networks of its
        shape side by side (a race's lanes and their base), would need too much memory."""
        if dataset is None:
            check_budget(cfg, networks=networks)  # a built-in dataset: before it is generated
        ds = dataset if dataset is not None else load_data(cfg)
        check_budget(cfg, ds, networks=networks)  # a CSV, or a dataset given: before the network is built
        t = cfg.training
        dtype = np.dtype(t.dtype)
        features = cfg.data.features
        try:
            data = prepare(ds, val_split=cfg.data.val_split, seed=t.seed, dtype=dtype, features=features,
                           standardize=cfg.data.standardizes, keep_order=cfg.data.is_inline)
        except ValueError as exc:
            if features is None:
                raise
            # A CSV's columns are known only now: say which key asked for what the data cannot give.
            raise DataError(f"[data] features = {list(features)!r} cannot be used with "
                            f"{describe_data(cfg, ds)}: {exc}") from None
        if len(data.X_train) == 0:
            raise DataError(f"dataset {ds.name!r} leaves no training samples")
        output, loss = output_and_loss(ds.problem, cfg.network.output, cfg.network.loss, data=describe_data(cfg, ds))
        sizes = [data.n_inputs, *cfg.network.hidden, ds.n_outputs]
        net = Network(
            sizes,
            [*cfg.network.hidden_activations, output],
            seed=t.seed,
            init=cfg.network.init,
            dtype=dtype,
        )
        use_weights(net, cfg.network.weights)
        opt = optimizers.create(cfg.optimizer.name, lr=cfg.optimizer.lr, **cfg.optimizer.hparams)
        trainer = Trainer(net, opt, data, loss=loss, batch_size=t.batch_size, seed=t.seed,
                          schedule=cfg.optimizer.create_schedule())
        for setting in SETTINGS.values():  # the penalties, early stopping, ...: as a live change would
            if setting.live:  # the others (the seed) made what is built above
                apply_to_trainer(setting, trainer, engine_value(setting, cfg))
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
            "dropout_rng": self.trainer.dropout_rng_state(),
            **({"progress": progress} if progress else {}),
        }
        text = dumps_config(config or self.config)
        ckpt = Checkpoint(self.net, self.opt, self.data.standardizer, text, meta, dict(arrays or {}))
        return save_checkpoint(path, ckpt)

    @classmethod
    def load(cls, path, data_path: str | Path | None = None) -> "Experiment":
        """Rebuild an experiment from a model file, ready to continue where it stopped (see ``open``)."""
        return cls.open(path, data_path=data_path)[0]

    @classmethod
    def open(cls, path, data_path: str | Path | None = None) -> tuple["Experiment", Checkpoint]:
        """``load``, and the checkpoint itself (for the progress and arrays saved with it).

        The config inside a model says how it was trained; it never makes this read a file the
        caller did not name. A model trained on a CSV needs ``data_path``, the CSV to go on with
        (the same file, or new rows of the same columns); a model of a built-in dataset refuses
        one. The data is then checked against what the model was trained on: the number and
        names of the features, the target's name, the problem type and the classes (names and
        order), and a change is refused with a ``CheckpointError`` that says what changed. A
        feature that keeps its name but changes its scale or units cannot be detected (the
        scaler is fitted again on the data as it is now).
        """
        ckpt = load_checkpoint(path)
        try:
            cfg = loads_config(ckpt.config_text, source=f"{path} (config)")
        except RecursionError:
            raise CheckpointError(f"{path}: the config inside is not valid: it is nested too deeply") from None
        except ValueError as exc:
            raise CheckpointError(f"{path}: the config inside is not valid: {exc}") from None
        cfg = _with_data_file(path, cfg, data_path)
        check_budget(cfg)  # a built-in dataset: before it is generated
        ds = load_data(cfg)
        _check_data(path, ckpt.meta, ds, describe_data(cfg, ds))
        exp = cls.from_config(cfg, dataset=ds)
        if exp.net.layer_sizes != ckpt.net.layer_sizes or exp.net.activations != ckpt.net.activations:
            raise CheckpointError(f"{path}: the network does not match its own config")
        try:
            exp.net.set_parameters(ckpt.net.params)
            exp.opt.load_state_dict(ckpt.opt.state_dict())
            exp.trainer.epoch = _count(ckpt.meta.get("epoch", 0), "meta.epoch")
            exp.trainer.step_count = _count(ckpt.meta.get("step", 0), "meta.step")
            if "shuffle_rng" in ckpt.meta:
                try:
                    exp.trainer.set_rng_state(ckpt.meta["shuffle_rng"])
                except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                    reason = describe_error(exc)
                    raise ValueError(f"meta.shuffle_rng is not a batch-shuffling state ({reason})") from None
            if "dropout_rng" in ckpt.meta:
                try:
                    exp.trainer.set_dropout_rng_state(ckpt.meta["dropout_rng"])
                except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
                    reason = describe_error(exc)
                    raise ValueError(f"meta.dropout_rng is not a dropout generator state ({reason})") from None
            # The saved optimizer's lr may be a scheduled one: the schedule goes on from the
            # configured lr, at the epoch reached.
            if exp.trainer.schedule is not None:
                exp.trainer.base_lr = cfg.optimizer.lr
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise CheckpointError(f"{path}: corrupted model file: {describe_error(exc)}") from None
        return exp, ckpt


def use_weights(net: Network, weights: dict | None) -> None:
    """Put a config's ``[weights]`` into ``net`` in place of the seed's (``ConfigError`` when a
    shape does not fit: a CSV's columns are known only now)."""
    if not weights:
        return
    problems = weight_problems(weights, list(net.layer_sizes))
    if problems:
        raise ConfigError("config", problems)
    for key, value in weights.items():
        layer = int(key[1:]) - 1
        net.params[2 * layer + (key[0] == "b")][...] = np.asarray(value, dtype=net.dtype)


class DataFileNeeded(CheckpointError):
    """A model trained on a CSV, opened without naming the data file to go on with."""

    def __init__(self, path, trained_on: str) -> None:
        super().__init__(f"{path} was trained on the data file {trained_on}; name it to resume "
                         f"(nn-tui train --resume {path} --data {trained_on})")
        self.trained_on = trained_on


def _with_data_file(path, cfg: ExperimentConfig, data_path) -> ExperimentConfig:
    """``cfg`` reading ``data_path`` instead of the CSV it names; refused where that does not fit."""
    trained_on = cfg.data.path
    if data_path is None:
        if trained_on is not None:
            raise DataFileNeeded(path, trained_on)
        return cfg
    if trained_on is None:
        raise CheckpointError(f"{path} was trained on dataset {cfg.data.dataset!r}, not on a data file, so it "
                              f"cannot go on with {data_path}")
    return replace(cfg, data=replace(cfg.data, path=str(data_path)))


FACTS = {"feature_names": "names", "class_names": "names", "target_name": "name", "problem": "name"}
"""The data facts a model keeps (``meta``) and what each must be."""


def _check_data(path, meta: dict, ds: Dataset, source: str) -> None:
    """Refuse data that is not what the model was trained on, saying what changed."""
    old: dict = {}
    for key, kind in FACTS.items():
        if key not in meta:
            continue  # an older model that did not keep it
        value = meta[key]
        ok = (isinstance(value, list) and all(isinstance(v, str) for v in value)) if kind == "names" \
            else isinstance(value, str)
        if not ok:
            raise CheckpointError(f"{path}: corrupted model file: meta.{key} = {_show(value)} is not a "
                                  f"{'list of names' if kind == 'names' else 'name'}")
        old[key] = value
    new = {"feature_names": list(ds.feature_names), "class_names": list(ds.class_names),
           "target_name": ds.target_name, "problem": ds.problem}
    advice = "train a new model on the new data"

    def changed(what: str) -> CheckpointError:
        return CheckpointError(f"{path} was trained on {what}: {advice}")

    if "feature_names" in old:
        before, now = old["feature_names"], new["feature_names"]
        if len(before) != len(now):
            raise changed(f"{len(before)} features {_names(before)} but {source} now has "
                          f"{len(now)} {_names(now)}")
        if before != now:
            raise changed(f"features {_names(before)} but {source} now has {_names(now)}")
    if "target_name" in old and old["target_name"] != new["target_name"]:
        raise CheckpointError(f"{path} was trained to predict {_show(old['target_name'])} but {source} now "
                              f"has the target {_show(new['target_name'])}: {advice}")
    if "problem" in old and (old["problem"] == "regression") != (new["problem"] == "regression"):
        raise changed(f"a {old['problem']} problem but {source} now makes a {new['problem']} one")
    if "class_names" in old and old["class_names"] != new["class_names"]:
        before, now = old["class_names"], new["class_names"]
        order = " (the same classes in another order)" if sorted(before) == sorted(now) else ""
        raise changed(f"classes {_names(before)} but {source} now has {_names(now)}{order}")
    if "problem" in old and old["problem"] != new["problem"]:
        raise changed(f"a {old['problem']} problem but {source} now makes a {new['problem']} one")


def _names(names: list[str], limit: int = 12) -> str:
    """A list of names for a message: the first ``limit``, each cut short, on one line."""
    shown = [n if len(n) <= 40 else n[:40] + "..." for n in names[:limit]]
    text = repr(shown)
    return text if len(names) <= limit else f"{text[:-1]}, ... ({len(names)} in all)]"


def _show(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _count(value, name: str) -> int:
    """A saved counter (epoch, step): a whole number from 0 to 2**53."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2**53 or value != int(value):
        raise ValueError(f"{name} = {_show(value)} is not a whole number from 0 to 2**53")
    return int(value)
