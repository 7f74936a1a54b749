"""The ``Dataset`` record, ``DataError``, and loading a dataset from a CSV file.

This is the bottom layer of the data code: ``datasets.py`` (the registry of built-in sets)
imports from here and re-exports these names, so neither module imports the other in a cycle.
The loader uses the stdlib ``csv`` module only, and every error is a ``DataError`` whose
message is one line naming the file and, where it applies, the line and the column.

Reading is bounded: only a regular file is opened (a pipe would block, a device never end),
it may hold at most ``MAX_CSV_BYTES``, it is read a line at a time with at most
``MAX_ROW_CHARS`` characters per row, and rows go straight into compact arrays (8 bytes a cell),
so memory grows with the file's size and never with one hostile line. ``file_problem`` and
``open_regular`` are the checks every file nn-tui reads goes through.
"""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from array import array
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from .numbers import byte_size
from .text import visible

PROBLEMS = ("binary", "multiclass", "regression")

MAX_INTEGER_CLASSES = 20
"""An all-integer target with at most this many distinct values is a class label, else a regression value."""
MAX_CSV_CLASSES = 1000
"""Most classes a CSV's text labels may name (a column of ids is no target)."""
MAX_CSV_BYTES = 256 * 2**20
"""Largest CSV file read (256 MiB)."""
MAX_ROW_CHARS = 2**20
"""Most characters in one row (a quoted cell may spread a row over several lines)."""
MAX_ABS_VALUE = 1e100
"""Largest magnitude of a value to train on: beyond it standardizing (a sum of squares) could
overflow, and no measurement needs it; rescale such a column."""


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


# --- files ----------------------------------------------------------------------------------


class UnreadableFile(ValueError):
    """A file refused before it is read: the message is the reason, without the path."""


def _kind_problem(info: os.stat_result, max_bytes: int | None, expected: str) -> str | None:
    if stat.S_ISDIR(info.st_mode):
        return "is a directory" + (f", not {expected}" if expected else "")
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a pipe or a device)" + (f"; name {expected}" if expected else "")
    if max_bytes is not None and info.st_size > max_bytes:
        return (f"is {byte_size(info.st_size)}, larger than the {byte_size(max_bytes)} allowed"
                + (f" for {expected}" if expected else ""))
    return None


