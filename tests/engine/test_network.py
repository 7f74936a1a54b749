"""The network: the public contract, backprop against finite differences, stability, learning."""

import warnings

import numpy as np
import pytest

from tui_trainer.engine import Network, gradcheck, optimizers
from tui_trainer.engine.activations import ACTIVATIONS, apply
from tui_trainer.engine.losses import LOSSES

HIDDEN = [name for name, cls in ACTIVATIONS.items() if cls.hidden_ok]
OUTPUT_FOR = {"mse": ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"],
              "bce": ["sigmoid"], "cross_entropy": ["softmax"]}


def targets(loss, n, k, rng):
    """Targets of the kind each loss expects."""
    if loss == "bce":
        return (rng.random((n, k)) > 0.5).astype(float)
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.normal(size=(n, k))


def max_gradcheck_error(net, X, Y, loss):
    """Largest relative error over the parameter arrays, with random biases so no relu sits on its kink."""
    rng = np.random.default_rng(99)
    for b in net.params[1::2]:
        b[...] = rng.normal(0.0, 0.1, b.shape)
    return max(c.rel_error for c in gradcheck(net, X, Y, loss, h=1e-6))


def test_contract_shapes_and_order():
    net = Network(layer_sizes=[2, 16, 16, 1], activations=["relu", "relu", "sigmoid"], seed=0)
    assert [p.shape for p in net.params] == [(2, 16), (16,), (16, 16), (16,), (16, 1), (1,)]
    assert all(p.dtype == np.float64 for p in net.params)
    assert net.n_params == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    X = np.random.default_rng(0).normal(size=(5, 2))
    assert net.forward(X).shape == (5, 1)
    loss, grads = net.loss_and_grads(X, np.ones((5, 1)), loss="bce")
    assert isinstance(loss, float)
    assert [g.shape for g in grads] == [p.shape for p in net.params]


def test_layer_is_x_at_w_plus_b():
    """Writing into params sets the weights; a layer computes X @ W + b."""
    net = Network([3, 2], ["linear"])
    W = np.arange(6.0).reshape(3, 2)
    b = np.array([0.5, -1.0])
    net.params[0][...] = W
    net.params[1][...] = b
    X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(net.forward(X), X @ W + b)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss,output", [(l, o) for l in LOSSES for o in OUTPUT_FOR[l]])
def test_backprop_matches_finite_differences(hidden, loss, output):
    rng = np.random.default_rng(1)
    k = 1 if loss == "bce" else 3
    net = Network([3, 5, 4, k], [hidden, hidden, output], seed=2)
    X = rng.normal(size=(7, 3))
    assert max_gradcheck_error(net, X, targets(loss, 7, k, rng), loss) < 1e-7


@pytest.mark.parametrize("loss,output", [("mse", "linear"), ("bce", "sigmoid"), ("cross_entropy", "softmax")])
def test_backprop_without_hidden_layer(loss, output):
    rng = np.random.default_rng(3)
    k = 1 if loss == "bce" else 4
    net = Network([5, k], [output], seed=0)
    X = rng.normal(size=(9, 5))
    assert max_gradcheck_error(net, X, targets(loss, 9, k, rng), loss) < 1e-8


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_backprop_deep_network(hidden):
    rng = np.random.default_rng(4)
    net = Network([2] + [6] * 6 + [3], [hidden] * 6 + ["softmax"], seed=5)
    X = rng.normal(size=(8, 2))
    assert max_gradcheck_error(net, X, targets("cross_entropy", 8, 3, rng), "cross_entropy") < 1e-5


