"""The index: a DuckDB picture of a run root that stays current while runs are written.

``scan()`` lists the runs and reads their small files (fast: the run table
needs only this); ``ingest()`` loads metric records, in bulk the first time
and then only the bytes appended since each file's last offset. Queries
(``runs``, ``series``, ``diff``...) answer from DuckDB and from the small
per-run state kept here.

Appends to runs already loaded (live runs) go to that state, and to the
curves' point cache, at once; their rows are written to DuckDB a few seconds
later in one transaction (``_write_behind``), or before anything reads those
tables or deletes from them. A live refresh then costs no DuckDB write.

Methods may be called from worker threads: one refresh (``scan``/``ingest``)
at a time, queries concurrently with each other and with a refresh. The
index owns one DuckDB connection; every call uses its own cursor. Every error
that reaches a caller has a one-line message.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout
from trackui.store import points as stored
from trackui.store.curves import check_series_args, copy_series, make_series
from trackui.store.db import (
    STAGE_DB,
    Opened,
    all_tables,
    bulk_memory,
    cache_paths,
    close_db,
    open_db,
    run_tables,
    unsynced,
)
from trackui.store.diff import compute_diff
from trackui.store.filter import FilterError, compile_filter
from trackui.store.ingest import (
    BULK_MIN_BYTES,
    HistState,
    Loaded,
    MStat,
    history_warnings,
    read_before,
    read_head,
)
from trackui.store.ingest_bulk import (
    BATCH_BYTES,
    BATCH_FILES,
    BulkFile,
    bulk_sample,
    count_colons,
    drop_stage,
    load_bulk,
    stage_bulk,
)
from trackui.store.ingest_exact import insert_points, insert_texts, load_exact
from trackui.store.liveness import derive_state
from trackui.store.models import Diff, MetricInfo, RunInfo, RunRow, Series, flatten
from trackui.store.points import PointsCache
from trackui.store.reader import META_DEFAULTS, decode_value, encode_value, read_json_object
from trackui.store.sorting import check_sort_column, sort_rows

__all__ = ["FilterError", "Index"]

_SMALL = (layout.META, layout.CONFIG, layout.SUMMARY)
_CURVE_CACHE = 256
"""Curves kept for redraws (a few KB each)."""
_POINTS_CACHE_BYTES = 96 << 20
"""Full-resolution points kept for recomputing curves: 10 runs x 1M points of one metric."""
HEAD_HEX = 128
"""A history's first 64 bytes, in hex: what tells a file rewritten from one appended to."""
READ_AHEAD_MIN_POINTS = 100_000
"""Curves shorter than this are not read ahead: read when charted, they take milliseconds."""
_PARALLEL_POINTS = 200_000
"""Curves are computed in two threads when they hold more points than this together."""
WRITE_BEHIND_S = 5.0
"""Live appends wait in memory at most this long before they are written to DuckDB..."""
WRITE_BEHIND_POINTS = 200_000
"""...or until this many points wait."""


def _points_in(got: Loaded) -> int:
    """How many points a load holds (those held for ``Index._write_behind`` are counted)."""
    return 0 if got.points is None else len(got.points)


