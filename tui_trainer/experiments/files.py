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


MAX_LINES_SHOWN = 5
"""Most lines of a message of several (a config's problems) that ``describe_error`` keeps."""


def describe_error(exc: BaseException) -> str:
    """One line for a failure: the message where there is one, else what kind of failure.

    A message of several lines (``cfg.toml: 2 problems:`` and a line for each) is joined into
    one, each line kept (the first few, then how many more), since a heading alone says nothing:
    ``cfg.toml: 2 problems: [network] hidden = "abc": ...; [training] epochs = -5: ...``; a single
    problem drops the count: ``cfg.toml: [training] epochs = -5: ...``.
    """
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "too large to fit in memory"
    lines = [line.strip()[:300] for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, rest = lines[0], lines[1:]
    if not rest:
        return head
    if len(rest) == 1 and head.endswith(" 1 problem:"):
        return f"{head.removesuffix('1 problem:')}{rest[0]}"
    left = 0
    if rest[-1].startswith("... and ") and rest[-1].endswith(" more"):  # a list cut short already
        count = rest.pop()[len("... and "):-len(" more")].replace(",", "")
        left = int(count) if count.isdigit() else 0
    shown = rest[:MAX_LINES_SHOWN]
    left += len(rest) - len(shown)
    tail = f"; ... and {left:,} more" if left else ""
    return f"{head}{' ' if head.endswith(':') else '; '}{'; '.join(shown)}{tail}"


def about(path: Path, exc: BaseException) -> str:
    """``path: reason``, naming the file once (the loaders' own messages often start with it)."""
    reason = describe_error(exc)
    return reason if reason.startswith(str(path)) else f"{path}: {reason}"
