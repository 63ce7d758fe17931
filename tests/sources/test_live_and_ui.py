"""Other trackers' runs live through the real watcher, in the run table, and through the CLI."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pytest

from trackui.cli import main
from trackui.store.index import Index
from trackui.store.watch import RootWatcher

LIVE_BUDGET_S = 1.0


def test_a_live_tensorboard_writer_is_seen_live_through_the_watcher(root: Path, h) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(root / "live"), flush_secs=3600)
    w.add_scalar("loss", 1.0, 0)
    w.flush()
    with Index(root) as ix:
        ix.refresh()
        (row,) = ix.runs("source:tensorboard")
        assert row.state == "running"
        changed = threading.Event()

        def on_change(paths: set[Path]) -> None:
            ix.refresh(paths)
            if 5 in h.read_back(ix, row.id, "loss"):
                changed.set()

        watcher = RootWatcher(root, on_change, foreign=ix.foreign_files, rescan_s=60)
        watcher.start()
        try:
            time.sleep(0.3)
            for s in range(1, 6):
                w.add_scalar("loss", 1.0 / (s + 1), s)
            start = time.monotonic()
            w.flush()
            assert changed.wait(10)
            took = time.monotonic() - start
        finally:
            watcher.stop()
            w.close()
        assert took < LIVE_BUDGET_S, took
        assert sorted(h.read_back(ix, row.id, "loss")) == [0, 1, 2, 3, 4, 5]


def test_a_new_tensorboard_folder_is_found_through_the_watcher(root: Path) -> None:
    from tensorboardX import SummaryWriter

    with Index(root) as ix:
        ix.refresh()
        assert ix.runs() == []
        found = threading.Event()

        def on_change(paths: set[Path]) -> None:
            ix.refresh(paths)
            if ix.runs("source:tensorboard"):
                found.set()

        watcher = RootWatcher(root, on_change, foreign=ix.foreign_files, rescan_s=60)
        watcher.start()
        try:
            time.sleep(0.3)
            w = SummaryWriter(str(root / "new" / "run"))
            w.add_scalar("loss", 1.0, 0)
            w.close()
            assert found.wait(10)
        finally:
            watcher.stop()


def _tb_and_own(root: Path, write_run) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(root / "tb" / "baseline"))
    for s in range(5):
        w.add_scalar("loss", 1.0 / (s + 1), s)
    w.close()
    write_run(root, "own1", name="mine", records=[(s, 1.0 + s, {"loss": 0.5 / (s + 1)}, {}) for s in range(5)],
              config={"lr": 0.1})  # fmt: skip


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out


def test_ls_show_diff_export_on_a_tensorboard_run(
    root: Path, write_run, capsys: pytest.CaptureFixture[str]
) -> None:
    _tb_and_own(root, write_run)
    rc, out = _cli(capsys, "ls", str(root), "--json")
    assert rc == 0
    rows = json.loads(out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["tb/baseline"]["source"] == "tensorboard"
    assert by_name["mine"]["source"] is None
    tb_id = by_name["tb/baseline"]["id"]
    rc, out = _cli(capsys, "show", "--dir", str(root), tb_id)
    assert rc == 0, out
    assert "source" in out and "tensorboard" in out and str(root / "tb" / "baseline") in out
    rc, out = _cli(capsys, "diff", "--dir", str(root), tb_id, "own1")
    assert rc == 1, out  # (they differ)
    assert "tb/baseline" in out and "loss" in out and "0.1 (-0.1)" in out
    rc, out = _cli(capsys, "export", "--dir", str(root), tb_id, "--format", "csv")
    assert rc == 0, out
    got = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["step"]) for r in got if r["metric"] == "loss"] == [0, 1, 2, 3, 4]


async def test_the_run_table_lists_a_mixed_root(root: Path, write_run) -> None:
    from trackui.tui.app import make_app
    from trackui.tui.widgets.run_table import RunTable

    _tb_and_own(root, write_run)
    app = make_app(root, watch=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 30)) as pilot:
        table = None
        for _ in range(200):
            await pilot.pause(0.05)
            tables = list(app.screen.query(RunTable))
            if tables and len(tables[0].rows_shown) == 2:
                table = tables[0]
                break
        assert table is not None
        names = {r.name: r for r in table.rows_shown}
        assert set(names) == {"tb/baseline", "mine"}
        from trackui.tui.widgets.run_cells import cell_parts

        text = cell_parts(names["tb/baseline"], ["name"], False, time.time())[0][0]
        assert text.startswith("TB: ")


async def test_the_compare_header_marks_a_foreign_run_s_source(root: Path, write_run) -> None:
    """Comparing a TensorBoard run with trackui's own: its column and the baseline say ``TB:``."""
    from rich.text import Text
    from textual.widgets import Static

    from trackui.tui.app import make_app
    from trackui.tui.screens.compare import CompareScreen
    from trackui.tui.widgets.config_diff import ConfigDiff
    from trackui.tui.widgets.run_table import RunTable

    _tb_and_own(root, write_run)
    app = make_app(root, watch=False)
    app.animation_level = "none"
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            tables = list(app.screen.query(RunTable))
            if tables and len(tables[0].rows_shown) == 2:
                break
        await pilot.press("a", "c")
        diff = None
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, CompareScreen):
                diff = app.screen.query_one(ConfigDiff)
                if diff.diff is not None:
                    break
        assert diff is not None and diff.diff is not None
        heads = [c.label.plain for c in diff.columns.values()][2:]
        assert sorted(h.replace(" (base)", "")[2:] for h in heads) == ["TB: tb/baseline", "mine"]
        status = app.screen.query_one("#compare-status", Static).render()
        plain = status.plain if isinstance(status, Text) else str(status)
        base = {r.id: r for r in app.screen.runs}[app.screen.baseline]
        want = "TB: tb/baseline" if base.meta.get("source") else "mine"
        assert f"baseline: {want}" in plain
        app.screen.set_baseline(next(r.id for r in app.screen.runs if r.meta.get("source")))
        await pilot.pause(0.2)
        plain = app.screen.query_one("#compare-status", Static).render()
        assert "baseline: TB: tb/baseline" in (
            plain.plain if isinstance(plain, Text) else str(plain)
        )
