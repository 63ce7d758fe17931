"""trackio's metric rows turned into trackui ``history.jsonl`` lines without decoding them.

trackio keeps one row per logged step: the step, an ISO timestamp and the
values as compact JSON (orjson's). Where a batch's values are plain (flat
objects of numbers: no NaN or infinity, which trackio writes as strings, no
text, lists, booleans, null or nesting, no integer of 19 digits or more)
each row's line in trackui's format is that JSON as it stands, with the step
and the time put before it: ``{"s":<step>,"t":<seconds>,"m":<trackio's
JSON>}``. SQLite hands the rows over in step order (trackio's index on
``(run_id, step)`` gives that order for free), one f-string each makes the
line, the joined text is checked as a whole (:func:`plain`), and the values
are never decoded: the index's bulk loader parses the lines, and the mirror
serializes no row. (Building the lines in SQL with ``||`` and ``strftime``
measured slower than this on SQLite 3.40.)

The time is each distinct timestamp read once, as the slow path reads it
(``datetime.fromisoformat(ts).timestamp()``), written with ``repr`` (the
same double read back). A batch holding any row that is not plain goes the
exact way, row by row in Python (``trackio_source``).
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

from trackui.store.sources.trackio_values import unix_time

_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_INTS = (b":" + b"0" * 19, b":-" + b"0" * 19)
"""An integer of 19 digits or more right after a ``:`` (once every digit reads ``0``): it
may not fit 64 bits. (The time never has 19 digits in a row: it has a point.)"""


def plain(data: bytes, rows: int) -> bool:
    """Whether ``rows`` lines built by :func:`history_lines` are all there and hold plain
    numbers only.

    A line holds two objects (a nested one makes three, a damaged row breaks
    the count), and as many ``"`` as twice its ``:`` (each key's two), so a
    text value, which trackio's NaN and infinities are, adds some; lists,
    booleans, null and empty objects are spelled out; a long integer is found
    once its digits all read ``0``.
    """
    if not (
        data.count(b"\n") == rows
        and data.count(b"{") == 2 * rows
        and data.count(b"}") == 2 * rows
        and data.count(b'"') == 2 * data.count(b":")
        and b"[" not in data
        and b"true" not in data
        and b"false" not in data
        and b"null" not in data
        and b"{}" not in data
        and b": " not in data  # (compact JSON, as trackio writes it; else row by row)
    ):
        return False
    zeros = data.translate(_ZEROS)
    return not any(long in zeros for long in _LONG_INTS)


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
    rows = conn.execute(
        f"SELECT step, timestamp, CAST(metrics AS TEXT) FROM metrics WHERE {where} AND id > ?"
        " ORDER BY step, id",
        (*args, after),
    ).fetchall()
    if not rows:
        return None
    times: dict[Any, str] = {}
    for ts in {r[1] for r in rows}:
        t = unix_time(ts)
        if t is None or t - t != 0.0:
            return None
        times[ts] = repr(t)
    try:
        # (":d" refuses a step that is not an integer: SQLite may hold a float or text there)
        text = "".join([f'{{"s":{s:d},"t":{times[ts]},"m":{m}}}\n' for s, ts, m in rows])
    except (TypeError, ValueError):
        return None
    data = text.encode()
    if rows[0][0] < 0 or not plain(data, len(rows)):
        return None
    last_id, step, last_time = conn.execute(
        f"SELECT id, step, timestamp FROM metrics WHERE {where} AND id > ? ORDER BY id DESC LIMIT 1",
        (*args, after),
    ).fetchone()
    (first_time,) = conn.execute(
        f"SELECT timestamp FROM metrics WHERE {where} AND id > ? ORDER BY id LIMIT 1",
        (*args, after),
    ).fetchone()
    return Lines(data, rows[0][0], rows[-1][0], last_id, step, first_time, last_time)


def time_steps(
    conn: sqlite3.Connection, where: str, args: list[Any], after: int, last: int
) -> list[tuple[str, int]]:
    """``(ISO timestamp, step)`` of the rows after ``after`` up to ``last``, in row id order."""
    return conn.execute(
        f"SELECT timestamp, step FROM metrics WHERE {where} AND id > ? AND id <= ? ORDER BY id",
        (*args, after, last),
    ).fetchall()
