"""``nn-tui compare``, ``nn-tui sweep`` and ``nn-tui surface``: the optimizer lab headless.

The commands add themselves to the ``main`` group when the package imports this module. Like
the other commands, it imports the engine only inside callbacks and commands, so ``nn-tui`` opens
the app without loading NumPy for the command line first.
"""

from __future__ import annotations

import json
import math

import click

from .budget import memory_budget_callback
from ..experiments.limits import (MATRIX_SEEDS, MAX_LAB_EPOCHS, MAX_LANES, MAX_MATRIX_SEEDS, MAX_SURFACE_STEPS,
                                  MAX_SWEEP_POINTS)
from ..experiments.wording import plural
from .common import (OneLineUsageErrors, UserError, friendly_errors, option_of_setting, override_error,
                     parse_batch_size, parse_hidden, positive)
from .group import main


# --- option parsing -----------------------------------------------------------------------------


def _lanes(items: list, value: str) -> list:
    if len(items) > MAX_LANES:
        raise click.BadParameter(f"at most {MAX_LANES} in one race, got {len(items):,}")
    return items


def _registered(name: str, registry, what: str) -> str:
    if name not in registry:
        raise click.BadParameter(f"unknown {what} {name!r}; choose from: {', '.join(registry)}")
    return name


def parse_optimizers(ctx, param, value: str | None) -> list[str]:
    """``sgd,adam`` -> ["sgd", "adam"], each a registered optimizer; None -> all of them."""
    from ..engine.optimizers import OPTIMIZERS

    if value is None:
        return list(OPTIMIZERS)
    return _lanes([_registered(name.strip(), OPTIMIZERS, "optimizer") for name in value.split(",")], value)


class OptimizerOption(click.Option):
    """An option whose help names the registered optimizers: ``{names}`` in its help becomes ``sgd, momentum,
    ..., adamp``, read from the registry only when the help is shown (the registry loads NumPy)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from ..engine.optimizers import OPTIMIZERS

        template, self.help = self.help, (self.help or "").replace("{names}", ", ".join(OPTIMIZERS))
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = template


def check_optimizer(ctx, param, value: str) -> str:
    from ..engine.optimizers import OPTIMIZERS

    return _registered(value, OPTIMIZERS, "optimizer")


def check_dataset(ctx, param, value: str | None) -> str | None:
    from ..engine.datasets import DATASETS

    return None if value is None else _registered(value, DATASETS, "dataset")


def check_function(ctx, param, value: str) -> str:
    from ..engine.surfaces import SURFACES

    return _registered(value, SURFACES, "function")


def _numbers(value: str, what: str) -> list[float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated {what}, got {value!r}") from None
    if not all(math.isfinite(n) for n in numbers):
        raise click.BadParameter(f"expected finite numbers, got {value!r}")
    return numbers


def parse_datasets(ctx, param, value: str | None) -> list[str] | None:
    """``spiral,moons`` -> ["spiral", "moons"], each a registered dataset, none twice."""
    from ..engine.datasets import DATASETS

    if value is None:
        return None
    names = [_registered(name.strip(), DATASETS, "dataset") for name in value.split(",")]
    twice = [name for name in names if names.count(name) > 1]
    if twice:
        raise click.BadParameter(f"{twice[0]!r} is named twice")
    return names


def parse_lrs(ctx, param, value: str | None) -> list[float] | None:
    """``0.1,0.01`` -> [0.1, 0.01], each > 0."""
    if value is None:
        return None
    lrs = _lanes(_numbers(value, "learning rates such as 0.1,0.01"), value)
    if any(lr <= 0 for lr in lrs):
        raise click.BadParameter(f"learning rates must be greater than 0, got {value!r}")
    return lrs


MAX_START = 1e3
"""The largest coordinate a surface's start point may have."""


