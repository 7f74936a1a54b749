"""Limits on what a user can ask for, and the memory budget checked before anything is allocated.

Every count a user can type (layer widths, epochs, sweep points, ...) has its maximum here or,
for what the engine itself checks, beside the engine code that uses it (``engine.datasets``:
``MAX_SAMPLES``, ``MAX_CLASSES``, ``MAX_NOISE``; ``engine.csvdata``: ``MAX_CSV_BYTES``,
``MAX_ROW_CHARS``, ``MAX_CSV_CLASSES``, ``MAX_ABS_VALUE``). Config validation names the key
that breaks a limit.

Limits alone cannot stop a network that is too large for the machine (4,096 nodes in each of
32 layers trained on a million samples is within every limit), so ``check_budget`` estimates the
memory an experiment needs (data, parameters, gradients, optimizer state, activations) from the
config and the data's shape, before the data is generated or the network built, and refuses
with one line naming the key most responsible. The budget is half of the machine's memory
unless ``NN_TUI_MEMORY_BUDGET`` (or ``set_budget``, e.g. from a ``--memory-budget`` option)
says otherwise.

This module imports only the standard library at import time, so the command line can use its
limits without loading NumPy.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .config import ExperimentConfig
    from ..engine.csvdata import Dataset

__all__ = [
    "BUDGET_VARIABLE",
    "Budget",
    "BudgetError",
    "Estimate",
    "check_budget",
    "estimate",
    "format_size",
    "memory_budget",
    "parse_size",
    "set_budget",
]

# The limits on counts live in ``limits``; they are named here too for the callers that check them.
from .limits import MAX_HIDDEN_WIDTH, MAX_HIDDEN_LAYERS, MAX_EPOCHS, MAX_BATCH_SIZE, MAX_SEED, MAX_LAB_EPOCHS, MAX_SWEEP_POINTS, MAX_SURFACE_STEPS, MAX_LANES  # noqa: E402,F401

# --- the budget -------------------------------------------------------------------------------------

BUDGET_VARIABLE = "NN_TUI_MEMORY_BUDGET"
"""The environment variable that sets the memory budget, e.g. ``4G``."""
BUDGET_FRACTION = 0.5
"""The default budget's share of the machine's memory."""
FALLBACK_BUDGET = 4 * 2**30
"""The budget where the machine's memory cannot be read."""

_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_MAX_SIZE = 2**60


class BudgetError(ValueError):
    """An experiment that would need more memory than the budget, or a bad budget setting.

    The message is one line. For an experiment over budget, ``section``, ``key`` and ``value``
    name the config key most responsible (as ``config.Problem`` does) and ``reason`` is the
    rest of the message, so a command line can say it in terms of its own options.
    """

    def __init__(self, message: str, section: str | None = None, key: str | None = None,
                 value: Any = None, reason: str | None = None, source: str = "config"):
        super().__init__(message)
        self.section, self.key, self.value = section, key, value
        self.reason = message if reason is None else reason
        self.source = source
        """What the config came from, for a caller that words it like a ``ConfigError``."""

    @property
    def problems(self) -> list:
        """The key as a ``config.Problem`` list, like ``ConfigError.problems`` (empty for a bad
        budget setting), so the command line can name the option that set the key."""
        if self.section is None:
            return []
        from .config import Problem

        return [Problem(self.section, self.key, self.reason, self.value)]


@dataclass(frozen=True)
class Budget:
    """A number of bytes and where it came from, for messages."""

    nbytes: int
    source: str
    """e.g. ``half of this machine's 15.5 GiB`` or ``NN_TUI_MEMORY_BUDGET=4G``."""

    @property
    def default(self) -> bool:
        return self.source.startswith(("half of", "a fixed"))

    def describe(self) -> str:
        """``6.2 GiB (half of this machine's 12.4 GiB; set ... to change it)``."""
        hint = f"; set {BUDGET_VARIABLE}, e.g. {BUDGET_VARIABLE}=16G, to change it" if self.default else ""
        return f"{format_size(self.nbytes)} ({self.source}{hint})"


_override: Budget | None = None


def parse_size(text: str) -> int:
    """``512M``, ``4G``, ``1.5g``, ``16GiB`` or a plain number of bytes -> bytes (K, M, G and T are
    powers of 1024). Raises ``ValueError`` for anything else, zero included."""
    match = _SIZE.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size; use e.g. 512M, 4G or a number of bytes")
    number, unit = match.groups()
    scale = _UNITS[unit.lower()]
    value = int(number) * scale if number.isdigit() else math.floor(float(number) * scale)
    if not 0 < value <= _MAX_SIZE:
        raise ValueError(f"{text!r} is not a usable size; use e.g. 512M, 4G or a number of bytes")
    return value


