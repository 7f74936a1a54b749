"""Regularization: L1 / L2 weight penalties and inverted dropout, in the network and the trainer.

The penalty is TensorFlow Playground's: loss + l1 * sum|W| + l2 / 2 * sum W^2 over every weight
matrix (never the biases). Dropout multiplies each hidden layer's output by a mask of 0 (dropped,
probability p) or 1 / (1 - p) during training steps only.
"""

import json
import math

import numpy as np
import pytest

from tests.conftest import import_torch
from tui_trainer.engine import Network, gradcheck, optimizers
from tui_trainer.engine.datasets import load_dataset
from tui_trainer.engine.network import check_dropout, check_penalty
from tui_trainer.engine.preprocess import prepare
from tui_trainer.engine.trainer import Trainer

CASES = [  # (layer sizes, activations, loss)
    ([3, 5, 4, 1], ["tanh", "sigmoid", "linear"], "mse"),
    ([3, 5, 4, 1], ["tanh", "leaky_relu", "sigmoid"], "bce"),
    ([3, 6, 5, 3], ["sigmoid", "tanh", "softmax"], "cross_entropy"),
]


def problem(sizes, acts, loss, n=9, seed=0):
    """A network with random biases (no relu on its kink) and data with targets for ``loss``."""
    rng = np.random.default_rng(seed)
    net = Network(sizes, acts, seed=seed + 1)
    for b in net.biases:
        b[...] = rng.normal(0.0, 0.1, b.shape)
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if loss == "bce":
        Y = (rng.random((n, k)) > 0.5).astype(float)
    elif loss == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, n)]
    else:
        Y = rng.normal(size=(n, k))
    return net, X, Y


def manual_penalty(net, l1, l2):
    return l1 * sum(np.abs(W).sum() for W in net.weights) + l2 / 2 * sum((W**2).sum() for W in net.weights)


def trainer_for(*, seed=0, batch_size=16, hidden=(8, 8), optimizer="adam", lr=0.01, net_seed=None, **options):
    ds = load_dataset("xor", n_samples=100, seed=0)
    data = prepare(ds, val_split=0.2, seed=0)
    net = Network([ds.X.shape[1], *hidden, ds.n_outputs], ["tanh"] * len(hidden) + ["sigmoid"],
                  seed=seed if net_seed is None else net_seed)
    opt = optimizers.create(optimizer, lr=lr)
    return Trainer(net, opt, data, loss="bce", batch_size=batch_size, seed=seed, **options)


# -- L1 / L2 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes,acts,loss", CASES)
@pytest.mark.parametrize("l1,l2", [(0.03, 0.0), (0.0, 0.2), (0.01, 0.05)])
def test_penalized_gradients_match_finite_differences(sizes, acts, loss, l1, l2):
    net, X, Y = problem(sizes, acts, loss)
    checks = gradcheck(net, X, Y, loss, h=1e-6, l1=l1, l2=l2)
    assert max(c.rel_error for c in checks) < 1e-7


@pytest.mark.parametrize("sizes,acts,loss", CASES)
def test_penalized_loss_is_data_loss_plus_penalty(sizes, acts, loss):
    net, X, Y = problem(sizes, acts, loss)
    l1, l2 = 0.02, 0.3
    data = net.loss(X, Y, loss)
    pen = net.penalty(l1, l2)
    assert pen == pytest.approx(manual_penalty(net, l1, l2), rel=1e-13)
    assert net.loss(X, Y, loss, l1=l1, l2=l2) == pytest.approx(data + pen, rel=1e-14)
    value, _ = net.loss_and_grads(X, Y, loss, l1=l1, l2=l2)
    assert value == pytest.approx(data + pen, rel=1e-14)
    assert net.penalty() == 0.0 and net.penalty(0.0, 0.0) == 0.0


def test_penalty_gradient_is_l1_sign_plus_l2_w():
    net, X, Y = problem(*CASES[1])
    l1, l2 = 0.05, 0.4
    _, grads = net.loss_and_grads(X, Y, "bce")
    plain = [g.copy() for g in grads]
    _, grads = net.loss_and_grads(X, Y, "bce", l1=l1, l2=l2)
    for i, (g, p) in enumerate(zip(grads, plain)):
        extra = l1 * np.sign(net.params[i]) + l2 * net.params[i] if i % 2 == 0 else 0.0
        np.testing.assert_allclose(g, p + extra, rtol=1e-13, atol=1e-15)


