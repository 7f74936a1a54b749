"""Batch modes compared per update, per sample seen and per second: the race's lanes, the race
screen's x axis and ``nn-tui compare --batch-modes``."""

import json

from click.testing import CliRunner

from tests.test_app import screen_lines
from tests.test_lab import config
from tests.conftest import wait_for
from tests.test_lab_screens import lane_result, open_screen, plain, run, tiny_config
from tui_trainer.cli import main
from tui_trainer.engine.numbers import DASH
from tui_trainer.experiments.lab import Race, batch_mode_entries
from tui_trainer.experiments.race_session import RaceSession
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.screens.lab_race import RaceScreen
from tui_trainer.tui.widgets.multi_plot import MultiPlot

SIZES = {"full": None, "mini(16)": 16, "mini(48)": 48, "single": 1}


def batch_race(**overrides) -> Race:
    """xor with 80 training samples: 16 divides it, 48 leaves a last batch of 32."""
    return Race(config(**overrides), batch_mode_entries("sgd", ["full", 16, 48, 1], 0.1))


def test_each_lane_counts_samples_seen_and_marks_every_epoch_in_updates_samples_and_seconds():
    race = batch_race(epochs=3)
    rows = {row["label"]: row for row in race.run()}
    n = len(race.data.X_train)
    assert n == 80
    full, mini, ragged, single = (rows[label] for label in SIZES)
    assert (full["steps"], full["samples_seen"]) == (3, 3 * n)
    assert mini["samples_seen"] == mini["steps"] * 16 == 3 * n
    assert ragged["steps"] == 3 * 2 and ragged["samples_seen"] == 3 * n < ragged["steps"] * 48
    assert single["samples_seen"] == single["steps"] == 3 * n
    for lane in race.lanes:
        marks = lane.marks
        assert [m.epoch for m in marks] == [0, 1, 2, 3]
        assert [m.samples for m in marks] == [0, n, 2 * n, 3 * n]
        assert [m.steps for m in marks] == [e * lane.trainer.steps_per_epoch for e in range(4)]
        assert marks[0].cost == race.initial_loss and marks[-1].cost == rows[lane.label]["final_loss"]
        seconds = [m.seconds for m in marks]
        assert seconds == sorted(seconds) and seconds[0] == 0.0
        assert marks[-1].seconds == lane.seconds == rows[lane.label]["seconds"]  # the last update counted too


def test_a_lane_midway_through_an_epoch_has_seen_its_batches_samples():
    race = batch_race(epochs=1)
    for _ in range(2):
        race.step()
    assert [lane.samples_seen for lane in race.lanes] == [80, 32, 80, 2]  # full and mini(48) ended the epoch


def test_results_count_a_given_target_in_updates_samples_and_seconds():
    race = Race(config(epochs=2), batch_mode_entries("sgd", ["full", 16, 1], 0.1), target_loss=100.0)
    for row, lane in zip(race.run(), race.lanes):
        assert row["steps_to_target"] == row["updates_per_epoch"]  # the first epoch's end beats 100
        assert row["samples_to_target"] == 80
        assert row["seconds_to_target"] == lane.marks[1].seconds <= row["seconds"]


def test_a_race_snapshot_has_each_lanes_curve_along_every_axis():
    session = RaceSession(batch_race)
    snaps = []
    session.prepare_run()
    session.run(snaps.append)
    race = session.race
    for lane, snap in zip(race.lanes, snaps[-1].lanes):
        assert list(snap.epochs) == [m.epoch for m in lane.marks]
        assert list(snap.along("updates")) == [m.steps for m in lane.marks]
        assert list(snap.along("samples")) == [0, 80, 160, 240, 320]
        assert list(snap.along("seconds")) == [m.seconds for m in lane.marks]
        assert snap.samples_per_epoch == 80
        target = float(snap.costs[2])
        first = next(i for i, c in enumerate(snap.costs) if c <= target)
        assert snap.to(target, "samples") == 80 * first
        assert snap.to(target, "updates") == snap.steps_to(target) == first * snap.steps_per_epoch
        assert snap.to(-1.0, "seconds") is None


# --- the race screen ------------------------------------------------------------------------------


def plot_title(app, plot) -> str:
    """The x axis's title, as the terminal shows it on the plot's last line (after the y axis's)."""
    lines = screen_lines(app)
    x, y, width, height = plot.region
    line = lines[y + height - 1].crop(x, x + width).text
    assert line.startswith("cost ")
    return line.removeprefix("cost").strip()


def to_target(screen, key) -> str:
    """A batch-mode lane's to-target cell: upd/ep, cost, val loss, val acc, *to target*, µs/upd."""
    return lane_result(screen, key).split()[4]


