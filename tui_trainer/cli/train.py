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

from ..experiments.budget import BudgetError, memory_budget_callback
from .common import (OneLineUsageErrors, UserError, friendly_errors, one_problem_one_line, override_error,
                     parse_batch_size, parse_hidden, positive)
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


@main.command(cls=OneLineUsageErrors)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Experiment config (TOML).")
@click.option("--dataset", help="A built-in dataset (see `nn-tui datasets`).")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="A CSV file with a header row.")
@click.option("--target", help="The CSV column to predict (default: the last one).")
@click.option("--hidden", callback=parse_hidden, help="Hidden layer widths, e.g. 64,32 ('none' for no hidden layer).")
@click.option("--activation", help="Activation of every hidden layer (relu, tanh, sigmoid, leaky_relu, linear).")
@click.option("--optimizer", cls=OptimizerOption, help="One of: {names}.")
@click.option("--lr", type=float, callback=positive, help="Learning rate.")
@click.option("--batch-size", callback=parse_batch_size, help="Samples per update: an integer, or 'full' for batch gradient descent.")
@click.option("--epochs", type=int, callback=positive, help="Epochs to train (more epochs with --resume).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for the data, the weights and the batches.")
@click.option("--val-split", type=float, help="Fraction of the data held out for validation, in [0, 1).")
@click.option("--resume", "resume_path", type=click.Path(path_type=Path), help="Continue training a saved model (model.npz).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for config.toml, model.npz and metrics.csv.")
@click.option("--overwrite", is_flag=True, help="Allow --out to replace files that are already there.")
@click.option("--keep-diverged", is_flag=True, help="Write a diverged run to --out too (marked as diverged).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on the last line.")
@click.option("--preset", help="Start from a ready-made experiment (see `nn-tui presets`); other options override it.")
@click.option("--memory-budget", callback=memory_budget_callback, expose_value=False,
              help="Most memory an experiment may need, e.g. 4G (default: half of this machine's memory, or NN_TUI_MEMORY_BUDGET).")
@friendly_errors
def train(config_path, dataset, data_path, target, hidden, activation, optimizer, lr, batch_size,
          epochs, seed, val_split, resume_path, out_dir, overwrite, keep_diverged, as_json, preset) -> None:
    """Train headless on the same engine as the app.

    Exit status: 0 trained, 1 bad input or a failure (one "Error:" line), 2 a bad option,
    3 diverged, 130 stopped by Ctrl-C (the progress so far is saved to --out).
    """
    from ..experiments.config import ConfigError, load_config, with_overrides
    from ..engine.datasets import DataError
    from ..experiments.experiment import Experiment
    from ..experiments import headless
    from ..experiments.session import default_config

    if out_dir is not None:
        headless.prepare_out_dir(out_dir, overwrite)
    if resume_path is not None:
        fixed = dict(config=config_path, dataset=dataset, target=target, hidden=hidden,
                     activation=activation, optimizer=optimizer, seed=seed, val_split=val_split, preset=preset)
        given = [f"--{k.replace('_', '-')}" for k, v in fixed.items() if v is not None]
        if given:
            raise UserError(f"{', '.join(given)} cannot change when resuming; only --epochs, --lr, "
                            "--batch-size and --data (for a model trained on a data file) can")
        exp = _load_model(resume_path, data_path)
        if lr is not None:
            exp.opt.lr = lr
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
                         batch_size=batch_size, epochs=epochs, seed=seed, val_split=val_split)
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
    try:
        exp.config = with_overrides(exp.config, source=str(resume_path or "command line"),
                                    lr=exp.opt.lr, epochs=target_epochs)
    except ConfigError as exc:  # values from a model file: name it and the key
        raise override_error(exc, {}) from None

    with CtrlC(exp.trainer) as ctrl_c:
        result = _run_with_progress(exp, target_epochs, show=sys.stderr.isatty() and not as_json,
                                    cancelled=lambda: ctrl_c.pressed)
        interrupted = ctrl_c.pressed and result.epochs < target_epochs and not result.diverged
        if interrupted:
            saving = f"; saving the progress to {out_dir} (Ctrl-C again quits at once)" if out_dir else ""
            click.echo(f"interrupted after epoch {result.epochs} (step {result.steps}){saving}", err=True)
        report = headless.summary(exp, result, interrupted=interrupted)
        if out_dir is not None and result.diverged and not keep_diverged:
            click.echo(f"nothing written to {out_dir}: training diverged "
                       "(add --keep-diverged to write it anyway)", err=True)
            out_dir = None  # a diverged model must not replace what the folder holds unless asked
        if out_dir is not None:
            status = "diverged" if result.diverged else "interrupted" if interrupted else "complete"
            progress = {"status": status, "planned_epochs": target_epochs}
            if result.diverged:
                progress["divergence"] = str(result.divergence)
            headless.write_outputs(out_dir, exp, progress=progress)
        if as_json:
            click.echo(json.dumps(report))
        else:
            _print_report(report, out_dir)
    if result.diverged:
        sys.exit(3)
    if ctrl_c.pressed:
        sys.exit(130)


class CtrlC:
    """Ctrl-C while training: the first stops the trainer after its current step (the caller then
    saves what it has); a second one quits at once, with status 130.

    Installed only in the main thread and where SIGINT is not ignored (a background job).
    """

    def __init__(self, trainer) -> None:
        self.trainer = trainer
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
        self.trainer.stop()
        signal.signal(signal.SIGINT, self._again)

    @staticmethod
    def _again(signum, frame) -> None:
        os.write(2, b"\ninterrupted again: quitting at once\n")
        os._exit(130)


def _run_with_progress(exp, target_epochs: int, show: bool, cancelled=lambda: False):
    """Train; on a terminal, with a progress bar that shows the latest cost.

    ``cancelled()`` true just before training starts: no training (``Trainer.run`` forgets a
    ``stop()`` made before it starts).
    """
    if cancelled():
        return exp.trainer.run(exp.trainer.epoch)
    if not show:
        return exp.trainer.run(target_epochs)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[status]}"), TimeRemainingColumn())
    with Progress(*columns, transient=False, console=Console(stderr=True)) as progress:
        task = progress.add_task("train", total=target_epochs, completed=exp.trainer.epoch, status="")

        def on_epoch(rec):
            status = f"cost {rec.train_loss:.4g}"
            if rec.val_loss is not None:
                status += f"  val loss {rec.val_loss:.4g}  val {rec.metric_name} {rec.val_metric:.4f}"
            progress.update(task, completed=rec.epoch, status=status)

        exp.trainer.on_epoch = on_epoch
        try:
            return exp.trainer.run(target_epochs)
        finally:
            exp.trainer.on_epoch = None


def _print_report(report: dict, out_dir) -> None:
    width = max(len(k) for k in report)
    for key, value in report.items():
        shown = f"{value:.6g}" if isinstance(value, float) else value
        click.echo(f"{key:<{width}}  {shown}")
    if out_dir is not None:
        note = " (a diverged run, as --keep-diverged asked)" if report["diverged"] else ""
        note = note or (" (interrupted: the progress so far)" if report["interrupted"] else "")
        click.echo(f"wrote {out_dir}/config.toml, model.npz and metrics.csv{note}")


