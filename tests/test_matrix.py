"""Which optimizer suits which task: ``optimizer_matrix`` and ``nn-tui compare --datasets``."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments import lab
from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.experiments.lab import Race, auto_target, optimizer_matrix

DATASETS = ["moons", "sine"]
OPTIMIZERS = ["sgd", "momentum", "adam"]


def config() -> ExperimentConfig:
    return with_overrides(ExperimentConfig(), hidden=[8], batch_size=32, n_samples=120)


def run(*args):
    return CliRunner().invoke(main, ["compare", *args])


def test_each_dataset_is_one_race_whose_lanes_share_weights_and_batches(monkeypatch):
    races, batches = [], []

    class Watched(Race):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            races.append(self)
            seen = {lane.label: [] for lane in self.lanes}
            batches.append(seen)
            for lane in self.lanes:
                net, log = lane.trainer.net, seen[lane.label]
                net.loss_and_grads = (lambda X, Y, loss, _orig=net.loss_and_grads, _log=log:
                                      (_log.append(X.copy()), _orig(X, Y, loss))[1])
            # the weights every lane starts from, before any update
            self.start = [lane.trainer.net.flat_params.copy() for lane in self.lanes]

    monkeypatch.setattr(lab, "Race", Watched)
    rows = optimizer_matrix(config(), DATASETS, OPTIMIZERS, epochs=2, seed=3)
    assert [race.config.data.dataset for race in races] == DATASETS
    assert [len(race.lanes) for race in races] == [3, 3]
    for race, seen in zip(races, batches):
        assert all(np.array_equal(race.start[0], other) for other in race.start[1:])
        assert all(lane.trainer.data is race.data for lane in race.lanes)
        first, *others = seen.values()
        assert len(first) == 2 * race.lanes[0].trainer.steps_per_epoch
        assert all(len(o) == len(first) and all(np.array_equal(x, y) for x, y in zip(first, o)) for o in others)
    assert [(r["dataset"], r["optimizer"]) for r in rows] == [(d, o) for d in DATASETS for o in OPTIMIZERS]


def test_rows_name_their_numbers_and_mark_one_best_per_dataset():
    rows = optimizer_matrix(config(), ["moons", "sine"], OPTIMIZERS, epochs=3, seed=0)
    for row in rows:
        metric = "val_accuracy" if row["dataset"] == "moons" else "val_r2"
        assert {"dataset", "optimizer", "lr", "final_loss", "val_loss", metric, "steps_to_target", "best"} <= set(row)
        assert row["lr"] == lab.race_lr(row["optimizer"], None)
    for name in DATASETS:
        mine = [r for r in rows if r["dataset"] == name]
        best = [r for r in mine if r["best"]]
        assert len(best) == 1 and best[0]["val_loss"] == min(r["val_loss"] for r in mine)
        # the automatic target is a level every improving lane reached: each has a count
        assert mine[0]["target"] == max(r["final_loss"] for r in mine)
        assert all(r["steps_to_target"] is not None for r in mine)


def test_a_given_target_is_used_and_unreached_means_none():
    rows = optimizer_matrix(config(), ["moons"], ["sgd", "adam"], epochs=2, target=1e-9, seed=0)
    assert all(r["target"] == 1e-9 and r["steps_to_target"] is None for r in rows)


def test_auto_target_is_the_highest_final_cost_below_the_start():
    assert auto_target(1.0, [0.5, None, 0.8, 1.5]) == 0.8
    assert auto_target(1.0, [None, 2.0]) is None


def test_tuned_rates_come_from_a_sweep_and_are_reproducible():
    first = optimizer_matrix(config(), ["moons"], ["sgd", "adam"], epochs=2, tune_lr=True, seed=1)
    again = optimizer_matrix(config(), ["moons"], ["sgd", "adam"], epochs=2, tune_lr=True, seed=1)
    assert first == again
    cfg = with_overrides(config(), dataset="moons", seed=1, epochs=2)
    for row in first:
        swept = lab.sweep(cfg, row["optimizer"], list(lab.MATRIX_SWEEP_LRS), lab.MATRIX_SWEEP_EPOCHS)
        assert row["lr"] == swept.suggested_lr


def test_cli_prints_a_table_per_measure_that_fits_80_columns_with_the_best_marked():
    result = run("--datasets", "spiral,moons,sine,digits", "--optimizers", "sgd,momentum,adam", "--epochs", "2",
                 "--hidden", "8", "--seed", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for title in ("learning rate", "final cost", "val accuracy (classes) / R^2 (regression)", "updates to target"):
        assert any(line.startswith(title) for line in lines)
    cost = lines[lines.index("final cost") + 1:][:5]
    assert cost[0].split() == ["dataset", "sgd", "momentum", "adam"]
    rows = json.loads(run("--datasets", "spiral,moons,sine,digits", "--optimizers", "sgd,momentum,adam",
                          "--epochs", "2", "--hidden", "8", "--seed", "0", "--json").output.splitlines()[-1])["matrix"]
    for line, name in zip(cost[1:], ["spiral", "moons", "sine", "digits"]):
        best = next(r["optimizer"] for r in rows if r["dataset"] == name and r["best"])
        cells = line.split()
        assert cells[0] == name and [c.endswith("*") for c in cells[1:]] == [o == best for o in OPTIMIZERS]


def test_all_optimizers_still_fit_80_columns():
    result = run("--datasets", "multi_gaussian,breast_cancer", "--epochs", "1", "--hidden", "4")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_json_is_the_matrix_on_the_last_line():
    result = run("--datasets", "moons", "--optimizers", "sgd,adam", "--epochs", "2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output.splitlines()[-1])
    assert list(doc) == ["matrix"] and [r["optimizer"] for r in doc["matrix"]] == ["sgd", "adam"]
    assert all(r["dataset"] == "moons" and "val_accuracy" in r for r in doc["matrix"])
    assert sum(r["best"] for r in doc["matrix"]) == 1


def test_tune_lr_on_the_command_line_is_reproducible_and_reports_the_rates():
    args = ["--datasets", "moons,sine", "--optimizers", "sgd,adam", "--epochs", "2", "--tune-lr", "--seed", "2"]
    first, again = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.output == again.output
    assert "learning rate (tuned per dataset by a short sweep)" in first.output
    rows = json.loads(run(*args, "--json").output.splitlines()[-1])["matrix"]
    assert all(r["lr"] in lab.MATRIX_SWEEP_LRS for r in rows)
    rates = first.output.splitlines()
    at = rates.index("learning rate (tuned per dataset by a short sweep)")
    assert rates[at + 2].split() == ["moons", *(f"{r['lr']:.3g}" for r in rows[:2])]


def test_compare_without_datasets_is_the_one_dataset_race():
    result = run("--optimizers", "sgd,adam", "--epochs", "2", "--dataset", "moons")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("moons: ") and "<- best" in result.output


@pytest.mark.parametrize("args, message", [
    (["--datasets", "spiral,nope"], "unknown dataset 'nope'; choose from: xor, circles"),
    (["--datasets", "spiral", "--optimizers", "sgd,nope"], "unknown optimizer 'nope'; choose from: sgd, momentum"),
    (["--datasets", "spiral,spiral"], "'spiral' is named twice"),
    (["--datasets", "spiral", "--dataset", "moons"], "give --dataset or --datasets, not both"),
    (["--tune-lr"], "--tune-lr picks rates per dataset: give --datasets too"),
    (["--datasets", "spiral", "--tune-lr", "--lrs", "0.1"], "give --lrs or --tune-lr, not both"),
    (["--datasets", "spiral", "--optimizers", "sgd", "--batch-modes", "full,1"], "--batch-modes races one optimizer"),
    (["--datasets", "spiral", "--optimizers", "sgd,adam", "--lrs", "1,2,3"], "3 learning rates for 2 optimizers"),
])
def test_bad_input_is_one_error_line(args, message):
    result = run(*args, "--epochs", "1")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
