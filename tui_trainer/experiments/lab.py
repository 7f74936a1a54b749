"""The optimizer lab without a UI: optimizer races and learning-rate sweeps.

A race trains several optimizers (or batch modes, or learning rates) side by side on one
dataset. Every lane starts from bit-identical weights and sees the same batches in the same
order, so the only difference between lanes is what is being compared. ``Race.step`` advances
every lane by one update, so a worker thread can drive a race step by step, check its own
cancel flag in between and read progress from plain attributes; ``Race.run`` is the loop for
scripts.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .config import ExperimentConfig
from ..engine import Network, optimizers
from ..engine.datasets import Dataset
from ..engine.trainer import EpochRecord, StepRecord, Trainer
from .experiment import Experiment
from .hparam_text import hparam_text
from .results import ended_numbers, no_numbers

SWEEP_TOLERANCE = 0.1
"""``suggest_lr`` takes the smallest rate whose loss is this close (as a fraction of the best
rate's improvement) to the best loss of the sweep."""


@dataclass
class RaceEntry:
    """One lane of a race: an optimizer with its learning rate and other hyperparameters."""

    optimizer: str
    lr: float | None = None
    """None: the optimizer's racing learning rate (``race_lr``; its torch default if it has none)."""
    hparams: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    """None: made from the optimizer's name (and its learning rate or batch mode if needed to
    tell the lanes apart)."""
    batch_size: int | str | None = None
    """None: the config's batch size."""


def batch_mode_label(batch_size: int | str) -> str:
    """``full``, ``single`` or ``mini(k)``: the batch mode a batch size means."""
    if batch_size == "full":
        return "full"
    return "single" if batch_size == 1 else f"mini({batch_size})"


def batch_mode_entries(optimizer: str, batch_sizes, lr: float | None = None,
                       hparams: dict[str, Any] | None = None) -> list[RaceEntry]:
    """Entries that race one optimizer over batch modes, e.g. ``["full", 32, 1]``."""
    return [RaceEntry(optimizer, lr, dict(hparams or {}), batch_mode_label(size), size) for size in batch_sizes]


@dataclass(frozen=True)
class LaneMark:
    """Where a lane stood at the end of an epoch (epoch 0: the shared start), in each unit a race
    can be compared by: updates, samples seen and seconds of its own training."""

    epoch: int
    steps: int
    samples: int
    seconds: float
    cost: float
    """The cost over the training set."""


class Lane:
    """One entry's own network, optimizer and trainer, and what the race recorded about it."""

    def __init__(self, entry: RaceEntry, label: str, trainer: Trainer, race: Race) -> None:
        self.entry, self.label, self.trainer = entry, label, trainer
        self.losses: list[float] = []
        """The batch loss of every update, in order."""
        self.seconds = 0.0
        """Time spent in this lane's updates (epoch-end evaluation, the same for all, excluded)."""
        self.steps_to_target: int | None = None
        """Updates made when the cost first reached the race's target loss; None until then."""
        self.marks: list[LaneMark] = [LaneMark(0, 0, 0, 0.0, race.initial_loss)]
        """One per epoch end, the shared start first."""
        self._race = race
        self._started = 0.0
        """When the update in progress began."""
        trainer.on_step = self._after_update
        trainer.on_epoch = self._after_epoch

    @property
    def samples_seen(self) -> int:
        """Training samples the updates so far have used (an epoch's last batch may be smaller)."""
        t = self.trainer
        n = len(t.data.X_train)
        epochs, rest = divmod(t.step_count, t.steps_per_epoch)
        return epochs * n + rest * (n if t.batch_size == "full" else min(t.batch_size, n))

    def reached(self, target: float) -> LaneMark | None:
        """The first epoch end at which the cost was at most ``target`` (None: none yet), as
        ``steps_to_target`` counts it: a race's start, before any update, is not one."""
        return next((mark for mark in self.marks[1:] if mark.cost <= target), None)

    @property
    def diverged(self) -> bool:
        return self.trainer.divergence is not None

    def finished(self, epochs: int) -> bool:
        return self.diverged or self.trainer.epoch >= epochs

    def advance(self) -> None:
        """One update, timed up to the end of the optimizer step (see ``_after_update``)."""
        self._started = time.perf_counter()
        self.trainer.step()

    def _after_update(self, record: StepRecord) -> None:
        self.seconds += time.perf_counter() - self._started  # before the epoch's end counts it
        self.losses.append(record.loss)
        if self._race.on_step is not None:
            self._race.on_step(self, record)

    def _after_epoch(self, record: EpochRecord) -> None:
        self.marks.append(LaneMark(record.epoch, record.step, self.samples_seen, self.seconds, record.train_loss))
        target = self._race.target_loss
        if target is not None and self.steps_to_target is None and record.train_loss <= target:
            self.steps_to_target = record.step
        if self._race.on_epoch is not None:
            self._race.on_epoch(self, record)

    def result(self, initial_loss: float) -> dict[str, Any]:
        """The lane's numbers, JSON-friendly; losses and metrics are None once the trainer stopped it
        on a divergence. ``diverged`` follows ``ended_diverged``."""
        t = self.trainer
        ended = no_numbers(t.metric_name) if self.diverged else ended_numbers(t)
        target = self._race.target_loss
        reached = None if target is None else self.reached(target)
        diverged = ended_diverged(self.diverged, ended["train_loss"], initial_loss)
        divergence = None if t.divergence is None else str(t.divergence)
        if diverged and divergence is None:
            divergence = (f"ended at cost {ended['train_loss']:.4g}, above the {initial_loss:.4g} it started from"
                          if ended["train_loss"] is not None else "ended with no finite cost")
        return {
            "label": self.label,
            "optimizer": t.opt.name,
            "lr": t.opt.lr,
            "hparams": {k: v for k, v in t.opt.hparams.items() if k != "lr"},
            "batch_size": t.batch_size,
            "batch_mode": t.batch_mode,
            "updates_per_epoch": t.steps_per_epoch,
            "initial_loss": initial_loss,
            "final_loss": ended.pop("train_loss"),  # the race's name for the cost it ended with
            **ended,  # val_loss, train_/val_accuracy (or _r2)
            "epochs": t.epoch,
            "steps": t.step_count,
            "samples_seen": self.samples_seen,
            "seconds": self.seconds,
            "steps_to_target": self.steps_to_target,
            "samples_to_target": None if reached is None else reached.samples,
            "seconds_to_target": None if reached is None else reached.seconds,
            "seconds_per_step": self.seconds / t.step_count if t.step_count else None,
            "diverged": diverged,
            "divergence": divergence,
        }


class Race:
    """Several lanes trained side by side from the same weights on the same batches.

    Build it, then call ``step()`` until it returns False (or ``run()``). ``on_step(lane,
    StepRecord)`` and ``on_epoch(lane, EpochRecord)`` are called from the stepping thread when
    set. Read ``results()`` between steps, from that same thread: it evaluates the networks.
    """

    def __init__(self, config: ExperimentConfig, entries: list[RaceEntry], *, epochs: int | None = None,
                 target_loss: float | None = None, dataset: Dataset | None = None) -> None:
        if not entries:
            raise ValueError("a race needs at least one entry")
        # the one dataset and initial weight set; the budget counts every lane and this base
        base = Experiment.from_config(config, dataset, networks=len(entries) + 1)
        self.config, self.data, self.loss = config, base.data, base.loss
        self.epochs = config.training.epochs if epochs is None else _check_epochs(epochs)
        self.target_loss = target_loss
        self.on_step: Callable[[Lane, StepRecord], None] | None = None
        self.on_epoch: Callable[[Lane, EpochRecord], None] | None = None
        self.initial_loss = base.trainer.evaluate()["train_loss"]
        """The cost of the shared initial weights: every lane's starting point."""
        self.has_validation = len(base.data.X_val) > 0
        initial = base.net.get_parameters()
        labels = entry_labels(entries)
        self.lanes = [self._lane(entry, label, base.net, initial) for entry, label in zip(entries, labels)]

    def _lane(self, entry: RaceEntry, label: str, like: Network, initial) -> Lane:
        net = Network(like.layer_sizes, like.activations, seed=like.seed, init=like.init, dtype=like.dtype)
        net.set_parameters(initial)
        opt = optimizers.create(entry.optimizer, lr=race_lr(entry.optimizer, entry.lr), **entry.hparams)
        t = self.config.training
        batch_size = t.batch_size if entry.batch_size is None else entry.batch_size
        trainer = Trainer(net, opt, self.data, loss=self.loss, batch_size=batch_size, seed=t.seed)
        return Lane(entry, label, trainer, self)

    @property
    def done(self) -> bool:
        return all(lane.finished(self.epochs) for lane in self.lanes)

    @property
    def progress(self) -> float:
        """The fraction of all lanes' updates made, in [0, 1] (a diverged lane counts as done)."""
        total = made = 0
        for lane in self.lanes:
            needed = self.epochs * lane.trainer.steps_per_epoch
            total += needed
            made += needed if lane.diverged else min(lane.trainer.step_count, needed)
        return made / total

    def step(self) -> bool:
        """One update for every lane still running, in turn; False when none was left to run."""
        running = [lane for lane in self.lanes if not lane.finished(self.epochs)]
        with np.errstate(all="ignore"):  # overflow shows up as divergence, not as warnings
            for lane in running:
                lane.advance()
        return bool(running)

    def run(self, epochs: int | None = None, should_stop: Callable[[], bool] | None = None,
            ) -> list[dict[str, Any]]:
        """Step until every lane has trained ``epochs`` epochs (or diverged), or ``should_stop()``."""
        if epochs is not None:
            self.epochs = _check_epochs(epochs)
        while self.step():
            if should_stop is not None and should_stop():
                break
        return self.results()

    def results(self) -> list[dict[str, Any]]:
        """One dict per lane (see ``Lane.result``), the best lane marked ``best``.

        Best: the lowest validation loss among the lanes that did not diverge (``ended_diverged``);
        the lowest final cost when there is no validation set.
        """
        rows = [lane.result(self.initial_loss) for lane in self.lanes]
        key = "val_loss" if self.has_validation else "final_loss"
        ranked = [row for row in rows if row[key] is not None and not row["diverged"]]
        best = min(ranked, key=lambda row: row[key]) if ranked else None
        for row in rows:
            row["best"] = row is best
        return rows


def ended_diverged(stopped: bool, final_loss: float | None, initial_loss: float) -> bool:
    """The one rule for "diverged" in races, sweeps and the optimizer matrix, in the app and the
    command line alike: the trainer stopped the run (a non-finite or exploding cost, ``stopped``), or
    it ended with no finite cost, or above the cost it started from: it went the wrong way, as a
    diverging run does, even where the cost stayed under the trainer's explosion limit."""
    if stopped or final_loss is None or not math.isfinite(final_loss):
        return True
    return final_loss > initial_loss


def race_lr(optimizer: str, lr: float | None) -> float:
    """``lr``, or the racing default for ``optimizer`` when it is None: its class's ``race_lr``, else
    its default. A rate that makes a fair race on the built-in toy sets: each optimizer's torch
    default is tuned for big networks and would make the SGD family look needlessly slow."""
    if lr is not None:
        return lr
    cls = optimizers.OPTIMIZERS.get(optimizer)
    if cls is not None and cls.race_lr is not None:
        return cls.race_lr
    return optimizers.defaults(optimizer)["lr"]  # ValueError naming the choices for an unknown name


def entry_labels(entries: list[RaceEntry]) -> list[str]:
    """Each entry's label: its own, else its optimizer's name, plus its lr and batch mode where
    other entries share that name. Raises ValueError for two entries with one label."""
    names = [e.optimizer for e in entries]
    labels = []
    for e in entries:
        label = e.label
        if label is None:
            label = e.optimizer
            if names.count(e.optimizer) > 1:
                label += f" lr={hparam_text(race_lr(e.optimizer, e.lr))}"
                if e.batch_size is not None:
                    label += f" {batch_mode_label(e.batch_size)}"
        labels.append(label)
    for label in labels:
        if labels.count(label) > 1:
            raise ValueError(f"two race entries are both labelled {label!r}: give them different learning rates or labels")
    return labels


def _check_epochs(epochs) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    return int(epochs)


# --- learning-rate sweeps -----------------------------------------------------------------------


def sweep_lrs(low: float = 1e-5, high: float = 10.0, points: int = 13) -> list[float]:
    """``points`` learning rates spaced evenly on a log scale from ``low`` to ``high``."""
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"need 0 < low < high for a sweep, got low={low!r}, high={high!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise ValueError(f"a sweep needs at least 2 points, got {points!r}")
    return [float(lr) for lr in np.geomspace(low, high, int(points))]


def sweep_race(config: ExperimentConfig, optimizer: str, lrs=None, epochs: int = 10,
               hparams: dict[str, Any] | None = None, dataset: Dataset | None = None) -> Race:
    """A race of one optimizer at many learning rates (``sweep_lrs()`` by default)."""
    lrs = sweep_lrs() if lrs is None else sorted(lrs)
    entries = [RaceEntry(optimizer, lr, dict(hparams or {}), f"lr={hparam_text(lr)}") for lr in lrs]
    return Race(config, entries, epochs=epochs, dataset=dataset)


def suggest_lr(runs: list[dict[str, Any]], initial_loss: float) -> float | None:
    """The smallest rate that got (nearly) as far as the best one; None if every rate diverged.

    Taking the rate with the lowest loss would pick one at the edge of divergence, where a
    different seed or a longer run blows up. So: among the rates that did not diverge, find
    the lowest final cost, and suggest the smallest rate whose cost is within
    ``SWEEP_TOLERANCE`` of that best improvement over ``initial_loss``.
    """
    finished = [run for run in runs if run["final_loss"] is not None and not run["diverged"]]
    if not finished:
        return None
    best = min(run["final_loss"] for run in finished)
    good_enough = best + SWEEP_TOLERANCE * max(initial_loss - best, 0.0)
    return min(run["lr"] for run in finished if run["final_loss"] <= good_enough)


@dataclass
class SweepResult:
    """A sweep's runs, lowest rate first, and the rate it suggests."""

    runs: list[dict[str, Any]]
    suggested_lr: float | None
    initial_loss: float


def sweep(config: ExperimentConfig, optimizer: str, lrs=None, epochs: int = 10,
          hparams: dict[str, Any] | None = None, should_stop: Callable[[], bool] | None = None,
          ) -> SweepResult:
    """Short trainings at each rate from the same weights: too high diverges, too low crawls."""
    race = sweep_race(config, optimizer, lrs, epochs, hparams)
    runs = race.run(should_stop=should_stop)
    return SweepResult(runs, suggest_lr(runs, race.initial_loss), race.initial_loss)


# --- the updates to a common level ---------------------------------------------------------------


def auto_target(initial: float, finals: list[float | None]) -> float | None:
    """The highest final cost below the start cost: a level every lane that improved has reached, so the
    updates each needed to get there compare their speed."""
    reached = [cost for cost in finals if cost is not None and cost < initial]
    return max(reached) if reached else None
