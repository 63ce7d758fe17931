"""What each cell of a run's row in the table shows, and what a column sorts by.

Plain functions over ``RunRow``: the table widget renders them, the runs
screen sorts by ``column_value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from trackui.store.aggregates import parse_aggregate_key
from trackui.store.models import RunRow, flatten
from trackui.store.text import fit_value
from trackui.tui.fmt import (
    STATE_GLYPHS,
    STATE_STYLES,
    clean,
    fmt_age,
    fmt_duration,
    shorten,
)

BASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sel", " "),
    ("state", "state"),
    ("name", "name"),
    ("project", "project/group"),
    ("created", "age"),
    ("runtime", "runtime"),
    ("step", "step"),
)
"""Fixed columns: key and title. ``step`` is the run's last step (``_step``, as the
charts' x axis reads); how many steps were logged is the detail's (``steps``)."""

OTHER_COLUMNS: tuple[tuple[str, str], ...] = (("steps", "steps"),)
"""Columns a caller may ask for that the table does not show by default."""

SELECT_MARK = "✓"
SOURCE_MARKS = {"tensorboard": "TB", "wandb": "W&B", "mlflow": "MLflow", "trackio": "trackio"}
"""Before the name of a run another tracker wrote (``meta.json``'s ``source``)."""
NAME_WIDTH = 36
VALUE_WIDTH = 14


SHRINKABLE = {"project": 8, "name": 16}
"""Columns that give up width where the table is wider than its pane, in this order, each to
this many cells at least, so that the short ones (age, runtime, step, values) stay whole."""


def fit_widths(
    widths: tuple[int, ...], keys: Sequence[str], room: int, pad: int
) -> tuple[int, ...]:
    """``widths`` (of the texts of columns ``keys``) made to fit ``room`` cells where they can.

    The project column gives up width first, then the name, each down to its
    least (``SHRINKABLE``); a table that still does not fit scrolls.
    """
    out = list(widths)
    excess = sum(w + 2 * pad for w in out) - room
    for key, least in SHRINKABLE.items():
        for i, k in enumerate(keys):
            if k == key and excess > 0:
                cut = min(excess, max(0, out[i] - least))
                out[i] -= cut
                excess -= cut
    return tuple(out)


def marked_name(row: RunRow) -> str:
    """A run's name, cleaned, after its tracker's mark (``TB: ``) where another tracker wrote it."""
    name = clean(row.name)
    source = row.meta.get("source")
    if source:
        name = f"{SOURCE_MARKS.get(source, clean(str(source)))}: {name}"
    return name


def column_title(key: str) -> str:
    """The header of a column key (``summary:val/acc`` shows as ``val/acc``, ``best:val/acc``
    as ``best val/acc``)."""
    for k, title in BASE_COLUMNS + OTHER_COLUMNS:
        if k == key:
            return title
    agg = parse_aggregate_key(key)
    if agg is not None:
        return f"{agg[0]} " + shorten(clean(agg[1]), VALUE_WIDTH)
    _, _, name = key.partition(":")
    return shorten(clean(name), VALUE_WIDTH)


def column_value(
    row: RunRow, key: str, now: float, values: Mapping[str, float] | None = None
) -> Any:
    """The value a column sorts by (an aggregate column's from ``values``: ``Index.aggregates``)."""
    if parse_aggregate_key(key) is not None:
        return (values or {}).get(key)
    if key == "state":
        return row.state
    if key == "name":
        return row.name.lower()
    if key == "project":
        return f"{row.project or ''}/{row.group or ''}"
    if key == "created":
        return row.start_time
    if key == "runtime":
        return row.runtime_s
    if key == "steps":
        return row.steps
    if key == "step":
        return row.last_step
    section, _, name = key.partition(":")
    if section == "summary":
        return row.summary.get(name)
    if section == "config":
        return flatten(row.config).get(name)
    return None


def _holds(row: RunRow, key: str) -> bool:
    """Whether the run has the column's key at all (its value may be None)."""
    if parse_aggregate_key(key) is not None:
        return False
    section, _, name = key.partition(":")
    if section == "summary":
        return name in row.summary
    if section == "config":
        return name in flatten(row.config)
    return False


Cell = tuple[str, str, str, str]
"""A cell as plain parts: text, style, justification, and a warning mark."""


def cell_parts(
    row: RunRow,
    columns: Sequence[str],
    selected: bool,
    now: float,
    values: Mapping[str, float] | None = None,
) -> list[Cell]:
    """The cells of one row as plain strings (every one already cleaned); ``values``:
    the run's aggregate columns."""
    out: list[Cell] = []
    for key in columns:
        if key == "sel":
            out.append((SELECT_MARK if selected else " ", "bold", "left", ""))
        elif key == "state":
            out.append(
                (STATE_GLYPHS.get(row.state, "?"), STATE_STYLES.get(row.state, ""), "left", "")
            )
        elif key == "name":
            mark = " ⚠" if row.warnings else ""
            out.append((shorten(marked_name(row), NAME_WIDTH), "", "left", mark))
        elif key == "project":
            pg = clean(row.project or "")
            if row.group:
                pg = f"{pg}/{clean(row.group)}" if pg else clean(row.group)
            out.append((shorten(pg, 24), "dim", "left", ""))
        elif key == "created":
            out.append((fmt_age(row.start_time, now), "", "right", ""))
        elif key == "runtime":
            out.append((fmt_duration(row.runtime_s), "", "right", ""))
        elif key == "steps":
            out.append((str(row.steps), "", "right", ""))
        elif key == "step":
            step = "" if row.last_step is None else str(row.last_step)
            out.append((step, "", "right", ""))
        else:
            v = column_value(row, key, now, values)
            justify = "right" if isinstance(v, (int, float)) else "left"
            # A key that holds None reads "None"; a missing key shows nothing.
            text = fit_value(v, VALUE_WIDTH) if v is not None or _holds(row, key) else ""
            out.append((text, "", justify, ""))
    return out


def cell_widths(
    row: RunRow,
    columns: Sequence[str],
    selected: bool,
    now: float,
    values: Mapping[str, float] | None = None,
) -> tuple[int, ...]:
    """The width of each cell of one row, without building its ``Text``."""
    parts = cell_parts(row, columns, selected, now, values)
    return tuple(cell_len(t + m) for t, _, _, m in parts)


def cells(
    row: RunRow,
    columns: Sequence[str],
    selected: bool,
    now: float,
    values: Mapping[str, float] | None = None,
) -> list[Text]:
    """The cells of one row, each a literal ``Text``."""
    out: list[Text] = []
    for text, style, justify, mark in cell_parts(row, columns, selected, now, values):
        t = Text(text, style=style, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        if mark:
            t.append(mark, style="yellow")
        out.append(t)
    return out
