"""The ``nn-tui`` command: opens the app, or runs the engine headless through subcommands.

Every known kind of bad input (data, config, model file, option) ends in one ``Error:`` line
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import math
import re
import signal
import sys
import threading
import zipfile
from pathlib import Path

import click

from .budget import MAX_BATCH_SIZE, BudgetError, memory_budget_callback


class UserError(click.ClickException):
    """A problem with what the user gave us, shown as one ``Error: ...`` message."""


def friendly_errors(fn):
    """Turn every failure into one ``Error:`` line and a non-zero exit status, never a traceback.

    The engine's ValueErrors and file errors are the user's to fix; memory, nesting and number
    overflow are told as such; anything else, as a last resort, is an unexpected error to report.
    Ctrl-C outside training (which handles its own) exits with 130, as shells expect.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (ValueError, OSError) as exc:
            raise UserError(_one_problem_one_line(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
            raise UserError(_unexpected(exc)) from None

    return wrapper


def _unexpected(exc: Exception) -> str:
    """One line for an exception no handler expected."""
    from .files import describe_error

    reason = describe_error(exc)
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    if isinstance(exc, MemoryError):
        return f"{reason} ({detail})" if detail else reason
    if isinstance(exc, RecursionError):
        return reason
    if isinstance(exc, OverflowError):
        return f"a number is too large: {reason}"
    name = type(exc).__name__
    return f"unexpected {name}: {reason}; please report it" if detail else f"unexpected {name}; please report it"


def _one_problem_one_line(message: str) -> str:
    """``cfg.toml: 1 problem:\n  [training] epochs = 0: ...`` -> ``cfg.toml: [training] epochs = 0: ...``.

    A config with several problems keeps its summary line with one line per problem below it.
    """
    return re.sub(r": 1 problem:\n\s*", ": ", message)


class OneLineUsageErrors(click.Command):
    """A command whose bad options are reported as one ``Error: ...`` line, without the usage text."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None  # UsageError.show() prints the usage and a hint only when it has a context
            raise


def parse_hidden(ctx, param, value: str | None) -> list[int] | None:
    """``64,32`` -> [64, 32]; ``""`` or ``none`` -> [] (no hidden layer)."""
    if value is None:
        return None
    if value.strip().lower() in ("", "none"):
        return []
    try:
        widths = [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 64,32, got {value!r}")
    if any(w < 1 for w in widths):
        raise click.BadParameter(f"layer widths must be at least 1, got {value!r}")
    return widths


def parse_batch_size(ctx, param, value: str | None) -> int | str | None:
    """An integer >= 1 or ``full``."""
    if value is None or value == "full":
        return value
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise click.BadParameter(f"expected an integer >= 1 or 'full', got {value!r}")
    if size > MAX_BATCH_SIZE:
        raise click.BadParameter(f"at most {MAX_BATCH_SIZE:,} (or 'full'), got {value!r}")
    return size


def positive(ctx, param, value):
    """Reject zero and negative numbers with a message naming the option."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number, got {value}")
    if value is not None and not value > 0:
        raise click.BadParameter(f"must be greater than 0, got {value}")
    return value


# Override key of ``with_overrides``: (config section, config key, the option that sets it).
_OPTION_FIELDS = {
    "dataset": ("data", "dataset", "--dataset"),
    "path": ("data", "path", "--data"),
    "target": ("data", "target", "--target"),
    "val_split": ("data", "val_split", "--val-split"),
    "hidden": ("network", "hidden", "--hidden"),
    "activation": ("network", "activation", "--activation"),
    "optimizer": ("optimizer", "name", "--optimizer"),
    "lr": ("optimizer", "lr", "--lr"),
    "batch_size": ("training", "batch_size", "--batch-size"),
    "epochs": ("training", "epochs", "--epochs"),
    "seed": ("training", "seed", "--seed"),
}


def _override_error(exc, given: dict) -> UserError:
    """A ``ConfigError`` from the command-line overrides, told in terms of the options given."""

    def text(problem) -> str:
        for key, (section, field, option) in _OPTION_FIELDS.items():
            if key in given and problem.section == section and problem.field_name == field:
                value = repr(problem.value) if isinstance(problem.value, str) else problem.value
                return f"{option} {value}: {problem.message}"
        return str(problem)

    lines = [text(p) for p in exc.problems]
    if len(lines) == 1:
        only = lines[0]
        return UserError(only if only.startswith("--") else f"{exc.source}: {only}")
    return UserError(f"{exc.source}: {len(lines)} problems:" + "".join(f"\n  {line}" for line in lines))


def _load_model(path: Path, data_path: Path | None = None):
    """``Experiment.load`` with every way a model file can be wrong told in one line naming it.

    A model in an output folder that a killed save left mid-update is read once that save is
    finished (``headless.recover_out_dir``), so it always comes with its own config and metrics.
    """
    from .engine.checkpoint import CheckpointError
    from .engine.datasets import DataError
    from .experiment import Experiment

    if path.is_dir():
        inside = path / "model.npz"
        hint = f"; did you mean {inside}?" if inside.is_file() else ""
        raise UserError(f"{path}: is a folder, not a model file{hint}")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise UserError(f"{path}: not an nn-tui model file (not a .npz archive)")
    if any(path.parent.glob(".nn-tui.*.commit")):
        from .headless import recover_out_dir

        recover_out_dir(path.parent)
    try:
        return Experiment.load(path, data_path=data_path)
    except CheckpointError as exc:
        message = str(exc).replace(f": {path} (config): ", ": ")
        raise UserError(_one_problem_one_line(message)) from None
    except DataError as exc:
        raise UserError(f"{exc} (needed to resume {path})") from None
    except BudgetError as exc:  # the model is fine; this machine's budget is not
        raise UserError(f"{path}: {exc}" if exc.problems else str(exc)) from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        reason = (str(exc) or type(exc).__name__).splitlines()[0][:120]
        raise UserError(f"{path}: corrupted model file ({reason})") from None


COLOR_SYSTEMS = {"truecolor": "truecolor", "256": "256", "16": "standard"}


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Open this experiment config (TOML).")
@click.option("--dataset", help="Start on this built-in dataset (see `nn-tui datasets`).")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="Start on a CSV file with a header row.")
@click.option("--target", help="The CSV column to predict (default: the last one).")
@click.option("--colors", type=click.Choice(["auto", "truecolor", "256", "16", "none"]), default="auto",
              show_default=True, help="Colours to use; over SSH try 256 or 16.")
