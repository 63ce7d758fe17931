"""The run list left beside the cache for the next start's first paint."""

from __future__ import annotations

import math
from pathlib import Path

from trackui.store.index import Index
from trackui.store.saved_rows import candidate_paths, read_snapshot, snapshot_path, write_snapshot


def test_the_index_leaves_its_run_list_and_it_comes_back_equal(root: Path, write_run) -> None:
    write_run(root, "a", name="[bold]a", records=[(0, 1.0, {"loss": 0.5, "bad": math.inf})],
              summary={"note": "text", "best": "-inf"}, tags=["x", "y"])  # fmt: skip
    write_run(root, "b", state="running", records=[(0, 1.0, {"loss": "nan"})])
    with Index(root) as ix:
        ix.refresh()
        want = {r.id: r for r in ix.runs()}
    path = snapshot_path(root / ".trackui" / "index.duckdb")
    assert path == root / ".trackui" / "runs.json" and path.exists()
    got = {r.id: r for r in read_snapshot(root) or []}
    assert set(got) == set(want)
    for rid, row in want.items():
        g = got[rid]
        for field in ("name", "project", "group", "tags", "state", "created", "start_time",
                      "end_time", "last_step", "steps", "path", "host", "config", "meta",
                      "warnings"):  # fmt: skip
            assert getattr(g, field) == getattr(row, field), field
        assert g.summary.keys() == row.summary.keys()
        for k, v in row.summary.items():
            w = g.summary[k]
            assert (isinstance(v, float) and math.isnan(v) and math.isnan(w)) or w == v, k
    assert got["a"].summary["best"] == -math.inf and got["a"].tags == ("x", "y")
    assert math.isnan(got["b"].summary["loss"])


def test_a_temporary_index_leaves_nothing(root: Path, write_run) -> None:
    write_run(root, "a", records=[(0, 1.0, {"loss": 0.5})])
    with Index(root, cache=False) as ix:
        ix.refresh()
    assert not any(p.exists() for p in candidate_paths(root))
    assert read_snapshot(root) is None


def test_damaged_foreign_or_old_snapshots_are_ignored(
    root: Path, write_run, tmp_path: Path
) -> None:
    write_run(root, "a", records=[(0, 1.0, {"loss": 0.5})])
    with Index(root) as ix:
        ix.refresh()
    path = candidate_paths(root)[0]
    good = path.read_bytes()
    assert read_snapshot(root) is not None
    for bad in (b"", b"{not json", b"[1, 2]", b'{"version": 1, "root": "/elsewhere", "rows": []}',
                good.replace(b'"version":1', b'"version":0'),
                good.replace(b'"steps":', b'"stepz":')):  # fmt: skip
        path.write_bytes(bad)
        assert read_snapshot(root) is None, bad[:40]
    # A place that cannot be written: no file, no error.
    write_snapshot(tmp_path / "missing-dir" / "index.duckdb", root, [])
    assert not (tmp_path / "missing-dir").exists()
