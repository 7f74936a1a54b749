"""Early stopping: stop after ``patience`` epochs without a lower validation loss, put the best
epoch's weights back bit for bit, report it; nothing without validation data or when off."""

import numpy as np
import pytest

from tui_trainer.engine import Network, optimizers
from tui_trainer.engine.datasets import load_dataset
from tui_trainer.engine.preprocess import prepare
from tui_trainer.engine.trainer import EarlyStop, Trainer

from .test_trainer import experiment


def scripted(exp, val_losses):
    """Make the trainer see ``val_losses`` (one per epoch) as its validation losses; the weights
    still train as ever."""
    real = exp.trainer.evaluate

    def evaluate():
        out = real()
        out["val_loss"] = val_losses[exp.trainer.epoch - 1]
        return out

    exp.trainer.evaluate = evaluate


def weights_by_epoch(exp) -> dict[int, np.ndarray]:
    """Copies of the weights at each epoch's end, filled in as the run goes."""
    copies: dict[int, np.ndarray] = {}
    exp.trainer.on_epoch = lambda rec: copies.setdefault(rec.epoch, exp.net.flat_params.copy())
    return copies


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best_weights():
    exp = experiment(optimizer="adam", lr=0.01)
    scripted(exp, [1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.71, 0.5, 0.4])
    copies = weights_by_epoch(exp)
    exp.trainer.patience = 3
    result = exp.trainer.run(100)
    assert result.epochs == 7 and result.stopped_early and not result.stopped and not result.diverged
    assert result.early_stop == EarlyStop(epoch=7, best_epoch=4, best_val_loss=0.7, patience=3)
    assert exp.trainer.best_epoch == 4 and exp.trainer.best_val_loss == 0.7
    assert exp.net.flat_params.tobytes() == copies[4].tobytes()  # bit for bit
    assert not np.array_equal(copies[4], copies[6])  # the weights did move on after the best epoch
    assert len(result.history) == 7 and result.history[-1].val_loss == 0.71
    assert "restored the weights of epoch 4" in str(result.early_stop)


def test_the_best_weights_restored_give_the_best_validation_loss_exactly():
    exp = experiment(dataset="moons", n_samples=60, hidden=(64, 64), optimizer="adam", lr=0.05, batch_size=4)
    copies = weights_by_epoch(exp)
    exp.trainer.patience = 3
    result = exp.trainer.run(300)
    stop = result.early_stop
    assert stop is not None and stop.epoch == stop.best_epoch + 3 < 300
    val_losses = [r.val_loss for r in result.history]
    assert stop.best_val_loss == min(val_losses) == val_losses[stop.best_epoch - 1]
    assert np.array_equal(exp.net.flat_params, copies[stop.best_epoch])
    d = exp.data
    assert exp.net.loss(d.X_val, d.Y_val, exp.loss) == stop.best_val_loss


def test_an_equal_validation_loss_is_no_improvement():
    exp = experiment()
    scripted(exp, [0.5, 0.5, 0.5, 0.4])
    copies = weights_by_epoch(exp)
    exp.trainer.patience = 2
    result = exp.trainer.run(10)
    assert result.epochs == 3 and result.early_stop.best_epoch == 1
    assert np.array_equal(exp.net.flat_params, copies[1])


def test_improving_in_time_resets_the_count():
    exp = experiment()
    scripted(exp, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.84, 0.83])
    exp.trainer.patience = 2
    result = exp.trainer.run(8)
    assert result.epochs == 7 and result.early_stop.best_epoch == 5


def test_once_stopped_nothing_trains_until_cleared():
    exp = experiment()
    scripted(exp, [1.0, 2.0, 3.0, 0.5, 0.6, 0.7, 0.8])
    exp.trainer.patience = 2
    assert exp.trainer.run(10).epochs == 3
    before = exp.net.flat_params.copy()
    assert exp.trainer.step() is None
    again = exp.trainer.run(10)
    assert again.epochs == 3 and again.stopped_early and np.array_equal(exp.net.flat_params, before)
    exp.trainer.clear_early_stop()
    result = exp.trainer.run(10)  # epoch 4 improves on epoch 1; 5 and 6 do not
    assert result.epochs == 6 and result.early_stop.best_epoch == 4 and exp.trainer.best_val_loss == 0.5


def test_no_validation_set_means_no_early_stopping():
    ds = load_dataset("xor", n_samples=60, seed=0)
    data = prepare(ds, val_split=0.0, seed=0)
    assert len(data.X_val) == 0
    net = Network([2, 8, 1], ["tanh", "sigmoid"], seed=0)
    trainer = Trainer(net, optimizers.create("adam", lr=0.01), data, loss="bce", batch_size=16, patience=1)
    result = trainer.run(12)
    assert result.epochs == 12 and not result.stopped_early
    assert trainer.best_epoch is None and trainer.best_val_loss is None
    assert not trainer.restore_best_weights()


def test_off_by_default_and_a_patience_never_reached_is_bit_identical():
    plain = experiment(optimizer="adam", lr=0.05)
    assert plain.trainer.patience is None
    plain_result = plain.trainer.run(30)
    watched = experiment(optimizer="adam", lr=0.05)
    watched.trainer.patience = 1000
    result = watched.trainer.run(30)
    assert not plain_result.stopped_early and not result.stopped_early
    assert np.array_equal(watched.net.flat_params, plain.net.flat_params)
    assert [r.val_loss for r in result.history] == [r.val_loss for r in plain_result.history]
    assert plain.trainer.best_epoch is None and watched.trainer.best_epoch is not None


def test_restore_best_weights_on_demand():
    exp = experiment()
    scripted(exp, [0.3, 0.2, 0.25, 0.26, 0.27])
    copies = weights_by_epoch(exp)
    exp.trainer.patience = 10
    exp.trainer.run(5)  # not stopped: the weights are the last epoch's
    assert np.array_equal(exp.net.flat_params, copies[5])
    assert exp.trainer.restore_best_weights()
    assert np.array_equal(exp.net.flat_params, copies[2])


def test_no_finite_validation_loss_stops_without_restoring():
    exp = experiment()
    scripted(exp, [float("nan")] * 5)
    copies = weights_by_epoch(exp)
    exp.trainer.patience = 2
    result = exp.trainer.run(5)
    assert result.epochs == 2
    assert result.early_stop == EarlyStop(epoch=2, best_epoch=None, best_val_loss=None, patience=2)
    assert np.array_equal(exp.net.flat_params, copies[2])
    assert "no finite validation loss" in str(result.early_stop)


@pytest.mark.parametrize("patience", [0, -1, 1.5, True, "3"])
def test_a_bad_patience_raises(patience):
    exp = experiment()
    with pytest.raises(ValueError, match="patience must be a whole number of epochs >= 1 or None"):
        exp.trainer.patience = patience
    with pytest.raises(ValueError, match="patience"):
        Trainer(exp.net, exp.opt, exp.data, loss=exp.loss, patience=patience)
