"""RMSprop, as ``torch.optim.RMSprop``: divide by a running root-mean-square of recent gradients.

    d = g + weight_decay * w                        (when weight_decay > 0)
    s <- alpha * s + (1 - alpha) * d^2
    rms = sqrt(s),  or centered  g_avg <- alpha * g_avg + (1 - alpha) * d;  rms = sqrt(s - g_avg^2)
    w <- w - lr * d / (rms + eps),  or with momentum  v <- momentum * v + d / (rms + eps);  w <- w - lr * v
"""

from __future__ import annotations

import math

import numpy as np

from .base import (WEIGHT_DECAY, WEIGHT_DECAY_NOTE, HParam, Optimizer, explain_weight_decay, lr_param,
                   weight_decay_rule, with_weight_decay)
from .explain import Worked, f, fp


class RMSprop(Optimizer):
    """Divide by a running root-mean-square of recent gradients (``torch.optim.RMSprop``)."""

    name = "rmsprop"
    adaptive = True
    letter = "R"
    race_lr = 0.005
    hparam_specs = (
        lr_param(0.01),
        HParam("alpha", 0.99, "decay rate of the running mean of g^2"),
        HParam("eps", 1e-8, "added to the denominator so it is never zero"),
        WEIGHT_DECAY,
        HParam("momentum", 0.0, "momentum applied to the scaled step"),
        HParam("centered", False, "divide by the square root of the variance of g, sqrt(s - g_avg^2), instead of the RMS", "bool"),
    )
    state_labels = {
        "square_avg": "s (running mean of g^2)",
        "momentum_buffer": "v (momentum buffer)",
        "grad_avg": "g_avg (running mean of g)",
    }
    nonnegative_state = ("square_avg",)

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def _summary(cls, hp):
        text = "Like AdaGrad but forgets old gradients, so steps do not shrink to nothing."
        if hp["centered"]:
            text += (" Centered: it divides by the spread of recent gradients, the square root of their variance"
                     " sqrt(s - g_avg^2), not their root mean square.")
        if hp["momentum"] > 0.0:
            text += " Momentum keeps a running velocity of these scaled steps."
        return text + (WEIGHT_DECAY_NOTE if hp["weight_decay"] != 0.0 else "")

    @classmethod
    def _rule(cls, hp):
        parts, d = weight_decay_rule(hp)
        parts.append(f"s <- alpha * s + (1 - alpha) * {d}^2")
        root = "sqrt(s)"
        if hp["centered"]:
            parts.append(f"g_avg <- alpha * g_avg + (1 - alpha) * {d}")
            root = "sqrt(s - g_avg^2)"
        if hp["momentum"] > 0.0:
            parts.append(f"v <- momentum * v + {d} / ({root} + eps)")
            parts.append("w <- w - lr * v")
        else:
            parts.append(f"w <- w - lr * {d} / ({root} + eps)")
        return ";  ".join(parts)

    @classmethod
    def state_in_use(cls, hparams=None):
        hp = cls.settings(hparams)
        return ("square_avg", *("grad_avg",) * bool(hp["centered"]), *("momentum_buffer",) * (hp["momentum"] > 0.0))

    # -- the update ------------------------------------------------------------------------

    def _update(self, grp, hp, t):
        d = with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        alpha, tmp = hp["alpha"], grp.tmp[0]
        sq = grp.s["square_avg"]
        sq *= alpha
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - alpha
        sq += tmp
        if hp["centered"]:
            ga = grp.s["grad_avg"]
            np.subtract(d, ga, out=tmp)  # lerp: ga += (1 - alpha) * (d - ga)
            tmp *= 1.0 - alpha
            ga += tmp
            np.multiply(ga, ga, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += hp["eps"]
        if hp["momentum"] > 0.0:
            buf = grp.s["momentum_buffer"]
            buf *= hp["momentum"]
            np.divide(d, tmp, out=tmp)
            buf += tmp
            np.multiply(buf, hp["lr"], out=tmp)
        else:
            np.divide(d, tmp, out=tmp)
            tmp *= hp["lr"]
        grp.p -= tmp

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        hp, w = ex.hp, ex.w
        lr, eps, alpha, mom = float(hp["lr"]), float(hp["eps"]), float(hp["alpha"]), float(hp["momentum"])
        d, dsym = explain_weight_decay(ex)
        sq = ex.value("square_avg")
        prev = (sq - d * d * (1.0 - alpha)) / alpha
        ex.add(f"s <- alpha * s + (1 - alpha) * {dsym}^2 = {f(alpha)} * {f(prev)} + "
               f"{f(1.0 - alpha)} * {f(d * d)} = {f(sq)}")
        if hp["centered"]:
            ga = ex.value("grad_avg")
            ex.add(f"g_avg <- alpha * g_avg + (1 - alpha) * {dsym} = {f(ga)}")
            root = math.sqrt(sq - ga * ga)
            ex.add(f"rms = sqrt(s - g_avg^2) = sqrt({f(sq)} - {f(ga * ga)}) = {f(root)}")
        else:
            root = math.sqrt(sq)
            ex.add(f"rms = sqrt(s) = {f(root)}")
        denom = root + eps
        if mom > 0.0:
            buf = ex.value("momentum_buffer")
            ex.add(f"v <- momentum * v + {dsym} / (rms + eps) = {f(mom)} * "
                   f"{fp((buf - d / denom) / mom)} + {fp(d / denom)} = {f(buf)}")
            new = w - buf * lr
            ex.add(f"w <- w - lr * v = {f(w)} - {f(lr)} * {fp(buf)} = {f(new)}")
        else:
            new = w - (d / denom) * lr
            ex.add(f"w <- w - lr * {dsym} / (rms + eps) = {f(w)} - {f(lr)} * {fp(d)} / "
                   f"({f(root)} + {f(eps)}) = {f(new)}")
        return new
