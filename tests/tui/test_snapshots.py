"""SVG snapshots of each screen over the fixture runs (frozen clock, fixed size).

Update after reading the report: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from tui_support import freeze_for_snapshot, settle

from trackui.tui.widgets.run_table import RunTable

SIZE = (120, 36)


def steps(*keys: str, cursor: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A ``run_before`` that settles, presses ``keys`` (settling after each) and freezes."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if cursor is not None:
            pilot.app.screen.query_one(RunTable).cursor_to(cursor)
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        freeze_for_snapshot(pilot.app)
        await settle(pilot)

    return run_before


def snap(
    snap_compare, app, keys: Sequence[str] = (), *, size=SIZE, cursor: str | None = None
) -> bool:
    return snap_compare(app, terminal_size=size, run_before=steps(*keys, cursor=cursor))


def test_runs_screen(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root))


def test_runs_screen_selection_overlay(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(
        snap_compare, app_factory(fixture_root), ["space", "space", "space"], cursor="wide0003"
    )


def test_runs_screen_filter_error(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), ["slash", "l", "r", ">", ">"])


def test_runs_screen_80x24(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), size=(80, 24))


def test_run_detail_config(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), ["enter", "2"], cursor="base0001")


def test_run_detail_charts(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), ["enter", "4"], cursor="fail0004")


def test_run_detail_output(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), ["enter", "7"], cursor="base0001")


def test_compare_screen(snap_compare, fixture_root: Path, app_factory) -> None:
    keys = ["space", "space", "space", "c"]
    assert snap(snap_compare, app_factory(fixture_root), keys, cursor="wide0003")


def test_help_screen(snap_compare, fixture_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(fixture_root), ["question_mark"])


def test_hostile_names(snap_compare, hostile_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(hostile_root))
