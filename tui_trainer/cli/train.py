"""``nn-tui train``: the engine headless, with results as text or JSON, an output folder written
as a whole, Ctrl-C that keeps the progress, and exit statuses scripts can rely on."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import zipfile
from pathlib import Path

import click

from ..experiments.budget import BudgetError
from .budget import memory_budget_callback
from .common import (TakesSettings, UserError, friendly_errors, one_problem_one_line,
                     override_error, parse_features, parse_hidden,
                     parse_schedule, positive)
from ..experiments.runs import CHECKPOINT_SECONDS
from ..engine.text import visible
from .group import preset_config, main
from .lab import OptimizerOption

def _load_model(path: Path, data_path: Path | None = None):
    """``Experiment.load`` with every way a model file can be wrong told in one line naming it.

    A model in an output folder that a killed save left mid-update is read once that save is
    finished (``headless.recover_out_dir``), so it always comes with its own config and metrics.
    """
    from ..engine.checkpoint import CheckpointError
    from ..engine.datasets import DataError
    from ..experiments.experiment import Experiment

    if path.is_dir():
        inside = path / "model.npz"
        hint = f"; did you mean {inside}?" if inside.is_file() else ""
        raise UserError(f"{path}: is a folder, not a model file{hint}")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not an nn-tui model file (not a .npz archive)")
    if any(path.parent.glob(".nn-tui.*.commit")):
        from ..experiments.headless import recover_out_dir

        recover_out_dir(path.parent)
    try:
        return Experiment.load(path, data_path=data_path)
    except CheckpointError as exc:
        message = str(exc).replace(f": {path} (config): ", ": ")
        raise UserError(one_problem_one_line(message)) from None
    except DataError as exc:
        raise UserError(f"{exc} (needed to resume {path})") from None
    except BudgetError as exc:  # the model is fine; this machine's budget is not
        raise UserError(f"{path}: {exc}" if exc.problems else str(exc)) from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        reason = (str(exc) or type(exc).__name__).splitlines()[0][:120]
        raise UserError(f"{path}: corrupted model file ({reason})") from None


@main.command(cls=TakesSettings)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Experiment config (TOML).")
@click.option("--dataset", help="A built-in dataset (see `nn-tui datasets`).")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="A CSV file with a header row.")
@click.option("--target", help="The CSV column to predict (default: the last one).")
@click.option("--hidden", callback=parse_hidden, help="Hidden layer widths, e.g. 64,32 ('none' for no hidden layer).")
@click.option("--activation", help="Activation of every hidden layer (relu, tanh, sigmoid, leaky_relu, linear).")
@click.option("--optimizer", cls=OptimizerOption, help="One of: {names}.")
@click.option("--features", callback=parse_features,
              help="The network's inputs computed from x1, x2 (2-D data), e.g. x1sq,x2sq; "
                   "from: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2.")
@click.option("--schedule", callback=parse_schedule, metavar="NAME[:KEY=VALUE,...]",
              help="Learning-rate schedule, stepped each epoch: constant, step:step_size=N[,gamma=G], "
                   "exponential:gamma=G, cosine:T_max=N[,eta_min=E]; any takes warmup_epochs=N. "
                   "E.g. cosine:T_max=100,warmup_epochs=5; none for the lr as set.")
@click.option("--warmup-epochs", type=click.IntRange(min=0),
              help="Epochs of linear lr warmup (added to --schedule or the config's schedule).")
@click.option("--resume", "resume_path", type=click.Path(path_type=Path),
              help="Continue training a saved model: a model.npz, or a recorded run (its id, name or folder).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for config.toml, model.npz and metrics.csv.")
@click.option("--overwrite", is_flag=True, help="Allow --out to replace files that are already there.")
@click.option("--keep-diverged", is_flag=True, help="Write a diverged run to --out too (marked as diverged).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on the last line.")
@click.option("--preset", help="Start from a ready-made experiment (see `nn-tui presets`); other options override it.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where runs are recorded (default: NN_TUI_RUNS, else ./runs).")
@click.option("--no-record", is_flag=True, help="Do not record this run in the runs directory.")
@click.option("--name", help="A name for the recorded run (`nn-tui runs` shows it; --resume and compare accept it).")
@click.option("--checkpoint-every", type=float, callback=positive, default=CHECKPOINT_SECONDS, show_default=True,
              help="Seconds between checkpoints of the recorded run's model.npz while it trains.")
@click.option("--memory-budget", callback=memory_budget_callback, expose_value=False,
              help="Most memory an experiment may need, e.g. 4G (default: half of this machine's memory, or NN_TUI_MEMORY_BUDGET).")
@friendly_errors
def train(config_path, dataset, data_path, target, hidden, activation, optimizer, features, schedule,
          warmup_epochs, resume_path, out_dir, overwrite, keep_diverged, as_json, preset,
          runs_dir, no_record, name, checkpoint_every, **settings) -> None:
    """Train headless on the same engine as the app.

    Every run is recorded in the runs directory (`nn-tui runs` lists them) unless --no-record.

    Exit status: 0 trained, 1 bad input or a failure (one "Error:" line), 2 a bad option,
    3 diverged, 130 stopped by Ctrl-C (the progress so far is saved to --out and the run).
    """
    from ..experiments.config import ConfigError, load_config, with_overrides
    from ..engine.datasets import DataError
    from ..experiments.experiment import Experiment
    from ..experiments import headless
    from ..experiments.session import default_config
    from ..experiments.settings import SETTINGS  # ``settings``: their options (``TakesSettings``)

    # of the registered settings, the three a resumed run may change
    epochs, batch_size, lr = settings.pop("epochs"), settings.pop("batch_size"), settings.pop("lr")
    if name is not None and not no_record:  # as ``runs name`` would: one run to a name
        from ..experiments import runs as store
        from .runs import checked_run_name

        name = checked_run_name(name, store.runs_dir(runs_dir))
    if out_dir is not None:
        headless.prepare_out_dir(out_dir, overwrite)
    if resume_path is not None:
        fixed = dict(config=config_path, dataset=dataset, target=target, hidden=hidden,
                     activation=activation, optimizer=optimizer, preset=preset,
                     features=features,
                     **{SETTINGS[k].flag[2:]: v for k, v in settings.items()},
                     schedule=schedule, warmup_epochs=warmup_epochs)
        given = [f"--{k.replace('_', '-')}" for k, v in fixed.items() if v is not None]
        if given:
            raise UserError(f"{', '.join(given)} cannot change when resuming; only --epochs, --lr, "
                            "--batch-size and --data (for a model trained on a data file) can")
        resume_path = _resume_model(resume_path, runs_dir)
        exp = _load_model(resume_path, data_path)
        click.echo(f"resuming {visible(resume_path)} from epoch {exp.trainer.epoch} "
                   f"(step {exp.trainer.step_count})", err=True)
        if lr is not None:
            exp.opt.lr = lr
            if exp.trainer.schedule is not None:
                exp.trainer.base_lr = lr  # the schedule goes on, scaled to the new lr
        if batch_size is not None:
            try:
                exp.config = with_overrides(exp.config, source=str(resume_path), batch_size=batch_size)
            except ConfigError as exc:
                raise override_error(exc, {"batch_size": batch_size}) from None
            exp.trainer.set_batch_size(batch_size)
        target_epochs = exp.trainer.epoch + (epochs or exp.config.training.epochs)
    else:
        if preset is not None:
            cfg = preset_config(preset, config_path)
        else:
            cfg = load_config(config_path) if config_path is not None else default_config()
        overrides = dict(dataset=dataset, path=str(data_path) if data_path else None, target=target,
                         hidden=hidden, activation=activation, optimizer=optimizer, lr=lr,
                         batch_size=batch_size, epochs=epochs,
                         features=features, **settings,
                         schedule=_with_warmup(schedule if schedule is not None else cfg.optimizer.schedule,
                                               warmup_epochs))
        given = {k: v for k, v in overrides.items() if v is not None}
        source = "command line" if config_path is None else f"{config_path} with the command-line options"
        if preset is not None:
            source = f"preset {preset} with the command-line options"
        try:
            cfg = with_overrides(cfg, source=source, **given)
        except ConfigError as exc:
            raise override_error(exc, given) from None
        try:
            exp = Experiment.from_config(cfg)
        except BudgetError as exc:  # told in terms of the option that set the key, if one did
            if not exc.problems:  # the budget setting itself is wrong
                raise UserError(str(exc)) from None
            exc.source = source
            raise override_error(exc, given) from None
        except DataError as exc:
            if config_path is None or data_path is not None or cfg.data.path is None:
                raise
            raise UserError(f"{exc} (the [data] path of {config_path})") from None
        except ValueError as exc:  # e.g. a loss that does not fit the data: name where it came from
            raise UserError(f"{source}: {exc}") from None
        target_epochs = cfg.training.epochs
    # The config keeps the lr as set: with a schedule the optimizer's lr is the scheduled one.
    config_lr = exp.opt.lr if exp.trainer.schedule is None else exp.trainer.base_lr or exp.config.optimizer.lr
    try:
        exp.config = with_overrides(exp.config, source=str(resume_path or "command line"),
                                    lr=config_lr, epochs=target_epochs)
    except ConfigError as exc:  # values from a model file: name it and the key
        raise override_error(exc, {}) from None

    # The app's controller trains here too: its recorder, its run-status and checkpoint rules, its
    # loop (at full pace, on this thread, every epoch record kept for metrics.csv).
    from ..experiments.session import Session

    recorder = None if no_record else _recorder(exp, runs_dir, name=name, every=checkpoint_every,
                                                resumed=resume_path, out=out_dir)
    session = Session(experiment=exp, recorder=recorder, source=_source(resume_path), history_limit=None)
    session.set_pace(None)
    ending: dict = {}  # how the run ends, once known (an error before: interrupted)
    with CtrlC(session) as ctrl_c, _closing(session, ending):
        session.prepare_run()
        _run_with_progress(session, show=sys.stderr.isatty() and not as_json)
        result = session.result
        interrupted = ctrl_c.pressed and result.epochs < target_epochs and not result.diverged
        if interrupted:
            saving = f"; saving the progress to {out_dir} (Ctrl-C again quits at once)" if out_dir else ""
            click.echo(f"interrupted after epoch {result.epochs} (step {result.steps}){saving}", err=True)
        report = headless.summary(exp, result, interrupted=interrupted)
        ending.update(interrupted=interrupted or ctrl_c.pressed, report=report)
        if out_dir is not None and result.diverged and not keep_diverged:
            click.echo(f"nothing written to {out_dir}: training diverged "
                       "(add --keep-diverged to write it anyway)", err=True)
            out_dir = None  # a diverged model must not replace what the folder holds unless asked
        if out_dir is not None:
            status = "diverged" if result.diverged else "interrupted" if interrupted else "complete"
            progress = {"status": status, "planned_epochs": target_epochs}
            if result.stopped_early:
                progress["early_stop"] = str(result.early_stop)
            if result.diverged:
                progress["divergence"] = str(result.divergence)
            headless.write_outputs(out_dir, exp, progress=progress)
        _end_run(session, ending)
        if as_json:
            click.echo(json.dumps(report))
        else:
            _print_report(report, out_dir)
    if result.diverged:
        sys.exit(3)
    if ctrl_c.pressed:
        sys.exit(130)


def _with_warmup(schedule: dict | None, warmup_epochs: int | None) -> dict | None:
    """``schedule`` with ``--warmup-epochs`` in it (a warmup alone: the constant schedule's)."""
    if warmup_epochs is None:
        return schedule
    return {**(schedule or {"name": "constant"}), "warmup_epochs": warmup_epochs}


class CtrlC:
    """Ctrl-C while training: the first stops the trainer after its current step (the caller then
    saves what it has); a second one quits at once, with status 130.

    Installed only in the main thread and where SIGINT is not ignored (a background job).
    """

    def __init__(self, session) -> None:
        self.session = session
        self.pressed = False
        self._previous = None

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._first)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _first(self, signum, frame) -> None:
        self.pressed = True
        self.session.stop()
        signal.signal(signal.SIGINT, self._again)

    @staticmethod
    def _again(signum, frame) -> None:
        os.write(2, b"\ninterrupted again: quitting at once\n")
        os._exit(130)


