"""A metric's best, last, min, max and mean over each run's logged values, computed in DuckDB.

The run table shows and sorts by them (a column ``best:val_accuracy``), not
only by the last value the summary holds. One query per refresh answers every
run and every metric asked for, over both layouts of the index's points
(``points`` and the bulk-loaded ``wide<W>`` tables, see ``db_schema``).

What the values are: one value per step, the last logged winning (as the
charts draw them); NaN is a gap and counts for nothing (a metric whose values
are all NaN has none); ``±inf`` counts. ``last`` is the value at the highest
step; ``mean`` the mean over steps; ``best`` the max for a metric to bring up
and the min for one to bring down (``metric_decl.goal_of``), none for a metric
of unknown goal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trackui.store.db_schema import wide_table
from trackui.store.metric_decl import MAXIMIZE, MINIMIZE, goal_of

AGGREGATE_KINDS = ("best", "last", "min", "max", "mean")
"""What a metric column can show, in the order a picker offers them."""

_ORDER = 1 << 50
"""Rows of ``points`` come after a run's bulk-loaded rows in its file (rowids stay below)."""


def aggregate_key(kind: str, metric: str) -> str:
    """The column key of ``kind`` of ``metric`` (``best:val_accuracy``)."""
    return f"{kind}:{metric}"


def parse_aggregate_key(key: str) -> tuple[str, str] | None:
    """``(kind, metric)`` of an aggregate column key; None for any other key."""
    kind, sep, metric = key.partition(":")
    return (kind, metric) if sep and kind in AGGREGATE_KINDS and metric else None


def _sql(cur: Any, mids: Sequence[int], rids: Sequence[int]) -> str:
    """One query over every source of the metrics ``mids`` of the runs ``rids``."""
    mid_list = ", ".join(str(int(m)) for m in mids)
    rid_list = ", ".join(str(int(r)) for r in rids)
    parts = [
        f"SELECT rid, mid, step, v, {_ORDER} + rowid AS o FROM points "
        f"WHERE mid IN ({mid_list}) AND rid IN ({rid_list})"
    ]
    cols: dict[tuple[int, int, int], list[int]] = {}
    for rid, mid, w, col in cur.execute(
        f"SELECT rid, mid, w, col FROM wide_cols WHERE mid IN ({mid_list}) AND rid IN ({rid_list})"
    ).fetchall():
        cols.setdefault((int(w), int(col), int(mid)), []).append(int(rid))
    for (w, col, mid), in_rids in sorted(cols.items()):
        c = f"v{col}"
        parts.append(
            f"SELECT rid, {mid} AS mid, step, {c} AS v, rowid AS o FROM {wide_table(w)} "
            f"WHERE {c} IS NOT NULL AND rid IN ({', '.join(map(str, in_rids))})"
        )
    return (
        f"WITH src AS ({' UNION ALL '.join(parts)}), "
        "per AS (SELECT rid, mid, step, arg_max(v, o) AS v FROM src GROUP BY rid, mid, step) "
        "SELECT rid, mid, min(v), max(v), avg(v), arg_max(v, step) FROM per "
        "WHERE NOT isnan(v) GROUP BY rid, mid"
    )


def metric_aggregates(
    cur: Any, mids: Mapping[str, int], rids: Sequence[int]
) -> dict[tuple[int, str], dict[str, float]]:
    """``(rid, metric)`` to ``{"min", "max", "mean", "last"}`` for the metrics ``mids``
    (name to id) of the runs ``rids``; a run without a value of a metric has no entry."""
    if not mids or not rids:
        return {}
    names = {int(mid): name for name, mid in mids.items()}
    out: dict[tuple[int, str], dict[str, float]] = {}
    for rid, mid, lo, hi, mean, last in cur.execute(_sql(cur, list(names), rids)).fetchall():
        out[(int(rid), names[int(mid)])] = {"min": lo, "max": hi, "mean": mean, "last": last}
    return out


def pick(values: Mapping[str, float], kind: str, goal: str | None) -> float | None:
    """The aggregate ``kind`` of one run's metric (``best`` by ``goal``; None: none)."""
    if kind == "best":
        kind = {MAXIMIZE: "max", MINIMIZE: "min"}.get(goal or "", "")
    return values.get(kind)


def run_aggregates(
    cur: Any,
    keys: Sequence[str],
    run_ids: Mapping[int, str],
    mids: Mapping[str, int],
    metas: Sequence[dict[str, Any]],
) -> dict[str, dict[str, float]]:
    """``Index.aggregates``: run id to ``{key: value}`` for the aggregate keys among ``keys``,
    for the runs ``run_ids`` (rid to id); ``metas`` decide each metric's goal."""
    specs = {k: p for k in keys if (p := parse_aggregate_key(k)) is not None}
    wanted = {m: mids[m] for _, m in specs.values() if m in mids}
    values = metric_aggregates(cur, wanted, list(run_ids))
    goals = {m: goal_of(metas, m) for m in wanted}
    out: dict[str, dict[str, float]] = {}
    for (rid, metric), got in values.items():
        for key, (kind, m) in specs.items():
            v = pick(got, kind, goals[m]) if m == metric else None
            if v is not None:
                out.setdefault(run_ids[rid], {})[key] = v
    return out