def _list_runs(root: Path) -> list[str]:
    """Names of run directories under ``root``, sorted (one ``scandir``, no stat per entry)."""
    try:
        with os.scandir(root) as it:
            names = [
                e.name
                for e in it
                if layout.parse_run_dir_name(e.name) is not None and e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []
    names.sort()
    return names


def _names_in(root: Path, dirs: Iterable[str | os.PathLike[str]] | None) -> set[str] | None:
    """The names of the run directories among ``dirs`` that lie directly under ``root``."""
    if dirs is None:
        return None
    out = set()
    for d in dirs:
        p = Path(d)
        if p.parent == root and layout.parse_run_dir_name(p.name) is not None:
            out.add(p.name)
    return out


def _sig(run_dir: str) -> str | None:
    """Sizes and mtimes of a run's small files; None when it has no ``meta.json`` yet."""
    parts = []
    for name in _SMALL:
        try:
            st = os.stat(run_dir + os.sep + name)
        except FileNotFoundError:
            if name == layout.META:
                return None
            parts.append("-")
            continue
        except OSError:
            parts.append("?")
            continue
        parts.append(f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
    return "|".join(parts)


def _kv_table(kv: dict[str, list[Any]]) -> Any:
    """Key/value rows (``rid``, ``key``, ``num``, ``txt`` columns) as an Arrow table to insert."""
    import pyarrow as pa

    return pa.table({
        "rid": pa.array(kv["rid"], pa.int32()), "key": pa.array(kv["key"], pa.string()),
        "num": pa.array(kv["num"], pa.float64()), "txt": pa.array(kv["txt"], pa.string()),
    })  # fmt: skip


def _dumps(v: Any) -> str:
    return orjson.dumps(encode_value(v), option=orjson.OPT_NON_STR_KEYS).decode()


def _kv(v: Any) -> tuple[float | None, str | None]:
    """A value as (number, text) columns for filtering."""
    if isinstance(v, bool):
        return (1.0 if v else 0.0), ("true" if v else "false")
    if isinstance(v, (int, float)):
        f = float(v)
        return (f if not math.isnan(f) else None), encode_value(f) if not math.isfinite(
            f
        ) else repr(v)
    if v is None:
        return None, None
    if isinstance(v, str):
        return None, v
    return None, _dumps(v)


def _placeholder(run_dir: Path, why: str) -> RunInfo | None:
    """A run whose ``meta.json`` cannot be used: listed with a warning, nothing loaded."""
    parsed = layout.parse_run_dir_name(run_dir.name)
    if parsed is None:
        return None
    meta = {**META_DEFAULTS, "id": parsed[1], "state": "crashed"}
    return RunInfo(parsed[1], run_dir, meta, {}, {}, "crashed", (why,))


def _read_info(run_dir: Path, now: float) -> RunInfo | None:
    from trackui.store.reader import read_run

    info = read_run(run_dir, now=now)
    if info is not None:
        return info
    warns: list[str] = []
    meta = read_json_object(run_dir / layout.META, warns)
    if meta is None:
        if warns:
            return _placeholder(run_dir, warns[0])
        return None  # not written yet: the run appears once it is
    fmt = meta.get("format")
    return _placeholder(
        run_dir,
        f"{layout.META}: format {fmt!r} is newer than this trackui reads "
        f"({layout.FORMAT_VERSION}); run not loaded",
    )


@dataclass
class _Run:
    rid: int
    dir: str
    sig: str
    info: RunInfo
    readable: bool = True
    """False for placeholders: nothing of theirs is loaded."""


@dataclass
class _State:
    """Everything the queries need besides DuckDB; replaced, never mutated in place."""

    runs: dict[str, _Run] = field(default_factory=dict)
    hist: dict[int, HistState] = field(default_factory=dict)
    mstats: dict[int, dict[int, MStat]] = field(default_factory=dict)
    texts: dict[int, dict[str, tuple[int, str]]] = field(default_factory=dict)


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
        self._by_dir: tuple[dict[str, _Run], dict[str, _Run]] = ({}, {})
        self._lock = threading.Lock()
        self._cache = cache
        self._opened: Opened | None = None
        self._open_lock = threading.Lock()
        self.warnings: list[str] = []
        """Root-level warnings (duplicate run ids, an unreadable root)."""
        self._mids: dict[str, int] = {}
        self._mnames: dict[int, str] = {}
        self._st = _State()
        self._next_rid = 1
        self._validated = False
        self._closed = False
        self._rows: dict[int, tuple[Any, Any, Any, Any, RunRow]] = {}
        """Per run, its row and what it was built from (run, hist, stats, texts)."""
        self._row_keys: dict[int, tuple[RunRow, frozenset[str], frozenset[str]]] = {}
        """Per run, its config and summary keys and the row they were read from."""
        self._keys: tuple[list[str], list[str]] | None = None
        """The last answer of ``keys()``."""
        self._pending: list[tuple[list[_Run], list[_Run], list[_Run]]] = []
        self._pending_summaries: set[int] = set()
        self._flush_lock = threading.RLock()
        """Serialises writes of run rows and summaries (DuckDB would reject overlapping ones)."""
        self._gen: dict[int, int] = {}
        """Per run, a number that changes whenever its points change (keys the curve cache)."""
        self._gen_seq = itertools.count(1)
        self._epoch = 0
        """Bumped when the whole database is emptied (rids start again from 1)."""
        self._curves: OrderedDict[tuple[Any, ...], Series] = OrderedDict()
        """Recent curves; a redraw with nothing new does not read a million points again."""
        self._points = PointsCache(_POINTS_CACHE_BYTES)
        """Their points, for a new smoothing, zoom or x axis over the same data."""
        self._ticks = itertools.count(1)
        self._unwritten: list[Loaded] = []
        """Live appends applied to the state above but not yet written to DuckDB."""
        self._unwritten_n = 0
        self._unwritten_since = 0.0
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
                        cur = got.con.cursor()
                        for t in all_tables(cur):
                            cur.execute(f"DELETE FROM {t}")
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

    # ------------------------------------------------------------------ cache

    def _cur(self) -> Any:
        if self._closed:
            raise RuntimeError("index: closed")
        return self._db.con.cursor()

    def _reset_db(self) -> None:
        cur = self._cur()
        for t in all_tables(cur):
            cur.execute(f"DELETE FROM {t}")
        self._mids, self._mnames = {}, {}
        self._st = _State()
        self._next_rid = 1
        with self._lock:
            self._epoch += 1
            self._curves.clear()
            self._unwritten, self._unwritten_n = [], 0

    def _load_cached(self) -> None:
        """Rebuild the in-memory state from a cache file (validated on the first refresh)."""
        cur = self._cur()
        st = _State()
        for mid, name in cur.execute("SELECT mid, name FROM metric_names").fetchall():
            self._mids[name] = mid
            self._mnames[mid] = name
        for rid, rid_id, d, sig, meta, config, summary, warnings, state in cur.execute(
            "SELECT rid, id, dir, sig, meta, config, summary, warnings, state FROM runs"
        ).fetchall():
            summ = {k: decode_value(v) for k, v in orjson.loads(summary).items()}
            info = RunInfo(
                rid_id,
                self.root / d,
                orjson.loads(meta),
                orjson.loads(config),
                summ,
                state,
                tuple(orjson.loads(warnings)),
            )
            st.runs[rid_id] = _Run(rid, d, sig, info, readable=sig != "")
            self._next_rid = max(self._next_rid, rid + 1)
        lagging = set()
        for row in cur.execute(
            "SELECT rid, off, size, mtime_ns, ino, head, steps, last_step, first_t, last_t, "
            "warnings, tail, summary_ok FROM hist"
        ).fetchall():
            w = orjson.loads(row[10])
            st.hist[row[0]] = HistState(
                off=row[1], size=row[2], mtime_ns=row[3], ino=row[4], head=row[5],
                steps=row[6], last_step=row[7], first_t=row[8], last_t=row[9],
                warnings=w["warnings"], damaged=w["damaged"], tail=row[11],
            )  # fmt: skip
            if not row[12]:
                lagging.add(row[0])
        for rid, mid, n, lo, hi, last_v in cur.execute(
            "SELECT rid, s.mid, s.n, s.first_step, s.last_step, s.last_v "
            "FROM (SELECT rid, unnest(stats) AS s FROM hist)"
        ).fetchall():
            st.mstats.setdefault(rid, {})[mid] = MStat(n, lo, hi, last_v)
        for rid, key, step, val in cur.execute(
            "SELECT rid, key, arg_max(step, rowid), arg_max(val, rowid) FROM texts GROUP BY rid, key"
        ).fetchall():
            st.texts.setdefault(rid, {})[key] = (step, val)
        self._st = st
        # Summaries left behind by a viewer that did not close: rewritten
        # before the next filter.
        self._pending_summaries |= {r for r in lagging if r in st.hist}

    # ------------------------------------------------------------------- scan

    def scan(self, dirs: Iterable[str | os.PathLike[str]] | None = None) -> set[str]:
        """List run directories and (re)read the small files of new or changed runs.

        Args:
            dirs: Only these run directories may have changed (what a watcher
                reported): the others are not looked at, except that the
                state of running runs is derived again. None: all of them.

        Returns:
            Ids of runs that are new, changed (files or derived state) or vanished.
        """
        with self._refresh_lock:
            return self._scan(_names_in(self.root, dirs))

    def _dirs(self, st: _State) -> dict[str, _Run]:
        """The runs of ``st`` by directory name (kept while its run table is)."""
        if self._by_dir[0] is not st.runs:
            self._by_dir = (st.runs, {r.dir: r for r in st.runs.values()})
        return self._by_dir[1]

    def _rederived(self, run: _Run, now: float) -> _Run | None:
        """``run`` with its state derived again if it moved (a running run's writer may have died)."""
        if not (run.readable and run.info.meta.get("state") == "running"):
            return None
        d = self.root / run.dir
        state = derive_state(run.info.meta, d, now=now)
        if state == run.info.state:
            return None
        i = run.info
        return _Run(run.rid, run.dir, run.sig,
                    RunInfo(i.id, d, i.meta, i.config, i.summary, state, i.warnings))  # fmt: skip

    def _scan_reported(self, only: set[str]) -> set[str] | None:
        """``_scan`` of a few reported runs, without a pass over every run.

        A live refresh reports the few runs being written, in a root that may
        hold thousands: their entries are replaced in a copy of the run
        table, and the other running runs' states derived again. None (and
        nothing changed) when a reported run is new, vanished or changed its
        id: the caller then makes the full pass.
        """
        now = self._now()
        old = self._st
        by_dir = self._dirs(old)
        if not only <= by_dir.keys():
            return None
        root_s = str(self.root)
        runs = dict(old.runs)
        changed: set[str] = set()
        upserts: list[_Run] = []
        state_updates: list[_Run] = []
        for name in sorted(only):
            prev = by_dir[name]
            sig = _sig(root_s + os.sep + name)
            if sig is None:
                return None
            if sig == prev.sig:
                continue  # (its state is looked at below, with the other running runs)
            info = _read_info(self.root / name, now)
            if info is None or info.id != prev.info.id:
                return None
            readable = not (info.warnings and info.warnings[0].startswith(layout.META))
            run = _Run(prev.rid, name, sig if readable else "", info, readable)
            runs[info.id] = run
            upserts.append(run)
            changed.add(info.id)
        touched = {r.info.id for r in upserts}
        for run in old.runs.values():
            if run.info.meta.get("state") == "running" and run.info.id not in touched:
                moved = self._rederived(run, now)
                if moved is not None:
                    runs[moved.info.id] = moved
                    state_updates.append(moved)
                    changed.add(moved.info.id)
        dirs = by_dir
        if upserts or state_updates:
            dirs = {**by_dir, **{r.dir: r for r in (*upserts, *state_updates)}}
        with self._lock:
            self._st = _State(runs, old.hist, old.mstats, old.texts)
            self._by_dir = (runs, dirs)
            if upserts or state_updates:
                self._pending.append((upserts, state_updates, []))
                self._pending_summaries.update(r.rid for r in upserts)
        return changed

    def _scan(self, only: set[str] | None = None) -> set[str]:
        if only is not None:
            got = self._scan_reported(only)
            if got is not None:
                return got
        now = self._now()
        old = self._st
        by_dir = self._dirs(old)
        runs: dict[str, _Run] = {}
        changed: set[str] = set()
        upserts: list[_Run] = []
        state_updates: list[_Run] = []
        warnings: list[str] = []
        root_s = str(self.root)
        if only is None:
            if not self.root.is_dir():
                warnings.append(f"{self.root}: not a directory (no runs)")
            names = _list_runs(self.root)
        else:
            # The runs known already and the directories reported, in the
            # order a full listing gives; warnings stay as the last full scan left them.
            warnings = list(self.warnings)
            names = sorted(set(by_dir) | {n for n in only if (self.root / n).is_dir()})
        for name in names:
            prev = by_dir.get(name)
            if only is not None and name not in only and prev is not None:
                # Not reported: unchanged on disk. Only a running run's
                # state can move (its writer may have died).
                if not (prev.readable and prev.info.meta.get("state") == "running"):
                    runs[prev.info.id] = prev
                    continue
                sig: str | None = prev.sig
            else:
                sig = _sig(root_s + os.sep + name)
            if sig is None:
                continue
            d = self.root / name
            if prev is not None and prev.sig == sig:
                run = prev
                moved = self._rederived(prev, now)
                if moved is not None:
                    run = moved
                    state_updates.append(run)
                    changed.add(run.info.id)
            else:
                info = _read_info(d, now)
                if info is None:
                    continue
                rid = prev.rid if prev is not None else self._alloc_rid()
                readable = not (info.warnings and info.warnings[0].startswith(layout.META))
                run = _Run(rid, name, sig if readable else "", info, readable)
                upserts.append(run)
                changed.add(info.id)
                if prev is not None:
                    changed.add(prev.info.id)  # (the same, or the id it had before)
            if run.info.id in runs:
                if only is not None:
                    continue  # said by the last full scan already
                warnings.append(
                    f"{d.name}: run id {run.info.id!r} already used by "
                    f"{runs[run.info.id].dir}; skipped"
                )
                continue
            runs[run.info.id] = run
        kept_rids = {r.rid for r in runs.values()}
        gone = [r for r in old.runs.values() if r.rid not in kept_rids]
        changed.update(r.info.id for r in gone)
        with self._lock:
            hist = {k: v for k, v in old.hist.items() if k in kept_rids}
            mstats = {k: v for k, v in old.mstats.items() if k in kept_rids}
            texts = {k: v for k, v in old.texts.items() if k in kept_rids}
            self._st = _State(runs, hist, mstats, texts)
            self.warnings = warnings
            for r in gone:
                self._rows.pop(r.rid, None)
                self._row_keys.pop(r.rid, None)
                self._keys = None
            # Written to DuckDB later (before the next ingest or filter): the
            # run table needs only the state above, and is on screen sooner.
            if upserts or state_updates or gone:
                self._pending.append((upserts, state_updates, gone))
                self._pending_summaries.update(r.rid for r in upserts)
        return changed

    def _alloc_rid(self) -> int:
        rid = self._next_rid
        self._next_rid += 1
        return rid

    def _write_runs(self, upserts: list[_Run], state_updates: list[_Run], gone: list[_Run]) -> None:
        if not (upserts or state_updates or gone):
            return
        import pyarrow as pa

        if gone:
            self._write_behind()  # (then deleted with the rest of those runs)
        cur = self._cur()
        cur.execute("BEGIN")
        try:
            drop = [r.rid for r in upserts] + [r.rid for r in gone]
            if drop:
                for t in ("runs", "config_kv"):
                    cur.execute(f"DELETE FROM {t} WHERE list_contains(?::INTEGER[], rid)", [drop])
            if gone:
                g = [r.rid for r in gone]
                for t in ("summary_kv", *run_tables(cur)):
                    cur.execute(f"DELETE FROM {t} WHERE list_contains(?::INTEGER[], rid)", [g])
            for r in state_updates:
                cur.execute("UPDATE runs SET state = ? WHERE rid = ?", [r.info.state, r.rid])
            if upserts:
                cols: dict[str, list[Any]] = {k: [] for k in (
                    "rid", "id", "dir", "name", "project", "grp", "job_type", "tags", "state",
                    "host", "created", "start_time", "notes", "sig", "meta", "config", "summary",
                    "warnings")}  # fmt: skip
                kv: dict[str, list[Any]] = {"rid": [], "key": [], "num": [], "txt": []}
                for r in upserts:
                    m = r.info.meta
                    st = m.get("start_time")
                    for k, v in (
                        ("rid", r.rid), ("id", r.info.id), ("dir", r.dir), ("name", r.info.name),
                        ("project", _s(m.get("project"))), ("grp", _s(m.get("group"))),
                        ("job_type", _s(m.get("job_type"))),
                        ("tags", [str(t) for t in m.get("tags") or []]),
                        ("state", r.info.state), ("host", _s(m.get("host"))),
                        ("created", _s(m.get("created"))),
                        ("start_time", float(st) if isinstance(st, (int, float)) else None),
                        ("notes", _s(m.get("notes"))), ("sig", r.sig), ("meta", _dumps(m)),
                        ("config", _dumps(r.info.config)), ("summary", _dumps(r.info.summary)),
                        ("warnings", _dumps(list(r.info.warnings))),
                    ):  # fmt: skip
                        cols[k].append(v)
                    for key, val in flatten(r.info.config).items():
                        num, txt = _kv(val)
                        kv["rid"].append(r.rid)
                        kv["key"].append(key)
                        kv["num"].append(num)
                        kv["txt"].append(txt)
                tbl = pa.table({
                    **{k: cols[k] for k in cols if k not in ("rid", "tags", "start_time")},
                    "rid": pa.array(cols["rid"], pa.int32()),
                    "tags": pa.array(cols["tags"], pa.list_(pa.string())),
                    "start_time": pa.array(cols["start_time"], pa.float64()),
                })  # fmt: skip
                cur.register("_runs_new", tbl)
                cur.execute(
                    "INSERT INTO runs SELECT rid, id, dir, name, project, grp, job_type, tags, "
                    "state, host, created, start_time, notes, sig, meta, config, summary, "
                    "warnings FROM _runs_new"
                )
                cur.unregister("_runs_new")
                if kv["rid"]:
                    cur.register("_kv_new", _kv_table(kv))
                    cur.execute("INSERT INTO config_kv SELECT rid, key, num, txt FROM _kv_new")
                    cur.unregister("_kv_new")
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise

    def _merged_summary(self, st: _State, run: _Run) -> dict[str, Any]:
        """Last values from the history, overridden by ``summary.json`` (docs/format.md)."""
        out: dict[str, Any] = {}
        for mid, s in st.mstats.get(run.rid, {}).items():
            out[self._mnames[mid]] = s.last_v
        for key, (_, val) in st.texts.get(run.rid, {}).items():
            out.setdefault(key, val)
        out.update(run.info.summary)
        return out

    def _write_summaries(
        self, rids: Sequence[int], cur: Any = None, st: _State | None = None
    ) -> None:
        """Refresh ``summary_kv`` (what filters on summary keys see) for ``rids``.

        With ``cur``, inside the caller's transaction and from the state ``st``
        that the caller is about to install; otherwise in a transaction of its own.
        """

        if not rids:
            return
        st = self._st if st is None else st
        by_rid = {r.rid: r for r in st.runs.values()}
        kv: dict[str, list[Any]] = {"rid": [], "key": [], "num": [], "txt": []}
        for rid in rids:
            run = by_rid.get(rid)
            if run is None:
                continue
            for key, val in self._merged_summary(st, run).items():
                num, txt = _kv(val)
                kv["rid"].append(rid)
                kv["key"].append(key)
                kv["num"].append(num)
                kv["txt"].append(txt)
        own = cur is None
        if own:
            cur = self._cur()
            cur.execute("BEGIN")
        try:
            cur.execute(
                "DELETE FROM summary_kv WHERE list_contains(?::INTEGER[], rid)", [list(rids)]
            )
            if kv["rid"]:
                cur.from_arrow(_kv_table(kv)).insert_into("summary_kv")
            cur.execute(
                "UPDATE hist SET summary_ok = true WHERE list_contains(?::INTEGER[], rid) "
                "AND NOT summary_ok",
                [list(rids)],
            )
            if own:
                cur.execute("COMMIT")
        except Exception:
            if own:
                cur.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- ingest

    def _mid(self, name: str, cur: Any) -> int:
        mid = self._mids.get(name)
        if mid is None:
            mid = len(self._mids) + 1
            cur.execute("INSERT INTO metric_names VALUES (?, ?)", [mid, name])
            with self._lock:
                self._mids[name] = mid
                self._mnames[mid] = name
        return mid

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

        Returns:
            Ids of runs whose metrics changed.
        """
        with self._refresh_lock:
            return self._ingest(cancel, progress, _names_in(self.root, dirs))

    def _flush(self, *, summaries: bool = True) -> None:
        """Write the run changes found by ``scan()`` to DuckDB, and with
        ``summaries`` the summaries that filters read (pending since then or
        since live appends)."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, []
                sums: set[int] = set()
                if summaries:
                    sums, self._pending_summaries = self._pending_summaries, set()
            for upserts, state_updates, gone in pending:
                self._write_runs(upserts, state_updates, gone)
            if sums:
                self._write_summaries(sorted(sums))

    def _ingest(
        self,
        cancel: threading.Event | None,
        progress: Callable[[int, int], None] | None,
        only: set[str] | None = None,
    ) -> set[str]:
        self._flush(summaries=False)
        st = self._st
        validate = not self._validated
        if validate:
            only = None  # the first ingest checks every file against the cache
        resets: list[int] = []
        exact: list[tuple[int, Path, HistState, int]] = []
        bulk: list[tuple[int, Path, int]] = []
        if only is None:
            todo = list(st.runs.values())
        else:  # (a live refresh: a few runs of maybe thousands)
            by_dir = self._dirs(st)
            todo = [by_dir[d] for d in sorted(only) if d in by_dir]
        id_of = {r.rid: r.info.id for r in todo}
        hist_upd: dict[int, HistState] = {}
        for run in todo:
            if not run.readable:
                continue
            path = run.info.path / layout.HISTORY
            h = st.hist.get(run.rid)
            try:
                fs = os.stat(path)
            except OSError:
                if h is not None and h.off > 0:
                    resets.append(run.rid)  # the history vanished: forget its points
                    hist_upd[run.rid] = HistState()
                elif h is None:
                    hist_upd[run.rid] = HistState()  # nothing to load: loaded
                continue
            if (
                h is not None
                and fs.st_size == h.size
                and fs.st_mtime_ns == h.mtime_ns
                and not validate
            ):
                continue
            # An append-only file only grows: anything else means it was
            # replaced or rewritten, and is loaded again from byte 0.
            replaced = (
                h is not None
                and h.off > 0
                and (
                    fs.st_ino != h.ino
                    or fs.st_size < h.off
                    or (fs.st_size == h.size and fs.st_mtime_ns != h.mtime_ns)
                    # (a head read while the file was shorter is compared as far as it goes)
                    or read_head(path, len(h.head) // 2) != h.head
                    or read_before(path, h.off) != h.tail
                )
            )
            if replaced:
                resets.append(run.rid)
                h = None
            base = h if h is not None else HistState()
            base = HistState(**{**base.__dict__, "warnings": list(base.warnings)})
            base.size, base.mtime_ns, base.ino = fs.st_size, fs.st_mtime_ns, fs.st_ino
            if len(base.head) < HEAD_HEX or base.off == 0:
                base.head = read_head(path)
            if fs.st_size <= base.off:
                hist_upd[run.rid] = base
                continue
            if base.off == 0 and fs.st_size >= BULK_MIN_BYTES:
                bulk.append((run.rid, path, fs.st_size))
            else:
                exact.append((run.rid, run.info.path, base, fs.st_size))
            hist_upd[run.rid] = base
        self._validated = True
        total = len(exact) + len(bulk)
        done = 0
        changed: set[int] = set(resets)
        if resets:
            self._write_behind()  # (appends held for these runs go before their points do)
            self._apply(Loaded(), resets, {})
        if progress is not None and total:
            progress(0, total)
        # Small appends first: live runs show their newest values soonest.
        if exact:
            appends = [it for it in exact if it[2].off > 0]
            firsts = [it for it in exact if it[2].off == 0]
            if appends:
                changed |= self._load_exact_items(appends, defer=True)
            if firsts:
                changed |= self._load_exact_items(firsts)
            done += len(exact)
            if progress is not None:
                progress(done, total)
        if bulk:
            changed |= self._ingest_bulk(bulk, hist_upd, cancel, progress, done, total)
            if cancel is not None and cancel.is_set():
                return {id_of[r] for r in changed if r in id_of}
        # Files that only had their stat refreshed (no new bytes).
        rest = {rid: h for rid, h in hist_upd.items() if rid not in changed}
        if rest:
            self._apply(Loaded(hist=rest), [], {})
        if self._unwritten and (
            time.monotonic() - self._unwritten_since >= WRITE_BEHIND_S
            or self._unwritten_n >= WRITE_BEHIND_POINTS
        ):
            self._write_behind()
        return {id_of[r] for r in changed if r in id_of}

    def _ingest_bulk(
        self,
        bulk: list[tuple[int, Path, int]],
        hist_upd: dict[int, HistState],
        cancel: threading.Event | None,
        progress: Callable[[int, int], None] | None,
        done: int,
        total: int,
    ) -> set[int]:
        """Load whole files in batches of the same metric names, three threads at work.

        A thread samples the files and counts their colons; another stages
        (parses) the next batch while this one writes the last. DuckDB
        releases the GIL, and staging is the larger half of the work: the
        two halves overlap rather than take turns (a cold load of 50M points
        took a sixth less time).
        """
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        def prep(item: tuple[int, Path, int]) -> BulkFile | None:
            rid, path, size = item
            sample = bulk_sample(path, size)
            colons = count_colons(path, size) if sample is not None else None
            if sample is None or colons is None:
                return None
            return BulkFile(rid, path, size, sample[0], colons, sample[1])

        changed: set[int] = set()
        stage_cur = self._cur()  # the stager thread's own
        cur = self._cur()
        names = itertools.count()
        staging: deque[tuple[Future[bool], list[BulkFile], tuple[str, ...], bool, str]] = deque()

        def cancelled() -> bool:
            return cancel is not None and cancel.is_set()

        def write_oldest() -> None:
            nonlocal done
            fut, batch, keys, with_x, table = staging.popleft()
            try:
                staged = fut.result()
                if cancelled():
                    return
                if not staged:
                    # Once more here: memory may have been short while the
                    # last batch was written. (A damaged file fails again.)
                    staged = stage_bulk(cur, batch, keys, table, with_x=with_x)
                changed.update(
                    self._load_bulk_batch(batch, keys, with_x, hist_upd, table if staged else None)
                )
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            finally:
                drop_stage(cur, table)

        groups: dict[tuple[tuple[str, ...], bool], tuple[list[BulkFile], int]] = {}
        with (
            unsynced(self._db) as writes,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="trackui-prep") as prep_pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="trackui-stage") as stager,
        ):

            def submit(batch: list[BulkFile], keys: tuple[str, ...], with_x: bool) -> None:
                table = f"{STAGE_DB}.s{next(names)}"
                fut = stager.submit(stage_bulk, stage_cur, batch, keys, table, with_x=with_x)
                staging.append((fut, batch, keys, with_x, table))
                while len(staging) > 1 and not cancelled():
                    write_oldest()

            try:
                ready = prep_pool.map(prep, bulk)
                for (rid, path, size), f in zip(bulk, ready, strict=True):
                    if cancelled():
                        break
                    if f is None:
                        h = hist_upd[rid]
                        changed.update(self._load_exact_items([(rid, path.parent, h, size)]))
                        done += 1
                        continue
                    key = (f.keys, f.with_x)
                    batch, nbytes = groups.get(key, ([], 0))
                    if batch and (len(batch) >= BATCH_FILES or nbytes + f.size > BATCH_BYTES):
                        submit(batch, f.keys, f.with_x)
                        batch, nbytes = [], 0
                    batch.append(f)
                    groups[key] = (batch, nbytes + f.size)
                for (keys, with_x), (batch, _) in groups.items():
                    if batch and not cancelled():
                        submit(batch, keys, with_x)
                while staging:
                    write_oldest()
                writes.done = not cancelled()
            finally:
                prep_pool.shutdown(wait=True, cancel_futures=True)
                while staging:  # (cancelled, or an error: what was staged is dropped)
                    fut, *_, table = staging.popleft()
                    with contextlib.suppress(Exception):
                        fut.result()
                    with contextlib.suppress(Exception):
                        drop_stage(cur, table)
        return changed

    def _load_exact_items(
        self, items: list[tuple[int, Path, HistState, int]], *, defer: bool = False
    ) -> set[int]:
        """Load the new lines of ``items``; with ``defer``, hold the rows for
        ``_write_behind`` instead of writing them now."""
        cur = self._cur()
        if not defer:
            cur.execute("BEGIN")
        try:
            got = load_exact(
                cur, items, lambda n: self._mid(n, cur), self._st.mstats, insert=not defer
            )
            for rid, _, h, size in items:
                got.hist[rid].size = size
                got.hist[rid].mtime_ns = h.mtime_ns
                got.hist[rid].ino = h.ino
                got.hist[rid].head = h.head
            if not defer:
                # Small appends (live runs): the summaries filters read are
                # written when a filter next runs, not on every refresh.
                self._persist(cur, got, summaries_written=False)
                cur.execute("COMMIT")
        except Exception:
            if not defer:
                cur.execute("ROLLBACK")
            raise
        before = self._st.mstats
        with self._lock:
            old_gens = {rid: self._gen.get(rid, 0) for rid in got.hist}
        self._apply(got, [], {}, summaries=False, pending=True, unwritten=got if defer else None)
        with self._lock:
            epoch, new_gens = self._epoch, {rid: self._gen.get(rid, 0) for rid in got.hist}
        self._extend_points(got, before, epoch, old_gens, new_gens)
        return set(got.hist)

    def _write_behind(self) -> None:
        """Write the live appends held in memory to DuckDB, in one transaction.

        Their points and texts, and each run's offsets and stats as the state
        holds them now: the state and the queue change together (under
        ``_lock``), so the offsets written are those of the last rows written.
        """
        with self._flush_lock:
            with self._lock:
                queue, self._unwritten, self._unwritten_n = self._unwritten, [], 0
                st = self._st
                sums_ok = {rid for got in queue for rid in got.hist} - self._pending_summaries
            if not queue:
                return
            rids = sorted({rid for got in queue for rid in got.hist} & st.hist.keys())
            import pyarrow as pa

            cur = self._cur()
            cur.execute("BEGIN")
            try:
                pts = [got.points for got in queue if got.points is not None]
                if pts:
                    insert_points(cur, pa.concat_tables(pts))
                txt = [got.text_rows for got in queue if got.text_rows is not None]
                if txt:
                    insert_texts(cur, pa.concat_tables(txt))
                now = Loaded(
                    hist={rid: st.hist[rid] for rid in rids},
                    mstats={rid: st.mstats.get(rid, {}) for rid in rids},
                )
                self._persist(cur, now, summaries_written=sums_ok)
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                with self._lock:  # kept for the next try (the files stay the truth)
                    self._unwritten[:0] = queue
                    self._unwritten_n += sum(_points_in(g) for g in queue)
                raise

    def _extend_points(
        self,
        got: Loaded,
        before: dict[int, dict[int, MStat]],
        epoch: int,
        old_gens: dict[int, int],
        new_gens: dict[int, int],
    ) -> None:
        """Hand the points just loaded to the curves' point cache (live runs)."""
        tbl = got.points
        if tbl is None or not len(self._points):
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
            self._points.extend(
                rid, appended, (epoch, old_gens[rid]), (epoch, new_gens[rid]), spans
            )

    def _load_bulk_batch(
        self,
        batch: list[BulkFile],
        keys: tuple[str, ...],
        with_x: bool,
        hist_upd: dict[int, HistState],
        staged: str | None,
    ) -> set[int]:
        """Write a batch staged in ``staged`` (None: DuckDB refused it, all go the exact way)."""
        cur = self._cur()
        with bulk_memory(cur, self._db.path is not None):
            return self._load_bulk_batch_in(cur, batch, keys, with_x, hist_upd, staged)

    def _load_bulk_batch_in(
        self,
        cur: Any,
        batch: list[BulkFile],
        keys: tuple[str, ...],
        with_x: bool,
        hist_upd: dict[int, HistState],
        staged: str | None,
    ) -> set[int]:
        cur.execute("BEGIN")
        try:
            if staged is None:
                got = Loaded(failed=[f.rid for f in batch])
            else:
                mid_of = lambda n: self._mid(n, cur)  # noqa: E731
                got = load_bulk(cur, batch, keys, mid_of, staged, with_x=with_x)
            for rid, h in got.hist.items():
                base = hist_upd[rid]
                h.mtime_ns, h.ino, h.head = base.mtime_ns, base.ino, base.head
            self._persist(cur, got, summaries_written=True)
            with self._flush_lock:
                self._write_summaries(
                    sorted(self._touched(got, [])), cur, self._merged_state(got, [])
                )
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        self._apply(got, [], {}, summaries=False)
        changed = set(got.hist)
        if got.failed:
            by_rid = {f.rid: f for f in batch}
            items = [
                (rid, by_rid[rid].path.parent, hist_upd[rid], by_rid[rid].size)
                for rid in got.failed
            ]
            changed |= self._load_exact_items(items)
        return changed

    def _persist(self, cur: Any, got: Loaded, *, summaries_written: bool | set[int]) -> None:
        """Write the per-run ingest state (offsets, stats) in the caller's transaction.

        One row per run (its metrics' stats in a list column): a live refresh
        rewrites a row per run it touched, in two statements.
        ``summaries_written``: whether the caller writes these runs'
        ``summary_kv`` in the same transaction (else they are left pending),
        or the runs whose ``summary_kv`` is up to date.
        """
        rids = list(got.hist)
        if not rids:
            return
        import pyarrow as pa

        hs = list(got.hist.values())
        prev = self._st.mstats
        stats = []
        for rid in rids:
            ms = got.mstats.get(rid)
            if ms is None:
                ms = prev.get(rid, {})
            stats.append([
                {"mid": mid, "n": m.n, "first_step": m.first_step, "last_step": m.last_step,
                 "last_v": m.last_v}
                for mid, m in ms.items()
            ])  # fmt: skip
        stat_type = pa.list_(
            pa.struct([("mid", pa.int32()), ("n", pa.int64()), ("first_step", pa.int64()),
                       ("last_step", pa.int64()), ("last_v", pa.float64())])
        )  # fmt: skip
        htbl = pa.table({
            "rid": pa.array(rids, pa.int32()),
            "off": pa.array([h.off for h in hs], pa.int64()),
            "size": pa.array([h.size for h in hs], pa.int64()),
            "mtime_ns": pa.array([h.mtime_ns for h in hs], pa.int64()),
            "ino": pa.array([h.ino for h in hs], pa.int64()),
            "head": pa.array([h.head for h in hs], pa.string()),
            "tail": pa.array([h.tail for h in hs], pa.string()),
            "steps": pa.array([h.steps for h in hs], pa.int64()),
            "last_step": pa.array([h.last_step for h in hs], pa.int64()),
            "first_t": pa.array([h.first_t for h in hs], pa.float64()),
            "last_t": pa.array([h.last_t for h in hs], pa.float64()),
            "warnings": pa.array(
                [_dumps({"warnings": h.warnings, "damaged": h.damaged}) for h in hs], pa.string()
            ),
            "stats": pa.array(stats, stat_type),
            "summary_ok": pa.array(
                [summaries_written] * len(rids)
                if isinstance(summaries_written, bool)
                else [rid in summaries_written for rid in rids],
                pa.bool_(),
            ),
        })  # fmt: skip
        cur.execute("DELETE FROM hist WHERE list_contains(?::INTEGER[], rid)", [rids])
        cur.from_arrow(htbl).insert_into("hist")

    def _merged_state(self, got: Loaded, resets: list[int]) -> _State:
        """The state with ``got`` installed and ``resets`` forgotten (not installed here)."""
        old = self._st
        hist = dict(old.hist)
        mstats = dict(old.mstats)
        texts = dict(old.texts)
        for rid in resets:
            hist.pop(rid, None)
            mstats.pop(rid, None)
            texts.pop(rid, None)
        hist.update(got.hist)
        mstats.update(got.mstats)
        for rid, t in got.texts.items():
            texts[rid] = {**texts.get(rid, {}), **t}
        return _State(old.runs, hist, mstats, texts)

    @staticmethod
    def _touched(got: Loaded, resets: list[int]) -> set[int]:
        """Runs whose merged summary may change with ``got`` and ``resets``."""
        return set(resets) | set(got.mstats) | set(got.texts)

    def _apply(
        self,
        got: Loaded,
        resets: list[int],
        _unused: dict[int, Any],
        *,
        summaries: bool = True,
        pending: bool = False,
        unwritten: Loaded | None = None,
    ) -> None:
        """Install loaded state; ``resets`` lose their points first.

        ``summaries=False`` when the caller wrote the summaries already, or
        with ``pending`` leaves them for later. ``unwritten``: rows of this
        load that ``_write_behind`` writes later (queued with the state change).
        """
        if resets:
            cur = self._cur()
            cur.execute("BEGIN")
            try:
                for t in run_tables(cur):
                    cur.execute(f"DELETE FROM {t} WHERE list_contains(?::INTEGER[], rid)", [resets])
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
        touched = self._touched(got, resets)
        with self._lock:
            self._st = self._merged_state(got, resets)
            for rid in set(resets) | set(got.hist) | set(got.mstats) | set(got.texts):
                self._gen[rid] = next(self._gen_seq)
            if pending:
                self._pending_summaries |= touched
            if unwritten is not None:
                if not self._unwritten:
                    self._unwritten_since = time.monotonic()
                self._unwritten.append(unwritten)
                self._unwritten_n += _points_in(unwritten)
        if touched and summaries:
            with self._flush_lock:
                self._write_summaries(sorted(touched))

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
                    self._flush()
                    if self.storage in ("root", "user") and self._db.path is not None:
                        from trackui.store.saved_rows import write_snapshot

                        write_snapshot(self._db.path, self.root, self.runs())
                finally:
                    self._closed = True
                    close_db(self._db)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- queries

    @property
    def loaded(self) -> tuple[int, int]:
        """``(runs whose metrics are loaded, runs total)``, for a progress bar."""
        st = self._st
        total = len(st.runs)
        done = 0
        for r in st.runs.values():
            # Loaded once an ingest has read every complete line of its
            # history (a torn or half-written last line is not waited for).
            if not r.readable or r.rid in st.hist:
                done += 1
        return done, total

    def _row(self, st: _State, run: _Run, now: float) -> RunRow:
        # Rows of runs that did not change are reused: the objects they were
        # built from are replaced (never mutated) whenever something changes.
        rid = run.rid
        h, m, t = st.hist.get(rid), st.mstats.get(rid), st.texts.get(rid)
        hit = self._rows.get(rid)
        if hit is not None and hit[0] is run and hit[1] is h and hit[2] is m and hit[3] is t:
            return hit[4]
        row = self._build_row(st, run, now)
        if run.info.state != "running":
            self._rows[rid] = (run, h, m, t, row)
        return row

    def _build_row(self, st: _State, run: _Run, now: float) -> RunRow:
        info = run.info
        m = info.meta
        h = st.hist.get(run.rid)
        start = m.get("start_time")
        start_f = float(start) if isinstance(start, (int, float)) else (
            h.first_t if h is not None and h.first_t is not None else 0.0
        )  # fmt: skip
        end = m.get("end_time")
        end_f = float(end) if isinstance(end, (int, float)) else None
        if info.state == "running":
            runtime = now - start_f
        elif end_f is not None:
            runtime = end_f - start_f
        elif h is not None and h.last_t is not None:
            runtime = h.last_t - start_f
        else:
            runtime = 0.0
        created = m.get("created")
        if not isinstance(created, str) or not created:
            created = datetime.fromtimestamp(start_f, tz=timezone.utc).isoformat()
        warnings = list(info.warnings)
        if h is not None:
            warnings += history_warnings(h)
        return RunRow(
            id=info.id,
            name=info.name,
            project=_s(m.get("project")),
            group=_s(m.get("group")),
            tags=tuple(str(t) for t in m.get("tags") or ()),
            state=info.state,
            created=created,
            start_time=start_f,
            end_time=end_f,
            runtime_s=max(0.0, runtime) if math.isfinite(runtime) else 0.0,
            last_step=h.last_step if h is not None else None,
            steps=h.steps if h is not None else 0,
            path=info.path,
            host=_s(m.get("host")),
            config=info.config,
            summary=self._merged_summary(st, run),
            meta=m,
            warnings=tuple(warnings),
        )

    def runs(
        self, filter: str = "", *, sort: str | None = "created", descending: bool = True
    ) -> list[RunRow]:
        """The runs matching ``filter``, ordered by ``sort``.

        Args:
            filter: The filter language of ``store.filter`` (empty: all runs).
            sort: A RunRow field, or ``config.<flat key>`` / ``summary.<flat key>``;
                None for no particular order (a caller that sorts them itself).
            descending: Largest first; runs without a value come last either way.

        Raises:
            FilterError: The filter is malformed.
            ValueError: Unknown sort column.
        """
        st = self._st
        now = self._now()
        if filter.strip():
            sql, params = compile_filter(filter)
            self._flush()
            try:
                ids = {
                    r[0]
                    for r in self._cur()
                    .execute(f"SELECT id FROM runs r WHERE {sql}", params)
                    .fetchall()
                }
            except Exception as e:
                raise FilterError(
                    f"filter: cannot evaluate ({' '.join(str(e).split())[:120]})"
                ) from e
            runs = [r for r in st.runs.values() if r.info.id in ids]
        else:
            runs = list(st.runs.values())
        rows = [self._row(st, r, now) for r in runs]
        if sort is None:
            return rows
        check_sort_column(sort)
        # Equal values in id order, in the direction asked.
        rows.sort(key=lambda r: r.id, reverse=descending)
        return sort_rows(rows, sort, descending, now)

    def run(self, run_id: str) -> RunRow:
        """One run by exact id.

        Raises:
            LookupError: No run has this id.
        """
        st = self._st
        r = st.runs.get(run_id)
        if r is None:
            raise LookupError(f"no run with id {_shown(run_id)}")
        return self._row(st, r, self._now())

    def resolve(self, ref: str) -> RunRow:
        """A run by id, unique id prefix, unique name, or run directory path.

        Raises:
            LookupError: Nothing or more than one run matches (one-line message).
        """
        st = self._st
        if ref in st.runs:
            return self.run(ref)
        if ref and (os.sep in ref or ref.startswith(".")):
            p = Path(ref)
            if p.is_dir():
                rp = p.resolve()
                for r in st.runs.values():
                    if r.info.path.resolve() == rp:
                        return self.run(r.info.id)
        named = [r for r in st.runs.values() if r.info.name == ref]
        if len(named) == 1:
            return self.run(named[0].info.id)
        if len(named) > 1:
            ids = ", ".join(sorted(r.info.id for r in named)[:5])
            raise LookupError(f"run name {_shown(ref)} is ambiguous: {len(named)} runs ({ids})")
        pre = [r for r in st.runs.values() if ref and r.info.id.startswith(ref)]
        if len(pre) == 1:
            return self.run(pre[0].info.id)
        if len(pre) > 1:
            ids = ", ".join(sorted(r.info.id for r in pre)[:5])
            raise LookupError(f"run id prefix {_shown(ref)} is ambiguous: {len(pre)} runs ({ids})")
        raise LookupError(f"no run matches {_shown(ref)} in {_shown(str(self.root))}")

    def metrics(self, run_ids: Sequence[str]) -> list[MetricInfo]:
        """Numeric metric names of the runs, with each run's step count."""
        st = self._st
        out: dict[str, dict[str, int]] = {}
        for rid_s in run_ids:
            r = st.runs.get(rid_s)
            if r is None:
                continue
            for mid, s in st.mstats.get(r.rid, {}).items():
                out.setdefault(self._mnames[mid], {})[rid_s] = s.n
        return [MetricInfo(name, out[name]) for name in sorted(out)]

    def keys(self) -> tuple[list[str], list[str]]:
        """``(config flat keys, summary keys)`` over all runs, sorted."""
        st = self._st
        now = self._now()
        cache = self._row_keys
        same = len(cache) == len(st.runs)
        for r in st.runs.values():
            # A run's keys are read again only when its row was rebuilt (a
            # live refresh touches a few runs of thousands), and the answer
            # is put together again only when some run's keys changed.
            row = self._row(st, r, now)
            hit = cache.get(r.rid)
            if hit is None or hit[0] is not row:
                new = (row, frozenset(flatten(row.config)), frozenset(row.summary))
                if hit is None or hit[1] != new[1] or hit[2] != new[2]:
                    same = False
                cache[r.rid] = new
        if same and self._keys is not None:
            return list(self._keys[0]), list(self._keys[1])
        if len(cache) != len(st.runs):
            for rid in set(cache) - {r.rid for r in st.runs.values()}:
                del cache[rid]
        ck: set[str] = set()
        sk: set[str] = set()
        for _, c, s in cache.values():
            ck |= c
            sk |= s
        self._keys = (sorted(ck), sorted(sk))
        return list(self._keys[0]), list(self._keys[1])

    def series(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        *,
        x: str = "step",
        smoothing: str = "twema",
        strength: float = 0.6,
        buckets: int = 200,
        x_range: tuple[float, float] | None = None,
    ) -> list[Series]:
        """Curves of ``metrics`` for ``run_ids``: smoothed on full data, then bucketed.

        One Series per (run, metric) in the order given; a run lacking the
        metric gets an empty Series.

        Raises:
            LookupError: An unknown run id.
            ValueError: Unknown x axis or smoothing, or ``buckets < 1``.
        """
        st = self._st
        mids = dict(self._mids)
        check_series_args(x, smoothing, buckets, mids)
        tasks = []
        for rid_s in run_ids:
            run = st.runs.get(rid_s)
            if run is None:
                raise LookupError(f"no run with id {_shown(rid_s)}")
            start = run.info.meta.get("start_time")
            h = st.hist.get(run.rid)
            start_f = (
                float(start) if isinstance(start, (int, float)) else (h.first_t if h else None)
            )
            for name in metrics:
                tasks.append((rid_s, run.rid, name, start_f))
        with self._lock:
            # Read before the points are: a load committed meanwhile bumps it.
            epoch, gens = self._epoch, {t[1]: self._gen.get(t[1], 0) for t in tasks}
            spans = self._st.mstats  # what the index knew at those generations
        xr_key = None if x_range is None else (float(x_range[0]), float(x_range[1]))
        args = (x, mids.get(x), smoothing, float(strength), buckets, xr_key)
        out: list[Series | None] = []
        todo: list[int] = []
        for i, (rid_s, rid, name, start_f) in enumerate(tasks):
            key = (epoch, gens[rid], rid_s, rid, name, mids.get(name), start_f, *args)
            with self._lock:
                hit = self._curves.get(key)
                if hit is not None:
                    self._curves.move_to_end(key)
            out.append(None if hit is None else copy_series(hit))
            if hit is None:
                todo.append(i)

        tick = next(self._ticks)

        def one(task: tuple[str, int, str, float | None]) -> Series:
            rid_s, rid, name, start_f = task
            cur = self._cur()
            stamp = (epoch, gens[rid])

            def points(r: int, m: int, with_time: bool) -> Any:
                ms = spans.get(r, {}).get(m)
                span = None if ms is None else (ms.n, ms.first_step, ms.last_step)
                return self._points.points(
                    cur, r, m, with_time, stamp, tick, span, before_read=self._write_behind
                )

            s = make_series(
                cur, rid_s, rid, name, mids.get(name),
                x=x, x_mid=mids.get(x), start_time=start_f, smoothing=smoothing,
                strength=strength, buckets=buckets, x_range=x_range, points=points,
            )  # fmt: skip
            key = (epoch, gens[rid], rid_s, rid, name, mids.get(name), start_f, *args)
            with self._lock:
                self._curves[key] = copy_series(s)
                while len(self._curves) > _CURVE_CACHE:
                    self._curves.popitem(last=False)
            return s

        def size(i: int) -> int:
            rid, name = tasks[i][1], tasks[i][2]
            ms = spans.get(rid, {}).get(mids.get(name, -1))
            return 0 if ms is None else ms.n

        if len(todo) < 2 or sum(size(i) for i in todo) < _PARALLEL_POINTS:
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

    def read_ahead(
        self,
        run_ids: Sequence[str],
        metrics: Sequence[str],
        *,
        x: str = "step",
        min_points: int | None = None,
        cancel: threading.Event | None = None,
    ) -> int:
        """Read the points of long curves into the curves' point cache before they are asked for.

        The runs' ``metrics`` (and ``x``, when it is a metric) as ``series``
        would read them, in the order given, while each fits beside what the
        cache holds: nothing is evicted for them, and the first that does not
        fit ends the read. Curves of fewer than ``min_points`` points
        (default ``READ_AHEAD_MIN_POINTS``) are skipped. A later ``series``
        over them starts from memory: a first read of 10 runs x 1M points is
        most of the time it takes to draw them. Stops when ``cancel`` is set;
        returns how many curves it read.
        """
        if min_points is None:
            min_points = READ_AHEAD_MIN_POINTS
        st = self._st
        mids = dict(self._mids)
        names = [*metrics, *([x] if x in mids and x not in metrics else [])]
        with_time = x in ("relative", "wall")
        cache = self._points
        tick = next(self._ticks)
        read = 0
        for run_id in run_ids:
            run = st.runs.get(run_id)
            if run is None:
                continue
            with self._lock:
                # As in ``series``: what the index knew at this generation.
                stamp = (self._epoch, self._gen.get(run.rid, 0))
                spans = self._st.mstats
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
                    self._cur(), run.rid, mid, with_time, stamp, tick,
                    (ms.n, ms.first_step, ms.last_step), before_read=self._write_behind,
                )  # fmt: skip
                read += 1
        return read

    def points(self, run_id: str, metric: str) -> tuple[Any, Any, Any]:
        """Full-resolution ``(step, t, value)`` arrays of one metric (one entry per step, read-only)."""
        run = self._st.runs.get(run_id)
        if run is None:
            raise LookupError(f"no run with id {_shown(run_id)}")
        mid = self._mids.get(metric)
        if mid is None:
            import numpy as np

            e = np.empty(0)
            return e.astype(np.int64), e, e
        self._write_behind()
        return stored.fetch_points(self._cur(), run.rid, mid)

    def history_table(self, run_ids: Sequence[str]) -> Any:
        """Every numeric value of the runs, full resolution, as a pyarrow Table.

        Columns: ``run_id``, ``step``, ``time``, ``metric``, ``value``; one row
        per (run, metric, step), the last logged value winning, in run then
        file order.
        """
        import pyarrow as pa

        self._write_behind()
        st = self._st
        parts = []
        cur = self._cur()
        for rid_s in run_ids:
            run = st.runs.get(rid_s)
            if run is None:
                raise LookupError(f"no run with id {_shown(rid_s)}")
            for mid, _ in sorted(
                st.mstats.get(run.rid, {}).items(), key=lambda kv: self._mnames[kv[0]]
            ):
                step, t, v = stored.fetch_points(cur, run.rid, mid)
                n = len(step)
                parts.append(
                    pa.table({
                        "run_id": pa.array([rid_s] * n, pa.string()),
                        "step": pa.array(step, pa.int64()),
                        "time": pa.array(t, pa.float64()),
                        "metric": pa.array([self._mnames[mid]] * n, pa.string()),
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

    def diff(
        self, run_ids: Sequence[str], *, baseline: str | None = None, all_keys: bool = False
    ) -> Diff:
        """Config and summary keys that differ across runs, with deltas from ``baseline``.

        Raises:
            LookupError: An unknown run id, or a baseline not among ``run_ids``.
        """
        rows = [self.run(r) for r in run_ids]
        if not rows:
            raise LookupError("diff: no runs given")
        b = 0
        if baseline is not None:
            if baseline not in run_ids:
                raise LookupError(f"diff: baseline {_shown(baseline)} is not one of the runs")
            b = list(run_ids).index(baseline)
        return compute_diff(rows, b, all_keys)

    def text_values(self, run_id: str) -> dict[str, str]:
        """The last value of each text metric of a run."""
        st = self._st
        run = st.runs.get(run_id)
        if run is None:
            raise LookupError(f"no run with id {_shown(run_id)}")
        return {k: v for k, (_, v) in sorted(st.texts.get(run.rid, {}).items())}


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def _shown(s: str) -> str:
    """A user-supplied string for a one-line message: quoted, controls escaped, bounded."""
    s = s if len(s) <= 80 else s[:77] + "..."
    return "'" + "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in s) + "'"
