"""The trainer: batch modes, determinism, divergence, control from another thread.

Built from the engine alone (no config or experiment layer), the way ``Experiment.from_config``
builds it from the same settings; ``tests/test_experiment_resume.py`` checks saving and resuming
through the experiment.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from tui_trainer.engine import Network, optimizers
from tui_trainer.engine.checkpoint import CheckpointError, load_checkpoint
from tui_trainer.engine.datasets import Dataset, load_dataset
from tui_trainer.engine.preprocess import PreparedData, prepare
from tui_trainer.engine.trainer import Trainer

OUTPUT_AND_LOSS = {"binary": ("sigmoid", "bce"), "multiclass": ("softmax", "cross_entropy"),
                   "regression": ("linear", "mse")}


@dataclass
class Run:
    """The engine objects of one training set-up."""

    data: PreparedData
    net: Network
    trainer: Trainer
    loss: str

    @property
    def opt(self) -> optimizers.Optimizer:
        return self.trainer.opt

    @property
    def dataset(self) -> Dataset:
        return self.data.dataset


def experiment(*, dataset="xor", n_samples=100, hidden=(8,), activation="tanh", optimizer="adam",
               lr=0.01, batch_size=16, epochs=5, seed=0) -> Run:
    """A dataset, network, optimizer and trainer, as the app's defaults would build them (``epochs``
    is the caller's to run)."""
    ds = load_dataset(dataset, n_samples=n_samples, seed=seed)
    data = prepare(ds, val_split=0.2, seed=seed)
    output, loss = OUTPUT_AND_LOSS[ds.problem]
    net = Network([ds.X.shape[1], *hidden, ds.n_outputs], [activation] * len(hidden) + [output], seed=seed)
    opt = optimizers.create(optimizer, lr=lr)
    return Run(data, net, Trainer(net, opt, data, loss=loss, batch_size=batch_size, seed=seed), loss)


@pytest.mark.parametrize("batch_size,expected", [("full", 1), (16, math.ceil(80 / 16)), (30, 3), (1, 80), (500, 1)])
def test_updates_per_epoch(batch_size, expected):
    exp = experiment(batch_size=batch_size)
    assert len(exp.data.X_train) == 80
    assert exp.trainer.steps_per_epoch == expected
    result = exp.trainer.run(3)
    assert result.epochs == 3 and result.steps == 3 * expected
    assert exp.trainer.batch_mode == {"full": "full", 1: "single"}.get(batch_size, "mini")


def test_full_batch_step_loss_is_the_cost():
    exp = experiment(batch_size="full")
    cost_before = exp.net.loss(exp.data.X_train, exp.data.Y_train, exp.loss)
    assert exp.trainer.step() == cost_before
    assert exp.trainer.history[0].train_loss == exp.net.loss(exp.data.X_train, exp.data.Y_train, exp.loss)


def test_minibatches_cover_every_sample_once_per_epoch():
    exp = experiment(batch_size=16)
    seen = []
    original = exp.net.loss_and_grads

    def spy(X, Y, loss):
        seen.append(X.copy())
        return original(X, Y, loss)

    exp.net.loss_and_grads = spy
    exp.trainer.run(2)
    first_epoch = np.concatenate(seen[:5])
    second_epoch = np.concatenate(seen[5:])
    key = lambda A: sorted(map(tuple, A.round(12)))  # noqa: E731
    assert key(first_epoch) == key(exp.data.X_train) == key(second_epoch)
    assert not np.array_equal(first_epoch, second_epoch)  # reshuffled


def test_same_config_and_seed_give_bit_identical_results():
    a, b, c = experiment(), experiment(), experiment(seed=1)
    ra, rb = a.trainer.run(5), b.trainer.run(5)
    assert [r.train_loss for r in ra.history] == [r.train_loss for r in rb.history]
    assert all(np.array_equal(p, q) for p, q in zip(a.net.params, b.net.params))
    c.trainer.run(5)
    assert not np.array_equal(a.net.params[0], c.net.params[0])


