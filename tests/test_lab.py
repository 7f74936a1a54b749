"""The optimizer lab: races, learning-rate sweeps and their commands."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.engine.optimizers import OPTIMIZERS
from tui_trainer.experiments.lab import (
    Race, RaceEntry, batch_mode_entries, ended_diverged, race_lr, suggest_lr, sweep, sweep_lrs,
)


def config(**overrides) -> ExperimentConfig:
    base = dict(dataset="xor", n_samples=100, hidden=[8], activation="tanh", batch_size=16, epochs=4, seed=0)
    return with_overrides(ExperimentConfig(), **{**base, **overrides})


TIMINGS = {"seconds_per_step", "seconds", "seconds_to_target"}


def without_timing(rows):
    return [{k: v for k, v in row.items() if k not in TIMINGS} for row in rows]


def test_every_lane_starts_from_the_same_weights_in_its_own_arrays():
    race = Race(config(), [RaceEntry("sgd"), RaceEntry("adam")])
    a, b = (lane.trainer.net for lane in race.lanes)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert not np.shares_memory(a.flat_params, b.flat_params)
    assert race.lanes[0].trainer.data is race.lanes[1].trainer.data


def test_two_lanes_with_the_same_optimizer_and_lr_are_bit_identical():
    race = Race(config(), [RaceEntry("momentum", 0.05, label="a"), RaceEntry("momentum", 0.05, label="b")])
    rows = race.run()
    a, b = race.lanes
    assert a.losses == b.losses and len(a.losses) == 4 * a.trainer.steps_per_epoch
    assert np.array_equal(a.trainer.net.flat_params, b.trainer.net.flat_params)
    same = without_timing(rows)
    assert {**same[0], "label": "b", "best": False} == {**same[1], "best": False}


def test_every_lane_sees_the_same_batches_in_the_same_order():
    race = Race(config(), [RaceEntry("sgd"), RaceEntry("rmsprop")])
    seen = {lane.label: [] for lane in race.lanes}
    for lane in race.lanes:
        net, log = lane.trainer.net, seen[lane.label]
        net.loss_and_grads = lambda X, Y, loss, _orig=net.loss_and_grads, _log=log: (_log.append(X.copy()), _orig(X, Y, loss))[1]
    race.run(2)
    assert len(seen["sgd"]) == 2 * race.lanes[0].trainer.steps_per_epoch
    assert all(np.array_equal(x, y) for x, y in zip(seen["sgd"], seen["rmsprop"]))


def test_same_seed_same_results_and_another_seed_differs():
    entries = [RaceEntry(name) for name in ("sgd", "adam")]
    first, again = Race(config(), entries).run(), Race(config(), entries).run()
    assert without_timing(first) == without_timing(again)
    assert without_timing(Race(config(seed=1), entries).run()) != without_timing(first)


def test_result_rows_and_the_best_lane():
    race = Race(config(), [RaceEntry(name) for name in ("sgd", "adam")], target_loss=10.0)
    rows = race.run()
    for row in rows:
        assert row["initial_loss"] == race.initial_loss
        assert math.isfinite(row["final_loss"]) and math.isfinite(row["val_loss"])
        assert 0 <= row["val_accuracy"] <= 1 and "val_r2" not in row
        assert row["steps"] == row["epochs"] * row["updates_per_epoch"] == 4 * 5
        assert row["steps_to_target"] == 5  # the first epoch already beats a target of 10
        assert row["seconds_per_step"] > 0 and not row["diverged"]
    assert [row["lr"] for row in rows] == [race_lr("sgd", None), race_lr("adam", None)]
    best = [row for row in rows if row["best"]]
    assert best == [min(rows, key=lambda row: row["val_loss"])]


def test_without_a_validation_set_the_best_lane_has_the_lowest_cost():
    rows = Race(config(val_split=0.0), [RaceEntry("sgd", 0.001), RaceEntry("adam", 0.05)]).run()
    assert rows[0]["val_loss"] is None and rows[1]["best"]


def test_a_diverged_lane_stops_and_the_others_go_on():
    cfg = config(dataset="plane", activation="relu")
    race = Race(cfg, [RaceEntry("sgd", 1e3, label="wild"), RaceEntry("sgd", 0.01, label="calm")])
    wild, calm = race.run()
    assert wild["diverged"] and wild["final_loss"] is None and "diverged" in wild["divergence"]
    assert wild["steps"] < calm["steps"] == 4 * 5 and not wild["best"]
    assert not calm["diverged"] and calm["best"] and "val_r2" in calm


def test_step_drives_the_race_and_reports_progress():
    race = Race(config(), [RaceEntry("sgd"), RaceEntry("adam", batch_size="full")], epochs=2)
    epochs_seen = []
    race.on_epoch = lambda lane, record: epochs_seen.append((lane.label, record.epoch))
    assert race.progress == 0.0
    rounds = 0
    while race.step():
        rounds += 1
    assert race.done and race.progress == 1.0
    assert rounds == 2 * 5  # the mini-batch lane needs 5 updates an epoch, the full batch 1
    assert sorted(epochs_seen) == [("adam", 1), ("adam", 2), ("sgd", 1), ("sgd", 2)]


def test_run_stops_when_asked():
    race = Race(config(), [RaceEntry("sgd")])
    rows = race.run(should_stop=lambda: True)
    assert rows[0]["steps"] == 1 and not race.done


def test_batch_mode_race_counts_updates_per_epoch():
    entries = batch_mode_entries("sgd", ["full", 16, 1], lr=0.05)
    rows = Race(config(), entries, epochs=2).run()
    assert [row["label"] for row in rows] == ["full", "mini(16)", "single"]
    assert [row["updates_per_epoch"] for row in rows] == [1, 5, 80]
    assert [row["batch_mode"] for row in rows] == ["full", "mini", "single"]


def test_race_entries_are_checked():
    with pytest.raises(ValueError, match="unknown optimizer"):
        Race(config(), [RaceEntry("lbfgs")])
    with pytest.raises(ValueError, match="both labelled"):
        Race(config(), [RaceEntry("sgd"), RaceEntry("sgd")])
    with pytest.raises(ValueError, match="at least one"):
        Race(config(), [])


def test_every_optimizer_has_a_racing_learning_rate():
    for name in OPTIMIZERS:
        lr = race_lr(name, None)
        assert math.isfinite(lr) and lr > 0, name


def test_sweep_marks_a_huge_rate_diverged_and_keeps_the_others_finite():
    cfg = config(dataset="plane", activation="relu")
    result = sweep(cfg, "sgd", [1e3, 1e-3, 1e-2, 1e-1], epochs=3)
    assert [run["lr"] for run in result.runs] == [1e-3, 1e-2, 1e-1, 1e3]
    assert [run["diverged"] for run in result.runs] == [False, False, False, True]
    assert all(math.isfinite(run["final_loss"]) for run in result.runs[:3])
    assert result.runs[3]["final_loss"] is None
    assert result.suggested_lr in (1e-3, 1e-2, 1e-1)
    assert result.suggested_lr == suggest_lr(result.runs, result.initial_loss)


def test_suggested_rate_is_the_smallest_that_gets_nearly_as_far_as_the_best():
    runs = [{"lr": 0.01, "final_loss": 0.9, "diverged": False}, {"lr": 0.1, "final_loss": 0.14, "diverged": False},
            {"lr": 1.0, "final_loss": 0.10, "diverged": False}, {"lr": 10.0, "final_loss": None, "diverged": True}]
    assert suggest_lr(runs, initial_loss=1.0) == 0.1  # 0.14 <= 0.10 + 0.1 * (1.0 - 0.10)
    assert suggest_lr([{"lr": 1.0, "final_loss": None, "diverged": True}], 1.0) is None
    assert suggest_lr([{"lr": 1.0, "final_loss": 1.2, "diverged": True}], 1.0) is None  # ended above its start


def test_a_run_that_ends_above_its_start_counts_as_diverged_in_the_sweep_command_and_screen():
    # sgd at lr 10 on spiral: the cost stays under the trainer's explosion limit but ends above its start
    data = last_json("sweep", "--dataset", "spiral", "--optimizer", "sgd", "--min", "3", "--max", "10",
                     "--points", "2", "--epochs", "10")
    low, high = data["runs"]
    assert not low["diverged"] and low["final_loss"] < 0.92
    assert high["diverged"] and high["final_loss"] > 0.9158 and "above" in high["divergence"]
    assert data["suggested_lr"] == 3.0
    assert ended_diverged(False, 1.19, 0.916) and not ended_diverged(False, 0.9, 0.916)
    assert ended_diverged(True, 0.1, 0.9) and ended_diverged(False, None, 0.9)


def test_sweep_rates_are_log_spaced():
    lrs = sweep_lrs(1e-5, 10, 13)
    assert len(lrs) == 13 and lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(10)
    assert np.allclose(np.diff(np.log10(lrs)), 0.5)
    with pytest.raises(ValueError):
        sweep_lrs(1.0, 0.1)


# --- the commands -------------------------------------------------------------------------------


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    return result, result.output.splitlines()


def last_json(*args):
    result, lines = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(lines[-1])


def test_compare_spiral_with_every_optimizer():
    names = "sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw,adamp"
    runs = last_json("compare", "--dataset", "spiral", "--optimizers", names, "--epochs", "30", "--seed", "1")["runs"]
    assert [run["optimizer"] for run in runs] == names.split(",")
    assert len({run["initial_loss"] for run in runs}) == 1
    for run in runs:
        assert math.isfinite(run["final_loss"]) and not run["diverged"]
        assert {"lr", "val_loss", "val_accuracy", "steps", "steps_to_target", "seconds_per_step"} <= set(run)
    assert sum(run["best"] for run in runs) == 1


def test_compare_reports_r2_for_regression_and_races_batch_modes():
    runs = last_json("compare", "--dataset", "plane", "--optimizers", "adam", "--batch-modes", "full,32",
                     "--epochs", "2", "--target-loss", "100")["runs"]
    assert [run["label"] for run in runs] == ["full", "mini(32)"]
    assert all("val_r2" in run and "val_accuracy" not in run for run in runs)
    assert runs[0]["steps_to_target"] == 1


def test_compare_text_marks_the_best():
    result, lines = invoke("compare", "--dataset", "xor", "--optimizers", "sgd,adam", "--epochs", "2")
    assert result.exit_code == 0 and sum("<- best" in line for line in lines) == 1


def test_sweep_json_and_chart():
    data = last_json("sweep", "--dataset", "xor", "--optimizer", "adam", "--points", "4", "--epochs", "2")
    assert len(data["runs"]) == 4 and data["suggested_lr"] in [run["lr"] for run in data["runs"]]
    result, lines = invoke("sweep", "--dataset", "plane", "--optimizer", "sgd", "--min", "0.01", "--max", "1000",
                           "--points", "3", "--epochs", "2")
    suggested = next(i for i, line in enumerate(lines) if line.startswith("suggested lr"))  # wrapped below
    assert result.exit_code == 0 and "diverged" in lines[suggested - 1]


def test_surface_json():
    data = last_json("surface", "--function", "local_minimum", "--optimizers", "sgd,momentum", "--lrs", "0.01")
    sgd, momentum = data["runs"]
    assert sgd["nearest_minimum"] == "local" and momentum["nearest_minimum"] == "global"
    for run in data["runs"]:
        assert len(run["final_point"]) == 2 and run["distance_to_minimum"] < 0.01 and not run["diverged"]
    saddle = last_json("surface", "--function", "saddle", "--optimizers", "adam", "--start", "-1,0.1", "--steps", "5")
    assert saddle["start"] == [-1.0, 0.1] and saddle["runs"][0]["distance_to_minimum"] is None


@pytest.mark.parametrize("args", [
    ("compare", "--optimizers", "sgd,lbfgs"),
    ("compare", "--dataset", "nope"),
    ("compare", "--optimizers", "sgd,adam", "--lrs", "0.1,0.2,0.3"),
    ("compare", "--lrs", "fast"),
    ("compare", "--optimizers", "sgd,adam", "--batch-modes", "full,1"),
    ("sweep", "--optimizer", "sgd", "--min", "1", "--max", "0.1"),
    ("surface", "--function", "himmelblau"),
    ("surface", "--start", "1"),
])
def test_bad_input_is_one_error_line(args):
    result, lines = invoke(*args)
    assert result.exit_code != 0
    assert [line for line in lines if line.startswith("Error:")] == lines[-1:]
    assert "Traceback" not in result.output


# --- the sweep screen's suggested rate, used for the experiment ---------------------------------


def test_sweep_screen_applies_the_suggested_rate_to_the_experiment():
    import asyncio

    from tests.conftest import wait_for
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.screens.lab_sweep import SweepScreen
    from tui_trainer.tui.widgets.config_pane import ConfigPane

    async def scenario():
        cfg = with_overrides(ExperimentConfig(), dataset="moons", n_samples=100, epochs=2, optimizer="sgd", lr=0.5)
        app = NNTuiApp(cfg)
        notes = []
        app.notify = lambda message, **kw: notes.append(message)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, SweepScreen))
            screen = app.screen
            await pilot.press("u")  # nothing swept yet: nothing changes
            assert app.training.session.config.optimizer.lr == 0.5 and "run the sweep" in notes[-1]
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done)
            suggested = suggest_lr(list(screen.snapshot.results), screen.snapshot.initial_loss)
            assert suggested is not None and suggested != 0.5
            await pilot.press("u")
            await pilot.pause()
            assert app.training.session.config.optimizer.lr == suggested
            assert "applied" in notes[-1] and "sgd" in notes[-1]
            pane = app.screen_stack[0].query_one(ConfigPane)
            assert pane.config.optimizer.lr == suggested
            # a sweep of another optimizer is not applied to an sgd experiment
            await pilot.press("6")  # adam
            await pilot.pause()
            await pilot.press("space")
            await wait_for(pilot, lambda: screen.done and screen.optimizer == "adam")
            await pilot.press("u")
            await pilot.pause()
            assert app.training.session.config.optimizer.lr == suggested and "trains with sgd" in notes[-1]

    asyncio.run(scenario())
