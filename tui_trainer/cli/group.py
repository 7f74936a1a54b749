"""``nn-tui`` itself: the group every command belongs to, which opens the app without one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .budget import memory_budget_callback
from .common import UserError, friendly_errors

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
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the app records and lists runs (default: NN_TUI_RUNS, else ./runs).")
@click.option("--no-record", is_flag=True, help="Do not record the app's training as runs.")
@click.version_option(package_name="nn-tui")
@click.pass_context
@friendly_errors
def main(ctx: click.Context, config_path, dataset, data_path, target, colors, preset, runs_dir, no_record) -> None:
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
    from ..tui.app import NNTuiApp  # imported here: after the colour settings, and never for headless commands

    app = NNTuiApp(config, runs_dir=runs_dir, record=not no_record)
    app.run()
    if app.return_code:
        sys.exit(app.return_code)  # the app ended on an error: say so to the shell


def preset_config(preset: str, config_path):
    """The config of ``--preset`` (one ``Error:`` line naming the presets for an unknown one)."""
    from ..experiments.presets import get_preset

    if config_path is not None:
        raise UserError("give --config or --preset, not both")
    try:
        return get_preset(preset)
    except ValueError as exc:
        raise UserError(f"--preset: {exc}") from None


def _app_config(config_path, dataset, data_path, target, preset=None):
    """The experiment the app opens: the default one (or a preset), changed by the options given."""
    from ..experiments.config import load_config, with_overrides
    from ..experiments.experiment import Experiment
    from ..experiments.session import default_config

    if preset is not None:
        config = preset_config(preset, config_path)
    else:
        config = load_config(config_path) if config_path is not None else default_config()
    overrides = dict(dataset=dataset, path=str(data_path) if data_path else None, target=target)
    config = with_overrides(config, **{k: v for k, v in overrides.items() if v is not None})
    Experiment.from_config(config)  # fail here, with a clear message, rather than inside the app
    return config


