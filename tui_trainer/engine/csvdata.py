"""The ``Dataset`` record, ``DataError``, and loading a dataset from a CSV file.

This is the bottom layer of the data code: ``datasets.py`` (the registry of built-in sets)
imports from here and re-exports these names, so neither module imports the other in a cycle.
The loader uses the stdlib ``csv`` module only, and every error is a ``DataError`` whose
message is one line naming the file and, where it applies, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROBLEMS = ("binary", "multiclass", "regression")

MAX_INTEGER_CLASSES = 20
"""An all-integer target with at most this many distinct values is a class label, else a regression value."""


class DataError(ValueError):
    """Bad data: the message is one clear line naming the file, row, column or option."""


@dataclass
class Dataset:
    """Raw features and targets plus the names needed to show and encode them."""

    name: str
    X: np.ndarray
    y: np.ndarray
    problem: str
    feature_names: list[str]
    target_name: str
    class_names: list[str]
    description: str = ""

    def __post_init__(self):
        # Catch a malformed record where it is built, not deep inside training.
        if self.problem not in PROBLEMS:
            raise DataError(f"dataset {self.name!r}: problem must be one of {', '.join(PROBLEMS)}, got {self.problem!r}")
        if self.X.ndim != 2 or len(self.y) != len(self.X) or self.X.shape[1] != len(self.feature_names):
            raise DataError(
                f"dataset {self.name!r}: X {self.X.shape}, y {self.y.shape} and "
                f"{len(self.feature_names)} feature names do not match"
            )

    @property
    def num_classes(self) -> int:
        """k for classification, 0 for regression."""
        return 0 if self.problem == "regression" else len(self.class_names)

    @property
    def n_outputs(self) -> int:
        """Width of the network's last layer: 1 sigmoid unit for binary, k softmax units for multiclass."""
        if self.problem == "binary":
            return 1
        if self.problem == "multiclass":
            return self.num_classes
        return 1 if self.y.ndim == 1 else self.y.shape[1]


def _show(value: str, limit: int = 40) -> str:
    """Quote a cell for an error message, cut short and with newlines escaped so the message stays one line."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _read_text(path: Path) -> str:
    """The file's text, refusing folders, binary files and anything that is not UTF-8."""
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a CSV file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise DataError(f"{path}: line {line}: NUL byte: a binary (or UTF-16) file, not CSV text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(f"{path}: line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the file as UTF-8") from None


def _rows(path: Path, text: str):
    """Yield (line number, stripped cells) for each non-blank row; line numbers are 1-based lines of the file."""
    # strict: an unclosed or stray quote is an error, not a cell that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the next row starts on
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                yield start, [cell.strip() for cell in row]
            start = reader.line_num + 1
    except csv.Error as exc:
        if "end of data" in str(exc):  # the file ended inside a quoted cell
            raise DataError(f"{path}: line {start}: malformed CSV: a quote opened on this line is never closed") from None
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV: {exc}") from None


def _check_header(path: Path, line: int, header: list[str]) -> None:
    if len(header) < 2:
        raise DataError(f"{path}: line {line}: need at least 2 columns (features and a target), found {len(header)}")
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if not name:
            raise DataError(f"{path}: line {line}: column {i} has an empty header name")
        if name in seen:
            raise DataError(f"{path}: line {line}: duplicate column name {_show(name)} (columns {seen[name]} and {i})")
        seen[name] = i


def _number(path: Path, line: int, column: str, cell: str) -> float:
    """A finite float from a cell, or a DataError saying where the bad value is."""
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{path}: line {line}, column {_show(column)}: {_show(cell)} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{path}: line {line}, column {_show(column)}: {_show(cell)} is not a finite number")
    return value


def _parse_target(path: Path, column: str, cells: list[str], lines: list[int]):
    """Decide class label vs regression value and return (y, problem, class_names).

    Text, or a few distinct integers, is a class label; any other all-numeric column is a
    regression target. Classes are numbered in sorted order of their label.
    """
    try:
        values = [float(c) for c in cells]
    except ValueError:
        values = None
    if values is not None:
        integral = all(math.isfinite(v) and v == int(v) for v in values)
        if not (integral and len(set(values)) <= MAX_INTEGER_CLASSES):
            for line, cell, v in zip(lines, cells, values):
                if not math.isfinite(v):
                    raise DataError(f"{path}: line {line}, column {_show(column)}: {_show(cell)} is not a finite number")
            return np.array(values, dtype=np.float64), "regression", []
        labels = [str(int(v)) for v in values]
        names = [str(v) for v in sorted({int(v) for v in values})]
    else:
        labels = cells
        names = sorted(set(cells))
    if len(names) < 2:
        raise DataError(f"{path}: target column {_show(column)} has only one class {_show(names[0])}: need at least two")
    index = {name: i for i, name in enumerate(names)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    return y, ("binary" if len(names) == 2 else "multiclass"), names


def _check_scale(path: Path, column: str, values: np.ndarray, lines: list[int]) -> None:
    """Refuse a column so large that its sum of squares overflows: it could not be scaled or
    trained on without infinities, so say so here instead of failing deep inside training."""
    with np.errstate(over="ignore", invalid="ignore"):
        ok = math.isfinite(float(np.dot(values, values)))
    if not ok:
        k = int(np.argmax(np.abs(values)))
        raise DataError(
            f"{path}: line {lines[k]}, column {_show(column)}: {values[k]:g} is too large to train on; "
            "rescale the column"
        )


def load_csv(path, *, target: str | None = None, name: str | None = None) -> Dataset:
    """Load a CSV with a header row: numeric feature columns plus one target column (default: the last)."""
    path = Path(path)
    rows = _rows(path, _read_text(path))
    first = next(rows, None)
    if first is None:
        raise DataError(f"{path}: file is empty")
    header_line, header = first
    _check_header(path, header_line, header)
    target = header[-1] if target is None else target
    if target not in header:
        raise DataError(f"{path}: no target column {_show(target)}; columns are: {', '.join(header)}")
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]

    X_rows: list[list[float]] = []
    targets: list[str] = []
    lines: list[int] = []
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(f"{path}: line {line}: expected {len(header)} fields, got {len(row)}")
        for column, cell in zip(header, row):
            if not cell:
                raise DataError(f"{path}: line {line}, column {_show(column)}: empty cell")
        X_rows.append([_number(path, line, header[i], row[i]) for i in features])
        targets.append(row[t])
        lines.append(line)
    if not X_rows:
        raise DataError(f"{path}: has a header but no data rows")

    y, problem, class_names = _parse_target(path, target, targets, lines)
    X = np.array(X_rows, dtype=np.float64)
    for j, i in enumerate(features):
        _check_scale(path, header[i], X[:, j], lines)
    if problem == "regression":
        _check_scale(path, target, y, lines)
    return Dataset(
        name=name or path.stem,
        X=X,
        y=y,
        problem=problem,
        feature_names=[header[i] for i in features],
        target_name=target,
        class_names=class_names,
        description=f"{len(X_rows)} rows from {path.name}",
    )
