"""The 1-D slice of the loss through one weight (engine/slices.py): its tangent's slope is
backprop's dL/dw and matches a finite difference of the slice; the others stay fixed."""

from __future__ import annotations

import numpy as np
import pytest

from tui_trainer.engine.network import Network
from tui_trainer.engine.slices import loss_at, loss_slice, weight_name


def setup(seed=0):
    rng = np.random.default_rng(seed)
    net = Network([2, 4, 3], ["tanh", "softmax"], seed=seed)
    X = rng.normal(size=(16, 2))
    Y = np.eye(3)[rng.integers(0, 3, 16)]
    return net, X, Y


@pytest.mark.parametrize("param_index,index", [(0, (1, 2)), (1, (3,)), (2, (0, 1)), (3, (2,))])
def test_tangent_slope_is_backprop_and_a_finite_difference_of_the_slice(param_index, index):
    net, X, Y = setup()
    before = [p.copy() for p in net.params]
    sl = loss_slice(net, X, Y, "cross_entropy", param_index, index)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params))  # put back exactly
    _, grads = net.loss_and_grads(X, Y, "cross_entropy")
    assert sl.slope == grads[param_index][index]
    h = 1e-5
    fd = (loss_at(net, X, Y, "cross_entropy", param_index, index, sl.w0 + h)
          - loss_at(net, X, Y, "cross_entropy", param_index, index, sl.w0 - h)) / (2 * h)
    assert sl.slope == pytest.approx(fd, rel=1e-6, abs=1e-10)
    assert sl.numeric == pytest.approx(fd, rel=1e-6, abs=1e-10)
    # the slice: the loss with that one weight changed and the others held fixed
    assert sl.losses[len(sl.ws) // 2] == sl.loss0 == net.loss(X, Y, "cross_entropy") and sl.ws[len(sl.ws) // 2] == sl.w0
    k = 3
    other = Network(net.layer_sizes, net.activations)
    other.set_parameters(net.params)
    other.params[param_index][index] = sl.ws[k]
    assert sl.losses[k] == other.loss(X, Y, "cross_entropy")
    assert np.all(np.diff(sl.ws) > 0) and sl.ws[0] == pytest.approx(sl.w0 - max(1, abs(sl.w0)))
    # the tangent touches the curve at w0 and lies on the slope
    assert sl.tangent(sl.w0) == sl.loss0
    assert sl.tangent(sl.w0 + 2) - sl.tangent(sl.w0) == pytest.approx(2 * sl.slope)


def test_names():
    assert weight_name(0, (0, 3)) == "W1[0, 3]" and weight_name(3, (1,)) == "b2[1]"
    net, X, Y = setup()
    assert loss_slice(net, X, Y, "cross_entropy", 2, (1, 0)).name == "W2[1, 0]"
