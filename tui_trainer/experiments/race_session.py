"""Runs a race (or a learning-rate sweep, a race of one optimizer at many rates) for the UI.

The race's counterpart of ``Session``: the UI thread calls ``prepare_run`` and ``stop``; the worker
thread calls ``run``, which builds the race on its first call (reading a CSV or drawing weights
takes a while), steps it and hands a ``RaceSnapshot`` (copies only) to ``emit`` at most
``SNAPSHOT_INTERVAL`` apart, and a last one when it returns, with the results once every lane is
done. Pausing is stopping: ``run`` again carries on where the race was.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..engine.trainer import EpochRecord
from .controller import SNAPSHOT_INTERVAL, Controller
from .lab import Lane, Race


X_AXES = ("epoch", "updates", "samples", "seconds")
"""What a race's progress can be measured in: epochs, updates, training samples seen, seconds of training."""


@dataclass(frozen=True)
class LaneSnapshot:
    """One lane's progress, as copies: safe to keep on the UI thread."""

    label: str
    epochs: np.ndarray
    """Epochs at which ``costs`` were measured: 0 (the shared start), 1, 2, ..."""
    costs: np.ndarray
    """The cost over the training set at those epochs."""
    at_updates: np.ndarray
    """Updates made by those epochs' ends."""
    at_samples: np.ndarray
    """Training samples seen by then (an epoch's worth per epoch, whatever the batch mode)."""
    at_seconds: np.ndarray
    """Seconds of this lane's own updates by then (the shared epoch-end evaluation not counted)."""
    val_loss: float | None
    metric: float | None
    """Training accuracy or R^2 at the latest epoch end."""
    val_metric: float | None
    steps: int
    steps_per_epoch: int
    samples_per_epoch: int
    """Training samples: the samples seen in one epoch."""
    diverged: bool
    seconds_per_step: float | None

    def steps_to(self, target: float) -> int | None:
        """Updates made when the epoch-end cost first reached ``target`` (None: not yet), for a
        target chosen after the race (a race given one counts it itself: ``Lane.steps_to_target``)."""
        reached = self.to(target, "updates")
        return None if reached is None else int(reached)

    def along(self, axis: str) -> np.ndarray:
        """Where the costs were measured on ``axis``: one of ``X_AXES``."""
        return {"epoch": self.epochs, "updates": self.at_updates, "samples": self.at_samples,
                "seconds": self.at_seconds}[axis]

    def to(self, target: float, axis: str) -> float | None:
        """How far along ``axis`` (``X_AXES``) the epoch-end cost first reached ``target``; None: not yet."""
        reached = np.flatnonzero(self.costs <= target)
        return None if not len(reached) else float(self.along(axis)[reached[0]])


@dataclass(frozen=True)
class RaceSnapshot:
    """A race's progress (and, once finished, its results)."""

    progress: float
    initial_loss: float
    metric_name: str
    """``accuracy`` or ``r2``."""
    summary: str
    """The network, e.g. ``2 -> 16 -> 16 -> 1``."""
    lanes: tuple[LaneSnapshot, ...]
    results: tuple[dict[str, Any], ...] | None
    """``Race.results()`` once every lane is done; None before."""
    target: float | None = None
    """The target cost steps-to-target are counted to."""


class RaceSession(Controller):
    """One race for the UI: built from ``build`` on the worker thread, stepped until done or stopped."""

    def __init__(self, build: Callable[[], Race]) -> None:
        self._build = build
        self.race: Race | None = None
        """The race, once built; only the worker thread touches it while ``run`` runs."""
        self._latest: dict[str, EpochRecord] = {}
        self._stop = threading.Event()
        self.stepping = False
        """True while a thread is inside ``run``: it builds or steps the race (read from any thread)."""

    @property
    def done(self) -> bool:
        """Whether every lane has finished (read between runs)."""
        return self.race is not None and self.race.done

    def prepare_run(self, *, single_step: bool = False) -> None:
        self._stop.clear()

    def stop(self) -> None:
        self._stop.set()

    def run(self, emit: Callable[[RaceSnapshot], None]) -> None:
        """Build the race if needed (``ValueError`` for settings or data it cannot use), then step it."""
        self.stepping = True
        try:
            self._run(emit)
        finally:
            self.stepping = False

    def _run(self, emit: Callable[[RaceSnapshot], None]) -> None:
        if self.race is None:
            race = self._build()
            race.on_epoch = self._record
            self.race = race
        race = self.race
        emit(self.snapshot())
        last = time.perf_counter()
        with np.errstate(all="ignore"):
            while not self._stop.is_set():
                if not race.step():
                    emit(self.snapshot())
                    return
                if time.perf_counter() - last >= SNAPSHOT_INTERVAL:
                    last = time.perf_counter()
                    emit(self.snapshot())
        emit(self.snapshot())

    def _record(self, lane: Lane, record: EpochRecord) -> None:
        """Each lane's epoch-end numbers, as the race reports them (on the worker thread)."""
        self._latest[lane.label] = record

    def snapshot(self) -> RaceSnapshot:
        """Copies of what the UI shows, with ``race.results()`` once done (it evaluates the
        networks); from the thread that steps, or between runs."""
        race = self.race
        assert race is not None, "the race is built by the first run"
        lanes = []
        for lane in race.lanes:
            curve = np.array([(m.epoch, m.cost, m.steps, m.samples, m.seconds) for m in lane.marks], dtype=float)
            rec = self._latest.get(lane.label)
            t = lane.trainer
            lanes.append(LaneSnapshot(
                label=lane.label,
                epochs=curve[:, 0].copy(),
                costs=curve[:, 1].copy(),
                at_updates=curve[:, 2].copy(),
                at_samples=curve[:, 3].copy(),
                at_seconds=curve[:, 4].copy(),
                val_loss=None if rec is None else rec.val_loss,
                metric=None if rec is None else rec.train_metric,
                val_metric=None if rec is None else rec.val_metric,
                steps=t.step_count,
                steps_per_epoch=t.steps_per_epoch,
                samples_per_epoch=len(t.data.X_train),
                diverged=lane.diverged,
                seconds_per_step=lane.seconds / t.step_count if t.step_count else None,
            ))
        first = race.lanes[0].trainer
        results = tuple(race.results()) if race.done else None
        return RaceSnapshot(race.progress, race.initial_loss, first.metric_name, first.net.summary(),
                            tuple(lanes), results, race.target_loss)
