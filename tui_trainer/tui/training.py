"""The app's one link to a training controller: its worker, its copies, its stop.

A ``TrainingLink`` runs a controller's ``run`` on a thread worker of the node that owns it (the
app for the main session, a lab screen for its race). The worker thread only posts messages with
copies; they reach the owner on the UI thread (it mixes in ``TrainingHost``), where the link keeps
the latest copy and hands it to whoever subscribed (``subscribe``; a Textual ``Signal`` delivers
it), then the end of the run (``subscribe_end``: None, or the error that stopped it). A copy taken
before a fresh start (new weights, a new race) is never delivered after it. Screens subscribe to a
link; none reaches into another screen. Stopping asks the controller and waits for the worker
thread to return, which the controllers make a step at most.

``SessionLink`` adds what every screen showing the main session does with it: train or pause, one
step, the pace, a fresh copy after an edit, and new experiments (``rebuild``, ``use``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from textual.dom import DOMNode
from textual.message import Message
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from ..experiments.controller import Controller
from ..experiments.config import ExperimentConfig
from ..experiments.files import describe_error
from ..experiments.session import Loaded, Session, Snapshot, pace_notch, pace_text


class TrainingLink:
    """Runs ``controller`` on a thread worker of ``owner`` and hands its copies to subscribers."""

    class Update(Message):
        """A copy from the worker; a newer one from the same run replaces one still queued."""

        def __init__(self, link: TrainingLink, run: int, snapshot: Any) -> None:
            super().__init__()
            self.link, self.run, self.snapshot = link, run, snapshot

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TrainingLink.Update) and message.link is self.link

    class Ended(Message):
        """The worker has returned: ``error`` is None, or what stopped the run."""

        def __init__(self, link: TrainingLink, run: int, error: BaseException | None) -> None:
            super().__init__()
            self.link, self.run, self.error = link, run, error

    def __init__(self, owner: DOMNode, controller: Controller, name: str) -> None:
        self.owner = owner
        self.controller = controller
        self.name = name
        self._updates: Signal[tuple[int, Any]] = Signal(owner, f"{name}-updates")
        self._ended: Signal[BaseException | None] = Signal(owner, f"{name}-ended")
        self.last: Any = None
        """The latest copy received."""
        self.run = 0
        """Counts the runs and the fresh starts (``forget``): copies of an older one are dropped."""
        self._worker: Worker | None = None

    def subscribe(self, node: DOMNode, show: Callable[[Any], None]) -> None:
        """Call ``show(copy)`` on ``node`` for every copy from now on, oldest first, while ``node`` is
        mounted; a copy made stale by a fresh start meanwhile is skipped."""

        def deliver(item: tuple[int, Any]) -> None:
            run, snapshot = item
            if run == self.run:
                show(snapshot)

        self._updates.subscribe(node, deliver)

    def subscribe_end(self, node: DOMNode, ended: Callable[[BaseException | None], None]) -> None:
        """Call ``ended(error)`` on ``node`` when a run ends (``error``: None, or what stopped it)."""
        self._ended.subscribe(node, ended)

    @property
    def running(self) -> bool:
        """Whether a worker runs (or is about to) for this link."""
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    def start(self, *, single_step: bool = False) -> None:
        """Run the controller on a thread worker (the UI thread; not while one runs)."""
        self.controller.prepare_run(single_step=single_step)
        self.run += 1
        run = self.run
        self._worker = self.owner.run_worker(lambda: self._loop(run), name=self.name, group=self.name,
                                             thread=True, exclusive=True, exit_on_error=False)

    def _loop(self, run: int) -> None:
        """On the worker thread: post copies, never touch a widget; the end is posted whatever happens."""
        owner = self.owner
        error: BaseException | None = None
        try:
            self.controller.run(lambda snap: owner.post_message(self.Update(self, run, snap)))
        except Exception as exc:  # shown to the user by the subscribers; the app goes on
            error = exc
        owner.post_message(self.Ended(self, run, error))

    def stop_soon(self) -> None:
        """Ask the run to end, without waiting (e.g. when the owner is being removed)."""
        self.controller.stop()

    async def stop(self) -> None:
        """End the run and wait until its worker thread has returned (a step at most)."""
        if not self.running:
            return
        self.controller.stop()
        try:
            await self._worker.wait()
        except Exception:  # noqa: BLE001 - the run's own error reaches the subscribers as ``ended``
            pass

    def forget(self) -> None:
        """A fresh start (new weights or a new race): copies still queued from before are dropped."""
        self.run += 1
        self.last = None

    def publish(self, snapshot: Any) -> None:
        """Keep ``snapshot`` as the latest and hand it to the subscribers (the UI thread)."""
        self.last = snapshot
        self._updates.publish((self.run, snapshot))

    def receive(self, message: Update | Ended) -> None:
        """A message from the worker, on the UI thread (``TrainingHost`` calls this)."""
        if message.run != self.run:
            return
        if isinstance(message, TrainingLink.Update):
            self.publish(message.snapshot)
        else:
            self._ended.publish(message.error)


class TrainingHost:
    """For a node that owns training links: hands their workers' messages to them."""

    def on_training_link_update(self, message: TrainingLink.Update) -> None:
        message.link.receive(message)

    def on_training_link_ended(self, message: TrainingLink.Ended) -> None:
        message.link.receive(message)


