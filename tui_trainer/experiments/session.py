"""Runs one experiment for the UI: training on a worker thread, reported as plain snapshots.

The main run's controller (``controller.Controller``; the lab's is ``RaceSession``). The UI thread
calls the control methods (``pause``, ``resume``, ``request_step``, ``stop``, ``set_lr``...); the
worker thread calls ``run``, which trains and hands a ``Snapshot`` (copies only, never live engine
arrays) to ``emit`` at most ``SNAPSHOT_INTERVAL`` apart, and always on a state change.
"""

from __future__ import annotations

import copy
import math
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .config import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    OptimizerConfig,
    TrainingConfig,
    load_config,
    with_overrides,
)
from ..engine import optimizers
from ..engine.network import split_flat
from ..engine.trainer import EpochRecord, StepRecord, TrainResult
from .experiment import Experiment
from .recording import Recorder
from .control import TrainingControl
from .controller import SNAPSHOT_INTERVAL, Controller
from .limits import MAX_EPOCHS
from .series import DownsampledSeries
from .settings import SETTINGS, apply_to_trainer, engine_value, live_names

GRAD_HISTORY_POINTS = 1024
"""Points kept per layer in ``Session.grad_norm_history`` (older steps are averaged together)."""

LR_LADDER = tuple(m * 10.0**e for e in range(-6, 2) for m in (1.0, 2.0, 5.0))
"""Learning-rate notches for ``+`` / ``-``: 1e-6, 2e-6, 5e-6, ..., 10, 20, 50."""


EPOCH_RECORDS_KEPT = 64
"""Epoch records the trainer keeps for the app (the plots keep their own bounded series): a run
left going overnight must not grow without bound, nor slow Python's garbage collection."""

PACES: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1000, None)
"""Training paces for ``<`` / ``>``, in updates a second; None is "max" (as fast as the machine goes)."""
DEFAULT_PACE = 100
"""Slow enough to watch the default experiment learn (its 20,000 steps take over 3 minutes),
fast enough that its loss falls visibly within seconds; "max" is one key away."""


def pace_text(pace: float | None) -> str:
    """``max`` or ``100 steps/s``."""
    return "max" if pace is None else f"{pace:g} step/s" if pace == 1 else f"{pace:g} steps/s"


def pace_notch(pace: float | None, direction: int) -> float | None:
    """The next pace up (+1, towards "max") or down (-1, towards one update a second)."""
    i = PACES.index(pace) if pace in PACES else PACES.index(DEFAULT_PACE)
    return PACES[min(max(i + direction, 0), len(PACES) - 1)]


def _without_live(section):
    """A config section with its live values (the registered settings declared ``live``) left
    out: what must not change while training."""
    out = copy.copy(section)  # not a new section: that would fill in the defaults left out (the lr's)
    object.__setattr__(out, "settings", {k: v for k, v in section.settings.items()
                                         if not (k in SETTINGS and SETTINGS[k].live)})
    return out


def change_kind(old: ExperimentConfig, new: ExperimentConfig) -> str:
    """``none``, ``live`` (optimizer, its settings, lr, lr schedule, batch mode, epochs and every
    registered setting declared live, such as the penalties: applied while training, weights
    kept) or ``structural`` (data, its features, noise, samples and split, the network's shape,
    seed, precision, a registered setting not declared live: new weights needed)."""
    if new == old:
        return "none"
    if (_without_live(new.data) != _without_live(old.data)
            or _without_live(new.network) != _without_live(old.network)
            or _without_live(new.training) != _without_live(old.training)
            or _without_live(new.optimizer).settings != _without_live(old.optimizer).settings):
        return "structural"
    return "live"


def _changed_settings(old: ExperimentConfig, new: ExperimentConfig) -> list:
    """The registered live settings whose value differs between ``old`` and ``new``."""
    return [SETTINGS[name] for name in live_names()
            if getattr(getattr(new, SETTINGS[name].section), name)
            != getattr(getattr(old, SETTINGS[name].section), name)]


