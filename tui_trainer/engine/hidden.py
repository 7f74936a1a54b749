"""A hidden layer's space in two dimensions: the math of the hidden-space view (NumPy only).

:func:`project_2d` fixes a projection from the activations of the training points: a layer of 2 units
is shown as it is; more units are projected onto their two principal axes (centre, SVD, the first two
right singular vectors), each axis signed so that its largest-magnitude component is positive, so the
picture does not flip between two redraws of nearly the same activations. :func:`project` maps other
activations (the warped input grid) through the same projection; :func:`grid_lines` gives that grid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grid_lines", "project", "project_2d", "variance_share"]


def project_2d(activations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(coords, basis, mean)`` for activations of shape ``(n_points, n_units)``.

    ``coords`` is ``(n_points, 2)`` and equals ``(activations - mean) @ basis``... except that a layer of
    at most 2 units is shown directly: ``basis`` is the identity (a single unit: its value on x, 0 on y)
    and ``mean`` zero, so the axes are the units' own values. With more units, ``mean`` is the
    activations' mean and ``basis`` ``(n_units, 2)`` holds the first two principal axes (a column of
    zeros where the points span fewer than two directions).
    """
    A = np.asarray(activations, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"activations must be 2-D (points x units), not of shape {A.shape}")
    k = A.shape[1]
    if k <= 2:
        basis = np.eye(k, 2)
        mean = np.zeros(k)
        return A @ basis, basis, mean
    mean = A.mean(axis=0) if len(A) else np.zeros(k)
    basis = np.zeros((k, 2))
    if len(A) >= 2:
        _, s, Vt = np.linalg.svd(A - mean, full_matrices=False)
        for j in range(min(2, len(Vt))):
            if s[j] <= s[0] * 1e-12 or s[j] == 0:
                break  # no spread along this axis: its direction is noise
            v = Vt[j]
            if v[np.argmax(np.abs(v))] < 0:
                v = -v
            basis[:, j] = v
    return (A - mean) @ basis, basis, mean


def project(activations, basis: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Other activations of the same layer through the projection :func:`project_2d` fixed."""
    return (np.asarray(activations, dtype=np.float64) - mean) @ basis


def variance_share(activations, basis: np.ndarray, mean: np.ndarray) -> float:
    """The share of the activations' spread (sum of squared distances from ``mean``) that the two
    axes hold: 1.0 when nothing is lost (2 units or fewer, or points in a plane)."""
    A = np.asarray(activations, dtype=np.float64) - mean
    total = float((A * A).sum())
    if total <= 0:
        return 1.0
    P = A @ basis
    return min(1.0, float((P * P).sum()) / total)


def grid_lines(bounds, n_lines: int, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines of the input plane over ``bounds = (x0, x1, y0, y1)``: ``n_lines`` of constant x1 and
    ``n_lines`` of constant x2, each ``n_points`` points long, as two arrays ``(n_lines, n_points, 2)``."""
    x0, x1, y0, y1 = bounds
    xs = np.linspace(x0, x1, n_lines)
    ys = np.linspace(y0, y1, n_lines)
    ts_x = np.linspace(x0, x1, n_points)
    ts_y = np.linspace(y0, y1, n_points)
    const_x = np.empty((n_lines, n_points, 2))
    const_x[:, :, 0] = xs[:, None]
    const_x[:, :, 1] = ts_y[None, :]
    const_y = np.empty((n_lines, n_points, 2))
    const_y[:, :, 0] = ts_x[None, :]
    const_y[:, :, 1] = ys[:, None]
    return const_x, const_y
