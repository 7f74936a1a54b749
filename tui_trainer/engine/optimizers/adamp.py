"""AdamP (Heo et al., "AdamP: Slowing Down the Slowdown for Momentum Optimizers on Scale-invariant Weights",
ICLR 2021; clovaai/AdamP ``adamp/adamp.py``): Adam that removes the radial part of the step of a
scale-invariant weight.

A weight is scale-invariant when scaling it does not change the loss, as for the weights that feed a
normalization layer (batch or layer norm). Its gradient is then perpendicular to it, and the part of Adam's
momentum step along the weight only grows its norm, which shrinks every later step. AdamP looks for that:
for a weight matrix ``W`` (n_in, n_out) it takes each output unit (a column) and, failing that, the whole
matrix, and when ``|cos(g, w)| < delta / sqrt(dim)`` in every one of them it removes the step's part along
``w`` (and scales the weight decay by ``wd_ratio``). 1-D parameters (biases) are never projected.

The networks here have no normalization layer, so the loss depends on each weight's scale: the gradient has
a radial part and the test rarely passes. Measured in 30-epoch races of the default network on each built-in
set, it passed in 0 to 18% of the weight matrices' updates (under 5% on 9 of the 13 sets), and AdamP's final
cost was within 4% of Adam's (within 1% on all but spiral). Where it does not pass, AdamP takes exactly Adam's
step (AdamW's with weight decay; bit for bit, without nesterov).
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from .adam import Adam
from .base import BETAS, EPS, WEIGHT_DECAY, HParam, Optimizer, lr_param
from .explain import Worked, f, fp


class AdamP(Optimizer):
    """Adam that removes the radial part of the step for scale-invariant weights (Heo et al., 2021)."""

    elementwise = False  # the projection looks at whole weight matrices
    adaptive = True
    name = "adamp"
    letter = "P"
    race_lr = 0.01
    hparam_specs = (
        lr_param(1e-3),
        BETAS,
        EPS,
        WEIGHT_DECAY,
        HParam("delta", 0.1, "cosine threshold below which a weight counts as scale-invariant"),
        HParam("wd_ratio", 0.1, "weight decay multiplier where the projection applies"),
        HParam("nesterov", False, "use the Nesterov form of the first moment", "bool"),
    )
    state_labels = {"exp_avg": "m (running mean of g)", "exp_avg_sq": "v (running mean of g^2)"}
    nonnegative_state = ("exp_avg_sq",)

    # -- what it says about itself ---------------------------------------------------------

    @classmethod
    def _summary(cls, hp):
        like = "AdamW" if hp["weight_decay"] != 0.0 else "Adam"
        text = ("Adam that removes the step's part along w when |cos(g, w)| < delta / sqrt(dim), i.e. for a "
                "scale-invariant weight (one feeding a normalization layer). These networks have none, so g keeps "
                f"a part along w, the test rarely passes, and AdamP mostly steps as {like} does.")
        if hp["nesterov"]:
            text += " Nesterov: its step looks ahead with b1 * m + (1 - b1) * g."
        if hp["weight_decay"] != 0.0:
            text += " Weight decay shrinks the weights directly (times wd_ratio where the projection fires)."
        return text

    @classmethod
    def _rule(cls, hp):
        top = "(b1*m + (1-b1)*g) / (1-b1^t)" if hp["nesterov"] else "m_hat"
        parts = ["m <- b1*m + (1-b1)*g", "v <- b2*v + (1-b2)*g^2", f"step = {top} / (sqrt(v_hat) + eps)",
                 "if |cos(g, w)| < delta / sqrt(dim): step <- step minus its part along w"]
        if hp["weight_decay"] != 0.0:
            parts.append("w <- w * (1 - lr * weight_decay * r), r = wd_ratio if projected, else 1")
        parts.append("w <- w - lr * step")
        return ";  ".join(parts)

    # -- the update ------------------------------------------------------------------------

    def _update(self, grp, hp, t):
        beta1 = hp["betas"][0]
        denom, step_size = Adam._moments(grp, grp.g, hp, t)
        perturb = grp.tmp[1]
        if hp["nesterov"]:
            np.multiply(grp.s["exp_avg"], beta1, out=perturb)
            perturb += (1.0 - beta1) * grp.g
            perturb /= denom
        else:
            np.divide(grp.s["exp_avg"], denom, out=perturb)
        for mem in grp.members:
            wd_ratio = 1.0
            if mem.p.ndim > 1:
                wd_ratio = _project(mem.p, mem.g, mem.tmp1, hp["delta"], hp["wd_ratio"], hp["eps"])
            if hp["weight_decay"] > 0.0:
                mem.p *= 1.0 - hp["lr"] * hp["weight_decay"] * wd_ratio
        perturb *= step_size
        grp.p -= perturb

    @classmethod
    def _explain(cls, ex: Worked) -> float:
        hp, t, idx, w, g = ex.hp, ex.t, ex.index, ex.w, ex.g
        lr, eps, wd, delta = float(hp["lr"]), float(hp["eps"]), float(hp["weight_decay"]), float(hp["delta"])
        b1, b2 = (float(x) for x in hp["betas"])
        m, _, _, v_hat = Adam._explain_moments(ex, g, "g")
        m_arr, v_arr = ex.state["exp_avg"].astype(np.float64), ex.state["exp_avg_sq"].astype(np.float64)
        # As the update: sqrt(bc2) moved from v_hat into eps and the step size, so the step below is the
        # textbook one divided by sqrt(bc2) (the projection is linear in it).
        root_bc2 = math.sqrt(1.0 - b2**t)
        denom = np.sqrt(v_arr) + eps * root_bc2
        if hp["nesterov"]:
            perturb = (m_arr * b1 + (1.0 - b1) * ex.g_arr) / denom
        else:
            perturb = m_arr / denom
        raw = float(perturb[idx]) * root_bc2
        top, top_value = "m", m  # m, not m_hat: the step divides by (1 - b1^t) at the end, as AdamP does
        if hp["nesterov"]:
            top, top_value = "(b1 * m + (1 - b1) * g)", b1 * m + (1.0 - b1) * g
        ex.add(f"step = {top} / (sqrt(v_hat) + eps) = {f(top_value)} / ({f(math.sqrt(v_hat))} + "
               f"{f(eps)}) = {f(raw)}")
        wd_ratio = 1.0
        if ex.w_arr.ndim > 1:
            fired = None
            n_in, n_out = ex.w_arr.shape[0], ex.w_arr.size // ex.w_arr.shape[0]
            for axis, cos, threshold in _tests(ex.w_arr, ex.g_arr, delta, eps):
                where = f"each of the {n_out} columns: largest" if axis == 0 else "the whole matrix:"
                dim = f"sqrt({n_in})" if axis == 0 else f"sqrt({n_in} * {n_out})"
                ex.add(f"|cos(g, w)| over {where} {f(cos)} {'<' if cos < threshold else '>='} "
                       f"delta / {dim} = {f(threshold)}")
                if cos < threshold:
                    fired = axis
                    break
            wd_ratio = _project(ex.w_arr, ex.g_arr, perturb, delta, float(hp["wd_ratio"]), eps)
            if fired is not None:
                ex.add("g is nearly perpendicular to w, as for a weight feeding a normalization layer: the part "
                       f"of the step along w, which would only grow its norm, is removed: step = "
                       f"{f(float(perturb[idx]) * root_bc2)}")
            else:
                ex.add(f"no projection (the loss depends on this weight's scale): {_unprojected(hp)}")
        else:
            ex.add(f"a 1-D parameter (a bias) is never projected: {_unprojected(hp)}")
        step = float(perturb[idx])
        w_start = w
        if wd > 0.0:
            w_start = w * (1.0 - lr * wd * wd_ratio)
            ex.add(f"w <- w * (1 - lr * weight_decay * {f(wd_ratio)}) = {f(w)} * "
                   f"{f(1.0 - lr * wd * wd_ratio, 8)} = {f(w_start)}")
        new = w_start - step * (lr / (1.0 - b1**t) * root_bc2)
        ex.add(f"w <- w - lr * step / (1 - b1^t) = {f(w_start)} - {f(lr)} * {fp(step * root_bc2)} / "
               f"{f(1.0 - b1**t)} = {f(new)}")
        return new


def _unprojected(hp) -> str:
    """What AdamP's step is where it does not project."""
    if hp["nesterov"]:
        return "the step stays as it is"
    return "the step stays AdamW's" if hp["weight_decay"] != 0.0 else "the step stays Adam's"


