"""Every write the index makes to DuckDB, and the writes it holds back.

:func:`transaction` is the one place a transaction is begun, committed or
rolled back. :class:`Writes` owns what waits to be written: run rows found
by a scan (written before anything reads or deletes them), the summaries
filters read (written before the next filter), and live appends (the
write-behind queue: written a few seconds later in one transaction, so that
a live refresh costs no DuckDB write). It shares the index's state lock: the
state and the queue change together.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from trackui.store.db import cache_unusable
from trackui.store.db_schema import all_tables, run_tables
from trackui.store.index_state import IndexState, RunEntry
from trackui.store.ingest import Loaded
from trackui.store.ingest_exact import insert_points, insert_texts
from trackui.store.models import flatten
from trackui.store.reader import encode_value
from trackui.store.writer import json_bytes

WRITE_BEHIND_S = 5.0
"""Live appends wait in memory at most this long before they are written to DuckDB..."""
WRITE_BEHIND_POINTS = 200_000
"""...or until this many points wait."""


@contextmanager
def transaction(cur: Any) -> Iterator[Any]:
    """``BEGIN`` on ``cur``; ``COMMIT`` when the block ends, ``ROLLBACK`` when it raises.

    An error that says the storage failed (``store.db.cache_unusable``: a
    full disk, a file gone) is raised without a ``ROLLBACK``: the transaction
    went with the storage. The index then opens one step down its chain
    (``Index`` catches it, and loads again what the new place lacks).
    """
    cur.execute("BEGIN")
    try:
        yield cur
        cur.execute("COMMIT")
    except Exception as e:
        if not cache_unusable(e):
            cur.execute("ROLLBACK")
        raise


def _dumps(v: Any) -> str:
    return json_bytes(encode_value(v), indent=False).decode()


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


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


def _kv_rows(pairs: Iterator[tuple[int, str, Any]]) -> dict[str, list[Any]]:
    kv: dict[str, list[Any]] = {"rid": [], "key": [], "num": [], "txt": []}
    for rid, key, val in pairs:
        num, txt = _kv(val)
        kv["rid"].append(rid)
        kv["key"].append(key)
        kv["num"].append(num)
        kv["txt"].append(txt)
    return kv


def _kv_table(kv: dict[str, list[Any]]) -> Any:
    """Key/value rows (``rid``, ``key``, ``num``, ``txt`` columns) as an Arrow table to insert."""
    import pyarrow as pa

    return pa.table({
        "rid": pa.array(kv["rid"], pa.int32()), "key": pa.array(kv["key"], pa.string()),
        "num": pa.array(kv["num"], pa.float64()), "txt": pa.array(kv["txt"], pa.string()),
    })  # fmt: skip


def empty_tables(cur: Any) -> None:
    """Delete every row of every table (a cache file that does not hold this index's state)."""
    for t in all_tables(cur):
        cur.execute(f"DELETE FROM {t}")


def _points_in(got: Loaded) -> int:
    """How many points a load holds (those held for the write-behind queue are counted)."""
    return 0 if got.points is None else len(got.points)


class Writes:
    """The index's writes to DuckDB and its queues of writes held back (see the module docstring).

    Args:
        cursor: A new cursor of the index's connection.
        lock: The index's state lock.
        state: The index's current state.
    """

    def __init__(
        self, cursor: Callable[[], Any], lock: threading.Lock, state: Callable[[], IndexState]
    ) -> None:
        self._cursor = cursor
        self._lock = lock
        self._state = state
        self.mids: dict[str, int] = {}
        """Metric name to id (as ``metric_names`` holds them)."""
        self.mnames: dict[int, str] = {}
        self.pending_runs: list[tuple[list[RunEntry], list[RunEntry], list[RunEntry]]] = []
        """Scans' (upserts, state updates, runs gone), not yet written."""
        self.pending_summaries: set[int] = set()
        """Runs whose ``summary_kv`` is not yet written."""
        self.flush_lock = threading.RLock()
        """Serialises writes of run rows and summaries (DuckDB would reject overlapping ones)."""
        self._unwritten: list[Loaded] = []
        """Live appends applied to the state but not yet written to DuckDB."""
        self._unwritten_n = 0
        self._unwritten_since = 0.0

    def adopt(self, mids: dict[str, int], lagging: set[int]) -> None:
        """Take the metric ids a cache file holds, and its runs whose summaries lag behind
        (left by a viewer that did not close: written before the next filter)."""
        self.mids.update(mids)
        self.mnames.update({mid: name for name, mid in mids.items()})
        self.pending_summaries |= lagging

    def forget(self) -> None:
        """Drop the metric ids and every queue of writes (the database was emptied)."""
        self.mids.clear()
        self.mnames.clear()
        self.pending_runs.clear()
        self.pending_summaries.clear()
        with self._lock:
            self._unwritten, self._unwritten_n = [], 0

    def mid(self, name: str, cur: Any) -> int:
        """The id of metric ``name``, made (in ``cur``'s transaction) if new."""
        mid = self.mids.get(name)
        if mid is None:
            mid = len(self.mids) + 1
            cur.execute("INSERT INTO metric_names VALUES (?, ?)", [mid, name])
            with self._lock:
                self.mids[name] = mid
                self.mnames[mid] = name
        return mid

    # ------------------------------------------------------------- run rows

    def flush(self, *, summaries: bool = True) -> None:
        """Write the run changes found by scans, and with ``summaries`` the summaries
        that filters read (pending since then or since live appends)."""
        with self.flush_lock:
            with self._lock:
                pending, self.pending_runs = self.pending_runs, []
                sums: set[int] = set()
                if summaries:
                    sums, self.pending_summaries = self.pending_summaries, set()
            for upserts, state_updates, gone in pending:
                self._write_runs(upserts, state_updates, gone)
            if sums:
                self.write_summaries(sorted(sums))

    def _write_runs(
        self, upserts: list[RunEntry], state_updates: list[RunEntry], gone: list[RunEntry]
    ) -> None:
        if not (upserts or state_updates or gone):
            return
        import pyarrow as pa

        if gone:
            self.write_behind()  # (then deleted with the rest of those runs)
        with transaction(self._cursor()) as cur:
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
            if not upserts:
                return
            cols: dict[str, list[Any]] = {k: [] for k in (
                "rid", "id", "dir", "name", "project", "grp", "job_type", "tags", "state",
                "host", "created", "start_time", "notes", "sig", "meta", "config", "summary",
                "warnings")}  # fmt: skip
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
            kv = _kv_rows(
                (r.rid, key, val) for r in upserts for key, val in flatten(r.info.config).items()
            )
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

    def write_summaries(
        self, rids: Sequence[int], cur: Any = None, st: IndexState | None = None
    ) -> None:
        """Refresh ``summary_kv`` (what filters on summary keys see) for ``rids``.

        With ``cur``, inside the caller's transaction and from the state ``st``
        that the caller is about to install; otherwise in a transaction of its own.
        """
        if not rids:
            return
        st = self._state() if st is None else st
        by_rid = {r.rid: r for r in st.runs.values()}
        kv = _kv_rows(
            (rid, key, val)
            for rid in rids
            if (run := by_rid.get(rid)) is not None
            for key, val in st.merged_summary(run, self.mnames).items()
        )
        if cur is None:
            with transaction(self._cursor()) as own:
                self._write_summary_rows(own, rids, kv)
        else:
            self._write_summary_rows(cur, rids, kv)

    @staticmethod
    def _write_summary_rows(cur: Any, rids: Sequence[int], kv: dict[str, list[Any]]) -> None:
        cur.execute("DELETE FROM summary_kv WHERE list_contains(?::INTEGER[], rid)", [list(rids)])
        if kv["rid"]:
            cur.from_arrow(_kv_table(kv)).insert_into("summary_kv")
        cur.execute(
            "UPDATE hist SET summary_ok = true WHERE list_contains(?::INTEGER[], rid) "
            "AND NOT summary_ok",
            [list(rids)],
        )

    # --------------------------------------------------------------- history

    def forget_points(self, rids: list[int]) -> None:
        """Delete the points and texts of ``rids`` (their histories are loaded again)."""
        with transaction(self._cursor()) as cur:
            for t in run_tables(cur):
                cur.execute(f"DELETE FROM {t} WHERE list_contains(?::INTEGER[], rid)", [rids])

    def persist(self, cur: Any, got: Loaded, *, summaries_written: bool | set[int]) -> None:
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
        prev = self._state().mstats
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

    # ----------------------------------------------------------- write-behind

    def hold(self, got: Loaded) -> None:
        """Queue the rows of a live append for :meth:`write_behind` (the caller holds the lock)."""
        if not self._unwritten:
            self._unwritten_since = time.monotonic()
        self._unwritten.append(got)
        self._unwritten_n += _points_in(got)

    def write_behind_due(self) -> bool:
        """Whether held appends have waited long enough, or are many enough, to be written."""
        return bool(self._unwritten) and (
            time.monotonic() - self._unwritten_since >= WRITE_BEHIND_S
            or self._unwritten_n >= WRITE_BEHIND_POINTS
        )

    def write_behind(self) -> None:
        """Write the live appends held in memory to DuckDB, in one transaction.

        Their points and texts, and each run's offsets and stats as the state
        holds them now: the state and the queue change together (under the
        lock), so the offsets written are those of the last rows written.
        """
        with self.flush_lock:
            with self._lock:
                queue, self._unwritten, self._unwritten_n = self._unwritten, [], 0
                st = self._state()
                sums_ok = {rid for got in queue for rid in got.hist} - self.pending_summaries
            if not queue:
                return
            rids = sorted({rid for got in queue for rid in got.hist} & st.hist.keys())
            import pyarrow as pa

            try:
                with transaction(self._cursor()) as cur:
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
                    self.persist(cur, now, summaries_written=sums_ok)
            except Exception:
                with self._lock:  # kept for the next try (the files stay the truth)
                    self._unwritten[:0] = queue
                    self._unwritten_n += sum(_points_in(g) for g in queue)
                raise
