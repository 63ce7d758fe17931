"""Step counts and last steps against a reference computed from the records themselves.

A history may repeat an earlier step or go back (docs/format.md: hand-written
or merged files). Whatever the path (bulk, exact, live appends), the index,
``show --json``, ``ls --json`` and ``export`` must agree with one another and
with what the records say: ``steps`` is the number of distinct steps with a
value, ``last_step`` the largest, a metric's count its distinct steps, and a
repeated step's later value replaces the earlier one.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackui.cli import main
from trackui.store import ingest_bulk as ingest_mod
from trackui.store import loading as loading_mod
from trackui.store.index import Index

Record = tuple[int, dict[str, float], dict[str, str]]
"""(step, numeric values, text values)."""


def line(step: int, m: dict[str, float], x: dict[str, str] | None = None) -> bytes:
    obj: dict = {"s": step, "t": 1000.0 + step, "m": m}
    if x:
        obj["x"] = x
    return (json.dumps(obj) + "\n").encode()


def reference(records: list[Record]) -> dict:
    """What the records say, straight from their definition (docs/format.md)."""
    steps = {s for s, m, x in records if m or x}
    per_metric: dict[str, dict[int, float]] = {}
    for s, m, _ in records:
        for k, v in m.items():
            per_metric.setdefault(k, {})[s] = v  # a later value for a step replaces it
    return {
        "steps": len(steps),
        "last_step": max(steps) if steps else None,
        "metrics": {k: len(v) for k, v in sorted(per_metric.items())},
        "values": {k: sorted(v.items()) for k, v in sorted(per_metric.items())},
    }


def from_index(ix: Index, rid: str) -> dict:
    row = ix.run(rid)
    values = {}
    for m in ix.metrics([rid]):
        step, _t, v = ix.points(rid, m.name)
        values[m.name] = list(zip(step.tolist(), v.tolist(), strict=True))
    return {
        "steps": row.steps,
        "last_step": row.last_step,
        "metrics": {m.name: m.steps[rid] for m in ix.metrics([rid])},
        "values": values,
    }


def from_cli(capsys: pytest.CaptureFixture[str], root: Path, rid: str) -> dict:
    assert main(["show", rid, "--dir", str(root), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["ls", str(root), "--json"]) == 0
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}[rid]
    assert main(["export", rid, "--dir", str(root)]) == 0
    values: dict[str, list[tuple[int, float]]] = {}
    for r in csv.DictReader(io.StringIO(capsys.readouterr().out)):
        values.setdefault(r["metric"], []).append((int(r["step"]), float(r["value"])))
    assert shown["metrics"] == {k: len(v) for k, v in sorted(values.items())}
    return {
        "steps": listed["steps"],
        "last_step": listed["last_step"],
        "metrics": shown["metrics"],
        "values": {k: sorted(v) for k, v in sorted(values.items())},
    }


@pytest.fixture(params=["exact", "bulk-wide", "bulk-points"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which way a whole file is loaded."""
    if request.param == "exact":
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 << 60)
    else:
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)
        if request.param == "bulk-wide":
            monkeypatch.setattr(ingest_mod, "WIDE_MAX_CELLS", 1 << 30)
        else:
            monkeypatch.setattr(ingest_mod, "WIDE_MAX_COLS", 0)
    return request.param


def test_a_repeated_earlier_step_counts_once_everywhere(
    capsys, root: Path, write_run, path: str
) -> None:
    # Steps 0..19, then 10 again (a merged or hand-written file).
    records: list[Record] = [(s, {"loss": float(s)}, {}) for s in range(20)]
    records.append((10, {"loss": -1.0}, {}))
    write_run(root, "rep", history=b"".join(line(s, m, x) for s, m, x in records))
    want = reference(records)
    assert want["steps"] == 20 and want["metrics"] == {"loss": 20}
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert from_index(ix, "rep") == want
    assert from_cli(capsys, root, "rep") == want


def test_steps_that_go_back_and_text_only_steps(capsys, root: Path, write_run, path: str) -> None:
    records: list[Record] = [
        (0, {"a": 1.0}, {}),
        (4, {"a": 2.0, "b": 1.0}, {"note": "x"}),
        (2, {"b": 3.0}, {}),  # a new step below the last
        (4, {"a": 5.0}, {}),  # 4 again, after going back
        (3, {}, {"note": "only text"}),  # a step with text only
        (1, {}, {}),  # no value: not a step
        (2, {"a": 7.0}, {}),
    ]
    write_run(root, "back", history=b"".join(line(s, m, x) for s, m, x in records))
    want = reference(records)
    assert (want["steps"], want["last_step"]) == (4, 4)
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert from_index(ix, "back") == want
    assert from_cli(capsys, root, "back") == want


def _live_then_fresh(
    root: Path, rid: str, chunks: list[list[Record]], before: list[Record] | None = None
) -> None:
    """Append ``chunks`` one by one to a watched index, then compare it with a fresh one.

    ``before``: the records already in the file, loaded by the index's first refresh.
    """
    hist = root / f"run-20231114_221320-{rid}" / "history.jsonl"
    seen: list[Record] = list(before or [])
    with Index(root, cache=False) as live:
        if before:
            live.refresh()
            assert from_index(live, rid) == reference(seen)
        for chunk in chunks:
            with open(hist, "ab") as f:
                f.write(b"".join(line(s, m, x) for s, m, x in chunk))
            seen += chunk
            live.refresh()
            assert from_index(live, rid) == reference(seen), chunk
        with Index(root, cache=False) as fresh:
            fresh.refresh()
            assert from_index(fresh, rid) == from_index(live, rid)
            same_curves(live, fresh, rid)


