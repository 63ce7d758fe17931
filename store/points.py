"""Full-resolution points of one metric of one run: read from DuckDB, and kept for redraws.

``fetch_points`` reads them (through Arrow, without copies); ``PointsCache``
keeps those of the curves drawn last, so that a new smoothing, zoom or x axis
does not read them again. Both take a cursor: any worker thread calls them
with its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trackui.store.db_schema import wide_table

if TYPE_CHECKING:
    import numpy as np

    from trackui.store.index_state import IndexState

# NumPy is imported by the functions that read points: the run list (the
# first thing on screen) needs none of it.

_RANGE_MAX = 1 << 21
"""Longest run of consecutive steps served from the shared range (16 MB of int64)."""
_range: Any = None


def consecutive_steps(first: int, n: int) -> np.ndarray:
    """``first, first + 1, ..., first + n - 1`` as a read-only int64 array.

    Most curves' steps are exactly that, and a million of them written out
    per curve costs as much as reading the values: they are views of one
    shared range where it covers them.
    """
    import numpy as np

    global _range
    end = first + n
    if first >= 0 and end <= _RANGE_MAX:
        r = _range
        if r is None or len(r) < end:
            r = np.arange(min(_RANGE_MAX, 1 << max(0, end - 1).bit_length()), dtype=np.int64)
            r.flags.writeable = False
            _range = r
        return r[first:end]
    out = np.arange(first, end, dtype=np.int64)
    out.flags.writeable = False
    return out


def _chunks(cur: Any, sql: str) -> list[list[np.ndarray]]:
    """The columns of a query's result, each as the NumPy views of its Arrow chunks.

    Through Arrow, viewed without a copy (faster than ``fetchnumpy``: see
    bench/RESULTS.md, "Store modules").
    """
    tbl = cur.sql(sql).to_arrow_table()
    return [[c.to_numpy(zero_copy_only=False) for c in col.chunks] for col in tbl.columns]


def _join(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    """One read-only array of ``parts`` (no copy for one part).

    NumPy's concatenate, not Arrow's ``combine_chunks``, which is slow on a first draw.
    """
    import numpy as np

    if not parts:
        a = np.empty(0, dtype=dtype)
    elif len(parts) == 1:
        a = parts[0].astype(dtype, copy=False)
    else:
        a = np.concatenate(parts).astype(dtype, copy=False)
    a.flags.writeable = False
    return a


def _increasing(parts: list[np.ndarray]) -> bool:
    """Whether the parts, one after the other, are strictly increasing."""
    prev = None
    for p in parts:
        if not len(p):
            continue
        # A comparison writes a byte per point where a difference writes eight.
        if (prev is not None and not prev < p[0]) or not bool((p[1:] > p[:-1]).all()):
            return False
        prev = p[-1]
    return True


Sources = list[tuple[str, str]]
"""Where a metric's values of a run lie, in file order: ``(FROM ..., value column)``."""


def _source_list(rid: int, mid: int, wide: Sequence[tuple[int, int]]) -> Sources:
    out = []
    for w, col in wide:
        c = f"v{int(col)}"
        out.append((f"{wide_table(w)} WHERE rid = {rid} AND {c} IS NOT NULL", c))
    out.append((f"points WHERE rid = {rid} AND mid = {mid}", "v"))
    return out


def _sources(cur: Any, rid: int, mid: int) -> Sources:
    """Where a metric's values of a run lie (:data:`Sources`).

    Literal ids rather than parameters: DuckDB then prunes row groups by rid.
    """
    wide = cur.execute(
        f"SELECT w, col FROM wide_cols WHERE rid = {rid} AND mid = {mid} ORDER BY rowid"
    ).fetchall()
    return _source_list(rid, mid, wide)


def sources_of(cur: Any, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Sources]:
    """:data:`Sources` of many (run, metric) pairs in one query (a query each costs more
    than reading a short curve)."""
    want = set(pairs)
    wide: dict[tuple[int, int], list[tuple[int, int]]] = {p: [] for p in want}
    rids = sorted({r for r, _ in want})
    if rids:
        for rid, mid, w, col in cur.execute(
            "SELECT rid, mid, w, col FROM wide_cols WHERE rid IN (SELECT unnest(?::INTEGER[]))"
            " ORDER BY rowid",
            [rids],
        ).fetchall():
            got = wide.get((rid, mid))
            if got is not None:
                got.append((w, col))
    return {(r, m): _source_list(r, m, wide[(r, m)]) for r, m in want}


def _read(cur: Any, sources: list[tuple[str, str]], *cols: str) -> list[list[np.ndarray]]:
    """The columns ``cols`` (of step, t, v) from each source, their parts in file order."""
    got: list[list[np.ndarray]] = []
    for src, value in sources:
        names = ", ".join(value if c == "v" else c for c in cols)
        part = _chunks(cur, f"SELECT {names} FROM {src}")
        got = part if not got else [a + b for a, b in zip(got, part, strict=True)]
    return got


