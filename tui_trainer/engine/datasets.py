"""Built-in datasets: seeded synthetic toys to watch a network learn, and small real sample sets.

``DATASETS`` is the registry (name -> ``DatasetInfo``); ``load_dataset`` checks the options
against it and builds a ``Dataset``. Synthetic sets are generated with
``np.random.default_rng(seed)``, so the same seed always gives the same arrays. The sample sets
are CSV files in ``sample_data/``, read with ``load_csv`` like any user file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from .csvdata import DataError, Dataset, load_csv

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "MAX_CLASSES",
    "MAX_NOISE",
    "MAX_SAMPLES",
    "Option",
    "dataset_names",
    "dataset_shape",
    "load_csv",
    "load_dataset",
    "sample_data_dir",
]

_PACKAGE = __name__.partition(".")[0]
"""The top-level package (``tui_trainer``), whose data the sample CSVs are."""

MIN_SAMPLES = 4
MAX_SAMPLES = 1_000_000
"""Most samples a synthetic dataset generates."""
MAX_CLASSES = 100
"""Most blobs (classes) the gaussians set makes."""
MAX_NOISE = 1000.0
"""Largest noise std: the data themselves lie within a few units of 0, so more noise is nothing but
noise, and far more (1e308) would make the data infinite."""


@dataclass(frozen=True)
class Option:
    """An extra integer keyword a synthetic set accepts (e.g. the number of blobs)."""

    default: int
    minimum: int
    help: str
    maximum: int | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What the UI shows about a dataset and how to build it."""

    name: str
    kind: str  # "synthetic" | "sample"
    problem: str
    description: str
    loader: Callable[..., Dataset]
    n_samples: int | None = None  # default for synthetic sets; None for sample sets
    noise: float | None = None
    options: dict[str, Option] = field(default_factory=dict)
    n_features: int = 2
    """Feature columns."""
    n_classes: int = 0
    """Classes (0 for regression); for gaussians, the default of its ``classes`` option."""
    n_rows: int | None = None
    """Rows of a sample set (synthetic sets: ``n_samples``)."""


# --- synthetic generators: (rng, n, noise, **options) -> (X, y, class_names) ---------------


