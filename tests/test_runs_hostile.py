"""The run store against hostile files: pipes, devices and huge files in place of a run's files,
odd values in run.json, symlink loops, names that look like folders, paused writers, clock skew,
a rename racing a finishing writer, and text that would drive the terminal. Every case is built in
tmp_path (big files are sparse) and bounded by what is read, never by the clock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.test_cli import error_line, invoke, no_crash, report, train
from tui_trainer.engine.trainer import EpochRecord
from tui_trainer.experiments import runs as store
from tui_trainer.experiments.session import default_config

XOR = ("--dataset", "xor", "--hidden", "4", "--epochs", "3")


@pytest.fixture(autouse=True)
def runs_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "runs"
    monkeypatch.setenv("NN_TUI_RUNS", str(root))
    monkeypatch.setenv("COLUMNS", "400")  # the reasons, long temporary paths, on one line each
    return root


def record(epoch: int, loss: float | None = None) -> EpochRecord:
    loss = 1 / epoch if loss is None else loss
    return EpochRecord(epoch=epoch, step=epoch * 10, train_loss=loss, val_loss=loss,
                       metric_name="accuracy", train_metric=0.5, val_metric=0.5, lr=0.01, seconds=0.5)


def finished_run(root: Path, name: str = "", **meta) -> store.RunWriter:
    """A small finished run written by the real writer, then ``meta`` put into its run.json."""
    writer = store.RunWriter(root, default_config(), source="test", name=name)
    writer.epoch(record(1))
    writer.finish("finished", {"epochs": 1, "train_loss": 0.5, "val_loss": 0.5, "seconds": 0.5})
    if meta:
        data = json.loads((writer.path / "run.json").read_text())
        data.update(meta)
        (writer.path / "run.json").write_text(json.dumps(data))
    return writer


def runs_json(*args) -> list[dict]:
    result = invoke("runs", "--json", *args)
    assert result.exit_code == 0, result.output
    text = result.stdout.strip().splitlines()[-1]
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))["runs"]


# --- files that are no run's files ----------------------------------------------------------------


def test_a_pipe_or_a_device_as_run_json_never_blocks(runs_root):
    good = finished_run(runs_root, "good")
    fifo = finished_run(runs_root)
    (fifo.path / "run.json").unlink()
    os.mkfifo(fifo.path / "run.json")
    dev = finished_run(runs_root)
    (dev.path / "run.json").unlink()
    (dev.path / "run.json").symlink_to("/dev/zero")
    rows = {r["id"]: r for r in runs_json()}
    assert rows[good.id]["status"] == "finished"
    for bad in (fifo, dev):
        assert rows[bad.id]["status"] == "unreadable"
        assert "run.json" in rows[bad.id]["problem"] and "not a regular file" in rows[bad.id]["problem"]
    listing = invoke("runs")
    assert listing.exit_code == 0 and f"{fifo.id}: {fifo.path / 'run.json'}: not a regular file" in listing.output
    error_line(invoke("watch", fifo.id), "not a regular file")
    error_line(invoke("train", "--resume", fifo.id), "not a regular file")
    assert invoke("runs", "rm", fifo.id, dev.id).exit_code == 0
    assert [r["id"] for r in runs_json()] == [good.id]


def test_a_huge_run_json_or_metrics_file_is_not_read_whole(runs_root, monkeypatch):
    big = finished_run(runs_root)
    with open(big.path / "run.json", "r+b") as f:
        f.truncate(2 * 2**30)  # sparse: 2 GiB of nothing on disk
    running = store.RunWriter(runs_root, default_config(), source="test")
    running.epoch(record(1))
    running.epoch(record(2))
    with open(running.path / "metrics.jsonl", "r+b") as f:
        f.seek(0, 2)
        f.write(b"\0" * 10)
    with open(running.path / "metrics.jsonl", "ab") as f:
        f.truncate(2 * 2**30)
    read = []
    real_read = store._open_metrics

    def counting(file):
        f = real_read(file)
        if f is None:
            return f
        original = f.read
        f.read = lambda n=-1: (read.append(n), original(n))[1]  # type: ignore[method-assign]
        return f

    monkeypatch.setattr(store, "_open_metrics", counting)
    rows = {r["id"]: r for r in runs_json()}
    assert rows[big.id]["status"] == "unreadable" and "larger than" in rows[big.id]["problem"]
    assert rows[running.id]["status"] == "running"
    assert all(0 < n <= store.TAIL_BYTES for n in read) and sum(read) <= store.TAIL_BYTES
    running.finish("interrupted")


def test_a_pipe_as_metrics_file_never_blocks(runs_root):
    writer = store.RunWriter(runs_root, default_config(), source="test")
    writer.finish("interrupted")
    (writer.path / "metrics.jsonl").unlink()
    os.mkfifo(writer.path / "metrics.jsonl")
    [row] = runs_json()
    assert row["status"] == "interrupted" and "not a regular file" in row["problem"]
    error_line(invoke("runs", "compare", writer.id, writer.id), "not a regular file")
    with pytest.raises(ValueError, match="not a regular file"):
        store.read_metrics(writer.path)


def test_an_overlong_line_is_skipped_in_bounded_memory(runs_root, monkeypatch):
    monkeypatch.setattr(store, "READ_CHUNK", 64 * 1024)
    monkeypatch.setattr(store, "MAX_RECORD_BYTES", 256 * 1024)
    writer = store.RunWriter(runs_root, default_config(), source="test")
    writer.epoch(record(1))
    with open(writer.path / "metrics.jsonl", "ab") as f:
        f.write(b'{"kind": "epoch", "epoch": 99, "x": "' + b"a" * (8 * 2**20) + b'"}\n')
    writer.epoch(record(2))
    tracemalloc.start()
    try:
        metrics = store.read_metrics(writer.path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r["epoch"] for r in metrics.epochs] == [1, 2] and metrics.skipped == 1
    assert peak < 2 * 2**20, peak  # the 8 MiB line was never held
    # read a few bytes at a time, as ``watch`` does each poll: the same records in the end
    step = store.Metrics()
    for _ in range(200):
        step = store.read_metrics(writer.path, step, max_bytes=100_000)
        if step.complete:
            break
    assert [r["epoch"] for r in step.epochs] == [1, 2] and step.skipped == 1
    writer.finish("interrupted")


def test_runs_reads_the_tail_of_a_long_metrics_file(runs_root, monkeypatch):
    """A running run's numbers come from the file's end: the whole file is never parsed for ``runs``."""
    writer = store.RunWriter(runs_root, default_config(), source="test")
    for e in range(1, 3001):
        writer.epoch(record(e))
    assert (writer.path / "metrics.jsonl").stat().st_size > 4 * store.TAIL_BYTES
    parsed = []
    real_line = store._line
    monkeypatch.setattr(store, "_line", lambda m, line: (parsed.append(line), real_line(m, line)))
    [row] = runs_json()
    assert row["epochs"] == 3000 and row["seconds"] == pytest.approx(1500.0)
    assert len(parsed) < 1000
    writer.finish("interrupted")


# --- odd values: one bad run never breaks the rest -----------------------------------------------

ODD = {
    "settings-list": {"settings": [1, 2]},
    "summary-list": {"summary": ["a"]},
    "name-number": {"name": 7},
    "id-number": {"id": 12},
    "created-10e400": "created",
    "pid-2e70": {"pid": 2**70, "status": "running"},
    "year1-plus14": {"started": "0001-01-01T00:00:00+14:00", "created": None},
    "seconds-nan": "nan",
    "deep": "deep",
}


def write_odd(path: Path, kind) -> None:
    meta = json.loads((path / "run.json").read_text())
    if kind == "created":
        text = json.dumps(meta).replace('"created": ', '"created": 1' + "0" * 400 + ", \"x\": ", 1)
    elif kind == "nan":
        meta["summary"]["seconds"] = float("nan")
        meta["summary"]["val_loss"] = float("inf")
        text = json.dumps(meta)
    elif kind == "deep":
        text = json.dumps(meta)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    else:
        meta.update(kind)
        text = json.dumps(meta)
    (path / "run.json").write_text(text)


@pytest.mark.parametrize("case", list(ODD))
def test_one_odd_run_json_never_breaks_the_rest(runs_root, case):
    good = finished_run(runs_root, "good")
    odd = finished_run(runs_root)
    write_odd(odd.path, ODD[case])
    result = invoke("runs")
    no_crash(result)
    assert result.exit_code == 0 and "good" in result.output, result.output
    rows = {r["path"]: r for r in runs_json()}
    assert rows[str(good.path)]["status"] == "finished"
    row = rows[str(odd.path)]
    if case == "seconds-nan":  # a number that is no number: shown as none, the run readable
        assert row["status"] == "finished" and row["seconds"] is None and row["val_loss"] is None
        assert "nan" not in result.output.lower().replace("nan-", "")
    else:
        assert row["status"] == "unreadable" and str(odd.path / "run.json") in row["problem"]
        assert f"{odd.path / 'run.json'}:" in result.output
    assert invoke("runs", "compare", "good", "good", "--no-plot").exit_code == 0
    if row["status"] == "unreadable":
        error_line(invoke("watch", odd.path.name), "run.json")
        error_line(invoke("train", "--resume", odd.path.name), "run.json")
    assert invoke("runs", "rm", str(odd.path)).exit_code == 0 and not odd.path.exists()
    assert [r["name"] for r in runs_json()] == ["good"]


def test_a_symlink_loop_in_the_store(runs_root):
    good = finished_run(runs_root, "good")
    (runs_root / "loop").symlink_to(runs_root / "loop")
    result = invoke("runs")
    no_crash(result)
    assert result.exit_code == 0 and "good" in result.output and "loop" in result.output
    assert {r["status"] for r in runs_json()} == {"finished", "unreadable"}
    assert invoke("runs", "rm", "loop").exit_code == 0 and not os.path.lexists(runs_root / "loop")
    assert invoke("runs", "rm", "good").exit_code == 0 and not good.path.exists()


# --- names resolve inside the store --------------------------------------------------------------


def test_rm_name_never_removes_a_folder_of_that_name_here(runs_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "first"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    (mine / "run.json").write_text(json.dumps({"id": "x", "status": "finished"}))
    run = finished_run(runs_root, "first")
    result = invoke("runs", "rm", "first")
    assert result.exit_code == 0, result.output
    assert not run.path.exists() and (mine / "notes.txt").read_text() == "keep me"


def test_a_run_named_as_its_out_folder_is_reached_by_name(runs_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert train(*XOR, "--name", "first", "--out", "first").exit_code == 0
    resumed = report(train("--resume", "first", "--epochs", "1", "--json", "--no-record"))
    assert resumed["epochs"] == 4
    assert invoke("runs", "rm", "first").exit_code == 0
    assert runs_json() == [] and (tmp_path / "first" / "model.npz").is_file()


# --- liveness ------------------------------------------------------------------------------------


def running_meta(path: Path, pid: int, host: str) -> None:
    meta = json.loads((path / "run.json").read_text())
    meta.update(status="running", pid=pid, host=host, summary=None, ended=None)
    (path / "run.json").write_text(json.dumps(meta))


def test_a_stopped_process_is_not_dead(runs_root):
    run = finished_run(runs_root)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child.send_signal(signal.SIGSTOP)
        running_meta(run.path, child.pid, socket.gethostname())
        old = time.time() - 10 * store.STALE_SECONDS  # stopped long ago: its heartbeat stopped too
        os.utime(run.path / "heartbeat", (old, old))
        deadline = time.monotonic() + 10  # waits for the stop to show in /proc, a deadline for a hang only
        while store._process_state(child.pid) not in ("T", "t"):
            assert time.monotonic() < deadline
        assert store.read_run(run.path).status == "running"
        error_line(invoke("runs", "rm", run.id), "still running")
        assert run.path.is_dir()
    finally:
        child.kill()
        child.wait()
    assert store.read_run(run.path).status == "interrupted"


def test_a_heartbeat_from_the_future_is_stale(runs_root):
    run = finished_run(runs_root)
    running_meta(run.path, 12345, "another-machine")
    future = time.time() + 3600
    os.utime(run.path / "heartbeat", (future, future))
    assert store.read_run(run.path).status == "interrupted"
    near = time.time() + 5  # a few seconds of skew: believed
    os.utime(run.path / "heartbeat", (near, near))
    assert store.read_run(run.path).status == "running"


def test_a_heartbeat_from_the_future_on_this_machine_is_stale_though_its_pid_lives(runs_root):
    """A copied run.json names this host and a pid that lives (here, the tests' own process):
    this machine has one clock, so a heartbeat an hour ahead is no live writer's, and the run can go."""
    run = finished_run(runs_root)
    running_meta(run.path, os.getpid(), socket.gethostname())
    future = time.time() + 3600
    os.utime(run.path / "heartbeat", (future, future))
    assert store.read_run(run.path).status == "interrupted"
    assert invoke("runs", "rm", run.id).exit_code == 0
    assert not run.path.exists()


# --- temporaries, renames, numbers --------------------------------------------------------------


def test_a_killed_writers_temporaries_are_cleaned(runs_root):
    done = finished_run(runs_root)
    (done.path / ".model.npz.1a2b3c4d.tmp").write_bytes(b"half a model")
    live = store.RunWriter(runs_root, default_config(), source="test")
    (live.path / ".model.npz.5e6f7a8b.tmp").write_bytes(b"being written")
    assert invoke("runs").exit_code == 0
    assert not list(done.path.glob(".*.tmp"))
    assert (live.path / ".model.npz.5e6f7a8b.tmp").exists()  # its writer lives: left alone
    live.finish("interrupted")


def test_a_rename_never_writes_back_what_the_writer_ended(runs_root, monkeypatch):
    """The writer finishes while ``rename_run`` is between its read and its write: both last."""
    writer = store.RunWriter(runs_root, default_config(), source="test")
    run = store.read_run(writer.path)
    real_write = store.write_atomic
    finisher: list[threading.Thread] = []

    def racing(path, content):
        if threading.current_thread() is threading.main_thread() and not finisher:
            finisher.append(threading.Thread(target=writer.finish, args=("finished", {"epochs": 3})))
            finisher[0].start()
            finisher[0].join(0.2)  # today it finishes at once; under the lock it waits for the rename
        return real_write(path, content)

    monkeypatch.setattr(store, "write_atomic", racing)
    store.rename_run(run, "renamed")
    finisher[0].join()
    after = store.read_run(writer.path)
    assert after.status == "finished" and after.summary == {"epochs": 3} and after.name == "renamed"
    assert not (writer.path / store.LOCK_NAME).exists()


def test_runs_json_prints_null_for_nan(runs_root):
    finished_run(runs_root, "nan", summary={"epochs": 1, "train_loss": float("nan"), "val_loss": float("inf"),
                                            "seconds": 1.0})
    [row] = runs_json()
    assert row["train_loss"] is None and row["val_loss"] is None


def test_compare_on_huge_finite_values_and_a_huge_width(runs_root, monkeypatch):
    a = store.RunWriter(runs_root, default_config(), source="test", name="a")
    b = store.RunWriter(runs_root, default_config(), source="test", name="b")
    for e in (1, 2):
        a.epoch(record(e, 1e308))
        b.epoch(record(e, -1e308))
    a.finish("finished")
    b.finish("finished")
    result = invoke("runs", "compare", "a", "b")
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("COLUMNS", "100000")
    result = invoke("runs", "compare", "a", "b")
    assert result.exit_code == 0, result.output
    assert max(map(len, result.output.splitlines())) <= 500


# --- watch: a replaced folder ------------------------------------------------------------------


def test_watch_reads_a_replaced_folder_from_the_start(runs_root):
    from tui_trainer.tui.screens.watch import read_folder

    folder = runs_root / "watched"
    first = store.RunWriter(runs_root, default_config(), source="test", folder=folder)
    for e in range(1, 6):
        first.epoch(record(e, 5.0))
    first.finish("finished")
    seen = read_folder(folder, store.Metrics(), None)
    assert len(seen.metrics.epochs) == 5 and not seen.metrics.restarted
    run_id = seen.run.id
    import shutil
    shutil.rmtree(folder)  # another run in its place: fewer, other records
    second = store.RunWriter(runs_root, default_config(), source="test", folder=folder)
    second.meta["id"] = "second"
    second.note()
    for e in (1, 2):
        second.epoch(record(e, 1.0))
    again = read_folder(folder, seen.metrics, seen.ckpt_stamp, run_id)
    assert again.metrics is not None and again.metrics.restarted
    assert [r["epoch"] for r in again.metrics.epochs] == [1, 2]
    assert [r["train_loss"] for r in again.metrics.epochs] == [1.0, 1.0]
    # the same run's metrics file replaced under it (same id): its inode tells
    m = store.read_metrics(folder)
    os.replace(folder / "metrics.jsonl", folder / "old.jsonl")
    (folder / "metrics.jsonl").write_text(json.dumps({"kind": "epoch", "epoch": 1, "train_loss": 9.0}) + "\n" * 400)
    m2 = store.read_metrics(folder, m)
    assert m2.restarted and [r["train_loss"] for r in m2.epochs] == [9.0]
    second.finish("finished")


def test_compare_samples_a_long_metrics_file(runs_root, monkeypatch):
    """Over ``SAMPLE_ABOVE`` bytes the curves come from a sample of the file: a bounded number of
    records parsed, every live change found, the last epoch exact."""
    monkeypatch.setattr(store, "SAMPLE_ABOVE", 64 * 1024)
    monkeypatch.setattr(store, "SAMPLES", 32)
    monkeypatch.setattr(store, "TAIL_BYTES", 4096)
    long = store.RunWriter(runs_root, default_config(), source="test", name="long")
    for e in range(1, 4001):
        long.epoch(record(e))
        if e == 2500:
            long.event(e * 10, "lr", value=0.5)
    long.finish("interrupted")
    short = finished_run(runs_root, "short")
    assert (long.path / "metrics.jsonl").stat().st_size > 10 * store.SAMPLE_ABOVE
    parsed = []
    real_line = store._line
    monkeypatch.setattr(store, "_line", lambda m, line: (parsed.append(line), real_line(m, line)))
    metrics = store.read_curves(long.path)
    assert metrics.sampled and metrics.last["epoch"] == 4000 and metrics.live == {"lr": 0.5}
    assert len(parsed) <= 32 * store.SAMPLE_LINES + 4096 // 100 + 2
    x, _ = metrics.train.arrays()
    assert list(x) == sorted(x) and x[-1] == 4000
    result = invoke("runs", "compare", "long", "short")
    assert result.exit_code == 0, result.output
    assert "long: drawn from a sample of the records" in result.output
    assert "lr" in result.output and "-> 0.5" in result.output


def test_the_reasons_under_the_list_fit_the_terminal(runs_root, monkeypatch):
    finished_run(runs_root, "good")
    broken = runs_root / "broken"
    broken.mkdir()
    os.mkfifo(broken / "run.json")
    monkeypatch.setenv("COLUMNS", "50")
    result = invoke("runs")
    assert result.exit_code == 0 and "not a regular file" in " ".join(result.output.split())
    assert all(len(line) <= 50 for line in result.output.splitlines()), result.output


def test_watch_says_why_it_cannot_read_a_runs_metrics_or_checkpoint(runs_root):
    """A pipe for metrics.jsonl and model.npz: watch neither blocks nor waits for epochs in silence."""
    from tui_trainer.tui.screens.watch import read_folder

    run = finished_run(runs_root)
    for name in ("metrics.jsonl", "model.npz"):
        (run.path / name).unlink(missing_ok=True)
        os.mkfifo(run.path / name)
    seen = read_folder(run.path, store.Metrics(), None)
    assert seen.metrics is None and seen.metrics_problem.startswith("metrics.jsonl: not a regular file")
    assert seen.params is None and seen.checkpoint_problem.startswith("model.npz: not a regular file")


def test_a_model_that_is_no_regular_file_is_named_so_on_resume(runs_root):
    writer = finished_run(runs_root, name="piped")
    model = writer.path / "model.npz"
    model.unlink(missing_ok=True)
    os.mkfifo(model)
    line = error_line(train("--resume", "piped", "--epochs", "2"), "--resume piped:", "model.npz")
    assert "not a regular file" in line and "does not exist" not in line
    model.unlink()
    line = error_line(train("--resume", "piped", "--epochs", "2"), "--resume piped:")
    assert "does not exist" in line


def test_an_escaped_name_is_quoted_once_in_errors(runs_root):
    finished_run(runs_root, name="base")
    hostile = "\x1b]0;T\x07"
    line = error_line(invoke("runs", "name", "base", hostile))
    assert "'\\x1b]0;T\\x07'" in line and "\\\\" not in line
    line = error_line(invoke("runs", "name", hostile, "ok"))
    assert "'\\x1b]0;T\\x07'" in line and "\\\\" not in line


@pytest.mark.parametrize("epoch", [1e308, -5, 2.5, float("nan"), "3", True])
def test_an_epoch_record_with_an_impossible_epoch_is_left_out_of_the_curves(runs_root, epoch):
    # One forged line at epoch 1e308 stretched the plot's axis so far that every real point sat at 0.
    writer = store.RunWriter(runs_root, default_config(), source="test", name="a")
    for e in (1, 2, 3):
        writer.epoch(record(e))
    writer.finish("finished")
    line = {"kind": "epoch", "epoch": epoch, "step": 10, "train_loss": 0.1, "val_loss": 0.1, "metric": "accuracy",
            "train_metric": 0.5, "val_metric": 0.5, "lr": 0.01, "seconds": 0.5}
    with open(writer.path / "metrics.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
    for metrics in (store.read_metrics(writer.path), store.read_curves(writer.path)):
        assert [x for x, _ in zip(*metrics.train.arrays())] == [1.0, 2.0, 3.0]
        assert [r["epoch"] for r in metrics.epochs] == [1, 2, 3]
