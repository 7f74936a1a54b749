"""Experiment configs: what to train on, which network, which optimizer and for how long.

A config is four dataclasses that the UI fills from its forms and the CLI reads from a TOML
file. Nothing is checked on construction, so a half-filled form is still a config: call
``validate()`` for the problems, each tied to the section and key it belongs to (so the UI can
show it at that field), or ``check()`` to raise them together as one ``ConfigError``.
``load_config`` reports every problem in a file at once, not just the first, and
``dumps_config`` / ``save_config`` write a config that loads back equal.

Every count has a maximum (``limits.py`` holds the network's and the training's, the engine's
dataset registry the data's), so that no config asks for more than a machine can give before
anything is allocated; ``load_config`` reads only a regular file of at most ``MAX_CONFIG_BYTES``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import numpy as np
import tomli_w

from .limits import MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH
from ..engine.text import visible
from ..engine import optimizers
from ..engine.activations import ACTIVATIONS
from ..engine.atomic import write_atomic
from ..engine.csvdata import MAX_CSV_CLASSES, PROBLEMS, Dataset, UnreadableFile, open_regular
from ..engine.datasets import DATASETS, MAX_SAMPLES
from ..engine.features import FEATURES, RAW_INPUTS, check_features
from ..engine.optimizers import OPTIMIZERS
from ..engine.schedules import SCHEDULES, WARMUP_PARAMS, create_schedule
from .shown import show as _show
from .settings import allowed as _allowed
from .settings import (SETTINGS, HoldsSettings, data_named, holds_settings, is_set, place, placed, problems_of,
                       reserve, settings_of_section)

__all__ = [
    "SECTIONS",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "NetworkConfig",
    "OptimizerConfig",
    "Problem",
    "TrainingConfig",
    "dumps_config",
    "load_config",
    "loads_config",
    "save_config",
    "with_overrides",
]

SECTIONS = ("data", "network", "optimizer", "training")
"""The TOML tables of the config's sections, in the order they are written."""
WEIGHTS = "weights"
"""The TOML table of a network's exact starting weights (``W1``, ``b1``, ...), written after the
sections; the config keeps it as ``NetworkConfig.weights``."""
TABLES = (*SECTIONS, WEIGHTS)
"""Every TOML table a config file may have, in the order they are written."""

MAX_CONFIG_BYTES = 2**20
"""Largest config file read (1 MiB): a config is a few hundred bytes."""
MAX_PROBLEMS_SHOWN = 20
"""Most problems a ``ConfigError`` message lists (``problems`` holds them all)."""

DEFAULT_DATASET = "spiral"
DEFAULT_ACTIVATION = "relu"

_DATA_KEYS = ("dataset", "path", "target", "problem", "features", "inputs", "targets")
_NETWORK_KEYS = ("hidden", "activation", "activations")
_OPTIMIZER_KEYS = ("name", "schedule")
_TRAINING_KEYS = ()
_FIXED_KEYS = dict(zip(SECTIONS, (_DATA_KEYS, _NETWORK_KEYS, _OPTIMIZER_KEYS, _TRAINING_KEYS)))
"""Each section's own keys; the registered settings (``settings.SETTINGS``) come after them."""


def _keys(section: str) -> tuple[str, ...]:
    """Every TOML key of a section, in the order its table lists them: its own and its registered
    settings' (each where its declaration places it)."""
    return tuple(key if isinstance(key, str) else key.name
                 for key in placed(_FIXED_KEYS[section], settings_of_section(section), where="toml"))


def _in_key_order(section: str, problems: list["Problem"]) -> list["Problem"]:
    """``problems`` with those of the settings placed among the section's own fields moved to
    their place: before the first problem of an own field that the table lists after them."""
    at = {key: i for i, key in enumerate(_keys(section))}
    moved = {s.name for s in settings_of_section(section) if place(s, "toml")}
    out = [p for p in problems if p.field_name not in moved]
    for problem in [p for p in problems if p.field_name in moved]:
        mine = at[problem.field_name]
        later = [i for i, p in enumerate(out) if p.field_name in _FIXED_KEYS[section] and at[p.field_name] > mine]
        out.insert(later[0] if later else len(out), problem)
    return out


def _registered_problems(section: str, obj: Any) -> list["Problem"]:
    """The section's registered settings' problems, in the order its table lists the keys."""
    at = {key: i for i, key in enumerate(_keys(section))}
    problems = [Problem(section, key, message, value) for key, message, value in problems_of(section, obj)]
    return sorted(problems, key=lambda p: at.get(p.field_name, len(at)))


