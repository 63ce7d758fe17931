"""wandb run folders written by wandb itself (offline), read back by the wandb source."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest_wandb import Applied, read_all, run_writer, same, start_writer, wait_for

from trackui.store.sources import wandb_log
from trackui.store.sources.base import WANDB, SourceUnavailable
from trackui.store.sources.wandb_source import WandbSource, log_file

pytest.importorskip("wandb")

INF = float("inf")

WRITER = """
import wandb

quiet = wandb.Settings(x_disable_stats=True)
run = wandb.init(project="proj", name="values", group="sweep-1", job_type="train",
                 notes="a note", tags=["a", "b"], settings=quiet,
                 config={"lr": 0.01, "model": {"layers": 4, "act": "relu"}, "opt": "adam"})
print("hello from the script")
run.log({"loss": 1.5, "acc": 0.25, "nested": {"x": 1, "deep": {"y": 2.5}}, "label": "first"},
        step=0)
run.log({"loss": float("nan"), "big": float("inf"), "small": -float("inf")}, step=3)
run.log({"loss": 0.5, "acc": 0.75}, step=7)
run.config.update({"epochs": 3})
run.summary["best"] = 0.5
run.summary.update({"final": {"acc": 0.9}})
print("goodbye")
run.finish()

run = wandb.init(project="proj", name="failed", settings=quiet)
run.log({"loss": 2.0})
run.finish(exit_code=1)

run = wandb.init(project="proj", name="blocks", settings=quiet,
                 config={"blob": "z" * 40000})
for i in range(1500):
    run.log({f"m{k}": i + k / 10 for k in range(5)})
run.finish()

