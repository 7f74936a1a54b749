"""Turn a ``Dataset`` into the arrays a network trains on: split, standardize, encode targets.

Standardization statistics come from the training split only, so nothing about the validation
rows leaks into training; the validation score then measures what it claims to.

``prepare`` first checks the data itself: a value that is not finite or larger than
``MAX_ABS_VALUE`` is a data error naming the column, before any training, so that it is never
reported later as a learning rate that is too high.

With ``features`` (2-D data only; see ``features``) the network's inputs are computed from the raw
columns first (``x1²``, ``sin x2``, ...), and those are what is standardized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import features as feats
from .csvdata import MAX_ABS_VALUE, DataError, Dataset


@dataclass
class Standardizer:
    """Per-feature (x - mean) / std, so every input starts on the same scale for the optimizer."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X) -> "Standardizer":
        """Learn mean and std; a constant feature gets std 1 so it maps to 0 instead of blowing up."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise DataError(f"cannot fit a standardizer on an array of shape {X.shape}: need (n >= 1, d)")
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        # A constant column can come out with std ~1e-17 from rounding; treat that as zero too.
        std[std <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
        return cls(mean=mean, std=std)

    @classmethod
    def identity(cls, n_features: int) -> "Standardizer":
        """The scaler that leaves ``n_features`` columns as they are (mean 0, std 1)."""
        return cls(mean=np.zeros(n_features), std=np.ones(n_features))

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.mean):
            raise DataError(f"expected an array with {len(self.mean)} feature columns, got shape {X.shape}")
        return (X - self.mean) / self.std


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """(n,) class indices -> (n, num_classes) rows with a single 1: the softmax target."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"labels must be 1-D, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if num_classes < 1:
        raise DataError(f"num_classes must be >= 1, got {num_classes}")
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise DataError(f"label {labels[bad][0]} is outside 0..{num_classes - 1}")
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def encode_targets(ds: Dataset, y: np.ndarray | None = None, dtype=np.float64) -> np.ndarray:
    """Targets shaped like the network's output: (n, 1) 0/1, (n, k) one-hot, or (n, m) values."""
    y = ds.y if y is None else np.asarray(y)
    if ds.problem == "multiclass":
        return one_hot(y, ds.num_classes, dtype)
    return np.ascontiguousarray(y.reshape(-1, 1) if y.ndim == 1 else y, dtype=dtype)


def _check_val_split(val_split) -> float:
    if isinstance(val_split, bool) or not isinstance(val_split, (int, float, np.floating)) \
            or not 0.0 <= val_split < 1.0:
        raise DataError(f"val_split must be a number in [0, 1), got {val_split!r}")
    return float(val_split)


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values, as ``np.unique`` gives them; that one loads ``numpy.ma`` (~80 ms)
    on first use, which the app would pay before its first frame."""
    ordered = np.sort(np.asarray(values).ravel())
    if len(ordered) == 0:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def train_val_split(n_or_y, val_split: float, seed: int, stratify: bool,
                    keep_order: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, val) index arrays.

    With ``stratify`` (pass the labels) each class is split on its own, so both sides keep the
    class proportions; every class keeps at least one training sample (so a tiny class may
    get no validation sample: sizes are rounded per class). Indices come back
    shuffled so a trainer that walks them in order does not see one class at a time; with
    ``keep_order``, in the data's own order (data typed in by hand, shown row by row as typed).
    """
    val_split = _check_val_split(val_split)
    rng = np.random.default_rng(seed)
    if isinstance(n_or_y, (int, np.integer)):
        if stratify:
            raise DataError("a stratified split needs the labels, not just the sample count")
        groups = [np.arange(int(n_or_y))]
    elif stratify:
        y = np.asarray(n_or_y)
        groups = [np.flatnonzero(y == c) for c in distinct(y)]
    else:
        groups = [np.arange(len(n_or_y))]
    if sum(len(g) for g in groups) < 1:
        raise DataError("cannot split an empty dataset")

    train, val = [], []
    for group in groups:
        group = rng.permutation(group)
        n_val = min(round(len(group) * val_split), len(group) - 1)
        val.append(group[:n_val])
        train.append(group[n_val:])
    train_idx, val_idx = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))
    return (np.sort(train_idx), np.sort(val_idx)) if keep_order else (train_idx, val_idx)