def parse_point(ctx, param, value: str | None) -> tuple[float, float] | None:
    """``-1.2,1`` -> (-1.2, 1.0)."""
    if value is None:
        return None
    point = _numbers(value, "numbers X,Y such as -1.2,1")
    if len(point) != 2:
        raise click.BadParameter(f"expected two numbers X,Y, got {value!r}")
    if max(abs(v) for v in point) > MAX_START:
        raise click.BadParameter(f"each number at most {MAX_START:g} in size (the surfaces are drawn near 0), got {value!r}")
    return point[0], point[1]


def parse_batch_modes(ctx, param, value: str | None) -> list[int | str] | None:
    """``full,32,1`` -> ["full", 32, 1]."""
    if value is None:
        return None
    return _lanes([parse_batch_size(ctx, param, part.strip()) for part in value.split(",")], value)


def lrs_for(names: list[str], lrs: list[float] | None) -> list[float | None]:
    """One learning rate per optimizer: as given, one given for all, or None (the default)."""
    if lrs is None:
        return [None] * len(names)
    if len(lrs) == 1:
        return lrs * len(names)
    if len(lrs) != len(names):
        raise UserError(f"--lrs: {len(lrs)} learning rates for {len(names)} optimizers; "
                        "give one per optimizer, or one for all")
    return lrs


def _config(dataset, hidden, epochs, seed, batch_size):
    from ..experiments.config import ExperimentConfig, with_overrides

    from ..experiments.config import ConfigError

    overrides = dict(dataset=dataset, hidden=hidden, epochs=epochs, seed=seed, batch_size=batch_size)
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return with_overrides(ExperimentConfig(), source="command line", **given)
    except ConfigError as exc:  # told as the options given
        raise override_error(exc, given) from None


def _within_budget(run, lanes: int, option: str):
    """``run()``, where a race whose lanes together need more memory than the budget (refused
    before anything is built) is told with what to change."""
    from ..experiments.budget import BudgetError

    try:
        return run()
    except BudgetError as exc:
        hint = f"; race fewer lanes ({option}: {lanes}) or a smaller network" if exc.problems else ""
        raise UserError(f"{exc}{hint}") from None


def _echo_wrapped(text: str) -> None:
    """A sentence, wrapped to the terminal's width (``COLUMNS``; 80 when it is not a terminal)."""
    import shutil
    import textwrap

    click.echo(textwrap.fill(text, max(40, shutil.get_terminal_size((80, 24)).columns)))


def _cell(value: float | None, places: int = 4) -> str:
    """A table cell: ``places`` decimals, ``-`` for none."""
    from ..engine.numbers import fixed  # not at the top: the command line starts without NumPy

    return fixed(value, places, missing="-")


_TRAINING_OPTIONS = (
    click.option("--dataset", callback=check_dataset, help="A built-in dataset (default: spiral; see `nn-tui datasets`)."),
    click.option("--hidden", callback=parse_hidden, help="Hidden layer widths, e.g. 16,16 (default)."),
    option_of_setting("seed"),
    option_of_setting("batch_size"),
    click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on the last line."),
    click.option("--memory-budget", callback=memory_budget_callback, expose_value=False,
                 help="Most memory this command's training may need, e.g. 4G (default: half of this machine's "
                      "memory, or NN_TUI_MEMORY_BUDGET)."),
)


def training_options(fn):
    """The options that ``compare`` and ``sweep`` share: data, network, seed, batch size, --json."""
    for option in reversed(_TRAINING_OPTIONS):
        fn = option(fn)
    return fn


# --- compare ------------------------------------------------------------------------------------


def race_target(race, rows: list[dict]) -> float | None:
    """The cost the race's to-target numbers count to: its target loss, else (filled into ``rows``:
    ``steps_to_target``, ``samples_to_target``, ``seconds_to_target``) the highest final cost below
    the start, a level every lane that improved reached (``auto_target``); None when none did."""
    from ..experiments.lab import auto_target

    if race.target_loss is not None:
        return race.target_loss
    level = auto_target(race.initial_loss, [None if r["diverged"] else r["final_loss"] for r in rows])
    for lane, row in zip(race.lanes, rows):
        mark = None if level is None or row["diverged"] else lane.reached(level)
        row["steps_to_target"] = None if mark is None else mark.steps
        row["samples_to_target"] = None if mark is None else mark.samples
        row["seconds_to_target"] = None if mark is None else mark.seconds
    return level


