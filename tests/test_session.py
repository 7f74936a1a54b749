"""The session: the one owner of the config, live changes made by the training thread, pace,
and save / load that round-trips everything (config, weights, optimizer state, history)."""

import random
import threading
import time

import numpy as np
import pytest

from tui_trainer.experiments.config import with_overrides
from tui_trainer.engine.optimizers import OPTIMIZERS
from tui_trainer.experiments.session import (
    DEFAULT_PACE,
    PACES,
    Session,
    change_kind,
    default_config,
    pace_notch,
)


def small(**overrides):
    return with_overrides(default_config(), **{"n_samples": 200, **overrides})


def start(session: Session) -> threading.Thread:
    """Run the session's training loop on a thread, as the app's worker does."""
    errors: list[BaseException] = []

    def target():
        try:
            session.run(lambda snap: None)
        except BaseException as exc:  # noqa: BLE001  (handed to the test)
            errors.append(exc)

    session.prepare_run()
    thread = threading.Thread(target=target, daemon=True)
    thread.errors = errors
    thread.start()
    return thread


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.002)


def opt_state_equal(a: dict, b: dict) -> bool:
    if set(a) != set(b):
        return False
    for key in a:
        if key == "state":
            if len(a[key]) != len(b[key]):
                return False
            for sa, sb in zip(a[key], b[key]):
                if set(sa) != set(sb) or not all(np.array_equal(sa[k], sb[k]) for k in sa):
                    return False
        elif a[key] != b[key]:
            return False
    return True


def test_change_kind_is_the_one_decision():
    cfg = small()
    assert change_kind(cfg, cfg) == "none"
    for live in (dict(lr=0.5), dict(optimizer="sgd"), dict(batch_size="full"), dict(batch_size=1), dict(epochs=7)):
        assert change_kind(cfg, with_overrides(cfg, **live)) == "live", live
    for structural in (dict(hidden=[4]), dict(activation="relu"), dict(dataset="moons"), dict(seed=3),
                       dict(dtype="float32"), dict(n_samples=300)):
        assert change_kind(cfg, with_overrides(cfg, **structural)) == "structural", structural


def test_a_structural_change_is_refused_as_live():
    session = Session(small())
    with pytest.raises(ValueError, match="new weights"):
        session.apply_live(with_overrides(session.config, hidden=[3]))
    assert session.config.network.hidden == [16, 16]


def test_lr_changes_while_paused_apply_at_once():
    """After one step the loop waits paused: +/- must change the optimizer now, not at the next
    step (three presses once gave 0.02 in the config and 0.01 in the status)."""
    session = Session(small(epochs=1000))
    session.prepare_run(single_step=True)
    thread = threading.Thread(target=session.run, args=(lambda snap: None,), daemon=True)
    thread.start()
    wait_until(lambda: session.trainer.step_count == 1 and session.control.waiting)
    for lr in (0.02, 0.05, 0.1):
        session.set_lr(lr)
        assert session.trainer.opt.lr == lr == session.config.optimizer.lr
        assert session.snapshot_now().lr == lr
    session.stop()
    thread.join(2)


def test_live_changes_from_another_thread_while_training():
    """Hundreds of live changes from a second thread race the training thread: no error, and at
    the end the trainer is what the config says."""
    session = Session(small(epochs=10**6))
    session.set_pace(None)
    thread = start(session)
    wait_until(lambda: session.trainer.step_count > 10)
    rng = random.Random(0)
    names = list(OPTIMIZERS)
    for i in range(400):
        what = i % 5
        if what == 0:
            session.apply_live(with_overrides(session.config, batch_size=rng.choice(["full", 1, 7, 32, 500])))
        elif what == 1:
            session.apply_live(with_overrides(session.config, optimizer=rng.choice(names)))
        elif what == 2:
            session.set_lr(rng.choice([0.001, 0.01, 0.02]))
        elif what == 3:
            session.set_weight(0, rng.randrange(2), rng.randrange(16), rng.uniform(-1, 1))
        else:
            session.apply_live(with_overrides(session.config, epochs=rng.randrange(10**5, 10**6)))
        if i % 50 == 0:
            time.sleep(0.005)
    steps = session.trainer.step_count
    wait_until(lambda: session.trainer.step_count > steps + 5)
    session.stop()
    thread.join(5)
    assert not thread.is_alive() and thread.errors == []
    trainer, cfg = session.trainer, session.config
    assert trainer.opt.name == cfg.optimizer.name
    assert trainer.opt.lr == cfg.optimizer.lr
    assert trainer.batch_size == cfg.training.batch_size
    assert all(np.isfinite(p).all() for p in session.net.params)


