"""Records training as runs in the run store: the app's session and ``nn-tui train`` alike.

A run begins when training starts and none is open (fresh weights, or a model continued as a new
run) and ends when its training does: in the app when the session moves to another experiment
(reset, a structural change, a load) or the app ends; on the command line when the command ends.
Its status follows one rule (``run_status``): diverged, finished (the planned epochs reached, or
stopped early), else interrupted. Live changes (learning rate, optimizer, its settings, batch mode,
epochs, the registered settings) are events of the run. The latest model is written every
``every`` seconds while training (``CHECKPOINT_SECONDS`` by default) and when the run ends.

Recording must never stop training, in the app or on the command line: the first failure to
write the run (a runs folder that cannot be written, a full disk) ends the recording (the run is
closed as interrupted where it can be), and ``problem`` says why in one line naming the file, for
the UI to show once and for ``on_problem`` (the command line's warning). A failed checkpoint stops
only the checkpoints (the run notes it). With ``strict`` (the command line) a failure to open the
run is raised instead, for the command to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..engine.text import visible
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

    def __init__(self, root: Path, *, every: float = CHECKPOINT_SECONDS, strict: bool = False,
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.every = every
        """Seconds between the checkpoints written while training."""
        self.strict = strict
        """Raise a failure to open the run (the command line) instead of not recording it."""
        self.on_problem = on_problem
        """Called with each ``problem`` as it arises (the command line prints it as a warning)."""
        self.writer: RunWriter | None = None
        self.problem = ""
        """Why recording (or checkpointing) stopped (empty while it works); the UI shows it once and clears it."""
        self._failed = False
        self._checkpoints = True

    @property
    def run_id(self) -> str | None:
        return None if self.writer is None else self.writer.id

    def _say(self, problem: str) -> None:
        self.problem = problem
        if self.on_problem is not None:
            self.on_problem(problem)

    def _guard(self, action: Callable[[], Any], *, strict: bool = False) -> None:
        if self._failed:
            return
        try:
            action()
        except (OSError, ValueError) as exc:
            if strict:
                raise
            writer, self.writer = self.writer, None
            self._failed = True
            if writer is not None and not writer.finished:
                try:  # its heartbeat stops; closed as interrupted if run.json can still be written
                    writer.finish("interrupted")
                except (OSError, ValueError):
                    pass
            where = "" if writer is None else f" (run {visible(writer.id)})"
            self._say(f"Runs are not recorded any more{where}: {_reason(exc)}; the training goes on")

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

        self._guard(open_run, strict=self.strict)

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
            reason = _reason(exc)
            self._say(f"Run {visible(writer.id)}: checkpoints stopped ({reason}); the training goes on")
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
                    reason = _reason(exc)
                    if self._checkpoints:  # else said already: "checkpoints stopped"
                        self._say(f"Run {visible(writer.id)}: the final checkpoint was not written ({reason})")
                    writer.note(checkpoint_error=reason)
            writer.finish(status, report)

        try:
            self._guard(close)
        finally:
            self.writer = None


def _reason(exc: Exception) -> str:
    """A failure to write the run, in a few words naming the file (``metrics.jsonl: No space left
    on device``)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{visible(exc.filename)}: {exc.strerror}" if exc.filename else exc.strerror
    return visible(str(exc))
