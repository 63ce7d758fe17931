"""Other trackers' runs are read newest first: a viewer shows its first runs before reading all."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from trackui.store.index import Index

pytest.importorskip("tensorboardX")


def _write(folder: Path, steps: int, mtime: float) -> None:
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(folder))
    for s in range(steps):
        w.add_scalar("loss", 1.0 / (s + 1), s)
    w.close()
    for f in folder.iterdir():
        os.utime(f, (mtime, mtime))
    os.utime(folder, (mtime, mtime))


@pytest.fixture
def tb_root(root: Path) -> Path:
    now = time.time()
    for i in range(4):  # exp3 the newest
        _write(root / "logs" / f"exp{i}", 50 + i, now - 1000 + i * 100)
    return root


def _names(ix: Index) -> list[str]:
    return sorted(r.name for r in ix.runs())


def test_a_budgeted_scan_reads_the_newest_first_and_the_rest_after(tb_root: Path) -> None:
    with Index(tb_root, cache=False) as ix:
        ix.scan(foreign_budget_s=0.0)  # (one run at least, then the budget is spent)
        ix.ingest()
        assert [r.name for r in ix.runs()] == ["logs/exp3"]
        pending = ix.foreign_pending
        assert len(pending) == 3
        ix.refresh(pending)
        assert ix.foreign_pending == []
        got = {r.name: r.steps for r in ix.runs()}
    with Index(tb_root, cache=False) as whole:
        whole.refresh()
        assert got == {r.name: r.steps for r in whole.runs()}
        assert sorted(got) == [f"logs/exp{i}" for i in range(4)]
        assert whole.foreign_pending == []  # (no budget: every run read)


async def test_the_viewer_lists_every_run_once_the_first_are_shown(
    tb_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackui.tui import refresher
    from trackui.tui.app import make_app
    from trackui.tui.widgets.run_table import RunTable

    monkeypatch.setattr(refresher, "FOREIGN_FIRST_S", 0.0)  # (one run, then the rest)
    app = make_app(tb_root, watch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(RunTable)
        for _ in range(400):
            if len(table.rows_shown) == 4 and app.loaded[0] >= app.loaded[1] > 0:
                break
            await pilot.pause(0.05)
        assert sorted(r.name for r in table.rows_shown) == [f"logs/exp{i}" for i in range(4)]
