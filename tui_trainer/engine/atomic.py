"""Files written whole or not at all: every file nn-tui writes goes through :func:`write_atomic`.

The content goes to a temporary file in the same folder, ``.NAME.<hex>.tmp`` (the pattern
``headless`` knows as an older writer's leftover), which is flushed to the disk and then renamed
over ``NAME``; the folder is flushed too where the system allows it, so that a power cut after
the rename cannot bring the old file back. Any failure, Ctrl-C included, removes the temporary
file and leaves an old ``NAME`` as it was, and an ``OSError`` names ``NAME``, never the temporary.

Folder-level transactions (``headless``'s ``--out`` folder) build on :func:`write_atomic` and
:func:`sync`.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Union

__all__ = ["temporary_name", "sync", "write_atomic"]

Content = Union[bytes, str, Callable[[BinaryIO], object]]
"""What :func:`write_atomic` writes: bytes, text (as UTF-8), or a function that writes into the
open binary file."""


def temporary_name(path: Path) -> Path:
    """A fresh temporary name beside ``path``: ``.NAME.<8 hex digits>.tmp``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def write_atomic(path: str | os.PathLike, content: Content) -> Path:
    """Write ``content`` to ``path`` atomically (module docstring); returns ``path``.

    A new file gets the usual permissions (0o666 less the umask); a replaced one keeps its own.
    """
    path = Path(path)
    tmp, fd = _create_temporary(path)
    try:
        try:
            with open(fd, "wb") as f:
                if isinstance(content, bytes):
                    f.write(content)
                elif isinstance(content, str):
                    f.write(content.encode("utf-8"))
                else:
                    content(f)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
            except FileNotFoundError:
                pass
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        raise _naming(err, tmp, path) from None
    sync(path.parent)
    return path


def sync(path: str | os.PathLike) -> None:
    """Flush a file's or a folder's contents to the disk, so that a power cut cannot undo a write
    or a rename made before it; nothing where the system cannot (a folder on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_temporary(path: Path) -> tuple[Path, int]:
    """A new temporary file beside ``path`` and its descriptor (never one that exists already)."""
    for _ in range(100):
        tmp = temporary_name(path)
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise _naming(err, tmp, path) from None
    raise FileExistsError(f"{path}: no free temporary name beside it")


def _naming(err: OSError, tmp: Path, path: Path) -> OSError:
    """``err`` about ``path`` where it was about the temporary file (or about no file): the
    temporary is ours; the user knows only ``path``."""
    if err.errno is None or err.filename not in (None, tmp, str(tmp)):
        return err
    try:
        named = type(err)(err.errno, err.strerror, str(path))
    except Exception:  # a subclass with another signature: leave it as it is
        return err
    return named.with_traceback(err.__traceback__)
