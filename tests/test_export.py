"""``nn-tui runs export``: a run's records as TensorBoard event files, read back with TensorBoard's
own ``EventAccumulator`` and compared value by value with the run's metrics, and as CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import error_line, invoke, no_crash
from tui_trainer.engine.trainer import EpochRecord
from tui_trainer.experiments import export as exporting
from tui_trainer.experiments import runs as store
from tui_trainer.experiments.session import default_config


def make_run(root: Path, monkeypatch, name: str = "", metric: str = "accuracy", epochs: int = 4) -> store.Run:
    """A finished run with epochs (one without a validation loss, one diverged), steps and live changes."""
    monkeypatch.setattr(store, "STEP_RECORDS_PER_SECOND", float("inf"))  # every step recorded
    writer = store.RunWriter(root, default_config(), source="test", name=name or None)
    rng = np.random.default_rng(len(name) + epochs)
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(3):
            step += 1
            writer.step(step, float(rng.random()))
        if epoch == 2:
            writer.event(step, "lr", value=0.05)
            writer.event(step, "optimizer", name="sgd", lr=0.05, hparams={"momentum": 0.9})
        writer.epoch(EpochRecord(
            epoch=epoch, step=step, train_loss=float(rng.random()) if epoch != epochs else float("nan"),
            val_loss=None if epoch == 1 else float(rng.random()), metric_name=metric,
            train_metric=float(rng.random()), val_metric=float(rng.random()), lr=0.01 * epoch, seconds=0.25))
    writer.finish("finished", {"epochs": epochs})
    return store.read_run(writer.path)


def recorded(run: store.Run) -> list[dict]:
    """The run's metrics.jsonl, read here on its own (not through the code under test)."""
    return [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines()]


def read_back(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def test_tensorboard_holds_every_value_of_the_run(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX", reason="the tensorboard extra is not installed: pip install -e '.[test]'")
    pytest.importorskip("tensorboard", reason="tensorboard is not installed: pip install -e '.[test]'")
    root = tmp_path / "runs"
    run = make_run(root, monkeypatch, name="first")
    out = tmp_path / "tb"
    result = invoke("runs", "export", "first", "--tensorboard", out, "--runs-dir", root)
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert f"tensorboard --logdir {out}" in result.output
    acc = read_back(out / "first")
    records = recorded(run)
    epochs = [r for r in records if r["kind"] == "epoch"]
    steps = [r for r in records if r["kind"] == "step"]
    events = [r for r in records if r["kind"] == "event"]

    def expect(tag: str, pairs) -> None:
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        want = [(x, float(np.float32(y))) for x, y in pairs if y is not None]  # TensorBoard keeps float32
        assert got == want, tag
        assert want, tag

    expect("step/train_loss", [(r["step"], r["loss"]) for r in steps])
    for key, tag in [("train_loss", "train_loss"), ("val_loss", "val_loss"), ("train_metric", "train_accuracy"),
                     ("val_metric", "val_accuracy"), ("lr", "lr")]:
        expect(f"epoch/{tag}", [(r["epoch"], r[key]) for r in epochs])
    assert len(steps) == 12 and len(epochs) == 4
    assert len(acc.Scalars("epoch/val_loss")) == 3 and len(acc.Scalars("epoch/train_loss")) == 3  # nulls left out
    assert sorted(acc.Tags()["scalars"]) == ["epoch/lr", "epoch/train_accuracy", "epoch/train_loss",
                                            "epoch/val_accuracy", "epoch/val_loss", "step/train_loss"]
    # the live changes, as text at their steps
    texts = acc.Tensors("events/text_summary")
    assert [t.step for t in texts] == [r["step"] for r in events]
    said = [t.tensor_proto.string_val[0].decode() for t in texts]
    assert said == ['lr: value = 0.05', 'optimizer: name = "sgd", lr = 0.05, hparams = {"momentum": 0.9}']
    # the settings, as hparams
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(data["_hparams_/session_start_info"]).session_start_info
    settings = run.settings
    assert start.hparams["optimizer"].string_value == settings["optimizer"]
    assert start.hparams["lr"].number_value == settings["lr"]
    assert start.hparams["hidden"].string_value == json.dumps(settings["hidden"])
    assert start.hparams["batch_size"].string_value == str(settings["batch_size"])  # a number or 'full'
    assert set(start.hparams) == {k for k, v in settings.items() if v is not None}
    experiment = plugin_data_pb2.HParamsPluginData.FromString(data["_hparams_/experiment"]).experiment
    assert {m.name.tag for m in experiment.metric_infos} == {"epoch/train_loss", "epoch/val_loss", "epoch/lr",
                                                            "epoch/train_accuracy", "epoch/val_accuracy"}
    # exporting again replaces the files, it does not add to them
    invoke("runs", "export", "first", "--tensorboard", out, "--runs-dir", root)
    assert len(list((out / "first").glob("events.out.tfevents.*"))) == 1
    assert len(read_back(out / "first").Scalars("step/train_loss")) == 12


def test_all_runs_each_under_its_own_name(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX", reason="the tensorboard extra is not installed: pip install -e '.[test]'")
    pytest.importorskip("tensorboard", reason="tensorboard is not installed: pip install -e '.[test]'")
    root = tmp_path / "runs"
    named = make_run(root, monkeypatch, name="a/b", epochs=2)
    unnamed = make_run(root, monkeypatch, metric="r2", epochs=3)
    out = tmp_path / "tb"
    result = invoke("runs", "export", "--all", "--tensorboard", out, "--runs-dir", root)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["a_b", unnamed.id])
    regression = read_back(out / unnamed.id)
    assert "epoch/val_r2" in regression.Tags()["scalars"]
    assert [e.step for e in regression.Scalars("epoch/val_r2")] == [1, 2, 3]
    assert [e.step for e in read_back(out / "a_b").Scalars("epoch/val_accuracy")] == [1, 2]
    assert named.id in result.output and unnamed.id in result.output
    assert "(2 epochs, 6 step losses, 2 live changes)" in result.output


def test_a_setting_of_different_kinds_in_different_runs_is_text_in_all():
    runs = [store.Run(Path(f"r{i}"), {"settings": {"noise": noise, "lr": 0.1}}, "finished")
            for i, noise in enumerate([0.1, "high"])]
    assert exporting.mixed_settings(runs) == {"noise"}
    assert exporting.hparam_values(runs[0].settings, {"noise"}) == {"noise": "0.1", "lr": 0.1}


def test_csv_one_row_per_epoch_with_named_columns(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = make_run(root, monkeypatch, name="first")
    result = invoke("runs", "export", "first", "--csv", "-", "--runs-dir", root)
    no_crash(result)
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    epochs = [r for r in recorded(run) if r["kind"] == "epoch"]
    assert list(rows[0]) == ["epoch", "step", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr",
                             "seconds"]
    assert len(rows) == len(epochs) == 4
    for row, record in zip(rows, epochs):
        assert int(row["epoch"]) == record["epoch"] and int(row["step"]) == record["step"]
        for column, key in [("train_loss", "train_loss"), ("val_loss", "val_loss"), ("val_accuracy", "val_metric"),
                            ("train_accuracy", "train_metric"), ("lr", "lr"), ("seconds", "seconds")]:
            assert (float(row[column]) if row[column] else None) == record[key], column  # every digit kept
    # to files: one for a run, a folder of them for several
    make_run(root, monkeypatch, epochs=2)
    invoke("runs", "export", "first", "--csv", tmp_path / "one.csv", "--runs-dir", root)
    assert (tmp_path / "one.csv").read_text() == result.stdout
    result = invoke("runs", "export", "--all", "--csv", tmp_path / "all", "--runs-dir", root)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "all").glob("*.csv"))) == 2