def early_stop_text(stop) -> str:
    """The session's note for an ``EarlyStop``."""
    if stop.best_val_loss is None or stop.best_epoch is None:
        return (f"stopped early at epoch {stop.epoch}: no finite validation loss for "
                f"{stop.patience} epochs")
    return (f"stopped early at epoch {stop.epoch}: no better validation loss for {stop.patience} "
            f"epochs; the best epoch's weights (epoch {stop.best_epoch}) are back")


OVERFIT_EPOCHS = 20
"""Epochs in a row the validation loss must have stayed clearly above its lowest (``clearly_above``)
before the run is called overfitting; at least a tenth of the epochs so far, too. A plateau or an early
bump (the default spiral wobbles by ~2% around epoch 25 before it learns) is not overfitting."""
OVERFIT_RISE = 0.10
"""Clearly above: the validation loss at least this share above its lowest ..."""
OVERFIT_MARGIN = 0.01
"""... and at least this much (a loss near 0 wobbling by 10% is no rise)."""
OVERFIT_GAP = 0.8
"""The training cost must also be below this share of the validation loss: a real gap between them."""


def clearly_above(lowest: float, val: float) -> bool:
    """Whether the validation loss ``val`` is clearly above its ``lowest`` (``OVERFIT_RISE``, ``OVERFIT_MARGIN``)."""
    return val >= lowest + max(OVERFIT_RISE * abs(lowest), OVERFIT_MARGIN)


