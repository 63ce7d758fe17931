"""The index: a DuckDB picture of a run root that stays current while runs are written.

``scan()`` lists the runs and reads their small files (fast: the run table
needs only this); ``ingest()`` loads metric records, in bulk the first time
and then only the bytes appended since each file's last offset. Queries
(``runs``, ``series``, ``diff``...) answer from DuckDB and from the state
kept in memory.

``Index`` owns the connection and the locks and wires its parts together:
``store.catalogue`` (the run directories), ``store.loading`` (the
histories), ``store.writes`` (every DuckDB write, and the writes held back),
``store.rows`` and ``store.curves`` (the answers, and what is kept of them),
all over one ``store.index_state.IndexState``.

Methods may be called from worker threads: one refresh (``scan``/``ingest``)
at a time, queries concurrently with each other and with a refresh. Every
call uses its own cursor. Every error that reaches a caller has a one-line
message.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from trackui.store import catalogue, layout
from trackui.store import points as stored
from trackui.store.aggregates import parse_aggregate_key, run_aggregates
from trackui.store.curves import Curves
from trackui.store.db import Opened, cache_paths, cache_unusable, close_db, open_db, reopen
from trackui.store.diff import diff_runs
from trackui.store.filter import FilterError, compile_filter, matching_ids
from trackui.store.index_state import IndexState, read_cached, touched
from trackui.store.ingest import Loaded
from trackui.store.loading import Loader
from trackui.store.models import Diff, MetricInfo, RunRow, Series
from trackui.store.rows import Rows
from trackui.store.sorting import check_sort_column, sort_rows
from trackui.store.sources.foreign import Foreign
from trackui.store.writes import Writes, empty_tables

__all__ = ["FilterError", "Index"]

READ_AHEAD_MIN_POINTS = 100_000
"""Curves shorter than this are not read ahead: read when charted, they take milliseconds."""


class Index:
    """A DuckDB index of a run root (see the module docstring).

    Args:
        root: The run root.
        cache: Keep the index in ``<root>/.trackui/index.duckdb`` (or a
            per-user cache file) so that the next start is fast.
        now: The clock, for run states and runtimes.
    """

    def __init__(
        self, root: Path, *, cache: bool = True, now: Callable[[], float] = time.time
    ) -> None:
        self.root = Path(root)
        self._now = now
        self._refresh_lock = threading.Lock()
        """One refresh (scan or ingest) at a time."""
        self._lock = threading.Lock()
        """Guards the state, and what changes with it (queues, generations)."""
        self._open_lock = threading.Lock()
        self._cache = cache
        self._opened: Opened | None = None
        self._foreign = Foreign(self.root, cache=cache)
        """Other trackers' runs under the root, mirrored into run directories."""
        self._catalogue = catalogue.Catalogue(self.root, self._foreign.dirs)
        self._st = IndexState()
        self._closed = False

        def state() -> IndexState:
            return self._st

        self._writes = Writes(self._cur, self._lock, state)
        self._write_behind = self._writes.write_behind
        self._rows = Rows(self._writes.mnames)
        self._curve_cache = Curves(self._cur, self._lock, state, self._write_behind)
        # (Views of its parts, changed in place, never replaced.)
        self._mids, self._points = self._writes.mids, self._curve_cache.points
        self._curves = self._curve_cache.curves
        self._loader = Loader(
            lambda: self._db, self._cur, self._lock, state, self._writes, self._curve_cache,
            lambda *a, **kw: self._apply(*a, **kw),
        )  # fmt: skip
        # Without a cache file to read, DuckDB is opened (and imported) when
        # first needed: ``scan()`` lists the runs without it, so a first
        # start shows the run table sooner.
        if cache and any(p.exists() for p in cache_paths(self.root)):
            self._opened = open_db(self.root, cache=cache)
            if not self._opened.fresh:
                try:
                    self._load_cached()
                except Exception:
                    self._reset_db()

    @property
    def _db(self) -> Opened:
        opened = self._opened
        if opened is None:
            with self._open_lock:
                if self._opened is None:
                    got = open_db(self.root, cache=self._cache)
                    if not got.fresh:
                        # A cache file made since this index started (by
                        # another viewer): it does not hold this index's state.
                        empty_tables(got.con.cursor())
                    self._opened = got
                opened = self._opened
        return opened

    @property
    def storage(self) -> str:
        """Where the index lives: ``root``, ``user``, ``temp`` or ``memory``."""
        return self._db.kind

    @property
    def notes(self) -> tuple[str, ...]:
        """Why a place for the index was passed over (one line each)."""
        return self._db.notes

    def _cur(self) -> Any:
        if self._closed:
            raise RuntimeError("index: closed")
        return self._db.con.cursor()

    def _reset_db(self) -> None:
        empty_tables(self._cur())
        self._writes.forget()
        self._st = IndexState()
        self._catalogue.next_rid = 1
        with self._lock:
            self._curve_cache.reset()

    def _load_cached(self) -> None:
        """Rebuild the in-memory state from a cache file (validated on the first refresh)."""
        got = read_cached(self._cur(), self.root)
        self._writes.adopt(got.mids, got.lagging)
        self._st = got.state
        self._catalogue.next_rid = max(self._catalogue.next_rid, got.next_rid)

    def foreign_files(self) -> dict[str, list[str]]:
        """``{path of another tracker's run: its files}``, for a watcher (see ``store.watch``)."""
        return self._foreign.watched()

    @property
    def warnings(self) -> list[str]:
        """Root-level warnings (duplicate run ids, an unreadable root, a source that failed)."""
        return self._catalogue.warnings + self._foreign.warnings

    # -------------------------------------------------------------- refresh

    def scan(
        self, dirs: Iterable[str | os.PathLike[str]] | None = None, *, defer_foreign: bool = False
    ) -> set[str]:
        """List run directories and (re)read the small files of new or changed runs.

        Args:
            dirs: Only these run directories may have changed (what a watcher
                reported): the others are not looked at, except that the
                state of running runs is derived again. None: all of them.
            defer_foreign: (with None) other trackers' runs not mirrored yet
                are listed from their headers and left for ``mirror_pending``
                (a viewer's first scan: the table comes before their reading).

        Returns:
            Ids of runs that are new, changed (files or derived state) or vanished.
        """
        with self._refresh_lock:
            return self._scan(dirs, defer_foreign)

    @property
    def pending_mirrors(self) -> int:
        """Other trackers' runs listed by ``scan(defer_foreign=True)`` and not read yet."""
        return len(self._foreign.pending)

    def mirror_pending(
        self, *, first: str | None = None, budget_s: float = 0.0
    ) -> tuple[list[str], set[str]]:
        """Read runs that ``scan(defer_foreign=True)`` left, ``first`` (a run directory) first,
        then more while ``budget_s`` lasts, and scan them: ``(their directories, for
        ingest(dirs=...), ids of the runs that changed)``."""
        with self._refresh_lock:
            done = self._foreign.sync_pending(first, budget_s)
            return done, (self._catalogued(done) if done else set())

    def _scan(self, dirs: Iterable[str | os.PathLike[str]] | None, defer: bool = False) -> set[str]:
        # Other trackers' runs first: their mirrored directories are then scanned like any.
        return self._catalogued(self._foreign.refresh(dirs, defer=defer))

    def _catalogued(self, dirs: list[str] | None) -> set[str]:
        """Scan ``dirs`` (run directories, mirrored ones included; None: all)."""
        old = self._st
        got = self._catalogue.scan(old, dirs, self._now())
        with self._lock:
            if got.warnings is None:  # (a few reported runs: no run came or went)
                self._st = IndexState(got.runs, old.hist, old.mstats, old.texts)
            else:
                self._st = old.kept(got.runs)
                self._rows.forget([r.rid for r in got.gone])
            # Written to DuckDB later (before the next ingest or filter): the
            # run table needs only the state above, and is on screen sooner.
            if got.upserts or got.state_updates or got.gone:
                self._writes.pending_runs.append((got.upserts, got.state_updates, got.gone))
                self._writes.pending_summaries.update(r.rid for r in got.upserts)
        return got.changed

    def ingest(
        self,
        *,
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
        dirs: Iterable[str | os.PathLike[str]] | None = None,
    ) -> set[str]:
        """Load metric records appended since the last call (everything the first time).

        Args:
            cancel: Set it to stop between batches; what was loaded stays loaded.
            progress: Called with ``(runs done, runs to do)`` as batches finish.
            dirs: Only the histories in these run directories may have
                grown (see ``scan``); None: look at all of them.

        When the index's storage fails during the load (a disk that fills
        up), the index opens one step down its chain and, where that place
        is fresh, loads every run again: the answer then names them all.

        Returns:
            Ids of runs whose metrics changed.
        """
        with self._refresh_lock:
            while True:  # (each place fails once: root, user cache, temp file, memory)
                try:
                    return self._ingest(cancel, progress, dirs)
                except Exception as e:
                    opened = self._opened
                    if opened is None or opened.kind == "memory" or not cache_unusable(e):
                        raise
                    self._fall_back(e)

    def _fall_back(self, why: BaseException) -> None:
        """Open the index one step down its chain after its storage failed mid-write.

        Nothing is rolled back (``store.writes.transaction``). A fresh place
        holds nothing: the in-memory state goes too, and the next ingest
        loads every run again (the run list is read again first). A place
        that held a cache already is read like one at start.
        """
        with self._open_lock:
            self._opened = reopen(self._opened, self.root, why)
        with self._lock:
            self._rows.forget([r.rid for r in self._st.runs.values()])
        self._loader.validated = False
        if self._opened.fresh:
            self._reset_db()
        else:
            try:
                self._writes.forget()
                self._load_cached()
            except Exception:
                self._reset_db()
        self._scan(None)

    def _ingest(
        self,
        cancel: threading.Event | None,
        progress: Callable[[int, int], None] | None,
        dirs: Iterable[str | os.PathLike[str]] | None,
    ) -> set[str]:
        only = catalogue.names_in(self.root, self._foreign.translate(dirs), self._foreign.dirs())
        self._writes.flush(summaries=False)
        st = self._st
        if only is None or not self._loader.validated:
            # (the first ingest checks every file against the cache)
            todo = list(st.runs.values())
        else:  # (a live refresh: a few runs of maybe thousands)
            by_dir = self._catalogue.by_dir(st)
            todo = [by_dir[d] for d in sorted(only) if d in by_dir]
        return st.ids_of(self._loader.load(todo, cancel, progress), todo)

    def _apply(
        self,
        got: Loaded,
        resets: list[int],
        *,
        summaries: bool = True,
        pending: bool = False,
        unwritten: Loaded | None = None,
    ) -> None:
        """Install loaded state; ``resets`` lose their points first.

        ``summaries=False`` when the caller wrote the summaries already, or
        with ``pending`` leaves them for later. ``unwritten``: rows of this
        load that the write-behind queue writes later (queued with the state change).
        """
        if resets:
            self._writes.forget_points(resets)
        changed = touched(got, resets)
        with self._lock:
            self._st = self._st.merged(got, resets)
            self._curve_cache.bump(set(resets) | set(got.hist) | set(got.mstats) | set(got.texts))
            if pending:
                self._writes.pending_summaries |= changed
            if unwritten is not None:
                self._writes.hold(unwritten)
        if changed and summaries:
            with self._writes.flush_lock:
                self._writes.write_summaries(sorted(changed))

    def refresh(self, dirs: Iterable[str | os.PathLike[str]] | None = None, **kw: Any) -> set[str]:
        """``scan(dirs)`` then ``ingest(dirs=dirs, **kw)``; returns the ids either changed."""
        if dirs is not None:
            dirs = list(dirs)
        return self.scan(dirs) | self.ingest(dirs=dirs, **kw)

    def close(self) -> None:
        """Close DuckDB (a cache file is kept for the next start, with the
        run list beside it: see ``store.saved_rows``)."""
        with self._refresh_lock:
            if not self._closed:
                try:
                    self._write_behind()
                    self._writes.flush()
                    if self.storage in ("root", "user") and self._db.path is not None:
                        from trackui.store.saved_rows import write_snapshot

                        write_snapshot(self._db.path, self.root, self.runs())
                finally:
                    self._closed = True
                    self._foreign.close()
                    close_db(self._db)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- queries

    @property
    def loaded(self) -> tuple[int, int]:
        """``(runs whose metrics are loaded, runs total)``, for a progress bar."""
        return self._st.loaded()

    def runs(
        self, filter: str = "", *, sort: str | None = "created", descending: bool = True
    ) -> list[RunRow]:
        """The runs matching ``filter``, ordered by ``sort``.

        Args:
            filter: The filter language of ``store.filter`` (empty: all runs).
            sort: A RunRow field, or ``config.<flat key>`` / ``summary.<flat key>``
                (or a run table column: see ``store.sorting``); None for no
                particular order (a caller that sorts them itself).
            descending: Largest first; runs without a value come last either way.

        Raises:
            FilterError: The filter is malformed.
            ValueError: Unknown sort column.
        """
        st = self._st
        now = self._now()
        if filter.strip():
            sql, params = compile_filter(filter)
            self._writes.flush()
            ids = matching_ids(self._cur(), sql, params)
            runs = [r for r in st.runs.values() if r.info.id in ids]
        else:
            runs = list(st.runs.values())
        rows = [self._rows.row(st, r, now) for r in runs]
        if sort is None:
            return rows
        check_sort_column(sort)
        rows.sort(key=lambda r: r.id, reverse=descending)  # (equal values in id order)
        return sort_rows(rows, sort, descending, now)

    def run(self, run_id: str) -> RunRow:
        """One run by exact id.

        Raises:
            LookupError: No run has this id.
        """
        st = self._st
        return self._rows.row(st, st.entry(run_id), self._now())

    def resolve(self, ref: str) -> RunRow:
        """A run by id, unique id prefix, unique name, or run directory path.

        Raises:
            LookupError: Nothing or more than one run matches (one-line message).
        """
        return self.run(self._st.resolve(ref, self.root))

    def metrics(self, run_ids: Sequence[str]) -> list[MetricInfo]:
        """Numeric metric names of the runs, with each run's step count."""
        return self._st.metrics(run_ids, self._writes.mnames)

    def aggregates(
        self, keys: Sequence[str], run_ids: Sequence[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """Run id to ``{key: value}`` for aggregate column keys (``best:val_accuracy``,
        ``mean:loss``: ``store.aggregates``), in one query; other keys are ignored, and a
        run without a value (no point, or no goal for ``best``) has no entry for it.

        Raises:
            LookupError: An unknown run id.
        """
        st = self._st
        runs = list(st.runs.values()) if run_ids is None else [st.entry(r) for r in run_ids]
        if not any(parse_aggregate_key(k) for k in keys) or not runs:
            return {}
        self._write_behind()
        return run_aggregates(
            self._cur(),
            keys,
            {r.rid: r.info.id for r in runs},
            self._mids,
            [r.info.meta for r in st.runs.values()],  # (every run's declarations: one goal)
        )

    def keys(self) -> tuple[list[str], list[str]]:
        """``(config flat keys, summary keys)`` over all runs, sorted."""
        return self._rows.keys(self._st, self._now())

    def series(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        *,
        x: str = layout.X_STEP,
        smoothing: str = layout.SMOOTH_TWEMA,
        strength: float = 0.6,
        buckets: int = 200,
        x_range: tuple[float, float] | None = None,
        with_time: bool = False,
    ) -> list[Series]:
        """Curves of ``metrics`` for ``run_ids``: smoothed on full data, then bucketed.

        One Series per (run, metric) in the order given; a run lacking the
        metric gets an empty Series. Each bucket carries its point's step, and
        its wall time where the time column is read (a time axis, or
        ``with_time``: a step chart then reads one more column).

        Raises:
            LookupError: An unknown run id.
            ValueError: Unknown x axis or smoothing, or ``buckets < 1``.
        """
        return self._curve_cache.series(
            run_ids, metrics, dict(self._mids), x, smoothing, strength, buckets, x_range, with_time
        )

    def read_ahead(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        *,
        x: str = layout.X_STEP,
        min_points: int | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Read the points of long curves into the curves' point cache before they are asked for.

        The runs' ``metrics`` (and ``x``, when it is a metric) as ``series``
        would read them, in the order given, while each fits beside what the
        cache holds: nothing is evicted for them, and the first that does not
        fit ends the read. Curves of fewer than ``min_points`` points
        (default ``READ_AHEAD_MIN_POINTS``) are skipped. A later ``series``
        over them starts from memory. Stops when ``cancel`` is set; returns
        how many curves it read.
        """
        if min_points is None:
            min_points = READ_AHEAD_MIN_POINTS
        return self._curve_cache.read_ahead(
            run_ids, metrics, dict(self._mids), x, min_points, cancel
        )

    def points(self, run_id: str, metric: str) -> tuple[Any, Any, Any]:
        """Full-resolution ``(step, t, value)`` arrays of one metric (one entry per step, read-only)."""
        run = self._st.entry(run_id)
        mid = self._mids.get(metric)
        if mid is None:
            return stored.no_points()
        self._write_behind()
        return stored.fetch_points(self._cur(), run.rid, mid)

    def history_table(self, run_ids: Sequence[str]) -> Any:
        """Every numeric value of the runs, full resolution, as a pyarrow Table.

        Columns: ``run_id``, ``step``, ``time``, ``metric``, ``value``; one row
        per (run, metric, step), the last logged value winning, in run then
        file order.
        """
        self._write_behind()
        return stored.history_table(self._cur(), self._st, run_ids, self._writes.mnames)

    def diff(
        self, run_ids: Sequence[str], *, baseline: str | None = None, all_keys: bool = False
    ) -> Diff:
        """Config and summary keys that differ across runs, with deltas from ``baseline``.

        Raises:
            LookupError: An unknown run id, or a baseline not among ``run_ids``.
        """
        return diff_runs([self.run(r) for r in run_ids], baseline, all_keys)

    def text_values(self, run_id: str) -> dict[str, str]:
        """The last value of each text metric of a run."""
        return self._st.text_values(run_id)
