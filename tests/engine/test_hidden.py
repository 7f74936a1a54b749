"""The hidden-space projection: principal axes by hand, the sign convention, 2 units directly."""

import numpy as np
import pytest

from tui_trainer.engine import hidden


def test_principal_axes_of_a_known_matrix():
    # points spread 3 along e3, 1 along e1, none along e2, around the mean (1, 2, 3)
    base = np.array([[0, 0, 3], [0, 0, -3], [1, 0, 0], [-1, 0, 0]], dtype=float)
    A = base + [1, 2, 3]
    coords, basis, mean = hidden.project_2d(A)
    np.testing.assert_allclose(mean, [1, 2, 3])
    np.testing.assert_allclose(basis, [[0, 1], [0, 0], [1, 0]], atol=1e-12)
    np.testing.assert_allclose(coords, [[3, 0], [-3, 0], [0, 1], [0, -1]], atol=1e-12)
    assert hidden.variance_share(A, basis, mean) == pytest.approx(1.0)


def test_sign_convention_does_not_flip():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 5)) * [5, 3, 1, 0.5, 0.1]
    _, basis, _ = hidden.project_2d(A)
    _, basis_neg, _ = hidden.project_2d(-A)  # the same axes up to sign: the convention picks one
    np.testing.assert_allclose(basis, basis_neg, atol=1e-10)
    for j in range(2):
        v = basis[:, j]
        assert v[np.argmax(np.abs(v))] > 0
    # a tiny change keeps the picture
    _, basis2, _ = hidden.project_2d(A + 1e-9 * rng.normal(size=A.shape))
    np.testing.assert_allclose(basis, basis2, atol=1e-6)


def test_a_diagonal_axis_by_hand():
    # points on the line x = y = z scaled by t: the first axis is (1, 1, 1) / sqrt 3
    t = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    A = np.outer(t, [1, 1, 1])
    coords, basis, mean = hidden.project_2d(A)
    np.testing.assert_allclose(basis[:, 0], np.ones(3) / np.sqrt(3))
    np.testing.assert_allclose(basis[:, 1], 0)  # no second direction
    np.testing.assert_allclose(coords[:, 0], t * np.sqrt(3))
    np.testing.assert_allclose(coords[:, 1], 0)


def test_two_units_are_shown_directly():
    A = np.array([[1.0, -2.0], [3.0, 4.0], [-5.0, 0.5]])
    coords, basis, mean = hidden.project_2d(A)
    np.testing.assert_array_equal(coords, A)
    np.testing.assert_array_equal(basis, np.eye(2))
    np.testing.assert_array_equal(mean, 0)
    one, _, _ = hidden.project_2d(A[:, :1])
    np.testing.assert_array_equal(one, [[1, 0], [3, 0], [-5, 0]])


def test_project_uses_the_fixed_projection():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(30, 4))
    coords, basis, mean = hidden.project_2d(A)
    np.testing.assert_allclose(hidden.project(A, basis, mean), coords)
    B = rng.normal(size=(7, 4))
    np.testing.assert_allclose(hidden.project(B, basis, mean), (B - A.mean(0)) @ basis)


def test_few_points_and_bad_shapes():
    coords, basis, _ = hidden.project_2d(np.ones((1, 4)))
    assert coords.shape == (1, 2) and np.all(basis == 0)
    coords, _, _ = hidden.project_2d(np.empty((0, 5)))
    assert coords.shape == (0, 2)
    with pytest.raises(ValueError):
        hidden.project_2d(np.ones(3))


def test_grid_lines():
    cx, cy = hidden.grid_lines((0, 2, -1, 1), 3, 5)
    assert cx.shape == cy.shape == (3, 5, 2)
    np.testing.assert_allclose(cx[:, 0, 0], [0, 1, 2])  # constant x1 along each line
    np.testing.assert_allclose(cx[1, :, 1], np.linspace(-1, 1, 5))
    np.testing.assert_allclose(cy[:, 0, 1], [-1, 0, 1])
    np.testing.assert_allclose(cy[2, :, 0], np.linspace(0, 2, 5))