def test_l1_subgradient_at_zero_is_zero():
    net, X, Y = problem(*CASES[0])
    W = net.weights[0]
    W[:, :2] = 0.0
    _, grads = net.loss_and_grads(X, Y, "mse")
    plain = grads[0].copy()
    _, grads = net.loss_and_grads(X, Y, "mse", l1=0.5)
    np.testing.assert_array_equal(grads[0][:, :2], plain[:, :2])  # sign(0) = 0: nothing added
    np.testing.assert_allclose(grads[0][:, 2:], plain[:, 2:] + 0.5 * np.sign(W[:, 2:]), rtol=1e-14)
    assert net.penalty(l1=0.5) == pytest.approx(0.5 * sum(np.abs(w).sum() for w in net.weights))


def test_biases_are_not_penalized():
    net, X, Y = problem(*CASES[2])
    _, grads = net.loss_and_grads(X, Y, "cross_entropy")
    plain = [g.copy() for g in grads[1::2]]
    _, grads = net.loss_and_grads(X, Y, "cross_entropy", l1=0.3, l2=0.7)
    for g, p in zip(grads[1::2], plain):
        np.testing.assert_array_equal(g, p)
    before = net.penalty(0.3, 0.7)
    for b in net.biases:
        b[...] = 100.0
    assert net.penalty(0.3, 0.7) == before


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), True, "0.1", None])
def test_penalty_values_are_validated(bad):
    net, X, Y = problem(*CASES[0])
    for kwargs in ({"l1": bad}, {"l2": bad}):
        with pytest.raises(ValueError, match=r"l[12] must be a finite number >= 0, got"):
            net.loss_and_grads(X, Y, "mse", **kwargs)
        with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(").replace(")", r"\)")):
            check_penalty(**{"l1": 0.0, "l2": 0.0, **kwargs})
    trainer = trainer_for()
    with pytest.raises(ValueError, match="l1"):
        trainer.l1 = bad
    with pytest.raises(ValueError, match="l2"):
        trainer_for(l2=bad)


def test_penalty_in_float32():
    net = Network([2, 4, 1], ["tanh", "linear"], seed=0, dtype=np.float32)
    X = np.random.default_rng(0).normal(size=(5, 2))
    value, grads = net.loss_and_grads(X, np.zeros((5, 1)), "mse", l1=0.1, l2=0.1)
    assert isinstance(value, float) and math.isfinite(value)
    assert all(g.dtype == np.float32 for g in grads)


def test_torch_parity_of_the_penalized_loss():
    torch = import_torch()
    F = torch.nn.functional
    net, X, Y = problem([3, 5, 4, 1], ["tanh", "relu", "sigmoid"], "bce")
    net.weights[0][0, 0] = 0.0  # the L1 kink: torch's abs has gradient 0 there too
    l1, l2 = 0.02, 0.1
    params = [torch.tensor(p, requires_grad=True) for p in net.params]
    a = torch.from_numpy(X)
    a = torch.tanh(a @ params[0] + params[1])
    a = torch.relu(a @ params[2] + params[3])
    z = a @ params[4] + params[5]
    total = F.binary_cross_entropy(torch.sigmoid(z), torch.from_numpy(Y))
    total = total + l1 * sum(W.abs().sum() for W in params[0::2]) + l2 / 2 * sum((W**2).sum() for W in params[0::2])
    total.backward()
    value, grads = net.loss_and_grads(X, Y, "bce", l1=l1, l2=l2)
    assert value == pytest.approx(total.item(), rel=1e-12)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-13)


# -- dropout in the network ------------------------------------------------------------------------


@pytest.mark.parametrize("sizes,acts,loss", CASES + [([3, 5, 4, 2], ["relu", "tanh", "linear"], "mse")])
def test_dropout_gradients_with_a_fixed_mask_match_finite_differences(sizes, acts, loss):
    net, X, Y = problem(sizes, acts, loss)
    masks = net.dropout_masks([0.5, 0.3], len(X), np.random.default_rng(3))
    assert masks[0].min() == 0.0 and masks[0].max() == 2.0  # some dropped, some kept (seeded)
    checks = gradcheck(net, X, Y, loss, h=1e-6, dropout_masks=masks, l2=0.1)
    assert max(c.rel_error for c in checks) < 1e-7
    # the masks change the loss (so the check above really saw them) ...
    assert net.loss(X, Y, loss, dropout_masks=masks) != net.loss(X, Y, loss)
    # ... and a layer without a mask is left alone
    only_second = [None, masks[1]]
    checks = gradcheck(net, X, Y, loss, h=1e-6, dropout_masks=only_second)
    assert max(c.rel_error for c in checks) < 1e-7


