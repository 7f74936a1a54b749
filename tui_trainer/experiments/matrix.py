"""Which optimizer suits which task, measured the way trusted optimizer benchmarks measure it.

One seed with hand-picked rates crowns a different winner each time it is run. So, as DeepOBS and
Schmidt et al. ("Descending through a Crowded Valley", ICML 2021) do:

- **Equal tuning budget.** Every optimizer's learning rate is picked from the same log grid, trained
  over the same horizon as the comparison and scored on the validation loss (``Protocol``). Rates
  given by hand (``fixed_lrs``) are reported as fixed rates, not as tuned ones.
- **Repeats.** Every (dataset, optimizer, rate) trains once per seed. Within a seed every lane
  starts from the same weights and sees the same batches (one ``Race`` per dataset, seed and
  optimizer, whose weights and batch order come from the seed alone).
- **Spread.** A cell is the median and the range (lowest, highest) of the score over the seeds
  that did not diverge (``ended_diverged``); diverged seeds are counted, never ranked.
- **Verdicts.** A dataset has a winner only when the best cell's whole range lies below the
  runner-up's; otherwise the verdict is a tie between every optimizer whose range reaches the
  best one's (``verdict``).

The trainings are independent, so ``run_matrix`` spreads them over processes (one per core by
default): a pure-Python training loop holds the interpreter lock, and processes keep both the
cores and, in the app, the event loop free.
"""

from __future__ import annotations

import math
import os
import sys
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..engine.numbers import compact
from .compute import THREAD_VARIABLES
from .config import ExperimentConfig, with_overrides
from .lab import Race, RaceEntry, _check_epochs
from .limits import MATRIX_SEEDS
from .wording import plural

LR_GRID = tuple(float(f"{lr:.2g}") for lr in np.geomspace(1e-4, 1.0, 7))
"""The rates every optimizer is tuned over: 7 on a log scale from 1e-4 to 1 (a factor of ~4.6 apart),
to two significant digits, as the screens write them: 1e-4, 4.6e-4, 0.0022, 0.01, 0.046, 0.22, 1."""
DEFAULT_EPOCHS = 30
MATRIX_DATASETS = ("spiral", "moons", "sine", "digits")
"""The datasets of the matrix by default: two toy classifications, a regression and real images."""


@dataclass(frozen=True)
class Protocol:
    """How the matrix is measured: seeds, the rate grid (or fixed rates) and the horizon."""

    seeds: int = MATRIX_SEEDS
    epochs: int = DEFAULT_EPOCHS
    lr_grid: tuple[float, ...] = LR_GRID
    fixed_lrs: tuple[tuple[str, float], ...] | None = None
    """(optimizer, rate) pairs: each optimizer trains at its one rate, no tuning."""
    first_seed: int = 0
    """Seeds ``first_seed`` .. ``first_seed + seeds - 1`` seed the data, the weights and the batches."""

    def __post_init__(self) -> None:
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds must be a whole number >= 1, got {self.seeds!r}")
        _check_epochs(self.epochs)
        if not self.lr_grid or any(not (math.isfinite(lr) and lr > 0) for lr in self.lr_grid):
            raise ValueError(f"the rate grid needs positive finite rates, got {self.lr_grid!r}")

    @property
    def tuned(self) -> bool:
        return self.fixed_lrs is None

    def rates(self, optimizer: str) -> tuple[float, ...]:
        """The rates ``optimizer`` trains at: the grid, or its fixed rate."""
        if self.fixed_lrs is None:
            return self.lr_grid
        return (dict(self.fixed_lrs)[optimizer],)

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def describe(self, score: str = "val_loss") -> str:
        """The protocol in one line: ``5 seeds, lr tuned per optimizer over 7 rates (1e-4..1) on
        val loss, 30 epochs``."""
        if self.tuned:
            rates = (f"lr tuned per optimizer over {plural(len(self.lr_grid), 'rate')} "
                     f"({rate_text(min(self.lr_grid))}..{rate_text(max(self.lr_grid))}) on {score_name(score)}")
        else:
            rates = "fixed rates"
        seeds = plural(self.seeds, 'seed')
        if self.seeds < MATRIX_SEEDS:
            seeds += f" (fewer than {MATRIX_SEEDS}: a winner may change with the seed)"
        return f"{seeds}, {rates}, {plural(self.epochs, 'epoch')}"

    def as_json(self, score: str = "val_loss") -> dict[str, Any]:
        return {"seeds": self.seeds, "first_seed": self.first_seed,
                "lr_grid": list(self.lr_grid) if self.tuned else None,
                "fixed_lrs": None if self.tuned else dict(self.fixed_lrs),
                "epochs": self.epochs, "score": score, "tuned": self.tuned}


