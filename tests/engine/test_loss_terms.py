"""The losses written out term by term (engine/loss_terms.py) against the engine's losses and
against the formulas computed here by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_trainer.engine import loss_terms as lt
from tui_trainer.engine.network import Network


def batch(out: str, k: int, n: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    net = Network([3, 5, k], ["tanh", out], seed=seed)
    X = rng.normal(size=(n, 3))
    if out == "softmax":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif out == "sigmoid":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    return net, X, Y


def test_which_losses_fit_which_output():
    assert lt.applicable("linear") == ["mse"]
    assert lt.applicable("sigmoid") == ["mse", "bce"]
    assert lt.applicable("softmax") == ["mse", "cross_entropy"]


def test_logits_are_the_last_layers_pre_activations():
    net, X, _ = batch("sigmoid", 2)
    z, p = lt.output_logits(net, X)
    h = np.tanh(X @ net.params[0] + net.params[1])
    assert np.allclose(z, h @ net.params[2] + net.params[3])
    assert np.allclose(p, 1 / (1 + np.exp(-z)))


@pytest.mark.parametrize("out,k", [("linear", 2), ("sigmoid", 2), ("sigmoid", 1), ("softmax", 3)])
def test_each_loss_mean_is_the_engines_loss_and_its_gradient_the_engines(out, k):
    net, X, Y = batch(out, k)
    z, p = lt.output_logits(net, X)
    for name in lt.applicable(out):
        t = lt.loss_terms(name, z, p, Y, out)
        assert t.mean == pytest.approx(net.loss(X, Y, name), rel=1e-12)
        assert t.total == pytest.approx(t.mean * t.count, rel=1e-12)
        _, grads = net.loss_and_grads(X, Y, name)
        # db of the output layer is the sum over the batch of dL/dz
        assert np.allclose(t.grad_z.sum(axis=0), grads[3], rtol=1e-10, atol=1e-14)


def test_terms_by_hand():
    net, X, Y = batch("softmax", 3)
    z, p = lt.output_logits(net, X)
    ce = lt.loss_terms("cross_entropy", z, p, Y, "softmax")
    assert ce.count == len(X)
    assert np.allclose(ce.terms, -np.log((p * Y).sum(axis=1)))
    assert np.allclose(ce.grad_z, (p - Y) / len(X))
    mse = lt.loss_terms("mse", z, p, Y, "softmax")
    assert mse.count == Y.size and np.allclose(mse.terms, (p - Y) ** 2)
    net, X, Y = batch("sigmoid", 2)
    z, p = lt.output_logits(net, X)
    bce = lt.loss_terms("bce", z, p, Y, "sigmoid")
    assert np.allclose(bce.terms, -(Y * np.log(p) + (1 - Y) * np.log(1 - p)))
    assert np.allclose(bce.grad_z, (p - Y) / Y.size)
    mse = lt.loss_terms("mse", z, p, Y, "sigmoid")
    assert np.allclose(mse.grad_z, 2 * (p - Y) * p * (1 - p) / Y.size)
    with pytest.raises(ValueError, match="does not fit"):
        lt.loss_terms("bce", z, p, Y, "linear")


def test_signed_errors_cancel_and_squares_do_not():
    s = lt.signed_errors([0.9, 0.1, 0.6], [0.0, 1.0, 1.0])
    assert s.signed_sum == pytest.approx(0.9 - 0.9 - 0.4)
    assert s.abs_sum == pytest.approx(2.2) and s.square_sum == pytest.approx(0.81 + 0.81 + 0.16)
    assert s.cancels and (s.positive, s.negative) == (1, 2)
    assert not lt.signed_errors([1.0, 2.0], [0.0, 0.0]).cancels
    # softmax against one-hot: the signed errors of each sample sum to exactly 0 (up to rounding)
    net, X, Y = batch("softmax", 3)
    _, p = lt.output_logits(net, X)
    s = lt.signed_errors(p, Y)
    assert abs(s.signed_sum) < 1e-12 < s.square_sum


def test_naive_bce_takes_log_of_zero_where_the_stable_one_is_finite():
    for z, y in lt.NAIVE_BCE_CASES:
        p, naive, stable = lt.naive_bce(z, y)
        assert not math.isfinite(naive) and math.isfinite(stable)
    p, naive, stable = lt.naive_bce(40.0, 0.0)
    assert p == 1.0 and naive == math.inf and stable == pytest.approx(40.0)
    p, naive, stable = lt.naive_bce(-1000.0, 0.0)
    assert p == 0.0 and math.isnan(naive) and stable == 0.0
    z = lt.saturating_logit()
    assert 1 / (1 + np.exp(-z)) == 1.0 and 1 / (1 + np.exp(-(z - 1))) < 1.0
    assert lt.naive_bce(z, 0.0)[1] == math.inf
    _, terms = lt.naive_bce_terms(np.array([[0.5, z]]), np.array([[1.0, 0.0]]))
    assert math.isfinite(terms[0, 0]) and terms[0, 1] == math.inf


def test_losses_that_need_probabilities_as_targets_do_not_fit_other_targets():
    assert lt.applicable("sigmoid", np.array([[0.0], [1.0], [0.3]])) == ["mse", "bce"]
    assert lt.applicable("sigmoid", np.array([[-1.0], [0.5]])) == ["mse"]
    assert lt.applicable("softmax", np.eye(3)) == ["mse", "cross_entropy"]
    assert lt.applicable("softmax", np.array([[0.5, 0.2, 0.1]])) == ["mse"]