def test_masks_of_ones_change_nothing():
    net, X, Y = problem(*CASES[2])
    ones = [np.ones((len(X), 6)), np.ones((len(X), 5))]
    value, grads = net.loss_and_grads(X, Y, "cross_entropy")
    plain = [g.copy() for g in grads]
    masked, grads = net.loss_and_grads(X, Y, "cross_entropy", dropout_masks=ones)
    assert masked == value
    for g, p in zip(grads, plain):
        np.testing.assert_array_equal(g, p)


def test_dropout_masks_drop_at_rate_p_and_keep_the_expected_value():
    """Over many draws, the mean of the masked activations is the unmasked activations, within
    a few standard errors (a kept activation is a / (1 - p): variance a^2 p / (1 - p) per draw)."""
    net = Network([2, 4, 3, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    X = np.random.default_rng(1).normal(size=(5, 2))
    a1 = net.forward_all(X)[0]
    rng = np.random.default_rng(42)
    p, draws = 0.4, 4000
    total = np.zeros_like(a1)
    dropped = 0
    for _ in range(draws):
        mask = net.dropout_masks([p, 0.0], len(X), rng)
        assert mask[1] is None
        total += a1 * mask[0]
        dropped += np.count_nonzero(mask[0] == 0)
    se = np.abs(a1) * math.sqrt(p / (1 - p)) / math.sqrt(draws)
    assert np.all(np.abs(total / draws - a1) <= 5 * se + 1e-12)
    n = draws * a1.size
    assert abs(dropped / n - p) <= 5 * math.sqrt(p * (1 - p) / n)
    assert set(np.unique(mask[0])) <= {0.0, 1 / (1 - p)}


def test_no_masks_when_every_rate_is_zero():
    net = Network([2, 4, 3, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert net.dropout_masks(0.0, 7, rng) is None
    assert net.dropout_masks([0.0, 0.0], 7, rng) is None
    assert rng.bit_generator.state == state  # nothing drawn
    masks = net.dropout_masks(0.5, 7, rng)
    assert [m.shape for m in masks] == [(7, 4), (7, 3)]


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan"), True, [0.1], [0.1, 0.2, 0.3], [0.1, 1.5]])
def test_dropout_rates_are_validated(bad):
    with pytest.raises(ValueError, match="dropout rate"):
        check_dropout(bad, 2)
    with pytest.raises(ValueError, match="dropout rate"):
        trainer_for(dropout=bad)
    trainer = trainer_for()
    with pytest.raises(ValueError, match="dropout rate"):
        trainer.dropout = bad


def test_dropout_masks_are_validated():
    net, X, Y = problem(*CASES[0])
    with pytest.raises(ValueError, match="per hidden layer"):
        net.loss_and_grads(X, Y, "mse", dropout_masks=[None])
    with pytest.raises(ValueError, match="shape"):
        net.loss_and_grads(X, Y, "mse", dropout_masks=[np.ones((len(X), 4)), None])


# -- the trainer ---------------------------------------------------------------------------------------


def test_options_off_are_bit_identical_to_the_default_path():
    for batch_size in ("full", 16):
        plain = trainer_for(batch_size=batch_size)
        off = trainer_for(batch_size=batch_size, l1=0.0, l2=0.0, dropout=0.0)
        off_list = trainer_for(batch_size=batch_size, l1=0, l2=0, dropout=[0.0, 0.0])
        dropout_state = off._dropout_rng.bit_generator.state
        for t in (plain, off, off_list):
            t.run(4)
        np.testing.assert_array_equal(off.net.flat_params, plain.net.flat_params)
        np.testing.assert_array_equal(off_list.net.flat_params, plain.net.flat_params)
        assert [r.train_loss for r in off.history] == [r.train_loss for r in plain.history]
        assert all(r.penalty == 0.0 for r in off.history)
        assert off._dropout_rng.bit_generator.state == dropout_state  # no mask drawn
        assert off.rng_state() == plain.rng_state()


def test_a_training_step_minimizes_the_penalized_loss():
    """A full-batch step is one optimizer step on ``loss_and_grads(..., l1=, l2=)``."""
    t = trainer_for(batch_size="full", optimizer="sgd", lr=0.1, l1=0.01, l2=0.05)
    net = Network(t.net.layer_sizes, t.net.activations, seed=0)
    opt = optimizers.create("sgd", lr=0.1)
    X, Y = t.data.X_train, t.data.Y_train
    records = []
    t.on_step = records.append
    for _ in range(3):
        data = net.loss(X, Y, "bce")
        pen = net.penalty(0.01, 0.05)
        _, grads = net.loss_and_grads(X, Y, "bce", l1=0.01, l2=0.05)
        opt.step(net.params, grads)
        assert t.step() == data  # the step reports the data loss ...
        assert records[-1].loss == data
        assert records[-1].penalty == pytest.approx(pen, rel=1e-14)  # ... with the penalty beside it
    np.testing.assert_allclose(t.net.flat_params, net.flat_params, rtol=1e-13, atol=1e-15)


def test_evaluate_and_epoch_records_report_the_data_loss_and_the_penalty():
    t = trainer_for(l1=0.001, l2=0.01, dropout=0.3)
    t.run(2)
    d = t.data
    record = t.history[-1]
    assert record.train_loss == t.net.loss(d.X_train, d.Y_train, "bce")
    assert record.val_loss == t.net.loss(d.X_val, d.Y_val, "bce")
    assert t.evaluate()["train_loss"] == record.train_loss
    assert record.penalty == t.net.penalty(0.001, 0.01) > 0.0


def test_l2_shrinks_the_weights():
    plain = trainer_for(batch_size="full", optimizer="sgd", lr=0.5)
    decayed = trainer_for(batch_size="full", optimizer="sgd", lr=0.5, l2=0.1)
    sparse = trainer_for(batch_size="full", optimizer="sgd", lr=0.5, l1=0.01)
    for t in (plain, decayed, sparse):
        t.run(60)
    norm = lambda t: sum(float(np.vdot(W, W)) for W in t.net.weights)  # noqa: E731
    l1norm = lambda t: sum(float(np.abs(W).sum()) for W in t.net.weights)  # noqa: E731
    assert norm(decayed) < norm(plain)
    assert l1norm(sparse) < l1norm(plain)


def test_penalty_and_dropout_can_be_changed_between_steps():
    t = trainer_for(batch_size="full", optimizer="sgd", lr=0.1)
    records = []
    t.on_step = records.append
    t.step()
    assert records[-1].penalty == 0.0
    t.l2 = 0.5
    t.dropout = [0.2, 0.0]
    assert t.dropout == (0.2, 0.0)
    state = t._dropout_rng.bit_generator.state
    before = t.net.penalty(0, 0.5)
    t.step()
    assert records[-1].penalty == before > 0.0
    assert t._dropout_rng.bit_generator.state != state  # masks were drawn
    t.l2, t.dropout = 0.0, 0.0
    t.step()
    assert records[-1].penalty == 0.0


def test_dropout_training_is_reproducible_from_the_seed():
    a = trainer_for(batch_size="full", dropout=0.3)
    b = trainer_for(batch_size="full", dropout=0.3)
    other = trainer_for(batch_size="full", dropout=0.3, seed=1, net_seed=0)  # same weights, other masks
    plain = trainer_for(batch_size="full")
    for t in (a, b, other, plain):
        t.run(5)
    np.testing.assert_array_equal(a.net.flat_params, b.net.flat_params)
    assert not np.array_equal(a.net.flat_params, other.net.flat_params)
    assert not np.array_equal(a.net.flat_params, plain.net.flat_params)


def test_dropout_does_not_touch_the_batch_order():
    a = trainer_for(batch_size=16, dropout=[0.5, 0.1])
    b = trainer_for(batch_size=16)
    a.run(3)
    b.run(3)
    assert a.rng_state() == b.rng_state()


def test_dropout_generator_state_round_trips():
    a = trainer_for(batch_size="full", dropout=0.4)
    a.run(2)
    state = a.dropout_rng_state()
    assert json.loads(json.dumps(state)) == state
    drawn = a.net.dropout_masks(a.dropout, 10, a._dropout_rng)
    c = trainer_for(batch_size="full", dropout=0.4, seed=5)
    c.set_dropout_rng_state(state)
    again = c.net.dropout_masks(c.dropout, 10, c._dropout_rng)
    for m, n in zip(drawn, again):
        np.testing.assert_array_equal(m, n)


def test_dropout_is_off_in_evaluation_and_prediction():
    t = trainer_for(dropout=0.5)
    t.run(2)
    X = t.data.X_train
    out = t.net.forward(X)
    np.testing.assert_array_equal(t.net.forward(X), out)  # deterministic
    assert t.evaluate()["train_loss"] == t.net.loss(X, t.data.Y_train, "bce")
    assert t.evaluate() == t.evaluate()
