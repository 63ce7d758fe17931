"""The DuckDB index on real run directories: scan, ingest (bulk and exact), queries, cache."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import trackui
from trackui.store import ingest_bulk as ingest_mod
from trackui.store import loading as loading_mod
from trackui.store import writes as writes_mod
from trackui.store.index import FilterError, Index


def make_logged_run(root: Path, name: str, steps: int = 20, **config: object) -> str:
    run = trackui.init(project="p", name=name, dir=root, config=config or {"lr": 0.1})
    for s in range(steps):
        run.log({"loss": 1.0 / (s + 1), "acc": s / steps, "epoch": s // 5})
    run.finish()
    return run.id


@pytest.fixture
def force_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every whole file through the bulk (DuckDB read_json) path."""
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)


@pytest.fixture
def force_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 << 60)


def force_layout(monkeypatch: pytest.MonkeyPatch, layout: str) -> None:
    """Store bulk-loaded values a row per record (``wide``) or a row per value (``points``)."""
    if layout == "wide":
        monkeypatch.setattr(ingest_mod, "WIDE_MAX_CELLS", 1 << 30)
    else:
        monkeypatch.setattr(ingest_mod, "WIDE_MAX_COLS", 0)


@pytest.mark.parametrize("path", ["bulk", "exact"])
def test_logged_values_come_back_exactly(
    root: Path, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if path == "bulk" else 1 << 60)
    rid = make_logged_run(root, "a", steps=30)
    with Index(root, cache=False) as ix:
        assert ix.scan() == {rid}
        assert ix.ingest() == {rid}
        row = ix.run(rid)
        assert (row.steps, row.last_step, row.state, row.name) == (30, 29, "finished", "a")
        step, _t, v = ix.points(rid, "loss")
        assert step.tolist() == list(range(30))
        assert v.tolist() == [1.0 / (s + 1) for s in range(30)]
        assert row.summary["loss"] == pytest.approx(1 / 30)
        assert [(m.name, m.steps[rid]) for m in ix.metrics([rid])] == [
            ("acc", 30),
            ("epoch", 30),
            ("loss", 30),
        ]
        assert ix.loaded == (1, 1)
        assert ix.ingest() == set()  # nothing new


@pytest.mark.parametrize("layout", ["wide", "points"])
def test_bulk_and_exact_agree_on_mixed_records(
    root: Path, write_run, monkeypatch, layout: str
) -> None:
    force_layout(monkeypatch, layout)
    # Duplicated steps (the later value wins), a metric that appears only in
    # the middle (not in the sampled head or tail), text values, non-finite.
    recs = []
    for s in range(3000):
        m = {"loss": float(s)}
        if s == 1500:
            m["rare"] = 42.0
        if s % 100 == 0:
            m["val"] = "nan" if s == 200 else s / 10
        recs.append((s, 100.0 + s, m, {"phase": f"p{s // 1000}"} if s % 500 == 0 else None))
        if s == 10:
            recs.append((s, 100.0 + s, {"loss": -1.0}))  # same step again: replaces 10.0
    write_run(root, "mixed", records=recs)
    got = {}
    for mode, size in (("bulk", 1), ("exact", 1 << 60)):
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", size)
        with Index(root, cache=False) as ix:
            ix.refresh()
            row = ix.run("mixed")
            step, t, v = ix.points("mixed", "loss")
            _, _, val = ix.points("mixed", "val")
            got[mode] = (
                row.steps,
                row.last_step,
                step.tolist(),
                v.tolist(),
                ix.points("mixed", "rare")[2].tolist(),
                [x if not math.isnan(x) else "nan" for x in val.tolist()],
                {m.name: m.steps["mixed"] for m in ix.metrics(["mixed"])},
                ix.text_values("mixed"),
                row.warnings,
            )
    assert got["bulk"] == got["exact"]
    steps, last, step, v, rare, val, counts, texts, warns = got["bulk"]
    assert (steps, last) == (3000, 2999)
    assert v[10] == -1.0 and len(step) == 3000
    assert rare == [42.0]
    assert val[2] == "nan" and val[3] == 30.0
    assert counts == {"loss": 3000, "rare": 1, "val": 30}
    assert texts == {"phase": "p2"}
    assert warns == ()