_HIDDEN_ACTIVATIONS = [name for name, cls in ACTIVATIONS.items() if cls.hidden_ok]


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config, tied to the field where the UI should show it."""

    section: str
    """``data``, ``network``, ``optimizer`` or ``training``; an unknown section's own name;
    ``""`` for a key outside any section."""
    key: str | None
    """The key in the section (``hidden[1]`` for one element of a list); None when the
    problem is the section itself."""
    message: str
    """What is wrong and what is allowed."""
    value: Any = None
    """The offending value (shown only when ``key`` is set)."""

    @property
    def field_name(self) -> str | None:
        """The config field the problem belongs to: ``key`` without a list index."""
        return None if self.key is None else re.split(r"[\[.]", self.key, maxsplit=1)[0]

    def __str__(self) -> str:
        where = f"[{self.section}]" if self.section else ""
        if self.key is not None:
            where = f"{where} {self.key} = {_show(self.value)}".lstrip()
        return visible(f"{where}: {self.message}")  # a section or key name from the file: never terminal control


class ConfigError(ValueError):
    """A config that cannot be used. The message's first line says where and how many
    problems; ``problems`` holds them (empty when the file itself could not be read)."""

    def __init__(self, source: str, problems: Iterable[Problem] = (), reason: str | None = None):
        self.source = source
        self.problems = list(problems)
        if reason is None:
            count = len(self.problems)
            reason = f"{count} problem{'' if count == 1 else 's'}:" + "".join(
                f"\n  {problem}" for problem in self.problems[:MAX_PROBLEMS_SHOWN]
            )
            if count > MAX_PROBLEMS_SHOWN:
                reason += f"\n  ... and {count - MAX_PROBLEMS_SHOWN} more"
        super().__init__(f"{source}: {reason}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite int or float; bools are not numbers here, though Python says they are."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_choice(value: Any, choices) -> bool:
    """Membership that never raises, even for unhashable values from a bad file."""
    return isinstance(value, str) and value in choices


class _Default:
    """Marks an argument not given, whose default depends on other arguments."""

    def __repr__(self) -> str:
        return "<default>"


_NOT_GIVEN: Any = _Default()


# --- inline data and weights ------------------------------------------------------------------

INPUTS_EXAMPLE = "[[0.05, 0.10]]"
TARGETS_EXAMPLE = "[[0.01, 0.99]] (or one number per sample, e.g. [0, 1, 1, 0])"


def _table_problem(value: Any, *, numbers_ok: bool = False) -> str | None:
    """Why ``value`` is not a table: a non-empty list of equally long, non-empty rows of finite
    numbers (``numbers_ok``: a list of numbers, one row of one each, will do too); None if it is."""
    if not isinstance(value, list) or not value:
        return "must be a list of rows of numbers"
    if numbers_ok and all(_is_number(v) for v in value):
        return None
    for i, row in enumerate(value):
        if not isinstance(row, list) or not row or not all(_is_number(v) for v in row):
            return f"row {i + 1} = {_show(row)} is not a list of numbers"
        if len(row) != len(value[0]):
            return f"rows of different lengths: row 1 has {len(value[0])} numbers, row {i + 1} has {len(row)}"
    return None


def _rows(value: list) -> list[list]:
    """A table's rows: a list of numbers is one row of one number each."""
    return [v if isinstance(v, list) else [v] for v in value]


def inline_problems(inputs: Any, targets: Any, problem: Any) -> list[tuple[str | None, str, Any]]:
    """The problems of inline data as (key, message, value); key None: a key missing."""
    out: list[tuple[str | None, str, Any]] = []
    if inputs is None:
        out.append((None, f"inline data needs inputs as well as targets: one row per sample, e.g. "
                          f"inputs = {INPUTS_EXAMPLE}", None))
    elif (message := _table_problem(inputs)) is not None:
        out.append(("inputs", f"{message}: one row of inputs per sample, e.g. {INPUTS_EXAMPLE}", inputs))
    elif len(inputs) > MAX_SAMPLES:
        out.append(("inputs", f"at most {MAX_SAMPLES:,} samples", inputs))
    if targets is None:
        out.append((None, f"inline data needs targets as well as inputs: e.g. targets = {TARGETS_EXAMPLE}", None))
    elif (message := _table_problem(targets, numbers_ok=True)) is not None:
        out.append(("targets", f"{message}: one row of targets per sample, e.g. {TARGETS_EXAMPLE}", targets))
    elif isinstance(inputs, list) and len(targets) != len(inputs):
        out.append(("targets", f"{len(targets)} targets for {len(inputs)} rows of inputs: give one per sample",
                    targets))
    if problem is not None and not _is_choice(problem, PROBLEMS):
        out.append(("problem", "unknown problem; " + _allowed(problem, PROBLEMS), problem))
    elif not out:
        try:
            inline_targets(targets, problem)
        except ValueError as err:
            out.append(("targets", str(err), targets))
    return out


def inline_targets(targets: list, problem: str | None) -> tuple[np.ndarray, str, list[str]]:
    """Valid inline targets as a dataset holds them: (y, the problem, the class names); a
    ``ValueError`` says why targets do not fit ``problem``."""
    Y = np.array(_rows(targets), dtype=np.float64)
    zero_one = bool(np.isin(Y, (0.0, 1.0)).all())
    if problem is None:
        problem = "binary" if zero_one and Y.shape[1] == 1 else "regression"
    if problem == "regression":
        return (Y[:, 0] if Y.shape[1] == 1 else Y), problem, []
    if problem == "binary":
        if not (zero_one and Y.shape[1] == 1):
            raise ValueError("binary targets are one column of 0s and 1s, e.g. [0, 1, 1, 0]")
        return Y[:, 0].astype(np.int64), problem, ["0", "1"]
    if Y.shape[1] == 1:
        if not ((Y >= 0).all() and (Y == np.floor(Y)).all() and Y.max() < MAX_CSV_CLASSES):
            raise ValueError(f"multiclass targets are class numbers 0, 1, 2, ... (below {MAX_CSV_CLASSES}) "
                             f"in one column, or one-hot rows such as [0, 1, 0]")
        y, k = Y[:, 0].astype(np.int64), int(Y.max()) + 1
    else:
        if not (zero_one and (Y.sum(axis=1) == 1).all()):
            raise ValueError("multiclass targets in rows must be one-hot (one 1, the rest 0, e.g. [0, 1, 0]), "
                             "or give class numbers in one column")
        y, k = Y.argmax(axis=1), Y.shape[1]
    if k < 2:
        raise ValueError("multiclass targets need at least 2 classes (class numbers 0 and 1 at least)")
    return y, problem, [str(c) for c in range(k)]


