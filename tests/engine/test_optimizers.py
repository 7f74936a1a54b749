"""The optimizers against an independent reference of torch.optim's update rules.

The reference below is written from torch's documented single-tensor algorithms (SGD, Adagrad,
RMSprop, Adam, AdamW, torch 2.x) and from clovaai/AdamP ``adamp/adamp.py``, one scalar at a time
in plain Python (AdamP's projection column by column), so it shares no code with the engine.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tui_trainer.engine import Network, optimizers
from tui_trainer.engine.optimizers import OPTIMIZERS

# --- the reference ----------------------------------------------------------------------------

TORCH_DEFAULTS = {
    "sgd": dict(lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "momentum": dict(lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
    "nesterov": dict(lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True),
    "adagrad": dict(
        lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10
    ),
    "rmsprop": dict(
        lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
    ),
    "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
    "adamp": dict(
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        delta=0.1,
        wd_ratio=0.1,
        nesterov=False,
    ),
}

KIND = {
    "sgd": "sgd",
    "momentum": "sgd",
    "nesterov": "sgd",
    "adagrad": "adagrad",
    "rmsprop": "rmsprop",
    "adam": "adam",
    "adamw": "adamw",
    "adamp": "adamp",
}


class Reference:
    """torch.optim's rules, one float at a time; updates float64 copies of the parameters."""

    def __init__(self, name: str, **hp):
        self.kind = KIND[name]
        self.hp = {**TORCH_DEFAULTS[name], **hp}
        self.t = 0
        self.state: list[dict] | None = None

    def set(self, **hp):
        self.hp.update(hp)

    def step(self, params, grads):
        self.t += 1
        if self.state is None:
            self.state = [self._new_state(p) for p in params]
        for p, g, st in zip(params, grads, self.state):
            if self.kind == "adamp":
                self._adamp(p, g, st)
            else:
                for idx in np.ndindex(p.shape):
                    p[idx] = getattr(self, "_" + self.kind)(float(p[idx]), float(g[idx]), st, idx)
            if self.kind == "sgd" and self.hp["momentum"] != 0:
                st["buf_started"] = True

    def _new_state(self, p):
        z = np.zeros(p.shape)
        acc0 = self.hp.get("initial_accumulator_value", 0.0)
        return {
            "momentum_buffer": z.copy(),
            "buf_started": False,  # torch: momentum_buffer is None until the first use
            "sum": np.full(p.shape, float(acc0)),
            "square_avg": z.copy(),
            "grad_avg": z.copy(),
            "exp_avg": z.copy(),
            "exp_avg_sq": z.copy(),
            "max_exp_avg_sq": z.copy(),
        }

    # torch.optim.SGD
    def _sgd(self, w, g, st, idx):
        hp = self.hp
        d = g + hp["weight_decay"] * w
        mom = hp["momentum"]
        if mom != 0:
            buf = st["momentum_buffer"]
            if not st["buf_started"]:
                buf[idx] = d  # torch.clone(grad)
            else:
                buf[idx] = mom * buf[idx] + (1 - hp["dampening"]) * d
            d = d + mom * buf[idx] if hp["nesterov"] else buf[idx]
        return w - hp["lr"] * d

    # torch.optim.Adagrad
    def _adagrad(self, w, g, st, idx):
        hp = self.hp
        d = g + hp["weight_decay"] * w
        clr = hp["lr"] / (1 + (self.t - 1) * hp["lr_decay"])
        st["sum"][idx] += d * d
        return w - clr * d / (math.sqrt(st["sum"][idx]) + hp["eps"])

    # torch.optim.RMSprop
    def _rmsprop(self, w, g, st, idx):
        hp = self.hp
        a = hp["alpha"]
        d = g + hp["weight_decay"] * w
        v = st["square_avg"][idx] = a * st["square_avg"][idx] + (1 - a) * d * d
        if hp["centered"]:
            ga = st["grad_avg"][idx] = a * st["grad_avg"][idx] + (1 - a) * d
            avg = math.sqrt(v - ga * ga)
        else:
            avg = math.sqrt(v)
        avg += hp["eps"]
        if hp["momentum"] > 0:
            b = st["momentum_buffer"][idx] = hp["momentum"] * st["momentum_buffer"][idx] + d / avg
            return w - hp["lr"] * b
        return w - hp["lr"] * d / avg

    # torch.optim.Adam (coupled L2) and torch.optim.AdamW (decoupled)
    def _adam(self, w, g, st, idx, decoupled=False):
        hp = self.hp
        b1, b2 = hp["betas"]
        if decoupled:
            w = w * (1 - hp["lr"] * hp["weight_decay"])
            d = g
        else:
            d = g + hp["weight_decay"] * w
        m = st["exp_avg"][idx] = b1 * st["exp_avg"][idx] + (1 - b1) * d
        v = st["exp_avg_sq"][idx] = b2 * st["exp_avg_sq"][idx] + (1 - b2) * d * d
        if hp["amsgrad"]:
            v = st["max_exp_avg_sq"][idx] = max(st["max_exp_avg_sq"][idx], v)
        denom = math.sqrt(v) / math.sqrt(1 - b2**self.t) + hp["eps"]
        return w - hp["lr"] / (1 - b1**self.t) * m / denom

    def _adamw(self, w, g, st, idx):
        return self._adam(w, g, st, idx, decoupled=True)

    # clovaai/AdamP; a column of our (n_in, n_out) W is torch's channel (a row of (out, in))
    def _adamp(self, p, g, st):
        hp = self.hp
        b1, b2 = hp["betas"]
        eps = hp["eps"]
        m, v = st["exp_avg"], st["exp_avg_sq"]
        perturb = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            gi = float(g[idx])
            m[idx] = b1 * m[idx] + (1 - b1) * gi
            v[idx] = b2 * v[idx] + (1 - b2) * gi * gi
            denom = math.sqrt(v[idx]) / math.sqrt(1 - b2**self.t) + eps
            num = b1 * m[idx] + (1 - b1) * gi if hp["nesterov"] else m[idx]
            perturb[idx] = num / denom
        step_size = hp["lr"] / (1 - b1**self.t)
        wd = 1.0
        if p.ndim > 1:
            wd = _ref_projection(p, g, perturb, hp["delta"], hp["wd_ratio"], eps)
        if hp["weight_decay"] > 0:
            p *= 1 - hp["lr"] * hp["weight_decay"] * wd
        for idx in np.ndindex(p.shape):
            p[idx] = p[idx] - step_size * perturb[idx]


