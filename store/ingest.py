"""Loading ``history.jsonl`` files into the index: what a load produces, and which path it takes.

Two paths, each in its own module:

* **Bulk** (``store.ingest_bulk``, a whole file read from byte 0): DuckDB's
  own ``read_json`` parses many files in one query, and each file is checked
  afterwards against a count of its bytes; a file that fails the check goes
  the exact way.
* **Exact** (``store.ingest_exact``: appended bytes, small files, and those
  above): the lines are parsed one by one by ``store.reader`` from the last
  offset, so a torn tail waits for its newline and every damaged line
  becomes a warning.

Both keep each file's byte order (DuckDB preserves insertion order), which
is what lets a later duplicate step win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trackui.store import layout

BULK_MIN_BYTES = 256 * 1024
"""Files smaller than this are parsed line by line (a DuckDB query costs more)."""
MAX_WARNINGS = 20
"""Damaged-record warnings kept per run; the rest are counted."""


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
    """Distinct steps with at least one value (numeric or text)."""
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
    reload: list[int] = field(default_factory=list)
    """Runs whose new lines hold a step below those loaded before: the exact
    path left them out, to be forgotten and loaded again from byte 0."""
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


def add_warnings(h: HistState, new: Sequence[str]) -> None:
    """Count ``new`` damaged-record warnings into ``h``, keeping the first few."""
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