def inline_dataset(data: "DataConfig") -> Dataset:
    """The dataset of valid inline data: columns ``x1, x2, ...``, target ``y``."""
    y, problem, classes = inline_targets(data.targets, data.problem)
    X = np.array(data.inputs, dtype=np.float64)
    return Dataset(name="inline", X=X, y=y, problem=problem, feature_names=[f"x{j + 1}" for j in range(X.shape[1])],
                   target_name="y", class_names=classes, description="data written in the config")


def keeping_weights(cfg: "ExperimentConfig", weights: dict | None) -> "ExperimentConfig":
    """``cfg`` starting from ``weights`` while they still fit its network (a form's edit keeps a
    config's exact weights until the shape changes), else from the seed's."""
    if weights is None or weight_problems(weights, cfg.layer_sizes()):
        return cfg
    return dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, weights=weights))


def parameter_names(n_layers: int) -> list[str]:
    """``W1, b1, W2, b2, ...``: the ``[weights]`` keys of a network of ``n_layers`` weight layers."""
    return [f"{p}{i}" for i in range(1, n_layers + 1) for p in ("W", "b")]


def weight_problems(weights: Any, sizes: list[int | None]) -> list[Problem]:
    """The problems of a ``[weights]`` table for a network of layer ``sizes`` (None: a size not
    known yet, such as a CSV's columns before it is read)."""
    if weights is None:
        return []
    if not isinstance(weights, dict):
        return [Problem(WEIGHTS, None, "must be a table: W1 = [[...]], b1 = [...], ...")]
    names = parameter_names(len(sizes) - 1)
    problems = []
    for key, value in weights.items():
        if key not in names:
            problems.append(Problem(WEIGHTS, key, "unknown key; " + _allowed(key, names), value))
            continue
        i = int(key[1:])
        n_in, n_out = sizes[i - 1], sizes[i]
        if key[0] == "W":
            message = _table_problem(value)
            if message is not None:
                message += f": the layer's weights, one row per input (e.g. {INPUTS_EXAMPLE})"
            else:
                shape = (len(value), len(value[0]))
                if n_in is not None and n_out is not None and shape != (n_in, n_out):
                    message = f"shape {shape[0]}x{shape[1]}, the network needs {n_in}x{n_out}"
                elif n_out is not None and shape[1] != n_out:
                    message = f"shape {shape[0]}x{shape[1]}, the network needs {n_out} columns"
                elif n_in is not None and shape[0] != n_in:
                    message = f"shape {shape[0]}x{shape[1]}, the network needs {n_in} rows"
                if message is not None:
                    message += " (rows: the layer's inputs, columns: its nodes)"
        elif not (isinstance(value, list) and value and all(_is_number(v) for v in value)):
            message = "must be a list of numbers, one per node of the layer"
        elif n_out is not None and len(value) != n_out:
            message = f"{len(value)} values, the network needs {n_out} (one per node of the layer)"
        else:
            message = None
        if message is not None:
            problems.append(Problem(WEIGHTS, key, message, value))
    return problems


# --- the sections -----------------------------------------------------------------------------


