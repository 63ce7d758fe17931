"""A tiny terminal and a burst of resizes never crash the UI."""

from __future__ import annotations

from pathlib import Path

from tui_support import settle

from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.widgets.run_table import RunTable

SIZES = [(20, 5), (200, 60), (1, 1), (80, 3), (12, 40), (120, 36), (20, 5)]


async def test_twenty_by_five_and_a_burst_of_resizes(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(20, 5)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(RunTable)
        for size in SIZES:
            await pilot.resize_terminal(*size)
        await pilot.pause()
        # Every screen, drawn at the smallest size, and resized while it is open.
        app.screen.query_one(RunTable).cursor_to("base0001")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        for key in ("2", "3", "4", "1"):
            await pilot.press(key)
            for size in SIZES[:3]:
                await pilot.resize_terminal(*size)
        await settle(pilot)
        await pilot.press("escape")
        await pilot.press("?")
        for size in SIZES:
            await pilot.resize_terminal(*size)
        await settle(pilot)
        await pilot.press("escape")
        await pilot.press("q")
    assert app.return_code in (None, 0)
