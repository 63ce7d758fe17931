"""What the ``trackui`` command prints: safe one-line values, tables, JSON, CSV and JSONL.

Every name and value from a run goes through :func:`clean` (control
characters escaped, no markup: nothing here renders any) or :func:`dumps_json`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import IO, Any

from trackui.store import text
from trackui.store.reader import encode_value


def clean(s: Any, width: int | None = None) -> str:
    """A value as one safe line: non-printable characters escaped, optionally cut."""
    return text.escape(s if isinstance(s, str) else fmt_value(s), width)


def fmt_value(v: Any) -> str:
    """A config/summary value for people: ``-`` for none, 6 digits, counts in full, JSON."""
    return text.fmt_value(v, missing="-", digits=6, fixed=True, json=True)


def fmt_delta(d: float | None) -> str:
    """A signed difference in the CLI's digits ("" for none)."""
    return text.fmt_delta(d, 4, fixed=True)


def fmt_duration(s: float | None) -> str:
    """Seconds as ``3h02m``, ``4m05s`` or ``12s`` (a negative time as ``0s``)."""
    return text.fmt_duration(max(0.0, s) if s is not None and not math.isnan(s) else s)


def fmt_time(start: float | None) -> str:
    """Unix seconds as local ``YYYY-MM-DD HH:MM``."""
    return text.fmt_time(start, seconds=False)


def dumps_json(obj: Any) -> str:
    """Plain JSON, with DEL and C1 controls escaped too (JSON allows them raw)."""
    from trackui.store.writer import json_bytes

    return text.escape_c1(json_bytes(encode_value(obj)).decode())


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces (cells already cleaned)."""
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


def run_json(row: Any) -> dict[str, Any]:
    """The ``ls --json`` object of a run (DESIGN section 5 fields, and a few more)."""
    return {
        "id": row.id,
        "name": row.name,
        "project": row.project,
        "group": row.group,
        "tags": list(row.tags),
        "state": row.state,
        "created": row.created,
        "runtime_s": round(row.runtime_s, 3),
        "last_step": row.last_step,
        "steps": row.steps,
        "config": row.config,
        "summary": row.summary,
        "warnings": list(row.warnings),
        "job_type": row.meta.get("job_type"),
        "notes": row.meta.get("notes"),
        "host": row.host,
        "start_time": row.start_time,
        "end_time": row.end_time,
        "exit_code": row.meta.get("exit_code"),
        "path": str(row.path),
        "source": row.meta.get("source"),
        "source_path": row.meta.get("source_path"),
    }


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal (False for a closed or odd stream)."""
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


def names_terminal(path: str) -> bool:
    """Whether ``path`` is a terminal (``/dev/stdout`` or ``/dev/tty`` on one)."""
    import stat

    try:
        if not stat.S_ISCHR(os.stat(path).st_mode):
            return False
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def to_csv(tbl: Any) -> str:
    """CSV by Arrow's writer: shortest round-trip floats, ``nan``/``inf``/``-inf``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    sink = pa.BufferOutputStream()
    pcsv.write_csv(tbl, sink, pcsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes().decode("utf-8")


def to_jsonl(tbl: Any) -> str:
    import orjson

    names = tbl.column_names
    cols = [tbl.column(c).to_pylist() for c in names]
    lines = []
    for row in zip(*cols, strict=True):
        obj = {
            k: (encode_value(v) if isinstance(v, float) else v)
            for k, v in zip(names, row, strict=True)
        }
        lines.append(orjson.dumps(obj).decode())
    return "\n".join(lines) + ("\n" if lines else "")
