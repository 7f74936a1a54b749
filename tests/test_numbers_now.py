"""Every number on screen describes the current state: the elapsed time across pauses and
restarts, the numbers after a divergence, the lr an explained step used, the epochs a run goes to."""

import json
import threading
import time

from tests.conftest import wait_for
from tests.test_app import notes, run, settings_ready, status_text
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.session import Session, default_config
from tui_trainer.tui.app import NNTuiApp
from tui_trainer.tui.widgets.loss_plot import LossPlot
from tui_trainer.tui.widgets.status_pane import metric, number


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
    clock = session.control.clock = FakeClock()
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
    wait_until(lambda: session.trainer.step_count == 1 and session.control.waiting)
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
    wait_until(lambda: session.control.waiting)
    clock.now += 7.0  # paused again
    paused[0] += 7.0
    session.stop()
    thread.join(5)
    assert not thread.is_alive()
    shown = [elapsed for elapsed, _ in seen]
    assert shown == sorted(shown) and shown[0] >= 0
    assert seen == [(trained, trained) for _, trained in seen]  # each snapshot: the training time so far
    assert session.snapshot().elapsed == seen[-1][1]


def diverging(**overrides):
    """Full batch at lr 10 on moons: the cost explodes to 11.1 at step 7, after six good steps."""
    return small(dataset="moons", optimizer="sgd", lr=10.0, batch_size="full", epochs=200, **overrides)


def test_after_a_divergence_the_numbers_are_the_restored_weights():
    """The weights the divergence put back are those of the step it names, and the status shows
    their numbers, not the exploded ones of the step that diverged."""
    session = Session(diverging())
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    assert session.state == "diverged"
    trainer = session.trainer
    restored = trainer.divergence.restored_step
    assert restored is not None and 0 < restored < trainer.divergence.step
    assert f"restored the weights of step {restored}" in session.message
    replay = Session(diverging()).trainer
    for _ in range(restored):
        replay.step()
    assert replay.step_count == restored
    assert (replay.net.flat_params == session.net.flat_params).all()
    now = trainer.evaluate()
    snap = session.snapshot()
    assert (snap.train_loss, snap.val_loss, snap.train_metric, snap.val_metric) == (
        now["train_loss"], now["val_loss"], now["train_metric"], now["val_metric"])
    exploded = trainer.history[-1]
    assert exploded.val_loss != now["val_loss"]  # what the status showed before
    assert (snap.divergence_step, snap.restored_step) == (trainer.divergence.step, restored)
    assert snap.loss == now["train_loss"]  # full batch: the cost row is the restored weights' cost


def test_after_a_divergence_in_mini_batches_no_batch_loss_of_gone_weights_is_shown():
    """The last batch's loss was measured on weights that are gone (it read 317 beside a cost of
    0.62): none is shown until a step is made on the weights put back."""
    session = Session(small(dataset="moons", optimizer="sgd", lr=20.0, batch_size=32, epochs=20))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    assert session.state == "diverged"
    snap = session.snapshot()
    assert snap.loss is None and snap.train_loss == session.trainer.evaluate()["train_loss"]


def test_the_app_shows_the_restored_weights_numbers_after_a_divergence():
    async def scenario():
        app = NNTuiApp(diverging())
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            session.set_pace(None)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "diverged" and not app.screen.training.running)
            await pilot.pause()
            now = session.trainer.evaluate()
            shown = status_text(app)
            assert f"val loss  {number(now['val_loss'])}" in shown
            assert f"val acc   {metric(now['val_metric'])}  train {metric(now['train_metric'])}" in shown
            assert number(session.trainer.history[-1].val_loss) not in shown  # the exploded one
            assert "diverged after step 7 (epoch 7): the cost exploded" in notes(app)
            assert "restored the weights of step 6" in notes(app)
            plot = app.screen.query_one(LossPlot)
            assert plot.note.startswith("diverged after step 7: the weights of step 6 are back")
            await pilot.press("q")

    run(scenario())


def test_the_inspector_explains_a_scheduled_step_with_the_lr_it_used():
    """Full batch with a cosine schedule: each step ends an epoch and the schedule sets the next
    epoch's lr at once; the step shown used the lr before that, and nothing was edited."""
    from dataclasses import replace

    from tests.test_inside_screens import open_view, plain, steps
    from tui_trainer.engine import inspect as insp
    from tui_trainer.engine.schedules import create_schedule
    from tui_trainer.experiments.hparam_text import hparam_text

    async def scenario():
        config = small(dataset="moons", optimizer="sgd", lr=0.1, batch_size="full", epochs=300)
        config = replace(config, optimizer=replace(config.optimizer, schedule={"name": "cosine", "T_max": 300}))
        app = NNTuiApp(config)
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            await steps(pilot, app, 5)
            screen = await open_view(pilot, app, "i")
            session = screen.session
            used = create_schedule("cosine", T_max=300).lr_at(4, 0.1)  # the fifth epoch's lr
            assert session.trainer.opt.lr != used  # the sixth epoch's, already set
            text = plain(app, "#wi-panel")
            assert f"last update (step 5, sgd, lr {hparam_text(used, enclosed=True)})" in text
            assert "edited by hand" not in text
            last = next(line for line in reversed(text.splitlines()) if line.strip())
            assert last.rstrip().endswith("= " + insp.format_number(float(session.net.params[0][0, 0])))
            await pilot.press("e")
            screen.query_one("#wi-edit").value = "0.5"
            await pilot.press("enter")
            await wait_for(pilot, lambda: "edited by hand since: now 0.5" in plain(app, "#wi-panel"))

    run(scenario())