class SessionLink(TrainingLink):
    """The main session's link, shared by the main screen and every view of the network."""

    controller: Session

    def __init__(self, owner: DOMNode, session: Session) -> None:
        super().__init__(owner, session, "training")
        self._changed: Signal[None] = Signal(owner, "experiment-changed")
        self.start_check: Callable[[], str | None] = lambda: None
        """Why training cannot start now (e.g. settings still being typed), or None."""

    @property
    def session(self) -> Session:
        return self.controller

    def subscribe_changed(self, node: DOMNode, changed: Callable[[], None]) -> None:
        """Call ``changed()`` on ``node`` as soon as the session holds a new experiment (new weights,
        data or config) or a config changed from outside the config pane (``apply_live``), before any
        other message is handled: e.g. the config pane reloads before the next key edits it. An error
        in it is raised on ``node``, as any handler's would be."""

        def deliver(_: None) -> None:
            try:
                changed()
            except Exception as exc:  # Signal would only log it
                node.call_next(_raise, exc)

        self._changed.subscribe(node, deliver, immediate=True)

    def current(self) -> Snapshot:
        """The latest state: the last copy while a worker runs (the live network must not be read
        then), else a fresh one."""
        if self.running and self.last is not None:
            return self.last
        return self.session.snapshot()

    def apply_live(self, config: ExperimentConfig) -> None:
        """A live change made away from the config pane (a lab screen's "use this"): applied to the
        session (``ValueError`` as ``Session.apply_live``), the config pane told, a fresh copy shown."""
        self.session.apply_live(config)
        self._changed.publish(None)
        self.show_current()

    def show_current(self) -> None:
        """Publish a copy taken now where no step runs (a running loop sends its own soon)."""
        snap = self.session.snapshot_now()
        if snap is not None:
            self.publish(snap)

    def begin(self, *, single_step: bool = False) -> None:
        """Start training (or one step), unless ``start_check`` says why not."""
        problem = self.start_check()
        if problem:
            self.owner.notify(problem, severity="warning")
            return
        config = self.session.config
        self.start(single_step=single_step)
        if self.session.config is not config:  # training on made the epochs the new target
            self._changed.publish(None)
        self.report_recording()
        self.show_current_state()

    def report_recording(self) -> None:
        """Say once why runs stopped being recorded (the training goes on regardless)."""
        recorder = self.session.recorder
        if recorder is not None and recorder.problem:
            self.owner.notify(recorder.problem, severity="warning", timeout=8)
            recorder.problem = ""

    def show_current_state(self) -> None:
        """Subscribers see the state change at once (training, paused) without a new copy of the
        arrays while a worker runs."""
        if self.running and self.last is not None:
            self.publish(replace(self.last, state=self.session.state))
        elif not self.running:
            self.publish(self.session.snapshot())

    def toggle(self) -> None:
        """Train, pause, or go on."""
        state = self.session.state
        if self.running and state == "training":
            self.session.pause()
        elif self.running and state == "paused":
            self.session.resume()
        else:
            self.begin()
            return
        self.show_current_state()

    def single_step(self) -> None:
        """Exactly one update (pausing first if training)."""
        if self.running:
            if self.session.state == "training":
                self.session.pause()
            self.session.request_step()
        else:
            self.begin(single_step=True)

    def pace(self, direction: int) -> None:
        """Slower (-1) or faster (+1): one pace for the main screen and every view."""
        pace = pace_notch(self.session.pace, direction)
        self.session.set_pace(pace)
        self.show_current()
        self.owner.app.notify(f"pace {pace_text(pace)}", setting=True)

    async def rebuild(self, config: ExperimentConfig) -> bool:
        """Stop training and build a fresh experiment from ``config``; False, with a notification,
        when it cannot be built (the old experiment stays)."""
        await self.stop()
        return self.rebuild_stopped(config)

    def rebuild_stopped(self, config: ExperimentConfig) -> bool:
        """``rebuild`` once no training thread runs."""
        try:
            self.session.rebuild(config)
        except Exception as exc:  # too large, bad data...: a message, and the old experiment stays
            self.owner.notify(describe_error(exc), severity="error", timeout=8)
            return False
        finally:
            self._fresh()
        return True

    async def use(self, loaded: Loaded) -> None:
        """Stop training and go on from a loaded experiment."""
        await self.stop()
        self.session.use(loaded)
        self._fresh()

    async def reset_weights(self) -> None:
        await self.stop()
        self.session.reset_weights()
        self._fresh()

    def _fresh(self) -> None:
        self.forget()
        self._changed.publish(None)
        self.publish(self.session.snapshot())


def _raise(error: Exception) -> None:
    raise error
