"""The lab's training controller without a UI: a race run on a thread, stopped from another one."""

import threading

import pytest

from tests.test_lab import config, without_timing
from tui_trainer.experiments.lab import Race, RaceEntry
from tui_trainer.experiments.race_session import RaceSession

ENTRIES = [RaceEntry("sgd"), RaceEntry("adam")]


def race_session(**overrides) -> RaceSession:
    return RaceSession(lambda: Race(config(**overrides), ENTRIES))


def run_to_the_end(session: RaceSession) -> list:
    snaps = []
    session.prepare_run()
    session.run(snaps.append)
    return snaps


def test_a_run_builds_the_race_steps_it_to_the_end_and_hands_over_the_results():
    session = race_session()
    snaps = run_to_the_end(session)
    assert session.done and snaps[0].progress == 0.0 and snaps[-1].progress == 1.0
    assert snaps[0].results is None
    assert without_timing(snaps[-1].results) == without_timing(Race(config(), ENTRIES).run())
    last = snaps[-1].lanes[0]
    assert list(last.epochs) == [0, 1, 2, 3, 4] and last.steps == 4 * last.steps_per_epoch


def test_stopped_from_another_thread_it_goes_on_where_it_was_to_the_same_results():
    session = race_session(n_samples=400, batch_size=1, epochs=3)
    entered, release = threading.Event(), threading.Event()
    snaps = []

    def emit(snap):
        snaps.append(snap)
        if len(snaps) == 1:  # the race is built and about to step: hold the thread here
            entered.set()
            release.wait(5)

    session.prepare_run()
    worker = threading.Thread(target=session.run, args=(emit,))
    worker.start()
    assert entered.wait(5) and session.stepping
    session.stop()
    release.set()
    worker.join(5)
    assert not worker.is_alive() and not session.stepping
    assert not session.done and snaps[-1].results is None  # stopped after at most a step
    more = run_to_the_end(session)
    assert without_timing(more[-1].results) == without_timing(
        Race(config(n_samples=400, batch_size=1, epochs=3), ENTRIES).run())


def test_a_stop_asked_before_the_run_begins_counts():
    session = race_session()
    session.prepare_run()
    session.stop()
    snaps = []
    session.run(snaps.append)
    assert session.race is not None and session.race.progress == 0.0 and not session.done


def test_a_race_that_cannot_be_built_raises_and_stays_unbuilt():
    session = RaceSession(lambda: Race(config(), []))
    session.prepare_run()
    with pytest.raises(ValueError, match="at least one entry"):
        session.run(lambda snap: None)
    assert session.race is None and not session.stepping


def test_a_lane_snapshot_counts_the_updates_to_a_target_chosen_after_the_race():
    snaps = run_to_the_end(race_session())
    lane = snaps[-1].lanes[1]
    first_below = next(i for i, c in enumerate(lane.costs) if c <= lane.costs[2])
    assert lane.steps_to(float(lane.costs[2])) == int(lane.epochs[first_below]) * lane.steps_per_epoch
    assert lane.steps_to(-1.0) is None