def format_size(nbytes: float) -> str:
    """``1.5 GiB``, ``12.0 MiB``, ``800 bytes``: a size worked out, so always with one decimal."""
    from ..engine.numbers import byte_size  # here, not at the top: importing the engine loads NumPy

    return byte_size(nbytes, estimate=True)


def set_budget(nbytes: int | None, source: str = "--memory-budget") -> Callable[[], None]:
    """Use this budget from now on, over the variable and the default (None: stop doing so); returns
    what puts back the one used before (a command's option lasts until the command ends)."""
    global _override
    before = _override
    _override = None if nbytes is None else Budget(int(nbytes), source)

    def restore() -> None:
        global _override
        _override = before

    return restore


def memory_budget() -> Budget:
    """The budget in force: ``set_budget``'s, else ``NN_TUI_MEMORY_BUDGET``'s, else half the memory."""
    if _override is not None:
        return _override
    text = os.environ.get(BUDGET_VARIABLE)
    if text is not None:
        try:
            return Budget(parse_size(text), f"{BUDGET_VARIABLE}={text.strip()}")
        except ValueError as exc:
            raise BudgetError(f"{BUDGET_VARIABLE}: {exc}") from None
    total, where = _machine_memory()
    if total is None:
        return Budget(FALLBACK_BUDGET, f"a fixed {format_size(FALLBACK_BUDGET)}: this machine's memory is unknown")
    return Budget(int(total * BUDGET_FRACTION), f"half of {where} {format_size(total)}")


def _machine_memory() -> tuple[int | None, str]:
    """Physical memory, or the container's memory limit where that is lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = None
    if total is not None and total <= 0:
        total = None
    limit = _cgroup_limit()
    if limit is not None and (total is None or limit < total):
        return limit, "this container's"
    return total, "this machine's"


def _cgroup_limit() -> int | None:
    """The cgroup (container) memory limit in bytes, if one is set and readable."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, "rb") as f:
                text = f.read(64).strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < 2**60:
            return int(text)
    return None


# --- the estimate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """Bytes one experiment needs at its peak, by part."""

    data: int
    """The dataset as generated or read, its split, standardized and encoded copies and the
    scratch arrays of standardizing."""
    parameters: int
    """Weights and biases, and the trainer's copy of the last good ones."""
    gradients: int
    optimizer: int
    """The optimizer's state arrays and its two scratch arrays."""
    activations: int
    """Every layer's outputs, scratch and deltas for a batch, for the last smaller batch, for the
    whole training set and the validation set (the evaluation after each epoch), and the
    evaluation's own forward pass."""

    @property
    def total(self) -> int:
        return self.data + self.parameters + self.gradients + self.optimizer + self.activations

    def parts(self) -> list[tuple[str, int]]:
        """(name, bytes), largest first."""
        parts = [("parameters", self.parameters), ("gradients", self.gradients),
                 ("optimizer state", self.optimizer), ("activations", self.activations), ("data", self.data)]
        return sorted(parts, key=lambda part: -part[1])

    def describe(self) -> str:
        """``about 80.0 GiB (parameters 30.0 GiB, ...)``: the parts that matter, largest first."""
        shown = [f"{name} {format_size(size)}" for name, size in self.parts() if size >= self.total / 100]
        return f"about {format_size(self.total)} ({', '.join(shown)})"


def _network_inputs(cfg: ExperimentConfig, n_features: int) -> int:
    """The network's input width: the features' count when ``[data] features`` is set, else the
    data's columns."""
    features = cfg.data.features
    return len(features) if isinstance(features, list) and features else int(n_features)


def _shape_sizes(cfg: ExperimentConfig, n_samples: int, n_features: int, n_outputs: int):
    hidden = [int(w) for w in cfg.network.hidden]
    return [_network_inputs(cfg, n_features), *hidden, int(n_outputs)]