def _split_counts(n: int, parts: int) -> np.ndarray:
    """n samples shared as evenly as possible among parts (the first ones get the remainder)."""
    return np.full(parts, n // parts) + (np.arange(parts) < n % parts)


def _xor(rng, n, noise):
    centers = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = np.repeat(np.arange(4), _split_counts(n, 4))
    X = centers[which] + rng.normal(0.0, noise, (n, 2))
    return X, (which >= 2).astype(np.int64), ["same_sign", "opposite_sign"]


def _circles(rng, n, noise):
    y = np.repeat([0, 1], _split_counts(n, 2))
    radius = np.where(y == 0, 1.0, 0.5)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(0.0, noise, (n, 2))
    return X, y, ["outer", "inner"]


def _moons(rng, n, noise):
    y = np.repeat([0, 1], _split_counts(n, 2))
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where(y[:, None] == 0, upper, lower) + rng.normal(0.0, noise, (n, 2))
    return X, y, ["upper", "lower"]


def _spiral(rng, n, noise):
    # Each arm makes 1.5 turns while its radius grows from 0.1 to 1, so neighbouring
    # arms stay 0.3 apart: far more than the default noise.
    y = np.repeat([0, 1], _split_counts(n, 2))
    s = rng.uniform(0.0, 1.0, n)
    radius = 0.1 + 0.9 * s
    angle = 3 * np.pi * s + np.pi * y
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(0.0, noise, (n, 2))
    return X, y, ["arm_a", "arm_b"]


def _gaussians(rng, n, noise, classes):
    if classes > n:
        raise DataError(f"classes = {classes} must not exceed n_samples = {n}: every blob needs a sample")
    angle = 2 * np.pi * np.arange(classes) / classes
    centers = 2.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    y = np.repeat(np.arange(classes), _split_counts(n, classes))
    X = centers[y] + rng.normal(0.0, noise, (n, 2))
    return X, y, [f"blob_{i}" for i in range(classes)]


def _linear(rng, n, noise):
    # Label by a fixed line, then push each point 0.1 away from it: separable with a margin
    # that noise > 0 blurs.
    normal = np.array([1.0, -0.7]) / np.hypot(1.0, -0.7)
    X = rng.uniform(-1.0, 1.0, (n, 2))
    side = X @ normal + 0.2 > 0
    X += np.where(side, 0.1, -0.1)[:, None] * normal + rng.normal(0.0, noise, (n, 2))
    return X, side.astype(np.int64), ["below", "above"]


def _sine(rng, n, noise):
    x = rng.uniform(-np.pi, np.pi, n)
    return x[:, None], np.sin(x) + rng.normal(0.0, noise, n), []


def _plane(rng, n, noise):
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, 1.5 * X[:, 0] - 2.0 * X[:, 1] + 0.5 + rng.normal(0.0, noise, n), []


_BUMPS = [  # (centre x1, centre x2, height, width)
    (-1.0, -1.0, 1.0, 0.6),
    (1.0, 0.5, -0.8, 0.5),
    (0.0, 1.2, 0.6, 0.4),
]


def _multi_gaussian(rng, n, noise):
    X = rng.uniform(-2.0, 2.0, (n, 2))
    y = sum(h * np.exp(-((X[:, 0] - a) ** 2 + (X[:, 1] - b) ** 2) / (2 * w * w)) for a, b, h, w in _BUMPS)
    return X, y + rng.normal(0.0, noise, n), []


def _synthetic(name: str, problem: str, generate: Callable) -> Callable[..., Dataset]:
    """Wrap a generator into a loader that seeds it, shuffles the rows and names the columns."""

    def load(*, n_samples: int, noise: float, seed: int, **options) -> Dataset:
        rng = np.random.default_rng(seed)
        X, y, class_names = generate(rng, n_samples, noise, **options)  # bounded by MAX_NOISE; prepare checks the values
        order = rng.permutation(n_samples)
        d = X.shape[1]
        return Dataset(
            name=name,
            X=np.ascontiguousarray(X[order], dtype=np.float64),
            y=y[order],
            problem=problem,
            feature_names=["x"] if d == 1 else [f"x{i + 1}" for i in range(d)],
            target_name="y" if problem == "regression" else "class",
            class_names=class_names,
            description=DATASETS[name].description,
        )

    return load


def sample_data_dir() -> Path:
    """Folder of the bundled CSVs.

    An installed nn-tui (a wheel, ``pip install .``, ``pipx install``) carries them as package data in
    ``tui_trainer/sample_data/`` (pyproject.toml maps the repository's ``sample_data/`` there); an
    editable install reads the repository's ``sample_data/`` beside the package.
    """
    package = resources.files(_PACKAGE)
    candidates = [package / "sample_data"]
    if isinstance(package, Path) and (package.parent / "pyproject.toml").is_file():  # a source tree
        candidates.append(package.parent / "sample_data")
    for folder in candidates:
        if isinstance(folder, Path) and folder.is_dir():  # not a zipped install: load_csv opens real files
            return folder
    raise DataError("sample data folder not found; looked in " + " and ".join(str(c) for c in candidates))


def _sample(name: str) -> Callable[..., Dataset]:
    def load() -> Dataset:
        ds = load_csv(sample_data_dir() / f"{name}.csv", target="target", name=name)
        ds.description = DATASETS[name].description
        return ds

    return load


def _toy(name, problem, generate, description, n_samples=400, noise=0.1, n_features=2, n_classes=2,
         **options) -> DatasetInfo:
    loader = _synthetic(name, problem, generate)
    if problem == "regression":
        n_classes = 0
    elif "classes" in options:
        n_classes = options["classes"].default
    return DatasetInfo(name, "synthetic", problem, description, loader, n_samples, noise, options,
                       n_features=n_features, n_classes=n_classes)


def _csv(name, problem, description, shape: tuple[int, int, int]) -> DatasetInfo:
    rows, features, classes = shape
    return DatasetInfo(name, "sample", problem, description, _sample(name), n_features=features,
                       n_classes=classes, n_rows=rows)


DATASETS: dict[str, DatasetInfo] = {info.name: info for info in [
    _toy("xor", "binary", _xor, "4 clusters at the corners of a square; opposite corners share a class", noise=0.3),
    _toy("circles", "binary", _circles, "a small ring inside a larger one: needs a curved boundary"),
    _toy("moons", "binary", _moons, "two interleaving half-moons"),
    _toy("spiral", "binary", _spiral, "two spiral arms wound around each other", noise=0.03),
    _toy("gaussians", "multiclass", _gaussians, "k Gaussian blobs on a circle, one class each", noise=0.5,
         classes=Option(3, 2, "number of blobs (classes)", MAX_CLASSES)),
    _toy("linear", "binary", _linear, "two classes split by a straight line with a margin", noise=0.0),
    _toy("sine", "regression", _sine, "y = sin(x) + noise for x in [-pi, pi]", n_features=1),
    _toy("plane", "regression", _plane, "y = 1.5 x1 - 2 x2 + 0.5 + noise"),
    _toy("multi_gaussian", "regression", _multi_gaussian, "a surface of 3 Gaussian bumps over the plane + noise",
         noise=0.05),
    _csv("iris", "multiclass", "Fisher's iris: 150 flowers, 4 measurements, 3 species", (150, 4, 3)),
    _csv("wine", "multiclass", "UCI wine: 178 wines, 13 chemical measurements, 3 cultivars", (178, 13, 3)),
    _csv("breast_cancer", "binary", "Wisconsin diagnostic breast cancer: 569 samples, 30 features", (569, 30, 2)),
    _csv("digits", "multiclass", "8x8 hand-written digits: 1797 images, 64 pixels, 10 classes", (1797, 64, 10)),
]}


def dataset_names() -> list[str]:
    """Registry names in display order (synthetic first, then sample sets)."""
    return list(DATASETS)


def _check_int(option: str, value, minimum: int, maximum: int | None = None, what: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(f"{option} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise DataError(f"{option} = {value}: at most {maximum:,}{what}")
    return int(value)


def _check_noise(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise DataError(f"noise must be a finite number >= 0, got {value!r}")
    if value > MAX_NOISE:
        raise DataError(f"noise = {value!r}: at most {MAX_NOISE:g}, the std of the noise added "
                        "(the data lie within a few units of 0)")
    return float(value)


def _options(info: DatasetInfo, options: dict) -> dict[str, int]:
    """Every option of a synthetic set, checked, with the defaults filled in."""
    return {key: opt.default if options.get(key) is None
            else _check_int(key, options[key], opt.minimum, opt.maximum, f", the {opt.help}")
            for key, opt in info.options.items()}


def _info(name: str, options: dict) -> DatasetInfo:
    info = DATASETS.get(name)
    if info is None:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        allowed = ", ".join(info.options) or "none"
        raise DataError(f"dataset {name!r} has no option {unknown[0]!r}; its extra options are: {allowed}")
    return info


def dataset_shape(name: str, *, n_samples: int | None = None, **options) -> tuple[int, int, int]:
    """(samples, features, network outputs) of a registered dataset, without generating or reading it.

    Checks the options as ``load_dataset`` does, so a shape is only given for data that could
    be built.
    """
    info = _info(name, options)
    if info.kind == "sample":
        rows = info.n_rows
    else:
        rows = info.n_samples if n_samples is None else _check_int("n_samples", n_samples, MIN_SAMPLES,
                                                                    MAX_SAMPLES, " samples can be generated")
    classes = _options(info, options).get("classes", info.n_classes)
    outputs = classes if info.problem == "multiclass" else 1
    return rows, info.n_features, outputs


def load_dataset(name: str, *, n_samples: int | None = None, noise: float | None = None,
                 seed: int = 0, **options) -> Dataset:
    """Build a registered dataset; None for n_samples/noise means the dataset's default."""
    info = _info(name, options)
    if info.kind == "sample":
        for option, value in (("n_samples", n_samples), ("noise", noise)):
            if value is not None:
                raise DataError(f"{option} applies to synthetic datasets only; {name!r} is a sample dataset")
        return info.loader()

    n = info.n_samples if n_samples is None else _check_int("n_samples", n_samples, MIN_SAMPLES, MAX_SAMPLES,
                                                             " samples can be generated")
    extra = _options(info, options)
    return info.loader(
        n_samples=n,
        noise=info.noise if noise is None else _check_noise(noise),
        seed=_check_int("seed", seed, 0),
        **extra,
    )
