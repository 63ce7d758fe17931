"""Beside the curves, the runs table is as wide as its columns need (its step column whole)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import settle

from trackui.tui.screens.runs import CHARTS_MIN_WIDTH
from trackui.tui.widgets.run_table import RunTable


@pytest.mark.parametrize("width", [142, 160, 200])
async def test_a_wide_table_shows_every_column_whole(
    fixture_root: Path, app_factory, width: int
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(width, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        curves = app.screen.query_one("#runs-curves")
        need = table.virtual_size.width
        assert table.region.width >= min(need, width - CHARTS_MIN_WIDTH - 2)
        assert curves.region.width >= CHARTS_MIN_WIDTH
        if table.region.width >= need:
            assert "…" not in app.screen.query_one(RunTable).render_line(1).text
        # The curves keep half the screen where the table needs less.
        assert curves.region.width >= min(width // 2, width - need - 2)