def test_save_after_live_changes_loads_back_exactly(tmp_path):
    """adam -> sgd with momentum, single sample, lr changed, while training; save; load: the same
    config, weights, optimizer state, counters and history."""
    session = Session(small(epochs=10**6))
    session.set_pace(None)
    thread = start(session)
    wait_until(lambda: session.trainer.step_count > 50)
    session.apply_live(with_overrides(session.config, optimizer="sgd"))
    session.set_hparams(momentum=0.9)
    session.apply_live(with_overrides(session.config, batch_size=1))
    session.set_lr(0.02)
    wait_until(lambda: session.trainer.opt.name == "sgd" and session.trainer.batch_size == 1)
    path = tmp_path / "run.npz"
    session.save(path).result(timeout=5)
    session.stop()
    thread.join(5)
    # what was saved is what the session held at the save: compare against a second save now
    saved = Session()
    saved.load(path)
    assert saved.config == with_overrides(session.config)  # the config as it was (a live one)
    assert saved.config.optimizer.name == "sgd" and saved.config.optimizer.hparams == {"momentum": 0.9}
    assert saved.config.training.batch_size == 1 and saved.config.optimizer.lr == 0.02
    again = tmp_path / "again.npz"
    saved.save(again).result(timeout=5)
    reloaded = Session()
    reloaded.load(again)
    for a, b in ((saved, reloaded),):
        assert a.config == b.config
        assert all(np.array_equal(p, q) for p, q in zip(a.net.params, b.net.params))
        assert opt_state_equal(a.trainer.opt.state_dict(), b.trainer.opt.state_dict())
        assert a.trainer.step_count == b.trainer.step_count and a.trainer.epoch == b.trainer.epoch
        for s1, s2 in ((a.losses, b.losses), (a.val_losses, b.val_losses)):
            assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(s1.arrays(), s2.arrays()))
    assert len(saved.losses) > 0 and saved.snapshot().loss is not None
    assert saved.snapshot().train_loss is not None and saved.state == "paused"


def test_save_round_trips_while_idle(tmp_path):
    session = Session(small(epochs=3))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    path = tmp_path / "m.npz"
    session.save(path).result(timeout=5)
    loaded = Session()
    loaded.load(path)
    assert loaded.config == session.config
    assert all(np.array_equal(p, q) for p, q in zip(loaded.net.params, session.net.params))
    assert opt_state_equal(loaded.trainer.opt.state_dict(), session.trainer.opt.state_dict())
    assert all(np.array_equal(x, y) for x, y in zip(loaded.losses.arrays(), session.losses.arrays()))
    assert all(np.array_equal(x, y) for x, y in zip(loaded.val_losses.arrays(), session.val_losses.arrays()))
    snap, before = loaded.snapshot(), session.snapshot()
    assert (snap.step, snap.epoch, snap.val_loss, snap.val_metric) == (before.step, before.epoch, before.val_loss, before.val_metric)
    assert loaded.state == "finished"


def test_pace_bounds_the_updates_a_second():
    """An upper bound only: a busy machine makes fewer updates, never more."""
    session = Session(small(epochs=10**6))
    assert session.pace == DEFAULT_PACE
    session.set_pace(20)
    started = time.monotonic()
    thread = start(session)
    wait_until(lambda: session.trainer.step_count >= 5)
    steps, seconds = session.trainer.step_count, time.monotonic() - started
    session.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert steps <= 20 * seconds + 2  # 20 a second (and the first at once)


