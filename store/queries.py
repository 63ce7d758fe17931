"""Queries over the index that go beyond SQL: curves, diffs, sorting.

The functions here take a DuckDB cursor and plain values, so that the index
can call them from any worker thread with its own cursor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from trackui.store.models import Diff, DiffRow, RunRow, Series
from trackui.store.smoothing import SMOOTHERS, smooth_bucket

X_AXES = ("step", "relative", "wall")
"""Built-in x axes; any metric name is also accepted."""

_ROW_FIELDS = {f.name for f in fields(RunRow)}


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level with ``/``-joined keys (``{"a": {"b": 1}}`` -> ``a/b``)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def _columns(cur: Any, sql: str) -> list[np.ndarray]:
    """The columns of a query's result as NumPy arrays of their own.

    Through Arrow: DuckDB hands over its buffers one row group at a time, and
    one copy joins them, which costs a third of ``fetchnumpy`` on a million rows.
    """
    tbl = cur.sql(sql).to_arrow_table()
    out = []
    for col in tbl.columns:
        chunks = [c.to_numpy(zero_copy_only=False) for c in col.chunks]
        out.append(np.concatenate(chunks) if chunks else col.to_numpy())
    return out


def fetch_points(
    cur: Any, rid: int, mid: int, *, with_time: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(step, t, v)`` of one metric of one run, one entry per step (the last logged wins).

    With ``with_time=False`` the time column is not read and ``t`` is empty.
    """
    cols = "step, t, v" if with_time else "step, v"
    # Literal ids rather than parameters: DuckDB then prunes the table's row
    # groups by rid before scanning (two to three times faster on 10M rows).
    got = _columns(cur, f"SELECT {cols} FROM points WHERE rid = {int(rid)} AND mid = {int(mid)}")
    step = got[0].astype(np.int64, copy=False)
    t = got[1].astype(np.float64, copy=False) if with_time else np.empty(0)
    v = got[-1].astype(np.float64, copy=False)
    if len(step) > 1:
        # One pass for the common case, steps strictly increasing (a comparison
        # writes a byte per point where a difference writes eight).
        if bool((step[1:] > step[:-1]).all()):
            return step, t, v
        d = np.diff(step)
        if (d < 0).any():
            # Not in file order (a rewritten file): order by step, keeping
            # the scan order among equal steps.
            o = np.argsort(step, kind="stable")
            step, v = step[o], v[o]
            if with_time:
                t = t[o]
            d = np.diff(step)
        if (d == 0).any():
            keep = np.ones(len(step), dtype=bool)
            keep[:-1] = d != 0
            step, v = step[keep], v[keep]
            if with_time:
                t = t[keep]
    return step, t, v


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
) -> Series:
    """One run's curve of one metric, smoothed on full data and bucketed."""
    if mid is None:
        e = np.empty(0)
        return Series(run_id, metric, e, e, e, e, e, 0)
    step, t, v = fetch_points(cur, rid, mid, with_time=x in ("wall", "relative"))
    if x == "step":
        xs = step  # integers: smooth_bucket takes them as they are
    elif x == "wall":
        xs = t
    elif x == "relative":
        base = start_time if start_time is not None else (float(np.nanmin(t)) if len(t) else 0.0)
        xs = t - base
    else:
        if x_mid is None:
            xs = np.full(len(step), np.nan)
        else:
            xstep, _, xv = fetch_points(cur, rid, x_mid, with_time=False)
            # The x metric's latest value at or before each step (as-of join).
            idx = np.searchsorted(xstep, step, side="right") - 1
            xs = np.where(idx >= 0, xv[np.maximum(idx, 0)], np.nan)
    # Steps are finite and already sorted by fetch_points: no checks needed.
    ok = np.isfinite(xs) if x != "step" else None
    if ok is not None and not ok.all():
        xs, v = xs[ok], v[ok]
    if x != "step" and len(xs) > 1 and bool((xs[1:] < xs[:-1]).any()):
        o = np.argsort(xs, kind="stable")
        xs, v = xs[o], v[o]
    b = smooth_bucket(xs, v, smoothing, strength, max(1, buckets), x_range)
    if x_range is None:
        n = len(xs)
    else:  # xs is sorted
        lo = int(np.searchsorted(xs, x_range[0], side="left"))
        n = max(0, int(np.searchsorted(xs, x_range[1], side="right")) - lo)
    return Series(run_id, metric, b.x, b.y, b.raw, b.lo, b.hi, n)


