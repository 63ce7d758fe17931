"""Curve smoothing on full-resolution data, and smoothing fused with bucketing for a chart.

Two smoothers, both debiased exponential moving averages, vectorised with
NumPy (a Python loop over a million points per curve would take seconds):

* ``twema``: W&B's default, time-weighted: the weight of the previous value
  decays with the distance along x, scaled to the series' x range, so that
  curves with different point densities smooth alike.
  ``w = min(sqrt(strength), 0.999)``; for each point
  ``a = w ** ((x[i] - x[i-1]) / (x[-1] - x[0]) * 1000)``,
  ``L = a * L + y``, ``D = a * D + 1``, smoothed ``L / D``.
* ``ema``: TensorBoard's: ``last = w * last + (1 - w) * y``, smoothed
  ``last / (1 - w ** n)`` with ``w = strength``; the same recurrence as above
  with a constant ``a = w``.

Non-finite values (NaN, ±inf) are left out of the arithmetic: the smoother
runs over the finite points only and the others come back as NaN.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from trackui.store.bucketing import Buckets, bucket, bucket_starts
from trackui.store.layout import SMOOTH_NONE, SMOOTH_TWEMA, SMOOTHERS

__all__ = ["Buckets", "bucket", "ema", "smooth", "smooth_at", "smooth_bucket", "twema"]

VIEWPORT_SCALE = 1000.0
"""TWEMA's x scale: the x range counts as this many unit steps."""
_BLOCK = 300.0
"""Largest log-weight span handled in one vectorised block (keeps exp() in range)."""


def _weighted_ema(y: np.ndarray, log_a: np.ndarray) -> np.ndarray:
    """``L[i] = a[i] * L[i-1] + y[i]``, ``D[i] = a[i] * D[i-1] + 1``; returns ``L / D``.

    ``log_a[i] <= 0`` is the log of the decay applied before adding ``y[i]``
    (``log_a[0]`` is unused). Solved in blocks with cumulative sums: within a
    block the weights span at most ``exp(_BLOCK)``, so nothing overflows.
    """
    n = len(y)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    c = np.cumsum(np.concatenate(([0.0], log_a[1:])))  # c[i] = log prod_{k<=i} a_k
    L = D = 0.0
    s = 0
    while s < n:
        # The block [s, e): every c[i] - c[s] >= -_BLOCK.
        e = int(np.searchsorted(-c, -c[s] + _BLOCK, side="right"))
        e = max(e, s + 1)
        rel = c[s:e] - c[s]  # <= 0
        carry = math.exp(float(log_a[s])) if s > 0 else 0.0
        w_in = np.exp(-rel)
        w_out = np.exp(rel)
        Ls = w_out * (carry * L + np.cumsum(y[s:e] * w_in))
        Ds = w_out * (carry * D + np.cumsum(w_in))
        out[s:e] = Ls / Ds
        L, D = float(Ls[-1]), float(Ds[-1])
        s = e
    return out


def twema(x: np.ndarray, y: np.ndarray, strength: float) -> np.ndarray:
    """W&B's time-weighted EMA of finite ``y`` over nondecreasing ``x``."""
    w = min(math.sqrt(max(strength, 0.0)), 0.999)
    if len(y) == 0 or w == 0.0:
        return y.astype(np.float64, copy=True)
    span = float(x[-1] - x[0]) if len(x) else 0.0
    dx = np.diff(x, prepend=x[:1]).astype(np.float64)
    change = dx / span * VIEWPORT_SCALE if span > 0 else np.zeros_like(dx)
    return _weighted_ema(y.astype(np.float64), change * math.log(w))


def ema(y: np.ndarray, strength: float) -> np.ndarray:
    """TensorBoard's debiased EMA of finite ``y``."""
    w = min(max(strength, 0.0), 0.999999)
    if len(y) == 0 or w == 0.0:
        return y.astype(np.float64, copy=True)
    return _weighted_ema(y.astype(np.float64), np.full(len(y), math.log(w)))