def test_epoch_records_hold_metrics_and_listeners_see_every_step():
    exp = experiment(batch_size=40)
    steps, epochs = [], []
    exp.trainer.on_step = steps.append
    exp.trainer.on_epoch = epochs.append
    exp.trainer.run(3)
    assert [s.step for s in steps] == list(range(1, 7))
    assert [s.epoch for s in steps] == [1, 1, 2, 2, 3, 3]
    assert all(len(s.grad_norms) == 2 and all(n > 0 for n in s.grad_norms) for s in steps)
    assert [e.epoch for e in epochs] == [1, 2, 3]
    last = epochs[-1]
    assert last.metric_name == "accuracy" and 0 <= last.val_metric <= 1
    assert last.val_loss is not None and last.train_loss > 0


def test_regression_reports_r2():
    exp = experiment(dataset="sine", n_samples=200, hidden=[16], batch_size=20, epochs=30, lr=0.01)
    result = exp.trainer.run(30)
    assert result.history[-1].metric_name == "r2"
    assert result.history[-1].val_metric > 0.8


def test_learning_rate_change_takes_effect_at_the_next_step():
    exp = experiment()
    exp.trainer.step()
    exp.trainer.set_hparams(lr=0.5)
    before = exp.net.get_parameters()
    exp.trainer.step()
    assert exp.opt.lr == 0.5
    assert exp.opt.state[0]["exp_avg"].any()  # state kept
    # Adam's first steps move each weight by about lr: 0.5 is far more than 0.01
    assert max(np.abs(p - q).max() for p, q in zip(exp.net.params, before)) > 0.1
    with pytest.raises(ValueError, match="lr"):
        exp.trainer.set_hparams(lr=-1.0)


def test_divergence_stops_and_restores_the_last_finite_weights():
    exp = experiment(optimizer="sgd", lr=1e6, batch_size="full", dataset="plane", hidden=[8], activation="relu", epochs=50)
    exp.trainer.explosion_factor = None  # run on to the first non-finite value
    snapshots = []
    exp.trainer.on_step = lambda rec: snapshots.append(exp.net.get_parameters())
    result = exp.trainer.run(50)
    assert result.diverged
    assert "lower the learning rate" in str(result.divergence)
    assert result.divergence.step == result.steps
    assert all(np.isfinite(p).all() for p in exp.net.params)
    # the restored weights are the ones that gave the last finite loss
    last_good = snapshots[-2] if len(snapshots) > 1 else None
    assert last_good is not None
    assert all(np.array_equal(p, q) for p, q in zip(exp.net.params, last_good))
    assert np.isfinite(exp.net.loss(exp.data.X_train, exp.data.Y_train, exp.loss))
    assert exp.trainer.step() is None  # stays stopped until cleared


@pytest.mark.parametrize("content,match", [
    (b"", "not an nn-tui model file"),
    (b"PK\x03\x04 garbage", "not an nn-tui model file"),
    (b"hello world", "not an nn-tui model file"),
])
def test_corrupted_model_files_give_a_clear_error(tmp_path, content, match):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_foreign_npz_and_missing_files(tmp_path):
    foreign = tmp_path / "other.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(CheckpointError, match="no nn-tui header"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no such model file"):
        load_checkpoint(tmp_path / "missing.npz")


def test_a_cost_that_explodes_is_divergence_even_when_every_number_is_finite():
    """sgd at lr 1 on plane: the cost reaches ~1e117 without a NaN. Stepped one update at a time
    (as the lab's sweep does) or run, the trainer calls it diverged, measured from the start."""
    exp = experiment(optimizer="sgd", lr=1.0, batch_size=32, dataset="plane", epochs=10)
    while exp.trainer.step() is not None and exp.trainer.epoch < 10:
        pass
    assert exp.trainer.divergence is not None
    assert "exploded" in str(exp.trainer.divergence) and "lower the learning rate" in str(exp.trainer.divergence)
    calm = experiment(optimizer="sgd", lr=0.01, batch_size=32, dataset="plane", epochs=10)
    assert not calm.trainer.run(10).diverged


