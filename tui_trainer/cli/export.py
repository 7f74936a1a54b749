"""``nn-tui runs export``: recorded runs as TensorBoard event files (``nn-tui[tensorboard]``) or CSV."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from ..engine.text import visible
from ..experiments import export as exporting
from ..experiments import runs as store
from .common import OneLineUsageErrors, UserError, friendly_errors
from .runs import RUNS_DIR_HELP, _find, _root, runs


@runs.command("export", cls=OneLineUsageErrors)
@click.argument("refs", nargs=-1, metavar="ID|NAME...")
@click.option("--all", "every", is_flag=True, help="Export every run, each under its own name.")
@click.option("--tensorboard", "tb_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write TensorBoard event files here, a folder per run (needs tensorboardX: the tensorboard extra).")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path),
              help="Write one row per epoch: to this file (- for the terminal), or for several runs, "
                   "a file per run in this folder.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.pass_context
@friendly_errors
def export(ctx: click.Context, refs, every, tb_dir, csv_path, runs_dir) -> None:
    """Write runs out for TensorBoard (`--tensorboard DIR`, then `tensorboard --logdir DIR`)
    or for a spreadsheet (`--csv FILE`).

    TensorBoard gets the train loss per step, the validation loss, the metric (accuracy or R2)
    and the lr per epoch, the changes made while training as text, and the settings as hparams.
    """
    if tb_dir is None and csv_path is None:
        raise UserError("say where to: --tensorboard DIR and/or --csv FILE")
    if every == bool(refs):
        raise UserError("give the runs to export (ID or NAME), or --all")
    if tb_dir is not None:
        try:
            exporting.tensorboard_writer()
        except ImportError as exc:
            raise UserError(str(exc)) from None
    root = _root(ctx, runs_dir)
    chosen = store.list_runs(root) if every else []
    for ref in refs:
        run = _find(root, ref)
        if getattr(run, "problem", None):
            raise UserError(visible(run.problem))
        if all(os.path.realpath(run.path) != os.path.realpath(c.path) for c in chosen):
            chosen.append(run)
    if not chosen:
        raise UserError(f"no runs in {visible(root)} yet: nn-tui train records one")
    names: dict[str, str] = {}
    for run in chosen:
        names[run.id] = exporting.folder_name(run, set(names.values()))
    many = len(chosen) > 1
    to_terminal = csv_path is not None and str(csv_path) == "-"
    if to_terminal and many:
        raise UserError("--csv -: one run at a time (give a folder for several)")
    say = (lambda text: click.echo(text, err=True)) if to_terminal else click.echo
    as_text = exporting.mixed_settings(chosen)
    for run in chosen:
        if getattr(run, "problem", None):  # a run the store cannot read (listed by --all): said, passed over
            say(f"run {visible(run.id)}: not exported: {visible(run.problem)}")
            continue
        try:
            exporting.metric_name(run)  # its records readable, before anything is written
        except ValueError as exc:
            if not many:
                raise UserError(visible(exc)) from None
            say(f"run {visible(run.id)}: not exported: {visible(exc)}")
            continue
        done = []
        if tb_dir is not None:
            counts = exporting.write_tensorboard(run, tb_dir / names[run.id], as_text)
            epochs = max([counts.get(f"epoch/{t}", 0) for t in ("train_loss", "val_loss", "lr")])
            done.append(f"{visible(tb_dir / names[run.id])}/ ({_count(epochs, 'epoch')}, "
                        f"{_count(counts.get('step/train_loss', 0), 'step loss', 'step losses')}, "
                        f"{_count(counts.get('events', 0), 'live change')})")
        if csv_path is not None:
            if to_terminal:
                rows = exporting.write_csv(run, sys.stdout)
                done.append(f"the terminal ({_count(rows, 'row')})")
            else:
                target = csv_path / f"{names[run.id]}.csv" if many else csv_path
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "w", encoding="utf-8", newline="") as f:
                    rows = exporting.write_csv(run, f)
                done.append(f"{visible(target)} ({_count(rows, 'row')})")
        say(f"run {visible(run.id)} -> " + ", ".join(done))
    if tb_dir is not None:
        say(f"open it: tensorboard --logdir {visible(shlex.quote(str(tb_dir)))}")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"
