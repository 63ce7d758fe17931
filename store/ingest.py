"""Loading ``history.jsonl`` files into the index's DuckDB tables.

Two paths:

* **Bulk** (a whole file read from byte 0): DuckDB's own ``read_json`` parses
  many files in one query, with ``m`` read as a STRUCT of the metric names
  sampled from each file's head and tail. A STRUCT silently drops names it
  does not list, so every file is checked afterwards: the number of ``:`` in
  its bytes (counted with NumPy over a memory map) must equal what the parsed
  rows account for. A file that fails the check, or that DuckDB refuses
  (damaged lines, invalid UTF-8), or whose last line is incomplete, goes
  through the exact path instead.
* **Exact** (appended bytes, small files, and those above): the lines are
  parsed one by one by ``store.reader`` from the last offset, so a torn tail
  waits for its newline and every damaged line becomes a warning.

Both keep each file's byte order (DuckDB preserves insertion order), which
is what lets a later duplicate step win. The exact path writes a row per
value to ``points``; the bulk path writes a row per record to ``wide<W>``
where the records hold most of their batch's metrics, and a row per value
otherwise (see ``store.db``).
"""

from __future__ import annotations

import itertools
import mmap
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout
from trackui.store.db import ensure_wide_table
from trackui.store.reader import read_records

BULK_MIN_BYTES = 256 * 1024
"""Files smaller than this are parsed line by line (a DuckDB query costs more)."""
BATCH_BYTES = 48 * 1024 * 1024
"""Bytes of JSON handed to one ``read_json`` query (bounds memory, paces progress)."""
BATCH_FILES = 64
WIDE_MAX_COLS = 32
"""Most metrics a bulk batch may have to be stored a row per record (``wide<W>``)."""
WIDE_MAX_CELLS = 4
"""A batch goes a row per record when its rows' cells (run, step, time and a
value or NULL per metric) are at most this many times its values: a NULL
costs about as much to store as a value, and a row per value about five cells."""
SAMPLE_BYTES = 32 * 1024
"""Bytes of a file read to guess its metric names: half at the ends, half in slices."""
SAMPLE_SLICES = 16
MAX_WARNINGS = 20
"""Damaged-record warnings kept per run; the rest are counted."""

_GLOB_CHARS = set("*?[]{}")


@dataclass
class HistState:
    """How far a run's ``history.jsonl`` has been loaded, and what it held."""

    off: int = 0
    """Byte offset just after the last complete line loaded."""
    size: int = 0
    mtime_ns: int = 0
    ino: int = 0
    head: str = ""
    """Hex of the file's first bytes: a replaced file is reloaded from scratch."""
    tail: str = ""
    """Hex of the bytes just before ``off``: a rewritten file is reloaded too."""
    steps: int = 0
    """Distinct steps with at least one numeric value."""
    last_step: int | None = None
    first_t: float | None = None
    last_t: float | None = None
    warnings: list[str] = field(default_factory=list)
    damaged: int = 0
    """Damaged records skipped in total (``warnings`` keeps the first few)."""


@dataclass
class MStat:
    """One metric of one run: distinct steps, step range, last value."""

    n: int
    first_step: int
    last_step: int
    last_v: float


@dataclass
class Loaded:
    """What one load call produced, per run id (the integer ``rid``)."""

    hist: dict[int, HistState] = field(default_factory=dict)
    mstats: dict[int, dict[int, MStat]] = field(default_factory=dict)
    texts: dict[int, dict[str, tuple[int, str]]] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)
    """Runs the bulk path gave up on (to be loaded exactly)."""
    points: Any = None
    """The exact path's new points as an Arrow table (rid, mid, step, t, v), in file order."""
    text_rows: Any = None
    """The exact path's new text values as an Arrow table (rid, key, step, t, val)."""


