"""Memory-bounded loss histories and downsampling for plots.

Pure Python and NumPy: no UI imports. The training thread appends every step; the UI asks for copies.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DownsampledSeries", "thin"]


_EMPTY_BUCKET = (0.0, 0.0, 0, 0)  # (latest x, sum of finite y, finite count, all appends)


class DownsampledSeries:
    """A bounded record of a long (x, y) series, e.g. the training loss at every step.

    Each stored point is the mean of a bucket of consecutive appends, placed at the bucket's last x.
    Buckets start one append wide; when ``capacity`` points are stored, neighbouring pairs merge and the
    bucket width doubles, so memory stays bounded and the whole history stays represented at even
    resolution. Non-finite y values (a diverging run) are left out of the means but counted in
    ``n_nonfinite``; a bucket with nothing finite in it reads as NaN.

    One thread appends (and clears); any thread may call :meth:`arrays`. ``append`` takes well under a
    microsecond: it touches only Python scalars and lists, and takes no lock.
    """

    n_nonfinite: int
    """How many appended y values were NaN or infinite (left out of the means)."""

    def __init__(self, capacity: int = 4096) -> None:
        if not isinstance(capacity, int) or capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even integer >= 2, got {capacity!r}")
        self.capacity = capacity
        """The most points kept (finished buckets plus the one being filled)."""
        self.clear()

    def clear(self) -> None:
        """Forget everything, back to one append per point."""
        cap = self.capacity
        self._bucket = _EMPTY_BUCKET
        # Finished buckets: (x, sum of finite y, finite count, how many are filled). The writer only fills
        # slots past the published count and swaps in new lists when it merges, so a reader that takes
        # this tuple once sees a consistent history without a lock.
        self._store: tuple[list[float], list[float], list[int], int] = ([0.0] * cap, [0.0] * cap, [0] * cap, 0)
        self._width = 1
        self._total = 0  # appends in finished buckets
        self._last: float | None = None
        self.n_nonfinite = 0

    def append(self, x: float, y: float) -> None:
        """Record y at x (x should not decrease)."""
        _, s, c, raw = self._bucket
        if y - y == 0.0:  # finite: NaN - NaN and inf - inf are NaN
            s += y
            c += 1
        else:
            self.n_nonfinite += 1
        self._last = y
        raw += 1
        if raw < self._width:
            self._bucket = (x, s, c, raw)
        else:
            self._finish_bucket(x, s, c, raw)

    def _finish_bucket(self, x: float, s: float, c: int, raw: int) -> None:
        xs, ss, cs, n = self._store
        xs[n] = x
        ss[n] = s
        cs[n] = c
        n += 1
        self._total += raw
        if n == self.capacity:
            half = n // 2
            pad_f, pad_i = [0.0] * half, [0] * half
            xs = xs[1::2] + pad_f
            ss = [a + b for a, b in zip(ss[0::2], ss[1::2])] + pad_f
            cs = [a + b for a, b in zip(cs[0::2], cs[1::2])] + pad_i
            n = half
            self._width *= 2
        # Empty the bucket before publishing, so a reader never counts these appends twice.
        self._bucket = _EMPTY_BUCKET
        self._store = (xs, ss, cs, n)

    def state(self) -> dict[str, np.ndarray]:
        """Everything the series holds, as arrays (for a model file); ``restore`` takes it back."""
        (xs, ss, cs, n), (bx, bs, bc, braw) = self._snapshot()
        last = self._last
        return {
            "x": np.array(xs[:n], dtype=np.float64),
            "sum": np.array(ss[:n], dtype=np.float64),
            "count": np.array(cs[:n], dtype=np.int64),
            "tail": np.array([bx, bs, bc, braw, self._width, self._total, self.n_nonfinite,
                              np.nan if last is None else last, last is not None], dtype=np.float64),
        }

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Take back what ``state`` gave; ``ValueError`` (and the series unchanged) if it does not fit."""
        x, s, c, tail = (np.asarray(state[k]) for k in ("x", "sum", "count", "tail"))
        n = len(x)
        if not (x.ndim == s.ndim == c.ndim == 1 and len(s) == len(c) == n < self.capacity and tail.shape == (9,)):
            raise ValueError("the saved loss history does not fit")
        bx, bs, bc, braw, width, total, nonfinite, last, has_last = (float(v) for v in tail)
        counts = [int(v) for v in c]
        if not (np.isfinite([bx, bs, bc, braw, width, total, nonfinite]).all() and min(counts, default=0) >= 0
                and width >= 1 and 0 <= braw < width and 0 <= bc <= braw and total >= 0 and nonfinite >= 0):
            raise ValueError("the saved loss history does not fit")
        cap = self.capacity
        self._store = (
            [float(v) for v in x] + [0.0] * (cap - n), [float(v) for v in s] + [0.0] * (cap - n),
            counts + [0] * (cap - n), n,
        )
        self._bucket = (bx, bs, int(bc), int(braw))
        self._width, self._total, self.n_nonfinite = int(width), int(total), int(nonfinite)
        self._last = last if has_last else None

    def _snapshot(self) -> tuple[tuple, tuple]:
        while True:
            store = self._store
            bucket = self._bucket
            if self._store is store:
                return store, bucket

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (x, y) for every point, the partly filled bucket last; y is NaN where nothing was finite."""
        (xs, ss, cs, n), (bx, bs, bc, braw) = self._snapshot()
        x, s, c = xs[:n], ss[:n], cs[:n]
        if braw:
            x.append(bx)
            s.append(bs)
            c.append(bc)
        x_arr = np.array(x, dtype=np.float64)
        c_arr = np.array(c, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            y_arr = np.array(s, dtype=np.float64) / c_arr
        y_arr[c_arr == 0] = np.nan
        return x_arr, y_arr

    @property
    def last(self) -> float | None:
        """The latest raw y appended (NaN or inf included), or None when empty."""
        return self._last

    @property
    def count(self) -> int:
        """How many values were appended in all (unbounded)."""
        return self._total + self._bucket[3]

    @property
    def bucket_width(self) -> int:
        """How many appends each finished point now averages."""
        return self._width

    def __len__(self) -> int:
        """The number of points :meth:`arrays` returns (at most ``capacity``)."""
        (_, _, _, n), bucket = self._snapshot()
        return n + (bucket[3] > 0)

    def __repr__(self) -> str:
        return (f"DownsampledSeries(points={len(self)}, count={self.count}, "
                f"bucket_width={self._width}, capacity={self.capacity})")


def thin(x: np.ndarray, y: np.ndarray, max_points: int, *, keep_peak: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Downsample (x, y) to at most ``max_points`` by averaging runs of neighbouring points.

    Each output point is the mean x and the mean finite y of its run (NaN when the run has no finite y).
    ``keep_peak``: the run holding the largest finite y gives that point itself instead, so that a
    spike (a divergence) keeps its height. Arrays already short enough come back as float copies.
    Vectorised: ~0.5 ms for 100k points.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and the same length, got shapes {x.shape} and {y.shape}")
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points!r}")
    n = len(x)
    if n <= max_points:
        return x.copy(), y.copy()
    starts = (np.arange(max_points, dtype=np.int64) * n) // max_points  # strictly increasing as n > max_points
    sizes = np.diff(np.append(starts, n))
    finite = np.isfinite(y)
    y_sum = np.add.reduceat(np.where(finite, y, 0.0), starts)
    y_count = np.add.reduceat(finite.astype(np.int64), starts)
    x_mean = np.add.reduceat(x, starts) / sizes
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = y_sum / y_count
    y_mean[y_count == 0] = np.nan
    if keep_peak and finite.any():
        peak = int(np.argmax(np.where(finite, y, -np.inf)))
        run = int(np.searchsorted(starts, peak, side="right")) - 1
        x_mean[run], y_mean[run] = x[peak], y[peak]
    return x_mean, y_mean
