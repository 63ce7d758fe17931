"""Groups: keys, and a group's mean and band checked against a NumPy reference.

The reference below follows docs/groups.md ("Alignment") in plain loops over
the same data, written apart from ``store.groups``: each member smoothed on
its own finite points (TensorBoard's EMA), cut into the chart's buckets of the
group's span, carried as-of from its first to its last entry.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from trackui.store.group_curves import group_series
from trackui.store.groups import (
    BAND_STD,
    Group,
    group_runs,
    parse_keys,
    shared_config,
    state_counts,
    summary_means,
)
from trackui.store.index import Index

T0 = 1_700_000_000.0


def ref_ema(ys: list[float], w: float) -> list[float]:
    """TensorBoard's debiased EMA (finite values only)."""
    last, out = 0.0, []
    for n, y in enumerate(ys, start=1):
        last = last * w + (1 - w) * y
        out.append(last / (1 - w**n))
    return out


def ref_group(members: list[tuple[list[float], list[float]]], w: float, n: int):
    """Mean, std, min, max, count and x per grid point, for unbucketed members.

    Each member: its x and raw values (NaN: no finite value there). Every
    point is its own entry (members hold at most ``n`` points).
    """
    sm = []
    for _xs, ys in members:
        fin = [math.isfinite(y) for y in ys]
        smoothed = iter(ref_ema([y for y, f in zip(ys, fin, strict=True) if f], w))
        sm.append([next(smoothed) if f else math.nan for f in fin])
    fx = [x for (xs, ys) in members for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
    a, b = min(fx), max(fx)

    def bk(x: float) -> int:
        return min(int((x - a) / (b - a) * n), n - 1)

    # Each member's entries as (bucket, x or None for a gap, value).
    entries = []
    for (xs, ys), ss in zip(members, sm, strict=True):
        fb = [bk(x) if math.isfinite(y) else None for x, y in zip(xs, ys, strict=True)]
        es = []
        for i, (x, v) in enumerate(zip(xs, ss, strict=True)):
            if fb[i] is not None:
                es.append((fb[i], x, v))
            else:
                prev = max([f for f in fb[:i] if f is not None], default=-1)
                nxt = min([f for f in fb[i + 1 :] if f is not None], default=n)
                es.append((min(prev + 1, nxt), None, math.nan))
        entries.append(es)
    grid = sorted({k for es in entries for k, x, _ in es if x is not None})
    out = {k: [] for k in ("x", "mean", "std", "min", "max", "count")}
    for k in grid:
        vals = []
        for es in entries:
            last_fin = max((e[0] for e in es if e[1] is not None), default=-1)
            before = [e for e in es if e[0] <= k]
            if not before or k > last_fin:
                continue
            v = before[-1][2]
            if math.isfinite(v):
                vals.append(v)
        out["x"].append(max(e[1] for es in entries for e in es if e[0] == k and e[1] is not None))
        arr = np.array(vals)
        out["count"].append(len(vals))
        out["mean"].append(arr.mean() if len(vals) else math.nan)
        out["std"].append(arr.std() if len(vals) else math.nan)
        out["min"].append(arr.min() if len(vals) else math.nan)
        out["max"].append(arr.max() if len(vals) else math.nan)
    return {k: np.array(v, dtype=np.float64) for k, v in out.items()}


def _members(write_run, root, spec):
    """Write runs: spec is [(run_id, config, [(step, t, value)])]."""
    for i, (rid, config, pts) in enumerate(spec):
        recs = [(s, T0 + t, {"loss": "nan" if math.isnan(v) else v}) for s, t, v in pts]
        write_run(root, rid, config=config, records=recs, start=T0, stamp=f"2023111{i}_000000")


def _check(got, ref) -> None:
    assert np.allclose(got.x, ref["x"])
    assert np.array_equal(got.count, ref["count"])
    for k in ("mean", "std", "min", "max"):
        assert np.allclose(getattr(got, k), ref[k], equal_nan=True), k


def _index(root) -> Index:
    ix = Index(root)
    ix.scan()
    ix.ingest()
    return ix


def test_ragged_members_with_gaps_on_steps_match_the_reference(root, write_run) -> None:
    rng = np.random.default_rng(3)
    a = [(s, float(s), float(v)) for s, v in enumerate(rng.normal(1, 0.3, 60))]
    b = [(s, float(s), float(v)) for s, v in enumerate(rng.normal(2, 0.3, 35))]  # stops early
    c = [(s, float(s), float(v)) for s, v in enumerate(rng.normal(0, 0.3, 60)) if s % 3 == 0]
    b[10] = (10, 10.0, math.nan)
    b[11] = (11, 11.0, math.nan)
    c[5] = (c[5][0], c[5][1], math.nan)
    _members(write_run, root, [("a", {"lr": 1}, a), ("b", {"lr": 1}, b), ("c", {"lr": 1}, c)])
    with _index(root) as ix:
        groups = group_runs(ix.runs(sort="created", descending=False), ["lr"])
        assert [g.run_ids for g in groups] == [("a", "b", "c")]
        (got,) = group_series(ix, groups, ["loss"], smoothing="ema", strength=0.6, buckets=80)
    members = [([p[0] for p in m], [p[2] for p in m]) for m in (a, b, c)]
    ref = ref_group(members, 0.6, 80)
    _check(got, ref)
    assert ref["count"].max() == 3 and ref["count"].min() == 1  # ragged and gappy indeed


def test_members_on_a_time_axis_match_the_reference(root, write_run) -> None:
    rng = np.random.default_rng(7)
    spec = []
    members = []
    for i, length in enumerate((40, 25, 33)):
        ts = np.cumsum(rng.uniform(0.5, 2.0, length))
        vs = rng.normal(i, 1.0, length)
        vs[length // 2] = math.nan
        pts = [(s, float(t), float(v)) for s, (t, v) in enumerate(zip(ts, vs, strict=True))]
        spec.append((f"r{i}", {"arch": "cnn", "seed": i}, pts))
        members.append((ts.tolist(), vs.tolist()))
    _members(write_run, root, spec)
    with _index(root) as ix:
        groups = group_runs(ix.runs(sort="created", descending=False), ["arch"])
        (got,) = group_series(
            ix, groups, ["loss"], x="relative", smoothing="ema", strength=0.8, buckets=64
        )
    ref = ref_group(members, 0.8, 64)
    _check(got, ref)
    assert got.count.max() >= 2  # members share buckets on the time axis
    band = got.series(BAND_STD)
    assert np.allclose(band.lo, ref["mean"] - ref["std"], equal_nan=True)
    assert np.allclose(band.hi, ref["mean"] + ref["std"], equal_nan=True)
    mm = got.series()
    assert np.allclose(mm.lo, ref["min"], equal_nan=True)
    assert mm.run_id == groups[0].id


def test_long_members_are_drawn_alone_then_put_on_the_group_grid(root, write_run) -> None:
    """Members longer than the chart: each bucketed on its own span, entries placed by x."""
    rng = np.random.default_rng(11)
    n, w = 40, 0.9
    lengths = (1000, 700, 1000)
    runs = [rng.normal(i, 1.0, length) for i, length in enumerate(lengths)]
    spec = [
        (f"r{i}", {"k": 1}, [(s, float(s), float(v)) for s, v in enumerate(vs)])
        for i, vs in enumerate(runs)
    ]
    _members(write_run, root, spec)
    with _index(root) as ix:
        groups = group_runs(ix.runs(sort="created", descending=False), ["k"])
        (got,) = group_series(ix, groups, ["loss"], smoothing="ema", strength=w, buckets=n)
    # Each member alone: n buckets over its own steps, the last step of each.
    entries = []
    for vs in runs:
        sm = ref_ema(vs.tolist(), w)
        last = len(vs) - 1
        own: dict[int, int] = {}
        for s in range(len(vs)):
            own[min(int(s / last * n), n - 1)] = s
        entries.append([(s, sm[s]) for _, s in sorted(own.items())])
    a = min(e[0][0] for e in entries)
    b = max(e[-1][0] for e in entries)

    def bk(x: float) -> int:
        return min(int((x - a) / (b - a) * n), n - 1)

    grid = sorted({bk(x) for es in entries for x, _ in es})
    xs, means, counts = [], [], []
    for k in grid:
        xs.append(max(x for es in entries for x, _ in es if bk(x) == k))
        vals = []
        for es in entries:
            before = [v for x, v in es if bk(x) <= k]
            if before and k <= bk(es[-1][0]):
                vals.append(before[-1])
        means.append(np.mean(vals))
        counts.append(len(vals))
    assert np.allclose(got.x, xs)
    assert np.allclose(got.mean, means)
    assert np.array_equal(got.count, counts)
    assert min(counts) == 2 and max(counts) == 3  # the shorter member stops counting
    assert got.points == sum(lengths)


def test_group_keys_and_several_at_once(root, write_run) -> None:
    for i, (arch, lr, seed) in enumerate(
        [("cnn", 0.1, 0), ("cnn", 0.1, 1), ("cnn", 0.01, 0), ("mlp", 0.1, 0)]
    ):
        write_run(
            root,
            f"r{i}",
            config={"model": {"arch": arch}, "lr": lr, "seed": seed},
            summary={"acc": 0.5 + i / 10},
            stamp=f"2023111{i}_000000",
            group="g" if i < 2 else None,
            state="finished" if i else "failed",
        )
    with _index(root) as ix:
        rows = ix.runs(sort="created", descending=False)
    assert parse_keys(["model/arch,lr", "lr"]) == ("model/arch", "lr")
    with pytest.raises(ValueError):
        parse_keys(["a,,b"])
    gs = group_runs(rows, parse_keys(["model.arch", "lr"]))
    assert [g.run_ids for g in gs] == [("r0", "r1"), ("r2",), ("r3",)]
    assert gs[0].label == "model.arch=cnn lr=0.1"
    assert [g.run_ids for g in group_runs(rows, ["group"])] == [("r0", "r1"), ("r2", "r3")]
    assert group_runs(rows, ["group"])[1].label == "-"
    # The id and colour hash depend on the key, not on the order of the rows.
    again = group_runs(list(reversed(rows)), ["model.arch", "lr"])
    assert {g.id: g.hash for g in again} == {g.id: g.hash for g in gs}
    by_id = {r.id: r for r in rows}
    first = [by_id[i] for i in gs[0].run_ids]
    assert state_counts(first) == {"failed": 1, "finished": 1}
    assert summary_means(first)["acc"] == pytest.approx(0.55)
    assert shared_config(first) == {"model/arch": "cnn", "lr": 0.1}  # seeds differ
    assert shared_config([]) == {}


def test_an_empty_group_has_an_empty_curve(root, write_run) -> None:
    write_run(root, "r0", records=[])
    with _index(root) as ix:
        (got,) = group_series(ix, [Group(("k",), (None,), ("r0",))], ["loss"])
    assert len(got.x) == 0 and got.points == 0


def test_a_grouped_chart_asks_the_store_once_and_draws_what_group_series_gives(
    root, write_run, monkeypatch
) -> None:
    """The panel's query asks the members' curves once, and its bands are ``group_series``'."""
    from trackui.tui.messages import CurvesRequest
    from trackui.tui.widgets.curves_query import buckets_for
    from trackui.tui.widgets.group_query import query_with_groups

    rng = np.random.default_rng(5)
    spec = [
        (f"r{i}", {"arch": f"a{i % 2}", "seed": i}, [(s, float(s), float(v)) for s, v in
                                                      enumerate(rng.normal(i % 2, 1.0, 500))])
        for i in range(6)
    ]  # fmt: skip
    _members(write_run, root, spec)
    with _index(root) as ix:
        groups = group_runs(ix.runs(sort="created", descending=False), ["arch"])
        req = CurvesRequest(
            run_ids=("r0", *(g.id for g in groups)),  # a run beside the groups
            chosen=("loss",), kind="main", limit=None, x="step", smoothing="twema",
            strength=0.7, width=120, x_range=None,
            groups=tuple((g.id, g.run_ids) for g in groups),
        )  # fmt: skip
        calls: list[tuple[str, ...]] = []
        real = ix.series

        def counted(run_ids, metrics, **kw):
            calls.append(tuple(run_ids))
            return real(run_ids, metrics, **kw)

        monkeypatch.setattr(ix, "series", counted)
        view = query_with_groups(ix, req)
        assert len(calls) == 1 and sorted(calls[0]) == [f"r{i}" for i in range(6)]
        monkeypatch.undo()
        want = group_series(
            ix, groups, ["loss"], smoothing="twema", strength=0.7, buckets=buckets_for(120, 1)
        )
    assert [s.run_id for s in view.series] == ["r0", *(g.id for g in groups)]
    for s, w in zip(view.series[1:], want, strict=True):
        ref = w.series()
        for k in ("x", "y", "lo", "hi"):
            assert np.array_equal(getattr(s, k), getattr(ref, k), equal_nan=True), k


def test_members_logging_the_same_steps_match_the_reference(root, write_run) -> None:
    """Seeds of one setting log the same steps: their curves share x, and the group's
    statistics are the reference's (bucketed members: the reference on their curves)."""
    from trackui.store.groups import group_stats

    rng = np.random.default_rng(11)
    spec = [
        (f"s{i}", {"lr": 1, "seed": i}, [(s, float(s), float(v)) for s, v in
                                          enumerate(rng.normal(i, 0.5, 70))])
        for i in range(4)
    ]  # fmt: skip
    _members(write_run, root, spec)
    with _index(root) as ix:
        groups = group_runs(ix.runs(sort="created", descending=False), ["lr"])
        (got,) = group_series(ix, groups, ["loss"], smoothing="ema", strength=0.6, buckets=80)
        curves = ix.series(groups[0].run_ids, ["loss"], smoothing="ema", strength=0.6, buckets=20)
    ref = ref_group([([p[0] for p in m], [p[2] for p in m]) for _, _, m in spec], 0.6, 80)
    _check(got, ref)
    assert ref["count"].min() == 4
    # Bucketed to fewer entries than points: the same as the members placed one by one
    # (an empty member beside them changes nothing but the way they are placed).
    assert all(np.array_equal(c.x, curves[0].x) for c in curves) and len(curves[0].x) < 70
    e = np.empty(0)
    empty = dataclasses.replace(curves[0], run_id="none", x=e, y=e, raw=e, lo=e, hi=e, points=0)
    span = (float(curves[0].x[0]), float(curves[0].x[-1]))
    fast = group_stats("g", "loss", curves, span, 20)
    each = group_stats("g", "loss", [*curves, empty], span, 20)
    for k in ("x", "mean", "std", "min", "max", "count"):
        assert np.array_equal(getattr(fast, k), getattr(each, k), equal_nan=True), k
    assert fast.points == each.points
