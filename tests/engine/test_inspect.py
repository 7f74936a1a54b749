"""The analysis behind the "inside the network" views: grids, histograms, collapse, gradients."""

import math
import sys

import numpy as np
import pytest

from tui_trainer.engine import Network, optimizers
from tui_trainer.engine import inspect as insp
from tui_trainer.engine.gradcheck import numerical_grads
from tui_trainer.engine.optimizers import OPTIMIZERS


def small_net(acts=("tanh", "sigmoid"), sizes=(2, 5, 1), seed=0):
    return Network(list(sizes), list(acts), seed=seed)


def test_inspect_imports_no_ui():
    assert "tui_trainer.engine.inspect" in sys.modules
    import tui_trainer.engine.inspect as mod

    source = open(mod.__file__).read()
    for ui in ("textual", "rich", "click"):
        assert f"import {ui}" not in source and f"from {ui}" not in source


def test_network_like_is_an_independent_copy():
    net = small_net()
    copy = insp.network_like(net)
    assert copy.layer_sizes == net.layer_sizes and copy.activations == net.activations
    assert all(np.array_equal(a, b) for a, b in zip(copy.params, net.params))
    copy.params[0][0, 0] += 1.0
    assert copy.params[0][0, 0] != net.params[0][0, 0]
    other = [p * 2 for p in net.params]
    assert np.array_equal(insp.network_like(net, other).params[2], other[2])


def test_decision_grid_matches_forward_at_cell_centres():
    net = small_net()
    grid = insp.decision_grid(net, (-1.0, 1.0, -2.0, 2.0), 4, 3)
    assert grid.shape == (3, 4, 1)
    # Row 0 is the top (largest y), column 0 the left (smallest x); cells are 0.5 x 4/3 wide.
    top_left = net.forward(np.array([[-0.75, 2.0 - 2.0 / 3]]))[0, 0]
    bottom_right = net.forward(np.array([[0.75, -2.0 + 2.0 / 3]]))[0, 0]
    assert grid[0, 0, 0] == pytest.approx(top_left)
    assert grid[2, 3, 0] == pytest.approx(bottom_right)


def test_decision_grid_slices_wider_inputs_at_zero_and_rejects_one_input():
    net = Network([3, 4, 2], ["relu", "softmax"], seed=1)
    grid = insp.decision_grid(net, (0, 1, 0, 1), 2, 2, features=(0, 2))
    assert grid.shape == (2, 2, 2)
    assert grid[0, 0] == pytest.approx(net.forward(np.array([[0.25, 0.0, 0.75]]))[0])
    with pytest.raises(ValueError):
        insp.decision_grid(Network([1, 3, 1], ["tanh", "linear"]), (0, 1, 0, 1), 2, 2)
    x, y = insp.prediction_curve(Network([1, 3, 1], ["tanh", "linear"]), -1, 1, 5)
    assert x.shape == y.shape == (5,)


def test_fit_bounds_keeps_square_cells_and_contains_the_data():
    X = np.array([[0.0, 0.0], [2.0, 1.0]])
    x0, x1, y0, y1 = insp.fit_bounds(X, 40, 20)
    assert x0 <= 0 and x1 >= 2 and y0 <= 0 and y1 >= 1
    assert (x1 - x0) / 40 == pytest.approx((y1 - y0) / 20)


def test_activation_histograms_count_dead_relus_and_saturated_sigmoids():
    net = Network([2, 4, 3, 1], ["relu", "sigmoid", "tanh"], seed=0)
    W1, b1, W2, b2, W3, b3 = net.params
    W1[:, 0] = 0.0
    b1[0] = -1.0  # unit 0 of layer 1: always 0, dead
    W2[...] = 0.0
    b2[...] = [20.0, -20.0, 0.0]  # two saturated sigmoid units, one at 0.5
    X = np.random.default_rng(0).normal(size=(50, 2))
    stats = insp.activation_histograms(net, X, bins=10)
    assert [s.activation for s in stats] == ["relu", "sigmoid", "tanh"]
    relu, sig, _ = stats
    assert relu.dead_units >= 1 and relu.dead_fraction == relu.dead_units / 4
    assert relu.zero_fraction >= 0.25
    assert relu.counts.sum() == int(round((1 - relu.zero_fraction) * 200))  # positives only
    assert sig.saturated_units == 2 and sig.saturated_fraction == pytest.approx(2 / 3)
    assert (sig.low, sig.high) == (0.0, 1.0) and sig.counts.sum() == 150


def test_linear_collapse_equals_the_network():
    net = Network([3, 7, 6, 5, 2], ["linear", "linear", "linear", "softmax"], seed=3)
    for b in net.biases:
        b[...] = np.random.default_rng(1).normal(size=b.shape)
    X = np.random.default_rng(2).normal(size=(100, 3))
    c = insp.linear_collapse(net, X)
    assert c.W.shape == (3, 2) and c.b.shape == (2,)
    assert c.shapes == [(3, 7), (7, 6), (6, 5), (5, 2)]
    assert c.max_abs_diff < 1e-10 and c.n_samples == 100
    assert insp.linear_collapse(Network([2, 3, 1], ["relu", "linear"])) is None


