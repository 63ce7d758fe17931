"""SVG snapshots of the charts: braille and its fallbacks, time axes, log scale, the cursor.

Each at 120x36 or 80x24, in colour and with ``NO_COLOR``, over the fixture
runs with three of them selected. Wall-clock ticks are read in UTC.
Update after reading the report: ``pytest tests/tui/test_chart_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_support import freeze_for_snapshot, settle

from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable

BIG, SMALL = (120, 36), (80, 24)


@pytest.fixture(autouse=True)
def utc_braille(monkeypatch) -> Iterator[None]:
    """Clock times in UTC and a terminal with braille, whatever the machine's."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("TERM", "xterm-256color")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def charts(
    *keys: str, dots: str | None = None, chart_keys: tuple[str, ...] = ()
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Select three runs, then press ``keys``; ``chart_keys`` go to the loss chart."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await settle(pilot)
        if dots is not None:
            app.settings.set_dots(dots)
        app.screen.query_one(RunTable).cursor_to("wide0003")
        await pilot.press("space", "space", "space")
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if chart_keys:
            next(p for p in app.screen.query(MetricPlot) if p.metric == "loss").focus()
            for key in chart_keys:
                await pilot.press(key)
            await settle(pilot)
        app.clear_notifications()  # (they would cover the charts)
        freeze_for_snapshot(app)
        await settle(pilot)

    return run_before


def shot(snap_compare, app, size, **kw: Any) -> bool:
    keys = kw.pop("keys", ())
    return snap_compare(app, terminal_size=size, run_before=charts(*keys, **kw))


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x36", "80x24"])
def test_braille_charts(snap_compare, fixture_root: Path, app_factory, size) -> None:
    assert shot(snap_compare, app_factory(fixture_root), size)


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x36", "80x24"])
def test_braille_charts_no_color(
    snap_compare, fixture_root: Path, app_factory, monkeypatch, size
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert shot(snap_compare, app_factory(fixture_root), size)


def test_quadrant_charts(snap_compare, fixture_root: Path, app_factory) -> None:
    assert shot(snap_compare, app_factory(fixture_root), BIG, dots="quadrant")


def test_ascii_charts(snap_compare, fixture_root: Path, app_factory) -> None:
    assert shot(snap_compare, app_factory(fixture_root), SMALL, dots="ascii")


def test_relative_time_axis(snap_compare, fixture_root: Path, app_factory) -> None:
    assert shot(snap_compare, app_factory(fixture_root), BIG, keys=("x",))


def test_wall_time_axis(snap_compare, fixture_root: Path, app_factory) -> None:
    assert shot(snap_compare, app_factory(fixture_root), SMALL, keys=("x", "x"))


def test_log_scale(snap_compare, fixture_root: Path, app_factory) -> None:
    assert shot(snap_compare, app_factory(fixture_root), BIG, chart_keys=("l",))


@pytest.mark.parametrize("size", [BIG, SMALL], ids=["120x36", "80x24"])
def test_cursor_readout(snap_compare, fixture_root: Path, app_factory, size) -> None:
    keys = ("right", *["left"] * 12)
    assert shot(snap_compare, app_factory(fixture_root), size, chart_keys=keys)


def test_cursor_readout_no_color(
    snap_compare, fixture_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    keys = ("right", *["left"] * 12)
    assert shot(snap_compare, app_factory(fixture_root), BIG, chart_keys=keys)


def test_cursor_readout_no_color_80x24(
    snap_compare, fixture_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    keys = ("right", *["left"] * 12)
    assert shot(snap_compare, app_factory(fixture_root), SMALL, chart_keys=keys)


def test_cursor_readout_relative_time(snap_compare, fixture_root: Path, app_factory) -> None:
    keys = ("right", *["left"] * 12)
    assert shot(snap_compare, app_factory(fixture_root), BIG, keys=("x",), chart_keys=keys)


def test_cursor_readout_wall_time(snap_compare, fixture_root: Path, app_factory) -> None:
    keys = ("right", *["left"] * 12)
    assert shot(snap_compare, app_factory(fixture_root), SMALL, keys=("x", "x"), chart_keys=keys)