def estimate(cfg: ExperimentConfig, n_samples: int, n_features: int, n_outputs: int, *,
             networks: int = 1) -> Estimate:
    """The memory ``cfg`` needs on data of this shape (``n_outputs``: the network's last layer).

    Counts what the engine allocates (see ``Experiment.from_config`` and ``Trainer``); the
    interpreter and the app themselves come on top. ``networks``: how many networks train side
    by side on the one dataset (a race: its lanes and the base they start from).
    """
    from ..engine.optimizers import OPTIMIZERS

    s = 4 if cfg.training.dtype == "float32" else 8
    n, raw, o = int(n_samples), int(n_features), int(n_outputs)
    f = _network_inputs(cfg, raw)  # the columns the network takes (features, or the raw ones)
    n_val = min(round(n * float(cfg.data.val_split)), max(n - 1, 0))
    n_train = max(n - n_val, 1)
    batch = cfg.training.batch_size
    k = n_train if batch == "full" else min(int(batch), n_train)
    last = n_train % k
    sizes = _shape_sizes(cfg, n, f, o)
    widths = sum(sizes[1:])
    n_params = sum(a * b + b for a, b in zip(sizes, sizes[1:]))

    data = (8 * n * (raw + 1)        # X and y as read or generated
            + 8 * n * raw            # the generator's (or the reader's) scratch
            + (8 * n * f if f != raw else 0)  # the features computed from the raw columns
            + s * n * (f + o)        # X and Y, training and validation, standardized and encoded
            + 8 * n                  # the labels of both sets, for the metrics
            + 2 * 8 * n_train * f)   # standardizing's scratch copies
    cls = OPTIMIZERS.get(cfg.optimizer.name)
    n_state = len(cls.state_names) if cls is not None else 3
    rows = sum({k, last, n_train, n_val})  # the network keeps buffers for each of these batch sizes
    activations = s * (rows * (3 * widths + o)         # outputs, scratch and deltas, and the logits
                       + n_train * (widths + max(sizes[1:]) + 2 * o)  # the evaluation's forward pass
                       + k * (f + o))                  # the batch buffers
    m = max(int(networks), 1)
    return Estimate(
        data=data,
        parameters=m * 2 * s * n_params,
        gradients=m * s * n_params,
        optimizer=m * (n_state + 2) * s * n_params,
        activations=m * activations,
    )


def check_budget(cfg: ExperimentConfig, dataset: Dataset | None = None, *, n_samples: int | None = None,
                 n_features: int | None = None, n_outputs: int | None = None,
                 budget: Budget | None = None, networks: int = 1) -> Estimate | None:
    """Raise ``BudgetError`` if ``cfg`` needs more memory than the budget; return the estimate.

    The data's shape comes from ``dataset`` when given, else from the three counts when given,
    else from the registry for a built-in dataset (without generating it). A CSV not read yet
    has no shape: then nothing is checked and None comes back, so the check can run both before
    the data is loaded and after. ``networks``: see ``estimate``.
    """
    if dataset is not None:
        n_samples, n_features, n_outputs = len(dataset.X), dataset.X.shape[1], dataset.n_outputs
    elif n_samples is None or n_features is None or n_outputs is None:
        shape = _registry_shape(cfg)
        if shape is None:
            return None
        n_samples, n_features, n_outputs = shape
    try:
        est = estimate(cfg, n_samples, n_features, n_outputs, networks=networks)
    except (TypeError, ValueError, OverflowError):  # an invalid config: its validation says why
        return None
    budget = memory_budget() if budget is None else budget
    if est.total <= budget.nbytes:
        return est
    section, key, value = _culprit(cfg, est, n_samples, n_features, n_outputs)
    from .config import Problem

    side = f" for {networks} networks side by side" if networks > 1 else ""
    reason = f"needs {est.describe()}{side}, more than the memory budget of {budget.describe()}"
    message = str(Problem(section, key, reason, value))
    raise BudgetError(message, section, key, value, reason)


def _registry_shape(cfg: ExperimentConfig) -> tuple[int, int, int] | None:
    d = cfg.data
    if d.path is not None or not isinstance(d.dataset, str):
        return None
    from ..engine.datasets import dataset_shape

    try:
        return dataset_shape(d.dataset, n_samples=d.n_samples, **d.options)
    except ValueError:  # an invalid config: validation reports it
        return None


def _culprit(cfg: ExperimentConfig, est: Estimate, n: int, f: int, o: int) -> tuple[str, str, Any]:
    """The config key (section, key, value) most responsible for the estimate."""
    d, hidden = cfg.data, list(cfg.network.hidden)
    if d.path is not None:
        data_key = ("data", "path", d.path)
    else:
        from ..engine.datasets import DATASETS

        info = DATASETS.get(d.dataset)
        if info is None or info.kind != "synthetic":
            data_key = ("data", "dataset", d.dataset)
        else:
            # whichever is further above its default: the samples, or the classes (one-hot targets)
            data_key = ("data", "n_samples", d.n_samples if d.n_samples is not None else n)
            samples_factor = n / (info.n_samples or 1)
            option = info.options.get("classes")
            if option is not None and o / option.default > samples_factor:
                data_key = ("data", "classes", d.options.get("classes", o))
    model = est.parameters + est.gradients + est.optimizer
    if not hidden:
        return data_key
    if model >= max(est.data, est.activations):
        return ("network", "hidden", hidden)
    if est.data >= est.activations:
        return data_key
    # Activations grow with the samples times the widths: blame whichever is further above
    # its default (400 samples, two layers of 16).
    return ("network", "hidden", hidden) if sum(hidden) / 32 >= n / 400 else data_key