def test_gradient_ratio():
    assert insp.gradient_ratio([1e-6, 1.0, 2.0]) == pytest.approx(5e-7)
    assert math.isnan(insp.gradient_ratio([1.0]))
    assert math.isnan(insp.gradient_ratio([1.0, 0.0]))
    r = insp.ratio_series(np.array([1.0, 2.0]), np.array([2.0, 0.0]))
    assert r[0] == 0.5 and math.isnan(r[1])


def test_gradient_check_agrees_and_writes_out_an_example():
    net = Network([2, 4, 1], ["tanh", "sigmoid"], seed=0)
    X = np.random.default_rng(0).normal(size=(16, 2))
    Y = (X[:, :1] > 0).astype(float)
    report = insp.gradient_check(net, X, Y, "bce", entries=6)
    assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2"]
    assert report.max_rel_error < 1e-5
    w = report.worked
    assert w.numeric == pytest.approx((w.loss_plus - w.loss_minus) / (2 * w.step))
    assert w.step == pytest.approx(report.h * max(1.0, abs(w.w)))
    assert w.numeric == pytest.approx(w.analytic, rel=1e-5)
    # The network is put back as it was.
    assert np.array_equal(net.params[0], Network([2, 4, 1], ["tanh", "sigmoid"], seed=0).params[0])


def drive_to_tiny_loss(net, X, Y, loss="bce", target=1e-10):
    """Train ``net`` until it classifies ``(X, Y)``, then scale its output layer up as a long run
    does (the logits grow while the decisions stay): the loss ends at about ``target``."""
    opt = optimizers.create("adam", lr=0.02)
    for _ in range(400):
        _, grads = net.loss_and_grads(X, Y, loss)
        opt.step(net.params, grads)
    W, b = net.params[-2], net.params[-1]
    W0, b0 = W.copy(), b.copy()
    lo, hi = 1.0, 1e4
    for _ in range(60):
        k = math.sqrt(lo * hi)
        W[...], b[...] = W0 * k, b0 * k
        lo, hi = (k, hi) if net.loss(X, Y, loss) > target else (lo, k)
    return net.loss(X, Y, loss)


def tiny_loss_net(sizes=(2, 4, 1), acts=("tanh", "sigmoid")):
    net = Network(list(sizes), list(acts), seed=0)
    X = np.random.default_rng(0).normal(size=(32, 2))
    X[:, 0] += np.sign(X[:, 0])  # a margin: separable
    Y = (X[:, :1] > 0).astype(float)
    assert 5e-11 < drive_to_tiny_loss(net, X, Y) < 2e-10
    return net, X, Y


@pytest.mark.parametrize("sizes, acts", [
    ((2, 4, 1), ("tanh", "sigmoid")),
    # Outputs of exactly 1.0 here: their terms of the loss round to exactly 0 at every nearby
    # weight, so no spread of L shows what rounding took.
    ((2, 16, 16, 1), ("relu", "relu", "sigmoid")),
])
def test_gradient_check_at_a_tiny_loss_is_too_small_to_compare_not_a_disagreement(sizes, acts):
    # At a loss of ~1e-10, L(w + h) and L(w - h) agree in all but their last digits: the central
    # differences are mostly rounding, so nothing can be said against backprop.
    net, X, Y = tiny_loss_net(sizes, acts)
    report = insp.gradient_check(net, X, Y, "bce", entries=12)
    assert report.verdict == "too small"
    assert all(row.status != "differ" for row in report.rows)
    entries = [e for row in report.rows for e in row.entries]
    assert entries and any(e.status == "too small" for e in entries)
    for e in entries:
        assert e.status != "differ"
        # Backprop is right, so rounding must account for every difference.
        assert abs(e.analytic - e.numeric) <= e.uncertainty
        if e.analytic * e.numeric < 0:  # opposite signs are never close, unless both are noise
            assert e.status == "too small"
            assert max(abs(e.analytic), abs(e.numeric)) <= e.uncertainty
    # The loss is known to about rounding's size here, and the step scales with the weight.
    assert 0 < report.noise < 1e-12
    assert all(e.step == pytest.approx(report.h * max(1.0, abs(e.w))) for e in entries)


@pytest.mark.parametrize("a, n, u, status", [
    (1.0, 1.0 + 1e-6, 1e-12, "agree"),
    (1.0, 1.001, 1e-12, "close"),
    (1.0, 1.1, 1e-12, "differ"),
    (1e-10, -1e-10, 1e-12, "differ"),  # opposite signs, both well above what rounding leaves
    (1e-10, -1e-10, 1e-9, "too small"),  # both within it
    (1e-10, -0.99e-10, 1e-10, "too small"),
    (3e-10, 2.9e-10, 2e-11, "too small"),  # rounding could make it close or differ
    (3e-10, 1e-10, 2e-11, "differ"),  # far apart even allowing for rounding
    (1e-10, 1e-10 + 1e-16, 1e-20, "agree"),
    (0.0, 0.0, 1e-9, "agree"),  # a weight the loss does not depend on
])
def test_compare_entry_allows_for_rounding(a, n, u, status):
    assert insp.compare_entry(a, n, u) == status
    assert insp.compare_entry(n, a, u) == status