def smooth(x: np.ndarray, y: np.ndarray, kind: str, strength: float) -> np.ndarray:
    """Smooth ``y`` (over ``x``, sorted) with ``kind``; non-finite points come back NaN.

    Raises:
        ValueError: ``kind`` is not one of :data:`SMOOTHERS`.
    """
    if kind not in SMOOTHERS:
        raise ValueError(f"smoothing: unknown kind {kind!r} (one of {', '.join(SMOOTHERS)})")
    out = np.full(len(y), np.nan)
    ok = np.isfinite(y)
    if kind == SMOOTH_NONE:
        out[ok] = y[ok]
        return out
    if kind == SMOOTH_TWEMA:
        out[ok] = twema(x[ok], y[ok], strength)
    else:
        out[ok] = ema(y[ok], strength)
    return out


_UNDERFLOW = -700.0
"""Log-weights below this (weights under 1e-304) add nothing a float64 sum can keep."""
_GEOMETRIC_MAX_SEGMENTS = 4096
"""Above this many segments the per-point form is faster than a dot product per segment."""
_SHORT_SEGMENTS = 64
"""Up to this many points per segment on average, segments are summed in one pass."""
_FEW_LENGTHS = 8
"""Up to this many distinct segment lengths, segments of each length are summed as one matrix."""


def _even_spacing(x: np.ndarray) -> float | None:
    """The common difference of ``x`` when its points are evenly spaced, else None."""
    m = len(x)
    if m < 2:
        return 0.0
    d = x[1] - x[0]
    # O(1) rejection first.
    if d < 0 or x[-1] - x[0] != d * (m - 1):
        return None
    # Increasing integers spanning m - 1 are consecutive: a comparison per
    # point suffices (steps, the common case).
    consecutive = d == 1 and x.dtype.kind in "iu"
    # Block by block: no million-point temporary, and uneven x stops early.
    blk = 1 << 16
    buf = np.empty(min(blk, m - 1), dtype=x.dtype)
    for s in range(0, m - 1, blk):
        e = min(s + blk, m - 1)
        if consecutive:
            ok = bool((x[s + 1 : e + 1] > x[s:e]).all())
        else:
            part = np.subtract(x[s + 1 : e + 1], x[s:e], out=buf[: e - s])
            ok = bool((part == d).all())
        if not ok:
            return None
    return float(d)


class _Plan(NamedTuple):
    """What :func:`_geometric_at` needs of one decay and one set of segments, but the values."""

    starts: np.ndarray
    """Each segment's first point."""
    weights: np.ndarray | None
    """Each point's weight at its segment's end (None: summed with ``_tail_sums``)."""
    pw: np.ndarray
    used: np.ndarray
    t: list[float]
    """Each segment's total weight."""
    decay: list[float]
    """The decay from each segment's end to the next one's."""
    chain: np.ndarray | None
    """``_chain`` as a matrix (few segments): row ``k`` holds the decay of each earlier
    segment's end to segment ``k``'s end, so that the chained sums are one product."""
    total: np.ndarray
    """The total weights chained (they do not depend on the values)."""


_PLANS = 4
"""Plans kept: the curves of one chart share their steps, so one serves all its runs."""
_CHAIN_MATRIX = 640
"""Up to this many segments (a chart's buckets), sums are chained as one matrix product."""
_PLAN_POINTS = 4_000_000
"""A plan's weights (8 bytes a point) are kept only up to this many points."""


