"""Config and summary keys that differ across runs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from trackui.store.models import Diff, DiffRow, RunRow, flatten
from trackui.store.text import quoted


def as_number(v: Any) -> float | None:
    """``v`` as a float when it is a number (not a bool), else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def _same(a: Any, b: Any) -> bool:
    na, nb = as_number(a), as_number(b)
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
            base = as_number(values[baseline]) if present[baseline] else None
            deltas = tuple(
                (n - base) if (base is not None and (n := as_number(v)) is not None and p) else None
                for v, p in zip(values, present, strict=True)
            )
            out.append(DiffRow(section, key, values, differs, deltas))
    return Diff(tuple(r.id for r in rows), rows[baseline].id if rows else "", tuple(out))


def diff_runs(rows: Sequence[RunRow], baseline: str | None, all_keys: bool) -> Diff:
    """``Index.diff`` of ``rows``, against the run ``baseline`` (default: the first).

    Raises:
        LookupError: No rows, or a baseline not among them.
    """
    if not rows:
        raise LookupError("diff: no runs given")
    b = 0
    if baseline is not None:
        ids = [r.id for r in rows]
        if baseline not in ids:
            raise LookupError(f"diff: baseline {quoted(baseline)} is not one of the runs")
        b = ids.index(baseline)
    return compute_diff(rows, b, all_keys)
