"""wandb's MongoDB-style run filters and ``order`` strings, evaluated on the index's rows.

``matches(row, filters)`` takes what ``wandb.Api().runs(filters=...)`` takes:
``{"config.lr": 0.1}``, ``{"summary_metrics.acc": {"$gt": 0.9}}``,
``{"state": "finished"}``, ``{"tags": {"$in": ["a"]}}``,
``{"display_name": {"$regex": "^base"}}``, combined with ``$and``, ``$or``,
``$nor`` and ``$not``. Operators: ``$eq $ne $gt $gte $lt $lte $in $nin
$exists $regex $not``. ``sort_rows(rows, order)`` orders by one such field,
``"+created_at"`` or ``"-summary_metrics.val_acc"``; runs without a value
come last either way.
"""

from __future__ import annotations

import re
from typing import Any

from trackui.store.models import RunRow, flatten

_MISSING = object()

_FIELDS = {
    "state": lambda r: r.state,
    "tags": lambda r: list(r.tags),
    "display_name": lambda r: r.name,
    "displayName": lambda r: r.name,
    "name": lambda r: r.id,
    "id": lambda r: r.id,
    "group": lambda r: r.group,
    "project": lambda r: r.project,
    "created_at": lambda r: r.created,
    "createdAt": lambda r: r.created,
    "job_type": lambda r: r.meta.get("job_type"),
    "jobType": lambda r: r.meta.get("job_type"),
    "notes": lambda r: r.meta.get("notes"),
    "runtime": lambda r: r.runtime_s,
}


def _lookup(d: dict[str, Any], path: str) -> Any:
    """``a.b`` in a flat ``/``-keyed dict: the key as given, else with dots as ``/``."""
    for key in (path, path.replace(".", "/")):
        if key in d:
            return d[key]
    if path.endswith(".value"):  # wandb's config filters name ``config.lr.value``
        return _lookup(d, path[: -len(".value")])
    return _MISSING


def field_value(row: RunRow, key: str) -> Any:
    """A row's value for a filter or order key (``_MISSING`` when it has none)."""
    head, _, rest = key.partition(".")
    if head == "config" and rest:
        return _lookup(flatten(row.config), rest)
    if head in ("summary_metrics", "summary") and rest:
        return _lookup(row.summary, rest)
    get = _FIELDS.get(key)
    if get is None:
        raise ValueError(f"runs filter: unknown field {key!r}")
    return get(row)


def _compare(a: Any, op: str, b: Any) -> bool:
    try:
        if op == "$gt":
            return bool(a > b)
        if op == "$gte":
            return bool(a >= b)
        if op == "$lt":
            return bool(a < b)
        return bool(a <= b)
    except TypeError:
        return False


def _eq(v: Any, want: Any) -> bool:
    if isinstance(v, list) and not isinstance(want, list):
        return want in v
    return bool(v == want)


def _test(v: Any, cond: Any) -> bool:
    if not (isinstance(cond, dict) and cond and all(str(k).startswith("$") for k in cond)):
        return v is not _MISSING and _eq(v, cond)
    for op, arg in cond.items():
        if op == "$exists":
            ok = (v is not _MISSING and v is not None) == bool(arg)
        elif op == "$not":
            ok = not _test(v, arg)
        elif v is _MISSING:
            ok = op in ("$ne", "$nin")
        elif op == "$eq":
            ok = _eq(v, arg)
        elif op == "$ne":
            ok = not _eq(v, arg)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = _compare(v, op, arg)
        elif op in ("$in", "$nin"):
            hit = any(_eq(v, a) for a in arg)
            ok = hit if op == "$in" else not hit
        elif op == "$regex":
            ok = isinstance(v, str) and re.search(str(arg), v) is not None
        else:
            raise ValueError(f"runs filter: unsupported operator {op!r}")
        if not ok:
            return False
    return True


def matches(row: RunRow, filters: dict[str, Any] | None) -> bool:
    """Whether ``row`` passes a MongoDB-style filter (see the module docstring)."""
    for key, cond in (filters or {}).items():
        if key == "$and":
            ok = all(matches(row, f) for f in cond)
        elif key == "$or":
            ok = any(matches(row, f) for f in cond)
        elif key == "$nor":
            ok = not any(matches(row, f) for f in cond)
        else:
            ok = _test(field_value(row, key), cond)
        if not ok:
            return False
    return True


def sort_rows(rows: list[RunRow], order: str | None) -> list[RunRow]:
    """Rows ordered by ``order`` (``+key`` ascending, ``-key`` descending, no sign: ascending)."""
    if not order:
        return rows
    descending = order.startswith("-")
    key = order.lstrip("+-")
    have, missing = [], []
    for r in rows:
        v = field_value(r, key)
        (missing if v is _MISSING or v is None else have).append((v, r))
    try:
        have.sort(key=lambda p: p[0], reverse=descending)
    except TypeError:  # mixed types: numbers before text
        have.sort(key=lambda p: (isinstance(p[0], str), str(p[0])), reverse=descending)
    return [r for _, r in have] + [r for _, r in missing]
