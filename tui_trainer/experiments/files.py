"""Checks and wording for files the user names: one clear reason, never a traceback.

Textual-free, for the app and the command line alike.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.csvdata import file_problem

MAX_INPUT_BYTES = 512 * 2**20
"""The largest model or config file opened (512 MiB): larger ones are not nn-tui's."""


APP_FILES = "name a .npz model or a .toml config"


def unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be opened as a model or config file, or None when it can be tried.

    Checked before anything is read or asked: a missing file, a folder, a pipe or a device
    (which would block or never end), an unknown kind, or a file too large.
    """
    problem = file_problem(path)
    if problem == "is a directory":
        return f"it is a folder; {APP_FILES}"
    if problem is not None and problem.startswith("not a regular file"):
        return f"{problem}; {APP_FILES}"
    if problem is not None:
        return problem
    if path.suffix not in (".npz", ".toml"):
        return f"unknown kind of file {path.suffix or '(no extension)'!r}; {APP_FILES}"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if size > MAX_INPUT_BYTES:
        return f"{size / 2**20:,.0f} MiB is larger than any nn-tui file ({MAX_INPUT_BYTES // 2**20} MiB at most)"
    return None


def describe_error(exc: BaseException) -> str:
    """One line for a failure: the message where there is one, else what kind of failure."""
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "too large to fit in memory"
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def about(path: Path, exc: BaseException) -> str:
    """``path: reason``, naming the file once (the loaders' own messages often start with it)."""
    reason = describe_error(exc)
    return reason if reason.startswith(str(path)) else f"{path}: {reason}"