def _load_both_ways(root: Path, run_id: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Load ``root`` through the bulk and the exact path; what each saw, and exact loads."""
    got = {}
    real = loading_mod.load_exact
    calls: list[int] = []

    def counted(cur, items, *args, **kw):
        calls.append(len(items))
        return real(cur, items, *args, **kw)

    monkeypatch.setattr(loading_mod, "load_exact", counted)
    for mode, size in (("bulk", 1), ("exact", 1 << 60)):
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", size)
        calls.clear()
        with Index(root, cache=False) as ix:
            ix.refresh()
            row = ix.run(run_id)
            names = sorted(m.name for m in ix.metrics([run_id]))
            got[mode] = (
                (row.steps, row.last_step, row.warnings),
                {n: [a.tolist() for a in ix.points(run_id, n)] for n in names},
                {m.name: m.steps[run_id] for m in ix.metrics([run_id])},
                ix.text_values(run_id),
                {k: row.summary[k] for k in names},
                sum(calls),
            )
    return got


@pytest.mark.parametrize("where", [0, 2500])  # in the samples, or only in the check
def test_bulk_path_loads_runs_with_rich_values(
    root: Path, monkeypatch: pytest.MonkeyPatch, where: int
) -> None:
    # Rich values' references (``r``) are no metrics, but their records count as steps;
    # the bulk path reads them as the exact one does, rather than handing the run over.
    run = trackui.init(dir=root, id="richbulk")
    for i in range(3000):
        if i in (where, where + 1):
            trackui.log({"img": trackui.Image(np.zeros((2, 2), np.uint8), caption="a: b")})
            trackui.log({"h": trackui.Histogram([1.0, 2.0, 3.0], num_bins=2), "phase": "x:y"})
        trackui.log({"loss": float(i), "acc": i / 3000})
    run.finish()
    got = _load_both_ways(root, "richbulk", monkeypatch)
    assert got["bulk"][:5] == got["exact"][:5]
    if where == 0:  # (values no sample saw send the file the exact way, as text values do)
        assert got["bulk"][5] == 0, "the bulk path fell back to the exact one"
    (steps, last, warns), _pts, counts, texts, _summary = got["bulk"][:5]
    assert (steps, last, warns) == (3004, 3003, ())
    assert counts == {"loss": 3000, "acc": 3000} and texts == {"phase": "x:y"}


@pytest.mark.parametrize("layout", ["wide", "points"])
def test_bulk_path_keeps_file_order_across_metrics(
    root: Path, write_run, monkeypatch, layout: str
) -> None:
    force_layout(monkeypatch, layout)
    # A file the bulk path loads (every metric shows up in the samples):
    # repeated steps with different metrics, the later value winning, and
    # metrics that skip steps, loaded together in one insert.
    recs = []
    for s in range(4000):
        m = {"loss": float(s), "acc": s / 4000}
        if s % 50 == 0:
            m["val"] = s / 10
        recs.append((s, 100.0 + s, m))
        if s % 7 == 0:
            recs.append((s, 100.5 + s, {"loss": -float(s)}))  # same step again: replaces it
    write_run(root, "order", records=recs)
    got = _load_both_ways(root, "order", monkeypatch)
    assert got["bulk"][:5] == got["exact"][:5]
    assert got["bulk"][5] == 0, "the bulk path fell back to the exact one"
    (steps, last, warns), pts, counts, _texts, summary = got["bulk"][:5]
    assert (steps, last, warns) == (4000, 3999, ())
    assert counts == {"acc": 4000, "loss": 4000, "val": 80}
    step, t, v = pts["loss"]
    assert step == list(range(4000))
    assert v[7] == -7.0 and v[8] == 8.0 and t[7] == 107.5
    assert pts["val"][0] == list(range(0, 4000, 50))
    assert summary["loss"] == 3999.0


def test_text_values_the_samples_miss_are_loaded(root: Path, write_run, monkeypatch) -> None:
    # Text values only in the middle of a long file: the bulk query does not
    # read them, the check notices and the file is loaded the exact way.
    recs = [(s, float(s), {"loss": float(s)}, {"note": "mid"} if s == 2500 else None)
            for s in range(5000)]  # fmt: skip
    write_run(root, "notes", records=recs)
    got = _load_both_ways(root, "notes", monkeypatch)
    assert got["bulk"][:5] == got["exact"][:5]
    assert got["bulk"][3] == {"note": "mid"}
    assert got["bulk"][5] == 1  # the bulk path gave the file up


@pytest.mark.parametrize("mode", ["bulk", "exact"])
def test_damaged_records_and_bad_utf8_become_warnings(
    root: Path, write_run, monkeypatch, mode
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if mode == "bulk" else 1 << 60)
    good = [json.dumps({"s": s, "t": 1.0, "m": {"a": s}}).encode() + b"\n" for s in range(6)]
    history = b"".join(
        [
            good[0],
            b'{"s": 1, "t": 1.0, "m": {"a": 1\n',  # torn then continued
            good[1],
            b'{"s": 2, "m": {"a": "\xff\xfe"}}\n',  # not UTF-8
            good[2],
            b"[1, 2, 3]\n",  # not an object
            b'{"s": "x", "m": {}}\n',  # no integer step
            good[3],
            b'{"s": 4, "t": 1, "m": {"a": {"nested": 1}}}\n',  # not a number
            good[4],
            good[5],
        ]
    )
    write_run(root, "dmg", history=history)
    with Index(root, cache=False) as ix:
        ix.refresh()
        row = ix.run("dmg")
        assert ix.points("dmg", "a")[2].tolist() == [0, 1, 2, 3, 4, 5]
        assert len(row.warnings) == 5
        assert all("damaged record at byte" in w for w in row.warnings)
        assert row.steps == 6


def test_torn_tail_is_read_once_completed(root: Path, write_run) -> None:
    d = write_run(root, "torn", state="running", records=[(0, 1.0, {"a": 0.5})])
    with Index(root, cache=False) as ix:
        ix.refresh()
        with open(d / "history.jsonl", "ab") as f:
            f.write(b'{"s": 1, "t": 2.0, "m": {"a": 1.')
        assert ix.ingest() == set() or ix.points("torn", "a")[2].tolist() == [0.5]
        assert ix.points("torn", "a")[2].tolist() == [0.5]
        with open(d / "history.jsonl", "ab") as f:
            f.write(b'5}}\n{"s": 2, "t": 3.0, "m": {"a": 2.5}}\n')
        assert ix.ingest() == {"torn"}
        assert ix.points("torn", "a")[2].tolist() == [0.5, 1.5, 2.5]
        assert ix.run("torn").warnings == ()


def test_runs_appear_change_and_vanish(root: Path, write_run) -> None:
    with Index(root, cache=False) as ix:
        assert ix.refresh() == set()
        a = write_run(root, "aaaa", records=[(0, 1.0, {"x": 1})])
        write_run(root, "bbbb", stamp="20231114_221321", records=[(0, 1.0, {"x": 2})])
        assert ix.refresh() == {"aaaa", "bbbb"}
        (a / "summary.json").write_text(json.dumps({"best": 9}))
        os.utime(a / "summary.json", ns=(1, 10**18))
        assert ix.scan() == {"aaaa"}
        assert ix.run("aaaa").summary["best"] == 9
        shutil.rmtree(a)
        assert ix.scan() == {"aaaa"}
        assert [r.id for r in ix.runs()] == ["bbbb"]
        with pytest.raises(LookupError):
            ix.run("aaaa")
        # Nothing of the vanished run is left in the tables.
        ix.refresh()
        cur = ix._db.con.cursor()
        assert cur.execute("SELECT count(*) FROM points").fetchone()[0] == 1


def test_keys_follow_appends_config_changes_and_vanished_runs(root: Path, write_run) -> None:
    a = write_run(root, "live", state="running", config={"lr": 0.1}, records=[(0, 1.0, {"x": 1})])
    b = write_run(root, "done", stamp="20231114_221321", config={"opt": {"b": 2}}, summary={"s": 1})
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert ix.keys() == (["lr", "opt/b"], ["s", "x"])
        assert ix.keys() == (["lr", "opt/b"], ["s", "x"])  # the same answer from the cache
        # A live run logs a new metric and a text value: both are summary keys.
        with open(a / "history.jsonl", "a") as f:
            f.write(json.dumps({"s": 1, "t": 2.0, "m": {"y": 2}, "x": {"note": "hi"}}) + "\n")
        ix.refresh([a])
        assert ix.keys() == (["lr", "opt/b"], ["note", "s", "x", "y"])
        # A finished run's config is rewritten.
        (b / "config.json").write_text(json.dumps({"opt": {"c": 3}}))
        os.utime(b / "config.json", ns=(1, 10**18))
        ix.refresh()
        assert ix.keys() == (["lr", "opt/c"], ["note", "s", "x", "y"])
        shutil.rmtree(b)
        ix.refresh()
        assert ix.keys() == (["lr"], ["note", "x", "y"])


def test_run_without_meta_is_not_listed_and_damaged_meta_is_a_warning(
    root: Path, write_run
) -> None:
    (root / "run-20231114_221320-nometa").mkdir()
    d = write_run(root, "badmeta", stamp="20231114_221321")
    (d / "meta.json").write_text("{ not json")
    newer = write_run(root, "newer", stamp="20231114_221322", meta_extra={"format": 99})
    (root / "unrelated-dir").mkdir()
    with Index(root, cache=False) as ix:
        ix.refresh()
        rows = {r.id: r for r in ix.runs()}
        assert set(rows) == {"badmeta", "newer"}
        assert "meta.json: damaged" in rows["badmeta"].warnings[0]
        assert "newer than this trackui reads" in rows["newer"].warnings[0]
        assert newer.exists()


def test_states_same_host_and_other_host(root: Path, write_run) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    write_run(root, "alive", state="running", pid=os.getpid(), start=time.time())
    write_run(
        root,
        "dead",
        state="running",
        pid=int(dead.stdout),
        start=time.time() - 10,
        stamp="20231114_221321",
    )
    fresh = write_run(root, "fresh", state="running", host="elsewhere", stamp="20231114_221322")
    stale = write_run(root, "stale", state="running", host="elsewhere", stamp="20231114_221323")
    now = time.time()
    (fresh / "heartbeat").touch()
    (stale / "heartbeat").touch()
    os.utime(stale / "heartbeat", (now - 500, now - 500))
    write_run(root, "failed", state="failed", stamp="20231114_221324")
    with Index(root, cache=False) as ix:
        ix.scan()
        states = {r.id: r.state for r in ix.runs()}
    assert states == {
        "alive": "running",
        "dead": "crashed",
        "fresh": "running",
        "stale": "crashed",
        "failed": "failed",
    }


def test_resolve_by_id_prefix_name_and_path(root: Path, write_run) -> None:
    a = write_run(root, "abc123", name="baseline")
    write_run(root, "abd456", name="twin", stamp="20231114_221321")
    write_run(root, "xyz789", name="twin", stamp="20231114_221322")
    with Index(root, cache=False) as ix:
        ix.scan()
        assert ix.resolve("abc123").id == "abc123"
        assert ix.resolve("abc").id == "abc123"
        assert ix.resolve("baseline").id == "abc123"
        assert ix.resolve(str(a)).id == "abc123"
        assert ix.resolve("xyz").id == "xyz789"
        with pytest.raises(LookupError, match="ambiguous: 2 runs"):
            ix.resolve("ab")
        with pytest.raises(LookupError, match="run name 'twin' is ambiguous"):
            ix.resolve("twin")
        with pytest.raises(LookupError, match=r"no run matches 'nope\\x1b'"):
            ix.resolve("nope\x1b")


def test_sort_by_fields_config_and_summary(root: Path, write_run) -> None:
    write_run(root, "r1", config={"opt": {"lr": 0.1}}, summary={"acc": 0.5}, start=3.0)
    write_run(
        root,
        "r2",
        config={"opt": {"lr": 0.01}},
        summary={"acc": 0.9},
        start=1.0,
        stamp="20231114_221321",
    )
    write_run(root, "r3", config={}, summary={"acc": "nan"}, start=2.0, stamp="20231114_221322")
    with Index(root, cache=False) as ix:
        ix.scan()
        ids = lambda rows: [r.id for r in rows]  # noqa: E731
        assert ids(ix.runs()) == ["r1", "r3", "r2"]
        assert ids(ix.runs(sort="created", descending=False)) == ["r2", "r3", "r1"]
        assert ids(ix.runs(sort="config.opt/lr", descending=False)) == ["r2", "r1", "r3"]
        assert ids(ix.runs(sort="config.opt/lr")) == ["r1", "r2", "r3"]  # missing last both ways
        assert ids(ix.runs(sort="summary.acc")) == ["r3", "r2", "r1"]  # NaN sorts as largest
        assert ids(ix.runs(sort="name")) == ["r3", "r2", "r1"]
        with pytest.raises(ValueError, match="sort: unknown column"):
            ix.runs(sort="bogus")
        assert ix.keys() == (["opt/lr"], ["acc"])


def test_diff_against_baseline_with_deltas(root: Path, write_run) -> None:
    write_run(
        root, "base", config={"lr": 0.1, "opt": {"name": "adam"}, "seed": 1}, summary={"acc": 0.5}
    )
    write_run(
        root,
        "b",
        config={"lr": 0.2, "opt": {"name": "adam"}, "seed": 1},
        summary={"acc": 0.75},
        stamp="20231114_221321",
    )
    write_run(
        root,
        "c",
        config={"lr": 0.1, "opt": {"name": "sgd"}},
        summary={"acc": "nan"},
        stamp="20231114_221322",
    )
    with Index(root, cache=False) as ix:
        ix.scan()
        d = ix.diff(["base", "b", "c"])
        rows = {(r.section, r.key): r for r in d.rows}
        assert set(rows) == {
            ("config", "lr"),
            ("config", "opt/name"),
            ("config", "seed"),
            ("summary", "acc"),
        }
        assert rows[("config", "lr")].deltas == pytest.approx((0.0, 0.1, 0.0))
        assert rows[("config", "seed")].values == (1, 1, None)
        assert rows[("config", "opt/name")].deltas == (None, None, None)
        assert rows[("summary", "acc")].deltas[1] == pytest.approx(0.25)
        assert math.isnan(rows[("summary", "acc")].deltas[2])
        d2 = ix.diff(["base", "b"], baseline="b", all_keys=True)
        assert d2.baseline == "b"
        keyed = {(r.section, r.key): r for r in d2.rows}
        assert not keyed[("config", "opt/name")].differs
        assert keyed[("config", "lr")].deltas == pytest.approx((-0.1, 0.0))
        with pytest.raises(LookupError, match="baseline"):
            ix.diff(["base", "b"], baseline="c")


def test_series_axes_and_buckets(root: Path, write_run) -> None:
    recs = []
    for s in range(100):
        m = {"loss": float(100 - s), "epoch": float(s // 10)}
        if s == 50:
            m["loss"] = "nan"
        recs.append((s, 1000.0 + 2 * s, m))
    write_run(root, "ser", records=recs, start=990.0)
    with Index(root, cache=False) as ix:
        ix.refresh()
        (s,) = ix.series(["ser"], ["loss"], smoothing="none", buckets=10)
        assert s.points == 100 and len(s.x) == 10
        # bucket 0 = steps 0..9: loss 100..91; last = 91
        assert (s.lo[0], s.hi[0], s.raw[0], s.x[0]) == (91.0, 100.0, 91.0, 9.0)
        # bucket 5 = steps 50..59 with NaN at 50: min over finite values only
        assert (s.lo[5], s.hi[5]) == (41.0, 49.0)
        (r,) = ix.series(["ser"], ["loss"], x="relative", smoothing="none", buckets=1000)
        assert r.x[0] == 10.0 and r.x[-1] == 10.0 + 2 * 99
        (w,) = ix.series(["ser"], ["loss"], x="wall", smoothing="none", buckets=1000)
        assert w.x[0] == 1000.0
        (e,) = ix.series(["ser"], ["loss"], x="epoch", smoothing="none", buckets=1000)
        assert e.x.tolist()[:11] == [0.0] * 10 + [1.0]
        (sm,) = ix.series(["ser"], ["loss"], smoothing="ema", strength=0.6, buckets=1000)
        assert math.isnan(sm.y[50]) and sm.y[0] == 100.0
        assert sm.y[1] == pytest.approx((0.6 * 0.4 * 100 + 0.4 * 99) / (1 - 0.36))
        (rng,) = ix.series(["ser"], ["loss"], smoothing="none", buckets=2, x_range=(10, 29))
        assert rng.points == 20 and rng.lo.tolist() == [81.0, 71.0]
        (missing,) = ix.series(["ser"], ["nope"])
        assert missing.points == 0 and len(missing.x) == 0
        with pytest.raises(ValueError, match="unknown x axis"):
            ix.series(["ser"], ["loss"], x="bogus")
        with pytest.raises(LookupError):
            ix.series(["zzz"], ["loss"])


def test_filter_errors_are_filter_errors(root: Path, write_run) -> None:
    write_run(root, "f1")
    with Index(root, cache=False) as ix:
        ix.scan()
        with pytest.raises(FilterError, match="unknown operator '=>' at 3"):
            ix.runs("lr=>0.1")


# ------------------------------------------------------------------------ cache


def test_warm_open_uses_the_cache_and_validates_it(root: Path, write_run) -> None:
    recs = [(s, float(s), {"a": float(s)}) for s in range(50)]
    d = write_run(root, "warm", records=recs)
    with Index(root) as ix:
        assert ix.storage == "root"
        ix.refresh()
    assert (root / ".trackui" / "index.duckdb").exists()
    with Index(root) as ix:
        assert ix.storage == "root"
        assert ix.scan() == set()  # nothing changed on disk
        assert ix.ingest() == set()  # offsets validated, nothing re-read
        assert ix.run("warm").steps == 50
        assert ix.points("warm", "a")[2].tolist() == [float(s) for s in range(50)]
    # Rewrite the history with other content of the same size: reloaded.
    text = (d / "history.jsonl").read_text().replace('"a": 1.0}', '"a": 7.0}')
    (d / "history.jsonl").write_text(text)
    with Index(root) as ix:
        ix.refresh()
        assert ix.points("warm", "a")[2].tolist()[1] == 7.0
        assert len(ix.points("warm", "a")[2]) == 50


CRASHING_VIEWER = """
import os, sys
from pathlib import Path
from trackui.store.index import Index
ix = Index(Path(sys.argv[1]))
ix.refresh()
with open(Path(sys.argv[2]) / "history.jsonl", "ab") as f:
    f.write(b'{"s": 3, "t": 4.0, "m": {"acc": 0.9, "loss": "nan"}}\\n')
ix.refresh()  # a live append: held in memory, its summary left for the next filter
assert ix.run("crash").summary["acc"] == 0.9
if sys.argv[3] == "written":
    ix._write_behind()  # the append reached the cache file before the end
os._exit(0)  # no close(): as if the viewer were killed
"""


def test_summaries_left_pending_by_a_killed_viewer_are_rewritten(root: Path, write_run) -> None:
    recs = [(s, float(s), {"acc": 0.1, "loss": 1.0}) for s in range(3)]
    d = write_run(root, "crash", records=recs)
    with Index(root) as ix:
        ix.refresh()
        assert ix.runs(filter="acc>0.5") == []
    r = subprocess.run(
        [sys.executable, "-c", CRASHING_VIEWER, str(root), str(d), "written"], capture_output=True
    )
    assert r.returncode == 0, r.stderr.decode()
    with Index(root) as ix:
        assert ix.scan() == set()
        assert ix.ingest() == set()  # nothing new on disk: the cache is used as is
        # The stats came back from the cache (NaN kept), and the filter sees them.
        assert ix.run("crash").steps == 4
        assert ix.run("crash").summary["acc"] == 0.9
        assert math.isnan(ix.run("crash").summary["loss"])
        assert [r.id for r in ix.runs(filter="acc>0.5")] == ["crash"]


def test_live_appends_held_by_a_killed_viewer_are_read_again(root: Path, write_run) -> None:
    recs = [(s, float(s), {"acc": 0.1, "loss": 1.0}) for s in range(3)]
    d = write_run(root, "crash", records=recs)
    with Index(root) as ix:
        ix.refresh()
    r = subprocess.run(
        [sys.executable, "-c", CRASHING_VIEWER, str(root), str(d), "held"], capture_output=True
    )
    assert r.returncode == 0, r.stderr.decode()
    with Index(root) as ix:
        ix.scan()
        # The cache stops where the last write ended; the files are the truth.
        assert ix.ingest() == {"crash"}
        assert ix.run("crash").steps == 4
        assert ix.points("crash", "acc")[0].tolist() == [0, 1, 2, 3]  # none lost, none twice
        assert [r.id for r in ix.runs(filter="acc>0.5")] == ["crash"]


def test_damaged_cache_is_rebuilt(root: Path, write_run) -> None:
    write_run(root, "dc", records=[(0, 1.0, {"a": 1.0})])
    (root / ".trackui").mkdir()
    (root / ".trackui" / "index.duckdb").write_bytes(b"this is not a database" * 100)
    with Index(root) as ix:
        ix.refresh()
        assert ix.points("dc", "a")[2].tolist() == [1.0]
        assert ix.storage in ("root", "user")


def test_second_viewer_on_the_same_root(root: Path, write_run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_run(root, "two", records=[(0, 1.0, {"a": 1.0})])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from trackui.store.index import Index
                ix = Index(Path({str(root)!r}))
                ix.refresh()
                print(ix.storage, flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "root"
        with Index(root) as ix:
            assert ix.storage == "user"
            assert any("in use by another viewer" in n for n in ix.notes)
            ix.refresh()
            assert ix.points("two", "a")[2].tolist() == [1.0]
    finally:
        holder.communicate("", timeout=30)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_root(root: Path, write_run, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_run(root, "ro", records=[(0, 1.0, {"a": 1.0})])
    os.chmod(root, 0o555)
    try:
        with Index(root) as ix:
            assert ix.storage == "user"
            ix.refresh()
            assert ix.points("ro", "a")[2].tolist() == [1.0]
    finally:
        os.chmod(root, 0o755)


# ------------------------------------------------------------------- live tail


WRITER = """
import sys, time, trackui
run = trackui.init(project="live", name="writer", dir=sys.argv[1])
print(run.id, flush=True)
for s in range(int(sys.argv[2])):
    run.log({"v": float(s), "w": s * 2.0})
    if s % 50 == 0:
        time.sleep(0.01)
run.finish()
"""


def test_live_ingest_while_a_writer_appends(root: Path) -> None:
    n = 3000
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(n)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    seen_partial = False
    with Index(root, cache=False) as ix:
        deadline = time.time() + 60
        while proc.poll() is None and time.time() < deadline:
            ix.refresh()
            if run_id in {r.id for r in ix.runs()}:
                k = len(ix.points(run_id, "v")[2])
                seen_partial = seen_partial or 0 < k < n
            time.sleep(0.005)
        proc.wait(timeout=30)
        ix.refresh()
        _step, _t, v = ix.points(run_id, "v")
        # none lost, none twice, in order
        assert v.tolist() == [float(s) for s in range(n)]
        cur = ix._db.con.cursor()
        assert cur.execute("SELECT count(*) FROM points").fetchone()[0] == 2 * n
        row = ix.run(run_id)
        assert (row.steps, row.last_step, row.state) == (n, n - 1, "finished")
    assert seen_partial


def test_progress_and_cancel(root: Path, write_run, force_bulk) -> None:
    import threading

    for i in range(3):
        write_run(
            root,
            f"p{i}",
            stamp=f"20231114_22132{i}",
            records=[(s, 1.0, {"a": s}) for s in range(10)],
        )
    seen = []
    with Index(root, cache=False) as ix:
        ix.scan()
        ev = threading.Event()
        ev.set()
        ix.ingest(cancel=ev)
        assert ix.loaded[0] < 3
        ix.ingest(progress=lambda a, b: seen.append((a, b)))
        assert ix.loaded == (3, 3)
    assert seen[-1] == (3, 3)


def test_hostile_strings_stay_data(root: Path, write_run) -> None:
    nasty = "[/]'; DROP TABLE runs; --\x1b[31m"
    write_run(root, "hx", name=nasty, config={nasty: nasty}, tags=[nasty])
    with Index(root, cache=False) as ix:
        ix.scan()
        assert ix.runs()[0].name == nasty
        assert [r.id for r in ix.runs(f'name:"{nasty}"')] == ["hx"]
        assert [r.id for r in ix.runs(f'tag:"{nasty}"')] == ["hx"]
        assert len(ix.runs()) == 1


def test_loaded_counts_and_values_before_ingest(root: Path, write_run) -> None:
    write_run(root, "l1", records=[(0, 1.0, {"a": np.float64(1.0).item()})])
    with Index(root, cache=False) as ix:
        ix.scan()
        assert ix.loaded == (0, 1)
        row = ix.run("l1")
        assert (row.steps, row.last_step) == (0, None)
        ix.ingest()
        assert ix.loaded == (1, 1)


def test_unwritable_cache_place_falls_back(
    root: Path, write_run, tmp_path: Path, monkeypatch
) -> None:
    # Works as any user (root ignores read-only permissions): a file where the
    # cache directory should be makes <root>/.trackui unusable, and a file
    # where the per-user cache directory should be makes that unusable too.
    write_run(root, "fb", records=[(0, 1.0, {"a": 1.0})])
    (root / ".trackui").write_text("not a directory")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "trackui").write_text("not a directory either")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    with Index(root) as ix:
        assert ix.storage == "temp"
        assert len(ix.notes) == 2
        ix.refresh()
        assert ix.points("fb", "a")[2].tolist() == [1.0]
    (cache / "trackui").unlink()
    with Index(root) as ix:
        assert ix.storage == "user"
        ix.refresh()
        assert ix.points("fb", "a")[2].tolist() == [1.0]


@pytest.mark.parametrize("layout", ["wide", "points"])
def test_bulk_load_keeps_file_order_across_many_files(
    root: Path, write_run, force_bulk, monkeypatch, layout: str
) -> None:
    # Several files in one read_json query, big enough for DuckDB to split
    # them over threads: every run's rows must stay in file order, a row per
    # record (wide2) or a row per value (points).
    force_layout(monkeypatch, layout)
    for i in range(3):
        recs = [(s, float(s), {"a": float(s), "b": -float(s)}) for s in range(50_000)]
        write_run(root, f"o{i}", stamp=f"20231114_22132{i}", records=recs)
    with Index(root, cache=False) as ix:
        ix.refresh()
        cur = ix._db.con.cursor()
        assert _stored(ix, "wide_cols") == (6 if layout == "wide" else 0)
        assert _stored(ix) == (0 if layout == "wide" else 300_000)
        for run_id, r in ix._st.runs.items():
            for name, mid in ix._mids.items():
                if layout == "wide":
                    (col,) = cur.execute(
                        "SELECT col FROM wide_cols WHERE rid = ? AND mid = ?", [r.rid, mid]
                    ).fetchone()
                    q = f"SELECT step, v{col} AS v FROM wide2 WHERE rid = ? ORDER BY rowid"
                    got = cur.execute(q, [r.rid]).fetchnumpy()
                else:
                    got = cur.execute(
                        "SELECT step, v FROM points WHERE rid = ? AND mid = ? ORDER BY rowid",
                        [r.rid, mid],
                    ).fetchnumpy()
                assert len(got["step"]) == 50_000
                assert (np.diff(got["step"]) == 1).all()
                sign = 1.0 if name == "a" else -1.0
                assert (got["v"] == sign * got["step"]).all()
                step, _t, v = ix.points(run_id, name)
                assert step.tolist() == got["step"].tolist() and v.tolist() == got["v"].tolist()


def test_missing_root_is_not_created(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "not-yet"
    with Index(root) as ix:
        assert ix.refresh() == set()
        assert ix.runs() == []
        assert ix.warnings and "not a directory" in ix.warnings[0]
    assert not root.exists()


def test_queries_and_filters_while_refreshing(root: Path, write_run) -> None:
    import threading

    for i in range(20):
        write_run(root, f"c{i:02d}", stamp=f"20231114_2213{i:02d}", config={"lr": i / 10},
                  records=[(s, float(s), {"a": float(s)}) for s in range(200)])  # fmt: skip
    errors: list[BaseException] = []
    with Index(root, cache=False) as ix:
        stop = threading.Event()

        def query() -> None:
            try:
                while not stop.is_set():
                    ix.runs("lr>=0.5")
                    rows = ix.runs()
                    if rows:
                        ix.series([r.id for r in rows[:3]], ["a"])
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=query) for _ in range(2)]
        for t in threads:
            t.start()
        for _ in range(3):
            ix.refresh()
            for i in range(20, 23):
                write_run(root, f"c{i:02d}", stamp=f"20231114_2213{i:02d}", config={"lr": 1.0},
                          records=[(0, 1.0, {"a": 1.0})])  # fmt: skip
        ix.refresh()
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(ix.runs("lr>=0.5")) == 15 + 3


def test_loaded_counts_torn_and_missing_histories(root: Path, write_run) -> None:
    write_run(root, "torn", history=b'{"s":0,"t":1,"m":{"a":1}}\n{"s":1,"t":1,"m":{"a"')
    d = write_run(root, "nohist", stamp="20231114_221321")
    (d / "history.jsonl").unlink()
    with Index(root, cache=False) as ix:
        ix.scan()
        assert ix.loaded == (0, 2)
        ix.ingest()
        assert ix.loaded == (2, 2)
        assert ix.run("torn").steps == 1 and ix.run("nohist").steps == 0


def test_refresh_of_reported_directories_only(root: Path, write_run) -> None:
    recs = [(s, float(s), {"a": float(s)}) for s in range(5)]
    a = write_run(root, "ra", records=recs)
    b = write_run(root, "rb", records=recs)
    with Index(root, cache=False) as ix:
        ix.refresh()
        # Both grow, one is reported: only that one is looked at.
        for d in (a, b):
            with open(d / "history.jsonl", "ab") as f:
                f.write(b'{"s": 5, "t": 6.0, "m": {"a": 50.0}}\n')
        assert ix.refresh(dirs=[a]) == {"ra"}
        assert ix.run("ra").steps == 6 and ix.run("rb").steps == 5
        # A new run and a vanished one, reported: both seen; nothing else changes.
        c = write_run(root, "rc", records=recs)
        shutil.rmtree(a)
        assert ix.refresh(dirs=[str(a), str(c), str(root / "not-a-run")]) == {"ra", "rc"}
        assert sorted(r.id for r in ix.runs()) == ["rb", "rc"]
        assert ix.run("rb").steps == 5
        # Nothing reported: nothing read. A full refresh catches up.
        assert ix.refresh(dirs=[]) == set()
        assert ix.refresh() == {"rb"}
        assert ix.run("rb").steps == 6
        assert ix.points("rc", "a")[2].tolist() == [float(s) for s in range(5)]


def test_reported_runs_are_read_again_and_the_others_kept(root: Path, write_run) -> None:
    recs = [(s, 1_700_000_000.0 + s, {"a": float(s)}) for s in range(3)]
    a = write_run(root, "ra", state="running", records=recs)
    b = write_run(root, "rb", records=recs, stamp="20231114_221321")
    write_run(root, "far", state="running", host="elsewhere", stamp="20231114_221322")
    clock = [1_700_000_010.0]
    with Index(root, cache=False, now=lambda: clock[0]) as ix:
        ix.refresh()
        assert ix.run("far").state == "running"
        kept = ix._st.runs["rb"]
        # A reported run finishes: its files are read again, the others' entries kept.
        meta = json.loads((a / "meta.json").read_text())
        (a / "meta.json").write_text(json.dumps({**meta, "state": "finished", "exit_code": 0}))
        assert ix.refresh(dirs=[a]) == {"ra"}
        assert ix.run("ra").state == "finished" and ix._st.runs["rb"] is kept
        assert [r.id for r in ix.runs(sort=None)] == ["ra", "rb", "far"]
        # A running run not reported still has its state derived again.
        clock[0] += 10**6
        assert ix.refresh(dirs=[b]) == {"far"}
        assert ix.run("far").state == "crashed"
        # A reported run now naming another id: one run gone, one new.
        meta = json.loads((a / "meta.json").read_text())
        (a / "meta.json").write_text(json.dumps({**meta, "id": "ra2", "name": "renamed"}))
        assert ix.refresh(dirs=[a]) == {"ra", "ra2"}
        assert sorted(r.id for r in ix.runs()) == ["far", "ra2", "rb"]
        assert ix.points("ra2", "a")[2].tolist() == [0.0, 1.0, 2.0]


def _many_runs(root: Path, write_run) -> list[str]:
    """Runs with two sets of metric names, duplicated steps, text values and damage."""
    ids = []
    for i in range(9):
        recs = []
        keys = ("a", "b") if i % 3 else ("a", "c", "d")
        for s in range(400 + 37 * i):
            recs.append(
                (s, 1000.0 + s / 2, {k: float(s * (j + 1) + i) for j, k in enumerate(keys)})
            )
            if i == 4 and s == 100:
                recs.append((s, 1000.0 + s, {"a": -1.0}))  # same step again: replaces
        rid = f"m{i}"
        if i == 7:
            lines = [
                json.dumps({"s": s, "t": t, "m": m}).encode() for s, t, m in recs
            ]  # a damaged line in the middle: this file goes the exact way
            lines.insert(200, b'{"s": 5, "t": 1.0, "m": {"a": ')
            write_run(root, rid, stamp=f"20231114_2213{i:02d}", history=b"\n".join(lines) + b"\n")
        else:
            if i == 5:
                recs[10] = (*recs[10], {"note": "hello"})
            write_run(root, rid, stamp=f"20231114_2213{i:02d}", records=recs)
        ids.append(rid)
    return ids


def _everything(ix: Index, ids: list[str]) -> dict:
    out = {}
    for rid in ids:
        row = ix.run(rid)
        names = sorted(m.name for m in ix.metrics([rid]))
        out[rid] = (
            (row.steps, row.last_step, row.warnings),
            {n: [a.tolist() for a in ix.points(rid, n)] for n in names},
            {m.name: m.steps[rid] for m in ix.metrics([rid])},
            ix.text_values(rid),
        )
    return out


@pytest.mark.parametrize("layout", ["wide", "points"])
def test_bulk_batches_agree_with_exact(root: Path, write_run, monkeypatch, layout: str) -> None:
    # Batches of two files, two sets of metric names, a file that fails a check.
    force_layout(monkeypatch, layout)
    ids = _many_runs(root, write_run)
    monkeypatch.setattr(loading_mod, "BATCH_FILES", 2)
    got = {}
    for mode, size in (("bulk", 1), ("exact", 1 << 60)):
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", size)
        with Index(root, cache=False) as ix:
            ix.refresh()
            assert ix.loaded == (9, 9)
            got[mode] = _everything(ix, ids)
    assert got["bulk"] == got["exact"]
    assert got["bulk"]["m4"][1]["a"][2][100] == -1.0
    assert got["bulk"]["m5"][3] == {"note": "hello"}
    assert got["bulk"]["m7"][0][2]  # the damaged line is a warning


def _many_runs_then_bulk(root: Path, write_run, monkeypatch) -> tuple[list[str], dict]:
    """:func:`_many_runs` loaded the exact way (what a bulk load must give), then
    every whole file sent the bulk way, in batches of two."""
    ids = _many_runs(root, write_run)
    monkeypatch.setattr(loading_mod, "BATCH_FILES", 2)
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 << 60)
    with Index(root, cache=False) as ix:
        ix.refresh()
        want = _everything(ix, ids)
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)
    return ids, want


def test_bulk_batches_are_staged_while_the_last_is_written(
    root: Path, write_run, monkeypatch
) -> None:
    # The next batch is parsed in a thread while the last one is written:
    # the spans overlap, and what is loaded is what the exact path loads.
    import threading

    ids, want = _many_runs_then_bulk(root, write_run, monkeypatch)
    spans: dict[str, list[tuple[float, float, str]]] = {"stage": [], "write": []}
    real_stage, real_load = loading_mod.stage_bulk, loading_mod.load_bulk

    def timed(kind: str, fn):
        def run(*args, **kw):
            t0 = time.perf_counter()
            try:
                if kind == "write":
                    time.sleep(0.05)  # room for the next batch to be staged meanwhile
                elif threading.current_thread().name != "MainThread":
                    # A longer parse: its cursor stays busy while a batch is written.
                    args[0].execute("SELECT sum(i) FROM range(20000000) t(i)").fetchall()
                return fn(*args, **kw)
            finally:
                spans[kind].append((t0, time.perf_counter(), threading.current_thread().name))

        return run

    monkeypatch.setattr(loading_mod, "stage_bulk", timed("stage", real_stage))
    monkeypatch.setattr(loading_mod, "load_bulk", timed("write", real_load))
    with Index(root, cache=True) as ix:
        ix.refresh()
        assert ix.loaded == (9, 9)
        assert _everything(ix, ids) == want
        cur = ix._db.con.cursor()
        left = cur.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = '_bulk'")
        assert left.fetchone()[0] == 0  # every staged batch dropped
    # The batch DuckDB refused (m7's damaged line) is staged again once, here.
    threads = [name for *_, name in spans["stage"]]
    assert threads.count("MainThread") == 1
    assert len(threads) == len(spans["write"]) + 2
    assert set(threads) == {"trackui-stage_0", "MainThread"}
    assert any(s0 < w1 and w0 < s1 for s0, s1, _ in spans["stage"] for w0, w1, _ in spans["write"])


def test_bulk_load_cancelled_between_batches_resumes(root: Path, write_run, monkeypatch) -> None:
    import threading

    ids, want = _many_runs_then_bulk(root, write_run, monkeypatch)
    with Index(root, cache=True) as ix:
        ix.scan()
        ev = threading.Event()
        seen = []

        def progress(done: int, total: int) -> None:
            seen.append(done)
            if done >= 2:
                ev.set()

        ix.ingest(cancel=ev, progress=progress)
        assert 0 < ix.loaded[0] < 9
    with Index(root, cache=True) as ix:  # what was loaded stays loaded; the rest follows
        ix.refresh()
        assert ix.loaded == (9, 9)
        assert _everything(ix, ids) == want


def _append(run_dir: Path, *records: tuple[int, float]) -> None:
    with open(run_dir / "history.jsonl", "a") as f:
        for step, v in records:
            f.write(json.dumps({"s": step, "t": float(step), "m": {"a": v}, "x": {"n": str(v)}}))
            f.write("\n")


def _stored(ix: Index, table: str = "points") -> int:
    return ix._db.con.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_live_appends_are_answered_at_once_and_written_behind(root: Path, write_run) -> None:
    d = write_run(
        root, "live", state="running", records=[(0, 0.0, {"a": 0.0}), (1, 1.0, {"a": 1.0})]
    )
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert _stored(ix) == 2
        ix.series(["live"], ["a"], smoothing="none", buckets=10)  # its points are cached
        _append(d, (2, 2.0), (3, 3.0))
        assert ix.refresh([d]) == {"live"}
        # In the state and the curves at once (the cached points grow); not
        # yet in DuckDB.
        assert ix.run("live").steps == 4 and ix.run("live").summary["a"] == 3.0
        assert ix.text_values("live") == {"n": "3.0"}
        (s,) = ix.series(["live"], ["a"], smoothing="none", buckets=10)
        assert s.raw.tolist() == [0.0, 1.0, 2.0, 3.0]
        assert _stored(ix) == 2
        assert [r.id for r in ix.runs(filter="a>2.5")] == ["live"]
        # A read of the points writes them first; a second write adds nothing.
        assert ix.points("live", "a")[2].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert (_stored(ix), _stored(ix, "texts")) == (4, 2)
        ix._write_behind()
        assert (_stored(ix), _stored(ix, "texts")) == (4, 2)
        assert ix.history_table(["live"]).num_rows == 4


def test_live_appends_are_written_after_a_while(root: Path, write_run, monkeypatch) -> None:
    d = write_run(root, "live", state="running", records=[(0, 0.0, {"a": 0.0})])
    with Index(root, cache=False) as ix:
        ix.refresh()
        monkeypatch.setattr(writes_mod, "WRITE_BEHIND_S", 0.0)
        _append(d, (1, 1.0))
        ix.refresh([d])
        assert _stored(ix) == 2


def test_live_appends_held_then_file_rewritten_or_run_gone(root: Path, write_run) -> None:
    d = write_run(root, "live", state="running", records=[(0, 0.0, {"a": 0.0})])
    gone = write_run(root, "gone", state="running", stamp="20231114_221321",
                     records=[(0, 0.0, {"a": 5.0})])  # fmt: skip
    with Index(root, cache=False) as ix:
        ix.refresh()
        _append(d, (1, 1.0), (2, 2.0))
        _append(gone, (1, 6.0))
        ix.refresh()
        # The history is replaced by a shorter one, the other run vanishes:
        # nothing held for either may reach DuckDB afterwards.
        (d / "history.jsonl").write_text(json.dumps({"s": 7, "t": 7.0, "m": {"a": 7.0}}) + "\n")
        shutil.rmtree(gone)
        ix.refresh()
        assert ix.points("live", "a")[0].tolist() == [7]
        cur = ix._db.con.cursor()
        assert cur.execute("SELECT step, v FROM points ORDER BY step").fetchall() == [(7, 7.0)]
        assert _stored(ix, "texts") == 0


def test_bulk_layout_follows_how_full_the_records_are(root: Path, write_run, force_bulk) -> None:
    # Records holding every metric: a row each. A metric per record (four
    # records a step): a row per value, as a row per record would be mostly NULLs.
    dense = [(s, float(s), {"a": 1.0, "b": 2.0, "c": 3.0}) for s in range(300)]
    sparse = [(s, float(s), {k: 1.0}) for s in range(300) for k in ("a", "b", "c", "d")]
    write_run(root, "dense", records=dense)
    write_run(root, "sparse", stamp="20231114_221321", records=sparse)
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert (_stored(ix, "wide3"), _stored(ix)) == (300, 1200)
        assert [len(ix.points(r, "c")[0]) for r in ("dense", "sparse")] == [300, 300]


def test_a_bulk_loaded_run_grows_is_rewritten_and_goes(root: Path, write_run, force_bulk) -> None:
    # Loaded a row per record, then appended to line by line: read back as one
    # history in file order (the appended value of a step already loaded
    # wins); a rewritten file or a vanished run leaves none of its rows.
    recs = [(s, float(s), {"a": float(s), "b": 2.0 * s}) for s in range(2000)]
    d = write_run(root, "grow", state="running", records=recs)
    other = write_run(root, "other", stamp="20231114_221321", records=recs)
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert (_stored(ix, "wide2"), _stored(ix, "wide_cols"), _stored(ix)) == (4000, 4, 0)
        _append(d, (1999, -1.0), (2000, 2000.0))
        ix.refresh([d])
        step, _t, v = ix.points("grow", "a")
        assert step.tolist() == list(range(2001))
        assert v[1997:].tolist() == [1997.0, 1998.0, -1.0, 2000.0]
        assert ix.points("grow", "b")[2].tolist() == [2.0 * s for s in range(2000)]
        assert _stored(ix) == 2  # the appended values, a row each
        (s,) = ix.series(["grow"], ["a"], smoothing="none", buckets=5000)
        assert s.raw.tolist() == v.tolist()
        (d / "history.jsonl").write_text(json.dumps({"s": 7, "t": 7.0, "m": {"a": 7.0}}) + "\n")
        ix.refresh()
        assert [a.tolist() for a in ix.points("grow", "a")] == [[7], [7.0], [7.0]]
        assert ix.points("grow", "b")[0].tolist() == []
        assert (_stored(ix, "wide2"), _stored(ix)) == (2000, 0)  # the other run's
        shutil.rmtree(other)
        ix.refresh()
        assert (_stored(ix, "wide2"), _stored(ix, "wide_cols")) == (0, 1)


def test_live_appends_held_are_written_on_close(root: Path, write_run) -> None:
    d = write_run(root, "live", state="running", records=[(0, 0.0, {"a": 0.0})])
    with Index(root) as ix:
        ix.refresh()
        _append(d, (1, 1.0), (2, 2.0))
        ix.refresh([d])
        assert _stored(ix) == 1
    with Index(root) as ix:
        assert ix.scan() == set()
        assert ix.ingest() == set()  # the cache holds everything on disk
        assert ix.points("live", "a")[2].tolist() == [0.0, 1.0, 2.0]
        assert ix.run("live").steps == 3


def test_a_history_shorter_than_its_head_grows_without_a_reload(
    root: Path, write_run, monkeypatch
) -> None:
    d = write_run(root, "short", state="running", records=[(0, 0.0, {"a": 0.0})])
    assert (d / "history.jsonl").stat().st_size < 64
    resets: list[list[int]] = []
    apply = Index._apply

    def spy(self: Index, got, reset: list[int], *a, **kw) -> None:  # type: ignore[no-untyped-def]
        resets.extend(reset)
        apply(self, got, reset, *a, **kw)

    monkeypatch.setattr(Index, "_apply", spy)
    with Index(root, cache=False) as ix:
        ix.refresh()
        for step in (1, 2):
            _append(d, (step, float(step)))
            ix.refresh([d])
        assert resets == []  # read on from its offset each time
        assert ix.points("short", "a")[0].tolist() == [0, 1, 2]
        # A file rewritten from its first byte still reads again from there.
        (d / "history.jsonl").write_text(json.dumps({"s": 9, "t": 9.0, "m": {"a": 9.0}}) + "\n")
        ix.refresh([d])
        assert len(resets) == 1
        assert ix.points("short", "a")[0].tolist() == [9]


def test_duckdb_is_opened_after_the_first_scan_when_there_is_no_cache(
    root: Path, write_run
) -> None:
    write_run(root, "a", records=[(s, float(s), {"x": float(s)}) for s in range(5)])
    with Index(root) as ix:
        assert ix.scan() == {"a"}
        assert ix._opened is None  # the run table needs no DuckDB
        assert [r.id for r in ix.runs()] == ["a"]
        # Meanwhile another viewer makes the cache file, with its own rows.
        write_run(root, "b", stamp="20231114_221321", records=[(0, 0.0, {"x": 9.0})])
        with Index(root) as other:
            other.refresh()
        assert ix.ingest() == {"a"}
        assert ix.storage == "root"
        # This index's own state only, read from the files: nothing of the
        # other viewer's rows (its ids would clash with this one's).
        assert ix.points("a", "x")[2].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert _stored(ix) == 5
        assert ix.refresh() == {"b"}
        assert ix.points("b", "x")[2].tolist() == [9.0]
    with Index(root) as ix:
        assert ix.scan() == set() and ix.ingest() == set()  # its cache is whole
        assert sorted(r.id for r in ix.runs()) == ["a", "b"]


@pytest.fixture
def boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A boot id file of the test's own (``db_sync.BOOT_ID``), holding ``boot-1``."""
    from trackui.store import db_sync as db

    path = tmp_path / "boot_id"
    path.write_text("boot-1\n")
    monkeypatch.setattr(db, "BOOT_ID", path)
    return path


def _fsync_mode(ix: Index) -> str:
    return ix._cur().execute("SELECT current_setting('fsync_mode')").fetchone()[0]


def test_a_bulk_load_writes_unsynced_behind_a_marker(
    root: Path, write_run, force_bulk, boot: Path
) -> None:
    for i in range(3):
        write_run(root, f"u{i}", stamp=f"20231114_22132{i}", records=[(0, 1.0, {"a": float(i)})])
    marker = root / ".trackui" / "index.duckdb.unsynced"
    during = []
    with Index(root) as ix:
        ix.scan()
        ix.ingest(
            progress=lambda a, b: during.append(
                (marker.exists() and marker.read_text(), _fsync_mode(ix))
            )
        )
        assert during[0] == (False, "STANDARD")  # (before the batches)
        assert during[-1] == ("boot-1", "NONE")  # (after the last one)
        assert _fsync_mode(ix) == "STANDARD"  # live appends are synced again
        ix._db.syncing.join()
        assert not marker.exists()  # synced after the load, in a thread


def test_a_bulk_load_stopped_part_way_closes_without_syncing(
    root: Path, write_run, boot: Path, monkeypatch
) -> None:
    import threading

    from trackui.store import db_sync as db

    ids = _many_runs(root, write_run)
    monkeypatch.setattr(loading_mod, "BATCH_FILES", 2)
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)
    synced: list[Path] = []
    real_sync = db._sync_files
    monkeypatch.setattr(db, "_sync_files", lambda p: (synced.append(p), real_sync(p)))
    marker = root / ".trackui" / "index.duckdb.unsynced"
    with Index(root) as ix:  # a viewer quitting while its first load runs
        ix.scan()
        ev = threading.Event()
        ix.ingest(cancel=ev, progress=lambda done, total: done >= 2 and ev.set())
        assert 0 < ix.loaded[0] < 9
        assert ix._db.syncing is None and _fsync_mode(ix) == "NONE"
    assert marker.exists() and synced == []  # closing did not wait for the disk
    with Index(root) as ix:  # the next open in this boot syncs, then goes on
        assert not marker.exists() and len(synced) == 1
        ix.refresh()
        assert ix.loaded == (9, 9)
        assert sorted(r.id for r in ix.runs()) == sorted(ids)
        ix._db.syncing.join()
    assert not marker.exists()