def score_name(score: str) -> str:
    return {"val_loss": "val loss", "final_loss": "final cost"}[score]


def rate_text(lr: float) -> str:
    """A rate of the grid, short: ``1e-4``, ``0.0046``, ``0.22``, ``1``."""
    return f"{lr:.1e}".replace(".0e", "e").replace("e-0", "e-") if lr < 1e-3 else compact(lr, 2)


# --- one training task ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One dataset, seed and optimizer, at every rate of the protocol: one race of those rates."""

    config: ExperimentConfig
    dataset: str
    seed: int
    optimizer: str
    rates: tuple[float, ...]
    epochs: int


@dataclass
class Outcome:
    """What one rate did on one seed: its score (None when it diverged) and its metric."""

    dataset: str
    optimizer: str
    lr: float
    seed: int
    score: float | None
    metric: float | None
    metric_name: str
    score_key: str


def run_task(task: Task, should_stop: Callable[[], bool] | None = None) -> list[Outcome]:
    """Train ``task`` (a race of its rates from the seed's weights, on the seed's batches)."""
    cfg = with_overrides(task.config, dataset=task.dataset, seed=task.seed, epochs=task.epochs)
    entries = [RaceEntry(task.optimizer, lr, label=f"lr={lr!r}") for lr in task.rates]
    race = Race(cfg, entries, epochs=task.epochs)
    rows = race.run(should_stop=should_stop)
    key = "val_loss" if race.has_validation else "final_loss"
    out = []
    for lr, row in zip(task.rates, rows):
        metric_name = "val_accuracy" if "val_accuracy" in row else "val_r2"
        if not race.has_validation:
            metric_name = metric_name.replace("val_", "train_")
        score = None if row["diverged"] else row[key]
        out.append(Outcome(task.dataset, task.optimizer, lr, task.seed, score,
                           None if row["diverged"] else row[metric_name], metric_name, key))
    return out


# --- cells and verdicts --------------------------------------------------------------------------


@dataclass
class Spread:
    """A score over seeds: median and range of the seeds that did not diverge, and how many did."""

    scores: list[float]
    diverged: int

    @property
    def runs(self) -> int:
        return len(self.scores) + self.diverged

    @property
    def median(self) -> float | None:
        """None when most seeds diverged: such a rate has no typical result to rank."""
        if not self.scores or self.diverged * 2 >= self.runs:
            return None
        return float(statistics.median(self.scores))

    @property
    def low(self) -> float | None:
        return min(self.scores) if self.median is not None else None

    @property
    def high(self) -> float | None:
        return max(self.scores) if self.median is not None else None


def spread(values: list[float | None]) -> Spread:
    return Spread([v for v in values if v is not None], sum(v is None for v in values))


def tuning_key(s: Spread) -> tuple[int, float]:
    """Rates are ranked by fewest diverged seeds, then the lowest median score."""
    return (s.diverged, math.inf if s.median is None else s.median)