def test_a_slower_pace_does_not_hold_a_pause_or_a_stop():
    """At one update in 1000 s the next step is far away: pausing and stopping must not wait for it
    (the join's deadline is a small part of that)."""
    session = Session(small(epochs=10**6))
    session.set_pace(0.001)
    thread = start(session)
    wait_until(lambda: session.trainer.step_count >= 1)
    session.pause()
    wait_until(lambda: session.control.paused and session.control.waiting)
    session.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert session.trainer.step_count == 1


def test_pace_notches():
    assert pace_notch(DEFAULT_PACE, 1) == PACES[PACES.index(DEFAULT_PACE) + 1]
    assert pace_notch(None, 1) is None
    assert pace_notch(PACES[0], -1) == PACES[0]
    assert pace_notch(PACES[-2], 1) is None


def test_default_experiment_is_shared_by_app_and_command_line():
    from tui_trainer.cli import main
    from click.testing import CliRunner
    import json

    result = CliRunner().invoke(main, ["train", "--dataset", "spiral", "--epochs", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["lr"] == default_config().optimizer.lr == 0.01


def test_memory_stays_bounded_however_long_the_run():
    """Epoch records and loss points stop growing: a run left going overnight must not fill the
    machine's memory."""
    from tui_trainer.experiments.session import EPOCH_RECORDS_KEPT

    session = Session(small(epochs=3000, batch_size="full"))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    assert session.trainer.epoch == 3000
    assert len(session.trainer.history) <= 2 * EPOCH_RECORDS_KEPT
    assert len(session.losses) <= session.losses.capacity
    assert session.snapshot().train_loss == session.trainer.history[-1].train_loss


# -- regularization, schedules and early stopping ------------------------------------------------


class EventLog:
    """A recorder stand-in that keeps the events it is told."""

    writer = None

    def __init__(self):
        self.events = []

    def event(self, step, what, **values):
        self.events.append((step, what, values))


def test_a_live_lr_optimizer_or_hyperparameter_change_is_one_event_that_states_the_lr():
    session = Session(small(epochs=2))
    session.recorder = EventLog()
    session.apply_live(with_overrides(session.config, lr=0.05))
    session.apply_live(with_overrides(session.config, optimizer="adamw"))  # brings its own lr, 0.001
    session.apply_live(with_overrides(session.config, lr=0.002))
    events = [(what, values) for _, what, values in session.recorder.events]
    assert events == [("lr", {"value": 0.05}), ("optimizer", {"name": "adamw", "lr": 0.001, "hparams": {}}),
                      ("lr", {"value": 0.002})]
    assert session.trainer.opt.name == "adamw" and session.trainer.opt.lr == 0.002


def test_penalties_dropout_patience_and_schedule_are_live_and_data_changes_structural():
    old = small()
    for change in (dict(l1=0.001), dict(l2=0.01), dict(dropout=0.2), dict(patience=5),
                   dict(schedule={"name": "cosine", "T_max": 100})):
        assert change_kind(old, with_overrides(old, **change)) == "live", change
    for change in (dict(features=["x1sq", "x2sq"]), dict(noise=0.3), dict(n_samples=300), dict(val_split=0.3)):
        assert change_kind(old, with_overrides(old, **change)) == "structural", change


def test_live_l2_dropout_patience_and_schedule_keep_the_weights_and_are_recorded():
    session = Session(small(epochs=2))
    session.prepare_run()
    session.run(lambda snap: None)
    session.recorder = EventLog()
    before = session.net.flat_params.copy()
    session.apply_live(with_overrides(session.config, l2=0.01, dropout=0.1, patience=3,
                                      schedule={"name": "step", "step_size": 10}))
    assert np.array_equal(session.net.flat_params, before)
    t = session.trainer
    assert t.l2 == 0.01 and t.dropout == (0.1, 0.1) and t.patience == 3 and t.schedule.name == "step"
    whats = [e[1] for e in session.recorder.events]
    assert {"l2", "dropout", "patience", "schedule"} <= set(whats)
    session.recorder = None
    session.target_epochs = 3
    session.prepare_run()
    session.run(lambda snap: None)
    snap = session.snapshot()
    assert snap.penalty > 0 and snap.schedule == "step"
    with pytest.raises(ValueError):
        session.apply_live(with_overrides(session.config, dropout=[0.1, 0.2, 0.3]))
    assert t.dropout == (0.1, 0.1)


def test_turning_a_schedule_off_gives_back_the_lr_the_user_set():
    session = Session(small(epochs=4, lr=0.01, schedule={"name": "exponential", "gamma": 0.5}))
    session.prepare_run()
    session.run(lambda snap: None)
    assert session.snapshot().lr < 0.01
    cfg = session.config
    from dataclasses import replace
    session.apply_live(replace(cfg, optimizer=replace(cfg.optimizer, schedule=None)))
    assert session.trainer.schedule is None and session.snapshot().lr == 0.01


def test_early_stop_finishes_with_a_note_and_the_best_epoch():
    session = Session(small(epochs=400, patience=1, lr=0.05))
    session.set_pace(None)
    snaps = []
    session.prepare_run()
    session.run(snaps.append)
    snap = snaps[-1]
    assert snap.state == "finished" and snap.early_stopped and snap.epoch < 400
    assert snap.message.startswith(f"stopped early at epoch {snap.epoch}: no better validation loss for 1 epochs")
    assert f"(epoch {snap.best_epoch}) are back" in snap.message
    assert snap.best_epoch < snap.epoch and snap.best_val_loss is not None and snap.best_step is not None
    assert snap.val_loss == snap.best_val_loss  # the numbers shown are the restored weights'
    assert snap.train_loss == session.trainer.evaluate()["train_loss"]
    session.prepare_run()  # space again: goes on, the note cleared
    assert session.message == "" and session.trainer.early_stop is None


def test_overfitting_is_diagnosed_when_val_rises_while_train_falls():
    from tui_trainer.experiments.session import overfitting_since
    lowest = (10, 100, 0.5, 0.4)
    assert overfitting_since(lowest, 31, 0.6, 0.3, 12) == 10  # 20 epochs in a row clearly above
    assert overfitting_since(lowest, 31, 0.6, 0.3, 13) is None  # not for long enough
    assert overfitting_since(lowest, 31, 0.6, 0.3, None) is None  # not above now
    assert overfitting_since(lowest, 31, 0.6, 0.45, 12) is None  # the training cost did not fall
    assert overfitting_since(lowest, 31, 0.6, 0.49, 12) is None  # fell, but no gap to the val loss
    assert overfitting_since(lowest, 31, 0.54, 0.3, 12) is None  # less than 10% above its lowest
    assert overfitting_since(lowest, 300, 0.6, 0.3, 272) is None  # under a tenth of the run


def test_the_session_follows_overfitting_epoch_by_epoch_and_marks_the_lowest_val_loss():
    from tui_trainer.engine.trainer import EpochRecord
    from tui_trainer.tui.screens.main import plot_note

    session = Session(small())

    def epoch(n, train, val):
        session._watch_overfitting(EpochRecord(n, n * 10, train, val, "accuracy", 0.9, 0.8, 0.01, 0.0))

    for n in range(1, 11):
        epoch(n, 1.0 / n, 1.0 / n)  # both fall: fine
    assert session.snapshot().overfit_since is None and session.snapshot().best_step is None
    for n in range(11, 30):
        epoch(n, 1.0 / n, 0.1 + (n - 10) * 0.02)  # val rises while train falls
    assert session.snapshot().overfit_since is None  # 19 epochs: not yet
    epoch(30, 1.0 / 30, 0.5)
    snap = session.snapshot()
    assert snap.overfit_since == 10 and snap.best_step == 100
    assert plot_note(snap).startswith("overfitting since epoch 10: try L2, dropout")
    epoch(31, 1.0 / 31, 0.105)  # back near its lowest: the count starts again
    assert session.snapshot().overfit_since is None
    epoch(32, 1.0 / 32, 0.5)
    assert session.snapshot().overfit_since is None
    epoch(33, 1.0 / 33, 0.05)  # a new lowest: no longer overfitting
    assert session.snapshot().overfit_since is None
