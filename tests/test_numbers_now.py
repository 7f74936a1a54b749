"""Every number on screen describes the current state: the elapsed time across pauses and
restarts, the numbers after a divergence, the lr an explained step used, the epochs a run goes to."""

import threading
import time

from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import Session, default_config


def small(**overrides):
    return with_overrides(default_config(), **{"n_samples": 200, **overrides})


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.002)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_elapsed_time_is_training_time_across_pause_divergence_and_restart():
    """One step, 30 s paused, a rate that diverges, a lower rate and one more step: the clock counts
    the training only, never goes back (the second start once showed -1:59:32)."""
    session = Session(small(dataset="sine", optimizer="sgd", lr=0.01, hidden=[32, 32], activation="relu",
                            epochs=1000))
    session.set_pace(None)
    clock = session.trainer.clock = FakeClock()
    paused = [0.0]  # waits while paused, and time between runs
    seen: list[tuple[float, float]] = []

    def emit(snap) -> None:
        """Made on the training thread, never while it waits: a second of training passes (the
        diverged run's last snapshot comes once it is over)."""
        seen.append((snap.elapsed, clock.now - 1000.0 - paused[0]))
        if snap.state != "diverged":
            clock.now += 1.0

    def go(**kwargs) -> threading.Thread:
        session.prepare_run(**kwargs)
        thread = threading.Thread(target=session.run, args=(emit,), daemon=True)
        thread.start()
        return thread

    thread = go(single_step=True)
    wait_until(lambda: session.trainer.step_count == 1 and session.trainer.waiting)
    clock.now += 30.0  # paused for 30 s
    paused[0] += 30.0
    session.set_lr(50.0)
    session.resume()
    thread.join(5)
    assert session.state == "diverged"
    clock.now += 100.0  # a while before the next start
    paused[0] += 100.0
    session.set_lr(0.01)
    thread = go(single_step=True)
    wait_until(lambda: session.trainer.waiting)
    clock.now += 7.0  # paused again
    paused[0] += 7.0
    session.stop()
    thread.join(5)
    assert not thread.is_alive()
    shown = [elapsed for elapsed, _ in seen]
    assert shown == sorted(shown) and shown[0] >= 0
    assert seen == [(trained, trained) for _, trained in seen]  # each snapshot: the training time so far
    assert session.snapshot().elapsed == seen[-1][1]
