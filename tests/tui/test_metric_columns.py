"""The table shows and sorts by a metric's best, last, min, max or mean over its logged values."""

from __future__ import annotations

from pathlib import Path

import pytest
from sections_support import build_sections_root
from tui_support import settle

from trackui.store.index import Index
from trackui.tui.prefs import load_prefs
from trackui.tui.screens.pickers import ChooseManyScreen
from trackui.tui.widgets.run_table import RunTable


@pytest.fixture
def sections_root(tmp_path: Path) -> Path:
    return build_sections_root(tmp_path / "runs")


def names(table: RunTable) -> list[str]:
    return [r.name for r in table.rows_shown]


async def test_sort_by_best(sections_root: Path, app_factory) -> None:
    with Index(sections_root, cache=False) as ix:
        ix.refresh()
        lows = {r.name: float(ix.points(r.id, "val/loss")[2].min()) for r in ix.runs()}
    app = app_factory(sections_root)
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await app.screen.run_action("columns")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChooseManyScreen)
        offered = [v for v, _ in dialog._items]
        # "best" only where the goal is known: declared (val/accuracy) or named (val/loss).
        assert "best:val/accuracy" in offered and "best:val/loss" in offered
        assert "best:lr" not in offered and "mean:lr" in offered
        assert offered.index("best:val/loss") < offered.index("config:lr")
        dialog.dismiss(["best:val/loss", "best:val/accuracy"])
        await settle(pilot)
        assert table.columns_shown[-2:] == ("best:val/accuracy", "best:val/loss")
        cell = table.get_cell("sec00001", "best:val/loss").plain
        assert float(cell) == pytest.approx(lows["first"], rel=1e-3)
        # A loss's best is its lowest: sorted lowest first.
        app.screen._sort_by("best:val/loss")
        await settle(pilot)
        assert table.sort_descending is False and names(table) == ["first", "second"]
        # An accuracy's best is its highest: highest first.
        app.screen._sort_by("best:val/accuracy")
        await settle(pilot)
        assert table.sort_descending is True and names(table) == ["second", "first"]
        app.screen._sort_by("best:val/accuracy")
        await settle(pilot)
        assert names(table) == ["first", "second"]
    prefs = load_prefs(sections_root)
    assert prefs.sort == "best:val/accuracy" and "best:val/loss" in prefs.columns