@dataclass
class Cell:
    """One optimizer on one dataset at its chosen rate: the score over seeds, and the grid tried."""

    dataset: str
    optimizer: str
    lr: float
    score: Spread
    metric: Spread
    metric_name: str
    grid: list[tuple[float, Spread]] = field(default_factory=list)
    """Every rate tried, lowest first, with its score over the seeds (the tuning, shown)."""

    @property
    def ranked(self) -> bool:
        return self.score.median is not None

    def as_json(self) -> dict[str, Any]:
        s, m = self.score, self.metric
        return {"dataset": self.dataset, "optimizer": self.optimizer, "lr": self.lr,
                "median": s.median, "low": s.low, "high": s.high, "diverged": s.diverged, "seeds": s.runs,
                "metric": self.metric_name, "metric_median": m.median, "metric_low": m.low, "metric_high": m.high,
                "grid": [{"lr": lr, "median": g.median, "diverged": g.diverged} for lr, g in self.grid]}


def make_cell(outcomes: list[Outcome]) -> Cell:
    """The cell of one dataset and optimizer from all its (rate, seed) outcomes: the rate with the
    fewest diverged seeds and then the lowest median score."""
    first = outcomes[0]
    by_lr: dict[float, list[Outcome]] = {}
    for o in outcomes:
        by_lr.setdefault(o.lr, []).append(o)
    grid = sorted((lr, spread([o.score for o in group])) for lr, group in by_lr.items())
    lr, score = min(grid, key=lambda item: tuning_key(item[1]))
    chosen = by_lr[lr]
    metric = spread([o.metric if o.score is not None else None for o in chosen])
    return Cell(first.dataset, first.optimizer, lr, score, metric, first.metric_name, grid)


@dataclass
class Verdict:
    """A dataset's verdict: one best optimizer, or a tie between several (best median first)."""

    dataset: str
    best: list[str]
    tie: bool

    def text(self) -> str:
        if not self.best:
            return "no verdict: every optimizer diverged"
        return f"tie: {', '.join(self.best)}" if self.tie else self.best[0]

    def as_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "best": list(self.best), "tie": self.tie}


def verdict(cells: list[Cell]) -> Verdict:
    """The best cell wins only when its whole range lies below the runner-up's; otherwise every
    cell whose range reaches down to the best one's highest seed ties with it."""
    dataset = cells[0].dataset if cells else ""
    ranked = sorted((c for c in cells if c.ranked), key=lambda c: c.score.median)
    if not ranked:
        return Verdict(dataset, [], False)
    best = ranked[0]
    if len(ranked) == 1 or best.score.high < ranked[1].score.low:
        return Verdict(dataset, [best.optimizer], False)
    return Verdict(dataset, [c.optimizer for c in ranked if c.score.low <= best.score.high], True)


@dataclass
class MatrixResult:
    """The cells finished so far (every seed and rate of a dataset and optimizer), and their verdicts."""

    protocol: Protocol
    datasets: list[str]
    optimizers: list[str]
    cells: list[Cell] = field(default_factory=list)
    score: str = "val_loss"

    def cell(self, dataset: str, optimizer: str) -> Cell | None:
        return next((c for c in self.cells if c.dataset == dataset and c.optimizer == optimizer), None)

    def complete(self, dataset: str) -> bool:
        return all(self.cell(dataset, name) is not None for name in self.optimizers)

    @property
    def verdicts(self) -> list[Verdict]:
        """One per dataset whose every optimizer has finished."""
        return [verdict([c for c in self.cells if c.dataset == d]) for d in self.datasets if self.complete(d)]

    def summary(self) -> str:
        """The verdicts in a line: ``spiral: adam; moons: tie (adam, rmsprop, sgd)``."""
        parts = []
        for v in self.verdicts:
            parts.append(f"{v.dataset}: " + (f"tie ({', '.join(v.best)})" if v.tie else v.text()))
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol.as_json(self.score),
                "matrix": [c.as_json() for c in self.cells],
                "verdicts": [v.as_json() for v in self.verdicts]}


# --- running it ------------------------------------------------------------------------------------


def tasks(config: ExperimentConfig, datasets: list[str], optimizers_: list[str], protocol: Protocol) -> list[Task]:
    """Every training of the matrix, a dataset's tasks together (so its row completes first)."""
    return [Task(config, d, seed, name, protocol.rates(name), protocol.epochs)
            for d in datasets for name in optimizers_ for seed in protocol.seed_list]


