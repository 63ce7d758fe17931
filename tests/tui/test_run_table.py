"""The run table on its own: many rows, keys, mouse, live updates that redraw little."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.app import App, ComposeResult

from trackui.store.models import RunRow
from trackui.tui.widgets.run_table import BASE_COLUMNS, RunTable

NOW = 1764072000.0
# (The count of logged steps too: the table shows the last step; a caller may ask for both.)
COLUMNS = [k for k, _ in BASE_COLUMNS] + ["steps", "summary:loss"]


def row(i: int, *, steps: int = 10, loss: float = 1.0, name: str | None = None) -> RunRow:
    return RunRow(
        id=f"r{i:05d}",
        name=name or f"run-{i}",
        project="p",
        group=None,
        tags=(),
        state="finished",
        created="2025-11-25T11:00:00+00:00",
        start_time=NOW - 3600 - i,
        end_time=NOW - 10,
        runtime_s=3590.0,
        last_step=steps - 1,
        steps=steps,
        path=Path(f"/runs/r{i}"),
        host="h",
        config={},
        summary={"loss": loss},
        meta={},
    )


class TableApp(App[None]):
    def __init__(self, rows: list[RunRow]) -> None:
        super().__init__()
        self.rows = rows
        self.chosen: list[str] = []
        self.sorts: list[str] = []
        self.highlights: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield RunTable()

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        table.show(self.rows, COLUMNS, NOW)
        table.focus()

    def on_run_table_run_chosen(self, event: RunTable.RunChosen) -> None:
        self.chosen.append(event.run_id)

    def on_run_table_sort_requested(self, event: RunTable.SortRequested) -> None:
        self.sorts.append(event.column)

    def on_run_table_run_highlighted(self, event: RunTable.RunHighlighted) -> None:
        self.highlights.append(event.run_id)


async def test_ten_thousand_rows_render_only_what_is_on_screen() -> None:
    app = TableApp([row(i) for i in range(10_000)])
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        table = app.query_one(RunTable)
        assert table.row_count == 10_000
        # Only the rows that were drawn were built.
        assert 0 < len(table._strips) <= 20
        await pilot.press("end")
        await pilot.pause()
        assert table.highlighted is not None and table.highlighted.id == "r09999"
        assert len(table._strips) <= 40
        # The header stays on the first line, the last row on the last.
        assert "name" in table.render_line(0).text
        assert "run-9999" in table.render_line(table.size.height - 1).text
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0


async def test_keys_move_the_cursor_and_select() -> None:
    app = TableApp([row(i) for i in range(100)])
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(RunTable)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("pagedown")
        assert table.cursor_row > 10
        # The cursor's row is on screen.
        top = int(table.scroll_y)
        assert top <= table.cursor_row < top + table.size.height - 1
        await pilot.press("pageup", "up", "up", "up")
        assert table.cursor_row == 0
        await pilot.press("space", "space")
        assert table.selected == {"r00000", "r00001"}
        assert table.get_cell("r00000", "sel").plain == "✓"
        await pilot.press("enter")
        assert app.chosen == ["r00002"]
        await pilot.pause()
        assert app.highlights[-1] == "r00002"


async def test_mouse_sorts_by_header_and_opens_the_highlighted_row() -> None:
    app = TableApp([row(i) for i in range(5)])
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(RunTable)
        line = table.render_line(0).text
        await pilot.click(RunTable, offset=(line.index("steps") + 1, 0))
        assert app.sorts == ["steps"]
        await pilot.click(RunTable, offset=(line.index("name") + 1, 3))
        assert table.cursor_row == 2 and app.chosen == []
        await pilot.click(RunTable, offset=(line.index("name") + 1, 3))
        assert app.chosen == ["r00002"]


async def test_live_update_redraws_only_changed_rows_and_keeps_the_cursor() -> None:
    rows = [row(i) for i in range(50)]
    app = TableApp(rows)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(RunTable)
        await pilot.press("down", "down", "down")
        await pilot.pause()
        built = dict(table._strips)
        new = list(rows)
        new[1] = row(1, steps=11, loss=0.5)
        table.show(new, COLUMNS, NOW)
        # Row 1 is rebuilt; the others keep their rendered lines.
        assert 1 not in table._strips
        assert all(table._strips[i] is built[i] for i in built if i != 1)
        await pilot.pause()
        assert table.get_cell("r00001", "steps").plain == "11"
        assert table.cursor_row == 3
        # A value wider than its column widens it, and every line is redrawn.
        new[2] = row(2, steps=123456789)
        table.show(new, COLUMNS, NOW)
        assert table.column_width("steps") == len("123456789")
        assert not table._strips
        # A new order keeps the cursor on the same run.
        table.show(list(reversed(new)), COLUMNS, NOW)
        assert table.highlighted is not None and table.highlighted.id == "r00003"


async def test_wide_rows_scroll_sideways_and_long_names_are_cut() -> None:
    rows = [row(0, name="n" * 500), row(1)]
    app = TableApp(rows)
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(RunTable)
        await pilot.pause()
        assert table.virtual_size.width > 40
        assert "…" in table.get_cell("r00000", "name").plain
        first = table.render_line(1).text
        await pilot.press("right", "right", "right")
        await pilot.pause()
        assert table.scroll_x > 0
        assert table.render_line(1).text != first
        assert len(table.render_line(1).text) == table.size.width


def test_measured_widths_match_the_drawn_cells() -> None:
    from dataclasses import replace

    from trackui.tui.widgets.run_table import cell_widths, cells

    hostile = "[bold]x[/] \x1b[31mred\x1b[0m 表格 " + "n" * 60
    rows = [
        row(0),
        replace(row(1, name=hostile), warnings=("damaged line",), group="g/[red]"),
        replace(row(2), summary={"loss": float("nan")}, config={"lr": 1e-3, "tag": "é\t"}),
    ]
    columns = [*COLUMNS, "config:lr", "config:tag", "summary:missing"]
    for r in rows:
        for selected in (False, True):
            assert cell_widths(r, columns, selected, NOW) == tuple(
                c.cell_len for c in cells(r, columns, selected, NOW)
            )


def test_step_column_shows_the_last_step_and_sorts_by_it() -> None:
    from trackui.store.sorting import sort_rows
    from trackui.tui.widgets.run_cells import cells, column_title

    assert column_title("step") == "step" and column_title("steps") == "steps"
    rows = [row(0, steps=85), row(1, steps=3)]
    rows[0] = replace(rows[0], last_step=840)
    assert [c.plain for c in cells(rows[0], ["step", "steps"], False, NOW)] == ["840", "85"]
    assert [r.id for r in sort_rows(rows, "step", True)] == ["r00000", "r00001"]
    assert cells(replace(rows[1], last_step=None), ["step"], False, NOW)[0].plain == ""
