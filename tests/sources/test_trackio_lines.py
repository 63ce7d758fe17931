"""trackio's plain rows read as history lines built by SQLite: exact, in step order, through the index."""

from __future__ import annotations

import math
import random
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from conftest_wandb import read_all, rows_of, run_writer, same

from trackui.store.index import Index
from trackui.store.sources.trackio_source import TrackioSource

pytest.importorskip("trackio")

STEPS = [5, 2, 9, 5, 0, 7]
"""Logged in this order: out of order, and step 5 twice."""
EDGES = [0.1, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, -2.5e-8, 123456789012345678, 3]


def _values(i: int) -> dict[str, float | int]:
    rng = random.Random(i)
    return {"loss": rng.random(), "edge": EDGES[i % len(EDGES)], "lr": rng.uniform(-1e6, 1e6)}


WRITER = f"""
import trackio
trackio.init(project="fast", name="plain")
for i, s in enumerate({STEPS!r}):
    trackio.log({{k: v for k, v in {[_values(i) for i in range(len(STEPS))]!r}[i].items()}}, step=s)
trackio.finish()
trackio.init(project="fast", name="with-nan")
trackio.log({{"loss": 1.0}}, step=0)
trackio.log({{"loss": float("nan")}}, step=1)
trackio.finish()
trackio.init(project="fast", name="long-int")
trackio.log({{"count": 2 ** 63}}, step=0)
trackio.finish()
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trackio_lines")
    run_writer(root, WRITER)
    return root


def _run(root: Path, name: str):  # noqa: ANN202
    (run,) = [r for r in TrackioSource().find(root) if r.key.endswith("#" + name)]
    return run


def test_plain_rows_come_as_lines_in_step_order_value_for_value(written: Path) -> None:
    run = _run(written, "plain")
    batch, cursor = TrackioSource().read(run, {})
    assert batch.rows == [] and batch.lines.endswith(b"\n")
    assert batch.line_steps == (0, 9)
    got = rows_of(batch)
    logged = sorted(
        ((s, _values(i)) for i, s in enumerate(STEPS)), key=lambda sv: sv[0]
    )  # (stable: the two step 5s in the order logged)
    assert [(s, v) for s, _t, v in got] == logged
    for (_s, _t, v), (_ls, want) in zip(got, logged, strict=True):
        assert all(type(v[k]) is type(want[k]) and same(v[k], want[k]) for k in want)
        assert math.copysign(1, v["edge"]) == math.copysign(1, want["edge"])
    # Each time is Python's reading of trackio's timestamp, to the last bit.
    conn = sqlite3.connect(run.path)
    stamps = conn.execute(
        "SELECT step, timestamp FROM metrics WHERE run_name = 'plain' ORDER BY step, id"
    ).fetchall()
    conn.close()
    assert [t for _s, t, _v in got] == [datetime.fromisoformat(ts).timestamp() for _, ts in stamps]
    assert cursor["step"] == STEPS[-1]
    again, _ = TrackioSource().read(run, cursor)
    assert (again.lines, again.rows) == (b"", [])


def test_a_batch_with_nan_or_a_long_integer_is_read_row_by_row(written: Path) -> None:
    nan = read_all(TrackioSource(), _run(written, "with-nan"))
    assert same(nan.metric_rows(), [(0, {"loss": 1.0}), (1, {"loss": float("nan")})])
    batch, _ = TrackioSource().read(_run(written, "with-nan"), {})
    assert batch.lines == b"" and len(batch.rows) == 2
    batch, _ = TrackioSource().read(_run(written, "long-int"), {})
    assert batch.lines == b"" and [v for _s, _t, v in batch.rows] == [{"count": 2**63}]


def test_lines_through_the_index_and_an_earlier_step_logged_later(
    written: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "trackio").mkdir(parents=True)
    db = root / "trackio" / "fast.db"
    db.write_bytes((written / "trackio" / "fast.db").read_bytes())
    with Index(root) as ix:
        ix.refresh()
        (row,) = [r for r in ix.runs("source:trackio") if r.name == "plain"]
        step, _t, v = ix.points(row.id, "loss")
        last = {s: _values(i)["loss"] for i, s in enumerate(STEPS)}  # (a later value wins)
        assert dict(zip(step.tolist(), v.tolist(), strict=True)) == last
        run_writer(
            root,
            """
            import trackio
            trackio.init(project="fast", name="plain", resume="must")
            trackio.log({"loss": 0.25}, step=3)
            trackio.log({"loss": 0.125}, step=11)
            trackio.finish()
            """,
        )
        ix.refresh()
        step, _t, v = ix.points(row.id, "loss")
        assert dict(zip(step.tolist(), v.tolist(), strict=True)) == {**last, 3: 0.25, 11: 0.125}
        assert step.tolist() == sorted(step.tolist())
