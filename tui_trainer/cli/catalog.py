"""``nn-tui datasets``, ``presets`` and ``info``: what there is to train on and with."""

from __future__ import annotations

import json

import click

from .common import OneLineUsageErrors, friendly_errors
from .group import main

@main.command(cls=OneLineUsageErrors)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@friendly_errors
def datasets(as_json: bool) -> None:
    """List the built-in datasets with their shapes and problem types."""
    from ..engine.datasets import DATASETS, load_dataset

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
    import shutil
    import textwrap

    name, kind, problem = (max(len(key), *(len(r[key]) for r in rows)) + 2 for key in ("name", "kind", "problem"))
    shapes = [f"{r['samples']}x{r['features']}" for r in rows]
    columns = shutil.get_terminal_size((80, 24)).columns
    if columns - (name + kind + problem + 9 + 2 + 7 + 2) < 40:  # narrow: the least telling column goes
        kind = 0  # (synthetic or sample: the description says which)
    click.echo(f"{'name':<{name}}{'kind' if kind else '':<{kind}}{'problem':<{problem}}{'shape':>9}  {'classes':>7}  "
               "description")
    indent = name + kind + problem + 9 + 2 + 7 + 2  # the descriptions' column: wrapped to the terminal's width
    room = max(20, columns - indent)
    for r, shape in zip(rows, shapes):
        classes = r["classes"] or "-"
        first, *rest = textwrap.wrap(r["description"], room) or [""]
        click.echo(f"{r['name']:<{name}}{r['kind'] if kind else '':<{kind}}{r['problem']:<{problem}}{shape:>9}  "
                   f"{classes:>7}  {first}")
        for line in rest:
            click.echo(" " * indent + line)


@main.command(cls=OneLineUsageErrors)
@friendly_errors
def presets() -> None:
    """List the ready-made experiments (open one with `nn-tui --preset NAME`)."""
    from ..experiments.presets import PRESETS

    width = max(len(name) for name in PRESETS)
    for name, preset in PRESETS.items():
        click.echo(f"{name:<{width}}  {preset.description}")


@main.command(cls=OneLineUsageErrors)
def info() -> None:
    """Show the version and what computes: the CPU, NumPy, its BLAS library and threads (no GPU)."""
    from importlib.metadata import PackageNotFoundError, version

    from ..experiments.compute import describe_compute

    try:
        click.echo(f"nn-tui {version('nn-tui')}")
    except PackageNotFoundError:  # run from a source tree that is not installed
        click.echo("nn-tui (not installed)")
    click.echo(describe_compute())


