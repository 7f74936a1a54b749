"""The training control: pause, single steps, stop and queued changes for a trainer that runs on
another thread, while the engine's trainer only steps."""

import ast
import threading
import time
from pathlib import Path

from tui_trainer.engine import trainer as trainer_module
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.control import TrainingControl
from tui_trainer.experiments.experiment import Experiment
from tui_trainer.experiments.session import default_config


def trainer(**overrides):
    cfg = with_overrides(default_config(), **{"n_samples": 100, "batch_size": 1, **overrides})
    return Experiment.from_config(cfg).trainer


def wait_until(condition, timeout: float = 10.0) -> None:
    """Wait for ``condition``; ``timeout`` is a deadline for a hang, not a measurement."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.002)


def test_the_engine_trainer_only_steps():
    # No thread, event or lock in the engine's loop: pause, pace and the queue are the control's.
    tree = ast.parse(Path(trainer_module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "threading" not in imported
    for name in ("pause", "resume", "request_step", "set_pace", "submit", "stop"):
        assert not hasattr(trainer_module.Trainer, name), name


def test_a_trainer_runs_while_its_hook_says_so():
    t = trainer(batch_size="full")
    asked = []
    result = t.run(10, before_step=lambda: (asked.append(t.step_count), len(asked) <= 3)[1])
    assert t.step_count == 3 and asked == [0, 1, 2, 3] and not result.stopped


def test_pause_step_resume_and_stop_from_another_thread():
    t, control = trainer(), TrainingControl()
    control.pause()
    thread = threading.Thread(target=control.run, args=(t, 10_000))
    thread.start()
    try:
        for n in range(1, 4):
            control.request_step()
            wait_until(lambda: t.step_count == n)
        wait_until(lambda: control.waiting)  # back to waiting after the third: no step runs on
        assert t.step_count == 3 and control.paused
        control.resume()
        wait_until(lambda: t.step_count > 3)
    finally:
        control.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_a_change_submitted_while_running_is_made_between_steps_in_order():
    t, control = trainer(), TrainingControl()
    made = []
    thread = threading.Thread(target=control.run, args=(t, 10_000))
    thread.start()
    try:
        wait_until(lambda: t.step_count > 0)
        for n in range(3):
            control.submit(lambda n=n: made.append((n, t.step_count)))
        wait_until(lambda: len(made) == 3)
    finally:
        control.stop()
        thread.join(10)
    assert [n for n, _ in made] == [0, 1, 2]


def test_a_stop_asked_before_a_run_begins_ends_that_run_and_is_then_used_up():
    # The UI may ask a worker to stop before its thread has entered the loop: the run must still
    # end, or whoever waits for it waits forever.
    t, control = trainer(epochs=3), TrainingControl()
    control.stop()
    result = control.run(t, 3)
    assert result.stopped and t.step_count == 0
    result = control.run(t, 3)  # the request went with the run it ended
    assert not result.stopped and t.epoch == 3


def test_giving_way_rests_before_each_step_for_a_while_and_then_not(monkeypatch):
    from tui_trainer.experiments import control as control_module

    rests = []
    monkeypatch.setattr(control_module.time, "sleep", lambda seconds: rests.append(seconds))
    t, control = trainer(batch_size="full"), TrainingControl()
    control.run(t, 3)
    assert rests == []  # full speed: no rest
    control.give_way(60)
    control.run(t, 6)
    assert rests == [control_module.GIVE_WAY_REST] * 3  # one rest before each of the 3 steps