def default_workers() -> int:
    """One process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


Progress = Callable[[int, int, "MatrixResult"], None]
"""``(tasks done, tasks in all, the result so far)``, called after every finished task."""


def run_matrix(config: ExperimentConfig, datasets: list[str], optimizers_: list[str],
               protocol: Protocol | None = None, *, workers: int | None = None,
               on_progress: Progress | None = None,
               should_stop: Callable[[], bool] | None = None) -> MatrixResult:
    """Train every optimizer on every dataset as ``protocol`` says, over ``workers`` processes (None:
    one per core; 1: in this thread). Stops early, with the cells finished so far, once
    ``should_stop()`` is true. The result does not depend on ``workers``."""
    protocol = protocol or Protocol()
    if not datasets or not optimizers_:
        raise ValueError("a matrix needs at least one dataset and one optimizer")
    if protocol.fixed_lrs is not None:
        missing = [n for n in optimizers_ if n not in dict(protocol.fixed_lrs)]
        if missing:
            raise ValueError(f"no fixed rate for {', '.join(missing)}")
    todo = tasks(config, datasets, optimizers_, protocol)
    result = MatrixResult(protocol, list(datasets), list(optimizers_))
    # one small race first: checks the config and the memory budget here, with a clear error
    Race(with_overrides(config, dataset=datasets[0], epochs=1), [RaceEntry(optimizers_[0], lr)
                                                                  for lr in protocol.rates(optimizers_[0])[:1]])
    gathered: dict[tuple[str, str], list[Outcome]] = {}
    expected = {(d, n): protocol.seeds for d in datasets for n in optimizers_}
    done = 0

    def collect(outcomes: list[Outcome]) -> None:
        nonlocal done
        done += 1
        key = (outcomes[0].dataset, outcomes[0].optimizer)
        result.score = outcomes[0].score_key  # what was scored: without a validation set, the final cost
        gathered.setdefault(key, []).extend(outcomes)
        if len(gathered[key]) == expected[key] * len(outcomes):
            result.cells.append(make_cell(gathered[key]))
            result.cells.sort(key=lambda c: (datasets.index(c.dataset), optimizers_.index(c.optimizer)))
        if on_progress is not None:
            on_progress(done, len(todo), result)

    stop = should_stop or (lambda: False)
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or len(todo) == 1:
        for task in todo:
            if stop():
                break
            outcomes = run_task(task, stop)
            if stop():
                break
            collect(outcomes)
        return result
    _start_resource_tracker_quietly()
    with _single_threaded_blas():  # the worker processes start here, with these variables
        pool = _context().Pool(min(workers, len(todo)), initializer=_quiet_worker)
    try:
        pending = [pool.apply_async(run_task, (task,)) for task in todo]
        while pending and not stop():
            pending[0].wait(0.05)
            still = []
            for job in pending:
                if job.ready():
                    collect(job.get())  # a task's error is raised here
                else:
                    still.append(job)
            pending = still
    finally:
        pool.terminate()  # a stop ends the trainings in progress at once; a finished pool has none
        pool.join()
    return result


def _start_resource_tracker_quietly() -> None:
    """Start multiprocessing's resource tracker (every spawned pool needs one) writing to /dev/null.

    It would inherit ``sys.stderr``'s file descriptor: in the app that is Textual's capture, whose
    ``fileno()`` is -1 (starting it fails), and its messages must never reach the app's terminal."""
    from multiprocessing import resource_tracker

    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


def _quiet_worker() -> None:
    """A worker process writes nothing to the terminal (in the app, that would draw over the screen):
    its results and errors come back through the pool."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _context():
    """Fresh worker processes: forking a process that runs threads (the app) is not safe."""
    import multiprocessing

    return multiprocessing.get_context("spawn")


class _single_threaded_blas:
    """Worker processes start with one BLAS thread each: the matrices are small, and one process
    per core already keeps every core busy."""

    names = THREAD_VARIABLES

    def __enter__(self) -> None:
        self.saved = {n: os.environ.get(n) for n in self.names}
        for n in self.names:
            os.environ[n] = "1"

    def __exit__(self, *exc) -> None:
        for n, value in self.saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value
