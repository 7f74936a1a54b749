"""``nn-tui learn``: the course (``experiments.lessons``) in the app, listed, or checked headless."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..engine.text import visible
from .common import OneLineUsageErrors, OneLineUsageGroup, UserError, friendly_errors
from .group import main


class BadInput(UserError):
    """A lesson, preset or config that cannot be used: exit status 2, as for a bad option, since 1
    means that the lesson's check did not pass."""

    exit_code = 2


@main.group("learn", cls=OneLineUsageGroup, invoke_without_command=True)
@click.option("--list", "list_lessons", is_flag=True, help="List the lessons in course order instead of opening the app.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print them as one JSON object on the last line.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the app records and lists runs (default: NN_TUI_RUNS, else ./runs).")
@click.option("--no-record", is_flag=True, help="Do not record the app's training as runs.")
@click.pass_context
@friendly_errors
def learn(ctx: click.Context, list_lessons: bool, as_json: bool, runs_dir, no_record) -> None:
    """The course: lessons in order, each with a ready experiment and a task checked by measuring.

    Without a subcommand, opens the app at the lesson list (L in the app). `check ID` trains a
    config as the lesson says and runs its check. Progress is kept in
    $XDG_STATE_HOME/nn-tui/lessons.json.
    """
    if ctx.invoked_subcommand is not None:
        if list_lessons or as_json:
            raise BadInput("--list and --json are for the lesson list; check takes its own --json, after it")
        return
    if as_json and not list_lessons:
        raise BadInput("--json lists the lessons: give it with --list")
    from ..experiments.lessons import LESSONS, load_progress

    done, warning = load_progress()
    if warning:
        click.echo(f"warning: {visible(warning)}", err=True)
    if list_lessons:
        rows = [{"id": lesson.id, "title": lesson.title, "topics": list(lesson.topics),
                 "completed": lesson.id in done} for lesson in LESSONS]
        if as_json:
            click.echo(json.dumps({"lessons": rows}))
            return
        width = max(len(row["id"]) for row in rows)
        for i, row in enumerate(rows, 1):
            click.echo(f"{i:>2}. [{'x' if row['completed'] else ' '}] {row['id']:<{width}}  {row['title']}")
        click.echo(f"{len(done)} of {len(rows)} done; `nn-tui learn check ID --preset P` checks one headless")
        return
    from ..tui.app import NNTuiApp  # the app only when it opens

    app = NNTuiApp(runs_dir=runs_dir, record=not no_record, view="lessons")
    app.run()
    if app.return_code:
        ctx.exit(app.return_code)


@learn.command("check", cls=OneLineUsageErrors)
@click.argument("lesson_id", metavar="ID")
@click.option("--preset", help="Train this preset (see `nn-tui presets`); the lesson starts from its own.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Train this experiment config (TOML).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on the last line.")
@friendly_errors
def check(lesson_id: str, preset: str | None, config_path: Path | None, as_json: bool) -> None:
    """Train as lesson ID says (its epoch budget) and run its check.

    Exit status: 0 the check passed, 1 it did not (one line says what was measured against what
    it wants), 2 a bad option, lesson, preset or config, 130 stopped by Ctrl-C.
    """
    from ..experiments.lessons import check_lesson, lesson_config, lesson_named, mark_completed

    try:
        lesson = lesson_named(lesson_id)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if (preset is None) == (config_path is None):
        raise BadInput(f"give --preset or --config, one of them (lesson {lesson.id} starts from "
                               f"--preset {lesson.preset})")
    config = _config(lesson, preset, config_path, lesson_config)
    measured = check_lesson(lesson, config)
    if measured.passed:
        warning = mark_completed(lesson.id)
        if warning:
            click.echo(f"warning: {visible(warning)}", err=True)
    verdict = "passed" if measured.passed else "not passed"
    if as_json:
        click.echo(json.dumps({"lesson": lesson.id, "passed": measured.passed, "measured": measured.text,
                               "epochs": lesson.epochs}))
    else:
        click.echo(f"{lesson.id}: {verdict}: {visible(measured.text)}")
    if not measured.passed:
        sys.exit(1)


def _config(lesson, preset, config_path, lesson_config):
    """The config to train, checked whole before training (a problem: ``BadInput``, exit 2)."""
    from ..experiments.config import load_config
    from ..experiments.experiment import Experiment
    from ..experiments.files import describe_error
    from ..experiments.presets import get_preset

    try:
        base = get_preset(preset) if preset is not None else None
    except ValueError as exc:
        raise BadInput(f"--preset: {exc}") from None  # whole: it ends with "did you mean"
    try:
        config = lesson_config(lesson, base if base is not None else load_config(config_path))
        Experiment.from_config(config)  # the data and the network build: fail here, not mid-check
    except (ValueError, OSError) as exc:
        raise BadInput(describe_error(exc)) from None
    return config