def check_series_args(x: str, smoothing: str, buckets: int, metric_ids: Mapping[str, int]) -> None:
    """Raise a one-line ValueError for arguments ``series`` cannot honour."""
    if smoothing not in SMOOTHERS:
        raise ValueError(f"series: unknown smoothing {smoothing!r} (one of {', '.join(SMOOTHERS)})")
    if buckets < 1:
        raise ValueError(f"series: buckets must be at least 1, not {buckets}")
    if x not in X_AXES and x not in metric_ids:
        raise ValueError(f"series: unknown x axis {x!r} (step, relative, wall or a metric name)")


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _same(a: Any, b: Any) -> bool:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return (na == nb) or (math.isnan(na) and math.isnan(nb))
    return type(a) is type(b) and a == b


def compute_diff(rows: Sequence[RunRow], baseline: int, all_keys: bool) -> Diff:
    """Config and summary keys across ``rows``, against ``rows[baseline]``.

    A key differs when any run's value is not equal to the others (a missing
    key differs from a present one; NaN equals NaN; 1 equals 1.0).
    """
    out: list[DiffRow] = []
    for section in ("config", "summary"):
        flats = [flatten(r.config) if section == "config" else dict(r.summary) for r in rows]
        keys = sorted(set().union(*flats)) if flats else []
        for key in keys:
            present = [key in f for f in flats]
            values = tuple(f.get(key) for f in flats)
            differs = not all(present) or any(not _same(values[0], v) for v in values[1:])
            if not (differs or all_keys):
                continue
            base = _num(values[baseline]) if present[baseline] else None
            deltas = tuple(
                (n - base) if (base is not None and (n := _num(v)) is not None and p) else None
                for v, p in zip(values, present, strict=True)
            )
            out.append(DiffRow(section, key, values, differs, deltas))
    return Diff(tuple(r.id for r in rows), rows[baseline].id if rows else "", tuple(out))


def _rank(v: Any) -> tuple[int, Any]:
    n = _num(v)
    if n is not None:
        return (0, n if not math.isnan(n) else math.inf)
    if isinstance(v, bool):
        return (0, float(v))
    if isinstance(v, str):
        return (1, v.lower())
    return (2, str(v))


def sort_key_getter(sort: str) -> Any:
    """A function from a RunRow to its sort value (None when it has none).

    Raises:
        ValueError: ``sort`` is neither a RunRow field nor ``config.<key>``/``summary.<key>``.
    """
    if sort == "created":
        return lambda r: r.start_time
    if sort in _ROW_FIELDS:
        if sort in ("config", "summary", "meta", "path", "warnings"):
            raise ValueError(f"sort: cannot sort by {sort!r}")
        return lambda r: getattr(r, sort)
    if sort.startswith("config.") and len(sort) > 7:
        key = sort[7:]
        return lambda r: flatten(r.config).get(key)
    if sort.startswith("summary.") and len(sort) > 8:
        key = sort[8:]
        return lambda r: r.summary.get(key)
    raise ValueError(f"sort: unknown column {sort!r} (a run field, config.<key> or summary.<key>)")


def sort_rows(rows: list[RunRow], sort: str, descending: bool) -> list[RunRow]:
    """Rows ordered by ``sort``; runs without a value come last either way."""
    get = sort_key_getter(sort)
    have, missing = [], []
    for r in rows:
        v = get(r)
        if isinstance(v, tuple):
            v = ",".join(v) if v else None
        (missing if v is None else have).append((r, v))
    have.sort(key=lambda rv: (_rank(rv[1]), rv[0].id), reverse=descending)
    return [r for r, _ in have] + [r for r, _ in missing]