def file_problem(path, max_bytes: int | None = None, *, expected: str = "", noun: str = "file") -> str | None:
    """Why ``path`` cannot be read as a data, config or model file, or None; nothing is opened.

    A missing file, a folder, anything but a regular file (a pipe would block, a device such as
    /dev/zero never end) or a file larger than ``max_bytes``. ``expected`` (e.g. ``a CSV file``)
    finishes the messages; ``noun`` names a missing one (``no such model file``).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return f"no such {noun}"
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    return _kind_problem(info, max_bytes, expected)


def open_regular(path, max_bytes: int | None = None, *, expected: str = "", noun: str = "file"):
    """Open a regular file for reading in binary, or raise ``UnreadableFile`` with the reason.

    Checked before opening (``file_problem``), and again on the open file: the open never
    blocks on a pipe put in its place meanwhile, nor makes a terminal put there the process's own.
    """
    problem = file_problem(path, max_bytes, expected=expected, noun=noun)
    if problem is not None:
        raise UnreadableFile(problem)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it ({exc.strerror or exc})") from None
    try:
        problem = _kind_problem(os.fstat(fd), max_bytes, expected)
        if problem is not None:
            raise UnreadableFile(problem)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- reading --------------------------------------------------------------------------------


class _Lines:
    """The file's lines as text, one at a time, for ``csv.reader``: never more than a row's
    worth in memory, with NUL bytes and rows over ``MAX_ROW_CHARS`` refused where they are."""

    def __init__(self, path: Path, f):
        self.path = path
        self.text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="strict", newline="")
        self.line = 0
        """Lines handed out so far (the number of the last one)."""
        self.row_start = 1
        self.row_chars = 0

    def start_row(self) -> None:
        """The next line begins a row."""
        self.row_start, self.row_chars = self.line + 1, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            line = self.text.readline(MAX_ROW_CHARS + 1)
        except UnicodeDecodeError:
            raise DataError(f"{self.path}: {_undecodable(self.path)}") from None
        if not line:
            raise StopIteration
        self.line += 1
        self.row_chars += len(line)
        if self.row_chars > MAX_ROW_CHARS:
            more = "" if self.row_start == self.line else f" (from line {self.row_start} to {self.line}: a quote never closed?)"
            raise DataError(f"{self.path}: line {self.row_start}: a row longer than {MAX_ROW_CHARS:,} characters"
                            f"{more}; not a CSV file nn-tui can read")
        if "\x00" in line:
            raise DataError(f"{self.path}: line {self.line}: NUL byte: a binary (or UTF-16) file, not CSV text")
        return line


def _undecodable(path: Path) -> str:
    """What is wrong with a file that is not UTF-8 (read again, a block at a time): a NUL byte
    anywhere says binary, else the line and byte that are not UTF-8."""
    line = 1
    with open_regular(path) as f:
        while chunk := f.read(2**20):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line += chunk.count(b"\n", 0, nul)
                return f"line {line}: NUL byte: a binary (or UTF-16) file, not CSV text"
            line += chunk.count(b"\n")
    line, carry = 1, b""
    with open_regular(path) as f:
        while True:
            chunk = f.read(2**20)
            data = carry + chunk
            cut = len(data) if not chunk else data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                line += block.count(b"\n", 0, exc.start)
                return f"line {line}: byte 0x{block[exc.start]:02x} is not UTF-8 text; save the file as UTF-8"
            line += block.count(b"\n")
            if not chunk:
                return "not UTF-8 text; save the file as UTF-8"


def _rows(path: Path, lines: _Lines):
    """Yield (line number, stripped cells) for each non-blank row; line numbers are 1-based lines of the file."""
    # strict: an unclosed or stray quote is an error, not a cell that swallows the rest of the file.
    reader = csv.reader(lines, strict=True)
    lines.start_row()
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                yield lines.row_start, [cell.strip() for cell in row]
            lines.start_row()
    except csv.Error as exc:
        if "end of data" in str(exc):  # the file ended inside a quoted cell
            raise DataError(f"{path}: line {lines.row_start}: malformed CSV: a quote opened on this line is never closed") from None
        raise DataError(f"{path}: line {lines.line}: malformed CSV: {exc}") from None


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


def _float(cell: str) -> float:
    """``float(cell)``, except that a number written with underscores (``1_0``, which Python reads
    as 10) is not a number in a CSV: ``ValueError``."""
    if "_" in cell:
        raise ValueError(f"not a number: {cell!r}")
    return float(cell)


def _number(path: Path, line: int, column: str, cell: str) -> float:
    """A finite float of a size to train on from a cell, or a DataError saying where the bad value is."""
    try:
        value = _float(cell)
    except ValueError:
        raise DataError(f"{path}: line {line}, column {_show(column)}: {_show(cell)} is not a number") from None
    if not abs(value) <= MAX_ABS_VALUE:
        raise DataError(f"{path}: line {line}, column {_show(column)}: {_too_large_or_not_finite(cell, value)}")
    return value


def _too_large_or_not_finite(cell: str, value: float) -> str:
    if not math.isfinite(value):
        return f"{_show(cell)} is not a finite number"
    return f"{_show(cell)} is too large to train on (at most {MAX_ABS_VALUE:g} in size); rescale the column"


def _exact_integer(cell: str, value: float) -> int | None:
    """The integer a cell holding a whole number means, exactly (floats round above 2**53), or None."""
    if not value.is_integer():
        return None
    if abs(value) < 2**53:
        return int(value)
    try:
        exact = Decimal(cell)
    except (InvalidOperation, ValueError):
        return None
    return int(exact) if exact == exact.to_integral_value() else None


class _Target:
    """The target column, read a cell at a time into compact arrays while what it holds is open:
    numbers (a regression value), a few whole numbers (class labels, compared exactly) or text
    (class labels). Each reading is dropped as soon as a cell rules it out."""

    def __init__(self, path: Path, column: str):
        self.path, self.column = path, column
        self.values: array | None = array("d")   # while every cell is a number
        self.bad: tuple[int, str] | None = None     # the first number not to train on: (line, message)
        self.integers: dict[int, int] | None = {}   # exact whole number -> code, while few
        self.integer_codes: array | None = array("B")
        self.integer_cells: list[str] = []          # each whole number as first written
        self.texts: dict[str, int] | None = {}      # cell -> code, while at most MAX_CSV_CLASSES
        self.text_codes: array | None = array("H")

    def add(self, line: int, cell: str) -> None:
        if self.texts is not None:
            code = self.texts.get(cell)
            if code is None and len(self.texts) < MAX_CSV_CLASSES:
                code = self.texts[cell] = len(self.texts)
            if code is None:
                self.texts = self.text_codes = None
            else:
                self.text_codes.append(code)
        if self.values is None:
            if self.texts is None:
                self._too_many_classes(line, cell)
            return
        try:
            value = _float(cell)
        except ValueError:  # text: every cell is a class label
            self.values = self.integers = self.integer_codes = None
            if self.texts is None:
                self._too_many_classes(line, cell)
            return
        self.values.append(value)
        if not abs(value) <= MAX_ABS_VALUE and self.bad is None:
            self.bad = (line, _too_large_or_not_finite(cell, value))
        if self.integers is None:
            return
        exact = _exact_integer(cell, value) if math.isfinite(value) else None
        code = None if exact is None else self.integers.get(exact)
        if exact is not None and code is None and len(self.integers) < MAX_INTEGER_CLASSES:
            code = self.integers[exact] = len(self.integers)
            self.integer_cells.append(cell)
        if code is None:
            self.integers = self.integer_codes = None
        else:
            self.integer_codes.append(code)

    def _too_many_classes(self, line: int, cell: str):
        raise DataError(
            f"{self.path}: line {line}, column {_show(self.column)}: {_show(cell)} is text, so the target holds "
            f"class labels, and it has more than {MAX_CSV_CLASSES:,} classes; choose another --target column"
        )

    def result(self):
        """(y, problem, class_names). Classes are numbered in sorted order of their label."""
        if self.values is not None and self.integers is None:
            if self.bad is not None:
                line, message = self.bad
                raise DataError(f"{self.path}: line {line}, column {_show(self.column)}: {message}")
            return np.frombuffer(self.values, dtype=np.float64), "regression", []
        if self.integers is not None:
            keys, codes, shown = list(self.integers), self.integer_codes, self.integer_cells
            order = sorted(range(len(keys)), key=keys.__getitem__)
            names = [str(keys[i]) for i in order]
        else:
            keys, codes = list(self.texts), self.text_codes
            order = sorted(range(len(keys)), key=keys.__getitem__)
            names = shown = [keys[i] for i in order]
        if len(names) < 2:
            raise DataError(f"{self.path}: target column {_show(self.column)} has only one class "
                            f"{_show(shown[0])}: need at least two")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        y = rank[np.frombuffer(codes, dtype=codes.typecode)] if len(codes) else np.zeros(0, np.int64)
        return y, ("binary" if len(names) == 2 else "multiclass"), names


def load_csv(path, *, target: str | None = None, name: str | None = None) -> Dataset:
    """Load a CSV with a header row: numeric feature columns plus one target column (default: the last)."""
    path = Path(path)
    try:
        f = open_regular(path, MAX_CSV_BYTES, expected="a CSV file")
    except UnreadableFile as exc:
        raise DataError(f"{path}: {exc}") from None
    with f:
        lines = _Lines(path, f)
        rows = _rows(path, lines)
        first = next(rows, None)
        if first is None:
            raise DataError(f"{path}: file is empty")
        header_line, header = first
        _check_header(path, header_line, header)
        target = header[-1] if target is None else target
        if target not in header:
            raise DataError(f"{path}: no target column {_show(target)}; columns are: "
                            f"{', '.join(visible(h, 40) for h in header[:50])}"
                            + (f", ... ({len(header):,} in all)" if len(header) > 50 else ""))
        t = header.index(target)
        features = [i for i in range(len(header)) if i != t]

        X = array("d")
        y = _Target(path, target)
        n_rows = 0
        for line, row in rows:
            if len(row) != len(header):
                raise DataError(f"{path}: line {line}: expected {len(header)} fields, got {len(row)}")
            for column, cell in zip(header, row):
                if not cell:
                    raise DataError(f"{path}: line {line}, column {_show(column)}: empty cell")
            X.extend([_number(path, line, header[i], row[i]) for i in features])
            y.add(line, row[t])
            n_rows += 1
    if not n_rows:
        raise DataError(f"{path}: has a header but no data rows")

    labels, problem, class_names = y.result()
    return Dataset(
        name=name or visible(path.stem),  # shown everywhere (train's output, the app's titles): never control
        X=np.frombuffer(X, dtype=np.float64).reshape(n_rows, len(features)),
        y=labels,
        problem=problem,
        # headers and labels are shown in every view and output: as visible escapes, never control
        feature_names=[visible(header[i]) for i in features],
        target_name=visible(target),
        class_names=[visible(name) for name in class_names],
        description=f"{n_rows} rows from {visible(path.name)}",
    )
