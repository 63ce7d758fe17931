"""The table of runs: one row per run, with selection marks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from trackui.store.models import RunRow
from trackui.store.queries import flatten
from trackui.tui.fmt import (
    clean,
    fmt_age,
    fmt_duration,
    fmt_value,
    shorten,
    state_text,
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


def cells(row: RunRow, columns: Sequence[str], selected: bool, now: float) -> list[Text]:
    """The cells of one row, each a literal ``Text``."""
    out: list[Text] = []
    for key in columns:
        if key == "sel":
            out.append(Text(SELECT_MARK if selected else " ", style="bold"))
        elif key == "state":
            out.append(state_text(row.state, with_word=False))
        elif key == "name":
            t = Text(shorten(clean(row.name), NAME_WIDTH), no_wrap=True)
            if row.warnings:
                t.append(" ⚠", style="yellow")
            out.append(t)
        elif key == "project":
            pg = clean(row.project or "")
            if row.group:
                pg = f"{pg}/{clean(row.group)}" if pg else clean(row.group)
            out.append(Text(shorten(pg, 24), style="dim", no_wrap=True))
        elif key == "created":
            out.append(Text(fmt_age(row.start_time, now), justify="right"))
        elif key == "runtime":
            out.append(Text(fmt_duration(row.runtime_s), justify="right"))
        elif key == "steps":
            out.append(Text(str(row.steps), justify="right"))
        else:
            v = column_value(row, key, now)
            justify = "right" if isinstance(v, (int, float)) else "left"
            out.append(Text(shorten(fmt_value(v), VALUE_WIDTH), justify=justify, no_wrap=True))
    return out


class RunTable(DataTable[Text]):
    """Runs, one per row, keyed by run id.

    Space marks a row as selected; the highlighted row follows the cursor.
    Updates keep the cursor on the same run, and when only values changed
    (a live run logging) only those cells are redrawn.
    """

    BINDINGS = [Binding("space", "toggle_select", "Select", show=True)]

    class RunHighlighted(Message):
        """The cursor moved to another run (or off every run: ``run_id`` is None)."""

        def __init__(self, table: RunTable, run_id: str | None) -> None:
            super().__init__()
            self.table = table
            self.run_id = run_id

        @property
        def control(self) -> RunTable:
            return self.table

    class SelectionChanged(Message):
        """The set of selected runs changed."""

        def __init__(self, table: RunTable, selected: frozenset[str]) -> None:
            super().__init__()
            self.table = table
            self.selected = selected

        @property
        def control(self) -> RunTable:
            return self.table

    class SortRequested(Message):
        """The user clicked a column header."""

        def __init__(self, table: RunTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> RunTable:
            return self.table

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
            cursor_type="row",
            zebra_stripes=True,
        )
        self.rows_shown: tuple[RunRow, ...] = ()
        """The runs in the table, in order."""
        self.columns_shown: tuple[str, ...] = ()
        """Column keys, in order."""
        self.selected: set[str] = set()
        """Ids of selected runs (kept when a filter hides them)."""
        self.sort_column = "created"
        self.sort_descending = True
        self._last_highlight: str | None = None

    @property
    def highlighted(self) -> RunRow | None:
        """The run under the cursor."""
        if not self.rows_shown or not (0 <= self.cursor_row < len(self.rows_shown)):
            return None
        return self.rows_shown[self.cursor_row]

    def show(self, rows: Iterable[RunRow], columns: Sequence[str], now: float) -> None:
        """Show ``rows`` with ``columns`` (keys), keeping the cursor on the same run."""
        rows = tuple(rows)
        columns = tuple(columns)
        keep = self.highlighted.id if self.highlighted is not None else None
        same_shape = columns == self.columns_shown and tuple(r.id for r in rows) == tuple(
            r.id for r in self.rows_shown
        )
        if same_shape:
            old = {r.id: r for r in self.rows_shown}
            self.rows_shown = rows
            for r in rows:
                if old.get(r.id) == r:
                    continue
                new_cells = cells(r, columns, r.id in self.selected, now)
                for key, cell in zip(columns, new_cells, strict=False):
                    if self.get_cell(r.id, key) != cell:
                        self.update_cell(r.id, key, cell, update_width=True)
            self._update_headers()
            return
        with self.app.batch_update():
            if columns != self.columns_shown:
                self.clear(columns=True)
                for key in columns:
                    self.add_column(column_title(key), key=key)
                self.columns_shown = columns
            else:
                self.clear()
            self.rows_shown = rows
            self.add_rows_keyed(rows, now)
            self._update_headers()
            if keep is not None:
                try:
                    index = self.get_row_index(keep)
                except RowDoesNotExist:
                    index = 0
                self.move_cursor(row=index, animate=False, scroll=True)
        self._announce_highlight()

    def add_rows_keyed(self, rows: Sequence[RunRow], now: float) -> None:
        for r in rows:
            self.add_row(*cells(r, self.columns_shown, r.id in self.selected, now), key=r.id)

    def refresh_ages(self, now: float) -> None:
        """Redraw the age and runtime cells (the clock moved)."""
        for r in self.rows_shown:
            new_cells = cells(r, ("created", "runtime"), False, now)
            for key, cell in zip(("created", "runtime"), new_cells, strict=False):
                if key in self.columns_shown and self.get_cell(r.id, key) != cell:
                    self.update_cell(r.id, key, cell, update_width=True)

    def _update_headers(self) -> None:
        """Mark the sort column's header with an arrow."""
        arrow = " ▼" if self.sort_descending else " ▲"
        changed = False
        for key in self.columns_shown:
            col = self.columns.get(key)  # type: ignore[call-overload]
            if col is None:
                continue
            title = column_title(key) + (arrow if key == self.sort_column else "")
            if col.label.plain != title:
                col.label = Text(title)
                changed = True
        if changed:
            # Only then: a live table would otherwise repaint whole twice a second.
            self._require_update_dimensions = True
            self.refresh()

    def action_toggle_select(self) -> None:
        """Mark or unmark the highlighted run and move down."""
        r = self.highlighted
        if r is None:
            return
        if r.id in self.selected:
            self.selected.discard(r.id)
        else:
            self.selected.add(r.id)
        self.update_cell(
            r.id, "sel", Text(SELECT_MARK if r.id in self.selected else " ", style="bold")
        )
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1, animate=False)
        self.post_message(self.SelectionChanged(self, frozenset(self.selected)))

    def set_selected(self, ids: Iterable[str]) -> None:
        """Replace the selection."""
        self.selected = set(ids)
        for r in self.rows_shown:
            self.update_cell(
                r.id, "sel", Text(SELECT_MARK if r.id in self.selected else " ", style="bold")
            )
        self.post_message(self.SelectionChanged(self, frozenset(self.selected)))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce_highlight()

    def _announce_highlight(self) -> None:
        r = self.highlighted
        rid = r.id if r is not None else None
        if rid != self._last_highlight:
            self._last_highlight = rid
            self.post_message(self.RunHighlighted(self, rid))

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value
        if key and key != "sel":
            self.post_message(self.SortRequested(self, key))

    def cursor_to(self, run_id: str) -> None:
        """Put the cursor on ``run_id`` if it is shown."""
        try:
            self.move_cursor(row=self.get_row_index(run_id), animate=False)
        except RowDoesNotExist:
            pass

    def coordinate_of(self, run_id: str) -> Coordinate | None:
        try:
            return Coordinate(self.get_row_index(run_id), 0)
        except RowDoesNotExist:
            return None