@click.option("--preset", help="Start on a ready-made experiment (see `nn-tui presets`).")
@click.option("--memory-budget", callback=memory_budget_callback, expose_value=False,
              help="Most memory an experiment may need, e.g. 4G (default: half of this machine's memory, or NN_TUI_MEMORY_BUDGET).")
@click.version_option(package_name="nn-tui")
@click.pass_context
@friendly_errors
def main(ctx: click.Context, config_path, dataset, data_path, target, colors, preset) -> None:
    """Build and train neural networks in the terminal and see how they learn.

    Without a command, opens the app on a ready experiment (a spiral and a small network):
    press space to train.
    """
    if ctx.invoked_subcommand is not None:
        return
    config = _app_config(config_path, dataset, data_path, target, preset)
    if colors == "none":
        os.environ["NO_COLOR"] = "1"
    elif colors != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = COLOR_SYSTEMS[colors]
    from .tui.app import NNTuiApp  # imported here: after the colour settings, and never for headless commands

    app = NNTuiApp(config)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)  # the app ended on an error: say so to the shell


def _preset_config(preset: str, config_path):
    """The config of ``--preset`` (one ``Error:`` line naming the presets for an unknown one)."""
    from .presets import get_preset

    if config_path is not None:
        raise UserError("give --config or --preset, not both")
    try:
        return get_preset(preset)
    except ValueError as exc:
        raise UserError(f"--preset: {exc}") from None


