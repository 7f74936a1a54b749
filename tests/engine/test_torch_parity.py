"""Parity with PyTorch (autograd and torch.optim), run only where torch is installed."""

import numpy as np
import pytest

from tests.conftest import import_torch
from tui_trainer.engine import Network, optimizers

torch = import_torch()
F = torch.nn.functional

CASES = [  # (layer sizes, activations, loss)
    ([3, 7, 5, 1], ["relu", "tanh", "sigmoid"], "bce"),
    ([4, 6, 6, 3], ["leaky_relu", "sigmoid", "softmax"], "cross_entropy"),
    ([2, 5, 2], ["tanh", "linear"], "mse"),
    ([2, 5, 2], ["relu", "sigmoid"], "mse"),
    ([3, 4], ["softmax"], "mse"),
]
TORCH_ACT = {
    "linear": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_loss(params, acts, loss, X, Y):
    a = torch.from_numpy(X)
    for i, act in enumerate(acts):
        z = a @ params[2 * i] + params[2 * i + 1]
        last = i == len(acts) - 1
        if last and loss == "bce":
            return F.binary_cross_entropy(torch.sigmoid(z), torch.from_numpy(Y))
        if last and loss == "cross_entropy":
            return F.cross_entropy(z, torch.from_numpy(Y.argmax(axis=1)))
        a = TORCH_ACT[act](z)
    return F.mse_loss(a, torch.from_numpy(Y))


def data(sizes, loss, n=11, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss == "bce":
        Y = (rng.random((n, k)) > 0.5).astype(float)
    elif loss == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, n)]
    else:
        Y = rng.normal(size=(n, k))
    return X, Y


@pytest.mark.parametrize("sizes,acts,loss", CASES)
def test_loss_and_gradients_match_autograd(sizes, acts, loss):
    net = Network(sizes, acts, seed=3)
    for b in net.params[1::2]:
        b[...] = np.random.default_rng(1).normal(0, 0.2, b.shape)
    X, Y = data(sizes, loss)
    value, grads = net.loss_and_grads(X, Y, loss)
    tparams = [torch.tensor(p, requires_grad=True) for p in net.params]
    tl = torch_loss(tparams, acts, loss, X, Y)
    tl.backward()
    assert value == pytest.approx(tl.item(), rel=1e-12)
    for g, tp in zip(grads, tparams):
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-9, atol=1e-15)


OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.01}, torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.01}),
    ("momentum", {"lr": 0.05, "dampening": 0.3}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("nesterov", {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}, torch.optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}),
    ("rmsprop", {}, torch.optim.RMSprop, {}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.01}, torch.optim.RMSprop, {"centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}, torch.optim.Adam, {"lr": 0.01}),
    ("adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}, torch.optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("adamw", {"lr": 0.01}, torch.optim.AdamW, {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}, torch.optim.AdamW, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,hp,topt,thp", OPTIMIZER_CASES)
def test_optimizer_trajectories_match_torch_optim(name, hp, topt, thp):
    sizes, acts, loss = CASES[1]
    net = Network(sizes, acts, seed=4)
    X, Y = data(sizes, loss, n=16, seed=2)
    tparams = [torch.tensor(p, requires_grad=True) for p in net.params]
    opt = optimizers.create(name, **hp)
    tp_opt = topt(tparams, foreach=False, **thp)
    for _ in range(25):
        _, grads = net.loss_and_grads(X, Y, loss)
        opt.step(net.params, grads)
        tp_opt.zero_grad()
        torch_loss(tparams, acts, loss, X, Y).backward()
        tp_opt.step()
    for p, tp in zip(net.params, tparams):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


class TorchAdamP(torch.optim.Optimizer):
    """AdamP as published by its authors (clovaai/AdamP, MIT licence), for torch's (out, in) weights."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 delta=0.1, wd_ratio=0.1, nesterov=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      delta=delta, wd_ratio=wd_ratio, nesterov=nesterov))

    @staticmethod
    def _cos(x, y, eps, view):
        return F.cosine_similarity(view(x), view(y), dim=1, eps=eps).abs_()

    def _projection(self, p, grad, perturb, delta, wd_ratio, eps):
        expand = [-1] + [1] * (len(p.shape) - 1)
        for view in (lambda x: x.view(x.size(0), -1), lambda x: x.view(1, -1)):
            cos = self._cos(grad, p.data, eps, view)
            if cos.max() < delta / np.sqrt(view(p.data).size(1)):
                p_n = p.data / view(p.data).norm(dim=1).view(expand).add_(eps)
                perturb -= p_n * view(p_n * perturb).sum(dim=1).view(expand)
                return perturb, wd_ratio
        return perturb, 1

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                grad, (beta1, beta2) = p.grad, group["betas"]
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                m, v = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                bc1, bc2 = 1 - beta1 ** state["step"], 1 - beta2 ** state["step"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (v.sqrt() / np.sqrt(bc2)).add_(group["eps"])
                step_size = group["lr"] / bc1
                perturb = ((beta1 * m + (1 - beta1) * grad) if group["nesterov"] else m) / denom
                wd_ratio = 1
                if len(p.shape) > 1:
                    perturb, wd_ratio = self._projection(p, grad, perturb, group["delta"], group["wd_ratio"], group["eps"])
                if group["weight_decay"] > 0:
                    p.mul_(1 - group["lr"] * group["weight_decay"] * wd_ratio)
                p.add_(perturb, alpha=-step_size)


@pytest.mark.parametrize("hp", [{}, {"weight_decay": 0.1, "nesterov": True, "lr": 0.01}])
def test_adamp_matches_the_reference(hp):
    """Gradients made tangent to W's columns on even steps, so the projection fires there."""
    rng = np.random.default_rng(5)
    params = [rng.normal(size=(6, 4)), rng.normal(size=4)]
    tparams = [torch.tensor(params[0].T.copy()), torch.tensor(params[1])]  # torch: (out, in)
    opt, ref = optimizers.create("adamp", **hp), TorchAdamP(tparams, **hp)
    for t in range(12):
        grads = [rng.normal(size=(6, 4)), rng.normal(size=4)]
        if t % 2 == 0:
            W = params[0]
            grads[0] -= W * (W * grads[0]).sum(axis=0) / (W * W).sum(axis=0)
        for tp, g in zip(tparams, (grads[0].T.copy(), grads[1])):
            tp.grad = torch.tensor(g)
        opt.step(params, grads)
        ref.step()
    np.testing.assert_allclose(params[0], tparams[0].numpy().T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(params[1], tparams[1].numpy(), rtol=1e-9, atol=1e-12)
