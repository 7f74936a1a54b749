"""``nn-tui runs``: the recorded runs listed, compared, named and removed.

Reads the run store (``experiments.runs``) only: never locks or disturbs a run being written.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import click

from ..experiments import runs as store
from ..engine.numbers import figure, tick_label
from ..engine.text import visible
from .common import OneLineUsageErrors, OneLineUsageGroup, UserError, friendly_errors
from .group import main

RUNS_DIR_HELP = "The runs directory (default: NN_TUI_RUNS, else ./runs)."
COMPARE_METRICS = ("val_loss", "train_loss", "val_accuracy")
COLOURS = (12, 9, 10, 13, 14, 11, 208, 141)
"""Each run's colour (256-colour numbers: bright blue, red, green, magenta, cyan, yellow, orange, violet)."""
MARKERS = ("braille", "dot", "x", "+", "o", "*", "#", "@")
"""One per run, so the curves are told apart without colour too."""
MAX_WIDTH = 500
"""Widest output drawn, whatever ``COLUMNS`` says (a plot's memory grows with its width)."""
MAX_HEIGHT = 200
PLOT_LIMIT = 1e300
"""Largest magnitude plotted: a curve from -1e308 to 1e308 spans more than a float holds."""


def _root(ctx: click.Context, option) -> Path:
    """``--runs-dir`` of the subcommand, else of ``runs``, else the default."""
    if option is None and ctx.parent is not None:
        option = ctx.parent.params.get("runs_dir")
    return store.runs_dir(option)


def _shown(root: Path) -> str:
    return visible(str(root).rstrip("/") + "/")


def _find(root: Path, ref: str) -> store.Run:
    try:
        return store.find_run(root, ref)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _width() -> int:
    return min(MAX_WIDTH, max(40, shutil.get_terminal_size((80, 24)).columns))


def _height() -> int:
    return min(MAX_HEIGHT, max(12, shutil.get_terminal_size((80, 24)).lines))


# -- formatting ----------------------------------------------------------------------------------


def _number(value, digits: int = 4) -> str:
    """A float in ``digits`` significant digits with a narrow exponent (``3.91e-11``), a count as it is."""
    if isinstance(value, float) or value is None:
        return figure(value, digits, missing="-")
    return str(value)


