"""Curves: a run's metric smoothed on full data, then bucketed; and those drawn lately, kept."""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from trackui.store import layout
from trackui.store import points as stored
from trackui.store.index_state import IndexState
from trackui.store.ingest import Loaded, MStat
from trackui.store.models import Series
from trackui.store.points import PointsCache, PointsFn

CURVE_CACHE = 256
"""Curves kept for redraws (a few KB each)."""
POINTS_CACHE_BYTES = 160 << 20
"""Full-resolution points kept for recomputing curves: 20 runs x 1M points of one metric, or
the 200 members of 20 groups x 100,000 points (a new smoothing or band redraws from memory)."""
PARALLEL_POINTS = 200_000
"""Curves are computed in two threads when they hold more points than this together."""


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
    with_time: bool = False,
) -> Series:
    """One run's curve of one metric, smoothed on full data and bucketed.

    ``points`` reads the points (default: :func:`fetch_points` on ``cur``);
    the arrays it returns are not modified. Each bucket's step is given; its
    wall time too where the time column is read: on a time axis, or with
    ``with_time`` (a cursor's readout), so that a step chart reads no more
    than its steps and values otherwise.
    """
    import numpy as np

    from trackui.store.smoothing import smooth_bucket

    if mid is None:
        e = np.empty(0)
        return Series(run_id, metric, e, e, e, e, e, 0)
    if points is None:

        def points(r: int, m: int, with_time: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return stored.fetch_points(cur, r, m, with_time=with_time)

    read_time = with_time or x in layout.X_TIME_AXES
    step, t, v = points(rid, mid, read_time)
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
        xs, v, step = xs[ok], v[ok], step[ok]
        t = t[ok] if read_time else t
    if x != layout.X_STEP and len(xs) > 1 and bool((xs[1:] < xs[:-1]).any()):
        o = np.argsort(xs, kind="stable")
        xs, v, step = xs[o], v[o], step[o]
        t = t[o] if read_time else t
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
    at = bucket_points(xs, v, b.x)
    return Series(
        run_id, metric, b.x, b.y, b.raw, b.lo, b.hi, n,
        step=take(step, at), t=take(t, at) if read_time else None, start_time=start_time,
    )  # fmt: skip


def bucket_points(xs: Any, v: Any, bx: Any) -> Any:
    """For each bucket's x, the index in sorted ``xs`` of the point it stands for (-1: a gap).

    A bucket reports its last point with a finite value: the last point at
    that x, or before it where the last ones at that x hold NaN.
    """
    import numpy as np

    if not len(xs):
        return np.full(len(bx), -1, dtype=np.int64)
    fin = np.isfinite(bx)
    at = np.searchsorted(xs, np.where(fin, bx, xs[0]), side="right") - 1
    at = np.where(fin, at, -1)
    for k in np.flatnonzero(at >= 0)[~np.isfinite(v[at[at >= 0]])].tolist():
        j = int(at[k])
        while j >= 0 and not np.isfinite(v[j]):
            j -= 1
        at[k] = j
    return at


def take(values: Any, at: Any) -> Any:
    """``values`` at the indices ``at`` as floats, NaN where ``at`` is -1 (a gap)."""
    import numpy as np

    out = np.full(len(at), np.nan)
    ok = at >= 0
    if len(values):
        out[ok] = values[at[ok]]
    return out


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
        s, x=s.x.copy(), y=s.y.copy(), raw=s.raw.copy(), lo=s.lo.copy(), hi=s.hi.copy(),
        step=None if s.step is None else s.step.copy(), t=None if s.t is None else s.t.copy(),
    )  # fmt: skip


