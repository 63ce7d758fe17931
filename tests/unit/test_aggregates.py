"""A metric's best, last, min, max and mean per run, from the index's points in one DuckDB query,
against NumPy over the same logged values (NaN gaps, steps logged twice, both storage layouts)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import trackui
from trackui.store import loading as loading_mod
from trackui.store.aggregates import aggregate_key, parse_aggregate_key
from trackui.store.index import Index
from trackui.store.sorting import sort_rows

NAN = float("nan")


def write_run(root: Path, name: str, records: list[tuple[int, dict[str, float]]], **decl) -> str:
    """A finished run whose history is exactly ``records`` (step, values), in that order."""
    run = trackui.init(project="agg", name=name, dir=root)
    for metric, goal in decl.items():
        run.define_metric(metric, goal=goal)
    run.finish()
    lines = []
    for i, (step, m) in enumerate(records):
        vals = {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in m.items()}
        lines.append(json.dumps({"s": step, "t": 1000.0 + i, "m": vals}))
    d = Path(run.dir).parent  # (run.dir is the run's files/ folder, as in wandb)
    history = d / "history.jsonl"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "summary.json").write_text("{}", encoding="utf-8")
    return run.id


def reference(records: list[tuple[int, dict[str, float]]], metric: str) -> dict[str, float]:
    """NumPy over the values a chart draws: per step the last logged, NaN left out."""
    per_step: dict[int, float] = {}
    for step, m in records:
        if metric in m:
            per_step[step] = m[metric]
    steps = np.array(sorted(per_step), dtype=np.int64)
    v = np.array([per_step[s] for s in steps], dtype=np.float64)
    ok = ~np.isnan(v)
    if not ok.any():
        return {}
    return {
        "min": float(np.nanmin(v)),
        "max": float(np.nanmax(v)),
        "mean": float(np.nanmean(v)),
        "last": float(v[ok][np.argmax(steps[ok])]),
    }


def records_a() -> list[tuple[int, dict[str, float]]]:
    rng = np.random.default_rng(7)
    out = []
    for s in range(200):
        out.append((s, {"loss": float(rng.normal(1.0, 0.3)), "acc": float(rng.uniform())}))
        if s == 50:
            out.append((s, {"loss": 9.5}))  # the same step again: this value wins
        if s == 60:
            out.append((s, {"acc": 0.999}))
    out[10][1]["loss"] = NAN
    out[-1][1]["acc"] = NAN  # the last step's acc is a gap: last is the one before
    out.append((200, {"loss": 0.01, "acc": NAN}))
    return out


def records_b() -> list[tuple[int, dict[str, float]]]:
    out: list[tuple[int, dict[str, float]]] = [(s, {"loss": 2.0 - s / 10}) for s in range(10)]
    out.append((10, {"loss": NAN}))
    out.append((11, {"other": 3.0}))  # no acc at all, and only NaN after step 9 for loss
    return out


KEYS = [aggregate_key(k, m) for m in ("loss", "acc", "other") for k in
        ("best", "last", "min", "max", "mean")] + ["summary:loss", "config:lr"]  # fmt: skip


@pytest.mark.parametrize("path", ["bulk", "exact"])
def test_aggregates_match_numpy(tmp_path: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if path == "bulk" else 1 << 60)
    root = tmp_path / "runs"
    ra, rb = records_a(), records_b()
    a = write_run(root, "a", ra, acc="maximize")
    b = write_run(root, "b", rb)
    with Index(root, cache=False) as ix:
        ix.refresh()
        got = ix.aggregates(KEYS)
        for run_id, records in ((a, ra), (b, rb)):
            for metric in ("loss", "acc", "other"):
                want = reference(records, metric)
                for kind in ("last", "min", "max", "mean"):
                    key = aggregate_key(kind, metric)
                    if kind in want:
                        assert got[run_id][key] == pytest.approx(want[kind], rel=1e-12), key
                    else:
                        assert key not in got.get(run_id, {}), key
                # best by the goal: acc declared up, loss named down, other unknown (none).
                best = got.get(run_id, {}).get(aggregate_key("best", metric))
                if metric == "acc" and want:
                    assert best == pytest.approx(want["max"])
                elif metric == "loss":
                    assert best == pytest.approx(want["min"])
                else:
                    assert best is None
        assert got[a][aggregate_key("max", "loss")] == 9.5  # (the step logged twice)
        assert got[a][aggregate_key("max", "acc")] == 0.999
        assert got[b][aggregate_key("last", "loss")] == pytest.approx(2.0 - 9 / 10)
        assert not any(k.startswith(("summary:", "config:")) for v in got.values() for k in v)
        # One run asked for: only it.
        assert set(ix.aggregates(KEYS, run_ids=[b])) == {b}
        assert ix.aggregates(["summary:loss"]) == {}
        # Sorting by an aggregate: the runs without one last, either way.
        rows = ix.runs(sort=None)
        key = aggregate_key("mean", "acc")
        order = [r.id for r in sort_rows(rows, key, True, values=got)]
        assert order == [a, b]
        assert [r.id for r in sort_rows(rows, key, False, values=got)] == [a, b]


def test_appended_points_after_a_bulk_load_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)
    root = tmp_path / "runs"
    records = [(s, {"loss": 1.0 + s}) for s in range(20)]
    a = write_run(root, "a", records)
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert ix.aggregates(["max:loss"])[a]["max:loss"] == 20.0
        history = next(root.rglob("history.jsonl"))
        with history.open("a", encoding="utf-8") as f:  # (appends go row by row)
            f.write(json.dumps({"s": 19, "t": 2000.0, "m": {"loss": 50.0}}) + "\n")
            f.write(json.dumps({"s": 20, "t": 2001.0, "m": {"loss": -1.0}}) + "\n")
        ix.refresh()
        got = ix.aggregates(["max:loss", "min:loss", "last:loss", "mean:loss"])[a]
        want = reference([*records, (19, {"loss": 50.0}), (20, {"loss": -1.0})], "loss")
        assert got == {f"{k}:loss": pytest.approx(v) for k, v in want.items()}


def test_keys() -> None:
    assert parse_aggregate_key("best:val/acc") == ("best", "val/acc")
    assert parse_aggregate_key("summary:loss") is None
    assert parse_aggregate_key("best:") is None and parse_aggregate_key("loss") is None
