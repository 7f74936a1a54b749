"""Saving a run through the experiment and resuming it: the trainer goes on as if never stopped."""

import numpy as np
import pytest

from tui_trainer.experiments.config import ExperimentConfig, with_overrides
from tui_trainer.engine.checkpoint import CheckpointError, load_checkpoint
from tui_trainer.experiments.experiment import Experiment


def experiment(**overrides) -> Experiment:
    base = dict(dataset="xor", n_samples=100, hidden=[8], activation="tanh", lr=0.01,
                batch_size=16, epochs=5, seed=0)
    return Experiment.from_config(with_overrides(ExperimentConfig(), **{**base, **overrides}))


def test_checkpoint_round_trip_and_resume_continue_identically(tmp_path):
    straight = experiment(epochs=6)
    straight.trainer.run(6)

    first = experiment(epochs=6)
    first.trainer.run(3)
    path = first.save(tmp_path / "model.npz")
    resumed = Experiment.load(path)
    assert resumed.trainer.epoch == 3 and resumed.trainer.step_count == first.trainer.step_count
    assert all(np.array_equal(p, q) for p, q in zip(resumed.net.params, first.net.params))
    resumed.trainer.run(6)
    assert all(np.array_equal(p, q) for p, q in zip(resumed.net.params, straight.net.params))

    ckpt = load_checkpoint(path)
    assert ckpt.meta["class_names"] == list(first.dataset.class_names)
    np.testing.assert_array_equal(ckpt.standardizer.mean, first.data.standardizer.mean)
    assert not list(tmp_path.glob("*.tmp"))


def test_truncated_model_file(tmp_path):
    exp = experiment()
    path = exp.save(tmp_path / "model.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=str(path.name)):
        Experiment.load(path)