def _dot(xs, ys):
    return sum(float(x) * float(y) for x, y in zip(xs, ys))


def _cos(x, y, eps):
    """torch.nn.functional.cosine_similarity of two vectors (each over max(norm, eps))."""
    nx = max(math.sqrt(_dot(x, x)), eps)
    ny = max(math.sqrt(_dot(y, y)), eps)
    return sum((float(a) / nx) * (float(b) / ny) for a, b in zip(x, y))


def _ref_projection(p, g, perturb, delta, wd_ratio, eps):
    """AdamP's ``_projection``: channel view (columns) first, then the whole layer."""
    n_in, n_out = p.shape
    cols = [abs(_cos(g[:, j], p[:, j], eps)) for j in range(n_out)]
    if max(cols) < delta / math.sqrt(n_in):
        for j in range(n_out):
            pn = p[:, j] / (math.sqrt(_dot(p[:, j], p[:, j])) + eps)
            perturb[:, j] -= pn * _dot(pn, perturb[:, j])
        return wd_ratio
    flat_p, flat_g = p.ravel(), g.ravel()
    if abs(_cos(flat_g, flat_p, eps)) < delta / math.sqrt(p.size):
        pn = p / (math.sqrt(_dot(flat_p, flat_p)) + eps)
        perturb -= pn * _dot(pn.ravel(), perturb.ravel())
        return wd_ratio
    return 1.0


# --- helpers ----------------------------------------------------------------------------------

SHAPES = [(4, 3), (3,), (3, 2), (2,)]