def _hidden(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "none"
    return "-" if value is None else str(value)


def _dataset(value) -> str:
    if value is None:
        return "-"
    text = str(value)
    return Path(text).name if ("/" in text or "\\" in text) else text


def _started(value) -> str:
    try:
        when = datetime.fromisoformat(str(value)).astimezone()
    except (ValueError, OverflowError, OSError):
        return "-"
    now = datetime.now().astimezone()
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d")


def _seconds(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value < 1e12:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 60:
        return f"{value:.1f}"
    minutes, secs = divmod(int(round(value)), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{secs:02d}s"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


# (header, value of a row, right-aligned, most characters shown), in the order shown
COLUMNS = [
    ("id", lambda r: r["id"], False, 20),
    ("name", lambda r: r["name"] or "", False, 14),
    ("status", lambda r: r["status"], False, 11),
    ("dataset", lambda r: _dataset(r["dataset"]), False, 14),
    ("hidden", lambda r: _hidden(r["hidden"]), False, 12),
    ("optim", lambda r: r["optimizer"] or "-", False, 9),
    ("lr", lambda r: _number(r["lr"], 3), True, 8),
    ("epochs", lambda r: _number(r["epochs"]), True, 7),
    ("train", lambda r: _number(r["train_loss"], 3), True, 8),
    ("val", lambda r: _number(r["val_loss"], 3), True, 8),
    ("val acc", store.metric_text, True, 9),
    ("started", lambda r: _started(r["started"]), False, 12),
    ("secs", lambda r: _seconds(r["seconds"]), True, 7),
]
DROP_ORDER = ("secs", "started", "train", "hidden", "lr", "optim", "name", "epochs", "dataset", "val")
"""The columns left out, first to last, while the table is wider than the terminal (the name before
the epochs: the id still names the run)."""


def table(rows: list[dict], width: int) -> list[str]:
    """The runs as a table at most ``width`` characters wide (columns dropped as needed)."""
    cells = {h: [_cut(visible(get(r)), most) for r in rows] for h, get, _, most in COLUMNS}
    header = {h: h for h, *_ in COLUMNS}
    if rows and all(r.get("val_r2") is not None for r in rows if store.metric_text(r) != "-"):
        header["val acc"] = "val R2" if any(r.get("val_r2") is not None for r in rows) else "val acc"
    sizes = {h: max([len(header[h]), *map(len, cells[h])]) for h, *_ in COLUMNS}
    shown = [h for h, *_ in COLUMNS if h != "name" or any(cells["name"])]
    for drop in DROP_ORDER:
        if sum(sizes[h] for h in shown) + 2 * (len(shown) - 1) <= width:
            break
        if drop in shown:
            shown.remove(drop)
    right = {h for h, _, r, _ in COLUMNS if r}

    def line(values: dict) -> str:
        parts = [values[h].rjust(sizes[h]) if h in right else values[h].ljust(sizes[h]) for h in shown]
        return "  ".join(parts).rstrip()[:width]

    return [line(header)] + [line({h: cells[h][i] for h in shown}) for i in range(len(rows))]


# -- nn-tui runs -----------------------------------------------------------------------------------


@main.group("runs", cls=OneLineUsageGroup, invoke_without_command=True)
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.option("--dataset", help="Only the runs on this dataset.")
@click.option("--status", type=click.Choice((*store.STATUSES, store.UNREADABLE)),
              help="Only the runs with this status.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as one JSON object on the last line.")
@click.pass_context
@friendly_errors
def runs(ctx: click.Context, runs_dir, dataset, status, as_json) -> None:
    """The recorded runs, newest first (`nn-tui train` records every run).

    Subcommands: `compare ID ID...`, `name ID NAME`, `rm ID...`. A run is named by its id,
    the start of its id, its name, or its folder.
    """
    if ctx.invoked_subcommand is not None:
        return
    root = store.runs_dir(runs_dir)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: not a folder (the runs directory)")
    found = store.list_runs(root)
    total = len(found)
    if dataset is not None:
        found = [r for r in found if dataset in (r.settings.get("dataset"), _dataset(r.settings.get("dataset")))]
    if status is not None:
        found = [r for r in found if r.status == status]
    for run in found:
        store.clean_temporaries(run)  # what a killed writer left
    rows = [store.overview(r) for r in found]
    if as_json:
        click.echo(json.dumps(store.json_safe({"runs": rows})))
        return
    if not rows:
        if total == 0:
            click.echo(f"no runs in {_shown(root)} yet: nn-tui train records one")
        else:
            given = " ".join(f"--{k} {visible(v)}" for k, v in (("dataset", dataset), ("status", status)) if v)
            click.echo(f"no runs match {given} ({total} in {_shown(root)})")
        return
    for line in table(rows, _width()):
        click.echo(line)
    for row in rows:  # why a run cannot be shown, or its records read: the file and the reason
        if row.get("problem"):
            text = f"{visible(row['id'])}: {visible(row['problem'])}"
            for line in textwrap.wrap(text, _width(), subsequent_indent="  ", break_on_hyphens=False):
                click.echo(line)


@runs.command("rm", cls=OneLineUsageErrors)
@click.argument("refs", nargs=-1, required=True, metavar="ID...")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.pass_context
@friendly_errors
def rm(ctx: click.Context, refs, runs_dir) -> None:
    """Delete recorded runs (not a running one)."""
    root = _root(ctx, runs_dir)
    chosen = []
    for ref in refs:  # every one checked before any is removed
        run = _find(root, ref)
        if run.status == "running":
            raise UserError(f"run {visible(run.id)} is still running (pid {run.meta.get('pid')}); stop it first")
        if all(os.path.realpath(run.path) != os.path.realpath(c.path) for c in chosen):
            chosen.append(run)
    for run in chosen:
        try:
            store.remove_run(run)
        except OSError as exc:
            raise UserError(f"{visible(run.path)}: cannot remove it ({exc.strerror or exc})") from None
        click.echo(f"removed {visible(run.id)}")


def checked_run_name(name: str, root: Path | None = None, own: Path | None = None) -> str:
    """``name`` stripped, for a run in store ``root`` (``runs name``, ``train --name``): a
    ``UserError`` for an empty name, control characters, or a name another run there has (the run
    at ``own`` aside)."""
    name = name.strip()
    if not name:
        raise UserError("a run's name cannot be empty")
    if not name.isprintable():
        raise UserError(f"a run's name cannot hold control characters: '{visible(name)}'")
    if root is not None:
        taken = [r for r in store.list_runs(root) if r.name == name
                 and (own is None or os.path.realpath(r.path) != os.path.realpath(own))]
        if taken:
            raise UserError(f"the name {name!r} is already run {visible(taken[0].id)}'s")
    return name


@runs.command("name", cls=OneLineUsageErrors)
@click.argument("ref", metavar="ID")
@click.argument("name")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.pass_context
@friendly_errors
def name(ctx: click.Context, ref, name, runs_dir) -> None:
    """Give a run a name (other commands then accept the name for its id)."""
    root = _root(ctx, runs_dir)
    run = _find(root, ref)
    if run.problem is not None:
        name = checked_run_name(name)  # a bad name is said first
        raise UserError(visible(run.problem))
    name = checked_run_name(name, root, run.path)
    try:
        store.rename_run(run, name)
    except OSError as exc:
        raise UserError(f"{visible(run.path / 'run.json')}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"run {visible(run.id)} is named {name}")


# -- nn-tui runs compare ---------------------------------------------------------------------------


def _label(run: store.Run) -> str:
    return visible(run.name or run.id)


def _curve(metrics: store.Metrics, metric: str) -> tuple[str, list[float], list[float]]:
    """(the metric actually used, x, y): val_loss falls back to train_loss without validation."""
    series = {"val_loss": metrics.val, "train_loss": metrics.train, "val_accuracy": metrics.val_metric}
    used = metric
    if metric == "val_loss" and len(metrics.val) == 0:
        used = "train_loss"
    x, y = series[used].arrays()
    keep = [i for i in range(len(y)) if math.isfinite(y[i])]
    return used, [float(x[i]) for i in keep], [float(y[i]) for i in keep]


def _plot(curves: list[tuple[str, list[float], list[float]]], title: str, width: int, height: int,
          colour: bool) -> str:
    """The title, then the curves overlaid (``experiments.charts``, as the app's charts); ANSI colours
    only when ``colour``."""
    from ..experiments import charts

    drawn = [(x, y) if len(x) != 1 else ([x[0] - 0.5, x[0] + 0.5], [y[0], y[0]])  # one point: a short mark
             for _, x, y in curves if x]
    xs = [v for x, _ in drawn for v in x]
    ys = [v for _, y in drawn for v in y]
    x_lim = charts.y_range(min(xs), max(xs), log=False)
    y_lim = charts.y_range(min(ys), max(ys), log=False)
    x_ticks, x_step = charts.linear_ticks(*x_lim, max(2, (width - 8) // 12), min_step=1.0)
    plot = charts.Plot(
        width=width, height=height - 1, x_lim=x_lim, y_lim=y_lim,
        x_ticks=(x_ticks, [tick_label(v, x_step) for v in x_ticks]),
        y_ticks=charts.y_axis(*y_lim, max(2, (height - 4) // 3), log=False), x_label="epoch",
        curves=[charts.Curve(x, y, COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)])
                for i, (_, x, y) in enumerate(curves) if x],
    )
    text = charts.plot_text(plot)
    lines = [line.rstrip() for line in (text if colour else charts.plain(text)).splitlines()]
    return "\n".join([title.center(width).rstrip(), *lines])


def _side_by_side(title: str, labels: list[str], rows: list[tuple[str, list[str]]], width: int) -> list[str]:
    key = max([len(k) for k, _ in rows] + [len(title)])
    room = max(8, (width - key - 2) // max(1, len(labels)) - 2)
    cols = [min(room, max([len(labels[i])] + [len(v[i]) for _, v in rows])) for i in range(len(labels))]
    out = [f"{title:<{key}}  " + "  ".join(_cut(l, w).ljust(w) for l, w in zip(labels, cols))]
    for k, values in rows:
        out.append(f"{k:<{key}}  " + "  ".join(_cut(v, w).ljust(w) for v, w in zip(values, cols)))
    return [line.rstrip() for line in out]


def _setting(value) -> str:
    if isinstance(value, list):
        return visible(",".join(map(str, value))) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None else visible(value)


@runs.command("compare", cls=OneLineUsageErrors)
@click.argument("refs", nargs=-1, required=True, metavar="ID ID...")
@click.option("--metric", type=click.Choice(COMPARE_METRICS), default="val_loss", show_default=True,
              help="The curve to plot (val_loss falls back to train_loss for a run without validation).")
@click.option("--no-plot", is_flag=True, help="Settings and final numbers only.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object on the last line.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), help=RUNS_DIR_HELP)
@click.pass_context
@friendly_errors
def compare(ctx: click.Context, refs, metric, no_plot, as_json, runs_dir) -> None:
    """The settings that differ between runs, their final numbers side by side, and their
    curves overlaid."""
    root = _root(ctx, runs_dir)
    chosen = [_find(root, ref) for ref in refs]
    if len(chosen) < 2:
        raise UserError("compare needs at least two runs, e.g. `nn-tui runs compare ID ID`")
    for run in chosen:
        if run.problem is not None:
            raise UserError(visible(run.problem))
    try:
        metrics = [store.read_curves(r.path) for r in chosen]  # a long file sampled: quick, bounded
    except ValueError as exc:
        raise UserError(visible(str(exc))) from None
    rows = [store.overview(r, m) for r, m in zip(chosen, metrics)]
    starts = [r.settings for r in chosen]
    ends = [store.final_settings(r, m) for r, m in zip(chosen, metrics)]  # after the changes made live
    differ = list(dict.fromkeys(store.differing(starts) + store.differing(ends)))
    curves = [_curve(m, metric) for m in metrics]
    if as_json:
        click.echo(json.dumps(store.json_safe({
            "runs": rows,
            "settings": {k: [s.get(k) for s in starts] for k in differ},
            "final_settings": {k: [e.get(k) for e in ends] for k in differ},
            "metric": metric,
            "curves": [{"id": r.id, "metric": used, "x": x, "y": y} for r, (used, x, y) in zip(chosen, curves)],
        })))
        return
    width, height = _width(), _height()
    labels = [_label(r) for r in chosen]
    settings = [(visible(k), [_setting(s.get(k)) if _setting(s.get(k)) == _setting(e.get(k))
                              else f"{_setting(s.get(k))} -> {_setting(e.get(k))}" for s, e in zip(starts, ends)])
                for k in differ]
    finals = [
        ("status", [r["status"] for r in rows]),
        ("epochs", [_number(r["epochs"]) for r in rows]),
        ("train loss", [_number(r["train_loss"]) for r in rows]),
        ("val loss", [_number(r["val_loss"]) for r in rows]),
        ("val acc/R2", [store.metric_text(r) for r in rows]),
        ("seconds", [_seconds(r["seconds"]) for r in rows]),
    ]
    out = _side_by_side("", labels, settings + [("", [""] * len(labels))] + finals if settings else finals, width)
    if not settings:
        out.insert(0, "same settings")
    elif any("->" in cell for _, cells in settings for cell in cells):
        out.append("a -> b: changed live, from a to b")
    for line in out:
        click.echo(line)
    if no_plot:
        return
    used = {u for u, _, _ in curves}
    if not any(x for _, x, _ in curves):
        click.echo(f"\nno {metric.replace('_', ' ')} recorded yet: nothing to plot")
        return
    ys = [v for _, _, y in curves for v in y]
    if max(map(abs, ys)) > PLOT_LIMIT:  # the axis's span would overflow: the numbers above say it
        click.echo(f"\nvalues beyond ±{PLOT_LIMIT:g}: too large to plot")
        return
    title = " / ".join(sorted(u.replace("_", " ") for u in used))
    if len(used) > 1:
        title += " (train loss where a run has no validation)"
    plot_height = max(10, min(height - len(out) - 2, 40))
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    click.echo(_plot([(lab, x, y) for lab, (_, x, y) in zip(labels, curves)], title, width, plot_height, colour))
    click.echo(_legend(labels, width, colour))
    sampled = [label for label, m in zip(labels, metrics) if m.sampled]
    if sampled:
        click.echo(f"    {', '.join(sampled)}: drawn from a sample of the records "
                   f"(metrics.jsonl over {store.SAMPLE_ABOVE // 2**20} MiB)")


SYMBOLS = ("⠒", "•", "x", "+", "o", "*", "#", "@")
"""What each marker of ``MARKERS`` draws, for the legend under the plot."""


def _legend(labels: list[str], width: int, colour: bool) -> str:
    """``⠒ first  • second  x third``: each run's mark (and colour) beside its name."""
    room = max(8, width // max(1, len(labels)) - 4)
    parts = []
    for i, label in enumerate(labels):
        mark = SYMBOLS[i % len(SYMBOLS)]
        if colour:
            mark = f"\x1b[38;5;{COLOURS[i % len(COLOURS)]}m{mark}\x1b[0m"
        parts.append(f"{mark} {_cut(label, room)}")
    return "    " + "  ".join(parts)
