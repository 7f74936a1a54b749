"""2-D test surfaces: analytic gradients, minima, and the paths the engine's optimizers take."""

import itertools

import numpy as np
import pytest

from tui_trainer.engine import optimizers
from tui_trainer.engine.surfaces import SURFACES, descend, path_result, run_paths

NAMES = list(SURFACES)


def test_registry_has_the_lab_surfaces():
    assert set(NAMES) == {"rosenbrock", "beale", "saddle", "ill_conditioned", "local_minimum"}
    for name, s in SURFACES.items():
        assert s.name == name and s.description
        (x0, x1), (y0, y1) = s.bounds
        assert x0 < s.start[0] < x1 and y0 < s.start[1] < y1
        for m in s.minima:
            assert x0 < m.x < x1 and y0 < m.y < y1


@pytest.mark.parametrize("name", NAMES)
def test_analytic_gradient_matches_central_differences(name):
    s = SURFACES[name]
    (x0, x1), (y0, y1) = s.bounds
    rng = np.random.default_rng(0)
    x, y = rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)  # vectorised: one call for all points
    h = 1e-6
    num_x = (s.f(x + h, y) - s.f(x - h, y)) / (2 * h)
    num_y = (s.f(x, y + h) - s.f(x, y - h)) / (2 * h)
    gx, gy = s.grad(x, y)
    assert gx.shape == gy.shape == s.f(x, y).shape == (50,)
    scale = 1.0 + np.abs(s.f(x, y))
    np.testing.assert_allclose(gx, num_x, rtol=1e-6, atol=1e-6 * scale.max())
    np.testing.assert_allclose(gy, num_y, rtol=1e-6, atol=1e-6 * scale.max())


@pytest.mark.parametrize("name", NAMES)
def test_gradient_vanishes_at_the_minima(name):
    s = SURFACES[name]
    for m in s.minima:
        assert np.allclose(s.grad(m.x, m.y), 0.0, atol=1e-9)
    globals_ = [m for m in s.minima if m.label == "global"]
    assert len(globals_) == (1 if s.minima else 0)
    for m in s.minima:
        assert s.f(m.x, m.y) >= s.f(globals_[0].x, globals_[0].y)


def test_on_local_minimum_sgd_stops_in_the_shallow_well_and_momentum_reaches_the_deep_one():
    s = SURFACES["local_minimum"]
    opts = {
        "sgd": optimizers.create("sgd", lr=s.lr),
        "momentum": optimizers.create("sgd", lr=s.lr, momentum=0.9),
    }
    paths = run_paths(s, opts)
    sgd, heavy = (path_result(s, paths[k], s.steps) for k in ("sgd", "momentum"))
    assert sgd.nearest == "local" and sgd.distance < 0.01 and not sgd.diverged
    assert heavy.nearest == "global" and heavy.distance < 0.01 and not heavy.diverged
    assert heavy.final_value < sgd.final_value


def test_paths_are_the_engine_optimizers_steps():
    s = SURFACES["rosenbrock"]
    paths = run_paths(s, {"adam": optimizers.create("adam", lr=0.05)}, steps=20)
    assert paths["adam"].shape == (21, 2)
    assert tuple(paths["adam"][0]) == s.start
    p, g, opt = np.array(s.start), np.zeros(2), optimizers.create("adam", lr=0.05)
    for point in paths["adam"][1:]:
        g[:] = s.grad(*p)
        opt.step([p], [g])
        assert np.array_equal(point, p)


def test_a_path_that_blows_up_stops_at_its_last_finite_point_and_is_marked_diverged():
    s = SURFACES["rosenbrock"]
    paths = run_paths(s, {"fast": optimizers.create("sgd", lr=1.0), "slow": optimizers.create("sgd", lr=1e-4)},
                      start=(-1.2, 1.0), steps=50)
    fast = path_result(s, paths["fast"], 50)
    assert fast.diverged and fast.steps < 50 and np.isfinite(paths["fast"]).all()
    assert np.isfinite(fast.final_value)
    slow = path_result(s, paths["slow"], 50)
    assert not slow.diverged and slow.steps == 50 and paths["slow"].shape == (51, 2)


def test_saddle_has_no_minimum_so_no_distance():
    s = SURFACES["saddle"]
    r = path_result(s, run_paths(s, {"sgd": optimizers.create("sgd", lr=s.lr)})["sgd"], s.steps)
    assert r.distance is None and r.nearest is None and not r.diverged
    assert abs(r.final_point[1]) > abs(s.start[1])  # it rolls off the saddle along y


def test_descend_yields_copies_step_by_step():
    s = SURFACES["ill_conditioned"]
    points = list(itertools.islice(descend(s, optimizers.create("sgd", lr=s.lr)), 3))
    assert len(points) == 3 and not np.shares_memory(points[0], points[1])
    assert s.f(*points[2]) < s.f(*points[0])


def test_default_learning_rate_depends_on_the_optimizer_family():
    s = SURFACES["rosenbrock"]
    assert s.default_lr("sgd") == s.default_lr("nesterov") == s.lr
    assert s.default_lr("adam") == s.default_lr("rmsprop") == s.adaptive_lr
    with pytest.raises(ValueError, match="unknown optimizer"):
        s.default_lr("lbfgs")