def paused_after(session: Session, steps: int) -> threading.Thread:
    """Start the session's loop on a thread and make ``steps`` single steps; it then waits paused."""
    session.prepare_run(single_step=True)
    thread = threading.Thread(target=session.run, args=(lambda snap: None,), daemon=True)
    thread.start()
    for n in range(1, steps + 1):
        if n > 1:
            session.request_step()
        wait_until(lambda: session.trainer.step_count == n and session.control.waiting)
    return thread


def test_more_epochs_set_while_a_run_goes_are_trained():
    session = Session(small(batch_size="full", epochs=5))
    session.set_pace(None)
    thread = paused_after(session, 1)
    session.apply_live(with_overrides(session.config, epochs=20))
    session.resume()
    thread.join(5)
    assert not thread.is_alive()
    assert (session.trainer.epoch, session.state, session.snapshot().epochs) == (20, "finished", 20)


def test_fewer_epochs_set_while_a_run_goes_end_it_there():
    session = Session(small(batch_size="full", epochs=60))
    session.set_pace(None)
    thread = paused_after(session, 1)
    session.apply_live(with_overrides(session.config, epochs=3))
    session.resume()
    thread.join(5)
    assert not thread.is_alive()
    assert (session.trainer.epoch, session.state, session.snapshot().epochs) == (3, "finished", 3)


def test_fewer_epochs_than_done_end_a_paused_run_at_once():
    session = Session(small(batch_size="full", epochs=60))
    session.set_pace(None)
    thread = paused_after(session, 5)
    session.apply_live(with_overrides(session.config, epochs=3))
    thread.join(5)
    assert not thread.is_alive()  # no key pressed: it ended by itself, without another step
    assert (session.trainer.step_count, session.state) == (5, "finished")
    snap = session.snapshot()
    assert (snap.epoch, snap.epochs) == (5, session.config.training.epochs) == (5, 3)


def test_fewer_epochs_than_done_end_a_running_run_at_the_next_step():
    session = Session(small(batch_size="full", epochs=10**5))
    session.set_pace(300)
    session.prepare_run()
    thread = threading.Thread(target=session.run, args=(lambda snap: None,), daemon=True)
    thread.start()
    wait_until(lambda: session.trainer.epoch >= 5)
    session.apply_live(with_overrides(session.config, epochs=3))
    at = session.trainer.epoch
    thread.join(5)
    assert not thread.is_alive() and session.state == "finished"
    assert at <= session.trainer.epoch <= at + 1


def test_training_on_after_a_finished_run_shows_one_target_in_the_status_and_the_config():
    """A finished run of 3 epochs trains 3 more on space: the status's target and the config's
    epochs are both 6 (the config said 3 while the status said 6)."""
    from tests.test_app import small_config

    async def scenario():
        app = NNTuiApp(small_config(epochs=3))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            session = app.screen.session
            session.set_pace(None)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.state == "finished" and not app.screen.training.running)
            await pilot.press("space")
            await wait_for(pilot, lambda: session.trainer.epoch == 6 and not app.screen.training.running)
            await pilot.pause()
            assert session.state == "finished"
            assert "epoch     6/6" in status_text(app)
            assert app.screen.query_one("#epochs").value == "6"
            assert session.config.training.epochs == 6
            await pilot.press("q")

    run(scenario())


def recorded_run(root, lr: float, changes, *, epochs: int = 2):
    """A run trained by a session with a recorder, ``changes(session)`` made live after its first
    epoch; closed at the end."""
    from tui_trainer.experiments.recording import Recorder
    from tui_trainer.experiments.runs import list_runs

    before = {r.path for r in list_runs(root)}
    session = Session(small(optimizer="sgd", lr=lr, epochs=1), recorder=Recorder(root))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    changes(session)
    session.apply_live(with_overrides(session.config, epochs=epochs))
    session.prepare_run()
    session.run(lambda snap: None)
    session.end_run()
    [run] = [r for r in list_runs(root) if r.path not in before]
    return run, session


def test_the_run_store_gives_the_settings_a_run_ended_with():
    from tui_trainer.experiments.runs import final_settings, read_metrics, settings_of

    def changes(session):
        session.set_lr(0.1)
        session.set_hparams(momentum=0.9)
        session.apply_live(with_overrides(session.config, batch_size="full"))

    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as root:
        run, session = recorded_run(Path(root), 0.01, changes)
        assert run.settings["lr"] == 0.01 and "sgd.momentum" not in run.settings
        final = final_settings(run, read_metrics(run.path))
        assert final == settings_of(session.config)
        assert final["lr"] == 0.1 and final["sgd.momentum"] == 0.9 and final["batch_size"] == "full"


