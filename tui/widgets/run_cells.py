"""What each cell of a run's row in the table shows, and what a column sorts by.

Plain functions over ``RunRow``: the table widget renders them, the runs
screen sorts by ``column_value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text

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
    ("steps", "steps"),
)
"""Fixed columns: key and title."""

SELECT_MARK = "✓"
SOURCE_MARKS = {"tensorboard": "TB", "wandb": "W&B", "mlflow": "MLflow", "trackio": "trackio"}
"""Before the name of a run another tracker wrote (``meta.json``'s ``source``)."""
NAME_WIDTH = 36
VALUE_WIDTH = 14


def column_title(key: str) -> str:
    """The header of a column key (``summary:val/acc`` shows as ``val/acc``)."""
    for k, title in BASE_COLUMNS:
        if k == key:
            return title
    _, _, name = key.partition(":")
    return shorten(clean(name), VALUE_WIDTH)


def column_value(row: RunRow, key: str, now: float) -> Any:
    """The value a column sorts by."""
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
    section, _, name = key.partition(":")
    if section == "summary":
        return row.summary.get(name)
    if section == "config":
        return flatten(row.config).get(name)
    return None


def _holds(row: RunRow, key: str) -> bool:
    """Whether the run has the column's key at all (its value may be None)."""
    section, _, name = key.partition(":")
    if section == "summary":
        return name in row.summary
    if section == "config":
        return name in flatten(row.config)
    return False


Cell = tuple[str, str, str, str]
"""A cell as plain parts: text, style, justification, and a warning mark."""


def cell_parts(row: RunRow, columns: Sequence[str], selected: bool, now: float) -> list[Cell]:
    """The cells of one row as plain strings (every one already cleaned)."""
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
            name = clean(row.name)
            source = row.meta.get("source")
            if source:
                name = f"{SOURCE_MARKS.get(source, clean(str(source)))}: {name}"
            out.append((shorten(name, NAME_WIDTH), "", "left", mark))
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
        else:
            v = column_value(row, key, now)
            justify = "right" if isinstance(v, (int, float)) else "left"
            # A key that holds None reads "None"; a missing key shows nothing.
            text = fit_value(v, VALUE_WIDTH) if v is not None or _holds(row, key) else ""
            out.append((text, "", justify, ""))
    return out


def cell_widths(row: RunRow, columns: Sequence[str], selected: bool, now: float) -> tuple[int, ...]:
    """The width of each cell of one row, without building its ``Text``."""
    return tuple(cell_len(t + m) for t, _, _, m in cell_parts(row, columns, selected, now))


def cells(row: RunRow, columns: Sequence[str], selected: bool, now: float) -> list[Text]:
    """The cells of one row, each a literal ``Text``."""
    out: list[Text] = []
    for text, style, justify, mark in cell_parts(row, columns, selected, now):
        t = Text(text, style=style, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        if mark:
            t.append(mark, style="yellow")
        out.append(t)
    return out