def _app_config(config_path, dataset, data_path, target, preset=None):
    """The experiment the app opens: the default one (or a preset), changed by the options given."""
    from .config import load_config, with_overrides
    from .experiment import Experiment
    from .session import default_config

    if preset is not None:
        config = _preset_config(preset, config_path)
    else:
        config = load_config(config_path) if config_path is not None else default_config()
    overrides = dict(dataset=dataset, path=str(data_path) if data_path else None, target=target)
    config = with_overrides(config, **{k: v for k, v in overrides.items() if v is not None})
    Experiment.from_config(config)  # fail here, with a clear message, rather than inside the app
    return config


@main.command(cls=OneLineUsageErrors)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Experiment config (TOML).")
@click.option("--dataset", help="A built-in dataset (see `nn-tui datasets`).")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="A CSV file with a header row.")
@click.option("--target", help="The CSV column to predict (default: the last one).")
@click.option("--hidden", callback=parse_hidden, help="Hidden layer widths, e.g. 64,32 ('none' for no hidden layer).")
@click.option("--activation", help="Activation of every hidden layer (relu, tanh, sigmoid, leaky_relu, linear).")
@click.option("--optimizer", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw or adamp.")
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
    from .config import ConfigError, load_config, with_overrides
    from .engine.datasets import DataError
    from .experiment import Experiment
    from . import headless
    from .session import default_config

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
                raise _override_error(exc, {"batch_size": batch_size}) from None
            exp.trainer.set_batch_size(batch_size)
        target_epochs = exp.trainer.epoch + (epochs or exp.config.training.epochs)
    else:
        if preset is not None:
            cfg = _preset_config(preset, config_path)
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
            raise _override_error(exc, given) from None
        try:
            exp = Experiment.from_config(cfg)
        except BudgetError as exc:  # told in terms of the option that set the key, if one did
            if not exc.problems:  # the budget setting itself is wrong
                raise UserError(str(exc)) from None
            exc.source = source
            raise _override_error(exc, given) from None
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
        raise _override_error(exc, {}) from None

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


@main.command(cls=OneLineUsageErrors)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@friendly_errors
def datasets(as_json: bool) -> None:
    """List the built-in datasets with their shapes and problem types."""
    from .engine.datasets import DATASETS, load_dataset

    rows = []
    for name, info in DATASETS.items():
        ds = load_dataset(name)
        rows.append({
            "name": name,
            "kind": info.kind,
            "problem": ds.problem,
            "samples": int(ds.X.shape[0]),
            "features": int(ds.X.shape[1]),
            "classes": ds.num_classes,
            "description": info.description,
        })
    if as_json:
        click.echo(json.dumps(rows))
        return
    click.echo(f"{'name':<16}{'kind':<11}{'problem':<12}{'shape':>10}  {'classes':>7}  description")
    for r in rows:
        shape = f"{r['samples']}x{r['features']}"
        classes = r["classes"] or "-"
        click.echo(f"{r['name']:<16}{r['kind']:<11}{r['problem']:<12}{shape:>10}  {classes:>7}  {r['description']}")


@main.command(cls=OneLineUsageErrors)
@friendly_errors
def presets() -> None:
    """List the ready-made experiments (open one with `nn-tui --preset NAME`)."""
    from .presets import PRESETS

    width = max(len(name) for name in PRESETS)
    for name, preset in PRESETS.items():
        click.echo(f"{name:<{width}}  {preset.description}")


@main.command(cls=OneLineUsageErrors)
def info() -> None:
    """Show the version and what computes: the CPU, NumPy, its BLAS library and threads (no GPU)."""
    from importlib.metadata import PackageNotFoundError, version

    from .compute import describe_compute

    try:
        click.echo(f"nn-tui {version('nn-tui')}")
    except PackageNotFoundError:  # run from a source tree that is not installed
        click.echo("nn-tui (not installed)")
    click.echo(describe_compute())


# The optimizer lab (compare, sweep, surface): lab_commands adds its commands to `main`.
from . import lab_commands  # noqa: E402,F401