@holds_settings("data")
@dataclass
class DataConfig(HoldsSettings):
    """What to train on: a registered dataset or a user CSV, and how much to hold out."""

    dataset: str | None = _NOT_GIVEN
    """A registered dataset name; None when ``path`` or inline data is used. Not given: ``"spiral"``,
    or None when ``path`` or ``inputs`` / ``targets`` are given."""
    path: str | None = None
    """A user CSV file, instead of ``dataset``."""
    target: str | None = None
    """The CSV's target column (``path`` only); None: the last column."""
    options: dict[str, Any] = field(default_factory=dict)
    """The dataset's own extra options (``DatasetInfo.options``), e.g. gaussians' ``classes``."""
    features: list[str] | None = None
    """The network's inputs, computed from the 2 raw inputs (names of ``engine.features.FEATURES``,
    e.g. ``["x1sq", "x2sq"]``); None: the raw inputs as they are. Data with 2 raw inputs only."""
    inputs: list[list[float]] | None = None
    """Inline data, instead of ``dataset`` or ``path``: one row of input values per sample."""
    targets: list | None = None
    """The inline data's targets: one row per sample (``[[0.01, 0.99]]``), or one number each."""
    problem: str | None = None
    """The inline data's problem (``PROBLEMS``); None: binary when every target is 0 or 1 in one
    column, else regression (multiclass is named: class numbers, or one-hot rows)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The registered settings of this section that differ from their defaults (the validation
    split, a synthetic dataset's ``n_samples`` and ``noise``: ``settings.SETTINGS``), read and set
    as attributes."""

    def __post_init__(self) -> None:
        if self.dataset is _NOT_GIVEN:
            self.dataset = None if self.path is not None or self.is_inline else DEFAULT_DATASET
        if isinstance(self.features, tuple):
            self.features = list(self.features)

    @property
    def is_inline(self) -> bool:
        """True when the data is written in the config (``inputs`` / ``targets``)."""
        return self.inputs is not None or self.targets is not None

    @property
    def standardizes(self) -> bool:
        """Whether the inputs are standardized: ``standardize`` when set, else true for a dataset
        or CSV and false for inline data (the network sees the numbers as typed)."""
        chosen = getattr(self, "standardize")
        return (not self.is_inline) if chosen is None else bool(chosen)

    @property
    def source(self) -> str | None:
        """The data as a run list names it: the dataset, the CSV's path or ``inline``."""
        if self.dataset is not None:
            return self.dataset
        return str(self.path) if self.path is not None else "inline" if self.is_inline else None

    def validate(self) -> list[Problem]:
        """Every problem in this section."""
        problems: list[Problem] = []

        def add(key: str, message: str, value: Any) -> None:
            problems.append(Problem("data", key, message, value))

        info = DATASETS.get(self.dataset) if isinstance(self.dataset, str) else None
        given = [key for key, on in (("dataset", self.dataset is not None), ("path", self.path is not None),
                                     ("inputs", self.is_inline)) if on]
        if not given:
            add("dataset", "give a dataset, a CSV path or inline inputs and targets; datasets: "
                + ", ".join(DATASETS), None)
        elif len(given) > 1:
            first, second = given[:2]
            what = {"dataset": "a dataset", "path": "a CSV path", "inputs": "inline inputs and targets"}
            add(second, f"give {what[first]} or {what[second]}, not both ({first} = {_show(getattr(self, first))})",
                getattr(self, second))
        inline_columns = None
        if self.is_inline:
            for key, message, value in inline_problems(self.inputs, self.targets, self.problem):
                add(key, message, value)
            if _table_problem(self.inputs) is None:
                inline_columns = len(self.inputs[0])
        elif self.problem is not None:
            add("problem", "applies to inline data only (inputs and targets); a dataset or CSV "
                           "has its own problem", self.problem)
        if self.dataset is not None and info is None:
            add("dataset", "unknown dataset; " + _allowed(self.dataset, DATASETS), self.dataset)
        if self.path is not None and not (isinstance(self.path, str) and self.path.strip()):
            add("path", "must be the path of a CSV file", self.path)
        if self.target is not None:
            if self.path is None:
                add("target", "applies to a CSV path only; a dataset has its own target",
                    self.target)
            elif not (isinstance(self.target, str) and self.target):
                add("target", "must be the name of a column of the CSV", self.target)

        what = data_named(self)  # which data this is decides which options apply
        if self.features is not None:
            if not (isinstance(self.features, list)
                    and all(isinstance(name, str) for name in self.features)):
                add("features", "must be a list of feature names, e.g. [\"x1sq\", \"x2sq\"]; "
                                "choose from: " + ", ".join(FEATURES), self.features)
            else:
                unknown = [name for name in self.features if name not in FEATURES]
                if unknown:
                    add("features", f"unknown feature {unknown[0]!r}; "
                                    + _allowed(unknown[0], FEATURES), self.features)
                else:
                    try:
                        check_features(self.features,
                                       info.n_features if info is not None else inline_columns)
                    except ValueError as err:
                        add("features", str(err), self.features)

        if not isinstance(self.options, dict):
            add("options", "must be a table of the dataset's options", self.options)
            return problems
        own = info.options if info is not None else {}
        for key, value in self.options.items():
            option = own.get(key)
            owners = [name for name, i in DATASETS.items() if key in i.options]
            if option is not None:
                if not (_is_int(value) and value >= option.minimum):
                    add(key, f"must be an integer >= {option.minimum} ({option.help})", value)
                elif option.maximum is not None and value > option.maximum:
                    add(key, f"at most {option.maximum:,}, the {option.help}", value)
                elif key == "classes":
                    n = self.n_samples if _is_int(self.n_samples) else info.n_samples
                    if value > n:
                        add(key, f"must not exceed n_samples = {n}: every blob needs a sample", value)
            elif key in _DATA_KEYS:
                add(key, f"is a field of its own (DataConfig.{key}), not a dataset option", value)
            elif owners:
                if what is not None:
                    add(key, f"is an option of dataset {', '.join(owners)} only, not of {what}",
                        value)
            else:
                add(key, "unknown key; " + _allowed(key, [*_keys("data"), *own]), value)
        return _in_key_order("data", problems + _registered_problems("data", self))


