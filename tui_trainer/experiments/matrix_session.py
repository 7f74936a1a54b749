"""The optimizer matrix as a training controller: ``run_matrix`` behind the UI's one worker link.

A ``MatrixSession`` is one run of the matrix (``experiments.matrix``): ``run`` spreads the trainings
over worker processes and hands ``emit`` a copy of the cells finished so far after each training
(``MatrixProgress``), and a last one marked ``final`` when it returns; ``stop`` from any thread makes
it return within ~50 ms, the worker processes ended at once (their trainings in progress are lost,
the cells finished stay). It implements the contract of ``controller.Controller``, so the app runs
it through the same ``TrainingLink`` as the main session and the races. No Textual here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from .config import ExperimentConfig
from .controller import Controller
from .matrix import MatrixResult, Protocol, run_matrix, tasks


@dataclass(frozen=True)
class MatrixProgress:
    """A copy of the matrix so far: its cells, the trainings done of all, and whether it returned."""

    result: MatrixResult
    done: int
    total: int
    final: bool = False


def copied(result: MatrixResult) -> MatrixResult:
    """``result`` with its own list of cells (the cells themselves are never changed)."""
    return MatrixResult(result.protocol, list(result.datasets), list(result.optimizers), list(result.cells),
                        result.score)


class MatrixSession(Controller):
    """One run of the matrix: every optimizer of ``optimizers`` on every dataset of ``datasets`` as
    ``protocol`` says, over ``workers`` processes (None: one per core; 1: on the worker thread)."""

    def __init__(self, config: ExperimentConfig, datasets: list[str], optimizers: list[str],
                 protocol: Protocol, workers: int | None = None) -> None:
        self.config, self.protocol, self.workers = config, protocol, workers
        self.datasets, self.optimizers = list(datasets), list(optimizers)
        self.total = len(tasks(config, self.datasets, self.optimizers, protocol))
        """The trainings of the whole matrix."""
        self._stop = threading.Event()

    def prepare_run(self, *, single_step: bool = False) -> None:
        """Nothing to ready: a session runs once (a stop asked for already still counts)."""

    def stop(self) -> None:
        self._stop.set()

    def run(self, emit: Callable[[MatrixProgress], None]) -> None:
        """Train the matrix (``ValueError`` for settings or data it cannot use); on the worker thread."""
        done = 0

        def progress(finished: int, total: int, result: MatrixResult) -> None:
            nonlocal done
            done = finished
            emit(MatrixProgress(copied(result), finished, total))

        result = run_matrix(self.config, self.datasets, self.optimizers, self.protocol, workers=self.workers,
                            on_progress=progress, should_stop=self._stop.is_set)
        emit(MatrixProgress(copied(result), done, self.total, final=True))
