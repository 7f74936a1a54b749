"""A training's summary (``nn-tui train``) and a race lane's result name what the network ended with the
same way, from one place (``experiments.results``)."""

from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.headless import summary
from tui_trainer.experiments.lab import Race, RaceEntry
from tui_trainer.experiments.results import ended_numbers, metric_keys


def tiny(**overrides):
    return with_overrides(ExperimentConfig(), **{"dataset": "moons", "n_samples": 60, "hidden": [4], "epochs": 2,
                                                 **overrides})


def test_a_summary_and_a_race_lane_give_the_numbers_a_network_ended_with_by_the_same_names():
    for dataset, metric in (("moons", "accuracy"), ("sine", "r2")):
        exp = Experiment.from_config(tiny(dataset=dataset))
        result = exp.trainer.run(2)
        ended = ended_numbers(exp.trainer)
        assert list(ended) == ["train_loss", "val_loss", *metric_keys(metric)]
        assert {k: summary(exp, result)[k] for k in ended} == ended

        race = Race(tiny(dataset=dataset), [RaceEntry("adam", 0.01)])
        race.run()
        lane = race.lanes[0]
        row = race.results()[0]
        ended = ended_numbers(lane.trainer)
        assert row["final_loss"] == ended.pop("train_loss")  # a race calls it the final cost
        assert {k: row[k] for k in ended} == ended


def test_a_lane_stopped_by_a_divergence_has_no_numbers():
    race = Race(tiny(epochs=3), [RaceEntry("sgd", 1e6)])
    race.run()
    row = race.results()[0]
    assert row["diverged"]
    assert [row[k] for k in ("final_loss", "val_loss", *metric_keys("accuracy"))] == [None] * 4