def read_head(path: Path, n: int = 64) -> str:
    """Hex of the first ``n`` bytes of a file ('' if unreadable)."""
    try:
        with open(path, "rb") as f:
            return f.read(n).hex()
    except OSError:
        return ""


def read_before(path: Path, end: int, n: int = 64) -> str:
    """Hex of the ``n`` bytes before offset ``end`` ('' if unreadable)."""
    start = max(0, end - n)
    try:
        with open(path, "rb") as f:
            f.seek(start)
            return f.read(end - start).hex()
    except OSError:
        return ""


def _add_warnings(h: HistState, new: Sequence[str]) -> None:
    h.damaged += len(new)
    room = MAX_WARNINGS - len(h.warnings)
    if room > 0:
        h.warnings.extend(new[:room])


def history_warnings(h: HistState) -> list[str]:
    """The warnings to show for a run's history (bounded, with a count of the rest)."""
    out = list(h.warnings)
    if h.damaged > len(h.warnings):
        out.append(f"{layout.HISTORY}: {h.damaged - len(h.warnings)} more damaged records skipped")
    return out


# --------------------------------------------------------------------- exact path


def load_exact(
    cur: Any,
    items: Sequence[tuple[int, Path, HistState, int]],
    mid_of: Callable[[str], int],
    prev_stats: dict[int, dict[int, MStat]],
    *,
    insert: bool = True,
) -> Loaded:
    """Parse appended lines of each file and insert them (one transaction by the caller).

    Args:
        cur: A DuckDB cursor inside a transaction.
        items: ``(rid, run_dir, state, size)`` with ``state.off`` the offset to read from.
        mid_of: Metric name to id (creates ids for new names).
        prev_stats: The runs' metric stats so far (merged with the new lines).
        insert: False to leave the new rows in ``points`` and ``text_rows``
            of the result for the caller to insert later.
    """
    import pyarrow as pa

    out = Loaded()
    cols: dict[str, list[Any]] = {"rid": [], "mid": [], "step": [], "t": [], "v": []}
    tcols: dict[str, list[Any]] = {"rid": [], "key": [], "step": [], "t": [], "val": []}
    for rid, run_dir, st, _size in items:
        records, new_off, warns = read_records(run_dir, st.off)
        h = HistState(**{**st.__dict__, "warnings": list(st.warnings)})
        _add_warnings(h, warns)
        h.off = new_off
        h.tail = read_before(run_dir / layout.HISTORY, new_off)
        stats = {k: MStat(**v.__dict__) for k, v in prev_stats.get(rid, {}).items()}
        texts: dict[str, tuple[int, str]] = {}
        prev_last = h.last_step
        steps_seen: set[int] = set()
        for rec in records:
            if rec.metrics:
                steps_seen.add(rec.step)
                if h.last_step is None or rec.step > h.last_step:
                    h.last_step = rec.step
            if rec.time == rec.time:  # not NaN
                h.first_t = rec.time if h.first_t is None else min(h.first_t, rec.time)
                h.last_t = rec.time if h.last_t is None else max(h.last_t, rec.time)
            for name, v in rec.metrics.items():
                mid = mid_of(name)
                cols["rid"].append(rid)
                cols["mid"].append(mid)
                cols["step"].append(rec.step)
                cols["t"].append(rec.time)
                cols["v"].append(v)
                s = stats.get(mid)
                if s is None:
                    stats[mid] = MStat(1, rec.step, rec.step, v)
                else:
                    if rec.step != s.last_step:
                        s.n += 1
                    s.first_step = min(s.first_step, rec.step)
                    s.last_step = max(s.last_step, rec.step)
                    if rec.step >= s.last_step:
                        s.last_v = v
            for key, val in rec.text.items():
                tcols["rid"].append(rid)
                tcols["key"].append(key)
                tcols["step"].append(rec.step)
                tcols["t"].append(rec.time)
                tcols["val"].append(val)
                texts[key] = (rec.step, val)
        h.steps += len(steps_seen) - (1 if prev_last is not None and prev_last in steps_seen else 0)
        out.hist[rid] = h
        out.mstats[rid] = stats
        out.texts[rid] = texts
    if cols["rid"]:
        tbl = pa.table(
            {
                "rid": pa.array(cols["rid"], pa.int32()),
                "mid": pa.array(cols["mid"], pa.int32()),
                "step": pa.array(cols["step"], pa.int64()),
                "t": pa.array(cols["t"], pa.float64()),
                "v": pa.array(cols["v"], pa.float64()),
            }
        )
        if insert:
            insert_points(cur, tbl)
        out.points = tbl
    if tcols["rid"]:
        ttbl = pa.table(
            {
                "rid": pa.array(tcols["rid"], pa.int32()),
                "key": pa.array(tcols["key"], pa.string()),
                "step": pa.array(tcols["step"], pa.int64()),
                "t": pa.array(tcols["t"], pa.float64()),
                "val": pa.array(tcols["val"], pa.string()),
            }
        )
        if insert:
            insert_texts(cur, ttbl)
        out.text_rows = ttbl
    return out