def overfitting_since(lowest: tuple[int, int, float, float], epoch: int, val: float, train: float | None,
                      above_since: int | None) -> int | None:
    """The epoch of the lowest validation loss when, ``epoch`` now, the run has overfit since: the
    validation loss clearly above its lowest in every epoch from ``above_since`` on (None: not now),
    ``OVERFIT_EPOCHS`` epochs in a row and a tenth of the run, while the training cost fell below what
    it was then and is below ``OVERFIT_GAP`` of the validation loss; else None."""
    best_epoch, _, best_val, best_train = lowest
    if above_since is None or train is None or best_train is None or not math.isfinite(train):
        return None
    sustained = epoch - above_since + 1 >= max(OVERFIT_EPOCHS, epoch // 10)
    falling = train < best_train - 0.01 * abs(best_train)
    gap = train <= OVERFIT_GAP * val
    return best_epoch if sustained and falling and gap and clearly_above(best_val, val) else None


def default_config() -> ExperimentConfig:
    """The experiment the app opens with: a spiral that a small tanh network learns in seconds."""
    return ExperimentConfig(
        data=DataConfig(dataset="spiral", val_split=0.2),
        network=NetworkConfig(hidden=[16, 16], activation="tanh"),
        optimizer=OptimizerConfig(name="adam", lr=0.01),
        training=TrainingConfig(epochs=2000, batch_size=32, seed=0),
    )


def lr_notch(lr: float, direction: int) -> float:
    """The next learning rate up (+1) or down (-1) the 1-2-5 ladder."""
    if direction > 0:
        return next((x for x in LR_LADDER if x > lr * (1 + 1e-9)), LR_LADDER[-1])
    return next((x for x in reversed(LR_LADDER) if x < lr * (1 - 1e-9)), LR_LADDER[0])


@dataclass(frozen=True)
class Snapshot:
    """What the UI shows at one moment: plain values and copies."""

    state: str
    """``ready``, ``training``, ``paused``, ``diverged`` or ``finished``."""
    epoch: int
    epochs: int
    """The epoch training runs to."""
    step: int
    steps_per_epoch: int
    batch_mode: str
    loss: float | None
    """The latest step's loss (its cost, for a full batch)."""
    train_loss: float | None
    """The cost over the whole training set at the last epoch's end."""
    val_loss: float | None
    metric_name: str
    train_metric: float | None
    val_metric: float | None
    steps_per_second: float
    elapsed: float
    optimizer: str
    lr: float
    loss_x: np.ndarray
    loss_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    params: list[np.ndarray]
    """Copies of ``[W1, b1, W2, b2, ...]``."""
    grads: list[np.ndarray]
    """The last gradient, aligned with ``params``."""
    updates: list[np.ndarray]
    """The last change made to each parameter (after minus before)."""
    grad_norms: list[float] = field(default_factory=list)
    message: str = ""
    """A divergence report or other note for the user."""
    optimizer_state: dict | None = None
    """A copy of the optimizer's ``state_dict()`` (hyperparameters, step count, state arrays),
    taken with ``params``: what the weight inspector needs to write out the last update."""
    pace: float | None = None
    """Most updates a second; None: "max"."""
    penalty: float = 0.0
    """The latest step's L1 / L2 weight penalty (the step minimized ``loss + penalty``)."""
    best_epoch: int | None = None
    """With early stopping: the epoch with the lowest validation loss so far."""
    best_val_loss: float | None = None
    schedule: str = ""
    """The lr schedule's name (``cosine``), or "" when the lr stays as set."""
    best_step: int | None = None
    """The step at the end of ``best_epoch`` (where the plot marks it), or of the epoch with the
    lowest validation loss when the run is overfitting."""
    overfit_since: int | None = None
    """The epoch of the lowest validation loss when the validation loss has stayed clearly above it
    for a while as the training cost fell well below it (see ``overfitting_since``); None otherwise."""
    early_stopped: bool = False
    """Training ended by early stopping (``message`` says where; the best weights are back)."""
    divergence_step: int | None = None
    """Training diverged after this update (``state`` is ``diverged``); None while it has not."""
    restored_step: int | None = None
    """After a divergence: the step whose weights the divergence put back (the numbers shown are theirs)."""
    edited: frozenset[tuple[int, ...]] = frozenset()
    """The weights set by hand since the last step, as ``(param index, row, col)`` (a bias:
    ``(param index, col)``)."""


class Session(Controller):
    """One experiment and its training history, driven from the UI.

    The session is the one owner of the current config: every change goes through it. Changes
    that apply live go through its ``control``, which makes them where no step is in progress
    (``TrainingControl.submit``); ``change_kind`` decides what is live and what needs new weights.
    The control also holds the pace, pause, single steps and stop of the worker thread.
    """

    def __init__(self, config: ExperimentConfig | None = None, experiment: Experiment | None = None, *,
                 recorder: Recorder | None = None, source: str = "app",
                 history_limit: int | None = EPOCH_RECORDS_KEPT) -> None:
        self.control = TrainingControl()
        """Pause, pace, single steps, stop and the queue of changes for the worker thread."""
        self.control.set_pace(DEFAULT_PACE)
        self.recorder = recorder
        """Records each run of training in the run store (None: nothing is recorded)."""
        self.source = source
        """Who trains, as the run store says it (``app``, ``nn-tui train``)."""
        self.history_limit = history_limit
        """Epoch records the trainer keeps (None: all, for a command that writes them out)."""
        self.result: TrainResult | None = None
        """How the last ``run`` ended (the trainer's result)."""
        self._use(experiment or Experiment.from_config(config or default_config()))

    def _use(self, experiment: Experiment) -> None:
        """Start over on ``experiment``: its weights, no history (not while running)."""
        if hasattr(self, "experiment"):
            self.end_run()
        self.experiment = experiment
        self.losses = DownsampledSeries()
        self.val_losses = DownsampledSeries()
        self.state = "ready"
        self.target_epochs = max(self.trainer.epoch, self.config.training.epochs)
        self.message = ""
        self._elapsed = 0.0
        self._grad_norms: list[float] = []
        self._penalty = 0.0
        self._step_lr: float | None = None  # the lr of the last step made here (None: none yet)
        self._edited: dict[tuple[int, ...], int] = {}  # weights set by hand: the step count then
        self._lowest: tuple[int, int, float, float] | None = None  # (epoch, step, val, train) of the lowest val loss
        self._overfit_since: int | None = None
        self._above_since: int | None = None  # first epoch of the current run clearly above the lowest val loss
        self.grad_norm_history: list[DownsampledSeries] = []
        """Per layer, the norm of dL/dW at every step (bounded; read from any thread)."""
        self._rate = 0.0
        self.control.reset()
        self.trainer.history_limit = self.history_limit

    # -- facts for the UI ------------------------------------------------------------------

    @property
    def config(self) -> ExperimentConfig:
        """The current config: what a save writes and what the config pane shows."""
        return self.experiment.config

    @property
    def trainer(self):
        return self.experiment.trainer

    @property
    def net(self):
        return self.experiment.net

    @property
    def trained(self) -> bool:
        """Whether the weights have been updated since they were drawn."""
        return self.trainer.step_count > 0

    @property
    def loss_label(self) -> str:
        """``cost`` for full-batch training, ``loss`` for mini-batch and single-sample."""
        return "cost" if self.config.training.batch_size == "full" else "loss"

    # -- control from the UI thread --------------------------------------------------------

    @property
    def pace(self) -> float | None:
        """Most updates a second (None: "max"); kept across rebuilds and loads."""
        return self.control.pace

    def pause(self) -> None:
        self.control.pause()
        self.state = "paused"

    def resume(self) -> None:
        self.state = "training"
        self.control.resume()

    def request_step(self) -> None:
        self.control.request_step()

    def stop(self) -> None:
        """Make a running ``run`` return promptly (wakes a paused loop too)."""
        self.control.stop()

    def set_pace(self, pace: float | None) -> None:
        """At most ``pace`` updates a second (None: as fast as possible), from now on."""
        self.control.set_pace(pace)

    def set_lr(self, lr: float) -> None:
        """Takes effect before the next step; validated now."""
        self.apply_live(with_overrides(self.config, lr=lr))

    def set_hparams(self, **hparams) -> None:
        """Change optimizer hyperparameters in place (state kept); validated now."""
        lr = hparams.pop("lr", self.config.optimizer.lr)
        opt = replace(self.config.optimizer, lr=lr, hparams={**self.config.optimizer.hparams, **hparams})
        self.apply_live(replace(self.config, optimizer=opt))

    def set_weight(self, index: int, row: int, col: int, value: float) -> bool:
        """Set ``params[index][row, col]`` (a bias: ``[col]``) by hand, safely beside training.

        Runs at once when no step can be in progress (idle, or the loop waits while paused),
        else on the training thread before its next step. Returns True when it ran at once.
        Raises ``ValueError`` for a bad index or a value that is not a finite number.
        """
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"a weight must be a finite number, got {value}")
        params = self.net.params
        if not 0 <= index < len(params):
            raise ValueError(f"parameter index {index} is outside 0..{len(params) - 1}")
        p = params[index]
        where = (col,) if p.ndim == 1 else (row, col)
        if any(not 0 <= i < n for i, n in zip(where, p.shape)):
            raise ValueError(f"position {where} is outside a parameter of shape {p.shape}")

        def edit() -> None:
            p[where] = value
            step = self.trainer.step_count
            self._edited = {k: s for k, s in self._edited.items() if s == step}  # since the last step only
            self._edited[(index, *where)] = step

        return self.control.submit(edit)

    def prepare_run(self, *, single_step: bool = False) -> None:
        """Before starting the worker: clear a divergence, extend finished training, set the state,
        and open a run in the run store if none is open.

        Training on from the target reached goes for another ``epochs`` more, and the config's
        epochs become the new target, so that the config and the status say the same number."""
        if self.trainer.epoch >= self.target_epochs:
            self.target_epochs = min(self.trainer.epoch + self.config.training.epochs, MAX_EPOCHS)
            training = replace(self.config.training, epochs=self.target_epochs)
            self.experiment.config = replace(self.config, training=training)
            if self.recorder is not None:  # the open run's change (a run opened below begins with it)
                self.recorder.event(self.trainer.step_count, "epochs", value=self.target_epochs)
        if self.recorder is not None:
            self.recorder.begin(self.experiment, source=self.source)
        if self.state == "diverged":
            self.trainer.clear_divergence()
            self.message = ""
        if self.trainer.early_stop is not None:
            self.trainer.clear_early_stop()
            self.message = ""
        if single_step:
            self.control.pause()
            self.control.request_step()
            self.state = "paused"
        else:
            self.control.resume()
            self.state = "training"

    def rebuild(self, config: ExperimentConfig) -> None:
        """A new experiment from ``config`` (fresh weights and history); not while running.

        Raises ``ValueError`` (the session is unchanged) when the config or its data are bad.
        """
        self._use(Experiment.from_config(config))

    def apply_live(self, config: ExperimentConfig) -> None:
        """Apply a ``live`` change (see ``change_kind``): the optimizer (a new one starts with
        fresh state), its settings, the batch mode and the epochs; the weights stay.

        Validated here (``ValueError``, nothing changed); the trainer makes the change at its
        next step boundary, in the order changes come.
        """
        old = self.config
        kind = change_kind(old, config)
        if kind == "structural":
            raise ValueError("this change needs new weights: rebuild the experiment instead")
        if kind == "none":
            return
        problems = config.validate()
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        trainer, o, submit = self.trainer, config.optimizer, self.control.submit
        if o.name != old.optimizer.name:
            opt = optimizers.create(o.name, lr=o.lr, **o.hparams)
            submit(lambda: trainer.set_optimizer(opt))
        elif o.hparams != old.optimizer.hparams:  # the lr is a registered setting: handed over below
            hparams = {**optimizers.defaults(o.name), **o.hparams, "lr": o.lr}
            submit(lambda: trainer.set_hparams(**hparams))
        self._apply_registered(old, config)
        if config.training.epochs != old.training.epochs:  # handed over above, as every live setting
            self.target_epochs = config.training.epochs  # fewer than done: a run ends where it is
            self._end_if_there()
        self.experiment.config = config
        self._record_change(old, config)

    def _end_if_there(self) -> None:
        """After a change of a run's length: a loop that has got there already ends there,
        without another step, even while paused."""
        trainer, control = self.trainer, self.control

        def look() -> None:
            if control.looping and trainer.epoch >= trainer.run_to:
                control.wake()  # a paused loop looks again, and ends

        control.submit(look)

    def _apply_registered(self, old: ExperimentConfig, new: ExperimentConfig) -> None:
        """The registered live settings (the epochs, the penalties and the like) and the lr schedule,
        checked here and handed to the trainer for its next step (``ValueError``, nothing handed
        over, for a bad value)."""
        trainer, changes = self.trainer, []
        for setting in _changed_settings(old, new):
            changes.append((setting, engine_value(setting, new)))
        for setting, value in changes:
            self.control.submit(lambda setting=setting, value=value: apply_to_trainer(setting, trainer, value))
        schedule = getattr(new.optimizer, "schedule", None)
        if schedule != getattr(old.optimizer, "schedule", None):
            made = new.optimizer.create_schedule()
            lr = new.optimizer.lr

            def use() -> None:
                if made is None and trainer.schedule is not None:
                    trainer.opt.lr = lr  # off: back to the lr the user set, not where it had got to
                trainer.schedule = made
                trainer.base_lr = lr if made is not None else None

            self.control.submit(use)

    def _record_change(self, old: ExperimentConfig, new: ExperimentConfig) -> None:
        """A live change, as an event of the open run (at the step it applies from, about)."""
        if self.recorder is None:
            return
        step, o = self.trainer.step_count, new.optimizer
        stated = ()  # an optimizer's event states its lr too
        if o.name != old.optimizer.name:
            self.recorder.event(step, "optimizer", name=o.name, lr=o.lr, hparams=dict(o.hparams))
            stated = ("lr",)
        elif o.hparams != old.optimizer.hparams:
            self.recorder.event(step, "hparams", name=o.name, lr=o.lr, hparams=dict(o.hparams))
            stated = ("lr",)
        for setting in [s for s in _changed_settings(old, new) if s.name not in stated]:
            value = getattr(getattr(new, setting.section), setting.name)
            self.recorder.event(step, setting.name, value=list(value) if isinstance(value, (list, tuple)) else value)
        schedule = getattr(new.optimizer, "schedule", None)
        if schedule != getattr(old.optimizer, "schedule", None):
            self.recorder.event(step, "schedule", value=None if schedule is None else dict(schedule))

    def end_run(self, *, interrupted: bool = False, report: dict | None = None) -> None:
        """Close the open run, if any, where no step runs (now when idle; after the current step,
        on the training thread, when one runs): the model, the status and the final numbers."""
        recorder = self.recorder
        if recorder is None or recorder.writer is None:
            return
        def end() -> None:
            trainer = self.trainer
            result = TrainResult(epochs=trainer.epoch, steps=trainer.step_count, seconds=self._elapsed,
                                 divergence=trainer.divergence, early_stop=trainer.early_stop)
            recorder.end(self.experiment, self._saved, result=result, reached=trainer.epoch >= self.target_epochs,
                         interrupted=interrupted, report=report)

        self.control.submit(end)

    def snapshot_now(self) -> Snapshot | None:
        """A snapshot taken where no step runs: now when the trainer is idle or waits, else None
        (a running loop emits its own soon)."""
        taken: list[Snapshot] = []
        self.control.submit(lambda: taken.append(self.snapshot()))
        return taken[0] if taken else None

    # -- files ------------------------------------------------------------------------------

    def save(self, path: Path) -> Future:
        """Write a model file with the current config, weights, optimizer state and history.

        Made where no step runs, after every change made before it; the returned future holds
        the path written (or the error) once it is done, at once when the trainer is idle.
        """
        done: Future = Future()
        config = self.config

        def write() -> None:
            try:
                done.set_result(self.experiment.save(path, **{**self._saved(), "config": config}))
            except BaseException as exc:  # handed to whoever waits for the save
                done.set_exception(exc)

        self.control.submit(write)
        return done

    def _saved(self) -> dict:
        """What a model file holds besides the weights: the config, the progress, the history."""
        return {"config": self.config, "progress": self._progress(), "arrays": self._history_arrays()}

    def _progress(self) -> dict:
        last = self.trainer.history[-1] if self.trainer.history else None
        return {
            "elapsed": self._elapsed,
            "target_epochs": self.target_epochs,
            "last_epoch": None if last is None else {
                k: getattr(last, k) for k in ("epoch", "step", "train_loss", "val_loss", "train_metric",
                                              "val_metric", "lr", "seconds")
            },
        }

    def _history_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for name, series in (("losses", self.losses), ("val_losses", self.val_losses)):
            arrays.update({f"{name}_{k}": v for k, v in series.state().items()})
        return arrays

    def load(self, path: Path) -> None:
        """Open a model file (weights, progress and history) or a config file (fresh weights).

        Raises ``ValueError`` (the session unchanged) for a file that cannot be used.
        """
        self.use(read_experiment(path))

    def use(self, loaded: "Loaded") -> None:
        """Go on from what ``read_experiment`` read (not while running)."""
        self._use(loaded.experiment)
        if loaded.losses is not None:
            self.losses, self.val_losses = loaded.losses, loaded.val_losses
        if loaded.last_epoch is not None:
            self.trainer.history.append(loaded.last_epoch)
        self._elapsed = loaded.elapsed
        self.target_epochs = max(self.target_epochs, loaded.target_epochs)
        if self.trainer.epoch >= self.target_epochs:
            self.state = "finished"
        elif self.trained:
            self.state = "paused"

    def reset_weights(self) -> None:
        """Draw the weights again and forget the history and optimizer state; not while running."""
        self.rebuild(self.config)

    # -- the worker thread -----------------------------------------------------------------

    def run(self, emit: Callable[[Snapshot], None] | None) -> None:
        """Train until done, stopped or diverged, emitting snapshots (None: none taken); call on a
        worker thread, or on the main one (``nn-tui train``). ``result`` says how it ended."""
        trainer, control = self.trainer, self.control
        last_emit = [0.0, trainer.step_count]
        clock = control.clock
        started, elapsed_before, paused_before = clock(), self._elapsed, control.paused_seconds

        def elapsed(now: float) -> float:
            """Training time only, this run's added to the runs' before it: the waits while paused
            are left out (``paused_seconds`` counts every run's; this run's is what it gained)."""
            return max(elapsed_before + now - started - (control.paused_seconds - paused_before), self._elapsed)

        recorder = self.recorder

        def on_step(rec: StepRecord) -> None:
            self.losses.append(rec.step, rec.loss)
            self._penalty = rec.penalty
            self._step_lr = rec.lr
            if recorder is not None:
                recorder.step(rec.step, rec.loss)
            if emit is not None:  # for the UI: the gradient norms (worked out when read) and their history
                self._grad_norms = rec.grad_norms
                history = self.grad_norm_history
                if len(history) != len(rec.grad_norms):
                    history[:] = [DownsampledSeries(GRAD_HISTORY_POINTS) for _ in rec.grad_norms]
                for series, norm in zip(history, rec.grad_norms):
                    series.append(rec.step, norm)
            now = clock()
            if now - last_emit[0] >= SNAPSHOT_INTERVAL or control.paused:
                self._rate = (rec.step - last_emit[1]) / max(now - last_emit[0], 1e-9)
                self._elapsed = elapsed(now)
                last_emit[0], last_emit[1] = now, rec.step
                if emit is not None:
                    emit(self.snapshot())

        def on_epoch(rec: EpochRecord) -> None:
            if rec.val_loss is not None:
                self.val_losses.append(rec.step, rec.val_loss)
                self._watch_overfitting(rec)
            if recorder is not None:
                recorder.epoch(rec)
                recorder.checkpoint_if_due(self.experiment, self._saved)

        def on_pause() -> None:
            self._elapsed = elapsed(clock())
            if emit is not None:
                emit(self.snapshot())

        trainer.on_step, trainer.on_epoch = on_step, on_epoch
        last_emit[0] = clock()
        try:
            result = self.result = control.run(trainer, self.target_epochs, on_pause)
        except Exception as exc:  # a bug: the weights so far stay, and the UI says what happened
            self.state = "paused"
            self.message = f"Training stopped by an error: {type(exc).__name__}: {exc}"
            raise
        finally:
            trainer.on_step = trainer.on_epoch = None
            self._elapsed = elapsed(clock())
        if result.divergence is not None:
            self.state = "diverged"
            self.message = str(result.divergence)
            self._restored = trainer.evaluate()  # the weights from before it are back: show their numbers
        elif result.early_stop is not None:
            self.state = "finished"
            self.message = early_stop_text(result.early_stop)
            self._restored = trainer.evaluate()  # the best epoch's weights are back: show their numbers
        elif trainer.epoch >= self.target_epochs:
            self.state = "finished"
        elif self.state == "training":
            self.state = "paused"
        if emit is not None:
            emit(self.snapshot())

    def _last_update_state(self) -> dict:
        """The optimizer's ``state_dict()`` as the last update used it: with the lr that step ran at
        (a schedule sets the next epoch's lr as an epoch ends, and a live change may come after it)."""
        state = self.trainer.opt.state_dict()
        lr = self._step_lr
        if lr is not None and "lr" in state["hparams"]:
            state["hparams"]["lr"] = lr
        return state

    def _watch_overfitting(self, rec: EpochRecord) -> None:
        """Keep the epoch of the lowest validation loss and whether the run overfits since then."""
        val, train = rec.val_loss, rec.train_loss
        if val is None or not math.isfinite(val):
            return
        if self._lowest is None or val < self._lowest[2]:
            self._lowest = (rec.epoch, rec.step, val, train)
            self._overfit_since = self._above_since = None
            return
        if not clearly_above(self._lowest[2], val):
            self._above_since = None
        elif self._above_since is None:
            self._above_since = rec.epoch
        self._overfit_since = overfitting_since(self._lowest, rec.epoch, val, train, self._above_since)

    def _best_step(self, trainer) -> int | None:
        best = trainer.best_epoch
        lowest = self._lowest
        if best is not None:
            if lowest is not None and lowest[0] == best:
                return lowest[1]
            return best * trainer.steps_per_epoch
        if self._overfit_since is not None and lowest is not None:
            return lowest[1]
        return None

    def snapshot(self) -> Snapshot:
        """Copies of everything the UI shows (call from the thread that trains, or when idle)."""
        trainer, net = self.trainer, self.net
        last = trainer.history[-1] if trainer.history else None
        divergence = trainer.divergence
        stopped = trainer.early_stop is not None or divergence is not None
        restored = getattr(self, "_restored", None) if stopped else None
        loss_x, loss_y = self.losses.arrays()
        val_x, val_y = self.val_losses.arrays()
        loss, penalty = self.losses.last if len(self.losses) else None, self._penalty
        if restored:  # the last batch's weights are gone: their cost for a full batch, else no batch loss yet
            loss = restored["train_loss"] if trainer.batch_mode == "full" else None
            penalty = trainer.weight_penalty()
        flat_update = net.flat_params - trainer.last_good_params if trainer.step_count else np.zeros_like(net.flat_params)
        return Snapshot(
            state=self.state,
            epoch=trainer.epoch,
            epochs=self.target_epochs,
            step=trainer.step_count,
            steps_per_epoch=trainer.steps_per_epoch,
            batch_mode=trainer.batch_mode,
            loss=loss,
            train_loss=restored["train_loss"] if restored else last.train_loss if last else None,
            val_loss=restored["val_loss"] if restored else last.val_loss if last else None,
            metric_name=trainer.metric_name,
            train_metric=restored["train_metric"] if restored else last.train_metric if last else None,
            val_metric=restored["val_metric"] if restored else last.val_metric if last else None,
            steps_per_second=self._rate if self.state == "training" else 0.0,
            elapsed=self._elapsed,
            optimizer=trainer.opt.name,
            lr=trainer.opt.lr,
            loss_x=loss_x,
            loss_y=loss_y,
            val_x=val_x,
            val_y=val_y,
            params=net.get_parameters(),
            grads=[g.copy() for g in net.grads],
            updates=split_flat(flat_update, net.shapes),
            grad_norms=list(self._grad_norms),
            message=self.message,
            optimizer_state=self._last_update_state(),
            pace=self.pace,
            penalty=penalty,
            best_epoch=trainer.best_epoch,
            best_val_loss=trainer.best_val_loss,
            schedule=trainer.schedule.name if trainer.schedule is not None else "",
            early_stopped=trainer.early_stop is not None,
            best_step=self._best_step(trainer),
            overfit_since=self._overfit_since,
            divergence_step=None if divergence is None else divergence.step,
            restored_step=None if divergence is None else divergence.restored_step,
            edited=frozenset(k for k, s in self._edited.items() if s == trainer.step_count),
        )