def test_an_index_left_unsynced_is_kept_in_the_same_boot_and_rebuilt_after_a_restart(
    root: Path, write_run, boot: Path
) -> None:
    write_run(root, "k", records=[(s, float(s), {"a": float(s)}) for s in range(5)])
    with Index(root) as ix:
        ix.refresh()
    marker = root / ".trackui" / "index.duckdb.unsynced"
    # A viewer killed before its sync (the kernel still has every write).
    marker.write_text("boot-1")
    with Index(root) as ix:
        assert not marker.exists()  # synced once this viewer held the file
        assert ix.scan() == set() and ix.ingest() == set()  # the cache was used
        assert ix.points("k", "a")[2].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    # The machine went down after unsynced writes: the cache is not trusted.
    marker.write_text("boot-1")
    boot.write_text("boot-2\n")
    with Index(root) as ix:
        assert any("not synced before the machine restarted" in n for n in ix.notes)
        assert ix.storage == "root"
        assert ix.scan() == {"k"}  # everything read again from the files
        ix.ingest()
        assert ix.points("k", "a")[2].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert not marker.exists()


def test_a_temporary_index_never_syncs(root: Path, write_run, monkeypatch) -> None:
    write_run(root, "t", records=[(0, 1.0, {"a": 1.0})])
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert ix.storage == "temp"
        assert _fsync_mode(ix) == "NONE"
    with Index(root) as ix:
        ix.refresh()
        assert ix.storage == "root"
        assert _fsync_mode(ix) == "STANDARD"


