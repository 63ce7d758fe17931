"""The table of runs: one row per run, with selection marks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trackui.store.models import RunRow
from trackui.tui.widgets.group_rows import members_of
from trackui.tui.widgets.run_cells import BASE_COLUMNS as BASE_COLUMNS  # (re-exported)
from trackui.tui.widgets.run_cells import cell_widths, cells, column_title, fit_widths
from trackui.tui.widgets.run_cells import column_value as column_value  # (re-exported)
from trackui.tui.widgets.table_lines import Line, crop_line
from trackui.tui.widgets.watch_badges import badge_width, group_badge, with_badge

PAD = 1
"""Blank cells on each side of a cell."""
_BLANK = Style(bold=False)

NAV_BINDINGS = [
    Binding("enter", "choose", "Open", show=False),
    Binding("up", "cursor(-1)", "Up", show=False),
    Binding("down", "cursor(1)", "Down", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("home", "cursor_to_end(0)", "First", show=False),
    Binding("end", "cursor_to_end(1)", "Last", show=False),
    Binding("left", "scroll_left", "Scroll left", show=False),
    Binding("right", "scroll_right", "Scroll right", show=False),
]
"""The table's moves (the help screen sums them up in one line)."""


class RunTable(ScrollView, can_focus=True):
    """Runs, one per row, keyed by run id; only the rows on screen are rendered.

    A line-API widget rather than a ``DataTable``: adding a thousand rows to a
    ``DataTable`` measures every cell on the event loop, which alone took
    longer than the first-paint budget. Here a row's cells are built when the
    row scrolls into view; column widths come from the text lengths, kept
    per row so a live update re-measures only the rows that changed.

    Space marks a row as selected; the highlighted row follows the cursor;
    Enter (or a click on the highlighted row) posts ``RunChosen``. Updates
    keep the cursor on the same run, and when only values changed (a live
    run logging) only those rows are redrawn.
    """

    ALLOW_MAXIMIZE = True
    COMPONENT_CLASSES = {
        "run-table--header",
        "run-table--cursor",
        "run-table--even-row",
    }
    DEFAULT_CSS = """
    RunTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .run-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .run-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .run-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .run-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .run-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .run-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .run-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS = [Binding("space", "toggle_select", "Select", show=True), *NAV_BINDINGS]

    class _Message(Message):
        """A message from the table (``control`` is the table, for ``@on`` selectors)."""

        def __init__(self, table: RunTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> RunTable:
            return self.table

    class RunHighlighted(_Message):
        """The cursor moved to another run (or off every run: ``run_id`` is None)."""

        def __init__(self, table: RunTable, run_id: str | None) -> None:
            super().__init__(table)
            self.run_id = run_id

    class SelectionChanged(_Message):
        """The set of selected runs changed."""

        def __init__(self, table: RunTable, selected: frozenset[str]) -> None:
            super().__init__(table)
            self.selected = selected

    class SortRequested(_Message):
        """The user clicked a column header."""

        def __init__(self, table: RunTable, column: str) -> None:
            super().__init__(table)
            self.column = column

    class RunChosen(_Message):
        """Enter on a run, or a click on the highlighted one: open it."""

        def __init__(self, table: RunTable, run_id: str) -> None:
            super().__init__(table)
            self.run_id = run_id

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.rows_shown: tuple[RunRow, ...] = ()
        """The runs in the table, in order."""
        self.columns_shown: tuple[str, ...] = ()
        """Column keys, in order."""
        self.selected: set[str] = set()
        """Ids of selected runs (kept when a filter hides them)."""
        self.values: dict[str, Mapping[str, float]] = {}
        """Each run's aggregate columns (``Index.aggregates``), by run id."""
        self.sort_column = "created"
        self.sort_descending = True
        self.cursor_row = 0
        """Index of the highlighted row in ``rows_shown``."""
        self._now = 0.0
        self._row_of: dict[str, int] = {}
        self._row_widths: list[tuple[int, ...]] = []
        """Per row, the width of each cell's text (the columns' widths are the maxima)."""
        self._widths: tuple[int, ...] = ()
        self._strips: dict[int, Line] = {}
        """Rendered rows (uncropped, unstyled), by row index; dropped when a row changes."""
        self._header_cache: tuple[tuple[object, ...], Line] | None = None
        self._last_highlight: str | None = None
        self.badges: dict[str, str] = {}
        """Run id -> the mark of the watches firing on it (``set_badges``)."""

    # -- data -------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.rows_shown)

    @property
    def highlighted(self) -> RunRow | None:
        """The run under the cursor."""
        if not (0 <= self.cursor_row < len(self.rows_shown)):
            return None
        return self.rows_shown[self.cursor_row]

    def show(
        self,
        rows: Iterable[RunRow],
        columns: Sequence[str],
        now: float,
        values: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """Show ``rows`` with ``columns`` (keys), keeping the cursor on the same run;
        ``values``: each run's aggregate columns (``Index.aggregates``)."""
        rows = tuple(rows)
        columns = tuple(columns)
        keep = self.highlighted.id if self.highlighted is not None else None
        self._now = now
        old_values, self.values = self.values, dict(values or {})
        same_shape = columns == self.columns_shown and len(rows) == len(self.rows_shown)
        if same_shape:
            same_shape = all(a.id == b.id for a, b in zip(rows, self.rows_shown, strict=True))
        if same_shape:
            # The index hands back the same row object for a run that did not
            # change: identity first, fields only for the others.
            changed = [
                i
                for i, (a, b) in enumerate(zip(rows, self.rows_shown, strict=True))
                if (a is not b and a != b) or old_values.get(a.id) != self.values.get(a.id)
            ]
            self.rows_shown = rows
            if not changed:
                return
            for i in changed:
                self._row_widths[i] = self._measure(rows[i])
                self._strips.pop(i, None)
            if not self._set_widths():
                for i in changed:
                    self._refresh_row(i)
            return
        self.rows_shown = rows
        self.columns_shown = columns
        self._row_of = {r.id: i for i, r in enumerate(rows)}
        self._row_widths = [self._measure(r) for r in rows]
        self._strips.clear()
        self._set_widths(force=True)
        row = self._row_of.get(keep, 0) if keep is not None else 0
        self.cursor_row = min(row, max(0, len(rows) - 1))
        self._scroll_to_cursor()
        self._announce_highlight()

    def refresh_ages(self, now: float) -> None:
        """Redraw the age and runtime cells (the clock moved)."""
        self._now = now
        idx = [i for i, k in enumerate(self.columns_shown) if k in ("created", "runtime")]
        if not idx:
            return
        # Only those two columns are measured again (every ten seconds, for
        # every run: the rest of each row is as it was).
        keys = tuple(self.columns_shown[i] for i in idx)
        new = []
        for r, old in zip(self.rows_shown, self._row_widths, strict=True):
            w = list(old)
            for i, c in zip(idx, cell_widths(r, keys, False, now, None), strict=True):
                w[i] = c
            new.append(tuple(w))
        self._row_widths = new
        self._strips.clear()
        if not self._set_widths():
            self.refresh()

    def set_selected(self, ids: Iterable[str]) -> None:
        """Replace the selection."""
        self.selected = set(ids)
        self._strips.clear()
        self.refresh()
        self.post_message(self.SelectionChanged(self, frozenset(self.selected)))

    def set_badges(self, badges: dict[str, str]) -> None:
        """Show the watches' marks (run id -> mark); only the rows whose mark changed are redrawn."""
        old, self.badges = self.badges, dict(badges)
        changed = [self._row_of[k] for k in set(old) | set(badges)
                   if old.get(k) != badges.get(k) and k in self._row_of]  # fmt: skip
        for i, r in enumerate(self.rows_shown):  # a group's row shows its members' marks
            members = members_of(r)
            if members and group_badge(old, members) != group_badge(self.badges, members):
                changed.append(i)
        for i in changed:
            self._row_widths[i] = self._measure(self.rows_shown[i])
            self._strips.pop(i, None)
        if changed and not self._set_widths():
            for i in changed:
                self._refresh_row(i)

    def cursor_to(self, run_id: str) -> None:
        """Put the cursor on ``run_id`` if it is shown."""
        row = self._row_of.get(run_id)
        if row is not None:
            self._move_cursor(row)

    def get_row(self, run_id: str) -> list[Text]:
        """The cells of ``run_id``'s row as they are drawn (KeyError if it is not shown)."""
        r = self.rows_shown[self._row_of[run_id]]
        texts = cells(
            r, self.columns_shown, r.id in self.selected, self._now, self.values.get(r.id)
        )
        return with_badge(texts, self.columns_shown, self._badge(r))

    def get_cell(self, run_id: str, column: str) -> Text:
        """One cell of ``run_id``'s row (KeyError if either is not shown)."""
        return self.get_row(run_id)[self.columns_shown.index(column)]

    def column_width(self, column: str) -> int:
        """The width of a column's text (without the padding around it)."""
        return self._widths[self.columns_shown.index(column)]

    def get_row_index(self, run_id: str) -> int:
        """The row of ``run_id`` (KeyError if it is not shown)."""
        return self._row_of[run_id]

    def _measure(self, row: RunRow) -> tuple[int, ...]:
        widths = cell_widths(
            row, self.columns_shown, row.id in self.selected, self._now, self.values.get(row.id)
        )
        return badge_width(widths, self.columns_shown, self._badge(row))

    def _badge(self, row: RunRow) -> str:
        """The watches' mark of a row: a run's own, or every mark of a group's members."""
        members = members_of(row)
        return group_badge(self.badges, members) if members else self.badges.get(row.id, "")

    def _titles(self) -> list[str]:
        arrow = " ▼" if self.sort_descending else " ▲"
        return [
            column_title(k) + (arrow if k == self.sort_column else "") for k in self.columns_shown
        ]

    def _set_widths(self, force: bool = False) -> bool:
        """Recompute the column widths; True if the whole table was redrawn."""
        # Titles get room for the sort arrow wherever it moves.
        titles = [cell_len(column_title(k)) + (0 if k == "sel" else 2) for k in self.columns_shown]
        # Column by column, each maximum in one call: a live update of a
        # few rows of thousands costs little.
        cols = zip(*self._row_widths, strict=True) if self._row_widths else [()] * len(titles)
        widths = tuple(max((t, *col)) for t, col in zip(titles, cols, strict=True))
        if self.size.width:
            widths = fit_widths(widths, self.columns_shown, self.size.width, PAD)
        if not force and widths == self._widths:
            return False
        self._widths = widths
        self._strips.clear()
        total = sum(w + 2 * PAD for w in widths)
        self.virtual_size = Size(total, len(self.rows_shown) + 1)
        self.refresh()
        return True

    # -- rendering ----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("run-table--header")
            strip, spans = self._header_strip()
            return crop_line(strip.apply_style(style), spans, scroll_x, width, style)
        row = scroll_y + y - 1
        if row >= len(self.rows_shown):
            return Strip.blank(width, base)
        if row == self.cursor_row:
            style = base + self.get_component_rich_style("run-table--cursor")
        elif row % 2 == 1:
            style = base + self.get_component_rich_style("run-table--even-row")
        else:
            style = base
        strip, spans = self._row_strip(row)
        return crop_line(strip.apply_style(style), spans, scroll_x, width, style)

    def _header_strip(self) -> Line:
        # Built again only when the titles (sort arrow) or the widths change:
        # a live table repaints its header with every update.
        key = (tuple(self._titles()), self._widths)
        cached = self._header_cache
        if cached is None or cached[0] != key:
            cached = (key, self._line([Text(t, no_wrap=True) for t in key[0]]))
            self._header_cache = cached
        return cached[1]

    def _row_strip(self, row: int) -> Line:
        strip = self._strips.get(row)
        if strip is None:
            r = self.rows_shown[row]
            selected = r.id in self.selected
            texts = cells(r, self.columns_shown, selected, self._now, self.values.get(r.id))
            strip = self._line(with_badge(texts, self.columns_shown, self._badge(r)))
            self._strips[row] = strip
        return strip

    def _line(self, texts: Sequence[Text]) -> Line:
        console = self.app.console
        # Blanks carry a style of their own so that they stay apart from the
        # text when the screen merges alike segments: SVG renderers drop the
        # leading spaces of a text run, which shifted whole rows in screenshots.
        pad = Segment(" " * PAD, _BLANK)
        segments: list[Segment] = []
        spans: list[tuple[int, int]] = []
        x = 0
        for text, w in zip(texts, self._widths, strict=False):
            t = text
            if t.cell_len > w:
                t = t.copy()
                t.truncate(w, overflow="ellipsis")
            start = x + PAD + (w - t.cell_len if t.justify == "right" else 0)
            spans.append((start, start + t.cell_len))
            x += w + 2 * PAD
            gap = Segment(" " * (w - t.cell_len), _BLANK)
            segments.append(pad)
            if t.justify == "right":
                segments.append(gap)
            # Text.render leaves out the text's own style when it has no spans.
            style = console.get_style(t.style, default=None) if t.style else None
            segments.extend(Segment.apply_style(t.render(console), style))
            if t.justify != "right":
                segments.append(gap)
            segments.append(pad)
        return Strip(segments, sum(w + 2 * PAD for w in self._widths)), tuple(spans)

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + 1)

    # -- cursor -------------------------------------------------------------------

    def _move_cursor(self, row: int) -> None:
        if not self.rows_shown:
            return
        row = max(0, min(row, len(self.rows_shown) - 1))
        if row != self.cursor_row:
            old, self.cursor_row = self.cursor_row, row
            self._refresh_row(old)
            self._refresh_row(row)
        self._scroll_to_cursor()
        self._announce_highlight()

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows_visible:
            self.scroll_to(y=self.cursor_row - rows_visible + 1, animate=False, immediate=True)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self._set_widths()
        self._scroll_to_cursor()

    def action_cursor(self, delta: int) -> None:
        self._move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self._move_cursor(
            self.cursor_row + direction * max(1, self.scrollable_content_region.height - 2)
        )

    def action_cursor_to_end(self, last: int) -> None:
        self._move_cursor(len(self.rows_shown) - 1 if last else 0)

    def action_choose(self) -> None:
        r = self.highlighted
        if r is not None:
            self.post_message(self.RunChosen(self, r.id))

    def action_toggle_select(self) -> None:
        """Mark or unmark the highlighted run and move down."""
        r = self.highlighted
        if r is None:
            return
        if r.id in self.selected:
            self.selected.discard(r.id)
        else:
            self.selected.add(r.id)
        self._strips.pop(self.cursor_row, None)
        self._refresh_row(self.cursor_row)
        if self.cursor_row < len(self.rows_shown) - 1:
            self._move_cursor(self.cursor_row + 1)
        self.post_message(self.SelectionChanged(self, frozenset(self.selected)))

    def _announce_highlight(self) -> None:
        r = self.highlighted
        rid = r.id if r is not None else None
        if rid != self._last_highlight:
            self._last_highlight = rid
            self.post_message(self.RunHighlighted(self, rid))

    # -- mouse ----------------------------------------------------------------------

    def _column_at(self, x: int) -> str | None:
        x += int(self.scroll_x)
        for key, w in zip(self.columns_shown, self._widths, strict=False):
            x -= w + 2 * PAD
            if x < 0:
                return key
        return None

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        if event.y == 0:
            key = self._column_at(event.x)
            if key and key != "sel":
                self.post_message(self.SortRequested(self, key))
            return
        row = int(self.scroll_y) + event.y - 1
        if not (0 <= row < len(self.rows_shown)):
            return
        if row == self.cursor_row:
            self.action_choose()
        else:
            self._move_cursor(row)