def test_the_runs_screen_shows_the_final_values_of_settings_changed_live(tmp_path, monkeypatch):
    """Two runs that ended with the same lr, one of them from 0.01, which also set a momentum:
    the panel says what each ended with, and what changed live (the panel listed 0.01 and no
    momentum at all)."""
    from tests.test_runs_screens import open_runs, text_of
    from tui_trainer.experiments.runs import RUNS_ENV

    monkeypatch.setenv(RUNS_ENV, str(tmp_path))
    recorded_run(tmp_path, 0.01, lambda s: (s.set_lr(0.1), s.set_hparams(momentum=0.9)))
    recorded_run(tmp_path, 0.1, lambda s: None)

    async def scenario():
        app = NNTuiApp(small(epochs=3))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_runs(pilot, app)
            await pilot.press("space", "down", "space")
            await pilot.pause()
            diff = text_of(screen.query_one("#runs-diff"))
            lines = [line.strip() for line in diff.splitlines()]
            lr = lines.index("lr")
            assert lines[:2] == ["Differs", "a -> b: changed live"]
            assert lines[lr + 1:lr + 3] == ["● 0.1", "● 0.01 -> 0.1"], diff  # the newest first
            m = lines.index("sgd.momentum")
            assert lines[m + 1:m + 3] == ["● 0", "● 0 -> 0.9"], diff
            assert "epochs" not in lines  # changed live alike in both: 1 -> 2
            await pilot.press("escape")

    run(scenario())


def test_training_on_after_a_finished_run_is_a_change_of_its_epochs_in_the_run_store(tmp_path):
    from tui_trainer.experiments.recording import Recorder
    from tui_trainer.experiments.runs import final_settings, list_runs, read_metrics

    session = Session(small(epochs=1), recorder=Recorder(tmp_path))
    session.set_pace(None)
    for _ in range(2):
        session.prepare_run()
        session.run(lambda snap: None)
    assert session.state == "finished" and session.config.training.epochs == 2
    session.end_run()
    [run] = list_runs(tmp_path)
    assert run.settings["epochs"] == 1
    assert final_settings(run, read_metrics(run.path))["epochs"] == 2


def spiked_series():
    """1,505 steps falling from 0.3 to 0.01, then a divergence: 0.88, 10, 86.5, 40.3 (as sgd at lr 50
    on moons gave); the validation loss every 5 steps, 17.9 at the last."""
    import numpy as np

    x = np.arange(1, 1506, dtype=float)
    y = 0.3 * np.exp(-x / 300) + 0.01
    y[-4:] = [0.88, 9.99, 86.5, 40.3]
    vx = x[4::5]
    vy = 1.1 * y[4::5]
    vy[-1] = 17.86
    return x, y, vx, vy


def test_the_loss_plot_shows_a_divergence_spike_at_its_height_on_both_scales():
    """Thinning to two points a column averaged the spike away (on the log axis a geometric mean:
    the axis ended near 0.5; on the linear one at 12.5): the axis reaches the spike and the curve is
    drawn up to it."""
    from tui_trainer.tui.widgets.loss_plot import build_plot

    for log_scale in (True, False):
        lines = [s.text for s in build_plot(80, 20, *spiked_series(), log_scale=log_scale)]
        rows = [line.split("┤")[0].strip() if "┤" in line else "" for line in lines]
        ticks = [r for r in rows if r]
        if log_scale:
            assert ticks[:3] == ["10", "1", "0.1"], lines  # decades up to the spike
            ten = rows.index("10")
            assert any(ch not in " ●" for line in lines[1:ten] for ch in line[4:]), lines  # drawn above 10
            marks = [line.rfind("●") for line in lines[:rows.index("1")]]
            assert max(marks) > 70, lines  # the last validation loss, 17.9, marked up there too
        else:
            assert float(ticks[0]) >= 75, lines  # the axis reaches 86.5 (it ended at 12.5)
        assert lines[1].rstrip()[-1] not in " │", lines  # the peak is drawn in the top row


def test_runs_compare_shows_the_values_runs_ended_with(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tui_trainer.cli import main as cli_main

    monkeypatch.setenv("COLUMNS", "80")
    first, _ = recorded_run(tmp_path, 0.01, lambda s: s.set_lr(0.1))
    second, _ = recorded_run(tmp_path, 0.1, lambda s: None)
    args = ["runs", "compare", first.id, second.id, "--runs-dir", str(tmp_path), "--no-plot"]
    result = CliRunner().invoke(cli_main, args)
    assert result.exit_code == 0, result.output
    lr = next(line for line in result.output.splitlines() if line.startswith("lr"))
    assert lr.split()[1:] == ["0.01", "->", "0.1", "0.1"], result.output
    assert "a -> b: changed live, from a to b" in result.output
    data = json.loads(CliRunner().invoke(cli_main, args + ["--json"]).output.splitlines()[-1])
    assert data["settings"]["lr"] == [0.01, 0.1] and data["final_settings"]["lr"] == [0.1, 0.1]
