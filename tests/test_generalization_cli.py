"""``nn-tui train`` with input features, L1/L2, dropout, lr schedules and early stopping: the options,
the JSON report, the circles lesson, early stopping's best weights and a scheduled run resumed."""

from __future__ import annotations

import csv
import json
import warnings

import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.engine.checkpoint import load_checkpoint
from tui_trainer.experiments.config import load_config
from tui_trainer.experiments.experiment import Experiment


def invoke(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CliRunner().invoke(main, ["train", "--no-record", *map(str, args)])


def report_of(*args) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def error_of(*args) -> str:
    result = invoke(*args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


CIRCLES = ("--dataset", "circles", "--hidden", "none", "--epochs", 20, "--lr", 0.05)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_circles_lesson_squares_separate_the_rings_raw_inputs_cannot(seed):
    squares = report_of(*CIRCLES, "--seed", seed, "--features", "x1sq,x2sq")
    raw = report_of(*CIRCLES, "--seed", seed, "--features", "x1,x2")
    assert squares["network"] == raw["network"] == "2 -> 1"
    assert squares["val_accuracy"] >= 0.95
    assert 0.3 <= raw["val_accuracy"] <= 0.65  # near chance: no line separates a ring from its disc


def test_no_features_is_the_raw_inputs():
    assert report_of(*CIRCLES) == {**report_of(*CIRCLES, "--features", "x1,x2"),
                                   "seconds": pytest.approx(0, abs=1e9),
                                   "steps_per_second": pytest.approx(0, abs=1e12)}


def test_features_widen_the_network_input():
    report = report_of("--dataset", "xor", "--hidden", 4, "--epochs", 1, "--features", "x1,x2,x1x2")
    assert report["network"] == "3 -> 4 -> 1"


EARLY = ("--dataset", "moons", "--n-samples", 100, "--noise", 0.35, "--val-split", 0.5,
         "--hidden", "64,64", "--batch-size", "full", "--lr", 0.01, "--epochs", 400)


def test_early_stopping_reports_the_best_epoch_and_keeps_its_weights():
    report = report_of(*EARLY, "--patience", 20)
    assert report["stopped_early"] is True
    assert report["epochs"] == report["best_epoch"] + 20 < 400
    assert report["val_loss"] == report["best_val_loss"]  # the best epoch's weights are back
    assert "early_stop" in report and "penalty" not in report
    plain = report_of(*EARLY)
    assert plain["stopped_early"] is False and plain["best_epoch"] is None and plain["best_val_loss"] is None
    assert plain["epochs"] == 400 and plain["val_loss"] > report["val_loss"]


def test_penalties_and_dropout_are_reported_and_kept_in_the_outputs(tmp_path):
    out = tmp_path / "out"
    report = report_of("--dataset", "moons", "--hidden", "8,8", "--epochs", 2, "--l1", 0.001, "--l2", 0.01,
                       "--dropout", "0.3,0.1", "--out", out)
    assert report["penalty"] > 0
    cfg = load_config(out / "config.toml")
    assert (cfg.network.l1, cfg.network.l2, cfg.network.dropout) == (0.001, 0.01, [0.3, 0.1])
    ckpt = load_checkpoint(out / "model.npz")
    assert "dropout_rng" in ckpt.meta
    exp = Experiment.load(out / "model.npz")
    assert exp.trainer.dropout == (0.3, 0.1) and exp.trainer.l2 == 0.01
    assert exp.trainer.dropout_rng_state() == ckpt.meta["dropout_rng"]
    one = report_of("--dataset", "moons", "--hidden", "8,8", "--epochs", 1, "--dropout", 0.3)
    assert "penalty" not in one


def metrics(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_resumed_scheduled_run_goes_on_from_the_configured_lr(tmp_path):
    args = ("--dataset", "moons", "--hidden", 8, "--optimizer", "sgd", "--lr", 0.1,
            "--schedule", "step:step_size=2,gamma=0.5", "--warmup-epochs", 1)
    report_of(*args, "--epochs", 6, "--out", tmp_path / "whole")
    report_of(*args, "--epochs", 3, "--out", tmp_path / "first")
    cfg = load_config(tmp_path / "first" / "config.toml")
    assert cfg.optimizer.lr == 0.1  # the lr as set, not the scheduled one it ended on
    assert cfg.optimizer.schedule == {"name": "step", "step_size": 2, "gamma": 0.5, "warmup_epochs": 1}
    report_of("--resume", tmp_path / "first" / "model.npz", "--epochs", 3, "--out", tmp_path / "rest")
    whole = [float(r["lr"]) for r in metrics(tmp_path / "whole" / "metrics.csv")]
    rest = [float(r["lr"]) for r in metrics(tmp_path / "rest" / "metrics.csv")]
    assert len(set(whole)) > 2
    assert rest[-3:] == whole[3:]
    assert load_config(tmp_path / "rest" / "config.toml").optimizer.lr == 0.1


def test_schedule_option_forms():
    cosine = report_of("--dataset", "xor", "--epochs", 2, "--optimizer", "sgd", "--lr", 0.1,
                       "--schedule", "cosine:T_max=2")
    assert cosine["lr"] == pytest.approx(0.0, abs=1e-12)  # the cosine's end
    warm = report_of("--dataset", "xor", "--epochs", 1, "--optimizer", "sgd", "--lr", 0.3, "--warmup-epochs", 3)
    assert warm["lr"] == pytest.approx(0.3 * (1 / 3 + 2 / 9))  # a warmup alone: one third, growing
    none = report_of("--dataset", "xor", "--epochs", 1, "--lr", 0.02, "--schedule", "none")
    assert none["lr"] == 0.02


@pytest.mark.parametrize("args, expected", [
    (("--features", "x1sq,x9"), "--features x1sq,x9: unknown feature 'x9'"),
    (("--dataset", "iris", "--features", "x1sq"), "apply to data with exactly 2 inputs"),
    (("--l2", "-1"), "--l2"),
    (("--dropout", "1.5"), "--dropout"),
    (("--dropout", "0.1,0.2,0.3"), "--dropout [0.1, 0.2, 0.3]: needs one rate per hidden layer: 2"),
    (("--patience", "0"), "--patience"),
    (("--schedule", "cosin:T_max=3"), "--schedule cosin:T_max=3: unknown lr schedule"),
    (("--schedule", "cosine"), "--schedule cosine: schedule 'cosine' needs T_max"),
    (("--schedule", "cosine:T_max=0"), "--schedule cosine:T_max=0: T_max must be in [1, inf)"),
    (("--schedule", "cosine:T_max"), "expected KEY=NUMBER"),
    (("--noise", "-1"), "--noise -1.0: must be a number >= 0"),
    (("--dataset", "iris", "--n-samples", "50"), "--n-samples 50: applies to synthetic datasets only"),
])
def test_bad_values_are_one_error_line_naming_the_option(args, expected):
    assert expected in error_of("--epochs", 1, *args)


def test_the_generalization_options_cannot_change_when_resuming(tmp_path):
    report_of("--dataset", "xor", "--epochs", 1, "--out", tmp_path / "m")
    message = error_of("--resume", tmp_path / "m" / "model.npz", "--l2", 0.1, "--patience", 3)
    assert "--l2, --patience cannot change when resuming" in message


def test_help_documents_the_options():
    result = CliRunner().invoke(main, ["train", "--help"])
    for option in ("--features", "--l1", "--l2", "--dropout", "--patience", "--schedule", "--warmup-epochs",
                   "--noise", "--n-samples", "cosine:T_max=100,warmup_epochs=5"):
        assert option in result.output