@holds_settings("network")
@dataclass
class NetworkConfig(HoldsSettings):
    """The network's shape: hidden layer widths, activations, initialisation, output and loss."""

    hidden: list[int] = field(default_factory=lambda: [16, 16])
    """Widths of the hidden layers, input side first; [] for none."""
    activations: list[str] | None = None
    """One activation per hidden layer; None: ``activation`` for every one."""
    activation: str = DEFAULT_ACTIVATION
    """The activation of every hidden layer, unless ``activations`` is set."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The registered settings of this section that differ from their defaults (the output
    layer, the loss, the initialisation, the regularizers: ``settings.SETTINGS``),
    read and set as attributes."""
    weights: dict[str, list] | None = None
    """Exact starting weights by name (``W1``: rows = the layer's inputs, columns = its nodes;
    ``b1``: one per node), each replacing the seed's draw; the TOML ``[weights]`` table. The
    shapes are checked against the network (``weight_problems``). None: all from the seed."""

    def __post_init__(self) -> None:
        # Tuples are fine in code, but TOML gives lists back: lists keep a round trip equal.
        if isinstance(self.hidden, tuple):
            self.hidden = list(self.hidden)
        if isinstance(self.activations, tuple):
            self.activations = list(self.activations)

    @property
    def hidden_activations(self) -> list[str]:
        """The activation of each hidden layer."""
        if self.activations is not None:
            return list(self.activations)
        return [self.activation] * len(self.hidden)

    def validate(self) -> list[Problem]:
        """Every problem in this section."""
        problems: list[Problem] = []

        def add(key: str, message: str, value: Any) -> None:
            problems.append(Problem("network", key, message, value))

        def check_hidden_activation(key: str, name: Any) -> None:
            if _is_choice(name, _HIDDEN_ACTIVATIONS):
                return
            if _is_choice(name, ACTIVATIONS):
                add(key, f"{name} is for the output layer only; hidden layers: "
                         + ", ".join(_HIDDEN_ACTIVATIONS), name)
            else:
                add(key, "unknown activation; " + _allowed(name, _HIDDEN_ACTIVATIONS), name)

        if not isinstance(self.hidden, list):
            add("hidden", "must be a list of layer widths, e.g. [16, 16] ([] for none)",
                self.hidden)
        elif len(self.hidden) > MAX_HIDDEN_LAYERS:
            add("hidden", f"at most {MAX_HIDDEN_LAYERS} hidden layers, not {len(self.hidden):,}",
                self.hidden)
        else:
            for i, width in enumerate(self.hidden):
                if not (_is_int(width) and width >= 1):
                    add(f"hidden[{i}]", "layer widths must be integers >= 1", width)
                elif width > MAX_HIDDEN_WIDTH:
                    add(f"hidden[{i}]", f"at most {MAX_HIDDEN_WIDTH} nodes in a layer", width)

        if self.activations is None:
            check_hidden_activation("activation", self.activation)
        else:
            if self.activation != DEFAULT_ACTIVATION:
                add("activation", "give activation (every hidden layer) or activations "
                                  "(one per hidden layer), not both", self.activation)
            if not isinstance(self.activations, list):
                add("activations", "must be a list of activation names, one per hidden layer",
                    self.activations)
            elif len(self.activations) > MAX_HIDDEN_LAYERS:
                add("activations", f"at most {MAX_HIDDEN_LAYERS}, one per hidden layer, not "
                                   f"{len(self.activations):,}", self.activations)
            else:
                if isinstance(self.hidden, list) and len(self.activations) != len(self.hidden):
                    add("activations", f"needs one activation per hidden layer: "
                                       f"{len(self.hidden)} for hidden = {_show(self.hidden)}",
                        self.activations)
                for i, name in enumerate(self.activations):
                    check_hidden_activation(f"activations[{i}]", name)

        problems += _registered_problems("network", self)
        return problems


