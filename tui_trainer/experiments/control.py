"""Pause, single steps, pace, stop and the command queue of a training run on a worker thread.

The engine's ``Trainer`` only steps: ``Trainer.run(epochs, before_step=...)`` asks a hook before
every update whether to go on. ``TrainingControl`` is that hook for a run on a worker thread that
another thread (the UI, a signal handler) steers. It holds the loop while paused, lets one update
through per ``request_step``, keeps a pace of at most so many updates a second, ends the run on
``stop``, and runs every change to the network, optimizer or batches (``submit``) where no step
is in progress: at once while the loop waits or no loop runs, else on the training thread before
its next step, in the order they came. One control serves a session for its whole life, so the
pace survives a rebuild.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..engine.trainer import Trainer, TrainResult

GIVE_WAY_SECONDS = 0.1
"""How long the loop gives way after a key (``give_way``): longer than a key takes to show."""
GIVE_WAY_REST = 0.001
"""The rest before each step meanwhile (it lets the other thread take the interpreter lock)."""


class TrainingControl:
    """Steers a ``Trainer.run`` on another thread (see the module docstring)."""

    def __init__(self) -> None:
        self.pace: float | None = None
        """Most updates a second (None: as fast as possible); see ``set_pace``."""
        self.paused_seconds = 0.0
        """Time runs have spent waiting while paused (so elapsed time can leave it out)."""
        self.clock: Callable[[], float] = time.perf_counter
        """What ``paused_seconds`` is measured with, and what a caller measures training time
        with beside it (a test may put a clock it moves by hand here)."""
        self._run = threading.Event()
        self._run.set()
        self._stop = threading.Event()
        self._nudge = threading.Event()  # wakes a wait between paced steps
        self._lock = threading.Lock()
        self._step_requests = 0
        self._pending: list[Callable[[], None]] = []
        self._next_due = 0.0
        self._paced_at: float | None = None
        self._looping = False
        self._waiting = False  # the loop is paused and waits: nothing touches the network
        self._give_way_until = 0.0

    # -- from any thread -----------------------------------------------------------------------

    def pause(self) -> None:
        """Hold the loop before its next step."""
        self._run.clear()
        self._nudge.set()

    def resume(self) -> None:
        """Let a paused loop go on."""
        self._run.set()

    @property
    def paused(self) -> bool:
        return not self._run.is_set()

    @property
    def looping(self) -> bool:
        """Whether a run is in progress."""
        return self._looping

    @property
    def waiting(self) -> bool:
        """Whether a running loop is waiting between steps (paused, or keeping its pace): no step is
        in progress, nothing touches the network, and ``submit`` runs a change at once."""
        return self._waiting

    def request_step(self) -> None:
        """Let a paused loop make exactly one more update."""
        with self._lock:
            self._step_requests += 1
        self.wake()

    def stop(self) -> None:
        """End the loop after the current step (also wakes a paused loop); asked before a run
        has begun, that run returns at once."""
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        """Make a waiting loop look again at once (after a change that may end the run)."""
        self._run.set()
        self._nudge.set()

    def give_way(self, seconds: float = GIVE_WAY_SECONDS) -> None:
        """For ``seconds`` from now the loop rests ``GIVE_WAY_REST`` before each step: a step loop at
        full speed holds Python's interpreter lock most of the time, and a key handled meanwhile
        waits for it (the app calls this on every key, so what the key does shows at once)."""
        self._give_way_until = time.perf_counter() + seconds

    def set_pace(self, steps_per_second: float | None) -> None:
        """Make at most this many updates a second (None: as fast as possible); at once."""
        if steps_per_second is not None and not steps_per_second > 0:
            raise ValueError(f"pace must be a positive number of steps per second or None, got {steps_per_second!r}")
        self.pace = steps_per_second
        self._nudge.set()

    def submit(self, fn: Callable[[], None]) -> bool:
        """Run ``fn`` (any change to the network, optimizer or batches) where it cannot race a step.

        At once when no loop runs or while the loop waits (paused, or between paced steps):
        True. Else on the training thread before its next step, in the order submitted: False.
        """
        with self._lock:
            if self._looping and not self._waiting:
                self._pending.append(fn)
                return False
            fn()
            return True

    def reset(self) -> None:
        """Forget the requests of a previous trainer: not paused, no step asked, no stop (not while
        a run is in progress; the pace stays)."""
        self._run.set()
        self._stop.clear()
        with self._lock:
            self._step_requests = 0

    # -- on the training thread ----------------------------------------------------------------

    def run(self, trainer: "Trainer", epochs: int, on_pause: Callable[[], None] | None = None) -> "TrainResult":
        """``trainer.run(epochs)`` under this control; ``on_pause`` is called (from the training
        thread) each time the loop starts to wait while paused. A ``stop()`` made before the run
        began counts; the request is used up when the run returns."""
        with self._lock:
            self._looping = True
        self._next_due = time.perf_counter()
        try:
            result = trainer.run(epochs, before_step=lambda: self._before_step(trainer, on_pause))
        finally:
            with self._lock:
                self._looping = False
            self._apply_pending()
        stopped = self._stop.is_set()
        self._stop.clear()
        return dataclasses.replace(result, stopped=stopped)

    def _before_step(self, trainer: "Trainer", on_pause: Callable[[], None] | None) -> bool:
        """Apply queued changes, wait while paused or for the pace; False ends the run."""
        while not self._stop.is_set():
            self._apply_pending()  # a change of ``run_to`` counts before the check below
            if trainer.epoch >= trainer.run_to:
                return False
            if not self._run.is_set():
                if on_pause is not None:
                    on_pause()
                waited = self.clock()
                self._wait_idle(self._run.wait)
                self.paused_seconds += self.clock() - waited
                self._next_due = time.perf_counter()
                continue  # look again: stopped, or a change made while waiting ended the run
            if self._take_step_request():
                self._run.clear()  # one step, then hold again
                return True
            if self.pace is not None and not self._keep_pace():
                continue  # woken early: paused, stopped, a step requested or the pace changed
            if self._give_way_until and time.perf_counter() < self._give_way_until:
                time.sleep(GIVE_WAY_REST)
            return True
        return False

    def _keep_pace(self) -> bool:
        """Wait until the next paced step is due; False when it is not due yet (something woke
        the wait: a pause, a stop, a step request or a new pace), so that the loop looks again."""
        now = time.perf_counter()
        if self._paced_at != self.pace:  # a new pace counts from now
            self._paced_at, self._next_due = self.pace, now
        due = max(self._next_due, now - 0.1)  # a slow step does not earn a burst of catch-up steps
        if due > now:
            self._nudge.clear()
            if self._run.is_set() and not self._stop.is_set() and not self._step_requests:
                self._wait_idle(lambda: self._nudge.wait(due - now))
            if not self._run.is_set() or self._stop.is_set() or self._paced_at != self.pace:
                return False
            if time.perf_counter() < due:
                return False
        self._next_due = due + 1.0 / self.pace if self.pace else now
        return True

    def _wait_idle(self, wait: Callable[[], object]):
        """Call ``wait`` with the network free: commands submitted meanwhile run at once."""
        with self._lock:
            self._waiting = True
            pending, self._pending = self._pending, []
            for fn in pending:
                fn()
        try:
            return wait()
        finally:
            with self._lock:
                self._waiting = False

    def _take_step_request(self) -> bool:
        if not self._step_requests:
            return False
        with self._lock:
            self._step_requests -= 1
        return True

    def _apply_pending(self) -> None:
        """Apply queued commands in the order they came."""
        if not self._pending:
            return
        with self._lock:
            pending, self._pending = self._pending, []
        for fn in pending:
            fn()