def insert_points(cur: Any, tbl: Any) -> None:
    """Append an Arrow table (rid, mid, step, t, v) to ``points``."""
    cur.register("_exact_points", tbl)
    cur.execute("INSERT INTO points SELECT rid, mid, step, t, v FROM _exact_points")
    cur.unregister("_exact_points")


def insert_texts(cur: Any, tbl: Any) -> None:
    """Append an Arrow table (rid, key, step, t, val) to ``texts``."""
    cur.register("_exact_texts", tbl)
    cur.execute("INSERT INTO texts SELECT rid, key, step, t, val FROM _exact_texts")
    cur.unregister("_exact_texts")


# ---------------------------------------------------------------------- bulk path


@dataclass
class BulkFile:
    """A whole history file that the bulk path may load."""

    rid: int
    path: Path
    """The ``history.jsonl`` file."""
    size: int
    keys: tuple[str, ...]
    """Metric names sampled from the file's head and tail."""
    colons: int = 0
    """Number of ``:`` bytes in the whole file (what the parsed rows must account for)."""
    with_x: bool = True
    """Whether the samples showed text values (``x``)."""


def bulk_candidate(path: Path, size: int) -> tuple[str, ...] | None:
    """The metric names a whole file seems to use, or None if it must go the exact way.

    See :func:`bulk_sample` (this is its metric names only).
    """
    got = bulk_sample(path, size)
    return None if got is None else got[0]