def race_lines(race, rows: list[dict], dataset: str, epochs: int, target: float | None, *, auto: bool) -> list[str]:
    """A race's results as text within 80 columns: what each lane reached, then what it took, in
    updates, training samples seen and seconds of its own training (the shared evaluation not
    counted), in all and to the target cost."""
    from ..engine.numbers import figure

    metric = "accuracy" if "val_accuracy" in rows[0] else "r2"
    w = max(len("lane"), *(len(r["label"]) for r in rows)) + 2

    def count(value) -> str:
        return "-" if value is None else f"{value:,}"

    def seconds(value) -> str:
        return figure(value, 3, missing="-")

    lines = [f"{dataset}: {race.lanes[0].trainer.net.summary()}, {plural(epochs, 'epoch')}, "
             f"initial cost {race.initial_loss:.4f}",
             f"{'lane':<{w}}{'lr':>9}{'upd/ep':>8}{'final cost':>11}{'val loss':>10}{'val ' + metric:>13}"
             f"{'us/upd':>8}"]
    for r in rows:
        status = "diverged" if r["diverged"] else "<- best" if r["best"] else ""
        per_step = None if r["seconds_per_step"] is None else r["seconds_per_step"] * 1e6
        lines.append(f"{r['label']:<{w}}{r['lr']:>9g}{r['updates_per_epoch']:>8}{_cell(r['final_loss']):>11}"
                     f"{_cell(r['val_loss']):>10}{_cell(r['val_' + metric]):>13}{_cell(per_step, 0):>8}"
                     f"  {status}".rstrip())
    to = "to target: none (no lane improved)" if target is None else f"to cost {target:.4f}"
    lines += ["", f"{'':<{w}}{'trained':^33}{to:^33}".rstrip(),
              f"{'lane':<{w}}" + f"{'updates':>11}{'samples':>11}{'seconds':>11}" * 2]
    for r in rows:
        lines.append(f"{r['label']:<{w}}{count(r['steps']):>11}{count(r['samples_seen']):>11}"
                     f"{seconds(r['seconds']):>11}{count(r['steps_to_target']):>11}"
                     f"{count(r['samples_to_target']):>11}{seconds(r['seconds_to_target']):>11}")
    if auto and target is not None:
        lines.append("target (auto): the highest final cost every improving lane reached")
    return lines


@main.command(cls=OneLineUsageErrors)
@click.option("--optimizers", "names", callback=parse_optimizers, cls=OptimizerOption,
              help="Optimizers to race, comma-separated, from: {names} (default: all of them).")
@click.option("--lrs", callback=parse_lrs,
              help="Learning rates, one per optimizer or one for all (fixed rates). Default: each optimizer's "
                   "racing rate in a single race; with --datasets, each rate tuned per optimizer and dataset.")
@click.option("--epochs", type=click.IntRange(min=1, max=MAX_LAB_EPOCHS), default=30, show_default=True,
              help="Epochs per lane.")
@click.option("--target-loss", type=float, callback=positive,
              help="Report the updates, samples seen and seconds each lane needed to bring the cost down to this "
                   "(default: the highest final cost every improving lane reached).")
@click.option("--batch-modes", callback=parse_batch_modes,
              help="Race batch modes of one optimizer instead, e.g. full,32,1.")
@click.option("--datasets", callback=parse_datasets,
              help="Which optimizer suits which task: on each of these datasets, comma-separated (e.g. "
                   "spiral,moons,sine,digits), tune each optimizer's rate over one log grid, repeat over --seeds, "
                   "and name a winner only where its spread clears the runner-up's (else a tie).")
@click.option("--seeds", type=click.IntRange(min=1, max=MAX_MATRIX_SEEDS), default=MATRIX_SEEDS, show_default=True,
              help="With --datasets: train every cell once per seed (--seed, --seed + 1, ...).")
