"""``engine.atomic.write_atomic``: a file is written whole or not at all, and errors name it."""

from __future__ import annotations

import errno
import os
import time

import pytest

from tui_trainer.experiments import headless
from tui_trainer.engine import atomic
from tui_trainer.engine.atomic import sync, write_atomic

def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_bytes_text_or_a_writer(tmp_path):
    path = tmp_path / "a.bin"
    assert write_atomic(path, b"\x00\x01") == path and path.read_bytes() == b"\x00\x01"
    write_atomic(path, "é\n")
    assert path.read_bytes() == "é\n".encode("utf-8")
    write_atomic(str(path), lambda f: f.write(b"from a writer"))
    assert path.read_bytes() == b"from a writer" and names(tmp_path) == ["a.bin"]


def test_a_new_file_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new", b"x")
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "new").st_mode & 0o777 == 0o644
    os.chmod(tmp_path / "new", 0o600)
    write_atomic(tmp_path / "new", b"y")
    assert os.stat(tmp_path / "new").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("stop", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_any_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path, stop):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")

    def half(f):
        f.write(b"half")
        raise stop

    with pytest.raises(type(stop)) as info:
        write_atomic(path, half)
    assert path.read_bytes() == b"old" and names(tmp_path) == ["model.npz"]
    if isinstance(stop, OSError):
        assert str(info.value) == f"[Errno {errno.ENOSPC}] No space left on device: '{path}'"


def test_a_failed_rename_names_the_file_not_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("old")

    def replace(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link", src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError) as info:
        write_atomic(path, "new")
    assert info.value.filename == str(path) and info.value.filename2 is None and ".tmp" not in str(info.value)
    assert path.read_text() == "old" and names(tmp_path) == ["config.toml"]


def test_an_unwritable_folder_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        write_atomic(tmp_path / "missing" / "metrics.csv", b"x")
    assert info.value.filename == str(tmp_path / "missing" / "metrics.csv")


def test_the_file_is_flushed_to_the_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    write_atomic(tmp_path / "model.npz", b"x")
    assert events[:2] == ["fsync", "replace"] and events[2:] in ([], ["fsync"])  # then the folder, where it can be
    sync(tmp_path / "model.npz")
    sync(tmp_path / "no such file")  # nothing to flush: no error


def test_a_killed_writers_temporary_is_one_the_out_folder_cleanup_removes(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    old = time.time() - 2 * headless.STALE_SECONDS
    for name in ("config.toml", "model.npz", "metrics.csv"):
        tmp = atomic.temporary_name(out / name)
        assert tmp.parent == out and tmp.name.startswith(f".{name}.") and tmp.suffix == ".tmp"
        tmp.write_bytes(b"half")
        os.utime(tmp, (old, old))
    headless.recover_out_dir(out)
    assert names(out) == []
