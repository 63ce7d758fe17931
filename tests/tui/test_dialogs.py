"""Dialogs keep their keys: the key that accepts one never reaches the screen below."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input
from tui_support import settle

from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.pickers import (
    ChooseManyScreen,
    ChooseOneScreen,
    DialogScreen,
    PromptScreen,
)
from trackui.tui.screens.runs import RunsScreen
from trackui.tui.widgets.run_table import RunTable


async def test_enter_in_every_runs_dialog_stays_on_the_runs_screen(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(RunTable)
        for key, dialog in (
            ("e", ChooseManyScreen),
            ("m", ChooseManyScreen),
            ("o", ChooseOneScreen),
            ("z", PromptScreen),
        ):
            table.focus()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, dialog), key
            await pilot.press("enter")
            await settle(pilot)
            # Accepted, and the table below did not open the run.
            assert app.screen is screen, key
        # Space ticks, Enter accepts: the column ticked is added.
        table.focus()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("space", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert len(table.columns_shown) > 7


async def test_enter_in_the_baseline_dialog_stays_on_compare(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "c")
        await settle(pilot)
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ChooseOneScreen)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is compare


class _AcceptsInAHandler(DialogScreen[bool]):
    """A dialog that accepts from a key handler, as a dialog may."""

    def key_enter(self) -> None:
        self.dismiss(True)


async def test_a_dialog_dismissed_by_a_key_keeps_that_key(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        results: list[bool | None] = []
        app.push_screen(_AcceptsInAHandler(), results.append)
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert results == [True]
        assert app.screen is screen and isinstance(screen, RunsScreen)


async def test_zoom_opens_empty_with_the_range_as_placeholder(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("z")
        await pilot.pause()
        await pilot.press(*"20:60", "enter")
        await settle(pilot)
        assert app.settings.x_range == (20.0, 60.0)
        await pilot.press("z")
        await pilot.pause()
        box = app.screen.query_one(Input)
        assert box.value == "" and box.placeholder == "20:60"
        # Enter on the empty box: everything again.
        await pilot.press("enter")
        await settle(pilot)
        assert app.settings.x_range is None
