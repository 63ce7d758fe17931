"""Each bucket of a curve knows the step and the wall time of the point it stands for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

import trackui
from trackui.store.index import Index
from trackui.store.models import Series

T0 = 1_800_000_000.0


def _run(root: Path, rows: list[tuple[int, float, dict[str, object]]]) -> Index:
    """A run ``r`` whose history holds exactly ``rows`` of (step, time, metrics)."""
    run = trackui.init(dir=root, id="r")
    run.finish()
    lines = [orjson.dumps({"s": s, "t": t, "m": m}) for s, t, m in rows]
    (run.run_dir / "history.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    ix = Index(root, cache=False)
    ix.refresh()
    return ix


def _expected(s: Series, steps: list[int], times: list[float], xs: list[float]) -> None:
    """Each bucket's step and time are those of the last point at the bucket's x."""
    assert s.step is not None
    for k, bx in enumerate(s.x):
        if np.isnan(bx):
            assert np.isnan(s.step[k])
            continue
        j = max(i for i, x in enumerate(xs) if x == bx)
        assert s.step[k] == steps[j]
        if s.t is not None:
            assert s.t[k] == times[j]


UNEVEN = [0, 1, 5, 6, 40, 41, 42, 300, 301, 1000]
TIMES = [T0 + 3.5 * i + (60.0 if s >= 300 else 0.0) for i, s in enumerate(UNEVEN)]


@pytest.mark.parametrize("buckets", [3, 4, 100])
def test_step_axis_reads_time_only_when_asked(root: Path, buckets: int) -> None:
    ix = _run(root, [(s, t, {"loss": s / 10}) for s, t in zip(UNEVEN, TIMES, strict=True)])
    (plain,) = ix.series(["r"], ["loss"], smoothing="none", buckets=buckets)
    assert plain.t is None  # a step chart reads no time column by default
    _expected(plain, UNEVEN, TIMES, [float(s) for s in UNEVEN])
    (timed,) = ix.series(["r"], ["loss"], smoothing="twema", buckets=buckets, with_time=True)
    assert timed.t is not None
    _expected(timed, UNEVEN, TIMES, [float(s) for s in UNEVEN])
    assert np.array_equal(timed.step, plain.step)
    ix.close()


@pytest.mark.parametrize("axis", ["wall", "relative"])
def test_time_axes_give_each_buckets_step(root: Path, axis: str) -> None:
    ix = _run(root, [(s, t, {"loss": s / 10}) for s, t in zip(UNEVEN, TIMES, strict=True)])
    (s,) = ix.series(["r"], ["loss"], x=axis, smoothing="ema", buckets=4)
    assert s.t is not None and s.start_time is not None
    base = 0.0 if axis == "wall" else s.start_time
    _expected(s, UNEVEN, TIMES, [t - base for t in TIMES])
    ok = np.isfinite(s.x)
    assert np.allclose(s.t[ok] - base, s.x[ok])
    ix.close()


def test_metric_axis_maps_each_bucket_to_its_step(root: Path) -> None:
    # ``epoch`` is logged every few steps: each loss point takes the latest epoch.
    rows: list[tuple[int, float, dict[str, object]]] = []
    epochs = []
    for i, s in enumerate(UNEVEN):
        m: dict[str, object] = {"loss": s / 10}
        if i % 3 == 0:
            m["epoch"] = float(i // 3)
        rows.append((s, TIMES[i], m))
        epochs.append(float(i // 3))
    ix = _run(root, rows)
    (s,) = ix.series(["r"], ["loss"], x="epoch", smoothing="none", buckets=100, with_time=True)
    _expected(s, UNEVEN, TIMES, epochs)
    ix.close()


def test_nan_points_and_gaps_map_to_the_last_finite_point(root: Path) -> None:
    # Steps 40..42 hold NaN: the bucket ending there stands for step 6; an all-NaN bucket is a gap.
    values = {s: ("nan" if 40 <= s <= 301 else s / 10) for s in UNEVEN}
    ix = _run(root, [(s, t, {"loss": values[s]}) for s, t in zip(UNEVEN, TIMES, strict=True)])
    (s,) = ix.series(["r"], ["loss"], smoothing="none", buckets=10, with_time=True)
    assert s.step is not None and s.t is not None
    finite = [i for i, st in enumerate(UNEVEN) if not 40 <= st <= 301]
    _expected(
        s, [UNEVEN[i] for i in finite], [TIMES[i] for i in finite], [UNEVEN[i] for i in finite]
    )
    gaps = np.isnan(s.x)
    assert gaps.any() and np.isnan(s.step[gaps]).all() and np.isnan(s.t[gaps]).all()
    assert set(s.step[~gaps].astype(int)) <= {0, 1, 5, 6, 1000}
    ix.close()


def test_bucket_points_steps_back_over_nan_at_the_same_x() -> None:
    from trackui.store.curves import bucket_points

    xs = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    v = np.array([1.0, 2.0, np.nan, np.nan, 3.0])
    at = bucket_points(xs, v, np.array([1.0, np.nan, 2.0, 0.0]))
    assert at.tolist() == [1, -1, 4, 0]
