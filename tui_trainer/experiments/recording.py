"""Records the app's training as runs in the run store, beside the session that trains.

A run begins when training starts and none is open (fresh weights, or a loaded model continued
as a new run) and ends when the session moves to another experiment (reset, a structural change,
a load) or the app ends: finished if it reached its epochs, diverged, else interrupted. Live
changes (learning rate, optimizer, its settings, batch mode, epochs) are events of the run. The
latest model is written every ``CHECKPOINT_SECONDS`` while training and when the run ends.

Recording must never stop training: the first failure (a runs folder that cannot be written, a
full disk) ends the recording, and ``problem`` says why in one line for the UI to show once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..engine.trainer import EpochRecord, TrainResult
from .headless import summary
from .runs import CHECKPOINT_SECONDS, RunWriter


class Recorder:
    """One session's runs: at most one open at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.writer: RunWriter | None = None
        self.problem = ""
        """Why recording stopped (empty while it works); the UI shows it once and clears it."""
        self._failed = False

    @property
    def run_id(self) -> str | None:
        return None if self.writer is None else self.writer.id

    def _guard(self, action: Callable[[], Any]) -> None:
        if self._failed:
            return
        try:
            action()
        except (OSError, ValueError) as exc:
            self._failed = True
            self.writer = None
            self.problem = f"Runs are not recorded any more: {exc}"

    def begin(self, experiment, source: str) -> None:
        """Open a run for ``experiment`` unless one is open (the UI thread, before training)."""
        if self.writer is None:
            self._guard(lambda: setattr(self, "writer", RunWriter(self.root, experiment.config, source=source)))

    def epoch(self, record: EpochRecord) -> None:
        if self.writer is not None:
            self._guard(lambda: self.writer.epoch(record))

    def step(self, step: int, loss: float) -> None:
        if self.writer is not None:
            self._guard(lambda: self.writer.step(step, loss))

    def event(self, step: int, what: str, **values: Any) -> None:
        if self.writer is not None:
            self._guard(lambda: self.writer.event(step, what, **values))

    def checkpoint_if_due(self, experiment, saved: Callable[[], dict[str, Any]]) -> None:
        """Write the model into the run when the last checkpoint is old enough (the training
        thread); ``saved()`` gives ``Experiment.save``'s other arguments (progress, history)."""
        writer = self.writer
        if writer is not None and writer.checkpoint_due(CHECKPOINT_SECONDS):
            self._guard(lambda: writer.checkpoint(experiment, **saved()))

    def end(self, experiment, saved: Callable[[], dict[str, Any]], *, seconds: float, reached: bool) -> None:
        """Close the open run (where no step runs): the last model, the status and the summary."""
        writer = self.writer
        if writer is None:
            return
        trainer = experiment.trainer
        result = TrainResult(epochs=trainer.epoch, steps=trainer.step_count, seconds=seconds,
                             divergence=trainer.divergence)
        status = "diverged" if result.diverged else "finished" if reached else "interrupted"

        def close() -> None:
            if trainer.step_count:
                writer.checkpoint(experiment, **saved())
            writer.finish(status, summary(experiment, result, interrupted=status == "interrupted"))

        self._guard(close)
        self.writer = None
