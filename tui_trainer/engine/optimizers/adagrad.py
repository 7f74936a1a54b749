"""Adagrad, as ``torch.optim.Adagrad``: per-weight steps that shrink with the sum of past squared gradients.

    d = g + weight_decay * w                        (when weight_decay > 0)
    s <- s + d^2                                    (s starts at initial_accumulator_value)
    lr_t = lr / (1 + (t - 1) * lr_decay)
    w <- w - lr_t * d / (sqrt(s) + eps)
"""

from __future__ import annotations

import math

import numpy as np

from .base import (WEIGHT_DECAY, WEIGHT_DECAY_NOTE, HParam, Optimizer, explain_weight_decay, lr_param,
                   weight_decay_rule, with_weight_decay)
from .explain import Worked, f, fp


class Adagrad(Optimizer):
    """Per-weight step sizes that shrink with the sum of past squared gradients (``torch.optim.Adagrad``)."""

    name = "adagrad"
    adaptive = True
    letter = "G"
    race_lr = 0.05
    hparam_specs = (
        lr_param(0.01),
        HParam("lr_decay", 0.0, "the learning rate is lr / (1 + (t - 1) * lr_decay)"),
        WEIGHT_DECAY,
        HParam("initial_accumulator_value", 0.0, "starting value of the sum of squares"),
        HParam("eps", 1e-10, "added to the denominator so it is never zero"),
    )
    state_labels = {"sum": "s (sum of g^2)"}
    nonnegative_state = ("sum",)

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def _summary(cls, hp):
        text = "Divide each weight's step by the root of its summed squared gradients: rare features get big steps."
        if hp["lr_decay"] != 0.0:
            text += " lr_decay also shrinks the learning rate itself, step by step."
        if hp["initial_accumulator_value"] != 0.0:
            text += " The sum starts at initial_accumulator_value, which keeps the first steps small."
        return text + (WEIGHT_DECAY_NOTE if hp["weight_decay"] != 0.0 else "")

    @classmethod
    def _rule(cls, hp):
        parts, d = weight_decay_rule(hp)
        if hp["initial_accumulator_value"] != 0.0:
            parts.append("s starts at initial_accumulator_value")
        parts.append(f"s <- s + {d}^2")
        lr = "lr"
        if hp["lr_decay"] != 0.0:
            parts.append("lr_t = lr / (1 + (t - 1) * lr_decay)")
            lr = "lr_t"
        parts.append(f"w <- w - {lr} * {d} / (sqrt(s) + eps)")
        return ";  ".join(parts)

    # -- the update ------------------------------------------------------------------------

    def _init_state(self, name, p):
        return np.full_like(p, self.hparams["initial_accumulator_value"])

    def _update(self, grp, hp, t):
        d = with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        clr = hp["lr"] / (1.0 + (t - 1) * hp["lr_decay"])
        acc, tmp = grp.s["sum"], grp.tmp[0]
        np.multiply(d, d, out=tmp)
        acc += tmp
        np.sqrt(acc, out=tmp)
        tmp += hp["eps"]
        np.divide(d, tmp, out=tmp)
        tmp *= clr
        grp.p -= tmp

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        hp, w, t = ex.hp, ex.w, ex.t
        lr, eps = float(hp["lr"]), float(hp["eps"])
        d, dsym = explain_weight_decay(ex)
        acc = ex.value("sum")
        ex.add(f"s <- s + {dsym}^2 = {f(acc - d * d)} + {f(d * d)} = {f(acc)}")
        clr = lr / (1.0 + (t - 1) * float(hp["lr_decay"]))
        lr_text = "lr"
        if hp["lr_decay"]:
            ex.add(f"lr_t = lr / (1 + (t - 1) * lr_decay) = {f(lr)} / (1 + {t - 1} * "
                   f"{f(hp['lr_decay'])}) = {f(clr)}")
            lr_text = "lr_t"
        root = math.sqrt(acc)
        new = w - (d / (root + eps)) * clr
        ex.add(f"w <- w - {lr_text} * {dsym} / (sqrt(s) + eps) = {f(w)} - {f(clr)} * {fp(d)} / "
               f"({f(root)} + {f(eps)}) = {f(new)}")
        return new