@pytest.mark.parametrize("path", ["bulk", "exact"])
def test_a_record_without_time_reads_back_as_nan(
    root: Path, write_run, path: str, monkeypatch
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if path == "bulk" else 1 << 60)
    lines = [
        b'{"s":0,"t":10.0,"m":{"a":1.0}}',
        b'{"s":1,"m":{"a":2.0}}',
        b'{"s":2,"t":12.0,"m":{"a":3.0}}',
    ]
    write_run(root, "not", history=b"\n".join(lines) + b"\n")
    with Index(root) as ix:
        ix.refresh()
        step, t, v = ix.points("not", "a")
        assert step.tolist() == [0, 1, 2] and v.tolist() == [1.0, 2.0, 3.0]
        assert t[0] == 10.0 and math.isnan(t[1]) and t[2] == 12.0
        assert not t.flags.writeable
        (s,) = ix.series(["not"], ["a"], x="wall", smoothing="none", buckets=10)
        assert s.x.tolist() == [10.0, 12.0] and s.points == 2  # no time, no place on that axis


def test_the_duckdb_settings_the_index_uses_exist() -> None:
    import re

    import duckdb

    from trackui.store import db

    # A setting DuckDB does not know fails every open of the index: the
    # version pinned in pyproject.toml must have them all.
    used = set(re.findall(r"\bSET (\w+)\s*=", Path(db.__file__).read_text()))
    assert {"fsync_mode", "block_allocator_memory", "memory_limit"} <= used
    known = {
        r[0] for r in duckdb.connect().execute("SELECT name FROM duckdb_settings()").fetchall()
    }
    assert used <= known, used - known