def test_a_long_run_keeps_a_bounded_history_spread_over_the_whole_run(monkeypatch):
    """However many epochs run, the history holds at most HISTORY_KEPT records, evenly spaced, and the last."""
    from tui_trainer.engine import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "HISTORY_KEPT", 16)
    exp = experiment(batch_size="full", n_samples=20)
    exp.trainer.run(203)
    epochs = [r.epoch for r in exp.trainer.history]
    assert len(epochs) <= 16 + 1
    assert epochs[-1] == 203
    stride = epochs[1] - epochs[0]
    assert stride > 1 and all(b - a == stride for a, b in zip(epochs[:-2], epochs[1:-1]))
    assert epochs[0] <= stride  # the run's start is still there


def test_the_latest_records_only_when_a_limit_is_set():
    exp = experiment(batch_size="full", n_samples=20)
    exp.trainer.history_limit = 4
    exp.trainer.run(30)
    assert [r.epoch for r in exp.trainer.history][-4:] == [27, 28, 29, 30]
    assert len(exp.trainer.history) <= 8


def test_an_exploding_cost_stops_and_restores_the_weights_the_epoch_began_with():
    exp = experiment(dataset="sine", n_samples=200, optimizer="sgd", lr=1.0, batch_size=32, hidden=[16, 16], epochs=50)
    starts = []
    exp.trainer.on_epoch = lambda rec: starts.append((rec.epoch, exp.net.flat_params.copy()))
    before = exp.net.flat_params.copy()
    result = exp.trainer.run(50)
    assert result.diverged and "exploded" in str(result.divergence)
    good = starts[-2][1] if len(starts) > 1 else before  # the weights at the end of the last good epoch
    np.testing.assert_array_equal(exp.net.flat_params, good)
    cost = exp.net.loss(exp.data.X_train, exp.data.Y_train, exp.loss)
    assert cost <= exp.trainer.explosion_factor * max(exp.trainer.start_cost, 0.1)



def test_a_schedule_and_early_stopping_given_to_the_constructor():
    from tui_trainer.engine.schedules import create_schedule
    from tui_trainer.engine.trainer import TrainResult

    assert not TrainResult(epochs=0, steps=0, seconds=0.0).stopped_early
    schedule = create_schedule("exponential", gamma=0.9, warmup_epochs=2)
    ds = load_dataset("moons", n_samples=60, seed=0)
    data = prepare(ds, val_split=0.2, seed=0)
    net = Network([2, 64, 64, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    trainer = Trainer(net, optimizers.create("adam", lr=0.05), data, loss="bce", batch_size=4,
                      schedule=schedule, patience=2)
    assert trainer.schedule is schedule and trainer.patience == 2
    result = trainer.run(200)
    assert result.stopped_early and result.early_stop.epoch == result.early_stop.best_epoch + 2
    assert [r.lr for r in result.history] == schedule.lrs(result.epochs, 0.05)
    assert trainer.best_val_loss == min(r.val_loss for r in result.history)


def _dead_unit(exp: Run) -> None:
    """Hidden unit 0 never fires (relu of 0 * x - 1): its weights' gradients are exactly 0."""
    W1, b1 = exp.net.params[0], exp.net.params[1]
    W1[:, 0], b1[0] = 0.0, -1.0


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "rmsprop"])
def test_a_divergence_from_eps_0_names_eps_not_the_learning_rate(optimizer):
    exp = experiment(optimizer=optimizer, hidden=(8,), activation="relu")
    exp.opt.set(eps=0.0)
    _dead_unit(exp)  # Adam, Adagrad and RMSprop then divide 0 by 0
    result = exp.trainer.run(3)
    assert result.diverged
    said = str(result.divergence)
    assert "eps" in said and "learning rate" not in said, said
    assert all(np.isfinite(p).all() for p in exp.net.params)
    # the same with eps > 0 trains on
    calm = experiment(optimizer=optimizer, hidden=(8,), activation="relu")
    _dead_unit(calm)
    assert not calm.trainer.run(3).diverged


@pytest.mark.parametrize("l1,l2,named", [(1e308, 0.0, "l1"), (0.0, 1e308, "l2")])
def test_a_divergence_from_the_weight_penalty_names_l1_or_l2(l1, l2, named):
    exp = experiment()
    exp.trainer.l1, exp.trainer.l2 = l1, l2
    result = exp.trainer.run(3)
    assert result.diverged
    said = str(result.divergence)
    assert f"{named} = 1e+308" in said and "penalty" in said and "learning rate" not in said, said