@dataclass
class PreparedData:
    """Network-ready arrays (standardized, encoded, contiguous) plus the raw labels for metrics.

    ``features`` is the feature names the inputs were computed with (None: the raw columns, as
    they are); ``feature_names`` names each network input column: the dataset's column names, or
    the features' display names (``X1²``). The standardizer works on those columns.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    standardizer: Standardizer
    dataset: Dataset
    features: tuple[str, ...] | None = None
    feature_names: list[str] = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        if self.feature_names is None:
            self.feature_names = (feats.display_names(self.features) if self.features is not None
                                  else list(self.dataset.feature_names))

    @property
    def n_inputs(self) -> int:
        """The network's input width."""
        return len(self.feature_names)

    def expand(self, X_raw) -> np.ndarray:
        """Raw input rows (n, raw columns) -> the unstandardized network inputs (the features)."""
        X = np.asarray(X_raw, dtype=np.float64)
        return X if self.features is None else feats.expand(X, self.features)

    def inputs(self, X_raw, dtype=None) -> np.ndarray:
        """Raw input rows (e.g. a grid over x1, x2) -> what the network takes: features, then
        standardized with the training statistics; ``dtype`` defaults to the training arrays'."""
        dtype = self.X_train.dtype if dtype is None else dtype
        return np.ascontiguousarray(self.standardizer.transform(self.expand(X_raw)), dtype=dtype)


def check_values(ds: Dataset, dtype=np.float64) -> None:
    """Refuse data that cannot be trained on, naming the column: values that are not finite or
    larger than ``MAX_ABS_VALUE``, and regression targets whose squares would overflow ``dtype``."""
    X = np.asarray(ds.X)
    for j, name in enumerate(ds.feature_names):
        _check_column(ds, f"column {name!r}", X[:, j], MAX_ABS_VALUE, "rescale the column")
    if ds.problem == "regression":
        y = np.asarray(ds.y, dtype=np.float64).reshape(len(ds.y), -1)
        # (output - target)**2 summed over the samples must stay finite in the training dtype
        limit = min(MAX_ABS_VALUE, float(np.sqrt(np.finfo(dtype).max / max(len(y), 1))) / 4)
        hint = "rescale the target" + ("" if np.dtype(dtype) == np.float64 else " or train in float64")
        for j in range(y.shape[1]):
            what = f"target {ds.target_name!r}" + (f" (output {j + 1})" if y.shape[1] > 1 else "")
            _check_column(ds, what, y[:, j], limit, hint, dtype)


def _check_column(ds: Dataset, what: str, values: np.ndarray, limit: float, hint: str, dtype=None) -> None:
    with np.errstate(invalid="ignore"):
        biggest = np.max(np.abs(values)) if len(values) else 0.0
    if biggest <= limit:
        return
    i = int(np.flatnonzero(~(np.abs(values) <= limit))[0])
    value = values[i]
    if not np.isfinite(value):
        problem = f"{value} is not a finite number"
    elif limit < MAX_ABS_VALUE:
        problem = f"{value:g} is too large for {np.dtype(dtype).name} training (at most about {limit:.3g}); {hint}"
    else:
        problem = f"{value:g} is too large to train on (at most {MAX_ABS_VALUE:g} in size); {hint}"
    raise DataError(f"{ds.name}: {what}, sample {i + 1}: {problem}")


def expand_features(ds: Dataset, features) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """(the unstandardized network inputs, the checked feature names) of ``ds``: its raw columns as
    they are when ``features`` is None, else the features computed from its 2 raw columns (a
    ``DataError`` when a name is unknown or given twice, none is given, the data are not 2-D, or a
    feature's value is too large to train on)."""
    if features is None:
        return ds.X, None
    try:
        names = feats.check_features(features, np.asarray(ds.X).shape[1])
    except ValueError as exc:
        raise DataError(f"{ds.name}: {exc}") from None
    X = feats.expand(ds.X, names)
    for j, name in enumerate(names):
        _check_column(ds, f"feature {feats.FEATURES[name][0]}", X[:, j], MAX_ABS_VALUE,
                      "rescale the inputs or choose other features")
    return X, names


def prepare(ds: Dataset, *, val_split: float = 0.2, seed: int = 0, dtype=np.float64,
            features=None, standardize: bool = True, keep_order: bool = False) -> PreparedData:
    """Check the values, compute the ``features`` (names from ``features.FEATURES``, 2-D data only;
    None: the raw columns, as they are), split (stratified for classification), standardize with
    training statistics (``standardize=False``: the inputs as they are), encode targets; ``keep_order``
    keeps the rows in the data's order (else shuffled)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DataError(f"dtype must be a floating-point type, got {dtype}")
    check_values(ds, dtype)
    X, names = expand_features(ds, features)
    classification = ds.problem != "regression"
    train, val = train_val_split(ds.y if classification else len(ds.y), val_split, seed, classification,
                                 keep_order=keep_order)
    scaler = Standardizer.fit(X[train]) if standardize else Standardizer.identity(X.shape[1])

    def inputs(idx):
        return np.ascontiguousarray(scaler.transform(X[idx]), dtype=dtype)

    return PreparedData(
        X_train=inputs(train),
        Y_train=encode_targets(ds, ds.y[train], dtype),
        X_val=inputs(val),
        Y_val=encode_targets(ds, ds.y[val], dtype),
        y_train=ds.y[train],
        y_val=ds.y[val],
        standardizer=scaler,
        dataset=ds,
        features=names,
    )