def test_the_x_key_plots_a_batch_mode_race_along_updates_samples_seen_and_seconds():
    async def scenario():
        app = NNTuiApp(tiny_config(batch_size=16, epochs=3))  # 80 training samples: 5 mini-batches an epoch
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "o", RaceScreen)
            await pilot.press("m", "space")
            await wait_for(pilot, lambda: screen.done)
            plot = screen.query_one(MultiPlot)
            await wait_for(pilot, lambda: len(plot.series) == 3)
            assert screen.x_axis == "epoch" and "x:" not in plain(screen.query_one("#lab-title"))
            per_epoch = {key: to_target(screen, key) for key in ("full", "mini", "single")}
            batch = {"full": 80, "mini": 16, "single": 1}
            snap = {lane.label: lane for lane in screen.snapshot.lanes}

            await pilot.press("x")
            await wait_for(pilot, lambda: plot_title(app, plot).startswith("updates · x: next axis"))
            assert screen.x_axis == "updates"
            assert "x: updates" in plain(screen.query_one("#lab-title"))
            for series, key in zip(plot.series, ("full", "mini", "single")):
                assert list(series.x) == list(snap[key].at_updates)
            assert list(plot.series[2].x)[-1] == 3 * 80  # single sample: an update per sample
            updates = {key: to_target(screen, key) for key in batch}
            assert updates == per_epoch  # the epoch axis counts the target in updates too
            header = plain(screen.query_one("#race-batch .lane-header"))
            assert "to " in header

            await pilot.press("x")
            await wait_for(pilot, lambda: plot_title(app, plot).startswith("samples seen"))
            assert screen.x_axis == "samples"
            assert "x: samples" in plain(screen.query_one("#lab-title"))
            for series in plot.series:
                assert list(series.x) == [0, 80, 160, 240]  # an epoch's worth of samples in every mode
            assert "smp→" in plain(screen.query_one("#race-batch .lane-header"))
            for key, size in batch.items():  # samples = updates x batch size, lane by lane
                if updates[key] != DASH:
                    assert int(to_target(screen, key)) == int(updates[key]) * size

            await pilot.press("x")
            await wait_for(pilot, lambda: plot_title(app, plot).startswith("seconds of training"))
            assert screen.x_axis == "seconds"
            assert "x: seconds" in plain(screen.query_one("#lab-title"))
            for series, key in zip(plot.series, ("full", "mini", "single")):
                assert list(series.x) == list(snap[key].at_seconds)
            assert "s→" in plain(screen.query_one("#race-batch .lane-header"))
            for key in batch:
                if updates[key] != DASH:
                    float(to_target(screen, key))  # a time, in seconds

            await pilot.press("x")  # round to the epochs again
            await wait_for(pilot, lambda: plot_title(app, plot).startswith("epoch"))
            assert screen.x_axis == "epoch" and "x:" not in plain(screen.query_one("#lab-title"))

    run(scenario())


def test_the_x_axis_is_a_palette_command_of_the_race():
    from tui_trainer.tui.keys import palette_entries

    entry = next(e for e in palette_entries(RaceScreen) if e.action == "cycle_axis")
    assert entry.key == "x" and "updates" in entry.title and "samples" in entry.title


# --- nn-tui compare --batch-modes -----------------------------------------------------------------


def compare(*args, columns=80):
    result = CliRunner().invoke(main, ["compare", "--dataset", "xor", "--optimizers", "sgd", "--lrs", "0.1",
                                       "--epochs", "2", "--seed", "0", *args], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_compare_batch_modes_json_counts_samples_seconds_and_the_target_in_each():
    data = json.loads(compare("--batch-modes", "full,16,48,1", "--json")[-1])
    runs = {run["label"]: run for run in data["runs"]}
    n = runs["single"]["updates_per_epoch"]
    full, mini, ragged, single = (runs[label] for label in SIZES)
    assert full["samples_seen"] == 2 * n and full["steps"] == 2
    assert mini["samples_seen"] == mini["steps"] * 16
    assert ragged["samples_seen"] == 2 * n  # its last batch of an epoch is smaller than 48
    assert single["samples_seen"] == single["steps"] == 2 * n
    assert data["target_auto"] and data["target"] < runs["full"]["initial_loss"]
    for run_ in runs.values():
        assert run_["seconds"] > 0 and not run_["diverged"]
        assert run_["final_loss"] <= data["target"]  # auto: every improving lane reached it
        epochs = run_["steps_to_target"] // run_["updates_per_epoch"]
        assert run_["samples_to_target"] == epochs * n
        assert 0 < run_["seconds_to_target"] <= run_["seconds"]


def test_compare_batch_modes_with_a_target_loss():
    data = json.loads(compare("--batch-modes", "full,16", "--target-loss", "100", "--json")[-1])
    assert data["target"] == 100 and not data["target_auto"]
    for run_ in data["runs"]:
        assert run_["steps_to_target"] == run_["updates_per_epoch"]
        assert run_["samples_to_target"] == run_["samples_seen"] // 2


def test_compare_batch_modes_text_fits_80_columns_with_updates_samples_and_seconds():
    lines = compare("--batch-modes", "full,16,1")
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    head = next(i for i, line in enumerate(lines) if line.split()[:4] == ["lane", "updates", "samples", "seconds"])
    assert "trained" in lines[head - 1] and "to cost" in lines[head - 1]
    rows = {line.split()[0]: line.split()[1:] for line in lines[head + 1:head + 4]}
    n = int(rows["single"][1].replace(",", "")) // 2
    for label, size in (("full", n), ("mini(16)", 16), ("single", 1)):
        updates, samples, _, to_updates, to_samples, _ = (rows[label][i] for i in range(6))
        assert int(samples.replace(",", "")) == int(updates.replace(",", "")) * size
        assert int(to_samples.replace(",", "")) == int(to_updates.replace(",", "")) * size
    assert sum("<- best" in line for line in lines) == 1
