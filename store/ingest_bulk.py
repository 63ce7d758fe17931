"""The bulk path: whole files parsed by DuckDB's ``read_json``, then checked (see ``store.ingest``).

``m`` is read as a STRUCT of the metric names sampled from each file's head
and tail. A STRUCT silently drops names it does not list, so every file is
checked afterwards: the numbers of ``:`` and ``"`` in its bytes (counted with
NumPy over a memory map) must equal what the parsed rows account for (a
DOUBLE also takes any string DuckDB reads as a number, ``"5"`` or ``"NaN"``,
which docs/format.md makes a damaged record: the quotes tell those, and the
non-finite values must be spelled as the format spells them). A file that fails
the check, or that DuckDB refuses (damaged lines, invalid UTF-8), or whose
last line is incomplete, goes the exact way instead. Rows go to ``wide<W>``
(a row per record) where the records hold most of their batch's metrics, and
to ``points`` (a row per value) otherwise (see ``store.db_schema``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from trackui.store.db_schema import ensure_wide_table
from trackui.store.ingest import HistState, Loaded, MStat, read_before
from trackui.store.ingest_exact import insert_texts, texts_table
from trackui.store.ingest_sampling import NONFINITE_SPELLINGS, count_spellings

BATCH_BYTES = 48 * 1024 * 1024
"""Bytes of JSON handed to one ``read_json`` query (bounds memory, paces progress)."""
BATCH_FILES = 64
WIDE_MAX_COLS = 32
"""Most metrics a bulk batch may have to be stored a row per record (``wide<W>``)."""
WIDE_MAX_CELLS = 4
"""A batch goes a row per record when its rows' cells (run, step, time and a
value or NULL per metric) are at most this many times its values: a NULL
costs about as much to store as a value, and a row per value about five cells."""


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
    quotes: int = 0
    """Number of ``"`` bytes in the whole file (likewise: a string value in ``m`` that
    DuckDB cast to a number brings two that the rows do not account for)."""
    with_x: bool = True
    """Whether the samples showed text values (``x``) or rich values (``r``)."""


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
    ``with_x=False`` reads neither text values (``x``) nor rich values' references
    (``r``): a file that has some then fails :func:`load_bulk`'s check.
    """
    import duckdb

    struct = "STRUCT(" + ", ".join(f"{_ident(k)} DOUBLE" for k in keys) + ")"
    # The step as JSON: DuckDB would cast true, 2.0 or "3" to a number, and a
    # step is a JSON integer only (a NULL here fails load_bulk's check).
    columns = "{'s': 'JSON', 't': 'DOUBLE', 'm': " + _sql_str(struct)
    columns += ", 'x': 'JSON', 'r': 'JSON'}" if with_x else "}"
    paths = [str(f.path) for f in files]
    try:
        # The run id comes from the position of the file in the list (a
        # scalar lookup, not a join: a hash join does not keep the file's
        # line order, which the points must, as a later duplicate step wins).
        # The file name would cost a string per line and a search.
        cur.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT "
            "(?::INTEGER[])[r.file_index::BIGINT + 1] AS rid, "
            "CASE WHEN json_type(r.s) IN ('UBIGINT', 'BIGINT') THEN r.s::DOUBLE END AS s, r.t, r.m"
            f"{', r.x, r.r' if with_x else ''} "
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


class _MetricParsed(NamedTuple):
    """One metric of one file as the staged rows hold it."""

    count: int
    """Values (non-null)."""
    first: Any
    """Smallest step with a value."""
    last: Any
    """Largest step with a value."""
    last_v: Any
    """The value last in file order."""
    nonfinite: int
    """Values that are NaN or infinite (spelled as strings in the file)."""