def init_params(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


def grad_sequence(n_steps, seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(n_steps)]


def flat_views(arrays, dtype=np.float64):
    """Consecutive views of one new flat array, holding copies of ``arrays``."""
    flat = np.zeros(sum(a.size for a in arrays), dtype=dtype)
    views, start = [], 0
    for a in arrays:
        v = flat[start : start + a.size].reshape(a.shape)
        v[...] = a
        views.append(v)
        start += a.size
    return flat, views


def run_engine(name, hp, params, grad_seq, schedule=None):
    """Step the engine over ``grad_seq``; ``schedule`` maps step index -> ``set`` kwargs."""
    opt = optimizers.create(name, **hp)
    for k, gs in enumerate(grad_seq):
        if schedule and k in schedule:
            opt.set(**schedule[k])
        opt.step(params, gs)
    return opt


def run_reference(name, hp, params, grad_seq, schedule=None):
    ref = Reference(name, **hp)
    for k, gs in enumerate(grad_seq):
        if schedule and k in schedule:
            ref.set(**schedule[k])
        ref.step(params, gs)
    return ref


def assert_close(actual, desired, rtol=1e-12, atol=1e-14):
    for a, d in zip(actual, desired, strict=True):
        np.testing.assert_allclose(a, d, rtol=rtol, atol=atol)


# --- 1. hand-computed steps -------------------------------------------------------------------


def one(name, w, g, steps=1, **hp):
    """Run ``name`` on the 1-element parameter ``w`` with gradients ``g`` (one per step)."""
    p = np.array([float(w)])
    opt = optimizers.create(name, **hp)
    for gi in np.atleast_1d(g):
        opt.step([p], [np.array([float(gi)])])
    return p[0], opt


def test_sgd_by_hand():
    # w = 1, g = 2, lr = 0.1: w - 0.1 * 2 = 0.8
    assert one("sgd", 1.0, 2.0, lr=0.1)[0] == pytest.approx(0.8, abs=1e-15)
    # coupled weight decay 0.5: d = 2 + 0.5 * 1 = 2.5; 1 - 0.1 * 2.5 = 0.75
    assert one("sgd", 1.0, 2.0, lr=0.1, weight_decay=0.5)[0] == pytest.approx(0.75, abs=1e-15)


def test_momentum_two_steps_by_hand():
    # lr 0.1, momentum 0.9, w = 1, g = 1 then 2
    # step 1: buf = g = 1 (torch clones the first gradient); w = 1 - 0.1 = 0.9
    # step 2: buf = 0.9 * 1 + 2 = 2.9; w = 0.9 - 0.29 = 0.61
    w, opt = one("momentum", 1.0, [1.0, 2.0], lr=0.1)
    assert w == pytest.approx(0.61, abs=1e-14)
    assert opt.state[0]["momentum_buffer"][0] == pytest.approx(2.9, abs=1e-14)
    # the same through "sgd" with momentum=0.9
    assert one("sgd", 1.0, [1.0, 2.0], lr=0.1, momentum=0.9)[0] == pytest.approx(0.61, abs=1e-14)


def test_dampening_by_hand():
    # lr 0.1, momentum 0.9, dampening 0.5, g = 1 then 2
    # step 1: buf = 1 (no dampening on the first gradient); w = 0.9
    # step 2: buf = 0.9 * 1 + 0.5 * 2 = 1.9; w = 0.9 - 0.19 = 0.71
    w, _ = one("sgd", 1.0, [1.0, 2.0], lr=0.1, momentum=0.9, dampening=0.5)
    assert w == pytest.approx(0.71, abs=1e-14)


def test_nesterov_two_steps_by_hand():
    # lr 0.1, momentum 0.9, nesterov, w = 1, g = 1 then 2
    # step 1: buf = 1; d = g + 0.9 * buf = 1.9; w = 1 - 0.19 = 0.81
    # step 2: buf = 0.9 * 1 + 2 = 2.9; d = 2 + 0.9 * 2.9 = 4.61; w = 0.81 - 0.461 = 0.349
    w, opt = one("nesterov", 1.0, [1.0, 2.0], lr=0.1)
    assert w == pytest.approx(0.349, abs=1e-14)
    assert opt.state[0]["momentum_buffer"][0] == pytest.approx(2.9, abs=1e-14)


def test_adagrad_by_hand():
    # first step: sum = g^2, so the step is lr * g / (|g| + eps)
    p = np.array([1.0, 1.0, 1.0])
    g = np.array([3.0, -0.5, 1e-3])
    opt = optimizers.create("adagrad", lr=0.01)
    opt.step([p], [g])
    np.testing.assert_allclose(p, 1.0 - 0.01 * g / (np.abs(g) + 1e-10), rtol=0, atol=1e-16)
    np.testing.assert_allclose(opt.state[0]["sum"], g * g, rtol=1e-15)
    # second step: g = 3 then 4: sum = 9 + 16 = 25, step 2 = 0.01 * 4 / 5 = 0.008
    w, _ = one("adagrad", 0.0, [3.0, 4.0], lr=0.01)
    assert w == pytest.approx(-0.01 - 0.008, abs=1e-12)
    # lr_decay 0.5: clr at step 2 = 0.01 / (1 + 1 * 0.5) = 0.01 / 1.5; step 2 = 0.8 * 0.01 / 1.5
    w, _ = one("adagrad", 0.0, [3.0, 4.0], lr=0.01, lr_decay=0.5)
    assert w == pytest.approx(-0.01 - 0.8 * 0.01 / 1.5, abs=1e-12)
    # initial_accumulator_value 7, g = 3: sum = 16; step = 0.01 * 3 / 4 = 0.0075
    w, opt = one("adagrad", 0.0, 3.0, lr=0.01, initial_accumulator_value=7.0)
    assert w == pytest.approx(-0.0075, abs=1e-12)
    assert opt.state[0]["sum"][0] == 16.0


def test_rmsprop_first_step_by_hand():
    # square_avg = 0.01 * g^2, sqrt = 0.1 |g|: the step is lr * g / (0.1 |g| + eps) ~ 10 lr sign(g)
    p = np.array([1.0, 1.0])
    g = np.array([2.0, -0.3])
    opt = optimizers.create("rmsprop", lr=0.01)
    opt.step([p], [g])
    np.testing.assert_allclose(p, 1.0 - 0.01 * g / (0.1 * np.abs(g) + 1e-8), rtol=0, atol=1e-15)
    np.testing.assert_allclose(p, [1.0 - 0.1, 1.0 + 0.1], atol=1e-7)
    np.testing.assert_allclose(opt.state[0]["square_avg"], 0.01 * g * g, rtol=1e-15)
    # centered: grad_avg = 0.01 g, var = 0.01 g^2 - 1e-4 g^2 = 0.0099 g^2
    # step = lr * g / (sqrt(0.0099) |g| + eps) ~ 0.01 * 10.0504 sign(g)
    w, opt = one("rmsprop", 1.0, 2.0, lr=0.01, centered=True)
    assert w == pytest.approx(1.0 - 0.01 * 2.0 / (math.sqrt(0.0099) * 2.0 + 1e-8), abs=1e-15)
    assert opt.state[0]["grad_avg"][0] == pytest.approx(0.02, rel=1e-14)
    # momentum 0.9, g = 2 then 2: buf1 = 2 / 0.2 = 10; v2 = 0.99 * 0.04 + 0.04 = 0.0796,
    # buf2 = 0.9 * 10 + 2 / sqrt(0.0796); w = 1 - 0.01 * (buf1 + buf2)
    w, _ = one("rmsprop", 1.0, [2.0, 2.0], lr=0.01, momentum=0.9, eps=0.0)
    assert w == pytest.approx(1.0 - 0.01 * (10.0 + 9.0 + 2.0 / math.sqrt(0.0796)), abs=1e-13)


def test_adam_first_step_is_lr_times_sign():
    # m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) = g, sqrt(v / (1 - 0.999)) = |g|:
    # every parameter moves by lr * g / (|g| + eps), i.e. lr * sign(g) up to eps
    rng = np.random.default_rng(3)
    p0 = rng.normal(size=(5, 4))
    g = rng.normal(size=(5, 4)) * 10.0 ** rng.integers(-3, 3, size=(5, 4))
    p = p0.copy()
    opt = optimizers.create("adam", lr=0.5)
    opt.step([p], [g])
    # |step - 0.5 sign(g)| = 0.5 eps / (|g| + eps) <= 0.5e-8 / |g|
    assert np.all(np.abs(p - (p0 - 0.5 * np.sign(g))) <= 0.5e-8 / np.abs(g) + 1e-15)
    np.testing.assert_allclose(p, p0 - 0.5 * g / (np.abs(g) + 1e-8), rtol=1e-14, atol=1e-15)
    # the state is exposed: exp_avg = 0.1 g, exp_avg_sq = 0.001 g^2
    np.testing.assert_allclose(opt.state[0]["exp_avg"], 0.1 * g, rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], 0.001 * g * g, rtol=1e-13)
    assert opt.steps == 1


def test_adam_second_step_by_hand():
    # g = 1 then -1, lr 0.5: m = 0.1 then 0.09 - 0.1 = -0.01; v = 0.001 then 0.001999
    # bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.998001 = 0.001999: v_hat = 1, m_hat = -0.01 / 0.19
    # w1 = -0.5 * 1 / (1 + eps); w2 = w1 - 0.5 * (-0.01 / 0.19) / (1 + eps)
    w, _ = one("adam", 0.0, [1.0, -1.0], lr=0.5)
    assert w == pytest.approx(-0.5 / (1 + 1e-8) + 0.5 * (0.01 / 0.19) / (1 + 1e-8), abs=1e-14)
    # coupled weight decay: w = 1, g = 0, wd = 0.1: d = 0.1, the first step is lr * sign(d)
    w, _ = one("adam", 1.0, 0.0, lr=0.01, weight_decay=0.1)
    assert w == pytest.approx(1.0 - 0.01, abs=1e-9)


