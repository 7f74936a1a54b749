"""The training loop: batches, epochs, metrics and the divergence guard.

One ``Trainer`` drives a network and an optimizer over prepared data. Batch mode is the
trainer's business: ``batch_size="full"`` is batch gradient descent (one update per epoch on
the cost over all samples), an integer ``k`` is mini-batch gradient descent (reshuffled every
epoch), and ``k = 1`` is single-sample SGD. The trainer only steps: ``run`` asks an optional
``before_step`` hook before every update whether to go on, and whoever runs it on a thread
(the session's ``TrainingControl``) pauses, paces and queues changes there, so that a change
(``set_hparams``, ``set_optimizer``, ``set_batch_size``, a weight edit) is made where no step is
in progress. Listeners get plain records and cost nothing when absent. Optional: a learning-rate ``schedule`` (``schedules``), applied once
per epoch, and early stopping on the validation loss (``patience``).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .metrics import accuracy, r2_score
from .network import Network, check_dropout, check_penalty
from .optimizers import Optimizer
from .preprocess import PreparedData
from .schedules import Schedule

DIVERGENCE_HINT = "lower the learning rate"
EPS_HINT = "set the optimizer's eps above 0 (with eps = 0, a weight whose gradients so far were all 0 is updated by 0 / 0)"
EXPLOSION_FACTOR = 10.0
"""The cost at an epoch's end that is this many times the cost training started from (or 0.1,
if that was smaller) counts as exploding: diverged, though every number is still finite."""
HISTORY_KEPT = 10_000
"""The most epoch records a run keeps (then every 2nd, 4th, ... epoch, and the latest): a run of
any length holds a few megabytes of history."""


@dataclass
class StepRecord:
    """What one update did. Read it inside the ``on_step`` callback: ``grad_norms`` is worked out
    from the gradient buffers when first read (many callers never need it), and the next step
    writes over those buffers."""

    epoch: int
    """The epoch this step belongs to (1-based)."""
    step: int
    """Updates made so far, this one included."""
    loss: float
    """Data loss on this step's batch before the update (the cost, for a full batch), with this
    step's dropout masks when dropout is on; the penalty is not in it."""
    lr: float
    weight_grads: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)
    """The live gradient buffers of the weight matrices (not copies)."""
    penalty: float = 0.0
    """The L1 / L2 weight penalty before the update: the step minimized ``loss + penalty``."""

    @functools.cached_property
    def grad_norms(self) -> list[float]:
        """L2 norm of each layer's weight gradient, first layer first."""
        return [float(np.sqrt(np.vdot(g, g))) for g in self.weight_grads]


@dataclass
class EpochRecord:
    """Metrics at the end of an epoch."""

    epoch: int
    step: int
    train_loss: float
    """Cost over the whole training set with the weights at the end of the epoch."""
    val_loss: float | None
    metric_name: str
    """``accuracy`` for classification, ``r2`` for regression."""
    train_metric: float
    val_metric: float | None
    lr: float
    seconds: float
    penalty: float = 0.0
    """The L1 / L2 weight penalty at the end of the epoch (not in ``train_loss`` / ``val_loss``,
    which are the data loss): the objective trained on is ``train_loss + penalty``."""


@dataclass
class Divergence:
    """Why training stopped on a non-finite value."""

    step: int
    """The update that produced the non-finite value; the weights from before it are restored."""
    epoch: int
    what: str
    hint: str = DIVERGENCE_HINT
    restored_step: int | None = None
    """The weights put back are those after this many updates: where the diverging epoch began."""

    def __str__(self) -> str:
        restored = "" if self.restored_step is None else f"; restored the weights of step {self.restored_step}"
        return f"diverged after step {self.step} (epoch {self.epoch}): {self.what}{restored}; {self.hint}"