class Curves:
    """The curves drawn lately and their points, kept while their runs' data is unchanged.

    Each run has a generation, bumped whenever its points change, and the
    index an epoch, bumped when its database is emptied: together they stamp
    what is kept, so nothing kept goes stale. Shares the index's state lock.

    Args:
        cursor: A new cursor of the index's connection.
        lock: The index's state lock.
        state: The index's current state.
        before_read: Called before points are read from DuckDB (the write-behind queue's flush).
    """

    def __init__(
        self,
        cursor: Callable[[], Any],
        lock: threading.Lock,
        state: Callable[[], IndexState],
        before_read: Callable[[], None],
    ) -> None:
        self._cursor = cursor
        self._lock = lock
        self._state = state
        self._before_read = before_read
        self.gen: dict[int, int] = {}
        """Per run, a number that changes whenever its points change (keys the curve cache)."""
        self._gen_seq = itertools.count(1)
        self.epoch = 0
        """Bumped when the whole database is emptied (rids start again from 1)."""
        self.curves: OrderedDict[tuple[Any, ...], Series] = OrderedDict()
        """Recent curves; a redraw with nothing new does not read a million points again."""
        self.points = PointsCache(POINTS_CACHE_BYTES)
        """Their points, for a new smoothing, zoom or x axis over the same data."""
        self._ticks = itertools.count(1)

    def bump(self, rids: Iterable[int]) -> None:
        """New generations for runs whose points changed (the caller holds the lock)."""
        for rid in rids:
            self.gen[rid] = next(self._gen_seq)

    def reset(self) -> None:
        """Forget every curve: the database was emptied (the caller holds the lock)."""
        self.epoch += 1
        self.curves.clear()

    def extend_points(
        self,
        got: Loaded,
        before: dict[int, dict[int, MStat]],
        epoch: int,
        old_gens: dict[int, int],
        new_gens: dict[int, int],
    ) -> None:
        """Hand the points just loaded to the point cache (live runs)."""
        tbl = got.points
        if tbl is None or not len(self.points):
            return
        import numpy as np

        cols = {k: tbl.column(k).to_numpy() for k in ("rid", "mid", "step", "t", "v")}
        for rid in got.hist:
            spans = {
                mid: (m.n, m.first_step, m.last_step) for mid, m in before.get(rid, {}).items()
            }
            sel = np.flatnonzero(cols["rid"] == rid)
            appended: dict[int, tuple[Any, Any, Any]] = {}
            if len(sel):
                mids = cols["mid"][sel]
                for mid in np.unique(mids).tolist():
                    rows = sel[mids == mid]
                    appended[mid] = (cols["step"][rows], cols["t"][rows], cols["v"][rows])
            self.points.extend(rid, appended, (epoch, old_gens[rid]), (epoch, new_gens[rid]), spans)

    def series(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        mids: dict[str, int],
        x: str,
        smoothing: str,
        strength: float,
        buckets: int,
        x_range: tuple[float, float] | None,
        with_time: bool = False,
    ) -> list[Series]:
        """``Index.series`` (``mids``: the metric ids as the index knows them now)."""
        st = self._state()
        check_series_args(x, smoothing, buckets, mids)
        tasks = []
        for rid_s in run_ids:
            run = st.entry(rid_s)
            start = run.info.meta.get("start_time")
            h = st.hist.get(run.rid)
            start_f = (
                float(start) if isinstance(start, (int, float)) else (h.first_t if h else None)
            )
            for name in metrics:
                tasks.append((rid_s, run.rid, name, start_f))
        with self._lock:
            # Read before the points are: a load committed meanwhile bumps it.
            epoch, gens = self.epoch, {t[1]: self.gen.get(t[1], 0) for t in tasks}
            spans = self._state().mstats  # what the index knew at those generations
        xr_key = None if x_range is None else (float(x_range[0]), float(x_range[1]))
        with_time = with_time or x in layout.X_TIME_AXES
        args = (x, mids.get(x), smoothing, float(strength), buckets, xr_key, with_time)
        out: list[Series | None] = []
        todo: list[int] = []
        for i, (rid_s, rid, name, start_f) in enumerate(tasks):
            key = (epoch, gens[rid], rid_s, rid, name, mids.get(name), start_f, *args)
            with self._lock:
                hit = self.curves.get(key)
                if hit is not None:
                    self.curves.move_to_end(key)
            out.append(None if hit is None else copy_series(hit))
            if hit is None:
                todo.append(i)

        tick = next(self._ticks)
        where = self._sources_of([tasks[i] for i in todo], mids, x, lambda rid: (epoch, gens[rid]))

        def one(task: tuple[str, int, str, float | None]) -> Series:
            rid_s, rid, name, start_f = task
            cur = self._cursor()
            stamp = (epoch, gens[rid])

            def points(r: int, m: int, with_time: bool) -> Any:
                ms = spans.get(r, {}).get(m)
                span = None if ms is None else (ms.n, ms.first_step, ms.last_step)
                return self.points.points(
                    cur, r, m, with_time, stamp, tick, span, before_read=self._before_read,
                    sources=where.get((r, m)),
                )  # fmt: skip

            s = make_series(
                cur, rid_s, rid, name, mids.get(name),
                x=x, x_mid=mids.get(x), start_time=start_f, smoothing=smoothing,
                strength=strength, buckets=buckets, x_range=x_range, points=points,
                with_time=with_time,
            )  # fmt: skip
            key = (epoch, gens[rid], rid_s, rid, name, mids.get(name), start_f, *args)
            with self._lock:
                self.curves[key] = copy_series(s)
                while len(self.curves) > CURVE_CACHE:
                    self.curves.popitem(last=False)
            return s

        def size(i: int) -> int:
            rid, name = tasks[i][1], tasks[i][2]
            ms = spans.get(rid, {}).get(mids.get(name, -1))
            return 0 if ms is None else ms.n

        if len(todo) < 2 or sum(size(i) for i in todo) < PARALLEL_POINTS:
            for i in todo:
                out[i] = one(tasks[i])
        else:
            # NumPy and DuckDB release the GIL: curves are computed two at a time.
            from concurrent.futures import ThreadPoolExecutor

            workers = min(len(todo), os.cpu_count() or 1, 4)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for i, s in zip(todo, pool.map(one, [tasks[i] for i in todo]), strict=True):
                    out[i] = s
        return [s for s in out if s is not None]

    def _sources_of(
        self,
        tasks: Sequence[tuple[str, int, str, float | None]],
        mids: dict[str, int],
        x: str,
        stamp: Callable[[int], Any],
    ) -> dict[tuple[int, int], Any]:
        """Where the points of the curves not in memory lie, asked at once (``points.sources_of``)."""
        with_time = x in layout.X_TIME_AXES
        pairs = []
        for _rid_s, rid, name, _start in tasks:
            for m, t in ((mids.get(name), with_time), (mids.get(x), False)):
                if m is not None and not self.points.has(rid, m, t, stamp(rid)):
                    pairs.append((rid, m))
        if len(pairs) < 2:
            return {}  # (one curve: its own query is as cheap)
        self._before_read()
        return stored.sources_of(self._cursor(), pairs)

    def read_ahead(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        mids: dict[str, int],
        x: str,
        min_points: int,
        cancel: threading.Event | None,
    ) -> int:
        """``Index.read_ahead`` (``mids``: the metric ids as the index knows them now)."""
        st = self._state()
        names = [*metrics, *([x] if x in mids and x not in metrics else [])]
        with_time = x in layout.X_TIME_AXES
        cache = self.points
        tick = next(self._ticks)
        read = 0
        for run_id in run_ids:
            run = st.runs.get(run_id)
            if run is None:
                continue
            with self._lock:
                # As in ``series``: what the index knew at this generation.
                stamp = (self.epoch, self.gen.get(run.rid, 0))
                spans = self._state().mstats
            for name in names:
                if cancel is not None and cancel.is_set():
                    return read
                mid = mids.get(name)
                ms = spans.get(run.rid, {}).get(mid) if mid is not None else None
                if ms is None or ms.n < min_points:
                    continue
                consecutive = ms.last_step - ms.first_step == ms.n - 1
                size = 8 * ms.n * (1 + with_time + (not consecutive))
                if cache.has(run.rid, mid, with_time, stamp):
                    continue
                if cache.nbytes + size > cache.max_bytes:
                    return read
                cache.points(
                    self._cursor(), run.rid, mid, with_time, stamp, tick,
                    (ms.n, ms.first_step, ms.last_step), before_read=self._before_read,
                )  # fmt: skip
                read += 1
        return read