def test_loss_definitions_by_hand():
    """mse, bce and cross-entropy against their textbook formulas."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(6, 3))
    lin = Network([3, 2], ["linear"], seed=1)
    out = X @ lin.params[0] + lin.params[1]
    Y = rng.normal(size=(6, 2))
    assert lin.loss(X, Y, "mse") == pytest.approx(np.mean((out - Y) ** 2), rel=1e-13)

    sig = Network([3, 1], ["sigmoid"], seed=1)
    z = X @ sig.params[0] + sig.params[1]
    p = 1 / (1 + np.exp(-z))
    y = (rng.random((6, 1)) > 0.5).astype(float)
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert sig.loss(X, y, "bce") == pytest.approx(bce, rel=1e-12)

    soft = Network([3, 4], ["softmax"], seed=1)
    z = X @ soft.params[0] + soft.params[1]
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, 6)
    ce = -np.mean(np.log(probs[np.arange(6), labels]))
    assert soft.loss(X, np.eye(4)[labels], "cross_entropy") == pytest.approx(ce, rel=1e-12)
    np.testing.assert_allclose(soft.forward(X), probs, rtol=1e-13)


@pytest.mark.parametrize("loss,output,k", [("bce", "sigmoid", 1), ("cross_entropy", "softmax", 3), ("mse", "sigmoid", 1), ("mse", "tanh", 2)])
def test_huge_logits_are_stable(loss, output, k):
    """|z| ~ 1000: no overflow warnings, no NaN, and the loss is the right limit."""
    net = Network([1, k], [output])
    net.params[0][...] = 1000.0 * np.linspace(-1, 1, k)
    X = np.array([[1.0], [-1.0]])
    Y = np.zeros((2, k))
    Y[:, 0] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_value, grads = net.loss_and_grads(X, Y, loss)
        out = net.forward(X)
    assert np.isfinite(loss_value) and all(np.isfinite(g).all() for g in grads)
    assert np.isfinite(out).all()
    if loss == "bce":  # one sample is right with logit 1000 (loss 0), the other wrong (loss 1000)
        assert loss_value == pytest.approx(500.0)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_values(name):
    z = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    expected = {
        "linear": z,
        "sigmoid": 1 / (1 + np.exp(-z)),
        "tanh": np.tanh(z),
        "relu": np.where(z > 0, z, 0.0),
        "leaky_relu": np.where(z > 0, z, 0.01 * z),
        "softmax": np.exp(z) / np.exp(z).sum(),
    }[name]
    np.testing.assert_allclose(apply(name, z), expected, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_backward_with_any_scratch(dtype):
    """ReLU's backward pass keeps its mask in the scratch buffer's bytes, or in its own array
    when the scratch is not contiguous: both give dL/dZ = dL/dA where a > 0, else 0."""
    relu = ACTIVATIONS["relu"]()
    rng = np.random.default_rng(3)
    a = np.maximum(rng.normal(size=(5, 7)), 0.0).astype(dtype)
    da = rng.normal(size=(5, 7)).astype(dtype)
    expected = np.where(a > 0, da, 0.0)
    for work in (np.full((5, 7), 7.0, dtype), np.full((7, 5), 7.0, dtype).T):
        np.testing.assert_array_equal(relu.backward(da.copy(), a, work), expected)


@pytest.mark.parametrize("init,check", [
    ("he", lambda W, n_in, n_out: abs(W.std() / np.sqrt(2 / n_in) - 1) < 0.05),
    ("xavier", lambda W, n_in, n_out: np.abs(W).max() <= np.sqrt(6 / (n_in + n_out))),
    ("normal", lambda W, n_in, n_out: abs(W.std() - 1) < 0.05),
    ("small", lambda W, n_in, n_out: abs(W.std() - 0.01) < 0.001),
    ("zeros", lambda W, n_in, n_out: not W.any()),
])
def test_init_schemes(init, check):
    net = Network([300, 200, 1], ["tanh", "sigmoid"], init=init, seed=0)
    assert check(net.params[0], 300, 200)
    assert not net.params[1].any()


def test_auto_init_is_he_for_relu_and_xavier_otherwise():
    relu = Network([400, 300, 300], ["relu", "tanh"], seed=0)
    assert relu.params[0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert np.abs(relu.params[2]).max() <= np.sqrt(6 / 600)
    assert relu.params[2].std() == pytest.approx(np.sqrt(2 / 600), rel=0.05)


def test_init_is_seeded_and_reset_keeps_the_arrays():
    a = Network([2, 8, 1], ["relu", "sigmoid"], seed=7)
    b = Network([2, 8, 1], ["relu", "sigmoid"], seed=7)
    c = Network([2, 8, 1], ["relu", "sigmoid"], seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert not np.array_equal(a.params[0], c.params[0])
    W = a.params[0]
    a.reset_parameters(seed=8)
    assert a.params[0] is W and np.array_equal(W, c.params[0])


def test_grads_are_reused_buffers():
    net = Network([2, 3, 1], ["tanh", "linear"])
    X = np.ones((4, 2))
    _, g1 = net.loss_and_grads(X, np.zeros((4, 1)), "mse")
    first = [g.copy() for g in g1]
    _, g2 = net.loss_and_grads(X, np.ones((4, 1)), "mse")
    assert all(a is b for a, b in zip(g1, g2))
    assert not np.array_equal(first[-1], g2[-1])


def test_float32():
    rng = np.random.default_rng(0)
    n64 = Network([3, 6, 2], ["tanh", "softmax"], seed=1)
    n32 = Network([3, 6, 2], ["tanh", "softmax"], seed=1, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in n32.params)
    X = rng.normal(size=(10, 3))
    Y = np.eye(2)[rng.integers(0, 2, 10)]
    l64, g64 = n64.loss_and_grads(X, Y, "cross_entropy")
    l32, g32 = n32.loss_and_grads(X, Y, "cross_entropy")
    assert all(g.dtype == np.float32 for g in g32)
    assert l32 == pytest.approx(l64, rel=1e-5)
    for a, b in zip(g64, g32):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-6)
    opt = optimizers.create("adam", lr=0.01)
    opt.step(n32.params, g32)
    assert all(p.dtype == np.float32 for p in n32.params)


@pytest.mark.parametrize("kwargs,match", [
    (dict(layer_sizes=[2], activations=[]), "input and an output"),
    (dict(layer_sizes=[2, 0, 1], activations=["relu", "sigmoid"]), "positive integers"),
    (dict(layer_sizes=[2, 3.5, 1], activations=["relu", "sigmoid"]), "positive integers"),
    (dict(layer_sizes=[2, 3, 1], activations=["relu"]), "one activation per layer"),
    (dict(layer_sizes=[2, 3, 1], activations=["relu", "swish"]), "relu, leaky_relu"),
    (dict(layer_sizes=[2, 3, 2], activations=["softmax", "softmax"]), "last layer"),
    (dict(layer_sizes=[2, 1], activations=["relu"], init="glorot"), "choose one of: auto, he"),
    (dict(layer_sizes=[2, 1], activations=["relu"], dtype=np.int32), "float64 or float32"),
])
def test_invalid_networks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Network(**kwargs)


def test_invalid_loss_and_shapes():
    net = Network([2, 1], ["relu"])
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="mse, bce, cross_entropy"):
        net.loss_and_grads(X, np.zeros((3, 1)), "hinge")
    with pytest.raises(ValueError, match="needs a 'sigmoid' output"):
        net.loss_and_grads(X, np.zeros((3, 1)), "bce")
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        net.forward(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"targets must have shape \(3, 1\)"):
        net.loss_and_grads(X, np.zeros((3, 2)), "mse")


def test_xor_is_learned():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    net = Network([2, 8, 1], ["tanh", "sigmoid"], seed=0)
    opt = optimizers.create("adam", lr=0.05)
    for _ in range(500):
        _, grads = net.loss_and_grads(X, Y, "bce")
        opt.step(net.params, grads)
    assert np.array_equal(net.forward(X) > 0.5, Y > 0.5)
    assert net.loss(X, Y, "bce") < 0.01
