"""Every screen survives a tiny terminal, a dumb one, and a burst of resizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tui_support import settle

from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.help import HelpScreen
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.screens.runs import RunsScreen
from trackui.tui.widgets.run_table import RunTable

BURST = ((120, 36), (40, 10), (200, 60), (20, 5), (80, 24), (33, 7), (160, 50), (21, 6), (100, 30))
"""Ten sizes in a row with the start (each applied without waiting for the last)."""


async def open_screen(pilot: Any, which: str) -> type:
    """Go from the runs screen to ``which``; returns the screen class expected."""
    app = pilot.app
    table = app.screen.query_one(RunTable)
    table.focus()
    if which == "detail":
        await pilot.press("enter")
        return RunDetailScreen
    if which == "compare":
        await pilot.press("space", "space", "c")
        return CompareScreen
    if which == "help":
        await pilot.press("question_mark")
        return HelpScreen
    return RunsScreen


def error_notes(app: Any) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@pytest.mark.parametrize("which", ["runs", "detail", "compare", "help"])
async def test_every_screen_at_20x5_and_through_a_burst_of_resizes(
    which: str, fixture_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("TERM", "dumb")
    app = app_factory(fixture_root)
    async with app.run_test(size=(20, 5)) as pilot:
        await settle(pilot)
        expected = await open_screen(pilot, which)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, expected)
        # Drawn at 20x5: every line of the screen renders.
        assert len(app.screen._compositor.render_update(full=True).strips) == 5
        for size in BURST:
            await pilot.resize_terminal(*size)
        await settle(pilot)
        assert app.screen is screen and app.size == (100, 30)
        # Keys still work after it: every tab of the detail, back to the runs.
        if which == "detail":
            for tab in "1234567":
                await pilot.press(tab)
            await settle(pilot)
        await pilot.resize_terminal(20, 5)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert error_notes(app) == []
        assert app.return_code is None  # still running: nothing crashed it