def test_gradient_check_calls_out_a_wrong_gradient(monkeypatch):
    net = Network([2, 4, 1], ["tanh", "sigmoid"], seed=0)
    X = np.random.default_rng(0).normal(size=(16, 2))
    Y = (X[:, :1] > 0).astype(float)
    right = net.loss_and_grads

    def wrong(*args, **kwargs):
        value, grads = right(*args, **kwargs)
        grads[2] *= 1.1  # W2's gradient 10% too large
        return value, grads

    monkeypatch.setattr(net, "loss_and_grads", wrong)
    report = insp.gradient_check(net, X, Y, "bce", entries=6)
    assert report.verdict == "differ"
    assert {row.name: row.status for row in report.rows} == {
        "W1": "agree", "b1": "agree", "W2": "differ", "b2": "agree"}
    assert report.max_rel_error == pytest.approx(0.1 / 1.1, rel=1e-3)


def test_numerical_gradient_of_a_large_weight_uses_a_step_its_size():
    # A fixed step of 1e-6 on a weight of 1e8 is a few units in its last place, and moves the
    # loss by little more than its rounding: the step must grow with the weight.
    net = Network([1, 1], ["linear"], seed=0)
    net.params[0][...] = 1e8
    net.params[1][...] = 0.0
    X = np.linspace(-1e-8, 1e-8, 8)[:, None]
    Y = np.linspace(0.5, 1.5, 8)[:, None]
    analytic = net.loss_and_grads(X, Y, "mse")[1][0].copy()
    numeric = numerical_grads(net, X, Y, "mse")[0]
    assert numeric == pytest.approx(analytic, rel=1e-7)


# Every optimizer and the variants that change the update's form.
VARIANTS = [(name, {}) for name in OPTIMIZERS] + [
    ("sgd", {"weight_decay": 0.1}),
    ("sgd", {"momentum": 0.8, "dampening": 0.3}),
    ("adagrad", {"lr_decay": 0.1, "weight_decay": 0.05}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.9}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.01}),
    ("adam", {"amsgrad": True}),
    ("adam", {"weight_decay": 0.1}),
    ("adamp", {"weight_decay": 0.1}),
    ("adamp", {"nesterov": True, "delta": 10.0}),  # a large delta: the projection fires
]


@pytest.mark.parametrize("name,hparams", VARIANTS, ids=lambda v: str(v))
def test_update_explanation_gives_the_new_weight(name, hparams):
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], ["tanh", "sigmoid"], seed=0)
    X, Y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=(8, 2)).astype(float)
    opt = optimizers.create(name, **hparams)
    for step in range(3):
        before = [p.copy() for p in net.params]
        _, grads = net.loss_and_grads(X, Y, "bce")
        grads = [g.copy() for g in grads]
        opt.step(net.params, net.grads)
        for param_index, index in ((0, (1, 2)), (1, 3), (2, (3, 1))):
            exp = insp.update_explanation(opt, param_index, index, before[param_index], grads[param_index])
            actual = float(net.params[param_index][index])
            assert exp.new_value == actual, (step, param_index, exp.text)
            assert exp.lines[-1].endswith("= " + insp.format_number(actual))
            assert exp.w_before == before[param_index][index]
    # The same from a state_dict copy (what a snapshot carries) and with a flat index.
    sd = opt.state_dict()
    exp = insp.update_explanation(sd, 2, 3 * 2 + 1, before[2], grads[2])
    assert exp.new_value == float(net.params[2][3, 1])


def test_update_explanation_numbers_for_adam():
    opt = optimizers.create("adam", lr=0.1)
    w = np.array([0.5])
    g = np.array([0.2])
    opt.step([w], [g.copy()])
    exp = insp.update_explanation(opt, 0, 0, np.array([0.5]), g)
    # First Adam step: m_hat = g, v_hat = g^2, so the weight moves by lr (to 0.4).
    assert exp.new_value == pytest.approx(0.4)
    assert "m_hat / (sqrt(v_hat) + eps) = 0.5 - 0.1 * 0.2 / (0.2 + 1e-08) = 0.4" in exp.text
    assert exp.state == {"m (running mean of g)": pytest.approx(0.02), "v (running mean of g^2)": pytest.approx(4e-5)}


def test_update_explanation_before_any_step():
    opt = optimizers.create("sgd")
    exp = insp.update_explanation(opt, 0, 0, np.zeros(2), np.zeros(2))
    assert "no update yet" in exp.text and exp.new_value == 0.0


def test_format_number():
    assert insp.format_number(0.0001234567) == "0.0001235"
    assert insp.format_number(1e-8) == "1e-08"
    assert insp.format_number(-2.5) == "-2.5"
    assert insp.format_number(123456789) == "1.235e+08"