@dataclass
class EarlyStop:
    """Why training stopped early: the validation loss had not improved for ``patience`` epochs."""

    epoch: int
    """The epoch at whose end training stopped."""
    best_epoch: int | None
    """The epoch whose weights were restored (the lowest validation loss)."""
    best_val_loss: float | None
    """None: no epoch had a finite validation loss, and no weights were restored."""
    patience: int

    def __str__(self) -> str:
        if self.best_val_loss is None:
            return f"stopped early at epoch {self.epoch}: no finite validation loss in {self.patience} epochs"
        return (f"stopped early at epoch {self.epoch}: the validation loss had not improved for "
                f"{self.patience} epochs; restored the weights of epoch {self.best_epoch} "
                f"(val loss {self.best_val_loss:.4g})")


@dataclass
class TrainResult:
    """The outcome of ``Trainer.run``."""

    epochs: int
    steps: int
    seconds: float
    history: list[EpochRecord] = field(default_factory=list)
    divergence: Divergence | None = None
    stopped: bool = False
    early_stop: EarlyStop | None = None
    """Set when early stopping ended the run (then the best epoch's weights are in the network)."""

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def stopped_early(self) -> bool:
        return self.early_stop is not None



def batch_mode_of(batch_size) -> str:
    """The batch mode a batch size makes: ``full`` (``"full"``), ``single`` (1) or ``mini``."""
    if batch_size == "full":
        return "full"
    return "single" if batch_size == 1 else "mini"


def batch_rows(batch_size: int | str, n: int) -> int:
    """Samples in a batch of ``n`` training samples: all for ``"full"``, else ``batch_size`` (at most n)."""
    return n if batch_size == "full" else min(int(batch_size), n)


