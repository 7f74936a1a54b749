"""``nn-tui watch ID|PATH``: the app opened on one run of the run store, followed live.

The run is found before Textual is imported, so an unknown id is one ``Error:`` line. The view only
reads the run's folder; leaving it quits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .common import OneLineUsageErrors, UserError, friendly_errors
from .group import COLOR_SYSTEMS, main


@main.command(cls=OneLineUsageErrors)
@click.argument("run")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the runs are (default: NN_TUI_RUNS, else ./runs).")
@click.option("--colors", type=click.Choice(["auto", "truecolor", "256", "16", "none"]), default="auto",
              show_default=True, help="Colours to use; over SSH try 256 or 16.")
@friendly_errors
def watch(run: str, runs_dir: Path | None, colors: str) -> None:
    """Follow a run (its id, the start of it, its name or its folder): status, curves and weights, live.

    Works while another nn-tui trains it; it only reads the run's files. q or Escape quits.
    """
    from ..engine.text import visible
    from ..experiments.runs import find_run, runs_dir as resolve_runs_dir

    try:
        found = find_run(resolve_runs_dir(runs_dir), run)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if found.problem is not None:  # an unreadable run.json: the file and the reason
        raise UserError(visible(found.problem))
    if colors == "none":
        os.environ["NO_COLOR"] = "1"
    elif colors != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = COLOR_SYSTEMS[colors]
    from ..tui.watch_app import watch_app  # imported here: after the colour settings

    app = watch_app(found.path)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)
