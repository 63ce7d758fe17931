"""The first chart before every run is read: wandb runs listed from their logs' headers, the
run shown first read first, the others after it; the CLI still sees every run whole."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest_wandb import run_writer

from trackui.cli import main
from trackui.store.index import Index

pytest.importorskip("wandb")

NAMES = ("first", "second", "third")
STEPS = 40


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three wandb offline runs written by wandb itself (``loss`` = run number + step / 100)."""
    root = tmp_path_factory.mktemp("wandb-three")
    run_writer(
        root,
        f"""
        import wandb
        for i, name in enumerate({NAMES!r}):
            run = wandb.init(project="p", name=name, tags=["t" + str(i)],
                             settings=wandb.Settings(x_disable_stats=True))
            for s in range({STEPS}):
                run.log({{"loss": i + s / 100}}, step=s)
            run.finish()
        """,
    )
    return root


@pytest.fixture
def root(written: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "root"
    shutil.copytree(written, dest)
    return dest


def _loss(ix: Index, run_id: str) -> dict[int, float]:
    step, _t, v = ix.points(run_id, "loss")
    return dict(zip(step.tolist(), v.tolist(), strict=True))


def _expected(name: str) -> dict[int, float]:
    i = NAMES.index(name)
    return {s: i + s / 100 for s in range(STEPS)}


def test_the_first_scan_lists_every_run_before_reading_any(root: Path) -> None:
    with Index(root) as ix:
        ix.scan(defer_foreign=True)
        rows = {r.name: r for r in ix.runs()}
        # Named, tagged and placed in their project from the log's run record alone.
        assert set(rows) == set(NAMES)
        assert all(r.meta["source"] == "wandb" and r.project == "p" for r in rows.values())
        assert rows["second"].tags == ("t1",)
        assert ix.pending_mirrors == 3
        for r in rows.values():
            assert not (r.path / "history.jsonl").exists()
        ix.ingest()
        assert all(_loss(ix, r.id) == {} for r in rows.values())


def test_the_run_shown_first_is_read_first_then_the_others(root: Path) -> None:
    with Index(root) as ix:
        ix.scan(defer_foreign=True)
        rows = {r.name: r for r in ix.runs()}
        shown = rows["second"]
        done, changed = ix.mirror_pending(first=str(shown.path))
        assert done == [str(shown.path)]
        assert shown.id in changed
        ix.ingest(dirs=done)
        assert _loss(ix, shown.id) == _expected("second")
        assert ix.pending_mirrors == 2
        for name in ("first", "third"):
            assert _loss(ix, rows[name].id) == {}
            assert not (rows[name].path / "history.jsonl").exists()
        done, _changed = ix.mirror_pending(budget_s=60.0)
        assert sorted(done) == sorted(str(rows[n].path) for n in ("first", "third"))
        assert ix.pending_mirrors == 0
        ix.ingest(dirs=done)
        for name in NAMES:
            assert _loss(ix, rows[name].id) == _expected(name)
        assert {r.name: r.state for r in ix.runs()} == dict.fromkeys(NAMES, "finished")


def test_a_reported_change_reads_a_listed_run_at_once(root: Path) -> None:
    with Index(root) as ix:
        ix.scan(defer_foreign=True)
        rows = {r.name: r for r in ix.runs()}
        third = rows["third"]
        source_folder = third.meta["source_path"]  # (what a watcher reports)
        assert Path(source_folder).parent == root / "wandb"
        ix.refresh([source_folder])
        assert _loss(ix, third.id) == _expected("third")
        assert ix.pending_mirrors == 2


def test_a_plain_scan_reads_every_run(root: Path) -> None:
    with Index(root) as ix:
        ix.scan(defer_foreign=True)
        ix.scan()
        assert ix.pending_mirrors == 0
        ix.ingest()
        for r in ix.runs():
            assert _loss(ix, r.id) == _expected(r.name)


def test_the_cli_sees_every_run_whole_while_a_viewer_reads_them(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Index(root) as viewer:
        viewer.scan(defer_foreign=True)  # (the viewer holds the mirror, none read yet)
        assert main(["ls", str(root), "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert sorted(r["name"] for r in rows) == sorted(NAMES)
        assert all(r["last_step"] == STEPS - 1 for r in rows), rows
        first = next(r for r in rows if r["name"] == "first")
        assert main(["export", "--dir", str(root), first["id"], "--format", "csv"]) == 0
        got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        losses = {int(r["step"]): float(r["value"]) for r in got if r["metric"] == "loss"}
        assert losses == _expected("first")


async def test_the_app_reads_the_highlighted_run_first_and_then_the_rest(root: Path) -> None:
    from trackui.tui.app import make_app
    from trackui.tui.widgets.run_table import RunTable

    app = make_app(root, watch=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        table = None
        for _ in range(400):
            await pilot.pause(0.05)
            tables = list(app.screen.query(RunTable))
            if (
                tables
                and all(r.last_step == STEPS - 1 for r in tables[0].rows_shown)
                and len(tables[0].rows_shown) == len(NAMES)
            ):
                table = tables[0]
                break
        assert table is not None, "every run's history read after the first paint"
        assert app.store.shown == str(table.highlighted.path)
        index = app.store.index
        assert index.pending_mirrors == 0
        for r in index.runs():
            assert _loss(index, r.id) == _expected(r.name)


def test_wandb_records_read_without_importing_wandb(root: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from trackui.store.sources.wandb_source import WandbSource
        runs = WandbSource().find(Path({str(root)!r}))
        batch, _ = WandbSource().read(runs[0], {{}})
        assert "wandb" not in sys.modules, "wandb imported"
        print(len(batch.rows), batch.meta["name"])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    count, name = out.stdout.split()
    assert int(count) == STEPS and name in NAMES