def epoch_order(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """The order an epoch visits the ``n`` samples in, ``k`` at a time: as they are for a full
    batch, else a fresh shuffle drawn from ``rng`` (the trainer's, seeded with the run's seed)."""
    return np.arange(n) if k == n else rng.permutation(n)


class Trainer:
    """Trains ``net`` with ``opt`` on ``data``; deterministic for a given seed."""

    def __init__(
        self,
        net: Network,
        opt: Optimizer,
        data: PreparedData,
        *,
        loss: str,
        batch_size: int | str = "full",
        seed: int = 0,
        schedule: Schedule | None = None,
        patience: int | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
        dropout=0.0,
    ) -> None:
        self.net, self.opt, self.data, self.loss = net, opt, data, loss
        self.l1, self.l2, self.dropout = l1, l2, dropout
        self._dropout_rng = np.random.default_rng(None if seed is None else [seed, 7])
        """Draws the dropout masks; apart from the batch order's generator, so runs without
        dropout see the same batches as ever."""
        self.batch_size = _check_batch_size(batch_size)
        self.problem = data.dataset.problem
        self.metric_name = "r2" if self.problem == "regression" else "accuracy"
        self.epoch = 0
        """Epochs completed."""
        self.step_count = 0
        """Updates made."""
        self.history: list[EpochRecord] = []
        self.history_limit: int | None = None
        """Keep only this many latest epoch records (None: up to ``HISTORY_KEPT`` spread over the run)."""
        self._history_stride = 1
        self.divergence: Divergence | None = None
        self.explosion_factor: float | None = EXPLOSION_FACTOR
        """None: only a non-finite value counts as diverging."""
        self.start_cost: float | None = None
        """The cost that an exploding cost is measured against: before the first update, or
        at the first epoch's end after a resume or a cleared divergence."""
        self.on_step: Callable[[StepRecord], None] | None = None
        """Called after every update when set (from the training thread)."""
        self.on_epoch: Callable[[EpochRecord], None] | None = None
        """Called after every epoch when set (from the training thread)."""
        self._rng = np.random.default_rng(seed)
        self._order: np.ndarray | None = None
        self._cursor = 0
        self._last_good = net.flat_params.copy()
        self._epoch_start = net.flat_params.copy()
        """The weights as the current epoch began: they passed the last epoch's checks."""
        self._epoch_start_step = 0
        """The updates made when the current epoch began (the step ``_epoch_start`` is from)."""
        self._epoch_started = time.perf_counter()
        self.run_to = 0
        """The epoch count the running (or last) ``run`` trains to; a ``before_step`` hook may
        change it while the run goes on (more or fewer epochs)."""
        self._resize_batches()
        self._schedule: Schedule | None = schedule
        self._base_lr: float | None = None
        self._scheduled_lr: float | None = None  # the lr the schedule last set (None: not yet)
        self._patience = _check_patience(patience)
        self.best_epoch: int | None = None
        """Early stopping: the epoch with the lowest validation loss so far (None: none yet)."""
        self.best_val_loss: float | None = None
        self.early_stop: EarlyStop | None = None
        """Set when early stopping ended training: ``step`` and ``run`` do nothing until ``clear_early_stop``."""
        self._bad_epochs = 0
        self._best_params: np.ndarray | None = None

    # -- batch mode --------------------------------------------------------------------------

    @property
    def batch_mode(self) -> str:
        """``full``, ``mini`` or ``single``."""
        return batch_mode_of(self.batch_size)

    @property
    def steps_per_epoch(self) -> int:
        """Updates per epoch: 1 for a full batch, ceil(n / k) otherwise."""
        n = len(self.data.X_train)
        return 1 if self.batch_size == "full" else math.ceil(n / min(self.batch_size, n))

    def _resize_batches(self) -> None:
        n = len(self.data.X_train)
        self._k = batch_rows(self.batch_size, n)
        if self._k < n:  # preallocated batch buffers, filled by np.take
            self._xb = np.empty((self._k, self.data.X_train.shape[1]), self.net.dtype)
            self._yb = np.empty((self._k, self.data.Y_train.shape[1]), self.net.dtype)

    # -- regularization ----------------------------------------------------------------------
    # Each step minimizes data loss + l1 * sum|W| + l2 / 2 * sum W^2 (weights, not biases) with
    # inverted dropout on the hidden layers; ``evaluate`` and the epoch records report the data
    # loss of the whole network (no penalty, no dropout), with the penalty in ``penalty``.
    # Set these at any time: the next step uses them.

    @property
    def penalized(self) -> bool:
        """True while a weight penalty (L1 or L2) is on."""
        return bool(self._l1 or self._l2)

    def weight_penalty(self) -> float:
        """The weight penalty of the current weights (0.0 when none is on)."""
        return self.net.penalty(self._l1, self._l2) if self.penalized else 0.0

    @property
    def l1(self) -> float:
        return self._l1

    @l1.setter
    def l1(self, value: float) -> None:
        check_penalty(value, 0.0)
        self._l1 = float(value)

    @property
    def l2(self) -> float:
        return self._l2

    @l2.setter
    def l2(self, value: float) -> None:
        check_penalty(0.0, value)
        self._l2 = float(value)

    @property
    def dropout(self) -> tuple[float, ...]:
        """Dropout rate per hidden layer, each in [0, 1) (set one float for all, or a list)."""
        return self._dropout

    @dropout.setter
    def dropout(self, rates) -> None:
        self._dropout = check_dropout(rates, self.net.n_layers - 1)

    def dropout_rng_state(self) -> dict:
        """The dropout generator's state (JSON-friendly), so a resumed run draws the same masks."""
        return self._dropout_rng.bit_generator.state

    def set_dropout_rng_state(self, state: dict) -> None:
        self._dropout_rng.bit_generator.state = state

    # -- changes (made between steps: on the training thread, or while no run is in progress) --

    def set_hparams(self, **hparams) -> None:
        """Change optimizer hyperparameters (e.g. ``lr``); a bad value raises ``ValueError`` and
        changes nothing."""
        type(self.opt)(**{**self.opt.hparams, **hparams})  # raises ValueError on a bad value
        self.opt.set(**hparams)
        if "lr" in hparams and self._schedule is not None:
            self._apply_schedule(rebase=True)  # the lr set is the schedule's new base

    def set_optimizer(self, opt: Optimizer) -> None:
        """Train on with ``opt`` (its own fresh state) from the next step; the weights stay."""
        self.opt = opt
        if self._schedule is not None:
            self._apply_schedule(rebase=True)  # its lr is the schedule's new base

    def set_batch_size(self, batch_size: int | str) -> None:
        """Change the batch mode from the next step (a new epoch order is drawn)."""
        self.batch_size = _check_batch_size(batch_size)
        self._resize_batches()
        self._order, self._cursor = None, 0

    @property
    def last_good_params(self) -> np.ndarray:
        """The flat parameters from before the latest update (what divergence restores)."""
        return self._last_good

    def rng_state(self) -> dict:
        """The shuffling generator's state (JSON-friendly), so a resumed run sees the same batches."""
        return self._rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state
        self._order, self._cursor = None, 0

    # -- learning-rate schedule and early stopping ------------------------------------------

    @property
    def schedule(self) -> Schedule | None:
        """The learning-rate schedule (None: the lr stays as set, today's behaviour).

        Stepped once per epoch like a torch scheduler: at each epoch's end the optimizer's lr is set
        to ``schedule.lr_at(epochs completed, base_lr)`` for the next epoch, and the first step
        sets the first epoch's. ``EpochRecord.lr`` is the lr the epoch ran at. Set it where no step
        runs; it takes effect at the next step.
        """
        return self._schedule

    @schedule.setter
    def schedule(self, schedule: Schedule | None) -> None:
        self._schedule = schedule
        self._scheduled_lr = None  # applied afresh at the next step

    @property
    def base_lr(self) -> float | None:
        """The lr the schedule scales: the lr the user set. Taken from the optimizer's lr when the
        schedule first applies; a live change of the lr (``set_hparams(lr=...)``, a new optimizer,
        or the optimizer's lr set directly, noticed at the epoch's end) makes that lr the new base,
        so the schedule goes on from the same epoch count, scaled to it. Set it to resume a
        scheduled run (the optimizer's lr then is the scheduled one, not the base); None until
        a schedule has applied."""
        return self._base_lr

    @base_lr.setter
    def base_lr(self, lr: float | None) -> None:
        self._base_lr = None if lr is None else float(lr)
        self._scheduled_lr = None  # applied afresh at the next step

    def _apply_schedule(self, rebase: bool = False) -> None:
        """Set the optimizer's lr for the epoch after ``self.epoch`` completed ones."""
        schedule = self._schedule
        if schedule is None:
            return
        lr = self.opt.lr
        if rebase or self._base_lr is None or (self._scheduled_lr is not None and lr != self._scheduled_lr):
            self._base_lr = lr  # the user's lr, or a live change of it
        self.opt.lr = schedule.lr_at(self.epoch, self._base_lr)
        self._scheduled_lr = self.opt.lr

    @property
    def patience(self) -> int | None:
        """Early stopping (None: off): stop once the validation loss has not improved (gone below its
        lowest so far) for this many epochs in a row, and put the weights of the epoch with the
        lowest validation loss back (the weights only: the optimizer's state stays, as with torch
        users' usual early stopping). Without a validation set it does nothing. The best weights
        are kept in memory only (model files do not hold them)."""
        return self._patience

    @patience.setter
    def patience(self, patience: int | None) -> None:
        self._patience = _check_patience(patience)

    def restore_best_weights(self) -> bool:
        """Put the weights of ``best_epoch`` back into the network (bit for bit); False when there
        are none to restore (early stopping off, no validation set yet, or the network changed
        size). From another thread, call it through the session's ``control.submit``."""
        best, flat = self._best_params, self.net.flat_params
        if best is None or best.shape != flat.shape:
            return False
        np.copyto(flat, best)
        return True

    def clear_early_stop(self) -> None:
        """Allow training again after an early stop; the patience count starts afresh (the best
        validation loss so far stays the one to beat)."""
        self.early_stop = None
        self._bad_epochs = 0

    def _watch_val_loss(self, val_loss: float | None) -> None:
        """Early stopping's book-keeping at an epoch's end: keep the best weights, stop on no progress."""
        patience = self._patience
        if patience is None or val_loss is None:
            return
        if math.isfinite(val_loss) and (self.best_val_loss is None or val_loss < self.best_val_loss):
            self.best_val_loss, self.best_epoch, self._bad_epochs = val_loss, self.epoch, 0
            flat = self.net.flat_params
            if self._best_params is None or self._best_params.shape != flat.shape:
                self._best_params = flat.copy()
            else:
                np.copyto(self._best_params, flat)
            return
        self._bad_epochs += 1
        if self._bad_epochs >= patience:
            restored = self.restore_best_weights()
            self.early_stop = EarlyStop(self.epoch, self.best_epoch if restored else None,
                                        self.best_val_loss if restored else None, patience)

    def clear_divergence(self) -> None:
        """Allow training again after a divergence (e.g. once the learning rate is lowered)."""
        self.divergence = None
        self.start_cost = None  # measured anew from the next epoch's end

    # -- the loop ----------------------------------------------------------------------------

    def run(self, epochs: int, before_step: Callable[[], bool] | None = None) -> TrainResult:
        """Train until ``epochs`` epochs are complete in total (``run_to``), divergence, early
        stopping, or ``before_step()`` (asked before every update) says no."""
        started = time.perf_counter()
        self.run_to = epochs
        with np.errstate(all="ignore"):  # overflow is caught as divergence, not printed
            while self.epoch < self.run_to:
                if before_step is not None and not before_step():
                    break
                if self.epoch >= self.run_to or self.step() is None:
                    break
        return TrainResult(
            epochs=self.epoch,
            steps=self.step_count,
            seconds=time.perf_counter() - started,
            history=self.history,
            divergence=self.divergence,
            early_stop=self.early_stop,
        )

    def step(self) -> float | None:
        """One update (and the epoch's metrics when it ends one): the batch loss, None once diverged."""
        if self.divergence is not None or self.early_stop is not None:
            return None
        if self._schedule is not None and self._scheduled_lr is None:
            self._apply_schedule()
        if self.step_count == 0 and self.start_cost is None:  # what an exploding cost is measured against
            with np.errstate(all="ignore"):
                self.start_cost = self.net.loss(self.data.X_train, self.data.Y_train, self.loss)
        X, Y = self._next_batch()
        l1, l2, rates = self._l1, self._l2, self._dropout
        if any(rates):
            masks = self.net.dropout_masks(rates, len(X), self._dropout_rng)
            loss, grads = self.net.loss_and_grads(X, Y, self.loss, dropout_masks=masks)
        else:
            loss, grads = self.net.loss_and_grads(X, Y, self.loss)
        penalty = self.net.add_penalty_grads(grads, l1, l2) if l1 or l2 else 0.0
        if not math.isfinite(loss + penalty):
            if math.isfinite(loss):  # the data loss is finite: the weight penalty overflowed
                self._diverge(f"the weight penalty became {penalty}", self.epoch + 1, hint=self._penalty_hint())
            else:
                self._diverge(f"the loss became {loss + penalty}", self.epoch + 1)
            return None
        np.copyto(self._last_good, self.net.flat_params)
        self.opt.step(self.net.params, grads)
        self.step_count += 1
        if self.opt.hparams.get("eps") == 0 and np.isnan(self.net.flat_params).any():
            self._diverge("the optimizer's update made a weight NaN", self.epoch + 1, hint=EPS_HINT)
            return None
        if self.on_step is not None:
            self.on_step(StepRecord(self.epoch + 1, self.step_count, loss, self.opt.lr, grads[0::2], penalty))
        if self._cursor >= len(self._order):
            self._end_epoch()
        return loss

    def evaluate(self) -> dict[str, float | None]:
        """Loss and accuracy (or R^2) on the training and validation sets.

        ``train_loss`` / ``val_loss`` are the data loss of the whole network: without the L1 / L2
        penalty (``net.penalty(trainer.l1, trainer.l2)``, in ``EpochRecord.penalty``) and without
        dropout, so they compare across settings and with runs that use neither."""
        d = self.data
        out = {"train_loss": self.net.loss(d.X_train, d.Y_train, self.loss)}
        out["train_metric"] = self._metric(d.X_train, d.Y_train, d.y_train)
        if len(d.X_val):
            out["val_loss"] = self.net.loss(d.X_val, d.Y_val, self.loss)
            out["val_metric"] = self._metric(d.X_val, d.Y_val, d.y_val)
        else:
            out["val_loss"] = out["val_metric"] = None
        return out

    # -- internals ---------------------------------------------------------------------------

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.data
        n = len(d.X_train)
        if self._order is None or self._cursor >= len(self._order):  # a new epoch begins
            np.copyto(self._epoch_start, self.net.flat_params)
            self._epoch_start_step = self.step_count
            self._order = epoch_order(self._rng, n, self._k)
            self._cursor = 0
        if self._k == n:
            self._cursor = n
            return d.X_train, d.Y_train
        idx = self._order[self._cursor : self._cursor + self._k]
        self._cursor += len(idx)
        if len(idx) < self._k:  # the last, smaller batch of the epoch
            return d.X_train[idx], d.Y_train[idx]
        np.take(d.X_train, idx, axis=0, out=self._xb)
        np.take(d.Y_train, idx, axis=0, out=self._yb)
        return self._xb, self._yb

    def _end_epoch(self) -> None:
        self.epoch += 1
        if not np.isfinite(self.net.flat_params).all():
            self._diverge("a weight became infinite or NaN", self.epoch)
            return
        metrics = self.evaluate()
        cost = metrics["train_loss"]
        if not math.isfinite(cost):
            self._diverge(f"the cost became {cost}", self.epoch)
            return
        if self.start_cost is None or not math.isfinite(self.start_cost):
            self.start_cost = cost
        elif self.explosion_factor is not None and cost > self.explosion_factor * max(self.start_cost, 0.1):
            self._diverge(f"the cost exploded to {cost:.4g} (it started from {self.start_cost:.4g})", self.epoch)
        now = time.perf_counter()
        record = EpochRecord(
            epoch=self.epoch,
            step=self.step_count,
            train_loss=metrics["train_loss"],
            val_loss=metrics["val_loss"],
            metric_name=self.metric_name,
            train_metric=metrics["train_metric"],
            val_metric=metrics["val_metric"],
            lr=self.opt.lr,
            seconds=now - self._epoch_started,
            penalty=self.weight_penalty(),
        )
        self._epoch_started = now
        if self.divergence is None:
            self._watch_val_loss(record.val_loss)
            self._apply_schedule()  # the next epoch's lr
        self._keep(record)
        if self.on_epoch is not None:
            self.on_epoch(record)

    def _keep(self, record: EpochRecord) -> None:
        """Add ``record`` to the history, keeping it bounded however long the run goes."""
        history = self.history
        if self.history_limit is not None:  # the latest records only
            history.append(record)
            if len(history) > 2 * self.history_limit:
                del history[: -self.history_limit]  # now and then, so that appends stay cheap
            return
        stride = self._history_stride
        if history and history[-1].epoch % stride:
            history.pop()  # kept only while it was the latest
        history.append(record)
        if len(history) > HISTORY_KEPT:
            stride = self._history_stride = stride * 2
            history[:-1] = [r for r in history[:-1] if r.epoch % stride == 0]

    def _diverge(self, what: str, epoch: int, hint: str = DIVERGENCE_HINT) -> None:
        """Stop for good: restore the weights the epoch began with (the last that passed an epoch's
        checks: finite, not exploding), clear optimizer state. ``hint``: what to change."""
        np.copyto(self.net.flat_params, self._epoch_start)
        self.opt.reset_state()
        self.divergence = Divergence(self.step_count, epoch, what, hint=hint,
                                     restored_step=self._epoch_start_step)

    def _penalty_hint(self) -> str:
        """Names the penalty setting whose term is not finite (else those that are on)."""
        on = [(name, value) for name, value in (("l1", self._l1), ("l2", self._l2)) if value]
        with np.errstate(all="ignore"):
            overflowed = [(n, v) for n, v in on if not math.isfinite(self.net.penalty(**{n: v}))]
        return "lower the weight penalty (" + " and ".join(f"{n} = {v:g}" for n, v in overflowed or on) + ")"

    def _metric(self, X, Y, y) -> float:
        out = self.net.forward(X)
        if self.problem == "regression":
            return r2_score(out, Y)
        return accuracy(out, y, self.problem)


def _check_patience(patience) -> int | None:
    if patience is None:
        return None
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience must be a whole number of epochs >= 1 or None, got {patience!r}")
    return int(patience)


def _check_batch_size(batch_size) -> int | str:
    if batch_size == "full":
        return "full"
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1 or 'full', got {batch_size!r}")
    return int(batch_size)