@click.option("--workers", type=click.IntRange(min=1, max=64),
              help="With --datasets: processes to train in (default: one per core).")
@training_options
@friendly_errors
def compare(names, lrs, epochs, target_loss, batch_modes, datasets, seeds, workers, dataset, hidden, seed, batch_size,
            as_json) -> None:
    """Race optimizers (or batch modes) from the same weights on the same batches."""
    from ..experiments.lab import Race, RaceEntry, batch_mode_entries

    if datasets is not None:
        return _matrix(names, lrs, epochs, target_loss, batch_modes, datasets, seeds, workers, dataset, hidden, seed,
                       batch_size, as_json)
    lr_list = lrs_for(names, lrs)
    if batch_modes is None:
        entries = [RaceEntry(name, lr) for name, lr in zip(names, lr_list)]
    elif len(names) != 1:
        raise UserError("--batch-modes races one optimizer: give --optimizers with a single name")
    elif batch_size is not None:
        raise UserError("give --batch-size or --batch-modes, not both")
    else:
        entries = batch_mode_entries(names[0], batch_modes, lr_list[0])
    cfg = _config(dataset, hidden, epochs, seed, batch_size)
    race = _within_budget(lambda: Race(cfg, entries, target_loss=target_loss), len(entries),
                          "--batch-modes" if batch_modes is not None else "--optimizers")
    rows = race.run()
    target = race_target(race, rows)
    if as_json:
        click.echo(json.dumps({"runs": rows, "target": target, "target_auto": target_loss is None}))
        return
    for line in race_lines(race, rows, cfg.data.dataset, epochs, target, auto=target_loss is None):
        click.echo(line)


def _matrix(names, lrs, epochs, target_loss, batch_modes, datasets, seeds, workers, dataset, hidden, seed,
            batch_size, as_json) -> None:
    """``compare --datasets``: which optimizer suits which dataset, by the matrix's protocol."""
    import sys

    from ..experiments.matrix import Protocol, run_matrix

    if dataset is not None:
        raise UserError("give --dataset or --datasets, not both")
    if batch_modes is not None:
        raise UserError("--batch-modes races one optimizer on one dataset: leave out --datasets")
    if target_loss is not None:
        raise UserError("--target-loss counts updates in one race: give --dataset, not --datasets")
    fixed = None if lrs is None else tuple(zip(names, lrs_for(names, lrs)))
    cfg = _config(None, hidden, epochs, seed, batch_size)
    protocol = Protocol(seeds=seeds, epochs=epochs, fixed_lrs=fixed, first_seed=cfg.training.seed)
    with click.progressbar(length=len(datasets) * len(names) * seeds, label="training", file=sys.stderr,
                           show_pos=True, width=24) as bar:
        result = _within_budget(lambda: run_matrix(cfg, datasets, names, protocol, workers=workers,
                                                   on_progress=lambda done, total, _: bar.update(1)),
                                len(names), "--optimizers")
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    for line in matrix_lines(result):
        click.echo(line)


MATRIX_WIDTH = 80
"""The widest line ``matrix_lines`` makes."""


