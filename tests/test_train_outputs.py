"""``nn-tui train``'s outputs and endings: the ``--out`` folder as a transaction, Ctrl-C, divergence
and the last-resort error line.

The ``--out`` folder always holds the three files of one run (config.toml, model.npz and
metrics.csv), whatever stops the writer: a full disk, a kill at any file operation of the save
(forked children that die at the n-th rename), a SIGKILL at a random moment of the save (real child
processes), or Ctrl-C. Runs are tiny (xor, 4 hidden units, a few epochs) so the file takes a few
seconds.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import error_line, no_crash, report, snapshot, train
from tui_trainer import headless
from tui_trainer.config import load_config

XOR = ("--dataset", "xor", "--hidden", "4", "--batch-size", "full")
CHILD = [sys.executable, "-c", "import sys; sys.argv[0] = 'nn-tui'; from tui_trainer.cli import main; main()"]
KILLED = 77
"""The exit status of a forked child made to die in the middle of the save."""

posix_only = pytest.mark.skipif(os.name != "posix", reason="fork, signals and ptys")


# --- helpers ------------------------------------------------------------------------------------


def whole_result(folder: Path) -> tuple[int, int]:
    """(seed, epochs) of the run in ``folder``, checking that its three files belong to that run:
    config.toml is the config inside model.npz, and metrics.csv ends at the model's epoch."""
    with np.load(folder / "model.npz", allow_pickle=False) as archive:
        header = json.loads(str(archive["header"]))
    assert (folder / "config.toml").read_text(encoding="utf-8") == header["config"]
    rows = (folder / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert int(rows[-1].split(",")[0]) == header["meta"]["epoch"]
    return load_config(folder / "config.toml").training.seed, header["meta"]["epoch"]


TEMPORARY = re.compile(r"^\.(nn-tui|config\.toml|model\.npz|metrics\.csv)\..*\.(tmp|commit)$")


def temporaries(out: Path) -> list[str]:
    """Our temporaries inside ``out`` and beside it."""
    inside = [p.name for p in out.iterdir() if TEMPORARY.match(p.name)] if out.is_dir() else []
    beside = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return inside + beside


def mid_commit(out: Path) -> bool:
    """The marker of a save that was moving its files into place."""
    return any(p.name.endswith(".commit") for p in out.iterdir())


def saving(out: Path) -> bool:
    """Whether a save has begun writing into ``out`` (not merely checked that it can)."""
    try:
        return any(p.suffix == ".commit" or any(p.iterdir()) for p in out.iterdir() if p.name.startswith(".nn-tui."))
    except FileNotFoundError:  # a folder moved or removed while we looked
        return False


def model_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["header"]))["meta"]


def fork(fn) -> int:
    """Run ``fn()`` in a forked copy of this process (no imports to pay for); its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 98
        try:
            code = fn()
        except BaseException:
            code = 99
        finally:
            os._exit(code)
    return pid


def exit_status(pid: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child did not end within {timeout} s")
        time.sleep(0.002)


# --- one line for every failure -----------------------------------------------------------------


@pytest.mark.parametrize("exc,fragments", [
    (MemoryError("Unable to allocate 7.45 GiB"), ["too large to fit in memory", "7.45 GiB"]),
    (RecursionError("maximum recursion depth exceeded"), ["nested too deeply"]),
    (OverflowError("cannot convert float infinity to integer"), ["cannot convert float infinity to integer"]),
    (TypeError("unhashable type: 'list'"), ["unexpected TypeError: unhashable type: 'list'", "please report it"]),
])
def test_unexpected_errors_end_in_one_line(tmp_path, monkeypatch, exc, fragments):
    from tui_trainer.experiment import Experiment

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(Experiment, "from_config", fail)
    line = error_line(train(*XOR, "--out", tmp_path / "run"), *fragments)
    assert "Traceback" not in line
    assert not (tmp_path / "run").exists()