@holds_settings("optimizer")
@dataclass
class OptimizerConfig(HoldsSettings):
    """The optimizer, its learning rate and any other hyperparameters, by torch's names."""

    name: str = "adam"
    """A registered optimizer name."""
    hparams: dict[str, Any] = field(default_factory=dict)
    """The optimizer's other hyperparameters that differ from its defaults, e.g. ``momentum``."""
    schedule: dict[str, Any] | None = None
    """A learning-rate schedule stepped once per epoch: ``name`` (of ``engine.schedules.SCHEDULES``)
    and its parameters, e.g. ``{"name": "cosine", "T_max": 100, "warmup_epochs": 5}``; None: the lr
    stays as set. The TOML ``[optimizer.schedule]`` table."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The registered settings of this section (the learning rate: None when not given, then the
    optimizer's own default), read and set as attributes."""

    def create_schedule(self):
        """The engine's ``Schedule`` for ``schedule`` (None when there is none); call on a valid
        config."""
        if self.schedule is None:
            return None
        params = dict(self.schedule)
        return create_schedule(params.pop("name"), **params)

    def _settled(self) -> None:
        if self.lr is None and _is_choice(self.name, OPTIMIZERS):
            self.lr = optimizers.defaults(self.name)["lr"]

    def __post_init__(self) -> None:
        # TOML gives betas back as a list, the engine as a tuple: tuples throughout keep them equal.
        if isinstance(self.hparams, dict):
            self.hparams = {
                k: tuple(v) if isinstance(v, list) else v for k, v in self.hparams.items()
            }

    def validate(self) -> list[Problem]:
        """Every problem in this section, including combinations the optimizer rejects."""
        problems: list[Problem] = []

        def add(key: str, message: str, value: Any) -> None:
            problems.append(Problem("optimizer", key, message, value))

        cls = OPTIMIZERS.get(self.name) if isinstance(self.name, str) else None
        if cls is None:
            add("name", "unknown optimizer; " + _allowed(self.name, OPTIMIZERS), self.name)
        problems += _registered_problems("optimizer", self) + self._schedule_problems()  # the table's order
        lr_ok = _is_number(self.lr) and self.lr > 0  # else the lr's own check says why
        if not isinstance(self.hparams, dict):
            add("hparams", "must be a table of hyperparameters", self.hparams)
            return problems
        if cls is None:
            return problems  # which hyperparameters exist depends on the optimizer

        specs = {spec.name: spec for spec in cls.hparam_specs if spec.name != "lr"}
        allowed = [*_keys("optimizer"), *specs]
        checked = {}
        for key, value in self.hparams.items():
            spec = specs.get(key)
            if spec is not None:
                try:
                    checked[key] = spec.check(value)
                except ValueError as err:
                    add(key, str(err), value)
            elif key in _keys("optimizer"):
                add(key, f"is a field of its own (OptimizerConfig.{key}), not in hparams", value)
            else:
                owners = [n for n, c in OPTIMIZERS.items()
                          if key in {s.name for s in c.hparam_specs}]
                if owners:
                    add(key, f"{self.name} has no {key} (only {', '.join(owners)} do); "
                             f"allowed: {', '.join(allowed)}", value)
                else:
                    add(key, "unknown key; " + _allowed(key, allowed), value)

        if lr_ok and len(checked) == len(self.hparams):
            try:
                optimizers.create(self.name, lr=self.lr, **checked)
            except ValueError as err:
                problems.append(self._combination_problem(str(err), specs, checked))
        return problems

    def _schedule_problems(self) -> list[Problem]:
        """The problems of ``schedule``, at ``schedule`` or ``schedule.<parameter>``."""
        schedule = self.schedule
        if schedule is None:
            return []
        example = '{name = "cosine", T_max = 100}'
        if not isinstance(schedule, dict):
            return [Problem("optimizer", "schedule", f"must be a table, e.g. {example}; "
                                                     "schedules: " + ", ".join(SCHEDULES), schedule)]
        name = schedule.get("name")
        if name is None:
            return [Problem("optimizer", "schedule", f"needs a name, e.g. {example}; "
                                                     "schedules: " + ", ".join(SCHEDULES), schedule)]
        if not _is_choice(name, SCHEDULES):
            return [Problem("optimizer", "schedule.name",
                            "unknown lr schedule; " + _allowed(name, SCHEDULES), name)]
        allowed = [p.name for p in (*SCHEDULES[name].params, *WARMUP_PARAMS)]
        problems = [
            Problem("optimizer", f"schedule.{key}",
                    f"unknown parameter of schedule {name!r}; " + _allowed(key, allowed), value)
            for key, value in schedule.items() if key != "name" and key not in allowed
        ]
        if problems:
            return problems
        params = {k: v for k, v in schedule.items() if k != "name"}
        try:
            create_schedule(name, **params)
        except ValueError as err:
            message = str(err)
            bad = next((k for k in allowed if re.match(rf"{k}\b", message)), None)
            if bad is not None and bad in params:
                return [Problem("optimizer", f"schedule.{bad}", message, params[bad])]
            return [Problem("optimizer", "schedule", message, schedule)]
        return []

    def _combination_problem(self, message: str, specs, checked) -> Problem:
        """A cross-field error, put at the hyperparameter it names that the user set, if any."""
        effective = {**{name: spec.default for name, spec in specs.items()}, **self.hparams}
        words = re.findall(r"\w+", message)
        named = sorted({w for w in words if w in effective}, key=words.index)
        if not named:
            return Problem("optimizer", "name", message, self.name)
        key = next((n for n in named if n in checked), named[0])
        others = ", ".join(f"{n} = {_show(effective[n])}" for n in named if n != key)
        return Problem("optimizer", key, message + (f" (here {others})" if others else ""),
                       effective[key])


@holds_settings("training")
@dataclass
class TrainingConfig(HoldsSettings):
    """How long to train, in what batches, from which seed and at what precision."""

    settings: dict[str, Any] = field(default_factory=dict)
    """The section's values, all registered settings (the epochs, the batch size, the seed, early
    stopping and the like: ``settings.SETTINGS``) that differ from their defaults, read and set as
    attributes."""

    def validate(self) -> list[Problem]:
        """Every problem in this section."""
        return _registered_problems("training", self)


@dataclass
class ExperimentConfig:
    """Everything needed to repeat a training run."""

    data: DataConfig = field(default_factory=DataConfig)
    """What to train on."""
    network: NetworkConfig = field(default_factory=NetworkConfig)
    """The network's shape."""
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    """How the weights are updated."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    """How long and in what batches."""

    def validate(self) -> list[Problem]:
        """Every problem in the config, section by section; empty when it is valid."""
        problems = [
            *self.data.validate(),
            *self.network.validate(),
            *self.optimizer.validate(),
            *self.training.validate(),
        ]
        problems += weight_problems(self.network.weights, self.layer_sizes())
        patience = getattr(self.training, "patience", None)
        if patience is not None and getattr(self.data, "val_split", None) == 0:
            problems.append(Problem("training", "patience", "early stopping watches the validation loss, and "
                                    "val_split = 0 holds out no data: set val_split above 0, or leave patience off",
                                    patience))
        return problems

    def layer_sizes(self) -> list[int | None]:
        """The network's layer sizes as far as the config tells them: the inputs and outputs are
        None where only the data can tell (a CSV's columns, data that is not valid)."""
        d, hidden = self.data, self.network.hidden
        if not (isinstance(hidden, list) and all(_is_int(w) and w >= 1 for w in hidden)):
            hidden = [None] * len(hidden) if isinstance(hidden, list) else []
        n_in = n_out = None
        if d.is_inline:
            if not inline_problems(d.inputs, d.targets, d.problem):
                ds = inline_dataset(d)
                n_in, n_out = ds.X.shape[1], ds.n_outputs
        elif isinstance(d.dataset, str) and d.dataset in DATASETS and d.path is None:
            from ..engine.datasets import dataset_shape

            try:
                _, n_in, n_out = dataset_shape(d.dataset, n_samples=d.n_samples, **d.options)
            except (TypeError, ValueError):  # bad options: the data section reports them
                pass
        if d.features is not None:
            n_in = len(d.features) if isinstance(d.features, list) else None
        return [n_in, *hidden, n_out]

    def check(self, source: str = "config") -> None:
        """Raise ``ConfigError`` listing every problem, if there are any."""
        problems = self.validate()
        if problems:
            raise ConfigError(source, problems)


# --- reading ----------------------------------------------------------------------------------


def load_config(path: str | os.PathLike) -> ExperimentConfig:
    """Read a TOML config file; a relative CSV ``path`` in it is relative to the file's folder."""
    path = Path(path)
    try:
        with open_regular(path, MAX_CONFIG_BYTES, expected="a TOML config") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except UnreadableFile as err:
        raise ConfigError(str(path), reason=str(err)) from None
    except OSError as err:
        raise ConfigError(str(path), reason=f"cannot read: {err.strerror or err}") from err
    if len(raw) > MAX_CONFIG_BYTES:  # it grew since it was checked
        raise ConfigError(str(path), reason=f"larger than the {MAX_CONFIG_BYTES // 2**20} MiB allowed for a TOML config")
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            str(path), reason=f"not UTF-8 text: byte 0x{raw[err.start]:02x} on line {line}"
        ) from err
    return loads_config(text, source=str(path), base_dir=path.parent)