def _tests(p: np.ndarray, g: np.ndarray, delta: float, eps: float) -> Iterator[tuple[int | None, np.floating, float]]:
    """AdamP's scale-invariance tests, in order, made one at a time: ``(axis, largest |cos(g, w)|,
    delta / sqrt(dim))``. Axis 0 looks at each output unit (a column of ``W`` (n_in, n_out), dim n_in);
    None at the whole matrix (dim its size). The first test whose cosine is below its threshold projects."""
    for axis in (0, None):
        dim = p.shape[0] if axis == 0 else p.size
        yield axis, _abs_cosine(g, p, eps, axis).max(), delta / math.sqrt(dim)


def _project(p, g, perturb, delta, wd_ratio, eps) -> float:
    """AdamP's projection of ``perturb`` (in place); returns the weight-decay ratio to use.

    The channel view is one output unit, which is a column of ``W`` (n_in, n_out); if that
    does not fire, the whole matrix is tried as one vector.
    """
    for axis, cos, threshold in _tests(p, g, delta, eps):
        if cos < threshold:
            norm = np.sqrt((p * p).sum(axis=axis, keepdims=axis is not None))
            p_n = p / (norm + eps)
            perturb -= p_n * (p_n * perturb).sum(axis=axis, keepdims=axis is not None)
            return wd_ratio
    return 1.0


def _abs_cosine(x, y, eps, axis) -> np.ndarray:
    """|cos(x, y)| along ``axis`` as torch's ``cosine_similarity`` computes it."""
    keep = axis is not None
    xn = np.maximum(np.sqrt((x * x).sum(axis=axis, keepdims=keep)), eps)
    yn = np.maximum(np.sqrt((y * y).sum(axis=axis, keepdims=keep)), eps)
    return np.atleast_1d(np.abs(((x / xn) * (y / yn)).sum(axis=axis)))