class _closing:
    """Ends the recorded run when the command ends, however it ends (an error on the way, e.g.
    writing --out: the run keeps its end, as interrupted unless its end was known)."""

    def __init__(self, session, ending: dict) -> None:
        self.session, self.ending = session, ending

    def __enter__(self) -> "_closing":
        return self

    def __exit__(self, *exc_info) -> None:
        _end_run(self.session, self.ending)


def _end_run(session, ending: dict) -> None:
    """The session's run, if one is open, ends (``Session.end_run``: its last checkpoint, status
    and summary); what could not be written is said by the recorder (a warning)."""
    recorder = session.recorder
    if recorder is None or recorder.writer is None:
        return
    session.end_run(interrupted=ending.get("interrupted", True), report=ending.get("report"))


def _source(resumed) -> str:
    """This training as the run store names who trained it."""
    return "nn-tui train" + (f" --resume {resumed}" if resumed is not None else "")


def _resume_model(ref: Path, runs_dir) -> Path:
    """The model file ``--resume`` names: a file as given; a run's folder, id or name: its
    model.npz (a folder that is not a run, or a missing file, is left to ``_load_model``)."""
    from ..experiments import runs

    if ref.is_file() or ref.suffix or (len(ref.parts) > 1 and not (ref / "run.json").is_file()):
        return ref
    try:  # a bare name is a run's, looked up in the store (``find_run``), not a folder here
        run = runs.find_run(runs.runs_dir(runs_dir), str(ref))
    except ValueError as exc:
        if ref.is_dir():
            return ref  # not a run's name: the folder given, which ``_load_model`` explains
        raise UserError(f"--resume {visible(ref)}: {exc}") from None
    if run.problem is not None:
        raise UserError(f"--resume {visible(ref)}: {visible(run.problem)}")
    model = run.path / "model.npz"
    if not model.is_file():
        why = ("is not a regular file (a pipe, a device, a folder or a broken link)" if os.path.lexists(model)
               else "does not exist")
        raise UserError(f"--resume {visible(ref)}: run {visible(run.id)} has no checkpoint ({visible(model)} {why})")
    return model