class _Parsed(NamedTuple):
    """One file of a batch as the staged rows hold it: what the check compares."""

    rid: int
    records: int
    timed: int
    """Records with a time (``"t":``)."""
    texted: int
    """Records with text values (``"x":``), plus those with rich values (``"r":``)."""
    text_colons: int
    """``:`` inside the text values and the rich values' references."""
    text_quotes: int
    """``"`` inside the text values and the rich values' references."""
    text_spellings: int
    """``"nan"``, ``"inf"`` and ``"-inf"`` there (a text value may be ``"nan"``)."""
    bad: int
    """Records with no usable step or no ``m``."""
    first_t: float | None
    last_t: float | None
    metrics: tuple[_MetricParsed, ...]
    """In the order of the batch's keys."""

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> _Parsed:
        """From a row of :func:`load_bulk`'s per-file query (its columns in this order)."""
        per = row[10:]
        ms = tuple(_MetricParsed(*per[i : i + 5]) for i in range(0, len(per), 5))
        return cls(*row[:10], ms)

    def colons(self, keys: Sequence[str]) -> int:
        """The ``:`` bytes these rows account for: ``"s":`` and ``"m":`` per record,
        ``"t":`` and ``"x":`` where present, the text values' own, and per value its
        key's (with the colons in the key's name)."""
        n = 2 * self.records + self.timed + self.texted + self.text_colons
        for k, m in zip(keys, self.metrics, strict=True):
            n += m.count * (1 + k.count(":"))
        return n

    def quotes(self, keys: Sequence[str]) -> int:
        """The ``"`` bytes these rows account for: ``"s"`` and ``"m"`` per record,
        ``"t"``, ``"x"`` and ``"r"`` where present, the text values' own, per value its
        key's (with the quotes in the key's name), and two per non-finite value (the
        only strings ``m`` may hold: ``"nan"``, ``"inf"``, ``"-inf"``)."""
        n = 2 * (2 * self.records + self.timed + self.texted) + self.text_quotes
        for k, m in zip(keys, self.metrics, strict=True):
            n += m.count * (2 + k.count('"')) + 2 * m.nonfinite
        return n

    def spelled_right(self, f: BulkFile) -> bool:
        """Whether every non-finite value is one of the format's spellings (DuckDB
        casts ``"NaN"`` or ``"Infinity"`` too, which the exact path rejects)."""
        nonfinite = sum(m.nonfinite for m in self.metrics)
        if nonfinite == 0:
            return True
        return count_spellings(f.path, f.size) == nonfinite + self.text_spellings


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
        # NULLs), for less CPU.
        when = f"CASE WHEN {c} IS NOT NULL THEN"
        per_key.append(
            f"count({c}), min({when} s END), max({when} s END), arg_max({c}, {when} rowid END), "
            f"count(CASE WHEN NOT isfinite({c}) THEN 1 END)"
        )

    def marks_in(c: str, mark: str) -> str:
        return (
            f"coalesce(sum(length({c}::VARCHAR) - length(replace({c}::VARCHAR, '{mark}', ''))), 0)"
        )

    xcols = "count(x) + count(r), "
    xcols += ", ".join(f"{marks_in('x', k)} + {marks_in('r', k)}" for k in ':"')
    xcols += ", " + " + ".join(
        f"({marks_in('x', w)} + {marks_in('r', w)}) // {len(w)}"
        for w in (s.decode() for s in NONFINITE_SPELLINGS)
    )
    xcols = xcols if with_x else "0, 0, 0, 0"
    q = (
        f"SELECT rid, count(*), count(t), {xcols}, "
        "count(*) FILTER (WHERE s IS NULL OR s < 0 OR s != trunc(s) OR m IS NULL), "
        f"min(t), max(t) {', ' if per_key else ''}{', '.join(per_key)} FROM {stage} GROUP BY rid"
    )
    by_rid = {f.rid: f for f in files}
    good: dict[int, _Parsed] = {}
    for row in cur.execute(q).fetchall():
        got = _Parsed.of(row)
        f = by_rid[got.rid]
        counted = got.colons(keys) == f.colons and got.quotes(keys) == f.quotes
        if got.bad == 0 and counted and got.spelled_right(f):
            good[got.rid] = got
    failed = [f.rid for f in files if f.rid not in good]
    out.failed = failed
    if not good:
        return out
    valued = nonnull
    if failed:
        nonnull = f"({valued}) AND NOT list_contains({_int_list(failed)}, rid)"
    # Distinct steps per run, from the records in file order (steps that
    # never decrease: a repeat is next to its twin). Through Arrow, not
    # fetchnumpy (which grows its arrays as it goes).
    got = cur.sql(f"SELECT rid::BIGINT, s::BIGINT FROM {stage} WHERE {nonnull}").to_arrow_table()
    r_h, s_h = (_int64(col.chunks) for col in got.columns)
    back = np.flatnonzero((r_h[1:] == r_h[:-1]) & (s_h[1:] < s_h[:-1])) if len(r_h) > 1 else []
    if len(back):
        # A file whose steps go back (docs/format.md allows a repeat of an
        # earlier step) goes the exact way, which counts them as a set.
        gone = sorted(set(r_h[1:][back].tolist()))
        keep = ~np.isin(r_h, gone)
        r_h, s_h = r_h[keep], s_h[keep]
        for rid in gone:
            del good[rid]
        failed.extend(gone)
        nonnull = f"({valued}) AND NOT list_contains({_int_list(failed)}, rid)"
        if not good:
            return out
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
    values = sum(m.count for p in good.values() for m in p.metrics)
    vals = ", ".join(f"m.{_ident(k)}" for k, _ in km)
    if km and len(km) <= WIDE_MAX_COLS and len(r_h) * (3 + len(km)) <= WIDE_MAX_CELLS * values:
        # A row per record (see store.db_schema): cheaper than a row per value for
        # records that hold most of the batch's metrics.
        table = ensure_wide_table(cur, len(km))
        cur.execute(
            f"INSERT INTO {table} SELECT rid, s::BIGINT, t, {vals} FROM {stage} WHERE {nonnull}"
        )
        cols = [
            (rid, mid, i)
            for rid, p in good.items()
            for i, (_, mid) in enumerate(km)
            if p.metrics[i].count
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
    text_steps: dict[int, set[int]] = {}
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
                text_steps.setdefault(rid, set()).add(s)
    if with_x:  # a step with only rich values is a step too (their references: store.rich)
        for rid, s in cur.execute(
            f"SELECT DISTINCT rid, s::BIGINT FROM {stage} WHERE r IS NOT NULL"
            + (f" AND NOT list_contains({_int_list(failed)}, rid)" if failed else "")
        ).fetchall():
            text_steps.setdefault(rid, set()).add(s)
    if text_steps:
        _count_text_steps(text_steps, r_h, s_h, step_count, last_idx)
    if trows:
        insert_texts(cur, texts_table(*zip(*trows, strict=True)))
    for rid, p in good.items():
        f = by_rid[rid]
        h = HistState(off=f.size, size=f.size, tail=read_before(f.path, f.size))
        h.steps = step_count.get(rid, 0)
        h.last_step = last_idx.get(rid)
        h.first_t, h.last_t = p.first_t, p.last_t
        out.hist[rid] = h
        ms: dict[int, MStat] = {}
        for (_, mid), m in zip(km, p.metrics, strict=True):
            if m.count:
                ms[mid] = MStat(
                    distinct.get((rid, mid), m.count), int(m.first), int(m.last), float(m.last_v)
                )
        out.mstats[rid] = ms
        out.texts[rid] = texts.get(rid, {})
    return out


def _count_text_steps(
    text_steps: dict[int, set[int]],
    r_h: Any,
    s_h: Any,
    step_count: dict[int, int],
    last_step: dict[int, int],
) -> None:
    """Add to each run's step count and last step its steps with text values only.

    A step with any value is a step (docs/format.md). ``r_h`` and ``s_h`` are
    the runs and steps of the records with a numeric value, each run's rows
    next to each other (a file's records, in order).
    """
    import numpy as np

    bounds: dict[int, tuple[int, int]] = {}
    if len(r_h):
        ends = np.flatnonzero(np.concatenate((r_h[1:] != r_h[:-1], [True]))) + 1
        starts = np.concatenate(([0], ends[:-1]))
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            bounds[int(r_h[lo])] = (lo, hi)
    for rid, steps in text_steps.items():
        ts = np.fromiter(steps, dtype=np.int64, count=len(steps))
        lo, hi = bounds.get(rid, (0, 0))
        only_text = np.setdiff1d(ts, s_h[lo:hi])
        if len(only_text):
            step_count[rid] = step_count.get(rid, 0) + len(only_text)
            top = int(only_text.max())
            prev = last_step.get(rid)
            last_step[rid] = top if prev is None else max(prev, top)