def test_amsgrad_by_hand():
    # g = 10 then 0: v = 0.1 then 0.0999; amsgrad keeps max = 0.1
    # step 2: m = 0.9, m_hat = 0.9 / 0.19; v_hat = 0.1 / 0.001999 (amsgrad) or 0.0999 / 0.001999
    lr = 0.1
    w_ams, opt = one("adam", 0.0, [10.0, 0.0], lr=lr, amsgrad=True)
    w_plain, _ = one("adam", 0.0, [10.0, 0.0], lr=lr)
    first = -lr * 10.0 / (10.0 + 1e-8)
    bc2 = 1 - 0.999**2
    ams = first - lr * (0.9 / 0.19) / (math.sqrt(0.1) / math.sqrt(bc2) + 1e-8)
    plain = first - lr * (0.9 / 0.19) / (math.sqrt(0.0999) / math.sqrt(bc2) + 1e-8)
    assert w_ams == pytest.approx(ams, abs=1e-13)
    assert w_plain == pytest.approx(plain, abs=1e-13)
    assert opt.state[0]["max_exp_avg_sq"][0] == pytest.approx(0.1, rel=1e-14)
    assert opt.state[0]["exp_avg_sq"][0] == pytest.approx(0.0999, rel=1e-14)


def test_adamw_first_step_by_hand():
    # w = 2, lr = 0.1, wd = 0.01: decay first, w * (1 - 0.001) = 1.998, then - 0.1 sign(g) = 1.898
    w, _ = one("adamw", 2.0, 3.0, lr=0.1)
    assert w == pytest.approx(1.898, abs=1e-8)
    # the decay does not enter the moments: a zero gradient gives only the decay
    w, opt = one("adamw", 2.0, 0.0, lr=0.1, weight_decay=0.5)
    assert w == pytest.approx(2.0 * (1 - 0.05), abs=1e-15)
    assert opt.state[0]["exp_avg"][0] == 0.0


# --- 2. trajectories against the reference ----------------------------------------------------

CONFIGS = [
    ("sgd", {}),
    ("sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd", dict(lr=0.1, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.5, weight_decay=0.1, nesterov=True)),
    ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.01)),
    ("momentum", {}),
    ("momentum", dict(lr=0.05, weight_decay=0.1, dampening=0.2)),
    ("nesterov", {}),
    ("nesterov", dict(lr=0.05, weight_decay=0.05, momentum=0.7)),
    ("adagrad", {}),
    ("adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("adagrad", dict(lr=0.1, weight_decay=0.1)),
    (
        "adagrad",
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.1, eps=1e-6),
    ),
    ("rmsprop", {}),
    ("rmsprop", dict(centered=True)),
    ("rmsprop", dict(momentum=0.9)),
    ("rmsprop", dict(centered=True, momentum=0.9)),
    ("rmsprop", dict(weight_decay=0.1)),
    ("rmsprop", dict(lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.5, centered=True)),
    ("adam", {}),
    ("adam", dict(lr=0.05, amsgrad=True)),
    ("adam", dict(lr=0.05, weight_decay=0.1)),
    ("adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("adamw", {}),
    ("adamw", dict(lr=0.05, weight_decay=0.0)),
    ("adamw", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("adamw", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.3)),
    ("adamp", {}),
    ("adamp", dict(lr=0.05, nesterov=True)),
    ("adamp", dict(lr=0.05, weight_decay=0.1)),
    (
        "adamp",
        dict(lr=0.05, betas=(0.8, 0.99), nesterov=True, weight_decay=0.1, delta=0.2, wd_ratio=0.5),
    ),
]


def _config_id(cfg):
    name, hp = cfg
    return name + "".join(f"-{k}={v}" for k, v in hp.items())


def test_configs_cover_the_registry():
    assert {name for name, _ in CONFIGS} == set(OPTIMIZERS)