def test_one_sorter_for_the_run_table_and_the_index(root: Path, write_run) -> None:
    from trackui.store.sorting import sort_rows

    write_run(root, "r1", config={"opt": {"lr": 0.1}}, summary={"acc": 0.5}, start=3.0)
    write_run(
        root, "r2", config={"opt": {"lr": 0.01}}, summary={"acc": 0.9}, start=1.0,
        stamp="20231114_221321",
    )  # fmt: skip
    write_run(root, "r3", config={}, summary={"acc": "nan"}, start=2.0, stamp="20231114_221322")
    with Index(root, cache=False) as ix:
        ix.scan()
        rows = ix.runs(sort=None)
        ids = lambda rows: [r.id for r in rows]  # noqa: E731
        # The run table's column names, the index's field names: one order, one NaN rule.
        for table, field in (("summary:acc", "summary.acc"), ("config:opt/lr", "config.opt/lr")):
            for descending in (True, False):
                assert ids(sort_rows(rows, table, descending, 0.0)) == ids(
                    ix.runs(sort=field, descending=descending)
                )
        assert ids(sort_rows(rows, "summary:acc", True, 0.0)) == ["r3", "r2", "r1"]
        assert ids(sort_rows(rows, "summary:acc", False, 0.0)) == ["r1", "r2", "r3"]
        assert ids(sort_rows(rows, "config:opt/lr", True, 0.0))[-1] == "r3"  # missing last
        assert ids(sort_rows(rows, "config:opt/lr", False, 0.0))[-1] == "r3"
        assert ids(sort_rows(rows, "created", True, 0.0)) == ids(ix.runs())
        assert ids(ix.runs(sort="runtime")) == ids(ix.runs(sort="runtime_s"))
        # An unknown column (a stale preference) leaves the order as it was.
        assert ids(sort_rows(rows, "bogus", True, 0.0)) == ids(rows)