def loads_config(
    text: str, source: str = "<string>", base_dir: str | os.PathLike | None = None
) -> ExperimentConfig:
    """Parse TOML text; ``source`` names it in errors, ``base_dir`` anchors a relative CSV path."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, reason=f"invalid TOML: {err}") from err
    except RecursionError:
        raise ConfigError(source, reason="invalid TOML: nested too deeply") from None
    cfg, problems = _from_toml(doc, base_dir)
    problems += cfg.validate()
    if problems:
        order = {name: i for i, name in enumerate(SECTIONS)}
        raise ConfigError(source, sorted(problems, key=lambda p: order.get(p.section, len(order))))
    return cfg


def _from_toml(doc: dict, base_dir) -> tuple[ExperimentConfig, list[Problem]]:
    """The config a TOML document describes, and the problems only its layout can have
    (unknown sections and keys, both of two exclusive keys); values are checked later."""
    problems: list[Problem] = []
    tables: dict[str, dict] = {}
    for name, value in doc.items():
        if name in TABLES and isinstance(value, dict):
            tables[name] = dict(value)
        elif name in TABLES:
            problems.append(Problem(name, None, f"must be a table: a [{name}] line with its keys "
                                                f"below it, not {_show(value)}"))
        elif isinstance(value, dict):
            problems.append(Problem(name, None, "unknown section; " + _allowed(name, TABLES)))
        else:
            home = [section for section in SECTIONS if name in _keys(section)]
            where = f"put it under [{home[0]}]" if home else "sections: " + ", ".join(SECTIONS)
            problems.append(Problem("", name, f"keys belong in a section; {where}", value))

    def unknown_keys(section: str) -> dict:
        table = tables.get(section, {})
        for key in [k for k in table if k not in _keys(section)]:
            problems.append(Problem(section, key, "unknown key; " + _allowed(key, _keys(section)),
                                    table.pop(key)))
        return table

    # [data] and [optimizer] keys beyond the fixed ones are dataset options and
    # hyperparameters: validation checks them against the chosen dataset or optimizer.
    data = tables.get("data", {})
    fixed = {key: data.pop(key) for key in _keys("data") if key in data}
    path = fixed.get("path")
    if base_dir is not None and isinstance(path, str) and path and not Path(path).is_absolute():
        fixed["path"] = str(Path(base_dir) / path)

    network = unknown_keys("network")
    if "activation" in network and "activations" in network:
        problems.append(Problem("network", "activation", "give activation (every hidden layer) "
                                "or activations (one per hidden layer), not both",
                                network.pop("activation")))

    opt = tables.get("optimizer", {})
    own = {s.name: opt.pop(s.name) for s in settings_of_section("optimizer") if s.name in opt}
    cfg = ExperimentConfig(
        DataConfig(**fixed, options=data),
        NetworkConfig(**network, weights=tables.get(WEIGHTS)),
        OptimizerConfig(opt.pop("name", "adam"), hparams=opt,
                        schedule=opt.pop("schedule", None), **own),
        TrainingConfig(**unknown_keys("training")),
    )
    return cfg, problems


# --- writing ----------------------------------------------------------------------------------


def dumps_config(cfg: ExperimentConfig, base_dir: str | os.PathLike | None = None) -> str:
    """The config as TOML with every field written out, so the file shows the whole experiment.

    Raises ``ConfigError`` for an invalid config: text that would not load back is never made.
    ``base_dir`` is the folder the text will be saved in: a CSV inside it is written relative
    to it (the folder can move), one elsewhere as an absolute path.
    """
    cfg.check()
    d, n, o = cfg.data, cfg.network, cfg.optimizer
    if d.dataset is not None:
        data: dict[str, Any] = {"dataset": d.dataset}
    elif d.path is not None:
        data = {"path": d.path if base_dir is None else _path_from(base_dir, d.path)}
        if d.target is not None:
            data["target"] = d.target
    else:  # inline: the numbers come last, below the keys that say what they are
        data = {} if d.problem is None else {"problem": d.problem}
    if d.features is not None:
        data["features"] = d.features
    data.update(d.options)
    if d.is_inline:
        data.update(inputs=d.inputs, targets=d.targets)
    if n.activations is not None:
        layers: dict[str, Any] = {"activations": n.activations}
    else:
        layers = {"activation": n.activation}
    # The registered settings and the schedule are written only when set, so a config without
    # them reads as it always did.
    network = {"hidden": n.hidden, **layers}
    optimizer = {"name": o.name, **o.hparams}
    if o.schedule is not None:
        optimizer["schedule"] = dict(o.schedule)
    doc = {
        "data": data,
        "network": network,
        "optimizer": optimizer,
        "training": {},
    }
    for section, table in list(doc.items()):
        values = {}
        for setting in settings_of_section(section):
            value = getattr(getattr(cfg, section), setting.name)
            if is_set(setting, value) and value is not None:
                values[setting.name] = value
        # each setting where its declaration places it (``Setting.toml_after``), the others last
        ordered = placed(table, [SETTINGS[name] for name in values], where="toml", fields=_FIXED_KEYS[section])
        keys = [key if isinstance(key, str) else key.name for key in ordered]
        doc[section] = {key: values[key] if key in values else table[key] for key in keys}
    if n.weights is not None:
        doc[WEIGHTS] = dict(n.weights)
    return tomli_w.dumps(doc)


def _path_from(base_dir: str | os.PathLike, path: str) -> str:
    """``path`` as a config file in ``base_dir`` should hold it to mean the same file."""
    try:
        rel = os.path.relpath(path, base_dir)
    except ValueError:  # another drive (Windows)
        return os.path.abspath(path)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return os.path.abspath(path)
    return rel


def save_config(cfg: ExperimentConfig, path: str | os.PathLike) -> None:
    """Write the config to ``path`` atomically (``engine.atomic``): a crash or an error leaves any
    old file whole."""
    path = Path(path)
    text = dumps_config(cfg, base_dir=path.parent)
    try:
        write_atomic(path, text)
    except OSError as err:
        raise ConfigError(str(path), reason=f"cannot write: {err.strerror or err}") from err


# --- overrides --------------------------------------------------------------------------------

_OVERRIDES = (
    "dataset", "path", "target", "features",
    "hidden", "activation",
    "optimizer", "schedule",
)
"""The override keys of the sections' own fields; every registered setting's name is one too."""
reserve(*_OVERRIDES, *(key for keys in _FIXED_KEYS.values() for key in keys), "options", "hparams", "settings")


def with_overrides(
    cfg: ExperimentConfig, /, *, source: str = "overrides", **overrides: Any
) -> ExperimentConfig:
    """A copy of ``cfg`` with command-line style overrides applied, then checked as a whole.

    Keys are those of ``_OVERRIDES`` and the registered settings' names; ``optimizer`` is the optimizer's name. A None value
    counts as not given, so unset CLI options can be passed straight through. Switching
    between ``dataset`` and ``path`` clears the other, and keeps the settings that apply to
    some data only (``Setting.applies``) and the options only where the new data takes them; a new ``optimizer`` keeps only the
    hyperparameters it has and starts from its own default ``lr`` unless ``lr`` is given.
    Raises ``ConfigError`` (named ``source``) if the result is invalid, ``TypeError`` for an
    unknown key.
    """
    allowed = (*_OVERRIDES, *SETTINGS)
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"unknown override {unknown[0]!r}; allowed: {', '.join(allowed)}")
    given = {key: value for key, value in overrides.items() if value is not None}
    new = copy.deepcopy(cfg)
    d, n, o = new.data, new.network, new.optimizer

    if "dataset" in given or "path" in given:
        d.dataset, d.path = given.get("dataset"), given.get("path")
        d.inputs = d.targets = d.problem = None
        if d.path is None:
            d.target = None
        info = DATASETS.get(d.dataset) if isinstance(d.dataset, str) else None
        for setting in settings_of_section("data"):
            if setting.applies is not None and not setting.applies(d):
                setattr(d, setting.name, setting.default)
        d.options = {k: v for k, v in d.options.items() if info is not None and k in info.options}
        if info is not None and info.n_features != RAW_INPUTS:
            d.features = None  # features need 2 raw inputs
    for key in ("target", "features"):
        if key in given:
            setattr(d, key, given[key])
    if isinstance(d.features, tuple):
        d.features = list(d.features)

    if "hidden" in given:
        n.hidden = list(given["hidden"]) if isinstance(given["hidden"], tuple) else given["hidden"]
    if "activation" in given:
        n.activation, n.activations = given["activation"], None

    name = given.get("optimizer", o.name)
    if name != o.name:
        o.name = name
        cls = OPTIMIZERS.get(name) if isinstance(name, str) else None
        if cls is not None:
            kept = {spec.name for spec in cls.hparam_specs}
            o.hparams = {k: v for k, v in o.hparams.items() if k in kept}
            o.lr = optimizers.defaults(name)["lr"]
    if "schedule" in given:
        o.schedule = dict(given["schedule"]) if isinstance(given["schedule"], dict) else given["schedule"]

    for key, setting in SETTINGS.items():
        if key in given:
            setattr(getattr(new, setting.section), key, given[key])
    new.check(source)
    return new