@lru_cache(maxsize=_PLANS)
def _plan(g: float, key: bytes, per_point: bool, matrix: bool) -> _Plan:
    """The plan of decay ``exp(g)`` per point for the segments ending at ``key``'s positions
    (``per_point``: with every point's weight; ``matrix``: with the chain as a matrix)."""
    idx = np.frombuffer(key, dtype=np.int64)
    starts = np.concatenate(([0], idx[:-1] + 1))
    lengths = idx + 1 - starts
    longest = int(lengths.max())
    if g < 0.0:
        # Powers below exp(_UNDERFLOW) are dropped: the segment's own last weight is 1.
        longest = min(longest, int(_UNDERFLOW / g) + 1)
    # pw[k] = exp(g * (longest - 1 - k)): the table reversed, ending in exp(0) = 1.
    pw = np.exp(g * np.arange(longest - 1, -1, -1, dtype=np.float64))
    tot = np.cumsum(pw[::-1])  # tot[j] = sum of the j + 1 largest weights
    used = np.minimum(lengths, longest)
    end = int(idx[-1]) + 1
    weights = None
    if per_point:
        # Every point's weight, gathered from the table by its distance to its
        # segment's end: each curve over these points is then one product and
        # one sum per segment (short segments: cheaper than a dot product each).
        dist = np.repeat(idx, lengths) - np.arange(end)
        weights = pw[np.maximum(longest - 1 - dist, 0)]
        if longest < int(lengths.max()):
            weights[dist >= longest] = 0.0  # (weights that underflow)
    t = tot[used - 1].tolist()
    decay = np.exp(g * np.diff(idx).astype(np.float64)).tolist()
    total = _chain([1.0] * len(t), list(t), decay)[1]
    chain = None
    if matrix:
        # exp(g * (idx[k] - idx[j])) for j <= k, else 0 (its exponent would be > 0).
        span = idx[:, None].astype(np.float64) - idx[None, :].astype(np.float64)
        chain = np.where(span >= 0, np.exp(g * np.maximum(span, 0.0)), 0.0)
    for a in (starts, weights, pw, used, chain, total):
        if a is not None:
            a.setflags(write=False)  # (shared by every curve the plan serves)
    return _Plan(starts, weights, pw, used, t, decay, chain, total)


def _geometric_at(y: np.ndarray, g: float, idx: np.ndarray) -> np.ndarray:
    """:func:`smooth_at` when every point decays the average by the same ``exp(g)``.

    The weight of point ``i`` at a segment's end ``e`` is then ``exp(g * (e - i))``:
    the weights depend only on the decay and the segments, not on the values, so
    they are computed once (``_plan``, kept for the next curves over the same
    steps: a chart's runs, a group's members) and each segment's sum is one
    product with them, with no ``exp`` per point.
    """
    end = int(idx[-1]) + 1
    # Short segments, or few points in all: every point's weight is kept.
    per_point = end <= _SHORT_SEGMENTS * len(idx) or end <= _PLAN_POINTS
    key = np.ascontiguousarray(idx, dtype=np.int64).tobytes()
    plan = _plan(float(g), key, per_point, len(idx) <= _CHAIN_MATRIX)
    if plan.weights is not None:
        sums = np.add.reduceat(y[:end] * plan.weights, plan.starts)
    else:
        sums = np.asarray(_tail_sums(y, plan.pw, idx + 1, plan.used), dtype=np.float64)
    if plan.chain is not None:
        return (plan.chain @ sums) / plan.total
    return _chain(sums.tolist(), list(plan.t), plan.decay)[0] / plan.total


def _tail_sums(y: np.ndarray, pw: np.ndarray, ends: np.ndarray, used: np.ndarray) -> list[float]:
    """Each segment's sum of its last ``used`` points of ``y`` before ``ends``, weighted by
    the tail of ``pw`` (``y[e - k : e] @ pw[-k:]``).

    Segments of one length are summed together, as one matrix of their points
    times the weights (buckets of equal width over even x are all about one
    length: two or three products in all, and few calls holding the GIL);
    otherwise one dot product per segment.
    """
    longest = len(pw)
    lengths = np.unique(used)
    if len(lengths) > _FEW_LENGTHS:
        dot = np.dot
        return [
            dot(y[e - k : e], pw[longest - k :])
            for e, k in zip(ends.tolist(), used.tolist(), strict=True)
        ]
    s = np.empty(len(ends), dtype=np.float64)
    step = y.strides[0]
    for k in lengths.tolist():
        sel = np.flatnonzero(used == k)
        # Row i of the view is y[i : i + k] (no copy until the rows are taken).
        windows = as_strided(y, shape=(len(y) - k + 1, k), strides=(step, step), writeable=False)
        s[sel] = windows[ends[sel] - k] @ pw[longest - k :]
    return s.tolist()


