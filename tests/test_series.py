"""DownsampledSeries (bounded history of a long series) and thin() (downsampling for plots)."""

import math
import threading

import numpy as np
import pytest

from tui_trainer.experiments.series import DownsampledSeries, thin


def test_empty():
    s = DownsampledSeries()
    x, y = s.arrays()
    assert len(s) == 0 and s.count == 0 and s.last is None
    assert x.shape == y.shape == (0,)


@pytest.mark.parametrize("capacity", [0, 1, 3, 7, -2, 2.0])
def test_capacity_must_be_even_int(capacity):
    with pytest.raises(ValueError, match="capacity"):
        DownsampledSeries(capacity)


def test_one_point_per_append_until_full():
    s = DownsampledSeries(capacity=8)
    for i in range(7):
        s.append(i, 10.0 * i)
    x, y = s.arrays()
    np.testing.assert_array_equal(x, np.arange(7))
    np.testing.assert_array_equal(y, 10.0 * np.arange(7))
    assert s.bucket_width == 1 and s.last == 60.0


def test_bounded_however_many_appends():
    """300,000 appends into 4,096 points: the whole history kept at an even resolution.
    (The cost of an append is measured in benchmarks, not here.)"""
    s = DownsampledSeries()  # capacity 4096
    n = 300_000
    for i, y in enumerate((1.0 / (1.0 + np.arange(n) / 1000.0)).tolist()):
        s.append(i, y)
    assert len(s) <= s.capacity
    assert s.count == n
    x, y = s.arrays()
    assert len(x) == len(s) and x[0] >= 0 and x[-1] == n - 1  # the whole history, up to the last step
    assert s.bucket_width == 128  # 4096 points of 64 appends hold 262,144: the next width holds 300,000


def test_means_are_preserved_through_merges():
    rng = np.random.default_rng(0)
    cap, n = 16, 1000
    ys = rng.normal(size=n)
    s = DownsampledSeries(capacity=cap)
    for i, y in enumerate(ys):
        s.append(i, y)
    x, y = s.arrays()
    w = s.bucket_width
    full = (n // w) * w
    # Every finished point is the mean of `w` consecutive appends, placed at the bucket's last x.
    np.testing.assert_allclose(y[: n // w], ys[:full].reshape(-1, w).mean(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(x[: n // w], np.arange(w - 1, full, w))
    # The partly filled bucket comes last, as the mean of what it has so far.
    assert len(x) == n // w + (n % w > 0)
    np.testing.assert_allclose(y[-1], ys[full:].mean())
    assert x[-1] == n - 1
    # Weighted by bucket sizes, the points give the overall mean back.
    sizes = np.array([w] * (n // w) + [n - full])
    np.testing.assert_allclose(np.sum(y * sizes) / n, ys.mean(), rtol=1e-12)


def test_x_is_increasing():
    s = DownsampledSeries(capacity=64)
    for i in range(12345):
        s.append(float(i), math.sin(i))
        if i % 997 == 0:
            x, _ = s.arrays()
            assert np.all(np.diff(x) > 0)
    x, _ = s.arrays()
    assert np.all(np.diff(x) > 0)


def test_nonfinite_values_are_skipped_and_counted():
    s = DownsampledSeries(capacity=4)
    s.append(0, 1.0)
    s.append(1, float("nan"))  # bucket width is 1: this point is NaN
    s.append(2, 3.0)
    s.append(3, float("inf"))  # a fourth point: merge to width 2
    x, y = s.arrays()
    assert s.n_nonfinite == 2
    np.testing.assert_array_equal(x, [1, 3])
    np.testing.assert_array_equal(y, [1.0, 3.0])  # means of the finite values only
    s.append(4, float("-inf"))
    s.append(5, float("nan"))  # a bucket with nothing finite reads NaN
    x, y = s.arrays()
    assert x[-1] == 5 and math.isnan(y[-1]) and s.n_nonfinite == 4
    assert math.isnan(s.last)


def test_partial_bucket_and_clear():
    s = DownsampledSeries(capacity=4)
    for i in range(5):
        s.append(i, float(i))  # 4 points -> merged to 2 of width 2, then one half-full bucket
    x, y = s.arrays()
    np.testing.assert_array_equal(x, [1, 3, 4])
    np.testing.assert_array_equal(y, [0.5, 2.5, 4.0])
    assert len(s) == 3 and s.count == 5
    s.clear()
    assert len(s) == 0 and s.count == 0 and s.bucket_width == 1 and s.last is None and s.n_nonfinite == 0
    s.append(7, 2.0)
    np.testing.assert_array_equal(s.arrays()[1], [2.0])


def test_arrays_are_copies():
    s = DownsampledSeries(capacity=8)
    for i in range(5):
        s.append(i, 1.0)
    x, y = s.arrays()
    x[:] = -1
    y[:] = -1
    x2, y2 = s.arrays()
    assert x2[0] == 0 and y2[0] == 1.0


def test_reader_thread_sees_consistent_snapshots():
    """One thread appends while another reads: every snapshot is increasing in x and every mean exact."""
    s = DownsampledSeries(capacity=64)
    n = 300_000
    done = threading.Event()

    def writer():
        for i in range(n):
            s.append(i, 1.0)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    snapshots = 0
    while not done.is_set() or snapshots == 0:
        x, y = s.arrays()
        if len(x):
            assert np.all(np.diff(x) > 0), "a point appeared twice or out of order"
            assert np.all(y == 1.0), "a torn bucket"
        snapshots += 1
    t.join()
    assert snapshots > 1 and s.count == n


def test_thin_short_arrays_come_back_as_copies():
    x = np.arange(5.0)
    y = np.ones(5)
    tx, ty = thin(x, y, 10)
    np.testing.assert_array_equal(tx, x)
    assert tx is not x and ty is not y


def test_thin_means_and_bound():
    n = 100_003
    x = np.arange(n, dtype=float)
    y = np.sin(x / 1000.0)
    tx, ty = thin(x, y, 200)
    assert len(tx) == len(ty) == 200
    assert np.all(np.diff(tx) > 0)
    # Each point is the mean of a run of about n/200 neighbours, so the sums agree.
    sizes = np.diff(np.append((np.arange(200) * n) // 200, n))
    assert sizes.min() >= n // 200 and sizes.max() <= n // 200 + 1
    np.testing.assert_allclose(np.sum(ty * sizes), y.sum(), rtol=1e-9)
    np.testing.assert_allclose(ty[0], y[: sizes[0]].mean())
    np.testing.assert_allclose(tx[-1], x[-sizes[-1]:].mean())


def test_thin_skips_nonfinite():
    x = np.arange(8.0)
    y = np.array([1.0, np.nan, 3.0, np.inf, np.nan, np.nan, 5.0, 7.0])
    tx, ty = thin(x, y, 4)
    np.testing.assert_array_equal(tx, [0.5, 2.5, 4.5, 6.5])
    assert ty[0] == 1.0 and ty[1] == 3.0 and math.isnan(ty[2]) and ty[3] == 6.0


def test_thin_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        thin(np.arange(3.0), np.arange(4.0), 2)
    with pytest.raises(ValueError, match="max_points"):
        thin(np.arange(3.0), np.arange(3.0), 0)
