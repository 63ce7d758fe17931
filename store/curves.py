"""One run's curve of one metric: its points smoothed on full data, then bucketed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trackui.store import layout
from trackui.store import points as stored
from trackui.store.models import Series
from trackui.store.points import PointsFn


def make_series(
    cur: Any,
    run_id: str,
    rid: int,
    metric: str,
    mid: int | None,
    *,
    x: str,
    x_mid: int | None,
    start_time: float | None,
    smoothing: str,
    strength: float,
    buckets: int,
    x_range: tuple[float, float] | None,
    points: PointsFn | None = None,
) -> Series:
    """One run's curve of one metric, smoothed on full data and bucketed.

    ``points`` reads the points (default: :func:`fetch_points` on ``cur``);
    the arrays it returns are not modified.
    """
    import numpy as np

    from trackui.store.smoothing import smooth_bucket

    if mid is None:
        e = np.empty(0)
        return Series(run_id, metric, e, e, e, e, e, 0)
    if points is None:

        def points(r: int, m: int, with_time: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return stored.fetch_points(cur, r, m, with_time=with_time)

    step, t, v = points(rid, mid, x in layout.X_TIME_AXES)
    if x == layout.X_STEP:
        xs = step  # integers: smooth_bucket takes them as they are
    elif x == layout.X_WALL:
        xs = t
    elif x == layout.X_RELATIVE:
        base = start_time if start_time is not None else (float(np.nanmin(t)) if len(t) else 0.0)
        xs = t - base
    else:
        xstep, xv = step[:0], v[:0]
        if x_mid is not None:
            xstep, _, xv = points(rid, x_mid, False)
        if len(xv) == 0:
            # The run never logged the x metric: no point has an x.
            xs = np.full(len(step), np.nan)
        else:
            # The x metric's latest value at or before each step (as-of join).
            idx = np.searchsorted(xstep, step, side="right") - 1
            xs = np.where(idx >= 0, xv[np.maximum(idx, 0)], np.nan)
    # Steps are finite and already sorted by fetch_points: no checks needed.
    ok = np.isfinite(xs) if x != layout.X_STEP else None
    if ok is not None and not ok.all():
        xs, v = xs[ok], v[ok]
    if x != layout.X_STEP and len(xs) > 1 and bool((xs[1:] < xs[:-1]).any()):
        o = np.argsort(xs, kind="stable")
        xs, v = xs[o], v[o]
    # Steps are strictly increasing: spanning len - 1 means consecutive.
    consecutive = x == layout.X_STEP and len(xs) > 1 and int(xs[-1]) - int(xs[0]) == len(xs) - 1
    b = smooth_bucket(
        xs, v, smoothing, strength, max(1, buckets), x_range, 1.0 if consecutive else None
    )
    if x_range is None:
        n = len(xs)
    else:  # xs is sorted
        lo = int(np.searchsorted(xs, x_range[0], side="left"))
        n = max(0, int(np.searchsorted(xs, x_range[1], side="right")) - lo)
    return Series(run_id, metric, b.x, b.y, b.raw, b.lo, b.hi, n)


def check_series_args(x: str, smoothing: str, buckets: int, metric_ids: Mapping[str, int]) -> None:
    """Raise a one-line ValueError for arguments ``series`` cannot honour."""
    if smoothing not in layout.SMOOTHERS:
        raise ValueError(
            f"series: unknown smoothing {smoothing!r} (one of {', '.join(layout.SMOOTHERS)})"
        )
    if buckets < 1:
        raise ValueError(f"series: buckets must be at least 1, not {buckets}")
    if x not in layout.X_AXES and x not in metric_ids:
        raise ValueError(f"series: unknown x axis {x!r} (step, relative, wall or a metric name)")


def copy_series(s: Series) -> Series:
    """A Series with its own arrays (a cached one must not change under its caller)."""
    return dataclasses.replace(
        s, x=s.x.copy(), y=s.y.copy(), raw=s.raw.copy(), lo=s.lo.copy(), hi=s.hi.copy()
    )
