"""trackio databases written by trackio itself, read back by the trackio source."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from pathlib import Path

import pytest
from conftest_wandb import Applied, read_all, rows_of, run_writer, same

from trackui.store.sources.base import TRACKIO
from trackui.store.sources.trackio_source import TrackioSource, default_dir

pytest.importorskip("trackio")

INF = float("inf")

WRITER = """
import trackio

trackio.init(project="proj", name="first", group="grp",
             config={"lr": 0.01, "model": {"layers": 4}, "opt": "adam"})
trackio.log({"loss": 1.5, "acc": 0.25, "nested": {"x": 1, "deep": {"y": 2.5}}, "label": "a"})
trackio.log({"loss": float("nan"), "big": float("inf"), "small": -float("inf")})
trackio.log({"loss": 0.5}, step=7)
trackio.log({"loss": 0.75}, step=4)
trackio.log_system({"cpu/utilization": 12.5, "memory/used": 2.0, "fan/rpm": 900})
trackio.finish()

trackio.init(project="proj", name="second", config={"lr": 0.1})
trackio.log({"loss": 3.0})
trackio.finish()
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trackio_root")
    run_writer(root, WRITER)
    return root


def _runs(root: Path) -> dict[str, object]:
    return {r.key.rsplit("#", 1)[1]: r for r in TrackioSource().find(root)}


def test_one_run_per_database_and_run_name(written: Path) -> None:
    runs = TrackioSource().find(written)
    assert [r.key for r in runs] == ["trackio/proj.db#first", "trackio/proj.db#second"]
    assert all(r.source == TRACKIO and r.path == written / "trackio" / "proj.db" for r in runs)
    assert all(r.run_id for r in runs)


def test_values_read_back_value_for_value(written: Path) -> None:
    got = read_all(TrackioSource(), _runs(written)["first"])
    assert got.warnings == []
    assert same(
        got.metric_rows(),
        [
            (0, {"loss": 1.5, "acc": 0.25, "nested/x": 1, "nested/deep/y": 2.5, "label": "a"}),
            (1, {"loss": math.nan, "big": INF, "small": -INF}),
            (7, {"loss": 0.5}),
            (4, {"loss": 0.75}),  # logged out of order, read as logged
        ],
    )
    assert all(abs(t - time.time()) < 600 for _s, t, _v in got.rows)
    assert got.config == {"lr": 0.01, "model": {"layers": 4}, "opt": "adam"}
    meta = got.meta
    assert (meta["name"], meta["project"], meta["group"], meta["id"]) == (
        "first",
        "proj",
        "grp",
        _runs(written)["first"].run_id,
    )
    assert abs(meta["start_time"] - time.time()) < 600
    assert isinstance(meta["command"], list) and meta["command"][-1].endswith("writer.py")
    assert meta["state"] == "running"  # trackio keeps no state: a recent run may still log
    assert got.summary is None and got.output == ""


def test_system_metrics_named_as_trackui_names_them(written: Path) -> None:
    got = read_all(TrackioSource(), _runs(written)["first"])
    (system,) = [(s, v) for s, _t, v in got.rows if any(k.startswith("system/") for k in v)]
    assert system == (
        4,  # the step logged last before it
        {"system/cpu_percent": 12.5, "system/mem_used_mb": 2048.0, "system/fan/rpm": 900},
    )


def test_second_read_gives_only_the_new_rows(written: Path, tmp_path: Path) -> None:
    root = tmp_path
    (root / "trackio").mkdir()
    db = root / "trackio" / "proj.db"
    db.write_bytes((written / "trackio" / "proj.db").read_bytes())
    source = TrackioSource()
    assert len(source.find(root)) == 2
    (run,) = [r for r in source.find(root) if r.key.endswith("#second")]
    got = Applied()
    got.add(TrackioSource(), run)
    assert same(got.metric_rows(), [(0, {"loss": 3.0})])
    again = got.add(TrackioSource(), run)
    assert (rows_of(again), again.config) == ([], None)
    run_writer(
        root,
        """
        import trackio
        trackio.init(project="proj", name="second", resume="must")
        trackio.log({"loss": 2.0})
        trackio.log({"loss": 1.0})
        trackio.finish()
        trackio.init(project="proj", name="third")
        trackio.log({"loss": 5.0})
        trackio.finish()
        """,
    )
    assert [r.key for r in source.find(root)][-1] == "trackio/proj.db#third"  # listed again
    new = got.add(TrackioSource(), run)
    assert same([(s, v) for s, _t, v in rows_of(new)], [(1, {"loss": 2.0}), (2, {"loss": 1.0})])
    assert got.warnings == []


def test_non_trackio_databases_ignored_and_nothing_written(written: Path, tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE metrics (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    (tmp_path / "notes.db").write_text("not sqlite")
    (tmp_path / "trackio").mkdir()
    db = tmp_path / "trackio" / "proj.db"
    db.write_bytes((written / "trackio" / "proj.db").read_bytes())
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*.db")}
    source = TrackioSource()
    runs = source.find(tmp_path)
    assert [r.key for r in runs] == ["trackio/proj.db#first", "trackio/proj.db#second"]
    for run in runs:
        read_all(source, run)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*.db")}
    assert after == before
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "app.db",
        "notes.db",
        "proj.db",
    ]


def test_default_folder_only_when_asked(
    written: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKIO_DIR", str(written / "trackio"))
    assert default_dir() == written / "trackio"
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    assert TrackioSource().find(elsewhere) == []
    source = TrackioSource()
    source.add_dir(default_dir())
    runs = source.find(elsewhere)
    assert [r.key.rsplit("#", 1)[1] for r in runs] == ["first", "second"]
    assert runs[0].key == (written / "trackio" / "proj.db").resolve().as_posix() + "#first"
    assert len(read_all(source, runs[0]).metric_rows()) == 4
    monkeypatch.delenv("TRACKIO_DIR")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert default_dir() == tmp_path / "hf" / "trackio"


def test_an_old_run_is_finished(written: Path, tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    db = tmp_path / "t" / "proj.db"
    db.write_bytes((written / "trackio" / "proj.db").read_bytes())
    conn = sqlite3.connect(db)
    conn.execute("UPDATE metrics SET timestamp = '2020-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    for p in db.parent.glob("proj.db-*"):
        os.remove(p)
    (run, _) = TrackioSource().find(tmp_path)
    assert read_all(TrackioSource(), run).meta["state"] == "finished"


def test_a_damaged_row_is_skipped_with_a_warning(written: Path, tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    db = tmp_path / "t" / "proj.db"
    db.write_bytes((written / "trackio" / "proj.db").read_bytes())
    conn = sqlite3.connect(db)
    (second,) = conn.execute("SELECT min(id) + 1 FROM metrics WHERE run_name = 'first'").fetchone()
    conn.execute("UPDATE metrics SET metrics = '{\"loss\": 1' WHERE id = ?", (second,))
    conn.commit()
    conn.close()
    for p in db.parent.glob("proj.db-*"):
        os.remove(p)
    run = _runs(tmp_path)["first"]
    got = read_all(TrackioSource(), run)
    assert len(got.warnings) == 1 and "1 unreadable row(s) of run 'first'" in got.warnings[0]
    assert [s for s, _v in got.metric_rows()] == [0, 7, 4]
    assert same(got.metric_rows()[1], (7, {"loss": 0.5}))