def _chain(s: list[float], t: list[float], dk: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Chain segment sums: each segment's totals carry the previous ones, decayed by ``dk``
    (the chained sums and the chained weights: the smoothed values are their ratio)."""
    for k in range(1, len(s)):
        s[k] += s[k - 1] * dk[k - 1]
        t[k] += t[k - 1] * dk[k - 1]
    return np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64)


def smooth_at(
    x: np.ndarray,
    y: np.ndarray,
    kind: str,
    strength: float,
    idx: np.ndarray,
    spacing: float | None = None,
) -> np.ndarray:
    """The smoothed value at positions ``idx`` of finite ``y`` over sorted ``x``.

    Exactly what :func:`smooth` gives at those positions (the average still
    runs over every point before them), in fewer passes over the data: the
    points are summed segment by segment, each weighted by its decay to the
    segment's end, and the segments are chained. A chart needs the smoothed
    value only at each bucket's last point. When every point decays the
    average alike (``ema``, or ``twema`` over evenly spaced x such as steps),
    the weights are powers of one number and no ``exp`` per point is needed.

    Args:
        x: x values of the finite points, nondecreasing.
        y: the finite values.
        kind: one of :data:`SMOOTHERS`.
        strength: the smoothing parameter.
        idx: increasing positions into ``x``/``y``.
        spacing: the common difference of ``x``, when the caller knows that
            its points are evenly spaced (checked here otherwise).
    """
    if kind not in SMOOTHERS:
        raise ValueError(f"smoothing: unknown kind {kind!r} (one of {', '.join(SMOOTHERS)})")
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0 or kind == SMOOTH_NONE:
        return y[idx].astype(np.float64)
    geometric = len(idx) <= _GEOMETRIC_MAX_SEGMENTS
    if kind == SMOOTH_TWEMA:
        w = min(math.sqrt(max(strength, 0.0)), 0.999)
        if w == 0.0:
            return y[idx].astype(np.float64)
        span = float(x[-1] - x[0])
        lam = math.log(w) * VIEWPORT_SCALE / span if span > 0 else 0.0
        d = (spacing if spacing is not None else _even_spacing(x)) if geometric else None
        if d is not None:
            return _geometric_at(y, lam * d, idx)
        # The cumulative log-weight telescopes: lam * (x[i] - x[0]).
        c = (x - x[0]).astype(np.float64, copy=False)
        c *= lam
    else:
        w = min(max(strength, 0.0), 0.999999)
        if w == 0.0:
            return y[idx].astype(np.float64)
        if geometric:
            return _geometric_at(y, math.log(w), idx)
        c = math.log(w) * np.arange(len(y), dtype=np.float64)
    end = int(idx[-1]) + 1
    lengths = np.diff(np.concatenate(([-1], idx)))
    starts = np.concatenate(([0], idx[:-1] + 1))
    ce = c[idx]
    # In place: each temporary of a million points costs as much as the arithmetic.
    e = np.repeat(ce, lengths)
    np.subtract(e, c[:end], out=e)
    np.exp(e, out=e)  # <= 1: decay to the segment's end
    t = np.add.reduceat(e, starts)
    np.multiply(e, y[:end], out=e)
    s = np.add.reduceat(e, starts)
    decay = np.exp(np.diff(ce))
    num, den = _chain(s.tolist(), t.tolist(), decay.tolist())
    return num / den


@lru_cache(maxsize=_PLANS)
def _consecutive_starts(first: int, m: int, a: float, b: float, n: int) -> np.ndarray:
    """``bucket_starts`` of the ``m`` consecutive integers from ``first`` (kept: a chart's runs
    and a group's members mostly log the same steps)."""
    starts = bucket_starts(np.arange(first, first + m, dtype=np.int64), a, b, n)
    starts.setflags(write=False)
    return starts


def smooth_bucket(
    x: np.ndarray,
    raw: np.ndarray,
    kind: str,
    strength: float,
    n: int,
    x_range: tuple[float, float] | None = None,
    spacing: float | None = None,
) -> Buckets:
    """Smooth ``raw`` over sorted ``x`` on all points, then bucket it as :func:`bucket` does.

    The same result as ``bucket(x, smooth(x, raw, kind, strength), raw, n, x_range)``,
    computing the smoothed curve only at the points the buckets report. ``x``
    may be integers (steps) or floats; ``spacing`` is its common difference
    when the caller knows that its points are evenly spaced.
    """
    # A finite sum means no NaN or inf among the values (either would carry
    # into it); an overflowing sum of finite values is checked point by point.
    allfin = math.isfinite(float(raw.sum())) or bool(np.isfinite(raw).all())
    fin = None if allfin else np.isfinite(raw)
    xf = x if fin is None else x[fin]
    yf = raw if fin is None else raw[fin]
    if x_range is not None:
        # x is sorted: the points in range are one slice (views, no copies).
        i0 = int(np.searchsorted(x, x_range[0], side="left"))
        i1 = max(i0, int(np.searchsorted(x, x_range[1], side="right")))
        base = i0
        xb, rb = x[i0:i1], raw[i0:i1]
    else:
        base, i0, i1 = 0, 0, len(x)
        xb, rb = x, raw
    finb = None if fin is None else fin[i0:i1]
    m = len(xb)
    nan = np.nan
    if m == 0:
        e = np.empty(0)
        return Buckets(e, e, e, e, e)
    if m <= n:
        has = finb = np.ones(m, dtype=bool) if finb is None else finb
        rep = np.arange(m)
        r = np.where(finb, rb, nan)
        lo_v, hi_v = r, r.copy()
    else:
        a = float(x_range[0]) if x_range is not None else float(xb[0])
        b = float(x_range[1]) if x_range is not None else float(xb[-1])
        if b > a and m <= _SHORT_SEGMENTS * n:
            # Few points per bucket: each point's bucket, the same formula.
            bk = np.minimum(((xb - a) / (b - a) * n).astype(np.int64), n - 1)
            starts = np.concatenate(([0], np.flatnonzero(np.diff(bk)) + 1))
        elif spacing == 1.0 and fin is None and xb.dtype.kind in "iu":
            # Consecutive steps: their buckets follow from the first step alone.
            starts = _consecutive_starts(int(xb[0]), m, a, b, n)
        else:
            starts = bucket_starts(xb, a, b, n)
        ends = np.concatenate((starts[1:], [m]))
        if finb is None:
            rep = ends - 1
            has = np.ones(len(starts), dtype=bool)
            lo_v = np.minimum.reduceat(rb, starts)
            hi_v = np.maximum.reduceat(rb, starts)
        else:
            pos = np.where(finb, np.arange(m), -1)
            last_fin = np.maximum.accumulate(pos)[ends - 1]
            has = last_fin >= starts
            rep = np.where(has, last_fin, 0)
            masked = np.where(finb, rb, nan)
            lo_v = np.fmin.reduceat(masked, starts)
            hi_v = np.fmax.reduceat(masked, starts)
    local = rep[has]
    full = local + base if base else local
    fi = full if fin is None else (np.cumsum(fin) - 1)[full]
    ys = np.full(len(has), nan)
    if len(fi):
        ys[has] = smooth_at(xf, yf, kind, strength, fi, spacing if fin is None else None)
    return Buckets(
        np.where(has, xb[rep], nan).astype(np.float64),
        ys,
        np.where(has, rb[rep], nan),
        np.where(has, lo_v, nan),
        np.where(has, hi_v, nan),
    )
