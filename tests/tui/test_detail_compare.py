"""Pilot tests of run detail, compare and help."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Log, TabbedContent, Tree
from tui_support import settle

from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.help import HelpScreen, binding_sections
from trackui.tui.screens.pickers import ChooseOneScreen
from trackui.tui.screens.run_detail import RunDetailScreen, read_output_tail
from trackui.tui.screens.runs import RunsScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable


def tree_labels(tree: Tree) -> list[str]:
    out: list[str] = []

    def walk(node) -> None:
        for child in node.children:
            out.append(str(child.label))
            walk(child)

    walk(tree.root)
    return out


async def test_enter_opens_detail_with_every_section(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        table.cursor_to("base0001")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        overview = str(screen.query_one("#overview-body").render())
        for text in ("baseline", "finished", "fixture-host", "train.py", "0123456789ab", "main"):
            assert text in overview
        assert "text: phase" in overview and "done" in overview
        await pilot.press("2")
        assert screen.query_one(TabbedContent).active == "config"
        labels = tree_labels(screen.query_one("#config-tree", Tree))
        assert "lr: 0.001" in labels and "model" in labels and "hidden: 128" in labels
        summary = screen.query_one("#summary-table", DataTable)
        keys = [summary.get_row_at(i)[0].plain for i in range(summary.row_count)]
        assert "val_accuracy" in keys and "best_val_accuracy" in keys
        await pilot.press("4")
        await settle(pilot)
        charts = {
            p.metric for p in screen.query_one("#detail-curves", CurvesPanel).query(MetricPlot)
        }
        assert charts == {"accuracy", "epoch", "loss", "val_accuracy"}
        await pilot.press("5")
        await settle(pilot)
        system = {
            p.metric for p in screen.query_one("#detail-system", CurvesPanel).query(MetricPlot)
        }
        assert system == {"system/gpu_mem_mb", "system/gpu_util"}
        files = screen.query_one("#files-table", DataTable)
        rows = [
            (files.get_row_at(i)[0].plain, files.get_row_at(i)[1].plain)
            for i in range(files.row_count)
        ]
        assert ("model.pt", "2.0 KB") in rows and ("plots/curve.txt", "6 B") in rows
        await pilot.press("7")
        log = screen.query_one("#output-log", Log)
        assert list(log.lines) == [
            "epoch 1 loss 0.41",
            "epoch 2 loss 0.22",
            "done",
            "progress 100%",
        ]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)


def test_output_tail_strips_controls_and_keeps_last_carriage_return(tmp_path: Path) -> None:
    (tmp_path / "output.log").write_bytes(
        b"a\x1b[31mred\x1b[0m\nbar 10%\rbar 50%\rbar 100%\n\x07x\xff\n"
    )
    assert read_output_tail(tmp_path) == "ared\nbar 100%\nx\ufffd"
    assert read_output_tail(tmp_path / "missing") == ""


async def test_compare_diff_baseline_toggle_and_back(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        # With fewer than two selected, compare explains itself.
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        table.cursor_to("wide0003")
        await pilot.press("space", "space", "space")  # wide, lr-high, baseline
        await settle(pilot)
        assert table.selected == {"wide0003", "lrhi0002", "base0001"}
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        diff = screen.query_one(ConfigDiff)
        keys = {diff.get_row_at(i)[1].plain for i in range(diff.row_count)}
        # Only differing keys: lr and hidden differ, batch_size does not.
        assert {"lr", "model/hidden", "loss"} <= keys
        assert "batch_size" not in keys
        differing = diff.row_count
        # The baseline is the first run in table order; deltas are against it.
        assert screen.baseline == "wide0003"
        lr_row = next(
            diff.get_row_at(i) for i in range(diff.row_count) if diff.get_row_at(i)[1].plain == "lr"
        )
        assert [c.plain for c in lr_row[2:]] == ["0.001", "0.01 (+0.009)", "0.001"]
        await pilot.press("a")
        assert diff.row_count > differing
        keys = {diff.get_row_at(i)[1].plain for i in range(diff.row_count)}
        assert "batch_size" in keys
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ChooseOneScreen)
        app.screen.dismiss("lrhi0002")
        await settle(pilot)
        assert screen.baseline == "lrhi0002"
        lr_row = next(
            diff.get_row_at(i) for i in range(diff.row_count) if diff.get_row_at(i)[1].plain == "lr"
        )
        assert [c.plain for c in lr_row[2:]] == ["0.001 (-0.009)", "0.01", "0.001 (-0.009)"]
        panel = screen.query_one(CurvesPanel)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        assert {s.run_id for s in loss.spec.series} == {"wide0003", "lrhi0002", "base0001"}
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.query_one(RunTable).selected == {"wide0003", "lrhi0002", "base0001"}


async def test_help_lists_every_binding_and_closes(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for section, items in binding_sections():
            assert section in text
            for _keys, what in items:
                assert what in text
        for word in ("Compare", "Filter", "Log scale", "All keys", "Baseline", "Quit"):
            assert word in text
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_store_errors_become_notifications(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one(RunTable).cursor_to("base0001")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        # The run vanishes from disk while it is open.
        shutil.rmtree(next(fixture_root.glob("run-*-base0001")))
        app.schedule_refresh(full=True)
        await settle(pilot)
        assert any("no run with id" in n.message for n in app._notifications)
        assert all(n.markup is False for n in app._notifications if "no run" in n.message)
        await pilot.press("escape")
        await settle(pilot)
        names = [r.name for r in app.screen.query_one(RunTable).rows_shown]
        assert "baseline" not in names


async def test_an_index_that_cannot_open_is_a_notification(tmp_path: Path) -> None:
    from trackui.store.db import IndexOpenError
    from trackui.tui.app import TrackApp

    def fail() -> Any:
        raise IndexOpenError("no place for the index: [bold]disk full[/]")

    app = TrackApp(tmp_path, open_index=fail, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            if app._notifications:
                break
            await pilot.pause(0.05)
        (note,) = list(app._notifications)
        assert "cannot open the index" in note.message and "[bold]disk full[/]" in note.message
        assert note.markup is False
        await pilot.press("q")
    assert app.return_code in (None, 0)


def test_overview_labels_never_run_into_their_values(fixture_root: Path) -> None:
    from trackui.store.index import Index
    from trackui.tui.screens.run_detail import overview_text

    with Index(fixture_root) as ix:
        ix.refresh()
        row = ix.runs()[0]
    text = overview_text(row, [("a-rather-long-text-key", "v")]).plain
    assert f"steps logged {row.steps}" in text  # as long as the label column
    assert "text: a-rather-long-text-key v" in text  # a label past the column: one space
