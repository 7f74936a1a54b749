"""The ``nn-tui`` command: opens the app, or runs the engine headless through subcommands.

Every known kind of bad input (data, config, model file, option) ends in one ``Error:`` line
and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click


class UserError(click.ClickException):
    """A problem with what the user gave us, shown as one ``Error: ...`` message."""


def friendly_errors(fn):
    """Turn the engine's ValueErrors and file errors into ``UserError``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise
        except (ValueError, OSError) as exc:
            raise UserError(str(exc)) from None

    return wrapper


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
    return size


def positive(ctx, param, value):
    """Reject zero and negative numbers with a message naming the option."""
    if value is not None and not value > 0:
        raise click.BadParameter(f"must be greater than 0, got {value}")
    return value


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nn-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Build and train neural networks in the terminal and see how they learn.

    Without a command, opens the app.
    """
    if ctx.invoked_subcommand is None:
        from .tui.app import NNTuiApp  # imported here so that headless commands never load Textual

        NNTuiApp().run()


@main.command()
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
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on the last line.")
@friendly_errors
def train(config_path, dataset, data_path, target, hidden, activation, optimizer, lr, batch_size,
          epochs, seed, val_split, resume_path, out_dir, overwrite, as_json) -> None:
    """Train headless on the same engine as the app."""
    from .config import ExperimentConfig, load_config, with_overrides
    from .experiment import Experiment
    from .headless import check_out_dir, summary, write_outputs

    if out_dir is not None:
        check_out_dir(out_dir, overwrite)
    if resume_path is not None:
        fixed = dict(config=config_path, dataset=dataset, data=data_path, target=target, hidden=hidden,
                     activation=activation, optimizer=optimizer, seed=seed, val_split=val_split)
        given = [f"--{k.replace('_', '-')}" for k, v in fixed.items() if v is not None]
        if given:
            raise UserError(f"{', '.join(given)} cannot change when resuming; only --epochs, --lr and --batch-size can")
        exp = Experiment.load(resume_path)
        if lr is not None:
            exp.opt.lr = lr
        if batch_size is not None:
            exp.trainer.set_batch_size(batch_size)
            exp.config = with_overrides(exp.config, batch_size=batch_size)
        target_epochs = exp.trainer.epoch + (epochs or exp.config.training.epochs)
    else:
        cfg = load_config(config_path) if config_path is not None else ExperimentConfig()
        overrides = dict(dataset=dataset, path=str(data_path) if data_path else None, target=target,
                         hidden=hidden, activation=activation, optimizer=optimizer, lr=lr,
                         batch_size=batch_size, epochs=epochs, seed=seed, val_split=val_split)
        cfg = with_overrides(cfg, **{k: v for k, v in overrides.items() if v is not None})
        exp = Experiment.from_config(cfg)
        target_epochs = cfg.training.epochs
    exp.config = with_overrides(exp.config, lr=exp.opt.lr, epochs=target_epochs)

    result = _run_with_progress(exp, target_epochs, show=sys.stderr.isatty() and not as_json)
    report = summary(exp, result)
    if out_dir is not None:
        write_outputs(out_dir, exp)
    if as_json:
        click.echo(json.dumps(report))
    else:
        _print_report(report, out_dir)
    if result.diverged:
        sys.exit(3)


def _run_with_progress(exp, target_epochs: int, show: bool):
    """Train; on a terminal, with a progress bar that shows the latest cost."""
    if not show:
        return exp.trainer.run(target_epochs)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[status]}"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as progress:
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
        click.echo(f"wrote {out_dir}/config.toml, model.npz and metrics.csv")


@main.command()
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