def bulk_sample(path: Path, size: int) -> tuple[tuple[str, ...], bool] | None:
    """The metric names a whole file seems to use and whether it has text values.

    Reads its head, its tail and a few slices in between (metrics logged now
    and then, such as validation ones, show up in some). A name the samples
    miss is caught by the check after loading, which sends the file the
    exact way; so is an ``x`` (text values) that no sample showed, since the
    bulk query then does not read ``x`` at all. None when the file does not
    end with a newline (a record is being written or was torn), when its path
    would be read as a glob pattern, or when the samples do not parse.
    """
    s = str(path)
    if _GLOB_CHARS & set(s) or size < 2:
        return None
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return None
    chunks: list[bytes] = []
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        # pread: a few small reads at offsets, without a buffered file's
        # read-ahead of each.
        if size <= 2 * SAMPLE_BYTES:
            whole = os.pread(fd, size, 0)
            if not whole.endswith(b"\n"):
                return None
            chunks.append(whole)
        else:
            half, part = SAMPLE_BYTES // 2, SAMPLE_BYTES // (2 * SAMPLE_SLICES)
            chunks.append(os.pread(fd, half, 0).rsplit(b"\n", 1)[0])
            for k in range(1, SAMPLE_SLICES + 1):
                got = os.pread(fd, part, size * k // (SAMPLE_SLICES + 1))
                chunks.append(got.split(b"\n", 1)[-1].rsplit(b"\n", 1)[0])
            tail = os.pread(fd, half, size - half)
            if not tail.endswith(b"\n"):
                return None
            chunks.append(tail.split(b"\n", 1)[-1])
    except OSError:
        return None
    finally:
        os.close(fd)
    keys: dict[str, None] = {}
    ok = 0
    has_x = False
    for chunk in chunks:
        try:
            # The chunk's lines as one JSON array: one call instead of one per line.
            objs = orjson.loads(b"[" + chunk.strip().replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:  # (a damaged or blank line: each on its own)
            objs = []
            for line in chunk.split(b"\n"):
                try:
                    objs.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    continue
        dicts = [o for o in objs if type(o) is dict]
        ms = [m for o in dicts if type(m := o.get("m")) is dict]
        ok += len(ms)
        keys.update(dict.fromkeys(itertools.chain.from_iterable(ms)))
        has_x = has_x or any("x" in o for o in dicts)
    if ok == 0:
        return None
    return tuple(keys), has_x


def count_colons(path: Path, size: int) -> int | None:
    """Number of ``:`` bytes in the first ``size`` bytes of a file (None if unreadable)."""
    import numpy as np  # here: opening a cached index needs none of it

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mm:
            a = np.frombuffer(mm, dtype=np.uint8)
            n = 0
            # In slices that stay in the CPU cache: twice as fast as one pass.
            for i in range(0, size, 1 << 18):
                n += int(np.count_nonzero(a[i : i + (1 << 18)] == 58))
            del a
            return n
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _int_list(xs: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(x)) for x in xs) + "]::INTEGER[]"


def _ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _int64(chunks: Sequence[Any]) -> Any:
    """One int64 NumPy array of an Arrow column's chunks (no nulls)."""
    import numpy as np

    if not chunks:
        return np.empty(0, dtype=np.int64)
    parts = [c.to_numpy(zero_copy_only=False) for c in chunks]
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)).astype(np.int64, copy=False)


def stage_bulk(
    cur: Any, files: Sequence[BulkFile], keys: Sequence[str], table: str, *, with_x: bool = True
) -> bool:
    """Parse whole files into ``table`` with one ``read_json`` query; False if DuckDB refuses.

    ``table`` is in the staging database (``store.db.STAGE_DB``): the index stages
    the next batch in a thread while the previous one is written.
    ``with_x=False`` does not read text values (``x``): a file that has some
    then fails :func:`load_bulk`'s check.
    """
    import duckdb

    struct = "STRUCT(" + ", ".join(f"{_ident(k)} DOUBLE" for k in keys) + ")"
    columns = "{'s': 'DOUBLE', 't': 'DOUBLE', 'm': " + _sql_str(struct)
    columns += ", 'x': 'JSON'}" if with_x else "}"
    paths = [str(f.path) for f in files]
    try:
        # The run id comes from the position of the file in the list (a
        # scalar lookup, not a join: a hash join does not keep the file's
        # line order, which the points must, as a later duplicate step wins).
        # The file name would cost a string per line and a search.
        cur.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT "
            "(?::INTEGER[])[r.file_index::BIGINT + 1] AS rid, r.s, r.t, r.m"
            f"{', r.x' if with_x else ''} "
            f"FROM read_json(?, format='newline_delimited', columns={columns}, "
            "maximum_object_size=16777216) r",
            [[f.rid for f in files], paths],
        )
    except duckdb.Error:
        return False
    return True


def drop_stage(cur: Any, table: str) -> None:
    """Drop a staged batch (outside the transaction that loaded it: one database per writer)."""
    cur.execute(f"DROP TABLE IF EXISTS {table}")


