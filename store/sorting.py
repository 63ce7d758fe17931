"""Ordering runs by a column: the one sorter of the run table, the CLI and ``Index.runs``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any

from trackui.store.aggregates import parse_aggregate_key
from trackui.store.diff import as_number
from trackui.store.models import RunRow, flatten

_ROW_FIELDS = {f.name for f in fields(RunRow)}
_UNSORTABLE = ("config", "summary", "meta", "path", "warnings")

# The run table's column names (``created`` is shown as "age"); RunRow's own
# field names are accepted too, and ``config.<key>`` / ``summary.<key>`` as
# well as the table's ``config:<key>`` / ``summary:<key>``.
_COLUMNS: dict[str, Callable[[RunRow, float], Any]] = {
    "created": lambda r, now: r.start_time,
    "runtime": lambda r, now: r.runtime_s,
    "project": lambda r, now: f"{r.project or ''}/{r.group or ''}",
    "step": lambda r, now: r.last_step,
}


def _getter(column: str) -> Callable[[RunRow, float], Any] | None:
    got = _COLUMNS.get(column)
    if got is not None:
        return got
    if column in _ROW_FIELDS:
        if column in _UNSORTABLE:
            return None
        return lambda r, now: getattr(r, column)
    for section in ("config", "summary"):
        for sep in (".", ":"):
            prefix = section + sep
            if column.startswith(prefix) and len(column) > len(prefix):
                key = column[len(prefix) :]
                if section == "config":
                    return lambda r, now: flatten(r.config).get(key)
                return lambda r, now: r.summary.get(key)
    return None


def check_sort_column(column: str) -> None:
    """Raise a one-line ValueError when runs cannot be sorted by ``column``."""
    if column in _ROW_FIELDS and column in _UNSORTABLE:
        raise ValueError(f"sort: cannot sort by {column!r}")
    if _getter(column) is None:
        raise ValueError(
            f"sort: unknown column {column!r} (a run field, config.<key> or summary.<key>)"
        )


Values = Mapping[str, Mapping[str, Any]]
"""Run id to ``{column: value}`` for columns a row does not hold (``Index.aggregates``)."""


def sort_value(row: RunRow, column: str, now: float, values: Values | None = None) -> Any:
    """The value ``row`` sorts by in ``column`` (None: it has none; an unknown column has none).

    An aggregate column (``best:val_accuracy``) reads ``values``.
    """
    if parse_aggregate_key(column) is not None:
        return (values or {}).get(row.id, {}).get(column)
    get = _getter(column)
    if get is None:
        return None
    v = get(row, now)
    if isinstance(v, tuple):
        v = ",".join(v) if v else None
    return v


def _rank(v: Any) -> tuple[int, Any]:
    """Numbers (NaN as the largest), then text (case folded), then anything else."""
    n = as_number(v)
    if n is not None:
        return (0, n if not math.isnan(n) else math.inf)
    if isinstance(v, bool):
        return (0, float(v))
    if isinstance(v, str):
        return (1, v.lower())
    return (2, str(v))


def sort_rows(
    rows: Iterable[RunRow],
    column: str,
    descending: bool,
    now: float = 0.0,
    values: Values | None = None,
) -> list[RunRow]:
    """Rows ordered by ``column``; rows without a value come last whichever the direction.

    Rows with equal values keep the order they came in. ``now`` is the clock
    for columns that depend on it; ``values`` holds the aggregate columns' values.
    """
    have, missing = [], []
    for r in rows:
        v = sort_value(r, column, now, values)
        (missing if v is None else have).append((r, v))
    have.sort(key=lambda rv: _rank(rv[1]), reverse=descending)
    return [r for r, _ in have] + [r for r, _ in missing]
