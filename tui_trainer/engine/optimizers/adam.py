"""Adam and AdamW, as ``torch.optim.Adam`` / ``torch.optim.AdamW``: momentum on the gradient divided by a
running RMS, both corrected for their zero start.

    d = g + weight_decay * w                        (Adam, when weight_decay > 0)
    w <- w - lr * weight_decay * w                  (AdamW: the decay is decoupled from the gradient)
    m <- b1 * m + (1 - b1) * d;  v <- b2 * v + (1 - b2) * d^2
    v_max <- max(v_max, v), used in place of v      (amsgrad)
    w <- w - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)

The engine folds ``sqrt(1 - b2^t)`` into ``eps`` and the step size (one pass over the weights fewer); the
explanation computes it the same way, so its number is the weight the update wrote.
"""

from __future__ import annotations

import math

import numpy as np

from .base import (BETAS, EPS, WEIGHT_DECAY, HParam, Optimizer, explain_weight_decay, lr_param,
                   weight_decay_rule, with_weight_decay)
from .explain import Worked, f, fp


class Adam(Optimizer):
    """Momentum on the gradient divided by a running RMS, with bias correction (``torch.optim.Adam``)."""

    name = "adam"
    adaptive = True
    letter = "A"
    race_lr = 0.01
    hparam_specs = (
        lr_param(1e-3),
        BETAS,
        EPS,
        WEIGHT_DECAY,
        HParam("amsgrad", False, "divide by the largest v seen so far (that v_max never shrinks; the step can still grow with m)", "bool"),
    )
    state_labels = {
        "exp_avg": "m (running mean of g)",
        "exp_avg_sq": "v (running mean of g^2)",
        "max_exp_avg_sq": "v_max (largest v so far)",
    }
    nonnegative_state = ("exp_avg_sq", "max_exp_avg_sq")
    decoupled = False
    """AdamW: decay the weights directly instead of adding wd * w to the gradient."""

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def _summary(cls, hp):
        text = "Momentum and RMSprop together, corrected for their zero start: a robust default."
        if hp["amsgrad"]:
            text += (" AMSGrad divides by the largest v seen so far: that denominator never shrinks, though a weight's"
                     " step can still grow when m does.")
        if hp["weight_decay"] != 0.0:
            text += (" Weight decay adds weight_decay * w to the gradient, so the adaptive step rescales it too"
                     " (adamw decays the weights directly).")
        return text

    @classmethod
    def _rule(cls, hp):
        parts, d = weight_decay_rule(hp)
        return ";  ".join([*parts, *cls._moments_rule(hp, d)])

    @staticmethod
    def _moments_rule(hp, d: str) -> list[str]:
        """The moments and the step, with ``d`` the symbol of what they average."""
        parts = [f"m <- b1*m + (1-b1)*{d}", f"v <- b2*v + (1-b2)*{d}^2"]
        if hp.get("amsgrad"):
            parts.append("v_max <- max(v_max, v)")
            parts.append("w <- w - lr * m_hat / (sqrt(v_hat) + eps), v_hat from v_max")
        else:
            parts.append("w <- w - lr * m_hat / (sqrt(v_hat) + eps)")
        return parts

    @classmethod
    def state_in_use(cls, hparams=None):
        hp = cls.settings(hparams)
        return ("exp_avg", "exp_avg_sq", *("max_exp_avg_sq",) * bool(hp.get("amsgrad")))

    # -- the update ------------------------------------------------------------------------

    def _update(self, grp, hp, t):
        if self.decoupled:
            if hp["weight_decay"] != 0.0:
                grp.p *= 1.0 - hp["lr"] * hp["weight_decay"]
            d = grp.g
        else:
            d = with_weight_decay(grp.p, grp.g, grp.tmp[1], hp["weight_decay"])
        denom, step_size = self._moments(grp, d, hp, t)
        np.divide(grp.s["exp_avg"], denom, out=denom)
        denom *= step_size
        grp.p -= denom

    @staticmethod
    def _moments(grp, d, hp, t) -> tuple[np.ndarray, float]:
        """Update m and v from ``d``; return (denominator in ``grp.tmp[0]``, step size).

        ``m / denom * step_size`` is torch's ``lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)``
        with ``sqrt(bc2)`` moved into ``eps`` and the step size: one pass over the
        parameters fewer, and the same numbers to a rounding or two.
        """
        beta1, beta2 = hp["betas"]
        m, v, tmp = grp.s["exp_avg"], grp.s["exp_avg_sq"], grp.tmp[0]
        np.subtract(d, m, out=tmp)  # lerp, as torch: m += (1 - b1) * (d - m)
        tmp *= 1.0 - beta1
        m += tmp
        v *= beta2
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if hp.get("amsgrad"):
            v = np.maximum(grp.s["max_exp_avg_sq"], v, out=grp.s["max_exp_avg_sq"])
        root_bc2 = math.sqrt(1.0 - beta2**t)
        np.sqrt(v, out=tmp)
        tmp += hp["eps"] * root_bc2
        return tmp, hp["lr"] / (1.0 - beta1**t) * root_bc2

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        hp, w, t = ex.hp, ex.w, ex.t
        lr, eps, wd = float(hp["lr"]), float(hp["eps"]), float(hp["weight_decay"])
        d, dsym = (ex.g, "g") if cls.decoupled else explain_weight_decay(ex)
        m, v, m_hat, v_hat = cls._explain_moments(ex, d, dsym)
        bc1, bc2 = 1.0 - hp["betas"][0] ** t, 1.0 - hp["betas"][1] ** t
        w_start = w
        if cls.decoupled and wd != 0.0:
            w_start = w * (1.0 - lr * wd)
            ex.add(f"w <- w * (1 - lr * weight_decay) = {f(w)} * {f(1.0 - lr * wd, 8)} = {f(w_start)}")
        # As the update: sqrt(bc2) moved into eps and the step size (same value, a rounding apart).
        root_bc2 = math.sqrt(bc2)
        new = w_start - (m / (math.sqrt(v) + eps * root_bc2)) * (lr / bc1 * root_bc2)
        ex.add(f"w <- w - lr * m_hat / (sqrt(v_hat) + eps) = {f(w_start)} - {f(lr)} * "
               f"{fp(m_hat)} / ({f(math.sqrt(v_hat))} + {f(eps)}) = {f(new)}")
        return new

    @staticmethod
    def _explain_moments(ex: Worked, d: float, dsym: str) -> tuple[float, float, float, float]:
        """The lines for m, v (v_max) and their bias corrections: ``(m, v used, m_hat, v_hat)``."""
        b1, b2 = (float(x) for x in ex.hp["betas"])
        m, v = ex.value("exp_avg"), ex.value("exp_avg_sq")
        m_prev = (m - d * (1.0 - b1)) / b1
        v_prev = (v - d * d * (1.0 - b2)) / b2
        ex.add(f"m <- b1 * m + (1 - b1) * {dsym} = {f(b1)} * {fp(m_prev)} + {f(1 - b1)} * "
               f"{fp(d)} = {f(m)}")
        ex.add(f"v <- b2 * v + (1 - b2) * {dsym}^2 = {f(b2)} * {f(v_prev)} + {f(1 - b2)} * "
               f"{f(d * d)} = {f(v)}")
        if ex.hp.get("amsgrad"):
            v = ex.value("max_exp_avg_sq")
            ex.add(f"v_max <- max(v_max, v) = {f(v)}  (used instead of v)")
        bc1, bc2 = 1.0 - b1**ex.t, 1.0 - b2**ex.t
        m_hat, v_hat = m / bc1, v / bc2
        ex.add(f"m_hat = m / (1 - b1^t) = {f(m)} / {f(bc1)} = {f(m_hat)}   (t = {ex.t})")
        ex.add(f"v_hat = v / (1 - b2^t) = {f(v)} / {f(bc2)} = {f(v_hat)}")
        return m, v, m_hat, v_hat


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``)."""

    name = "adamw"
    letter = "W"
    race_lr = 0.01
    hparam_specs = tuple(
        HParam(s.name, 1e-2, "decay applied to the weights directly: w <- w - lr * wd * w")
        if s.name == "weight_decay"
        else s
        for s in Adam.hparam_specs
    )
    decoupled = True

    @classmethod
    def _summary(cls, hp):
        if hp["weight_decay"] == 0.0:
            text = "Adam with weight decay applied to the weights directly; with weight_decay 0 it is plain Adam."
        else:
            text = "Adam whose weight decay shrinks the weights directly, not through the adaptive step."
        if hp["amsgrad"]:
            text += (" AMSGrad divides by the largest v seen so far: that denominator never shrinks, though a weight's"
                     " step can still grow when m does.")
        return text

    @classmethod
    def _rule(cls, hp):
        decay = ["w <- w - lr * weight_decay * w"] if hp["weight_decay"] != 0.0 else []
        return ";  ".join([*decay, *cls._moments_rule(hp, "g")])
