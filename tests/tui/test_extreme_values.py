"""Non-finite and extreme numbers never crash or garble a screen: table, charts, detail, compare."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from extreme_support import build_extreme_root
from textual.widgets import DataTable, Tree
from tui_support import settle

from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.pickers import ChooseManyScreen
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.screens.runs import RunsScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable

NON_FINITE = re.compile(r"\b(nan|inf)\b|cannot draw")


def error_notes(app: Any) -> list[str]:
    """The error notifications shown so far (a failed worker, a failed drawing)."""
    return [n.message for n in app._notifications if n.severity == "error"]


def check_charts(app: Any) -> int:
    """Every chart drawn shows a picture with finite ticks; returns how many were checked."""
    checked = 0
    for plot in app.screen.query(MetricPlot):
        if plot._picture is None:
            continue
        text = "\n".join(strip.text for strip in plot._picture)
        assert not NON_FINITE.search(text), text
        checked += 1
    return checked


def tree_labels(tree: Tree) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(str(child.label))
            walk(child)

    walk(tree.root)
    return out


async def test_runs_screen_table_and_charts_over_extreme_values(
    tmp_path: Path, app_factory
) -> None:
    app = app_factory(build_extreme_root(tmp_path / "runs"))
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ChooseManyScreen)
        columns = ["summary:score", "summary:big", "summary:huge", "config:huge", "config:none"]
        app.screen.dismiss(columns)
        await settle(pilot)
        cells = {
            r.name: dict(
                zip(table.columns_shown, [c.plain for c in table.get_row(r.id)], strict=True)
            )
            for r in table.rows_shown
        }
        assert cells["all-inf"]["summary:score"] == "inf"
        assert cells["span-1e308"]["summary:score"] == "-inf"
        assert cells["nan-only"]["summary:score"] == "nan"
        assert cells["one-point"]["summary:score"] == "1e+308"
        assert cells["span-1e308"]["summary:big"] == "-1e+308"
        # 2**70 has 22 digits: fewer significant ones rather than a cut number.
        assert cells["plain"]["config:huge"] == "1.181e+21"
        assert cells["plain"]["summary:huge"] == "1.181e+21"
        assert cells["plain"]["config:none"] == "None"
        # Every run charted together, with each smoothing, and on a log axis.
        await pilot.press("a")
        await settle(pilot)
        assert check_charts(app) >= 2
        loss = next(p for p in app.screen.query(MetricPlot) if p.metric == "loss")
        assert len(loss.spec.series) == 5
        # ±1e308 is drawn in units of 1e308 (its range would overflow).
        assert "loss (×1e+308)" in loss._picture[0].text
        for _ in range(3):
            await pilot.press("s")
            await settle(pilot)
            check_charts(app)
        loss.focus()
        await pilot.press("l")
        await settle(pilot)
        loss = next(p for p in app.screen.query(MetricPlot) if p.metric == "loss")

        assert loss.spec.log and "loss (log)" in loss._picture[0].text
        check_charts(app)
        # Zoomed to a range holding only the one-point run's point.
        await pilot.press("z")
        await pilot.press(*"0:0.5", "enter")
        await settle(pilot)
        check_charts(app)
        assert error_notes(app) == []


async def test_detail_and_compare_over_extreme_values(tmp_path: Path, app_factory) -> None:
    app = app_factory(build_extreme_root(tmp_path / "runs"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        for run in list(table.rows_shown):
            table.cursor_to(run.id)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, RunDetailScreen)
            for tab in "1234567":
                await pilot.press(tab)
                await settle(pilot)
                check_charts(app)
            labels = tree_labels(screen.query_one("#config-tree", Tree))
            # An integer beyond 64 bits reads back exact, all its digits shown.
            assert "none: None" in labels and f"huge: {2**70}" in labels
            assert "neg: -1e+308" in labels
            summary = screen.query_one("#summary-table", DataTable)
            values = {
                summary.get_row_at(i)[0].plain: summary.get_row_at(i)[1].plain
                for i in range(summary.row_count)
            }
            assert values["huge"] == str(2**70) and values["score"] in {
                "inf",
                "-inf",
                "nan",
                "1e+308",
                "0.5",
            }
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, RunsScreen)
        await pilot.press("a", "c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        check_charts(app)
        diff = screen.query_one(ConfigDiff)
        rows = {
            diff.get_row_at(i)[1].plain: [c.plain for c in diff.get_row_at(i)[2:]]
            for i in range(diff.row_count)
        }
        names = {r.id: r.name for r in screen.runs}
        by_run = dict(zip([names[i] for i in diff.diff.run_ids], rows["big"], strict=True))
        # The baseline is "plain" (big -1e308): 1e308 - -1e308 overflows a
        # float, yet the delta reads as it is.
        assert by_run["plain"] == "-1e+308"
        assert by_run["all-inf"] == "1e+308 (+2e+308)"
        assert by_run["span-1e308"] == "-1e+308"
        for cells in rows.values():
            for cell in cells:
                assert "(+inf)" not in cell and "(nan)" not in cell, cells
        await pilot.press("a")
        await settle(pilot)
        # Every key now: a config key holding None reads None, not "missing".
        none_row = next(
            diff.get_row_at(i)
            for i in range(diff.row_count)
            if diff.get_row_at(i)[1].plain == "none"
        )
        assert [c.plain for c in none_row[2:]] == ["None"] * 5
        assert error_notes(app) == []