stats = wandb.Settings(x_stats_sampling_interval=0.1)
run = wandb.init(project="proj", name="stats", settings=stats)
run.log({"loss": 1.0}, step=5)
time.sleep(1.0)
run.finish()
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The root the writer wrote into, and each run it wrote by name."""
    root = tmp_path_factory.mktemp("wandb_root")
    run_writer(root, WRITER)
    runs = WandbSource().find(root)
    by_name = {}
    for run in runs:
        by_name[read_all(WandbSource(), run).meta["name"]] = run
    return {"root": root, "runs": by_name}


def test_found_runs_are_the_run_folders(written: dict) -> None:
    root = written["root"]
    runs = WandbSource().find(root)
    assert sorted(written["runs"]) == ["blocks", "failed", "stats", "values"]
    assert all(r.source == WANDB for r in runs)
    assert all(r.key.startswith("wandb/offline-run-") for r in runs)  # latest-run not followed
    assert all(r.path == root / r.key and r.key.endswith(r.run_id) for r in runs)
    one = runs[0].path
    assert WandbSource().find(one) == [type(runs[0])(WANDB, ".", one, runs[0].run_id)]
    assert WandbSource().find(root / "wandb") == [
        type(r)(r.source, r.key[len("wandb/") :], r.path, r.run_id) for r in runs
    ]


def test_values_read_back_value_for_value(written: dict) -> None:
    got = read_all(WandbSource(), written["runs"]["values"])
    assert got.warnings == []
    assert same(
        got.metric_rows(),
        [
            (0, {"loss": 1.5, "acc": 0.25, "nested/x": 1, "nested/deep/y": 2.5, "label": "first"}),
            (3, {"loss": math.nan, "big": INF, "small": -INF}),
            (7, {"loss": 0.5, "acc": 0.75}),
        ],
    )
    assert all(isinstance(t, float) and abs(t - time.time()) < 600 for _, t, _ in got.rows)
    assert got.config == {
        "lr": 0.01,
        "model": {"layers": 4, "act": "relu"},
        "opt": "adam",
        "epochs": 3,
    }
    meta = got.meta
    assert (meta["name"], meta["project"], meta["group"], meta["job_type"]) == (
        "values",
        "proj",
        "sweep-1",
        "train",
    )
    assert (meta["notes"], meta["tags"], meta["state"], meta["exit_code"]) == (
        "a note",
        ["a", "b"],
        "finished",
        0,
    )
    assert meta["host"] and abs(meta["start_time"] - time.time()) < 600
    assert got.summary is not None
    assert same(
        {k: got.summary[k] for k in ("best", "final/acc", "loss", "acc")},
        {"best": 0.5, "final/acc": 0.9, "loss": 0.5, "acc": 0.75},
    )
    assert not any(k.startswith("_") for k in got.summary)
    assert got.output == "hello from the script\ngoodbye\n"


def test_exit_code_gives_the_state(written: dict) -> None:
    got = read_all(WandbSource(), written["runs"]["failed"])
    assert (got.meta["state"], got.meta["exit_code"]) == ("failed", 1)
    assert same(got.metric_rows(), [(0, {"loss": 2.0})])


def test_system_stats_named_as_trackui_names_them(written: dict) -> None:
    got = read_all(WandbSource(), written["runs"]["stats"])
    system = [(step, v) for step, _t, v in got.rows if "system/mem_percent" in v]
    assert system, got.rows
    assert {step for step, _ in system} <= {0, 5}
    names = set().union(*(v for _, v in system))
    assert {"system/proc/rss_mb", "system/mem_percent"} <= names
    assert all(n.startswith("system/") and "//" not in n for n in names)
    assert all(isinstance(x, float) for _, v in system for x in v.values())


def _copy_run(written: dict, name: str, dest: Path) -> tuple[Path, Path]:
    """A copy of a written run folder under ``dest/wandb``, and its log."""
    src = written["runs"][name].path
    folder = dest / "wandb" / src.name
    shutil.copytree(src, folder)
    path = log_file(folder)
    assert path is not None
    return folder, path


def test_running_then_crashed_without_exit_record(written: dict, tmp_path: Path) -> None:
    folder, path = _copy_run(written, "values", tmp_path)
    data = path.read_bytes()
    scan = wandb_log.scan(data, 0, wandb_log.HEADER_LEN)
    from wandb.proto.wandb_internal_pb2 import Record

    exit_at = next(at for at, rec in scan.records if Record.FromString(rec).HasField("exit"))
    path.write_bytes(data[:exit_at])
    (run,) = WandbSource().find(tmp_path)
    got = read_all(WandbSource(), run)
    assert got.meta["state"] == "running"  # written just now
    old = time.time() - 3600
    os.utime(path, (old, old))
    got.add(WandbSource(), run)
    assert got.meta["state"] == "crashed"
    assert len(got.metric_rows()) == 3


def test_flipped_byte_in_a_middle_block_skips_that_block(written: dict, tmp_path: Path) -> None:
    whole = read_all(WandbSource(), written["runs"]["blocks"])
    folder, path = _copy_run(written, "blocks", tmp_path)
    data = bytearray(path.read_bytes())
    assert len(data) > 5 * wandb_log.BLOCK
    data[3 * wandb_log.BLOCK + 1000] ^= 0x40
    path.write_bytes(bytes(data))
    (run,) = WandbSource().find(tmp_path)
    got = read_all(WandbSource(), run)
    assert len(got.warnings) == 1
    m = re.fullmatch(
        r"(.*): damaged record at byte (\d+) \(bad CRC\), skipped to .* (\d+)", got.warnings[0]
    )
    assert m and m[1] == str(path), got.warnings
    assert 3 * wandb_log.BLOCK <= int(m[2]) <= 3 * wandb_log.BLOCK + 1000
    assert int(m[3]) == 4 * wandb_log.BLOCK
    steps = [s for s, _ in got.metric_rows()]
    assert 0 < len(whole.metric_rows()) - len(steps) < 200  # one block's records lost
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 1499
    kept = dict(whole.metric_rows())
    assert all(same(v, kept[s]) for s, v in got.metric_rows())
    assert got.meta["state"] == "finished"
    assert got.config == whole.config


def test_truncated_tail_waits_and_is_read_once_complete(written: dict, tmp_path: Path) -> None:
    whole = read_all(WandbSource(), written["runs"]["blocks"])
    folder, path = _copy_run(written, "blocks", tmp_path)
    data = path.read_bytes()
    # Inside the 40 kB config: a record spanning blocks, cut in its second block.
    for cut in (wandb_log.BLOCK + 5000, len(data) - 3):
        path.write_bytes(data[:cut])
        (run,) = WandbSource().find(tmp_path)
        got = Applied()
        got.add(WandbSource(), run)
        assert got.warnings == []
        assert got.cursor["offset"] < cut
        with open(path, "ab") as f:
            f.write(data[cut:])
        got.add(WandbSource(), run)
        assert got.warnings == []
        assert same(got.metric_rows(), whole.metric_rows())
        assert got.config == whole.config and got.config["blob"] == "z" * 40000
        assert got.meta["state"] == "finished"
        shutil.rmtree(folder)
        folder, path = _copy_run(written, "blocks", tmp_path)


def test_live_writer_read_incrementally(tmp_path: Path) -> None:
    writer = start_writer(
        tmp_path,
        """
        import wandb
        run = wandb.init(project="live", name="live", settings=wandb.Settings(x_disable_stats=True))
        for phase in (1, 2):
            for i in range(300):
                run.log({"a": float(i), "b": 2.0 * i})
            open(f"ready{phase}", "w").close()
            while not os.path.exists(f"go{phase}"):
                time.sleep(0.02)
        run.finish()
        """,
    )
    try:
        source = WandbSource()

        def grown(size: int) -> bool:
            runs = source.find(tmp_path)
            path = log_file(runs[0].path) if runs else None
            return path is not None and path.stat().st_size >= size

        got = Applied()
        wait_for(
            lambda: (tmp_path / "ready1").exists() and grown(2 * wandb_log.BLOCK), what="ready1"
        )
        (run,) = source.find(tmp_path)
        first = got.add(source, run)
        assert first.rows and got.meta["state"] == "running"
        n1 = len(got.rows)
        (tmp_path / "go1").touch()
        wait_for(
            lambda: (tmp_path / "ready2").exists() and grown(5 * wandb_log.BLOCK), what="ready2"
        )
        second = got.add(source, run)
        assert second.rows and second.rows[0][0] == got.rows[n1 - 1][0] + 1
        (tmp_path / "go2").touch()
        assert writer.wait(60) == 0, writer.stderr.read() if writer.stderr else ""
        got.add(source, run)
        assert got.meta["state"] == "finished"
        assert [s for s, _t, _v in got.rows] == list(range(600))
        assert same(
            [v for _s, _t, v in got.rows],
            [{"a": float(i % 300), "b": 2.0 * (i % 300)} for i in range(600)],
        )
        assert same(got.rows, read_all(source, run).rows)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()


def test_a_file_that_is_not_a_wandb_log_is_skipped_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "wandb" / "run-20260101_000000-abc"
    folder.mkdir(parents=True)
    (folder / "run-abc.wandb").write_bytes(b"not a log at all, not at all")
    (run,) = WandbSource().find(tmp_path)
    got = read_all(WandbSource(), run)
    assert got.rows == [] and len(got.warnings) == 1 and "not a wandb log" in got.warnings[0]


def test_without_wandb_runs_are_found_and_reading_names_the_extra(
    written: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "wandb.proto.wandb_internal_pb2", None)
    runs = WandbSource().find(written["root"])
    assert len(runs) == 4
    with pytest.raises(SourceUnavailable, match=r"pip install 'trackui\[wandb\]'"):
        WandbSource().read(runs[0], {})


def test_a_cursor_is_not_changed_by_reading_from_it(written: dict, tmp_path: Path) -> None:
    folder, path = _copy_run(written, "values", tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (run,) = WandbSource().find(tmp_path)
    _, cursor = WandbSource().read(run, {})
    kept = json.dumps(cursor, sort_keys=True)
    with open(path, "ab") as f:
        f.write(data[len(data) // 2 :])
    first, _ = WandbSource().read(run, cursor)
    again, _ = WandbSource().read(run, cursor)
    assert json.dumps(cursor, sort_keys=True) == kept
    assert same(first.rows, again.rows) and first.config == again.config
    assert first.meta == again.meta and first.meta["state"] == "finished"