def fetch_points(
    cur: Any,
    rid: int,
    mid: int,
    *,
    with_time: bool = True,
    span: tuple[int, int, int] | None = None,
    sources: Sources | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(step, t, v)`` of one metric of one run, one entry per step (the last logged wins).

    ``sources``: where they lie, when the caller asked already (:func:`sources_of`).

    With ``with_time=False`` the time column is not read and ``t`` is empty.
    ``span`` is what the index knows of the metric: ``(distinct steps, first,
    last)``. When those steps are consecutive, the step column is first left
    out (a third less to read): if the table holds exactly that many rows,
    they are those steps in order (a file's steps never go down). Otherwise
    (a step logged twice) the rows are read again with their steps. The
    arrays are read-only.
    """
    import numpy as np

    if sources is None:
        sources = _sources(cur, int(rid), int(mid))
    if span is not None and span[0] > 1 and span[2] - span[1] == span[0] - 1:
        got = _read(cur, sources, *(("t", "v") if with_time else ("v",)))
        v = _join(got[-1], np.float64)
        if len(v) == span[0]:
            t = _join(got[0], np.float64) if with_time else np.empty(0)
            return consecutive_steps(span[1], span[0]), t, v
    got = _read(cur, sources, *(("step", "t", "v") if with_time else ("step", "v")))
    t = _join(got[1], np.float64) if with_time else np.empty(0)
    v = _join(got[-1], np.float64)
    if _increasing(got[0]):
        # The common case, in one pass and without writing the steps out
        # when they are consecutive.
        n = len(v)
        parts = [p for p in got[0] if len(p)]
        if n and int(parts[-1][-1]) - int(parts[0][0]) == n - 1:
            return consecutive_steps(int(parts[0][0]), n), t, v
        return _join(got[0], np.int64), t, v
    step = _join(got[0], np.int64)
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
    for a in (step, t, v):
        a.flags.writeable = False
    return step, t, v


def no_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(step, t, v)`` of a metric no run logged: empty."""
    import numpy as np

    e = np.empty(0)
    return e.astype(np.int64), e, e


PointsFn = Callable[[int, int, bool], "tuple[np.ndarray, np.ndarray, np.ndarray]"]
"""``(rid, mid, with_time) -> (step, t, v)``, as :func:`fetch_points` answers."""


@dataclass(slots=True)
class _Entry:
    """The points of one (run, metric) held by :class:`PointsCache` (changed in place under its lock)."""

    stamp: Any
    """The run's data generation when they were read."""
    steps: Any
    """The first step (an int) when the steps are consecutive, else the step array."""
    t: Any
    """The time array, or None when read without it."""
    v: Any
    """The value array."""
    nbytes: int
    """Bytes of the arrays held."""
    tick: int
    """The last request that used them."""


class PointsCache:
    """The full-resolution points of the curves drawn last, within a byte budget.

    A new smoothing strength, zoom or x axis recomputes a curve from all of
    its points; reading a million of them back from DuckDB costs more than
    the smoothing does. Entries are stamped with the run's data generation:
    a stamp that no longer matches is read again. Consecutive steps, the
    common case, are kept as their first value only. The arrays handed out
    are read-only (every caller shares them).

    Callers number their requests (``tick``): an entry used by the current
    request is never evicted for another of the same request, so a set of
    curves larger than the budget keeps the part that fits instead of
    evicting each curve just before it is needed again; and an entry that
    none of the last ``keep_ticks`` requests used is dropped, so that the
    cache holds the curves on screen, not all that were ever shown.
    """

    def __init__(self, max_bytes: int, keep_ticks: int = 8) -> None:
        self.max_bytes = max_bytes
        self.keep_ticks = keep_ticks
        self._purged = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of array data held now."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @staticmethod
    def _answers(entry: _Entry, stamp: Any, with_time: bool) -> bool:
        """Whether ``entry`` holds what a request stamped ``stamp`` asks for."""
        return bool(entry.stamp == stamp and (entry.t is not None or not with_time))

    def has(self, rid: int, mid: int, with_time: bool, stamp: Any) -> bool:
        """Whether ``points`` would answer from memory (the entry's use is not recorded)."""
        with self._lock:
            hit = self._entries.get((rid, mid))
            return hit is not None and self._answers(hit, stamp, with_time)

    def points(
        self,
        cur: Any,
        rid: int,
        mid: int,
        with_time: bool,
        stamp: Any,
        tick: int = 0,
        span: tuple[int, int, int] | None = None,
        before_read: Callable[[], None] | None = None,
        sources: Sources | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``fetch_points(cur, rid, mid, with_time=, span=, sources=)``, from the cache when
        ``stamp`` matches.

        ``before_read`` is called before a read from DuckDB (a miss).
        """
        import numpy as np

        key = (rid, mid)
        with self._lock:
            if tick > self._purged:
                self._purged = tick
                for k in [k for k, e in self._entries.items() if e.tick < tick - self.keep_ticks]:
                    self._bytes -= self._entries.pop(k).nbytes
            hit = self._entries.get(key)
            if hit is not None and self._answers(hit, stamp, with_time):
                self._entries.move_to_end(key)
                hit.tick = tick
            else:
                hit = None
        if hit is not None:
            step = hit.steps
            if isinstance(step, int):
                step = consecutive_steps(step, len(hit.v))
            return step, (hit.t if with_time else np.empty(0)), hit.v
        if before_read is not None:
            before_read()
        step, t, v = fetch_points(cur, rid, mid, with_time=with_time, span=span, sources=sources)
        n = len(v)
        # Steps are strictly increasing here: spanning n - 1 means consecutive.
        compact = n > 1 and int(step[-1]) - int(step[0]) == n - 1
        kept_step: Any = int(step[0]) if compact else step
        size = v.nbytes + (0 if compact else step.nbytes) + (t.nbytes if with_time else 0)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            # Make room from the least recently used entries of earlier requests.
            for k in list(self._entries):
                if self._bytes + size <= self.max_bytes:
                    break
                if self._entries[k].tick != tick:
                    self._bytes -= self._entries.pop(k).nbytes
            if self._bytes + size <= self.max_bytes:
                self._entries[key] = _Entry(
                    stamp, kept_step, t if with_time else None, v, size, tick
                )
                self._bytes += size
        return step, t, v

    def extend(
        self,
        rid: int,
        appended: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
        old: Any,
        new: Any,
        spans: dict[int, tuple[int, int, int]],
    ) -> None:
        """Points just loaded for ``rid`` (``{mid: (step, t, v)}`` in file order):
        entries stamped ``old`` take them and become ``new``.

        A live run then redraws from memory instead of reading its curves
        back from DuckDB every refresh. Only the exact case is extended: an
        entry holding exactly what the index knew before the load (``spans``:
        ``{mid: (distinct steps, first, last)}``) as consecutive steps,
        continued by consecutive steps with no step twice. Any other entry of
        the run is dropped (read again when next asked for).
        """
        import numpy as np

        with self._lock:
            for (r, mid), e in list(self._entries.items()):
                if r != rid:
                    continue
                got = appended.get(mid)
                span = spans.get(mid)
                if (
                    e.stamp != old
                    or not isinstance(e.steps, int)
                    or span is None
                    or (len(e.v), e.steps, e.steps + len(e.v) - 1) != span
                ):
                    # Stamped before the load but read after its commit, or
                    # not consecutive: nothing to build on.
                    self._bytes -= self._entries.pop((r, mid)).nbytes
                    continue
                if got is None:
                    e.stamp = new  # this metric had nothing new
                    continue
                step, t, v = got
                nxt = e.steps + len(e.v)
                n = len(step)
                if (
                    n == 0
                    or int(step[0]) != nxt
                    or int(step[-1]) != nxt + n - 1
                    or (n > 1 and not bool((np.diff(step) == 1).all()))
                ):
                    self._bytes -= self._entries.pop((r, mid)).nbytes
                    continue
                e.v = np.concatenate([e.v, v])
                e.v.flags.writeable = False
                if e.t is not None:
                    e.t = np.concatenate([e.t, t])
                    e.t.flags.writeable = False
                size = e.v.nbytes + (e.t.nbytes if e.t is not None else 0)
                self._bytes += size - e.nbytes
                e.nbytes = size
                e.stamp = new


def history_table(cur: Any, st: IndexState, run_ids: Sequence[str], mnames: dict[int, str]) -> Any:
    """``Index.history_table``: every numeric value of the runs as one pyarrow Table."""
    import pyarrow as pa

    parts = []
    for rid_s in run_ids:
        run = st.entry(rid_s)
        for mid, _ in sorted(st.mstats.get(run.rid, {}).items(), key=lambda kv: mnames[kv[0]]):
            step, t, v = fetch_points(cur, run.rid, mid)
            n = len(step)
            parts.append(
                pa.table({
                    "run_id": pa.array([rid_s] * n, pa.string()),
                    "step": pa.array(step, pa.int64()),
                    "time": pa.array(t, pa.float64()),
                    "metric": pa.array([mnames[mid]] * n, pa.string()),
                    "value": pa.array(v, pa.float64()),
                })
            )  # fmt: skip
    if not parts:
        return pa.table({
            "run_id": pa.array([], pa.string()), "step": pa.array([], pa.int64()),
            "time": pa.array([], pa.float64()), "metric": pa.array([], pa.string()),
            "value": pa.array([], pa.float64()),
        })  # fmt: skip
    return pa.concat_tables(parts)
