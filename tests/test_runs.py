"""The run store: written by ``nn-tui train``, read while it grows, listed, compared, named,
removed, and resumed from by id. Runs are tiny (xor, a few epochs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
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
    return root


def record(epoch: int) -> EpochRecord:
    return EpochRecord(epoch=epoch, step=epoch * 10, train_loss=1 / epoch, val_loss=2 / epoch,
                       metric_name="accuracy", train_metric=0.5, val_metric=0.25 + epoch / 100, lr=0.01,
                       seconds=0.5)


def runs_json(*args) -> list[dict]:
    result = invoke("runs", "--json", *args)
    assert result.exit_code == 0, result.output
    return report(result)["runs"]


# --- the store ----------------------------------------------------------------------------------


def test_a_run_round_trips(runs_root):
    writer = store.RunWriter(runs_root, default_config(), source="test", name="first")
    for e in (1, 2):
        writer.epoch(record(e))
    writer.step(5, 0.7)
    writer.event(12, "lr", value=0.1)
    assert store.read_run(writer.path).status == "running"
    writer.finish("finished", {"epochs": 2, "train_loss": 0.5})
    run = store.read_run(writer.path)
    assert run.status == "finished" and run.name == "first" and run.summary["epochs"] == 2
    assert run.settings["optimizer"] == default_config().optimizer.name
    m = store.read_metrics(writer.path)
    assert [r["epoch"] for r in m.epochs] == [1, 2] and m.events[0]["value"] == 0.1
    assert list(m.train.arrays()[1]) == [1.0, 0.5] and len(m.steps) == 1
    assert store.find_run(runs_root, "first").id == writer.id == store.find_run(runs_root, writer.id[:17]).id
    store.rename_run(run, "second")
    assert store.find_run(runs_root, "second").id == writer.id
    with pytest.raises(ValueError, match="no run 'first'"):
        store.find_run(runs_root, "first")
    store.remove_run(run)
    assert store.list_runs(runs_root) == []


def test_reading_while_a_writer_appends(runs_root):
    """A reader reading on and on while a thread appends: never fails, never sees a cut line."""
    writer = store.RunWriter(runs_root, default_config(), source="test")
    n = 400
    done = threading.Event()

    def append():
        for e in range(1, n + 1):
            writer.epoch(record(e))
        done.set()

    thread = threading.Thread(target=append)
    thread.start()
    metrics = store.Metrics()
    deadline = time.monotonic() + 30  # a deadline for a hang only
    while not done.is_set() or len(metrics.epochs) < n:
        metrics = store.read_metrics(writer.path, metrics)
        assert [r["epoch"] for r in metrics.epochs] == list(range(1, len(metrics.epochs) + 1))
        assert time.monotonic() < deadline
    thread.join()
    with open(writer.path / "metrics.jsonl", "ab") as f:  # a line being written, or cut by a crash
        f.write(b'{"kind": "epoch", "epoch": 401, "tr')
    metrics = store.read_metrics(writer.path, metrics)
    assert len(metrics.epochs) == n and metrics.last["epoch"] == n
    writer.finish("interrupted")


# --- nn-tui train records ------------------------------------------------------------------------


def test_runs_json_numbers_are_train_json_numbers(runs_root):
    result = train(*XOR, "--json", "--name", "mine")
    trained = report(result)
    assert "run " in result.stderr and str(runs_root) in result.stderr
    [row] = runs_json()
    assert row["name"] == "mine" and row["status"] == "finished" and row["dataset"] == "xor"
    for key in ("epochs", "train_loss", "val_loss", "val_accuracy", "seconds", "lr", "optimizer"):
        assert row[key] == trained[key], key
    run = store.find_run(runs_root, "mine")
    assert run.summary == trained
    assert (run.path / "model.npz").is_file() and (run.path / "config.toml").is_file()


def test_no_record_and_runs_dir(tmp_path, runs_root):
    assert train(*XOR, "--no-record").exit_code == 0
    assert not runs_root.exists()
    other = tmp_path / "elsewhere"
    assert train(*XOR, "--runs-dir", other).exit_code == 0
    assert runs_json() == [] and len(runs_json("--runs-dir", other)) == 1


def test_resume_by_run_id_or_name(runs_root):
    train(*XOR, "--name", "base")
    first = runs_json()[0]
    again = report(train("--resume", first["id"], "--epochs", 2, "--json"))
    assert again["epochs"] == 3 + 2
    by_name = report(train("--resume", "base", "--epochs", 1, "--json"))
    assert by_name["epochs"] == 3 + 1
    assert len(runs_json()) == 3
    error_line(train("--resume", "nosuchrun", "--epochs", 1), "--resume nosuchrun", "no run 'nosuchrun'")


def test_a_killed_training_is_listed_as_interrupted(runs_root):
    args = [sys.executable, "-m", "tui_trainer", "train", *XOR[:4], "--epochs", "100000000",
            "--checkpoint-every", "0.05", "--runs-dir", str(runs_root)]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a deadline for a hang only
        while True:
            found = store.list_runs(runs_root)
            if found and len(store.read_metrics(found[0].path).epochs) >= 3 \
                    and (found[0].path / "model.npz").is_file():
                break
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert runs_json()[0]["status"] == "running"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    [row] = runs_json()
    assert row["status"] == "interrupted" and row["epochs"] >= 3 and row["train_loss"] is not None
    assert runs_json("--status", "interrupted")[0]["id"] == row["id"]
    assert runs_json("--status", "finished") == []
    # its latest checkpoint (a few epochs behind its last record at most) resumes
    resumed = report(train("--resume", row["id"], "--epochs", 1, "--json"))["epochs"]
    assert 1 < resumed <= row["epochs"] + 1


def test_checkpoints_come_often_enough_that_a_kill_loses_at_most_ten_seconds():
    # the app's recorder and nn-tui train's option share one default
    from tui_trainer.cli.train import train as command
    from tui_trainer.experiments.recording import Recorder

    every = next(p for p in command.params if p.name == "checkpoint_every").default
    assert every == Recorder(Path("unused")).every == store.CHECKPOINT_SECONDS <= 5


def _epoch_records(run: Path) -> dict[int, dict]:
    """The epoch records of a run, as far as they are written: read while the run appends to its
    file, the last line may be a part (a line is whole once its newline is there)."""
    lines = (run / "metrics.jsonl").read_text().split("\n")[:-1]
    return {r["epoch"]: r for r in map(json.loads, lines) if r.get("kind") == "epoch"}


def test_kill_9_at_random_moments_leaves_a_listed_store_and_resume_loses_one_interval(runs_root):
    """Done when: a kill -9 at a random moment leaves a store that ``runs`` lists, and ``--resume``
    goes on from the latest checkpoint, at most one interval of training (plus the epoch then in
    progress) behind the last epoch recorded. Here: two kills, of a fresh run and of its resumption."""
    import random
    import re

    rng = random.Random(7)
    every = 0.05
    base = [sys.executable, "-m", "tui_trainer", "train", "--epochs", "100000000",
            "--checkpoint-every", str(every), "--runs-dir", str(runs_root)]
    resume_from, killed = None, []
    for _ in range(2):
        args = base + (["--dataset", "xor", "--hidden", "4"] if resume_from is None else ["--resume", resume_from])
        before = {r.id for r in store.list_runs(runs_root)}
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline, wanted = time.monotonic() + 60, rng.randrange(20, 1500)  # a deadline for a hang only
            while True:
                new = [r for r in store.list_runs(runs_root) if r.id not in before]
                if new and (new[0].path / "metrics.jsonl").is_file() \
                        and len(_epoch_records(new[0].path)) >= wanted:
                    break
                assert child.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            child.send_signal(signal.SIGKILL)
            _, err = child.communicate()
        if resume_from is not None:
            assert re.search(rf"from epoch {killed[-1][1]} \(step \d+\)", err.decode()), err
        run = new[0].path
        rows = {row["id"]: row for row in runs_json()}  # the store lists, the killed run interrupted
        assert rows[run.name]["status"] == "interrupted"
        result = train("--resume", run.name, "--epochs", 1, "--json")
        start = int(re.search(r"from epoch (\d+) \(step \d+\)", result.stderr).group(1))
        records = _epoch_records(run)
        last = max(records)
        assert start in records and start <= last
        lost = records[last]["total_seconds"] - records[start]["total_seconds"]
        # an epoch's seconds run from the previous epoch's end, so the first after a checkpoint
        # holds that write: less than the interval, the write and the epoch in progress
        slowest = max(r["seconds"] for r in records.values())
        assert lost <= every + 2 * slowest + 1e-6, (start, last, lost)
        killed.append((run.name, start))
        resume_from = run.name
    assert len(runs_json()) == 2 + 2  # two killed runs, two one-epoch resumptions


# --- nn-tui runs ---------------------------------------------------------------------------------


def test_the_list_fits_the_terminal(runs_root, monkeypatch):
    result = invoke("runs")
    assert result.exit_code == 0 and "no runs in" in result.output and "nn-tui train records one" in result.output
    train(*XOR, "--name", "a")
    train(*XOR, "--lr", "0.1")
    for columns in ("80", "50", "120"):
        monkeypatch.setenv("COLUMNS", columns)
        result = invoke("runs")
        no_crash(result)
        lines = result.output.splitlines()
        assert len(lines) == 3 and lines[0].startswith("id") and "status" in lines[0]
        assert all(len(line) <= int(columns) for line in lines), result.output
    assert "finished" in lines[1] and "xor" in lines[1]
    assert len(runs_json("--dataset", "xor")) == 2 and runs_json("--dataset", "moons") == []


def test_compare_shows_only_differing_settings_and_a_plot(runs_root, monkeypatch):
    train(*XOR, "--name", "slow")
    train(*XOR, "--name", "fast", "--lr", "0.1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    result = invoke("runs", "compare", "slow", "fast")
    no_crash(result)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [l.split()[0] for l in lines[1:2]] == ["lr"]  # the only setting that differs
    assert not any(l.split()[:1] in (["optimizer"], ["hidden"], ["epochs"]) and "slow" not in l for l in lines[1:3])
    assert "val loss" in result.output and "epoch" in lines[-2] and "slow" in lines[-1] and "fast" in lines[-1]
    assert len(lines) <= 24 and all(len(l) <= 80 for l in lines)
    data = report(invoke("runs", "compare", "slow", "fast", "--json"))
    assert data["settings"] == {"lr": [0.01, 0.1]} and [c["metric"] for c in data["curves"]] == ["val_loss"] * 2
    assert data["curves"][0]["x"] == [1.0, 2.0, 3.0]
    same = invoke("runs", "compare", "slow", "slow", "--no-plot")
    assert same.output.startswith("same settings") and "epoch" not in same.output.splitlines()[-1]


def test_compare_falls_back_to_train_loss_without_validation(runs_root):
    train(*XOR, "--name", "a", "--val-split", "0")
    train(*XOR, "--name", "b")
    data = report(invoke("runs", "compare", "a", "b", "--json"))
    assert [c["metric"] for c in data["curves"]] == ["train_loss", "val_loss"]


def test_name_and_rm(runs_root):
    train(*XOR)
    train(*XOR)
    older, newer = [r["id"] for r in reversed(runs_json())]
    result = invoke("runs", "name", older, "keep")
    assert result.exit_code == 0 and "keep" in result.output
    error_line(invoke("runs", "name", newer, "keep"), "already", older)
    assert invoke("runs", "rm", newer).exit_code == 0
    assert [r["name"] for r in runs_json()] == ["keep"]
    error_line(invoke("runs", "rm", newer), newer)
    error_line(invoke("runs", "compare", "keep"), "at least two")


def test_train_with_stderr_closed_trains_and_records_a_finished_run(runs_root):
    command = " ".join([sys.executable, "-m", "tui_trainer", "train", *XOR, "--json"]) + " 2>&-"
    done = subprocess.run(["bash", "-c", command], stdout=subprocess.PIPE, timeout=120)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout.splitlines()[-1])["epochs"] == 3
    [row] = runs_json()
    assert row["status"] == "finished" and row["epochs"] == 3
    run = runs_root / row["id"]  # nothing meant for the terminal went into the run's files
    assert all(json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines())


def test_train_name_is_refused_as_runs_name_refuses_it(runs_root, tmp_path):
    assert train(*XOR, "--name", "dup").exit_code == 0
    error_line(train(*XOR, "--name", "dup"), "the name 'dup' is already run", runs_json()[0]["id"])
    error_line(train(*XOR, "--name", " dup "), "already")
    error_line(train(*XOR, "--name", "  "), "cannot be empty")
    error_line(train(*XOR, "--name", "a\x1b]0;x\x07"), "control characters", "\\x1b")
    assert [r["name"] for r in runs_json()] == ["dup"]  # nothing recorded by a refused one
    # the name is taken in the store it is recorded in only; --no-record records no name
    assert train(*XOR, "--name", "dup", "--runs-dir", tmp_path / "other").exit_code == 0
    assert train(*XOR, "--name", "dup", "--no-record").exit_code == 0


def test_rm_refuses_a_running_run(runs_root):
    writer = store.RunWriter(runs_root, default_config(), source="test")
    error_line(invoke("runs", "rm", writer.id), writer.id, "still running")
    assert writer.path.is_dir()
    writer.finish("interrupted")
    assert invoke("runs", "rm", writer.id).exit_code == 0 and not writer.path.exists()


# --- a full disk under the store warns; the training goes on ------------------------------------


def _full_disk(path) -> OSError:
    import errno

    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _trained_despite_the_store(result, out: Path, failed: str) -> list[str]:
    """Exit 0, --out written whole, and warnings that name the file that failed."""
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert report(result)["epochs"] == 3
    assert {p.name for p in out.iterdir()} >= {"config.toml", "model.npz", "metrics.csv"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and all(failed in line and "No space left on device" in line for line in warnings), result.stderr
    return warnings


def test_a_failed_metrics_write_is_a_warning_naming_metrics_jsonl(runs_root, tmp_path, monkeypatch):
    real = os.write

    def write(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("metrics.jsonl"):
            raise _full_disk("")  # os.write names no file
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    result = train(*XOR, "--out", tmp_path / "out", "--json")
    [warning] = _trained_despite_the_store(result, tmp_path / "out", "metrics.jsonl")
    assert "run.json" not in warning and "training goes on" in warning
    [row] = runs_json()  # the run was closed, as interrupted, since its records stop short
    assert row["status"] == "interrupted" and row["id"] in warning


def test_a_failed_run_json_write_is_a_warning_naming_it(runs_root, tmp_path, monkeypatch):
    real = store.write_atomic

    def write_atomic(path, content):  # the run opens; its updates from the first checkpoint on fail
        if Path(path).name == "run.json" and '"checkpoint": "model.npz"' in content:
            raise _full_disk(path)
        return real(path, content)

    monkeypatch.setattr(store, "write_atomic", write_atomic)
    result = train(*XOR, "--out", tmp_path / "out", "--json")
    _trained_despite_the_store(result, tmp_path / "out", "run.json")


def test_a_failed_checkpoint_is_a_warning_naming_model_npz(runs_root, tmp_path, monkeypatch):
    from tui_trainer.engine import checkpoint

    real = checkpoint.write_atomic

    def write_atomic(path, content):
        if runs_root in Path(path).parents:
            raise _full_disk(path)
        return real(path, content)

    monkeypatch.setattr(checkpoint, "write_atomic", write_atomic)
    result = train(*XOR, "--out", tmp_path / "out", "--json")
    warnings = _trained_despite_the_store(result, tmp_path / "out", "model.npz")
    assert "checkpoints stopped" in warnings[0]
    [row] = runs_json()
    assert row["status"] == "finished"
