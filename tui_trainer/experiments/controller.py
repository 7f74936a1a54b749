"""What the training controllers share: the loop the UI runs on a worker thread, and its pace of copies.

A controller (the ``Session`` of the main run, a ``RaceSession`` of the optimizer lab) is driven from
the UI thread and trains on one worker thread: ``prepare_run`` on the UI thread, then ``run(emit)``
on the worker, which hands ``emit`` copies (never live arrays) at most ``SNAPSHOT_INTERVAL`` apart
and a last one when it returns; ``stop`` from any thread makes ``run`` return after the current
step. Nothing here imports Textual: the app drives every controller through one link
(``tui_trainer.tui.training``), tests and benchmarks drive them directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

SNAPSHOT_INTERVAL = 0.25
"""Seconds between copies while training: the panes redraw at most 4 times a second, which looks
live and leaves the training thread most of the interpreter (they share one GIL; each redraw of
the main screen costs the UI thread ~30 ms of Python at 120x36)."""


class Controller(ABC):
    """A training loop the UI drives: one worker thread runs it, any thread may stop it."""

    @abstractmethod
    def prepare_run(self, *, single_step: bool = False) -> None:
        """On the UI thread, before the worker starts: ready to run (a stop asked for before the
        worker began must still count, so ``run`` itself clears no stop request)."""

    @abstractmethod
    def run(self, emit: Callable[[Any], None]) -> None:
        """Train until done or stopped, handing copies to ``emit``; on the worker thread."""

    @abstractmethod
    def stop(self) -> None:
        """Make a running ``run`` return after its current step (from any thread)."""