@pytest.mark.parametrize("name,hp", CONFIGS, ids=[_config_id(c) for c in CONFIGS])
def test_trajectory_matches_reference(name, hp):
    n_steps = 15
    grads = grad_sequence(n_steps)
    p_engine, p_ref = init_params(), init_params()
    run_engine(name, hp, p_engine, grads)
    ref = run_reference(name, hp, p_ref, grads)
    assert not all(np.allclose(a, b) for a, b in zip(p_ref, init_params())), "nothing moved"
    assert_close(p_engine, p_ref)
    # the same again with views of one flat array (the fast path)
    _, views = flat_views(init_params())
    _, gviews = flat_views(grads[0])
    opt = optimizers.create(name, **hp)
    for gs in grads:
        for dst, src in zip(gviews, gs):
            dst[...] = src
        opt.step(views, gviews)
    assert_close(views, p_ref)
    # and the exposed state agrees with the reference's
    for s_engine, s_ref in zip(opt.state, ref.state):
        for key, arr in s_engine.items():
            if key == "momentum_buffer" and KIND[name] == "sgd" and not ref.hp["momentum"]:
                continue
            np.testing.assert_allclose(arr, s_ref[key], rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_gradients_that_depend_on_weights(name):
    # a quadratic bowl with noise: g = A * w + noise, so decay/momentum interact with w
    hp = {"lr": 0.03}
    rng = np.random.default_rng(5)
    p_engine, p_ref = init_params(7), init_params(7)
    opt, ref = optimizers.create(name, **hp), Reference(name, **hp)
    for _ in range(12):
        noise = [rng.normal(scale=0.1, size=s) for s in SHAPES]
        opt.step(p_engine, [1.5 * w + n for w, n in zip(p_engine, noise)])
        ref.step(p_ref, [1.5 * w + n for w, n in zip(p_ref, noise)])
    assert_close(p_engine, p_ref, rtol=1e-11, atol=1e-13)


SCHEDULES = [
    ("sgd", {}, {3: dict(momentum=0.9, dampening=0.5), 6: dict(lr=0.2)}),
    ("sgd", dict(momentum=0.9), {2: dict(momentum=0.0), 4: dict(momentum=0.5, nesterov=True)}),
    ("adagrad", {}, {4: dict(lr=0.5, lr_decay=0.3)}),
    ("rmsprop", {}, {3: dict(momentum=0.9, centered=True), 6: dict(lr=0.001)}),
    ("adam", {}, {3: dict(amsgrad=True, lr=0.1), 6: dict(betas=(0.5, 0.9), weight_decay=0.1)}),
    ("adamw", {}, {2: dict(lr=0.2, weight_decay=0.2)}),
    ("adamp", {}, {3: dict(lr=0.2, nesterov=True, weight_decay=0.1)}),
]


@pytest.mark.parametrize("name,hp,schedule", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_changing_hyperparameters_mid_run_matches_reference(name, hp, schedule):
    grads = grad_sequence(9, seed=11)
    p_engine, p_ref = init_params(), init_params()
    run_engine(name, hp, p_engine, grads, schedule)
    run_reference(name, hp, p_ref, grads, schedule)
    assert_close(p_engine, p_ref)


# --- 3. AdamP's projection --------------------------------------------------------------------


def _orthogonal_to_columns(w, noise):
    """``noise`` with each column's component along the same column of ``w`` removed."""
    coef = (noise * w).sum(axis=0) / (w * w).sum(axis=0)
    return noise - w * coef


def test_adamp_projection_fires_when_gradient_is_tangent():
    rng = np.random.default_rng(4)
    w0 = rng.normal(size=(8, 3))
    b0 = rng.normal(size=3)
    g = _orthogonal_to_columns(w0, rng.normal(size=(8, 3)))
    cos = np.abs((g * w0).sum(0)) / np.linalg.norm(g, axis=0) / np.linalg.norm(w0, axis=0)
    assert cos.max() < 1e-12 < 0.1 / math.sqrt(8)
    gb = b0 * 0.0  # the bias gets no gradient: its change is the decay alone
    lr, wd, ratio = 0.1, 0.5, 0.1
    params = [w0.copy(), b0.copy()]
    opt = optimizers.create("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio)
    opt.step(params, [g, gb])
    w1, b1 = params
    # the weight decay used wd * wd_ratio: w * (1 - 0.1 * 0.5 * 0.1) = 0.995 w
    decayed = w0 * (1 - lr * wd * ratio)
    step = w1 - decayed
    # the step is tangent: no component along any column of w (up to eps / |w|: AdamP
    # normalises by |w| + eps)
    along = (step * w0).sum(axis=0) / np.linalg.norm(w0, axis=0) / np.linalg.norm(step, axis=0)
    assert np.abs(along).max() < 1e-7
    # so the projection of w1 on each column of w0 is the decay factor 0.995 (not 0.95)
    np.testing.assert_allclose((w1 * w0).sum(0) / (w0 * w0).sum(0), 0.995, rtol=1e-8)
    # the 1-D bias is never projected and decays with the full weight decay: 1 - 0.05
    np.testing.assert_allclose(b1, b0 * (1 - lr * wd), rtol=1e-15)
    # and all of it agrees with the reference
    ref_params = [w0.copy(), b0.copy()]
    Reference("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio).step(ref_params, [g, gb])
    assert_close(params, ref_params)


def test_adamp_projection_does_not_fire_when_gradient_is_parallel():
    rng = np.random.default_rng(6)
    w0 = rng.normal(size=(6, 4))
    g = 2.0 * w0  # cosine 1 in every column and over the layer
    lr, wd = 0.1, 0.5
    p = w0.copy()
    optimizers.create("adamp", lr=lr, weight_decay=wd).step([p], [g])
    # plain Adam: full decay (wd_ratio not used), then lr * sign(g) = lr * sign(w0)
    expected = w0 * (1 - lr * wd) - lr * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-15)


def test_adamp_layer_view_fires_when_columns_do_not():
    # column 0's gradient is parallel to w's column 0, column 1's antiparallel, scaled so that the
    # dot product over the whole matrix is 0: every column has |cos| = 1, the layer has cos = 0
    rng = np.random.default_rng(8)
    w0 = rng.normal(size=(5, 2))
    n0, n1 = (w0 * w0).sum(0)
    g = np.column_stack([w0[:, 0], -w0[:, 1] * n0 / n1])
    assert abs((g * w0).sum()) < 1e-12
    lr, wd, ratio = 0.1, 0.2, 0.1
    p = w0.copy()
    optimizers.create("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio).step([p], [g])
    step = p - w0 * (1 - lr * wd * ratio)  # decay with wd_ratio: the projection fired
    # the step has no component along the flattened w, though it does along its columns
    assert abs((step * w0).sum()) < 1e-7 * np.linalg.norm(step) * np.linalg.norm(w0)
    assert np.abs((step * w0).sum(0)).min() > 1e-3
    ref = [w0.copy()]
    Reference("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio).step(ref, [g])
    assert_close([p], ref)


def test_adamp_channel_is_a_column_and_threshold_uses_its_length():
    # W is (n_in=4, n_out=100). Every column has |cos(g, w)| = 0.03:
    # below delta / sqrt(n_in) = 0.05 (fires), above delta / sqrt(n_out) = 0.01 and above the
    # layer's threshold delta / sqrt(400) = 0.005 (a wrong view would not fire)
    rng = np.random.default_rng(9)
    n_in, n_out, c = 4, 100, 0.03
    w0 = rng.normal(size=(n_in, n_out))
    w_unit = w0 / np.linalg.norm(w0, axis=0)
    u = _orthogonal_to_columns(w0, rng.normal(size=(n_in, n_out)))
    u /= np.linalg.norm(u, axis=0)
    g = c * w_unit + math.sqrt(1 - c * c) * u
    g *= rng.uniform(0.5, 2.0, size=n_out)
    p = w0.copy()
    lr, wd, ratio = 0.1, 0.5, 0.1
    optimizers.create("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio).step([p], [g])
    step = p - w0 * (1 - lr * wd * ratio)
    along = (step * w_unit).sum(0) / np.linalg.norm(step, axis=0)
    assert np.abs(along).max() < 1e-6
    ref = [w0.copy()]
    Reference("adamp", lr=lr, weight_decay=wd, wd_ratio=ratio).step(ref, [g])
    assert_close([p], ref)
    # the transposed layout (rows as channels) is the wrong one: it would not have projected
    rows_cos = np.abs((g * w0).sum(1)) / np.linalg.norm(g, axis=1) / np.linalg.norm(w0, axis=1)
    assert rows_cos.max() > 0.1 / math.sqrt(n_out)


@pytest.mark.parametrize("nesterov", [False, True])
def test_adamp_trajectory_with_the_projection_firing_every_step(nesterov):
    rng = np.random.default_rng(12)
    hp = dict(lr=0.05, weight_decay=0.1, nesterov=nesterov, wd_ratio=0.3)
    p_engine = [rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=(3, 2))]
    p_ref = [a.copy() for a in p_engine]
    opt, ref = optimizers.create("adamp", **hp), Reference("adamp", **hp)
    for _ in range(12):
        noise = [rng.normal(size=a.shape) for a in p_engine]
        gs = [_orthogonal_to_columns(p_engine[0], noise[0]), noise[1], noise[2]]
        opt.step(p_engine, gs)
        ref.step(p_ref, gs)
    assert_close(p_engine, p_ref, rtol=1e-11, atol=1e-13)


def test_adamp_projects_each_matrix_on_its_own_slice_of_a_flat_array():
    # Network-style layout: W1 then W2 as consecutive views of one array. W1's gradient is
    # parallel to W1 (no projection), W2's tangent to W2's columns (projection fires for W2 only).
    rng = np.random.default_rng(13)
    W1, W2 = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    g1, g2 = 2.0 * W1, _orthogonal_to_columns(W2, rng.normal(size=(4, 2)))
    fp = np.concatenate([W1.ravel(), W2.ravel()])
    fg = np.concatenate([g1.ravel(), g2.ravel()])
    views = [fp[:6].reshape(3, 2), fp[6:].reshape(4, 2)]
    gviews = [fg[:6].reshape(3, 2), fg[6:].reshape(4, 2)]
    optimizers.create("adamp", lr=0.1).step(views, gviews)
    # W1 took the plain Adam step, W2 a step tangent to its columns
    np.testing.assert_allclose(views[0], W1 - 0.1 * g1 / (np.abs(g1) + 1e-8), rtol=1e-14)
    step2 = views[1] - W2
    along = (step2 * W2).sum(0) / np.linalg.norm(W2, axis=0) / np.linalg.norm(step2, axis=0)
    assert np.abs(along).max() < 1e-7
    ref = [W1.copy(), W2.copy()]
    Reference("adamp", lr=0.1).step(ref, [g1, g2])
    assert_close(views, ref)


def test_adamp_zero_weight_matrix():
    # an all-zero W: cosine is 0 (norms clamp at eps), so the projection fires with p_n = 0
    w = np.zeros((3, 2))
    g = np.arange(6.0).reshape(3, 2) - 2.5
    hp = dict(lr=0.1, weight_decay=0.1)
    p = [w.copy()]
    optimizers.create("adamp", **hp).step(p, [g])
    ref = [w.copy()]
    Reference("adamp", **hp).step(ref, [g])
    assert_close(p, ref)
    np.testing.assert_allclose(p[0], -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


# --- 4. separate arrays, flat views and a Network ---------------------------------------------

ALL_OPTIONS = {
    "sgd": dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "momentum": dict(lr=0.1, dampening=0.1, weight_decay=0.01),
    "nesterov": dict(lr=0.1, weight_decay=0.01),
    "adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": dict(lr=0.01, weight_decay=0.01, momentum=0.9, centered=True),
    "adam": dict(lr=0.05, weight_decay=0.01, amsgrad=True),
    "adamw": dict(lr=0.05, weight_decay=0.1, amsgrad=True),
    "adamp": dict(lr=0.05, weight_decay=0.1, nesterov=True),
}


def test_all_options_cover_the_registry():
    assert set(ALL_OPTIONS) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_flat_views_and_separate_arrays_agree_exactly(name):
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(10, seed=21)
    separate = init_params()
    opt_sep = optimizers.create(name, **hp)
    flat, views = flat_views(init_params())
    flat_g, gviews = flat_views(grads[0])
    opt_flat = optimizers.create(name, **hp)
    # flat params with separate gradient arrays (one array not a view): the general path again
    _, views2 = flat_views(init_params())
    opt_mixed = optimizers.create(name, **hp)
    for gs in grads:
        opt_sep.step(separate, gs)
        for dst, src in zip(gviews, gs):
            dst[...] = src
        opt_flat.step(views, gviews)
        opt_mixed.step(views2, [g.copy() for g in gs])
    for a, b, c in zip(separate, views, views2):
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(c, a)
    # the views still live in the flat array, which holds the result
    assert all(np.shares_memory(v, flat) for v in views)
    np.testing.assert_array_equal(flat, np.concatenate([a.ravel() for a in separate]))
    for s_sep, s_flat in zip(opt_sep.state, opt_flat.state):
        assert set(s_sep) == set(s_flat)
        for key in s_sep:
            np.testing.assert_array_equal(s_flat[key], s_sep[key], err_msg=key)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_views_with_a_gap_or_an_offset(name):
    # views of one array that do not tile it from its start (an offset, then a gap)
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(6, seed=22)
    big = np.zeros(40)
    offsets = [2, 14, 18, 25]  # (4,3) at 2..14, (3,) at 14..17, gap, (3,2) at 18..24, (2,) at 25
    views = []
    for off, p in zip(offsets, init_params()):
        v = big[off : off + p.size].reshape(p.shape)
        v[...] = p
        views.append(v)
    separate = init_params()
    opt_v, opt_s = optimizers.create(name, **hp), optimizers.create(name, **hp)
    for gs in grads:
        opt_v.step(views, gs)
        opt_s.step(separate, gs)
    for a, b in zip(views, separate):
        np.testing.assert_array_equal(a, b)
    assert big[0] == big[1] == big[17] == big[24] == 0.0  # nothing outside the views written


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_network_params_match_separate_arrays(name):
    hp = ALL_OPTIONS[name]
    net = Network([3, 4, 2], ["tanh", "linear"], seed=1)
    separate = [p.copy() for p in net.params]
    params_before = [p for p in net.params]
    rng = np.random.default_rng(30)
    opt_net, opt_sep = optimizers.create(name, **hp), optimizers.create(name, **hp)
    for _ in range(8):
        for g in net.grads:
            g[...] = rng.normal(size=g.shape)
        opt_net.step(net.params, net.grads)
        opt_sep.step(separate, [g.copy() for g in net.grads])
    for a, b in zip(net.params, separate):
        np.testing.assert_array_equal(a, b)
    # updated in place: the same objects, still views of flat_params
    assert all(a is b for a, b in zip(net.params, params_before))
    assert all(np.shares_memory(p, net.flat_params) for p in net.params)
    np.testing.assert_array_equal(net.flat_params, np.concatenate([a.ravel() for a in separate]))
    for s_net, p in zip(opt_net.state, net.params):
        for arr in s_net.values():
            assert arr.shape == p.shape


# --- 5. hyperparameter changes and checkpoints ------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lr_change_takes_effect_at_once_and_keeps_state(name):
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(6, seed=40)
    params = init_params()
    buffers = [np.zeros_like(p) for p in params]  # one gradient buffer per parameter, reused

    def step(gs):
        for dst, src in zip(buffers, gs):
            dst[...] = src
        opt.step(params, buffers)

    opt = optimizers.create(name, **hp)
    for gs in grads[:2]:
        step(gs)
    state_objects = [dict(s) for s in opt.state]
    opt.lr = 0.0
    assert opt.lr == 0.0 and opt.hparams["lr"] == 0.0
    before = [p.copy() for p in params]
    step(grads[2])  # lr 0: nothing moves (the decay is scaled by lr too)
    for a, b in zip(params, before):
        np.testing.assert_array_equal(a, b)
    assert opt.steps == 3
    for s_old, s_new in zip(state_objects, opt.state):
        for key in s_old:
            assert s_new[key] is s_old[key]  # the same state arrays, kept
    opt.set(lr=0.07)
    for gs in grads[3:]:
        step(gs)
    # the reference with the same schedule
    ref_params = init_params()
    run_reference(name, hp, ref_params, grads, {2: dict(lr=0.0), 3: dict(lr=0.07)})
    assert_close(params, ref_params)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("layout", ["separate", "flat"])
def test_state_dict_round_trip_continues_bit_identically(name, layout):
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(10, seed=50)

    def make():
        return init_params() if layout == "separate" else flat_views(init_params())[1]

    params_a = make()
    opt_a = optimizers.create(name, **hp)
    for gs in grads[:4]:
        opt_a.step(params_a, gs)
    sd = opt_a.state_dict()
    saved = [{n: a.copy() for n, a in s.items()} for s in sd["state"]]
    params_b = make()
    for dst, src in zip(params_b, params_a):
        dst[...] = src
    opt_b = optimizers.create(name)  # its own defaults: load_state_dict brings the hparams
    opt_b.load_state_dict(sd)
    assert opt_b.hparams == opt_a.hparams
    assert opt_b.steps == opt_a.steps == 4
    for gs in grads[4:]:
        opt_a.step(params_a, gs)
        opt_b.step(params_b, gs)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a, b)
    for s_a, s_b in zip(opt_a.state, opt_b.state):
        for key in s_a:
            np.testing.assert_array_equal(s_a[key], s_b[key])
    # the checkpoint holds copies: stepping on did not change it
    for s_saved, s_sd in zip(saved, sd["state"]):
        for key in s_saved:
            np.testing.assert_array_equal(s_sd[key], s_saved[key])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_into_the_other_layout(name):
    # a checkpoint from separate arrays continues on flat views (and the reverse) identically
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(8, seed=60)
    sep = init_params()
    opt_sep = optimizers.create(name, **hp)
    for gs in grads[:3]:
        opt_sep.step(sep, gs)
    _, flat = flat_views(sep)
    opt_flat = optimizers.create(name)
    opt_flat.load_state_dict(opt_sep.state_dict())
    for gs in grads[3:]:
        opt_sep.step(sep, gs)
        opt_flat.step(flat, gs)
    for a, b in zip(sep, flat):
        np.testing.assert_array_equal(a, b)


def test_adam_state_arrays_are_exposed_by_name():
    expected = {
        "sgd": {"momentum_buffer"},
        "momentum": {"momentum_buffer"},
        "nesterov": {"momentum_buffer"},
        "adagrad": {"sum"},
        "rmsprop": {"square_avg"},
        "adam": {"exp_avg", "exp_avg_sq"},
        "adamw": {"exp_avg", "exp_avg_sq"},
        "adamp": {"exp_avg", "exp_avg_sq"},
    }
    for name, keys in expected.items():
        opt = optimizers.create(name, **ALL_OPTIONS[name])
        params = init_params()
        opt.step(params, grad_sequence(1)[0])
        assert len(opt.state) == len(params)
        for s, p in zip(opt.state, params):
            assert keys <= set(s), name
            for key in keys:
                assert s[key].shape == p.shape
    opt = optimizers.create("rmsprop", centered=True)
    opt.step(init_params(), grad_sequence(1)[0])
    assert "grad_avg" in opt.state[0]
    opt = optimizers.create("adam", amsgrad=True)
    opt.step(init_params(), grad_sequence(1)[0])
    assert "max_exp_avg_sq" in opt.state[0]


def test_load_state_dict_of_another_optimizer_is_refused():
    opt = optimizers.create("adam")
    opt.step(init_params(), grad_sequence(1)[0])
    with pytest.raises(ValueError, match="adam"):
        optimizers.create("sgd").load_state_dict(opt.state_dict())


# --- 6. validation and defaults ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_defaults_are_torchs(name):
    assert optimizers.defaults(name) == TORCH_DEFAULTS[name]
    assert optimizers.create(name).hparams == TORCH_DEFAULTS[name]
    assert isinstance(optimizers.create(name), OPTIMIZERS[name])


def test_registry_names():
    assert set(OPTIMIZERS) == set(TORCH_DEFAULTS)


def test_unknown_optimizer_lists_the_names():
    with pytest.raises(ValueError) as err:
        optimizers.create("lbfgs")
    msg = str(err.value)
    assert "lbfgs" in msg
    for name in OPTIMIZERS:
        assert name in msg


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_unknown_hyperparameter(name):
    with pytest.raises(ValueError, match="bogus"):
        optimizers.create(name, bogus=1.0)
    opt = optimizers.create(name)
    with pytest.raises(ValueError, match="bogus"):
        opt.set(bogus=1.0)


BAD_VALUES = [
    (name, "lr", -0.1) for name in OPTIMIZERS
] + [
    (name, "weight_decay", -0.01) for name in OPTIMIZERS
] + [
    (name, "eps", -1e-8) for name in ("adagrad", "rmsprop", "adam", "adamw", "adamp")
] + [
    (name, "momentum", -0.5) for name in ("sgd", "momentum", "nesterov", "rmsprop")
] + [
    (name, "betas", betas)
    for name in ("adam", "adamw", "adamp")
    for betas in [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9, 1.5)]
] + [
    ("adagrad", "lr_decay", -0.1),
    ("adagrad", "initial_accumulator_value", -1.0),
    ("rmsprop", "alpha", -0.5),
    ("sgd", "lr", float("nan")),
]


@pytest.mark.parametrize(
    "name,key,value", BAD_VALUES, ids=[f"{n}-{k}={v}" for n, k, v in BAD_VALUES]
)
def test_bad_values_are_refused_naming_the_value(name, key, value):
    with pytest.raises(ValueError, match=re.escape(key)) as err:
        optimizers.create(name, **{key: value})
    assert repr(value) in str(err.value) or str(value) in str(err.value)
    # set() refuses too and leaves the hyperparameters as they were
    opt = optimizers.create(name)
    before = dict(opt.hparams)
    with pytest.raises(ValueError):
        opt.set(**{key: value})
    assert opt.hparams == before
    if key == "lr":
        with pytest.raises(ValueError):
            opt.lr = value
        assert opt.lr == before["lr"]


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="nesterov") as err:
        optimizers.create("sgd", nesterov=True)
    assert "momentum" in str(err.value)
    with pytest.raises(ValueError, match="nesterov"):
        optimizers.create("nesterov", momentum=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        optimizers.create("nesterov", dampening=0.5)  # torch: nesterov needs zero dampening
    opt = optimizers.create("nesterov")
    with pytest.raises(ValueError, match="nesterov"):
        opt.set(momentum=0.0)
    assert opt.hparams["momentum"] == 0.9


def test_wrong_kinds_are_refused():
    with pytest.raises(ValueError):
        optimizers.create("adam", amsgrad="yes")
    with pytest.raises(ValueError):
        optimizers.create("adam", lr="0.1")
    with pytest.raises(ValueError):
        optimizers.create("adam", betas=0.9)
    with pytest.raises(ValueError):
        optimizers.create(None)


def test_mismatched_params_and_grads_are_refused():
    opt = optimizers.create("sgd")
    with pytest.raises(ValueError):
        opt.step([np.zeros(3)], [np.zeros(3), np.zeros(2)])
    with pytest.raises(ValueError):
        opt.step([np.zeros(3)], [np.zeros(4)])


# --- 7. float32 -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_stays_float32(name):
    hp = ALL_OPTIONS[name]
    grads = grad_sequence(8, seed=70)
    p32 = [p.astype(np.float32) for p in init_params()]
    _, views32 = flat_views(init_params(), dtype=np.float32)
    _, gviews32 = flat_views(grads[0], dtype=np.float32)
    opt, opt_flat = optimizers.create(name, **hp), optimizers.create(name, **hp)
    for gs in grads:
        opt.step(p32, [g.astype(np.float32) for g in gs])
        for dst, src in zip(gviews32, gs):
            dst[...] = src
        opt_flat.step(views32, gviews32)
    ref = init_params()
    grads32 = [[g.astype(np.float32).astype(np.float64) for g in gs] for gs in grads]
    run_reference(name, hp, ref, grads32)
    for a, b, r in zip(p32, views32, ref):
        assert a.dtype == np.float32 and b.dtype == np.float32
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b, r, rtol=1e-4, atol=1e-5)
    for s in opt.state + opt_flat.state:
        for key, arr in s.items():
            assert arr.dtype == np.float32, key


def test_float32_network():
    net = Network([3, 5, 2], ["relu", "linear"], seed=2, dtype=np.float32)
    rng = np.random.default_rng(71)
    ref = [p.astype(np.float64) for p in net.params]
    opt, r = optimizers.create("adamw", lr=0.01), Reference("adamw", lr=0.01)
    for _ in range(5):
        for g in net.grads:
            g[...] = rng.normal(size=g.shape)
        opt.step(net.params, net.grads)
        r.step(ref, [g.astype(np.float64) for g in net.grads])
    assert net.flat_params.dtype == np.float32
    for p, q in zip(net.params, ref):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_chunk_by_chunk_is_bit_identical(name, monkeypatch):
    """A large flat update runs over cache-sized chunks one after the other; each element still
    gets exactly the same arithmetic as in whole-array passes."""
    hp = ALL_OPTIONS[name]
    rng = np.random.default_rng(23)
    shapes = [(30, 40), (40,), (40, 7), (7,)]
    size = sum(math.prod(s) for s in shapes)
    steps_g = [rng.normal(size=size) for _ in range(8)]

    def run(chunk_bytes):
        monkeypatch.setattr(optimizers.base, "CHUNK_BYTES", chunk_bytes)
        flat_p = np.random.default_rng(5).normal(size=size)
        flat_g = np.empty(size)
        params, grads = split(flat_p, shapes), split(flat_g, shapes)
        opt = optimizers.create(name, **hp)
        for g in steps_g:
            flat_g[...] = g
            opt.step(params, grads)
        return opt, flat_p

    whole, p_whole = run(10**9)
    chunked, p_chunked = run(8 * 100)  # 100 float64 per chunk: 16 chunks, the last one short
    assert whole.chunk_count == 0
    assert chunked.chunk_count == (0 if name == "adamp" else 16)
    np.testing.assert_array_equal(p_chunked, p_whole)
    for s_a, s_b in zip(chunked.state, whole.state):
        for key in s_a:
            np.testing.assert_array_equal(s_a[key], s_b[key], err_msg=key)


def split(flat, shapes):
    out, start = [], 0
    for shape in shapes:
        n = math.prod(shape)
        out.append(flat[start : start + n].reshape(shape))
        start += n
    return out
