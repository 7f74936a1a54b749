"""Initialization side by side (engine/symmetry.py): constant inits keep a layer's units identical
through training, random ones do not; the spreads are those of a forward pass done here."""

from __future__ import annotations

import numpy as np
import pytest

from tui_trainer.engine import symmetry as sym
from tui_trainer.engine.network import Network


def data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    return X, Y


@pytest.mark.parametrize("acts", [["tanh", "tanh", "sigmoid"], ["relu", "relu", "sigmoid"],
                                  ["sigmoid", "sigmoid", "sigmoid"]])
def test_constant_inits_keep_units_identical_and_random_ones_do_not(acts):
    X, Y = data()
    results = {r.scheme: r for r in sym.compare_inits(
        [2, 6, 5, 1], acts, X, Y, "bce", optimizer="adam", lr=0.05, steps=25, seed=3)}
    assert list(results) == list(sym.SCHEMES)
    for scheme in ("zeros", "constant"):
        r = results[scheme]
        assert r.unit_diff_start == [0.0, 0.0], scheme
        assert r.loss_after != r.loss_start  # it did train (the output layer's bias at least)
        # up to rounding: BLAS may sum the equal columns of a product in other orders
        assert max(r.unit_diff_after) < sym.ROUNDING, scheme
        assert "distinct" not in {sym.reading(d) for d in r.unit_diff_after}
    if acts[0] != "sigmoid":  # tanh(0) = relu(0) = 0: nothing but the output bias moves, exactly
        assert results["zeros"].unit_diff_after == [0.0, 0.0]
    for scheme in ("small", "normal", "xavier", "he"):
        r = results[scheme]
        assert min(r.unit_diff_start) > sym.ROUNDING and min(r.unit_diff_after) > sym.ROUNDING, scheme
        assert {sym.reading(d) for d in r.unit_diff_after} == {"distinct"}
    assert sym.reading(0.0) == "identical" and sym.reading(1e-16) == "identical up to rounding"


def test_unit_difference_by_hand():
    net = Network([2, 3, 1], ["tanh", "linear"], seed=0)
    W1, b1, W2, _ = net.params
    expected = max(np.abs(W1[:, i] - W1[:, j]).max() for i in range(3) for j in range(3))
    expected = max(expected, np.abs(W2[:, 0][:, None] - W2[:, 0][None, :]).max())
    assert sym.unit_difference(net) == [pytest.approx(expected)]
    net.params[0][...] = 1.0
    net.params[2][...] = 1.0
    assert sym.unit_difference(net) == [0.0]
    net.params[1][2] = 0.1  # a bias alone makes the unit another one
    assert sym.unit_difference(net) == [pytest.approx(0.1)]


def test_spreads_are_a_forward_pass_of_the_same_seed():
    X, Y = data()
    sizes, acts = [2, 8, 8, 1], ["relu", "relu", "sigmoid"]
    for r in sym.compare_inits(sizes, acts, X, Y, "bce", steps=0, seed=5):
        net = sym.network_with(sizes, acts, r.scheme, seed=5)
        a1 = np.maximum(X @ net.params[0] + net.params[1], 0)
        a2 = np.maximum(a1 @ net.params[2] + net.params[3], 0)
        assert r.activation_std[:2] == [pytest.approx(np.std(a1)), pytest.approx(np.std(a2))]
        assert r.weight_std[0] == pytest.approx(np.std(net.params[0]))
    zeros = sym.compare_inits(sizes, acts, X, Y, "bce", steps=0, schemes=["zeros"])[0]
    assert zeros.activation_std[:2] == [0.0, 0.0] and zeros.activation_std[2] == 0.0
    const = sym.network_with(sizes, acts, "constant")
    assert all(np.all(W == sym.CONSTANT) for W in const.weights) and all(np.all(b == 0) for b in const.biases)


def test_no_hidden_layer_means_nothing_to_compare():
    X, Y = data()
    r = sym.compare_inits([2, 1], ["sigmoid"], X, Y, "bce", steps=2, schemes=["zeros"])[0]
    assert r.unit_diff_start == [] and r.unit_diff_after == []


def test_a_diverged_training_reads_diverged():
    assert sym.reading(float("nan")) == "diverged" and sym.reading(float("inf")) == "diverged"
    X, Y = data()
    r = sym.compare_inits([2, 4, 1], ["relu", "linear"], X, Y * 1e3, "mse", optimizer="sgd", lr=1e3, steps=30,
                          schemes=["he"])[0]
    assert [sym.reading(d) for d in r.unit_diff_after] == ["diverged"]