def same_curves(a: Index, b: Index, rid: str) -> None:
    """The smoothed, bucketed curves of every metric of ``rid`` in two indexes."""
    names = [m.name for m in b.metrics([rid])]
    for sa, sb in zip(a.series([rid], names), b.series([rid], names), strict=True):
        for field in ("x", "y", "raw", "lo", "hi"):
            np.testing.assert_array_equal(getattr(sa, field), getattr(sb, field), field)
        assert sa.points == sb.points


def test_live_appends_of_repeated_and_earlier_steps(root: Path, write_run) -> None:
    write_run(root, "live", history=b"", state="running")
    _live_then_fresh(
        root,
        "live",
        [
            [(s, {"loss": float(s)}, {}) for s in range(20)],
            [(10, {"loss": -1.0}, {})],  # an earlier step again
            [(19, {"acc": 1.0}, {}), (20, {"loss": 20.0}, {})],  # the last step continued
            [(21, {}, {"phase": "eval"}), (5, {}, {"phase": "redo"})],  # text only, earlier
            [(22, {"loss": 22.0}, {}), (3, {"acc": 0.5}, {}), (23, {"loss": 23.0}, {})],
            # Back within new lines, none below the last step loaded before:
            # counted without a reload, 23 shared with the lines before.
            [(23, {"loss": 9.0}, {}), (25, {"loss": 25.0}, {}), (24, {"loss": 24.0}, {})],
        ],
    )


def test_a_run_that_reloads_leaves_the_others_of_its_refresh_loaded(root: Path, write_run):
    for rid in ("r1", "r2", "r3"):
        write_run(root, rid, history=b"".join(line(s, {"a": float(s)}) for s in range(5)),
                  state="running")  # fmt: skip
    with Index(root, cache=False) as live:
        live.refresh()
        for rid, step in (("r1", 7), ("r2", 2), ("r3", 9)):  # r2 goes back: reloaded
            hist = next(root.glob(f"run-*-{rid}")) / "history.jsonl"
            with open(hist, "ab") as f:
                f.write(line(step, {"a": -1.0}))
        live.refresh()
        got = {rid: from_index(live, rid) for rid in ("r1", "r2", "r3")}
        with Index(root, cache=False) as fresh:
            fresh.refresh()
            for rid in ("r1", "r2", "r3"):
                assert got[rid] == from_index(fresh, rid), rid
                same_curves(live, fresh, rid)
    assert (got["r1"]["steps"], got["r2"]["steps"], got["r3"]["steps"]) == (6, 5, 6)


records_st = st.lists(
    st.tuples(
        st.integers(0, 12),
        st.dictionaries(st.sampled_from(["a", "b"]), st.floats(-9, 9, width=32), max_size=2),
        st.dictionaries(st.sampled_from(["note"]), st.sampled_from(["x", "y"]), max_size=1),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chunks=st.lists(records_st, min_size=1, max_size=3))
def test_any_order_of_steps_in_live_appends(tmp_path_factory, write_run, chunks) -> None:
    root = tmp_path_factory.mktemp("runs")
    write_run(root, "gen", history=b"", state="running")
    _live_then_fresh(root, "gen", chunks)


def test_curves_of_steps_that_go_back_put_each_value_at_its_step(root: Path, write_run, path):
    # Distinct steps out of order (0, 2, 1, 4, 3): the chart's points must be
    # each step's own value, as export has them.
    steps = [0, 2, 1, 4, 3, 5]
    records: list[Record] = [(s, {"a": 10.0 * s}, {}) for s in steps]
    write_run(root, "ooo", history=b"".join(line(s, m, x) for s, m, x in records))
    with Index(root, cache=False) as ix:
        ix.refresh()
        (got,) = ix.series(["ooo"], ["a"], smoothing="none", buckets=100)
        assert got.x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert got.raw.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
        assert from_index(ix, "ooo") == reference(records)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=records_st)
def test_any_records_on_every_load_path(tmp_path_factory, write_run, path, records) -> None:
    root = tmp_path_factory.mktemp("runs")
    write_run(root, "any", history=b"".join(line(s, m, x) for s, m, x in records))
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert from_index(ix, "any") == reference(records)


def test_live_appends_after_a_whole_file_load(root: Path, write_run, path: str) -> None:
    # The first load takes the whole file (bulk or exact); the appends after it
    # repeat a step, go below the last and continue.
    before: list[Record] = [(s, {"loss": float(s), "acc": s / 10}, {}) for s in range(30)]
    before.append((12, {"loss": -12.0}, {}))
    write_run(root, "bl", history=b"".join(line(s, m, x) for s, m, x in before), state="running")
    _live_then_fresh(
        root,
        "bl",
        [
            [(29, {"loss": 0.5}, {}), (30, {"acc": 3.0}, {})],
            [(7, {"acc": -7.0}, {}), (31, {}, {"note": "text only"})],
            [(40, {"loss": 40.0}, {}), (35, {"loss": 35.0}, {}), (40, {"acc": 4.0}, {})],
        ],
        before=before,
    )