def test_without_the_extra_one_line_says_what_to_install(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    make_run(root, monkeypatch, name="first")
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    line = error_line(invoke("runs", "export", "first", "--tensorboard", tmp_path / "tb", "--runs-dir", root))
    assert line == "Error: " + exporting.INSTALL_HINT
    assert not (tmp_path / "tb").exists()


def test_mistakes_are_one_line(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    make_run(root, monkeypatch, name="first")
    error_line(invoke("runs", "export", "first", "--runs-dir", root), "--tensorboard DIR", "--csv FILE")
    error_line(invoke("runs", "export", "--csv", "-", "--runs-dir", root), "--all")
    error_line(invoke("runs", "export", "nope", "--csv", "-", "--runs-dir", root), "no run 'nope'")


def test_a_run_being_written_exports_its_whole_lines(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = make_run(root, monkeypatch, name="first")
    with open(run.path / "metrics.jsonl", "a") as f:  # a line not ended yet: left for a later read
        f.write('{"kind": "epoch", "epoch": 5, "step": 15, "train_loss": 0.5}')
    result = invoke("runs", "export", "first", "--csv", "-", "--runs-dir", root)
    assert result.exit_code == 0, result.output
    assert [row["epoch"] for row in csv.DictReader(io.StringIO(result.stdout))] == ["1", "2", "3", "4"]


def test_all_passes_over_a_run_it_cannot_read(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    make_run(root, monkeypatch, name="good")
    (root / "broken").mkdir()
    (root / "broken" / "run.json").write_text("{not json")
    result = invoke("runs", "export", "--all", "--csv", tmp_path / "out", "--runs-dir", root)
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.csv"]


def test_hostile_runs_are_data_on_the_terminal(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    run = make_run(root, monkeypatch)
    meta = json.loads((run.path / "run.json").read_text())
    meta["id"] = "evil\x1b[2J\x07"
    (run.path / "run.json").write_text(json.dumps(meta))
    other = make_run(root, monkeypatch, name="fifo")
    (other.path / "metrics.jsonl").unlink()
    os.mkfifo(other.path / "metrics.jsonl")  # reading it would wait for ever
    result = invoke("runs", "export", "--all", "--csv", tmp_path / "out", "--runs-dir", root)
    no_crash(result)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "evil\\x1b[2J\\x07" in result.output
    assert [line for line in result.output.splitlines() if "not exported" in line and "metrics" in line]
    error_line(invoke("runs", "export", "fifo", "--csv", "-", "--runs-dir", root), "metrics")


@pytest.mark.parametrize("name,expected", [("-rf", "rf"), ("--all", "all"), ("..", None), ("a b", "a_b")])
def test_an_exported_file_name_never_starts_with_a_dash_or_a_dot(tmp_path, monkeypatch, name, expected):
    # A file called "-rf.csv" reads as options to the next shell command that touches it.
    run = make_run(tmp_path / "runs", monkeypatch, name=name, epochs=1)
    assert exporting.folder_name(run) == (expected or run.id)
