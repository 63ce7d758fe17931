"""Each bucket of a curve carries the step and the wall time of the point it stands for.

The reference: the point whose x is the bucket's x, found by a plain loop
over the records as written (the last point at that x, as the buckets keep
the last point).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from trackui.store.index import Index

START = 1_700_000_000.0


def _records() -> list[tuple[int, float, dict]]:
    """Uneven steps and times, NaN values (as the format writes them), an x metric (``epoch``) logged every 7th step."""
    out = []
    t = START
    for i, step in enumerate(range(0, 3000, 3)):
        t += 0.5 + (i % 5) * 0.25
        m = {"loss": "nan" if i % 97 == 5 else 1.0 / (1 + i)}
        if i % 7 == 0:
            m["epoch"] = float(i // 7)
        out.append((step, t, m))
    return out


@pytest.fixture
def index(root: Path, write_run) -> Index:
    write_run(root, "r1", records=_records(), start=START)
    ix = Index(root, cache=False)
    ix.refresh()
    yield ix
    ix.close()


def _reference(x_axis: str, bx: float) -> tuple[float, float]:
    """(step, t) of the last loss point whose x on ``x_axis`` is ``bx``."""
    found = (math.nan, math.nan)
    epoch = math.nan
    for step, t, m in _records():
        if "epoch" in m:
            epoch = m["epoch"]
        x = {"step": float(step), "wall": t, "relative": t - START, "epoch": epoch}[x_axis]
        if "loss" in m and x == bx:
            found = (float(step), t)
    return found


@pytest.mark.parametrize("x_axis", ["step", "wall", "relative", "epoch"])
@pytest.mark.parametrize("buckets", [7, 120, 5000])
def test_every_bucket_has_the_step_and_time_of_its_point(
    index: Index, x_axis: str, buckets: int
) -> None:
    (s,) = index.series(["r1"], ["loss"], x=x_axis, smoothing="ema", strength=0.5, buckets=buckets)
    assert s.step is not None and len(s.step) == len(s.x)
    time_read = x_axis in ("wall", "relative")
    assert (s.t is not None) == time_read
    fin = np.isfinite(s.x)
    assert fin.any()
    for k in np.flatnonzero(fin):
        step, t = _reference(x_axis, float(s.x[k]))
        assert s.step[k] == step, (k, s.x[k])
        if time_read:
            assert s.t[k] == t
    assert np.isnan(s.step[~fin]).all()


def test_a_zoomed_curve_keeps_its_stamps(index: Index) -> None:
    (s,) = index.series(["r1"], ["loss"], x="step", buckets=50, x_range=(600.0, 1500.0))
    fin = np.isfinite(s.x)
    assert fin.any()
    for k in np.flatnonzero(fin):
        assert s.step[k] == _reference("step", float(s.x[k]))[0]


def test_times_at_reads_the_time_of_each_step(index: Index) -> None:
    (s,) = index.series(["r1"], ["loss"], x="step", buckets=40)
    times = index.times_at("r1", "loss", s.step)
    for k, step in enumerate(s.step):
        if math.isfinite(step):
            assert times[k] == _reference("step", step)[1]
        else:
            assert math.isnan(times[k])
    # A step the metric never logged has no time; an unknown metric has none at all.
    assert math.isnan(index.times_at("r1", "loss", np.array([1.0]))[0])
    assert np.isnan(index.times_at("r1", "nope", np.array([0.0, 3.0]))).all()
    with pytest.raises(LookupError):
        index.times_at("gone", "loss", np.array([0.0]))
