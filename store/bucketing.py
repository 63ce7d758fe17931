"""Bucketing a curve to a chart's width: min, max and last point of equal-width x buckets.

``store.smoothing.smooth_bucket`` does the same with smoothing computed only
at the points the buckets report.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Buckets(NamedTuple):
    """Bucketed arrays, one entry per non-empty bucket (see ``models.Series``)."""

    x: np.ndarray
    y: np.ndarray
    raw: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def bucket(
    x: np.ndarray,
    y: np.ndarray,
    raw: np.ndarray,
    n: int,
    x_range: tuple[float, float] | None = None,
) -> Buckets:
    """Cut sorted ``x`` into ``n`` equal-width buckets keeping min, max and last.

    Each non-empty bucket yields the x, smoothed y and raw value of its last
    finite point, and the min and max of its finite raw values. A bucket whose
    points are all non-finite yields NaN everywhere (a gap); empty buckets
    yield nothing, so sparse curves stay connected. With ``n`` or fewer points
    every point is its own bucket.

    Args:
        x: x values, nondecreasing.
        y: smoothed values (NaN where raw is not finite).
        raw: raw values.
        n: bucket count (>= 1).
        x_range: only points with ``lo <= x <= hi``; buckets span this range.
    """
    if x_range is not None:
        lo_x, hi_x = x_range
        keep = (x >= lo_x) & (x <= hi_x)
        if not keep.all():
            x, y, raw = x[keep], y[keep], raw[keep]
    m = len(x)
    if m == 0:
        e = np.empty(0)
        return Buckets(e, e, e, e, e)
    fin = np.isfinite(raw)
    if m <= n:
        xs = np.where(fin, x, np.nan).astype(np.float64)
        r = np.where(fin, raw, np.nan)
        return Buckets(xs, np.where(fin, y, np.nan), r, r.copy(), r.copy())
    a = float(x_range[0]) if x_range is not None else float(x[0])
    b = float(x_range[1]) if x_range is not None else float(x[-1])
    if not b > a:
        idx = np.zeros(m, dtype=np.int64)
    else:
        idx = np.minimum(((x - a) / (b - a) * n).astype(np.int64), n - 1)
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    ends = np.concatenate((starts[1:], [m]))
    # Last finite point of each bucket: the running index of finite points.
    pos = np.where(fin, np.arange(m), -1)
    last_fin = np.maximum.accumulate(pos)[ends - 1]
    has = last_fin >= starts
    li = np.where(has, last_fin, 0)
    lo_v = np.fmin.reduceat(np.where(fin, raw, np.nan), starts)
    hi_v = np.fmax.reduceat(np.where(fin, raw, np.nan), starts)
    nan = np.nan
    return Buckets(
        np.where(has, x[li], nan).astype(np.float64),
        np.where(has, y[li], nan),
        np.where(has, raw[li], nan),
        np.where(has, lo_v, nan),
        np.where(has, hi_v, nan),
    )


def bucket_starts(x: np.ndarray, a: float, b: float, n: int) -> np.ndarray:
    """First index of each non-empty bucket of sorted ``x`` (all ``>= a``) in ``[a, b]``.

    The bucket of a point is ``min(int((x - a) / (b - a) * n), n - 1)``, as in
    :func:`bucket`. That is nondecreasing along sorted ``x``, so each bucket's
    first point is found by a binary search for all buckets at once, which
    evaluates the formula on about ``n * log2(len(x))`` points instead of all.
    """
    m = len(x)
    if not b > a:
        return np.zeros(1, dtype=np.int64)
    k = np.arange(1, n, dtype=np.int64)
    lo = _guessed_starts(x, a, b, n, k)
    if lo is not None:
        first = np.concatenate(([0], lo))
        nxt = np.concatenate((lo, [m]))
        return first[first < nxt]
    lo = np.zeros(n - 1, dtype=np.int64)  # the answer lies in [lo, hi]
    hi = np.full(n - 1, m, dtype=np.int64)
    while True:
        open_ = lo < hi
        if not open_.any():
            break
        mid = (lo + hi) // 2
        xm = x[np.minimum(mid, m - 1)]
        bm = np.minimum(((xm - a) / (b - a) * n).astype(np.int64), n - 1)
        right = open_ & (bm >= k)  # mid is in bucket k or later: answer <= mid
        left = open_ & ~right
        hi = np.where(right, mid, hi)
        lo = np.where(left, mid + 1, lo)
    first = np.concatenate(([0], lo))  # first index with bucket >= k, k = 0..n-1
    nxt = np.concatenate((lo, [m]))
    return first[first < nxt]


def _guessed_starts(x: np.ndarray, a: float, b: float, n: int, k: np.ndarray) -> np.ndarray | None:
    """The first index of bucket ``k`` or later, for each ``k``, when one search finds them all.

    Each bucket's lower edge is looked up in ``x`` (one ``searchsorted``),
    and the answer checked with the bucket formula on both sides of it: the
    formula is nondecreasing along sorted ``x``, so an index whose point is in
    bucket ``k`` or later while the point before it is not is the answer.
    None when rounding puts any edge elsewhere (the binary search then decides).
    """
    m = len(x)
    edges = a + k * ((b - a) / n)
    if x.dtype.kind in "iu":
        # For integers, x >= edge exactly when x >= ceil(edge): no float copy of x.
        if not (np.isfinite(edges).all() and abs(edges).max(initial=0) < 2.0**62):
            return None
        edges = np.ceil(edges).astype(x.dtype)
    c = np.searchsorted(x, edges, side="left").astype(np.int64)

    def bucket_at(i: np.ndarray) -> np.ndarray:
        return np.minimum(((x[i] - a) / (b - a) * n).astype(np.int64), n - 1)

    at = np.minimum(c, m - 1)
    before = np.maximum(c - 1, 0)
    ok = ((c == m) | (bucket_at(at) >= k)) & ((c == 0) | (bucket_at(before) < k))
    return c if bool(ok.all()) else None