def load_bulk(
    cur: Any,
    files: Sequence[BulkFile],
    keys: Sequence[str],
    mid_of: Callable[[str], int],
    stage: str,
    *,
    with_x: bool = True,
) -> Loaded:
    """Load whole files from the table :func:`stage_bulk` filled; the caller holds a transaction.

    ``files``, ``keys`` and ``with_x`` are those the batch was staged with.
    ``stage`` is only read (a transaction writes to one database):
    :func:`drop_stage` drops it after. Files that fail the checks are left
    out (``Loaded.failed``) with nothing of theirs inserted.
    """
    import numpy as np

    out = Loaded()
    km = [(k, mid_of(k)) for k in keys]
    nonnull = " OR ".join(f"m.{_ident(k)} IS NOT NULL" for k in keys) or "FALSE"
    per_key = []
    for k, _ in km:
        c = f"m.{_ident(k)}"
        # CASE rather than FILTER clauses: the same result (aggregates skip
        # NULLs), and the whole query measured at half the CPU time.
        when = f"CASE WHEN {c} IS NOT NULL THEN"
        per_key.append(
            f"count({c}), min({when} s END), max({when} s END), arg_max({c}, {when} rowid END)"
        )
    xcols = (
        "count(x), coalesce(sum(length(x::VARCHAR) - length(replace(x::VARCHAR, ':', ''))), 0)"
        if with_x
        else "0, 0"
    )
    q = (
        f"SELECT rid, count(*), count(t), {xcols}, "
        "count(*) FILTER (WHERE s IS NULL OR s < 0 OR s != trunc(s) OR m IS NULL), "
        f"min(t), max(t) {', ' if per_key else ''}{', '.join(per_key)} FROM {stage} GROUP BY rid"
    )
    by_rid = {f.rid: f for f in files}
    stats_rows = cur.execute(q).fetchall()
    good: dict[int, tuple[Any, ...]] = {}
    for row in stats_rows:
        rid, n, nt, nx, xcol, bad = row[:6]
        f = by_rid[rid]
        expected = 2 * n + nt + nx + xcol
        for i, (k, _) in enumerate(km):
            expected += row[8 + 4 * i] * (1 + k.count(":"))
        if bad == 0 and expected == f.colons:
            good[rid] = row
    failed = [f.rid for f in files if f.rid not in good]
    out.failed = failed
    if not good:
        return out
    if failed:
        nonnull = f"({nonnull}) AND NOT list_contains({_int_list(failed)}, rid)"
    # Distinct steps per run, from the records in file order (steps never
    # decrease within a file, so a repeat is always next to its twin).
    # Through Arrow, not fetchnumpy: that one grows its arrays as it goes
    # (twice the time, and three times the page faults, of a batch's 280K rows).
    got = cur.sql(f"SELECT rid::BIGINT, s::BIGINT FROM {stage} WHERE {nonnull}").to_arrow_table()
    r_h, s_h = (_int64(col.chunks) for col in got.columns)
    new = np.ones(len(r_h), dtype=bool)
    if len(r_h) > 1:
        new[1:] = (r_h[1:] != r_h[:-1]) | (s_h[1:] != s_h[:-1])
    dup_rids = set(np.unique(r_h[~new]).tolist())
    uniq_r, counts = np.unique(r_h[new], return_counts=True)
    step_count = dict(zip(uniq_r.tolist(), counts.tolist(), strict=True))
    last_idx: dict[int, int] = {}
    if len(r_h):
        change = np.flatnonzero(np.concatenate((r_h[1:] != r_h[:-1], [True])))
        for i in change.tolist():
            last_idx[int(r_h[i])] = int(s_h[i])
    distinct: dict[tuple[int, int], int] = {}
    if dup_rids and km:
        parts = ", ".join(
            f"count(DISTINCT s) FILTER (WHERE m.{_ident(k)} IS NOT NULL)" for k, _ in km
        )
        for row in cur.execute(
            f"SELECT rid, {parts} FROM {stage} WHERE rid IN (SELECT unnest(?::INTEGER[])) GROUP BY rid",
            [sorted(dup_rids)],
        ).fetchall():
            for i, (_, mid) in enumerate(km):
                distinct[(row[0], mid)] = row[1 + i]
    values = sum(row[8 + 4 * i] for row in good.values() for i in range(len(km)))
    vals = ", ".join(f"m.{_ident(k)}" for k, _ in km)
    if km and len(km) <= WIDE_MAX_COLS and len(r_h) * (3 + len(km)) <= WIDE_MAX_CELLS * values:
        # A row per record (see store.db): a third of the CPU time of a row
        # per value, for records that hold most of the batch's metrics.
        table = ensure_wide_table(cur, len(km))
        cur.execute(
            f"INSERT INTO {table} SELECT rid, s::BIGINT, t, {vals} FROM {stage} WHERE {nonnull}"
        )
        cols = [
            (rid, mid, i)
            for rid, row in good.items()
            for i, (_, mid) in enumerate(km)
            if row[8 + 4 * i]
        ]
        if cols:
            r_c, m_c, i_c = (list(c) for c in zip(*cols, strict=True))
            cur.execute(
                "INSERT INTO wide_cols SELECT unnest(?::INTEGER[]), unnest(?::INTEGER[]), "
                "?::SMALLINT, unnest(?::SMALLINT[])",
                [r_c, m_c, len(km), i_c],
            )
    elif km:
        # A row per value, a record's values next to each other: each (run,
        # metric) keeps the file's order, and the step and time columns,
        # repeated from row to row, compress to a fraction.
        mids = ", ".join(str(int(mid)) for _, mid in km)
        cur.execute(
            "INSERT INTO points SELECT rid, mid, step, t, v FROM ("
            f"SELECT rid, unnest([{mids}]::INTEGER[]) AS mid, s::BIGINT AS step, t, "
            f"unnest([{vals}]::DOUBLE[]) AS v FROM {stage} WHERE {nonnull}) WHERE v IS NOT NULL"
        )
    texts: dict[int, dict[str, tuple[int, str]]] = {}
    trows: list[tuple[int, str, int, float, str]] = []
    xrows = (
        cur.execute(
            f"SELECT rid, s::BIGINT, t, x::VARCHAR FROM {stage} WHERE x IS NOT NULL"
            + (f" AND NOT list_contains({_int_list(failed)}, rid)" if failed else "")
        ).fetchall()
        if with_x
        else []
    )
    for rid, s, t, x in xrows:
        try:
            obj = orjson.loads(x)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        for key, val in obj.items():
            if isinstance(val, str):
                trows.append((rid, key, s, t, val))
                texts.setdefault(rid, {})[key] = (s, val)
    if trows:
        import pyarrow as pa

        cols = list(zip(*trows, strict=True))
        tbl = pa.table(
            {
                "rid": pa.array(cols[0], pa.int32()),
                "key": pa.array(cols[1], pa.string()),
                "step": pa.array(cols[2], pa.int64()),
                "t": pa.array(cols[3], pa.float64()),
                "val": pa.array(cols[4], pa.string()),
            }
        )
        cur.register("_bulk_texts", tbl)
        cur.execute("INSERT INTO texts SELECT rid, key, step, t, val FROM _bulk_texts")
        cur.unregister("_bulk_texts")
    for rid, row in good.items():
        f = by_rid[rid]
        h = HistState(off=f.size, size=f.size, tail=read_before(f.path, f.size))
        h.steps = step_count.get(rid, 0)
        h.last_step = last_idx.get(rid)
        h.first_t, h.last_t = row[6], row[7]
        out.hist[rid] = h
        ms: dict[int, MStat] = {}
        for i, (_, mid) in enumerate(km):
            n, lo, hi, last_v = row[8 + 4 * i : 12 + 4 * i]
            if n:
                ms[mid] = MStat(distinct.get((rid, mid), n), int(lo), int(hi), float(last_v))
        out.mstats[rid] = ms
        out.texts[rid] = texts.get(rid, {})
    return out
