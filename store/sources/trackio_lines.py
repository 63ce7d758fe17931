"""trackio's metric rows turned into trackui ``history.jsonl`` lines by SQLite itself.

trackio keeps one row per logged step: the step, an ISO timestamp and the
values as compact JSON (orjson's). Where a row's values are plain (a flat
object of numbers, no NaN or infinity, which trackio writes as strings, no
text, no nesting, no integer of 19 digits or more) its line in trackui's
format is that JSON as it stands, with the step and the time put before it:
``{"s":<step>,"t":<seconds>,"m":<trackio's JSON>}``. SQLite builds every line
in C and joins them, in step order, into one string (trackio's index on
``(run_id, step)`` gives that order for free), so a read costs Python one
string, checked as a whole (:func:`plain`); the index's bulk loader parses
the lines, and the mirror serializes no row.

The time is written as the ISO timestamp's whole seconds (``strftime('%s')``,
the offset applied) followed by its fraction's digits as they stand: the same
decimal as Python's ``datetime.fromisoformat(ts).timestamp()``, so the same
double. A batch holding any row that is not plain goes the exact way, row by
row in Python (``trackio_source``).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, NamedTuple

_TIME = (
    "CASE WHEN length(timestamp) = 32 AND substr(timestamp, 20, 1) = '.' AND timestamp >= '1970'"
    " THEN strftime('%s', substr(timestamp, 1, 19) || substr(timestamp, 27))"
    " || substr(timestamp, 20, 7)"
    " WHEN length(timestamp) = 25 AND timestamp >= '1970' THEN strftime('%s', timestamp) END"
)
"""A row's ISO timestamp (as Python's ``isoformat()`` writes an aware time) as Unix seconds in
JSON; NULL where it has another form."""
_LINE = (
    "CASE WHEN typeof(step) = 'integer' AND step >= 0"
    f" THEN '{{\"s\":' || step || ',\"t\":' || ({_TIME}) || ',\"m\":' || metrics || '}}' || char(10)"
    " END"
)
"""A row as a history line; NULL (left out of the join) where its step is not a JSON integer
of the format or its time is not read."""
_LONG_INT = re.compile(r":\s?-?[0-9]{19}")
"""An integer of 19 digits or more (it may not fit 64 bits: such a batch goes row by row)."""


def plain(text: str, rows: int) -> bool:
    """Whether ``rows`` lines built by :data:`_LINE` are all there and hold plain numbers only.

    trackio writes compact JSON: a text value (NaN and the infinities among
    them) is ``:"``, a nested object one more ``{``, a list a ``[``; booleans
    and null are spelled out. A damaged row breaks the braces' count.
    (The time's digits never follow a ``:`` directly in 19 digits: it has a point.)
    """
    return (
        text.count("\n") == rows
        and text.count("{") == 2 * rows
        and text.count("}") == 2 * rows
        and "[" not in text
        and ':"' not in text
        and ': "' not in text
        and '"m":{}' not in text
        and "true" not in text
        and "false" not in text
        and "null" not in text
        and _LONG_INT.search(text) is None
    )


class Lines(NamedTuple):
    """The rows after a cursor as history lines."""

    text: bytes
    """The lines, in step order (rows of one step in the order logged)."""
    first_step: int
    last_step: int
    last_id: int
    """The newest row's id (the next cursor)."""
    step: int
    """The newest row's step."""
    first_time: str
    last_time: str
    """The oldest and the newest row's ISO timestamps."""


def history_lines(
    conn: sqlite3.Connection, where: str, args: list[Any], after: int
) -> Lines | None:
    """The rows of ``where`` after row id ``after`` as lines; None: no rows, or one not plain."""
    last_id, rows, first, last, text = conn.execute(
        "SELECT max(id), count(*), min(step), max(step), group_concat(line, '')"
        f" FROM (SELECT id, step, {_LINE} AS line FROM metrics WHERE {where} AND id > ?"
        " ORDER BY step, id)",
        (*args, after),
    ).fetchone()
    if not rows or text is None or not plain(text, rows):
        return None
    step, last_time = conn.execute(
        "SELECT step, timestamp FROM metrics WHERE id = ?", (last_id,)
    ).fetchone()
    (first_time,) = conn.execute(
        f"SELECT timestamp FROM metrics WHERE {where} AND id > ? ORDER BY id LIMIT 1",
        (*args, after),
    ).fetchone()
    return Lines(text.encode(), first, last, last_id, step, first_time, last_time)


def time_steps(
    conn: sqlite3.Connection, where: str, args: list[Any], after: int, last: int
) -> list[tuple[str, int]]:
    """``(ISO timestamp, step)`` of the rows after ``after`` up to ``last``, in row id order."""
    return conn.execute(
        f"SELECT timestamp, step FROM metrics WHERE {where} AND id > ? AND id <= ? ORDER BY id",
        (*args, after, last),
    ).fetchall()