def _recorder(exp, runs_dir, *, name, every: float, resumed, out):
    """The run store's ``Recorder`` (the app's too) with this training's run open, its id said."""
    from ..experiments import runs
    from ..experiments.recording import Recorder

    root = runs.runs_dir(runs_dir)
    recorder = Recorder(root, every=every, strict=True,
                        on_problem=lambda problem: click.echo(f"warning: {problem}", err=True))
    notes = {}
    if out is not None:
        notes["out"] = str(out)
    if resumed is not None:
        notes["resumed_from"] = str(resumed)
    try:
        recorder.begin(exp, _source(resumed), name=name, **notes)
    except OSError as exc:
        raise UserError(f"--runs-dir {root}: cannot record the run there ({exc.strerror or exc}); "
                        "choose another or add --no-record") from None
    shown = str(root).rstrip("/") + "/"
    click.echo(f"run {recorder.run_id} in {shown}", err=True)
    return recorder


def _run_with_progress(session, show: bool) -> None:
    """Train (``Session.run``); on a terminal, with a progress bar that shows the latest cost (a
    ``stop()`` already asked ends the run at once)."""
    if not show:
        session.run(None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[status]}"), TimeRemainingColumn())
    with Progress(*columns, transient=False, console=Console(stderr=True)) as progress:
        task = progress.add_task("train", total=session.target_epochs, completed=session.trainer.epoch, status="")

        def emit(snap) -> None:
            status = "" if snap.train_loss is None else f"cost {snap.train_loss:.4g}"
            if snap.val_loss is not None and snap.val_metric is not None:
                status += f"  val loss {snap.val_loss:.4g}  val {snap.metric_name} {snap.val_metric:.4f}"
            progress.update(task, completed=snap.epoch, status=status)

        session.run(emit)


def _print_report(report: dict, out_dir) -> None:
    width = max(len(k) for k in report)
    for key, value in report.items():
        shown = f"{value:.6g}" if isinstance(value, float) else visible(value)  # a CSV's name, its labels
        click.echo(f"{key:<{width}}  {shown}")
    if out_dir is not None:
        note = " (a diverged run, as --keep-diverged asked)" if report["diverged"] else ""
        note = note or (" (interrupted: the progress so far)" if report["interrupted"] else "")
        click.echo(f"wrote {visible(out_dir)}/config.toml, model.npz and metrics.csv{note}")


