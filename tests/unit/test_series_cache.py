"""The index answers repeated curve queries from a cache that never goes stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

import trackui
from trackui.store.index import Index


def test_cached_curves_follow_appends_and_rewrites(root: Path) -> None:
    run = trackui.init(dir=root, id="r1")
    for i in range(10):
        run.log({"loss": float(i)})
    ix = Index(root, cache=False)
    ix.refresh()
    (first,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert first.points == 10 and first.raw[-1] == 9.0
    # A caller changing its arrays does not change the next answer.
    first.raw[:] = -1.0
    (again,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert again.raw[-1] == 9.0 and np.array_equal(again.raw, np.arange(10.0))
    # Appended points show up in the next answer for the same query.
    for i in range(10, 15):
        run.log({"loss": float(i)})
    run.finish()
    ix.refresh()
    (grown,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert grown.points == 15 and grown.raw[-1] == 14.0
    # So does a history file rewritten from scratch.
    history = run.run_dir / "history.jsonl"
    history.write_bytes(b'{"s":0,"t":1.0,"m":{"loss":7.0}}\n')
    ix.refresh()
    (rewritten,) = ix.series(["r1"], ["loss"], smoothing="none", buckets=100)
    assert rewritten.points == 1 and rewritten.raw[-1] == 7.0
    ix.close()


def _equal(a: object, b: object) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


def test_points_kept_for_new_strength_zoom_and_axis_give_the_same_curves(root: Path) -> None:
    # Two runs: consecutive steps, and steps with gaps and a rewrite (kept whole).
    a = trackui.init(dir=root, id="a")
    for i in range(3000):
        a.log({"loss": float(np.sin(i / 50)), "lr": 1.0 / (i + 1)})
    a.finish()
    b = trackui.init(dir=root, id="b")
    for i in range(0, 6000, 3):
        b.log({"loss": float(np.cos(i / 70))}, step=i)
    b.finish()
    ix = Index(root, cache=False)
    ix.refresh()
    fresh = Index(root, cache=False)
    fresh.refresh()
    for kw in (
        {"smoothing": "twema", "strength": 0.6},
        {"smoothing": "twema", "strength": 0.9},
        {"smoothing": "ema", "strength": 0.9, "x_range": (100.0, 2500.0)},
        {"smoothing": "twema", "strength": 0.5, "x": "relative"},
        {"smoothing": "twema", "strength": 0.5, "x": "lr"},
    ):
        got = ix.series(["a", "b"], ["loss"], buckets=64, **kw)
        fresh._points.clear()
        fresh._curves.clear()
        want = fresh.series(["a", "b"], ["loss"], buckets=64, **kw)
        for g, w in zip(got, want, strict=True):
            assert g.points == w.points
            assert _equal((g.x, g.y, g.raw, g.lo, g.hi), (w.x, w.y, w.raw, w.lo, w.hi))
    assert ix._points.nbytes > 0
    ix.close()
    fresh.close()


def test_points_cache_follows_data_and_keeps_within_its_budget(root: Path) -> None:
    run = trackui.init(dir=root, id="r")
    for i in range(1000):
        run.log({"loss": float(i)})
    ix = Index(root, cache=False)
    ix.refresh()
    (s,) = ix.series(["r"], ["loss"], smoothing="none", buckets=10)
    assert s.raw[-1] == 999.0
    # Consecutive steps are kept as their first value: only the values count.
    assert ix._points.nbytes == 1000 * 8
    for i in range(1000, 1010):
        run.log({"loss": float(i)})
    run.finish()
    ix.refresh()
    (s,) = ix.series(["r"], ["loss"], smoothing="none", buckets=10)
    assert s.points == 1010 and s.raw[-1] == 1009.0
    cache = ix._points
    ix._write_behind()  # the live appends held in memory reach DuckDB (as before a miss)
    cur = ix._cur()
    rid, mid = ix._st.runs["r"].rid, ix._mids["loss"]
    step, _, v = cache.points(cur, rid, mid, False, "stamp", 1)
    assert not v.flags.writeable and not step.flags.writeable
    assert step.tolist() == list(range(1010))
    # The time column is read when asked for, and replaces the entry.
    _, t, _ = cache.points(cur, rid, mid, True, "stamp", 2)
    assert len(t) == 1010 and cache.nbytes == 1010 * 16
    # Over budget: entries of the same request stay, the newcomer is not kept.
    cache.max_bytes = 1010 * 16
    cache.points(cur, rid, ix._mids["loss"] + 99, False, "stamp", 2)  # no such metric: 0 bytes
    assert cache.nbytes == 1010 * 16
    cache.max_bytes = 100
    cache.points(cur, rid, mid, False, "other stamp", 3)
    assert cache.nbytes == 0
    # Entries no recent request used are dropped.
    cache.max_bytes = 1 << 20
    cache.points(cur, rid, mid, False, "stamp", 4)
    assert cache.nbytes == 1010 * 8
    cache.points(cur, rid, mid + 99, False, "stamp", 4 + cache.keep_ticks)
    assert cache.nbytes == 1010 * 8
    cache.points(cur, rid, mid + 99, False, "stamp", 5 + cache.keep_ticks)
    assert cache.nbytes == 0
    ix.close()


def test_known_consecutive_steps_skip_the_step_column_only_when_exact(root: Path) -> None:
    from trackui.store.points import fetch_points

    run = trackui.init(dir=root, id="c")
    for i in range(50):
        run.log({"loss": float(i)}, step=i + 10)
    # The same step twice: 50 distinct steps 10..59 but 51 rows (the last wins).
    dup = trackui.init(dir=root, id="d", reinit=True)
    for i in range(50):
        dup.log({"loss": float(i)}, step=i + 10)
    dup.log({"loss": -1.0}, step=59)
    dup.finish()
    run.finish()
    ix = Index(root, cache=False)
    ix.refresh()
    cur = ix._cur()
    for rid_s, last in (("c", 49.0), ("d", -1.0)):
        rid = ix._st.runs[rid_s].rid
        mid = ix._mids["loss"]
        ms = ix._st.mstats[rid][mid]
        assert (ms.n, ms.first_step, ms.last_step) == (50, 10, 59)
        plain = fetch_points(cur, rid, mid)
        known = fetch_points(cur, rid, mid, span=(ms.n, ms.first_step, ms.last_step))
        assert _equal(plain, known)
        assert known[0].tolist() == list(range(10, 60)) and known[2][-1] == last
        # A stale span (fewer steps than the table now holds) reads the steps.
        stale = fetch_points(cur, rid, mid, span=(40, 10, 49))
        assert _equal(plain, stale)
    (s,) = ix.series(["d"], ["loss"], smoothing="none", buckets=100)
    assert s.points == 50 and s.raw[-1] == -1.0
    ix.close()


def _fresh(root: Path, ids: list[str], metrics: list[str], **kw: object) -> list[object]:
    with Index(root, cache=False) as ix:
        ix.refresh()
        return ix.series(ids, metrics, **kw)


def test_live_appends_extend_the_cached_points_and_curves_stay_exact(root: Path, write_run) -> None:
    # Hand-written appends of every kind a file can hold: consecutive steps,
    # a gap, a step logged again (the last value wins), a step going back.
    d = write_run(
        root, "live", records=[(s, float(s), {"a": float(s), "b": 1.0}) for s in range(20)]
    )
    history = d / "history.jsonl"
    appends = [
        [(s, {"a": float(s) * 2}) for s in range(20, 25)],  # consecutive: extended
        [(s, {"a": 1.5, "b": 2.0}) for s in range(25, 27)],
        [(30, {"a": 3.0})],  # a gap: read again
        [(31, {"a": 4.0}), (31, {"a": 5.0})],  # the same step twice: the last wins
        [(32, {"a": 6.0})],
        [(10, {"a": -1.0})],  # an old step again: its value changes
        [(33, {"b": 9.0})],
    ]
    ix = Index(root, cache=False)
    ix.refresh()
    kw = {"smoothing": "ema", "strength": 0.5, "buckets": 8}
    ix.series(["live"], ["a", "b"], **kw)
    rid, mid_a = ix._st.runs["live"].rid, ix._mids["a"]
    extended = 0
    for lines in appends:
        with open(history, "ab") as f:
            for s, m in lines:
                f.write(orjson.dumps({"s": s, "t": float(s), "m": m}) + b"\n")
        n_before = (
            len(ix._points._entries[(rid, mid_a)].v)
            if (rid, mid_a) in ix._points._entries
            else None
        )
        ix.refresh()
        entry = ix._points._entries.get((rid, mid_a))
        if entry is not None and n_before is not None and len(entry.v) > n_before:
            extended += 1
        got = ix.series(["live"], ["a", "b"], **kw)
        want = _fresh(root, ["live"], ["a", "b"], **kw)
        for g, w in zip(got, want, strict=True):
            assert g.points == w.points
            for x, y in zip(
                (g.x, g.y, g.raw, g.lo, g.hi), (w.x, w.y, w.raw, w.lo, w.hi), strict=True
            ):
                assert np.array_equal(x, y, equal_nan=True)
        for x_axis in ("wall", "relative"):  # the time column, extended too
            got = ix.series(["live"], ["a"], x=x_axis, **kw)
            want = _fresh(root, ["live"], ["a"], x=x_axis, **kw)
            assert np.array_equal(got[0].x, want[0].x) and np.array_equal(got[0].y, want[0].y)
    assert extended >= 2  # the consecutive appends did not read DuckDB again
    ix.close()


def test_read_ahead_fills_the_points_cache_within_its_room(root: Path, point_reads) -> None:
    import threading

    for name, n in (("a", 3000), ("b", 3000), ("c", 3000), ("short", 50)):
        run = trackui.init(dir=root, id=name)
        for i in range(n):
            run.log({"loss": float(np.sin(i / 40)), "acc": i / n})
        run.finish()
    ix = Index(root, cache=False)
    ix.refresh()
    reads = point_reads
    # The run charted now: its entry must survive what is read ahead.
    ix.series(["c"], ["loss"], buckets=32)
    assert len(reads) == 1
    # Room for three curves more of 3,000 points (8 bytes each): a's two,
    # then c's acc (its loss is held already); b's loss does not fit and
    # ends the read. The short run is skipped.
    ix._points.max_bytes = 4 * 3000 * 8
    reads.clear()
    got = ix.read_ahead(["short", "a", "c", "b"], ["loss", "acc"], min_points=1000)
    assert got == 3
    rid = {r: ix._st.runs[r].rid for r in "abc"}
    loss, acc = ix._mids["loss"], ix._mids["acc"]
    assert reads == [(rid["a"], loss), (rid["a"], acc), (rid["c"], acc)]
    assert ix._points.nbytes == 4 * 3000 * 8
    # What was read ahead is drawn without reading, and the same as read fresh.
    reads.clear()
    ahead = ix.series(["a", "c"], ["loss", "acc"], smoothing="ema", strength=0.7, buckets=32)
    assert reads == []
    fresh = Index(root, cache=False)
    fresh.refresh()
    want = fresh.series(["a", "c"], ["loss", "acc"], smoothing="ema", strength=0.7, buckets=32)
    for g, w in zip(ahead, want, strict=True):
        assert _equal((g.x, g.y, g.raw, g.lo, g.hi), (w.x, w.y, w.raw, w.lo, w.hi))
    fresh.close()
    # A second pass reads nothing again; a set event stops a pass at once;
    # an x axis in time reads the time column too (replacing the entries).
    reads.clear()
    assert ix.read_ahead(["a", "c"], ["loss", "acc"], min_points=1000) == 0 and reads == []
    stop = threading.Event()
    stop.set()
    ix._points.clear()
    assert ix.read_ahead(["a"], ["loss"], min_points=1000, cancel=stop) == 0 and reads == []
    assert ix.read_ahead(["a"], ["loss"], x="relative", min_points=1000) == 1
    assert ix._points.nbytes == 3000 * 16
    ix.close()


def test_sources_asked_at_once_are_those_asked_one_by_one(root: Path, write_run) -> None:
    import json

    from trackui.store.points import _sources, fetch_points, sources_of

    # A run in wide tables, loaded in three refreshes (three tables' worth of
    # places), one with more metrics than a wide table holds (rows per value),
    # and one that logs a metric only now and then.
    def record(run: str, i: int) -> dict:
        if run == "live":
            return {"loss": float(i), "acc": i / 200}
        if run == "many":
            return {f"m{k}": float(i * k) for k in range(40)}
        return {"loss": float(-i)} if i % 7 == 0 else {"lr": 0.1}

    dirs = {r: write_run(root, r, state="running", records=[]) for r in ("live", "many", "sparse")}
    ix = Index(root, cache=False)
    parts = [(0, 8000), (8000, 8040), (8040, 8080)]  # (a big file first: the bulk path's)
    for a, b in parts:
        for r, d in dirs.items():
            with open(d / "history.jsonl", "a") as f:
                for i in range(a, b):
                    f.write(json.dumps({"s": i, "t": 1.7e9 + i, "m": record(r, i)}) + "\n")
        ix.refresh()
    cur = ix._cur()
    pairs = [
        (ix._st.runs[r].rid, ix._mids[m])
        for r in ("live", "many", "sparse")
        for m in ("loss", "acc", "m3", "m39", "lr")
        if m in ix._mids
    ]
    got = sources_of(cur, pairs)
    assert set(got) == set(pairs)
    assert max(len(v) for v in got.values()) >= 2  # (wide tables and the points table)
    for rid, mid in pairs:
        assert got[(rid, mid)] == _sources(cur, rid, mid)
        one = fetch_points(cur, rid, mid)
        assert _equal(one, fetch_points(cur, rid, mid, sources=got[(rid, mid)]))
    # Asked through the index, curves of several runs read the same points.
    for s in ix.series(["live", "sparse"], ["loss"], smoothing="none", buckets=500):
        assert s.points == (8080 if s.run_id == "live" else len(range(0, 8080, 7)))
    ix.close()