@dataclass
class Loaded:
    """An experiment read from a file, with the history saved beside it; not yet in use."""

    experiment: Experiment
    losses: DownsampledSeries | None = None
    val_losses: DownsampledSeries | None = None
    last_epoch: EpochRecord | None = None
    elapsed: float = 0.0
    target_epochs: int = 0


def read_experiment(path: Path, data_path: Path | None = None) -> Loaded:
    """Read a model file (weights, progress, history) or a config file (fresh weights), touching
    no session: ``ValueError`` with one clear line for a file that cannot be used.

    ``data_path`` is the CSV a model trained on a CSV goes on with (``Experiment.open``); it is
    not used for a config file, whose ``[data] path`` the user named by naming the config.
    """
    if path.suffix == ".toml":
        return Loaded(Experiment.from_config(load_config(path)))
    experiment, ckpt = Experiment.open(path, data_path=data_path)
    try:
        losses, val_losses = DownsampledSeries(), DownsampledSeries()
        for name, series in (("losses", losses), ("val_losses", val_losses)):
            part = {k: ckpt.extras[f"{name}_{k}"] for k in ("x", "sum", "count", "tail") if f"{name}_{k}" in ckpt.extras}
            if len(part) == 4:
                series.restore(part)
        progress = ckpt.meta.get("progress") or {}
        last = progress.get("last_epoch")
        record = None if last is None else EpochRecord(metric_name=experiment.trainer.metric_name, **last)
        elapsed = float(progress.get("elapsed", 0.0))
        target = int(progress.get("target_epochs", 0))
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise ValueError(f"{path}: the saved history is damaged ({exc})") from None
    elapsed = elapsed if math.isfinite(elapsed) and elapsed >= 0 else 0.0
    return Loaded(experiment, losses, val_losses, record, elapsed, target)
