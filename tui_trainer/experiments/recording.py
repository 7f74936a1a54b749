"""Records training as runs in the run store: the app's session and ``nn-tui train`` alike.

A run begins when training starts and none is open (fresh weights, or a model continued as a new
run) and ends when its training does: in the app when the session moves to another experiment
(reset, a structural change, a load) or the app ends; on the command line when the command ends.
Its status follows one rule (``run_status``): diverged, finished (the planned epochs reached, or
stopped early), else interrupted. Live changes (learning rate, optimizer, its settings, batch mode,
epochs, the registered settings) are events of the run. The latest model is written every
``every`` seconds while training (``CHECKPOINT_SECONDS`` by default) and when the run ends.

Recording must never stop the app's training: the first failure (a runs folder that cannot be
written, a full disk) ends the recording, and ``problem`` says why in one line for the UI to
show once. A failed checkpoint stops only the checkpoints (the run notes it). With ``strict`` (the
command line) a failure to open or write the run is raised instead, for the command to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..engine.trainer import EpochRecord, TrainResult
from .headless import summary
from .runs import CHECKPOINT_SECONDS, RunWriter


def run_status(result: TrainResult, *, reached: bool, interrupted: bool = False) -> str:
    """How a run ended: ``diverged``; ``interrupted`` when stopped by the user (``interrupted``)
    or before its planned epochs (``reached`` false) without an early stop; else ``finished``."""
    if result.diverged:
        return "diverged"
    if interrupted or not (reached or result.stopped_early):
        return "interrupted"
    return "finished"


class Recorder:
    """One session's runs: at most one open at a time."""

    def __init__(self, root: Path, *, every: float = CHECKPOINT_SECONDS, strict: bool = False) -> None:
        self.root = root
        self.every = every
        """Seconds between the checkpoints written while training."""
        self.strict = strict
        """Raise a failure to open or write the run (the command line) instead of ending the recording."""
        self.writer: RunWriter | None = None
        self.problem = ""
        """Why recording (or checkpointing) stopped (empty while it works); the UI shows it once and clears it."""
        self._failed = False
        self._checkpoints = True

    @property
    def run_id(self) -> str | None:
        return None if self.writer is None else self.writer.id

    def _guard(self, action: Callable[[], Any]) -> None:
        if self._failed:
            return
        try:
            action()
        except (OSError, ValueError) as exc:
            if self.strict:
                raise
            self._failed = True
            self.writer = None
            self.problem = f"Runs are not recorded any more: {exc}"

    def begin(self, experiment, source: str, *, name: str | None = None, **notes: Any) -> None:
        """Open a run for ``experiment`` unless one is open (before training), named ``name``,
        with ``notes`` in its ``run.json`` (e.g. ``out``)."""
        if self.writer is not None:
            return

        def open_run() -> None:
            writer = RunWriter(self.root, experiment.config, source=source, name=name)
            self.writer, self._checkpoints = writer, True
            if notes:
                writer.note(**notes)

        self._guard(open_run)

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
        """Write the model into the run when the last checkpoint is ``every`` seconds old (the
        training thread); ``saved()`` gives ``Experiment.save``'s other arguments (progress,
        history). A failure (e.g. a full disk) stops the checkpoints until the run ends, not the
        training: the run says why (a ``checkpoint_failed`` event)."""
        writer = self.writer
        if writer is None or not self._checkpoints or not writer.checkpoint_due(self.every):
            return
        try:
            writer.checkpoint(experiment, **saved())
        except OSError as exc:
            self._checkpoints = False
            reason = exc.strerror or str(exc)
            self.problem = f"Run {writer.id}: checkpoints stopped ({reason})"
            self.event(experiment.trainer.step_count, "checkpoint_failed", error=reason)

    def end(self, experiment, saved: Callable[[], dict[str, Any]], *, result: TrainResult, reached: bool,
            interrupted: bool = False, report: dict[str, Any] | None = None) -> None:
        """Close the open run (where no step runs): the last model (when it was trained), the
        status (``run_status``) and the summary (``report``, else ``headless.summary``). A last
        checkpoint that cannot be written is noted in the run and in ``problem``; the run still ends."""
        writer = self.writer
        if writer is None:
            return
        status = run_status(result, reached=reached, interrupted=interrupted)
        if report is None:
            report = summary(experiment, result, interrupted=status == "interrupted")

        def close() -> None:
            if experiment.trainer.step_count:
                try:
                    writer.checkpoint(experiment, **saved())
                except (OSError, ValueError) as exc:
                    reason = getattr(exc, "strerror", None) or str(exc)
                    self.problem = f"run {writer.id}: the final checkpoint was not written ({reason})"
                    writer.note(checkpoint_error=reason)
            writer.finish(status, report)

        try:
            self._guard(close)
        finally:
            self.writer = None
