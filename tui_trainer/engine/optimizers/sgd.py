"""SGD with optional (Nesterov) momentum, dampening and weight decay, as ``torch.optim.SGD``; ``momentum``
and ``nesterov`` are the same class with other defaults.

    d = g + weight_decay * w                        (when weight_decay > 0)
    v <- momentum * v + (1 - dampening) * d         (v <- d on the first step)
    w <- w - lr * v,  or with nesterov  w <- w - lr * (d + momentum * v)
    without momentum:  w <- w - lr * d
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import (WEIGHT_DECAY, WEIGHT_DECAY_NOTE, HParam, Optimizer, explain_weight_decay, lr_param,
                   weight_decay_rule, with_weight_decay)
from .explain import Worked, f, fp

_PLAIN = "Step straight down the gradient: the learning rate alone sets the step size."
_MOMENTUM = "Keep a running velocity of past gradients: speeds up along steady slopes, damps zig-zags."
_NESTEROV = "Momentum that looks ahead: the step uses the gradient plus the velocity it is about to add."


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as ``torch.optim.SGD``."""

    name = "sgd"
    letter = "S"
    race_lr = 0.1
    hparam_specs = (
        lr_param(0.01),
        HParam("momentum", 0.0, "fraction of the previous step kept (0: plain gradient descent)"),
        HParam("dampening", 0.0, "fraction of the new gradient left out of the momentum buffer"),
        WEIGHT_DECAY,
        HParam("nesterov", False, "look ahead along the momentum before taking the gradient", "bool"),
    )
    state_labels = {"momentum_buffer": "v (momentum buffer)"}

    def __init__(self, **hparams: Any) -> None:
        super().__init__(**hparams)
        self.momentum_started = False
        """Whether the momentum buffer holds a value (torch starts it from the first gradient)."""

    def _check(self, hp):
        if hp["nesterov"] and (hp["momentum"] <= 0.0 or hp["dampening"] != 0.0):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0")

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def _summary(cls, hp):
        if hp["momentum"] == 0.0:
            text = _PLAIN
        else:
            text = _NESTEROV if hp["nesterov"] else _MOMENTUM
            if hp["dampening"] != 0.0:
                text += " Dampening lets only (1 - dampening) of each new gradient into the velocity."
        return text + (WEIGHT_DECAY_NOTE if hp["weight_decay"] != 0.0 else "")

    @classmethod
    def _rule(cls, hp):
        parts, d = weight_decay_rule(hp)
        if hp["momentum"] == 0.0:
            return ";  ".join([*parts, f"w <- w - lr * {d}"])
        term = f"(1 - dampening) * {d}" if hp["dampening"] != 0.0 else d
        parts.append(f"v <- momentum * v + {term}")
        parts.append(f"w <- w - lr * ({d} + momentum * v)" if hp["nesterov"] else "w <- w - lr * v")
        return ";  ".join(parts)

    @classmethod
    def state_in_use(cls, hparams=None):
        return cls.state_names if cls.settings(hparams)["momentum"] != 0.0 else ()

    # -- the update ------------------------------------------------------------------------

    def step(self, params, grads):
        super().step(params, grads)
        if self.hparams["momentum"] != 0.0:
            self.momentum_started = True

    def _update(self, grp, hp, t):
        d = with_weight_decay(grp.p, grp.g, grp.tmp[0], hp["weight_decay"])
        momentum = hp["momentum"]
        if momentum != 0.0:
            buf = grp.s["momentum_buffer"]
            if not self.momentum_started:
                np.copyto(buf, d)
            else:
                buf *= momentum
                if hp["dampening"] == 0.0:
                    buf += d
                else:
                    np.multiply(d, 1.0 - hp["dampening"], out=grp.tmp[1])
                    buf += grp.tmp[1]
            if hp["nesterov"]:
                np.multiply(buf, momentum, out=grp.tmp[1])
                grp.tmp[1] += d
                d = grp.tmp[1]
            else:
                d = buf
        np.multiply(d, hp["lr"], out=grp.tmp[0])
        grp.p -= grp.tmp[0]

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        hp, w = ex.hp, ex.w
        lr, mom = float(hp["lr"]), float(hp["momentum"])
        d, dsym = explain_weight_decay(ex)
        if mom == 0.0:
            new = w - d * lr
            ex.add(f"w <- w - lr * {dsym} = {f(w)} - {f(lr)} * {fp(d)} = {f(new)}")
            return new
        buf = ex.value("momentum_buffer")
        damp = float(hp["dampening"])
        if ex.t == 1:
            ex.add(f"v <- {dsym} (the first step starts the buffer) = {f(buf)}")
        else:
            scale = 1.0 - damp
            prev = (buf - d * scale) / mom
            term = f"{f(scale)} * {dsym}" if damp else dsym
            ex.add(f"v <- momentum * v + {term} = {f(mom)} * {fp(prev)} + "
                   f"{f(d * scale) if damp else fp(d)} = {f(buf)}")
        if hp["nesterov"]:
            step = buf * mom + d
            ex.add(f"step = {dsym} + momentum * v = {f(d)} + {f(mom)} * {fp(buf)} = {f(step)}")
            new = w - step * lr
            ex.add(f"w <- w - lr * step = {f(w)} - {f(lr)} * {fp(step)} = {f(new)}")
        else:
            new = w - buf * lr
            ex.add(f"w <- w - lr * v = {f(w)} - {f(lr)} * {fp(buf)} = {f(new)}")
        return new

    # -- checkpoints -----------------------------------------------------------------------

    def _forget(self):
        super()._forget()
        self.momentum_started = False

    def state_dict(self):
        return {**super().state_dict(), "momentum_started": self.momentum_started}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.momentum_started = bool(state.get("momentum_started", self.steps > 0))


def _with_defaults(specs: tuple[HParam, ...], **defaults: Any) -> tuple[HParam, ...]:
    """``specs`` with other defaults for some of them."""
    return tuple(HParam(s.name, defaults[s.name], s.doc, s.kind, s.low, s.high, s.high_open)
                 if s.name in defaults else s for s in specs)


class Momentum(SGD):
    """SGD with momentum 0.9: a heavy ball that keeps rolling through flat stretches and small bumps."""

    name = "momentum"
    letter = "M"
    race_lr = 0.05
    hparam_specs = _with_defaults(SGD.hparam_specs, momentum=0.9)


class Nesterov(SGD):
    """SGD with Nesterov momentum 0.9: corrects the velocity by looking one step ahead."""

    name = "nesterov"
    letter = "N"
    race_lr = 0.05
    hparam_specs = _with_defaults(SGD.hparam_specs, momentum=0.9, nesterov=True)
