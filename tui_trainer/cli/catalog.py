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
    click.echo(f"{'name':<16}{'kind':<11}{'problem':<12}{'shape':>10}  {'classes':>7}  description")
    for r in rows:
        shape = f"{r['samples']}x{r['features']}"
        classes = r["classes"] or "-"
        click.echo(f"{r['name']:<16}{r['kind']:<11}{r['problem']:<12}{shape:>10}  {classes:>7}  {r['description']}")


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


