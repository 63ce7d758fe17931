"""The run table's sort by every kind of column, against a reference sort written here.

The reference reads each column straight from the row as the run table names
it, and orders by the documented rule: numbers first (NaN as the largest,
booleans as 0/1), then text case folded, then anything else by its text;
rows without a value last in either direction; equal values in the order
they came.
"""

from __future__ import annotations

import functools
import math
import random
from pathlib import Path
from typing import Any

import pytest

from trackui.store.models import RunRow
from trackui.store.sorting import check_sort_column, sort_rows, sort_value

SUMMARY_VALUES: list[Any] = [
    None,
    0,
    1,
    -3,
    2.5,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    "b",
    "B",
    "a",
    "",
    "10",
    [1, 2],
    {"k": 1},
]


def make_rows(seed: int, n: int = 14) -> list[RunRow]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        pick = rnd.choice
        config: dict[str, Any] = {"opt": {"lr": pick([1e-3, 1e-4, None, "auto", 3])}}
        if rnd.random() < 0.7:
            config["seed"] = pick([1, 2, 3, True])
        rows.append(
            RunRow(
                id=f"r{i:02d}",
                name=pick(["alpha", "Beta", "gamma", "beta", "alpha"]),
                project=pick([None, "p", "P", "q"]),
                group=pick([None, "g", "h"]),
                tags=tuple(rnd.sample(["x", "y", "Z"], rnd.randint(0, 2))),
                state=pick(["running", "finished", "crashed", "failed"]),
                created=f"2026-01-0{rnd.randint(1, 9)}",
                start_time=float(rnd.randint(0, 5)),
                end_time=pick([None, 10.0, 3.5]),
                runtime_s=pick([0.0, 1.5, 7.0, 7.0]),
                last_step=pick([None, 0, 5, 12]),
                steps=rnd.randint(0, 3),
                path=Path(f"/runs/r{i}"),
                host=pick([None, "h1", "H2"]),
                config=config,
                summary={
                    k: pick(SUMMARY_VALUES)
                    for k in ("acc", "note", "loss/val")
                    if rnd.random() < 0.8
                },
                meta={},
            )
        )
    return rows


def reference_value(row: RunRow, column: str, values: dict[str, dict[str, Any]]) -> Any:
    kind, sep, _ = column.partition(":")
    if sep and kind in ("best", "last", "min", "max", "mean") and column[len(kind) + 1 :]:
        return values.get(row.id, {}).get(column)
    if column == "created":
        return row.start_time
    if column == "runtime":
        return row.runtime_s
    if column == "step":
        return row.last_step
    if column == "project":
        return (row.project or "") + "/" + (row.group or "")
    for section in ("config.", "config:", "summary.", "summary:"):
        if column.startswith(section):
            key = column[len(section) :]
            if section.startswith("summary"):
                return row.summary.get(key)
            flat = dict(row.config)
            nested = flat.pop("opt")
            flat.update({f"opt/{k}": v for k, v in nested.items()})
            return flat.get(key)
    v = getattr(row, column)
    if isinstance(v, tuple):
        return ",".join(v) if v else None
    return v


def reference_order(v: Any) -> tuple[int, Any]:
    if type(v) is bool:
        return (0, 1.0 if v else 0.0)
    if type(v) in (int, float):
        return (0, math.inf if v != v else float(v))
    if type(v) is str:
        return (1, v.lower())
    return (2, str(v))


def reference_sort(
    rows: list[RunRow], column: str, descending: bool, values: dict[str, dict[str, Any]]
) -> list[str]:
    keyed = [(r, reference_value(r, column, values)) for r in rows]

    def cmp(a: tuple[RunRow, Any], b: tuple[RunRow, Any]) -> int:
        ka, kb = reference_order(a[1]), reference_order(b[1])
        if ka == kb:
            return 0
        less = ka < kb
        return (1 if less else -1) if descending else (-1 if less else 1)

    have = sorted((rv for rv in keyed if rv[1] is not None), key=functools.cmp_to_key(cmp))
    return [r.id for r, _ in have] + [r.id for r, v in keyed if v is None]


COLUMNS = [
    "name",
    "id",
    "state",
    "created",
    "start_time",
    "runtime",
    "runtime_s",
    "end_time",
    "project",
    "group",
    "host",
    "tags",
    "step",
    "last_step",
    "steps",
    "config.opt/lr",
    "config:opt/lr",
    "config:seed",
    "summary.acc",
    "summary:acc",
    "summary:note",
    "summary:loss/val",
    "best:acc",
    "mean:loss/val",
]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("seed", range(6))
def test_sort_agrees_with_the_reference(seed: int, column: str, descending: bool) -> None:
    rows = make_rows(seed)
    rnd = random.Random(seed * 1000 + len(column))
    values = {
        r.id: {c: rnd.choice(SUMMARY_VALUES) for c in ("best:acc", "mean:loss/val")}
        for r in rows
        if rnd.random() < 0.8
    }
    got = [r.id for r in sort_rows(rows, column, descending, 0.0, values)]
    assert got == reference_sort(rows, column, descending, values)
    for r in rows:
        want = reference_value(r, column, values)
        v = sort_value(r, column, 0.0, values)
        assert v is want or v == want or (v != v and want != want)


def test_ties_keep_their_order_in_both_directions() -> None:
    rows = make_rows(0)
    same = [
        RunRow(**{**r.__dict__, "summary": {"acc": 1.0 if i % 2 else "X"}})
        for i, r in enumerate(rows)
    ]
    for descending in (False, True):
        got = [r.id for r in sort_rows(same, "summary:acc", descending)]
        ones = [r.id for i, r in enumerate(same) if i % 2]
        xs = [r.id for i, r in enumerate(same) if not i % 2]
        assert got == (xs + ones if descending else ones + xs)


@pytest.mark.parametrize("column", ["config", "summary", "meta", "path", "warnings"])
def test_whole_sections_are_not_sortable(column: str) -> None:
    with pytest.raises(ValueError) as e:
        check_sort_column(column)
    assert str(e.value) == f"sort: cannot sort by {column!r}"
    rows = make_rows(1)
    assert sort_rows(rows, column, True) == rows


@pytest.mark.parametrize("column", ["bogus", "config.", "summary:", "Name", "age"])
def test_unknown_columns_are_refused_and_leave_the_order(column: str) -> None:
    with pytest.raises(ValueError) as e:
        check_sort_column(column)
    assert str(e.value) == (
        f"sort: unknown column {column!r} (a run field, config.<key> or summary.<key>)"
    )
    rows = make_rows(2)
    assert sort_rows(rows, column, False) == rows
    assert all(sort_value(r, column, 0.0) is None for r in rows)


@pytest.mark.parametrize("column", [c for c in COLUMNS if c not in ("best:acc", "mean:loss/val")])
def test_known_columns_pass_the_check(column: str) -> None:
    check_sort_column(column)
