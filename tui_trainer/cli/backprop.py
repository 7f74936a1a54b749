"""``nn-tui backprop``: one training step of an experiment written out with its numbers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import OneLineUsageErrors, UserError, friendly_errors
from .group import main, preset_config


@main.command(cls=OneLineUsageErrors)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The experiment (TOML), e.g. one with inline [data] and exact [weights].")
@click.option("--preset", help="A ready-made experiment instead (see `nn-tui presets`).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"loss": x, "layers": [{"W", "b", "z", "a", "delta", "dW", "db", "W_new", "b_new"}, ...]} '
                   "as one line (rows = a layer's inputs or the batch's samples).")
@friendly_errors
def backprop(config_path, preset, as_json: bool) -> None:
    """Take one training step on the first batch and write it out, layer by layer: z = aW + b,
    a = f(z), the loss, delta = (delta_next W^T) * f'(z), dW = a^T delta, db, and the new W and b."""
    from ..experiments.backprop import first_step, trace_lines
    from ..experiments.config import load_config

    if preset is not None:
        cfg = preset_config(preset, config_path)
    elif config_path is not None:
        cfg = load_config(config_path)
    else:
        raise UserError("give --config FILE (e.g. sample_data/mazur.toml) or --preset NAME")
    trace = first_step(cfg)
    if as_json:
        click.echo(json.dumps(trace.as_json()))
        return
    for line in trace_lines(trace):
        click.echo(line)
