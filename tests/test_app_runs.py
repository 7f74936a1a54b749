"""Training in the app is recorded as runs: one per experiment trained, with its live changes."""

import asyncio
import json

from tests.test_session import small
from tui_trainer.experiments.recording import Recorder
from tui_trainer.experiments.runs import list_runs, read_metrics
from tui_trainer.experiments.session import Session
from tui_trainer.experiments import headless
from tui_trainer.engine.trainer import TrainResult
from tui_trainer.tui.app import NNTuiApp


def test_a_session_records_a_run_from_the_first_step_to_its_end(tmp_path):
    session = Session(small(epochs=3, batch_size=40), recorder=Recorder(tmp_path))
    session.set_pace(None)
    session.prepare_run()
    [run] = list_runs(tmp_path)
    assert run.status == "running" and run.meta["source"] == "app"
    session.set_lr(0.05)  # a live change: an event of the run
    session.run(lambda snap: None)
    assert session.state == "finished"
    session.reset_weights()  # the experiment ends: so does its run
    [run] = list_runs(tmp_path)
    assert run.status == "finished" and run.meta["checkpoint"] == "model.npz"
    metrics = read_metrics(run.path)
    assert [e["epoch"] for e in metrics.epochs] == [1, 2, 3]
    assert [(e["what"], e["value"]) for e in metrics.events] == [("lr", 0.05)]
    trainer = session.trainer  # the new experiment's: compare the summary's shape only
    assert run.summary["epochs"] == 3 and run.summary["lr"] == 0.05 and not run.summary["interrupted"]
    assert set(run.summary) == set(headless.summary(session.experiment, TrainResult(0, trainer.step_count, 0.0)))


def test_nothing_is_recorded_until_training_starts_and_a_reset_before_opens_none(tmp_path):
    session = Session(small(), recorder=Recorder(tmp_path))
    session.reset_weights()
    assert list_runs(tmp_path) == []


def test_a_runs_folder_that_cannot_be_written_stops_recording_not_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    session = Session(small(epochs=1), recorder=Recorder(blocker / "runs"))
    session.set_pace(None)
    session.prepare_run()
    assert "Runs are not recorded any more" in session.recorder.problem
    session.run(lambda snap: None)
    assert session.state == "finished"


def test_training_by_keys_then_quitting_leaves_an_interrupted_run_with_its_model(tmp_path):
    async def scenario():
        app = NNTuiApp(small(epochs=100000), runs_dir=tmp_path)
        async with app.run_test(size=(120, 36)) as pilot:
            session = app.training.session
            await pilot.press("space")
            for _ in range(500):
                if session.trainer.epoch >= 2:
                    break
                await pilot.pause(0.02)
            await pilot.press("plus")  # the learning rate, one notch up
            await pilot.press("q")
            for _ in range(200):
                if app.return_code is not None:
                    break
                await pilot.pause(0.02)
        [run] = list_runs(tmp_path)
        assert run.status == "interrupted"
        assert (run.path / "model.npz").is_file()
        events = [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines()]
        assert any(e["kind"] == "event" and e["what"] == "lr" for e in events)
        assert sum(e["kind"] == "epoch" for e in events) >= 2

    asyncio.run(scenario())


def test_a_run_stopped_early_is_finished_in_the_app_as_on_the_command_line(tmp_path):
    """One status rule for the app and ``nn-tui train``: an early stop ends a run finished."""
    from click.testing import CliRunner
    from tui_trainer.cli import main

    session = Session(small(epochs=300, patience=1, lr=0.5), recorder=Recorder(tmp_path / "app"))
    session.set_pace(None)
    session.prepare_run()
    session.run(lambda snap: None)
    assert session.trainer.early_stop is not None and session.trainer.epoch < 300
    session.end_run()
    [app_run] = list_runs(tmp_path / "app")
    result = CliRunner().invoke(main, ["train", "--dataset", "spiral", "--n-samples", "200", "--epochs", "300",
                                       "--patience", "1", "--lr", "0.5", "--runs-dir", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    [cli_run] = list_runs(tmp_path / "cli")
    assert cli_run.summary["stopped_early"] and app_run.summary["stopped_early"]
    assert app_run.status == cli_run.status == "finished"


def test_nn_tui_train_records_through_the_session_so_the_app_opens_its_run_with_its_history(tmp_path):
    """``nn-tui train`` is a caller of the app's ``Session``: its run's model holds what the app's
    runs hold (the loss history, the progress), so opening it in the app shows the curve."""
    from click.testing import CliRunner
    from tui_trainer.cli import main
    from tui_trainer.experiments.session import read_experiment

    result = CliRunner().invoke(main, ["train", "--dataset", "xor", "--epochs", "3", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [run] = list_runs(tmp_path)
    assert run.status == "finished" and run.meta["source"] == "nn-tui train"
    loaded = read_experiment(run.path / "model.npz")
    assert loaded.target_epochs == 3 and loaded.last_epoch is not None and loaded.last_epoch.epoch == 3
    assert loaded.losses is not None and len(loaded.losses) > 0 and loaded.val_losses is not None
    assert loaded.experiment.trainer.step_count == run.summary["steps"]