def _metric_cell(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if name.endswith("accuracy") else f"{value:.3f}"


def _loss_cell(value: float | None) -> str:
    if value is None:
        return "-"
    text = f"{value:.4f}"
    return text if len(text) <= 7 and value >= 0.001 else f"{value:.2e}".replace("e-0", "e-")


def matrix_lines(result) -> list[str]:
    """The matrix as text, at most ``MATRIX_WIDTH`` wide: the protocol, then per dataset a row per
    optimizer (its rate, the score's median and range over the seeds, the diverged seeds, the metric's
    median) and the verdict; last, the verdicts in one line."""
    from ..experiments.matrix import rate_text, score_name

    import textwrap

    p = result.protocol
    score = score_name(result.score)
    lines = textwrap.wrap(
        f"Protocol: {p.describe(result.score)}. Per seed, every optimizer starts from the same weights and "
        f"sees the same batches. A cell is the {score} over the seeds: median and range (lowest..highest); "
        "diverged seeds are counted, never ranked. A winner only where its range clears the runner-up's; "
        "otherwise a tie.", MATRIX_WIDTH)
    for ds in result.datasets:
        cells = [c for c in (result.cell(ds, n) for n in result.optimizers) if c is not None]
        if not cells:
            continue
        v = next(v for v in result.verdicts if v.dataset == ds)
        metric = "val acc" if cells[0].metric_name.endswith("accuracy") else "val R^2"
        if not cells[0].metric_name.startswith("val_"):
            metric = metric.replace("val", "train")
        lines += ["", f"{ds}  ({score}, {plural(p.seeds, 'seed')}; * best, = tie)",
                  f"{'optimizer':<11}{'lr':>8}{'median':>10}{'low':>10}{'high':>10}{'diverged':>10}{metric:>11}"]
        for c in cells:
            mark = ("=" if v.tie else "*") if c.optimizer in v.best else ""
            lines.append(f"{c.optimizer + mark:<11}{rate_text(c.lr):>8}{_loss_cell(c.score.median):>10}"
                         f"{_loss_cell(c.score.low):>10}{_loss_cell(c.score.high):>10}"
                         f"{f'{c.score.diverged}/{c.score.runs}':>10}"
                         f"{_metric_cell(c.metric_name, c.metric.median):>11}")
        lines += textwrap.wrap(f"verdict: {v.text()}" + (" (their ranges overlap)" if v.tie else ""),
                               MATRIX_WIDTH, subsequent_indent="  ")
    lines += [""] + textwrap.wrap(f"Which optimizer suits which task ({p.describe(result.score)}):", MATRIX_WIDTH)
    for v in result.verdicts:
        lines += textwrap.wrap(f"{v.dataset}: {v.text()}", MATRIX_WIDTH, initial_indent="  ", subsequent_indent="    ")
    return lines


# --- sweep --------------------------------------------------------------------------------------

BAR_WIDTH = 40


@main.command(cls=OneLineUsageErrors)
@click.option("--optimizer", "name", required=True, callback=check_optimizer, cls=OptimizerOption,
              help="The optimizer to sweep, one of: {names}.")
@click.option("--min", "low", type=float, default=1e-5, show_default=True, callback=positive, help="Lowest rate.")
@click.option("--max", "high", type=float, default=10.0, show_default=True, callback=positive, help="Highest rate.")
@click.option("--points", type=click.IntRange(min=2, max=MAX_SWEEP_POINTS), default=13, show_default=True,
              help="Rates, spaced evenly on a log scale.")
@click.option("--epochs", type=click.IntRange(min=1, max=MAX_LAB_EPOCHS), default=10, show_default=True,
              help="Epochs per rate.")
@training_options
@friendly_errors
def sweep(name, low, high, points, epochs, dataset, hidden, seed, batch_size, as_json) -> None:
    """Train briefly at each of a range of learning rates: too high diverges, too low crawls."""
    from ..experiments.lab import SWEEP_TOLERANCE, sweep as run_sweep, sweep_lrs

    if low >= high:
        raise UserError(f"--min ({low:g}) must be below --max ({high:g})")
    lrs = sweep_lrs(low, high, points)
    cfg = _config(dataset, hidden, epochs, seed, batch_size)
    result = _within_budget(lambda: run_sweep(cfg, name, lrs, epochs), points, "--points")
    if as_json:
        click.echo(json.dumps({"runs": result.runs, "suggested_lr": result.suggested_lr}))
        return
    click.echo(f"{name}, {plural(epochs, 'epoch')} per rate, initial cost {result.initial_loss:.4f}")
    click.echo(f"{'lr':>10}{'final cost':>12}")
    for r in result.runs:
        if r["diverged"]:
            bar = "diverged"
        else:
            share = r["final_loss"] / result.initial_loss
            bar = "#" * round(BAR_WIDTH * min(share, 1.0)) + (">" if share > 1 else "")
        mark = "  <- suggested" if r["lr"] == result.suggested_lr else ""
        click.echo(f"{r['lr']:>10.3g}{_cell(r['final_loss']):>12}  {bar}{mark}")
    if result.suggested_lr is None:
        click.echo("every rate diverged: try a lower --min")
    else:
        _echo_wrapped(f"suggested lr: {result.suggested_lr:.3g} (the smallest rate whose cost is within "
                      f"{SWEEP_TOLERANCE:.0%} of the best rate's improvement)")


# --- surface ------------------------------------------------------------------------------------


@main.command(cls=OneLineUsageErrors)
@click.option("--function", "function", default="rosenbrock", show_default=True, callback=check_function,
              help="The 2-D test function, e.g. local_minimum (an unknown name lists them all).")
@click.option("--optimizers", "names", default="sgd,momentum,adam", show_default=True, callback=parse_optimizers,
              cls=OptimizerOption, help="Optimizers to walk, comma-separated, from: {names}.")
@click.option("--lrs", callback=parse_lrs,
              help="Learning rates, one per optimizer or one for all (default: per function and optimizer).")
@click.option("--steps", type=click.IntRange(min=1, max=MAX_SURFACE_STEPS),
              help="Updates per path (default: per function).")
@click.option("--start", callback=parse_point, help="Start point X,Y (default: per function).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object on the last line.")
@friendly_errors
def surface(function, names, lrs, steps, start, as_json) -> None:
    """Walk optimizers down a 2-D test function and see where each one ends."""
    from ..engine import optimizers
    from ..engine.numbers import figure
    from ..engine.surfaces import SURFACES, path_result, run_paths
    from ..experiments.lab import RaceEntry, entry_labels

    surf = SURFACES[function]
    steps = surf.steps if steps is None else steps
    start = surf.start if start is None else start
    entries = [RaceEntry(n, surf.default_lr(n) if lr is None else lr) for n, lr in zip(names, lrs_for(names, lrs))]
    opts = {label: optimizers.create(e.optimizer, lr=e.lr) for label, e in zip(entry_labels(entries), entries)}
    results = {label: path_result(surf, path, steps) for label, path in run_paths(surf, opts, start, steps).items()}
    runs = [{
        "label": label,
        "optimizer": opts[label].name,
        "lr": opts[label].lr,
        "final_point": list(r.final_point),
        "final_value": r.final_value,
        "distance_to_minimum": r.distance,
        "nearest_minimum": r.nearest,
        "diverged": r.diverged,
        "steps": r.steps,
    } for label, r in results.items()]
    if as_json:
        minima = [{"x": m.x, "y": m.y, "label": m.label} for m in surf.minima]
        click.echo(json.dumps({"function": function, "start": list(start), "steps": steps, "minima": minima,
                               "runs": runs}))
        return
    _echo_wrapped(f"{function}: {surf.description}")
    click.echo(f"start ({start[0]:g}, {start[1]:g}), f = {surf.f(*start):.4g}, {steps} steps")
    points = [f"({r['final_point'][0]:.4g}, {r['final_point'][1]:.4g})" for r in runs]
    wide = max(len("final point"), *map(len, points))  # the columns as wide as what they hold
    label = max(len("path"), *(len(r["label"]) for r in runs)) + 2
    click.echo(f"{'path':<{label}}{'lr':>9}  {'final point':>{wide}}  {'f':>11}  {'to minimum':>11}")
    for r, point in zip(runs, points):
        near = "" if r["nearest_minimum"] is None else f" ({r['nearest_minimum']})"
        status = f"  diverged after {r['steps']} steps" if r["diverged"] else ""
        click.echo(f"{r['label']:<{label}}{r['lr']:>9g}  {point:>{wide}}  {r['final_value']:>11.4g}"
                   f"  {figure(r['distance_to_minimum'], short=False, missing='-'):>11}{near}{status}")
