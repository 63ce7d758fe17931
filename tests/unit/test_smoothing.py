"""Smoothing against straight-line reference implementations, and bucketing by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trackui.store.smoothing import bucket, ema, smooth, smooth_bucket, twema


def ref_twema(xs: list[float], ys: list[float], param: float) -> list[float]:
    """W&B's published TWEMA loop, transcribed point by point."""
    w = min(math.sqrt(param), 0.999)
    last_y, debias = 0.0, 0.0
    span = xs[-1] - xs[0]
    out = []
    for i, y in enumerate(ys):
        prev = i - 1 if i > 0 else 0
        change = (xs[i] - xs[prev]) / span * 1000 if span else 0.0
        adj = w**change
        last_y = last_y * adj + y
        debias = debias * adj + 1
        out.append(last_y / debias)
    return out


def ref_ema(ys: list[float], w: float) -> list[float]:
    """TensorBoard's debiased EMA loop, transcribed (finite values only)."""
    last, out = 0.0, []
    for n, y in enumerate(ys, start=1):
        last = last * w + (1 - w) * y
        out.append(last / (1 - w**n))
    return out


@pytest.mark.parametrize("param", [0.0, 0.1, 0.6, 0.9, 0.99, 0.999])
def test_twema_matches_reference_on_uneven_x(param: float) -> None:
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.integers(1, 50, size=3000)).astype(float)
    y = np.sin(x / 300) + rng.normal(0, 0.3, size=len(x))
    got = twema(x, y, param)
    want = ref_twema(x.tolist(), y.tolist(), param)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("w", [0.0, 0.3, 0.6, 0.95, 0.999])
def test_ema_matches_tensorboard_reference(w: float) -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(5, 2, size=5000)
    np.testing.assert_allclose(ema(y, w), ref_ema(y.tolist(), w) if w else y, rtol=1e-9)


def test_long_series_stays_finite_and_exact() -> None:
    # 200k points with a small weight: exp() of the cumulative weights would
    # overflow without the blocked evaluation.
    rng = np.random.default_rng(3)
    x = np.arange(200_000, dtype=float)
    y = rng.normal(size=len(x))
    got = twema(x, y, 0.01)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got[-50:], ref_twema(x.tolist(), y.tolist(), 0.01)[-50:], rtol=1e-9)


def test_non_finite_values_are_left_out_of_the_average() -> None:
    x = np.arange(6, dtype=float)
    y = np.array([1.0, np.nan, 3.0, np.inf, -np.inf, 5.0])
    for kind in ("twema", "ema"):
        got = smooth(x, y, kind, 0.6)
        assert np.isnan(got[[1, 3, 4]]).all()
        fin = [0, 2, 5]
        if kind == "ema":
            want = ref_ema([1.0, 3.0, 5.0], 0.6)
        else:
            want = ref_twema([0.0, 2.0, 5.0], [1.0, 3.0, 5.0], 0.6)
        np.testing.assert_allclose(got[fin], want)
    got = smooth(x, y, "none", 0.6)
    np.testing.assert_array_equal(got[[0, 2, 5]], [1.0, 3.0, 5.0])
    assert np.isnan(got[[1, 3, 4]]).all()


def test_unknown_smoother_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown kind 'gauss'"):
        smooth(np.arange(3.0), np.arange(3.0), "gauss", 0.5)


def test_bucket_keeps_min_max_last_by_hand() -> None:
    # 10 points over x 0..9 into 2 buckets: [0, 4.5) and [4.5, 9].
    x = np.arange(10, dtype=float)
    raw = np.array([5, 1, 9, 3, 4, 7, 2, 8, 6, 0], dtype=float)
    y = raw * 10  # stands in for the smoothed curve
    b = bucket(x, y, raw, 2)
    np.testing.assert_array_equal(b.lo, [1, 0])
    np.testing.assert_array_equal(b.hi, [9, 8])
    np.testing.assert_array_equal(b.raw, [4, 0])  # last point of each bucket
    np.testing.assert_array_equal(b.y, [40, 0])
    np.testing.assert_array_equal(b.x, [4, 9])


def test_bucket_gaps_and_empty_buckets() -> None:
    # Bucket 0 has only NaN (a gap); bucket 1 is empty (left out); bucket 2 has
    # a NaN after a finite value (the last *finite* point is kept).
    x = np.array([0.0, 1.0, 8.0, 9.0])
    raw = np.array([np.nan, np.inf, 3.0, np.nan])
    b = bucket(x, raw, raw, 3)
    assert len(b.x) == 2
    assert np.isnan([b.x[0], b.y[0], b.raw[0], b.lo[0], b.hi[0]]).all()
    assert (b.x[1], b.raw[1], b.lo[1], b.hi[1]) == (8.0, 3.0, 3.0, 3.0)


def test_bucket_few_points_pass_through_and_x_range() -> None:
    x = np.arange(5, dtype=float)
    raw = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    b = bucket(x, raw, raw, 200)
    np.testing.assert_array_equal(b.raw[[0, 2, 3, 4]], [1, 3, 4, 5])
    assert np.isnan(b.raw[1]) and np.isnan(b.x[1])
    b = bucket(np.arange(100, dtype=float), np.arange(100.0), np.arange(100.0), 2, (10.0, 29.0))
    np.testing.assert_array_equal(b.lo, [10, 20])
    np.testing.assert_array_equal(b.hi, [19, 29])
    np.testing.assert_array_equal(b.x, [19, 29])


@pytest.mark.parametrize("kind", ["twema", "ema", "none"])
@pytest.mark.parametrize("strength", [0.0, 0.3, 0.6, 0.99])
def test_smooth_bucket_equals_smooth_then_bucket(kind: str, strength: float) -> None:
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.integers(1, 5, size=20_000)).astype(float)
    raw = rng.normal(size=len(x))
    raw[rng.integers(0, len(x), size=300)] = np.nan
    raw[5000:5400] = np.inf  # a whole bucket of non-finite values: a gap
    for n, rng_x in ((200, None), (37, None), (50_000, None), (100, (x[3000], x[9000]))):
        want = bucket(x, smooth(x, raw, kind, strength), raw, n, rng_x)
        got = smooth_bucket(x, raw, kind, strength, n, rng_x)
        for a, b in zip(want, got, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["twema", "ema"])
@pytest.mark.parametrize("strength", [0.01, 0.6, 0.999])
def test_smooth_bucket_on_evenly_spaced_steps_matches_reference(kind: str, strength: float) -> None:
    # Steps 0, 1, 2, ... (as integers, the way the index hands them over) and
    # an even float spacing: every point decays the average alike there.
    rng = np.random.default_rng(5)
    steps = np.arange(100, 30_100, dtype=np.int64)
    raw = np.sin(steps / 700) + rng.normal(0, 0.2, size=len(steps))
    for x in (steps, steps * 0.5):
        xs = np.asarray(x, dtype=float).tolist()
        ys = raw.tolist()
        if kind == "twema":
            want_all = np.array(ref_twema(xs, ys, strength))
        else:
            want_all = np.array(ref_ema(ys, strength))
        for n, x_range in ((200, None), (7, None), (64, (float(x[5000]), float(x[9000])))):
            got = smooth_bucket(x, raw, kind, strength, n, x_range)
            want = bucket(np.asarray(x, dtype=float), want_all, raw, n, x_range)
            for a, b in zip(want, got, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
            # The caller may pass the spacing it knows: the same answer.
            hinted = smooth_bucket(x, raw, kind, strength, n, x_range, float(x[1] - x[0]))
            for a, b in zip(got, hinted, strict=True):
                np.testing.assert_array_equal(a, b)


def test_smooth_bucket_with_many_buckets_and_gaps_on_steps() -> None:
    # More buckets than the per-segment form takes, and NaN among evenly spaced steps.
    rng = np.random.default_rng(6)
    x = np.arange(12_000, dtype=np.int64)
    raw = rng.normal(size=len(x))
    raw[rng.integers(0, len(x), size=50)] = np.nan
    for kind in ("twema", "ema"):
        for n in (5000, 300):
            want = bucket(x.astype(float), smooth(x.astype(float), raw, kind, 0.9), raw, n)
            got = smooth_bucket(x, raw, kind, 0.9, n)
            for a, b in zip(want, got, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("g", [-1e-4, -0.05, -3.0, -800.0])
def test_short_segments_sum_as_the_dot_products_do(g: float, monkeypatch) -> None:
    from trackui.store import smoothing

    rng = np.random.default_rng(8)
    for _ in range(20):
        n = int(rng.integers(1, 3000))
        y = rng.normal(size=n)
        idx = np.unique(rng.integers(0, n, size=int(rng.integers(1, 200))))
        monkeypatch.setattr(smoothing, "_SHORT_SEGMENTS", 10**9)
        short = smoothing._geometric_at(y, g, idx)
        monkeypatch.setattr(smoothing, "_SHORT_SEGMENTS", 0)
        monkeypatch.setattr(smoothing, "_PLAN_POINTS", 0)  # (a point's weights are kept below)
        dots = smoothing._geometric_at(y, g, idx)
        np.testing.assert_allclose(short, dots, rtol=1e-12, atol=1e-300)


def test_buckets_of_few_points_start_where_the_search_finds_them(monkeypatch) -> None:
    from trackui.store import smoothing

    rng = np.random.default_rng(9)
    for _ in range(30):
        x = np.cumsum(rng.random(int(rng.integers(2, 2000))) * 3)
        raw = rng.normal(size=len(x))
        n = int(rng.integers(1, len(x)))
        monkeypatch.setattr(smoothing, "_SHORT_SEGMENTS", 10**9)
        direct = smooth_bucket(x, raw, "ema", 0.5, n)
        monkeypatch.setattr(smoothing, "_SHORT_SEGMENTS", 0)
        searched = smooth_bucket(x, raw, "ema", 0.5, n)
        for a, b in ((direct.x, searched.x), (direct.raw, searched.raw)):
            np.testing.assert_array_equal(a, b)  # the same buckets
        for a, b in ((direct.lo, searched.lo), (direct.hi, searched.hi)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(direct.y, searched.y, rtol=1e-12)


def brute_starts(x: np.ndarray, a: float, b: float, n: int) -> list[int]:
    """Each non-empty bucket's first index, from the bucket formula at every point."""
    k = np.minimum(((x - a) / (b - a) * n).astype(np.int64), n - 1)
    return [0, *(np.flatnonzero(np.diff(k)) + 1).tolist()]


@pytest.mark.parametrize("n", [1, 2, 7, 108, 600])
def test_bucket_starts_match_the_formula_at_every_point(n: int) -> None:
    from trackui.store.bucketing import bucket_starts

    rng = np.random.default_rng(n)
    cases = [
        np.arange(100_000, dtype=np.int64),  # steps
        np.arange(3, 3 + 7 * 5_000, 7, dtype=np.int64),  # every 7th step
        np.sort(rng.integers(0, 50, 2_000)),  # repeated steps
        np.sort(rng.random(20_000)) * 1e6 + 1.7e9,  # wall clock
        np.linspace(0.1, 0.7, 30_001),  # edges where rounding decides
        np.repeat([0.0, 1.0, 2.0], 100),  # ties
    ]
    for x in cases:
        a, b = float(x[0]), float(x[-1])
        assert bucket_starts(x, a, b, n).tolist() == brute_starts(x, a, b, n)
        mid = len(x) // 3
        a2, b2 = float(x[mid]), float(x[-1]) + 0.5  # a zoom: the points from a2 on
        assert bucket_starts(x[mid:], a2, b2, n).tolist() == brute_starts(x[mid:], a2, b2, n)


@pytest.mark.parametrize("spread", ["even", "uneven"])
def test_long_segments_smooth_as_the_full_curve(spread: str) -> None:
    """Segments of a few lengths are summed as matrices, of many lengths one by one."""
    from trackui.store.smoothing import smooth_at

    rng = np.random.default_rng(3)
    m = 60_000
    x = np.arange(m, dtype=np.int64)
    y = rng.normal(size=m).cumsum()
    if spread == "even":
        idx = np.linspace(0, m - 1, 90).astype(np.int64)  # two lengths
    else:
        idx = np.unique(np.sort(rng.integers(0, m, 70)))  # as many lengths as segments
        idx[-1] = m - 1
    for kind, strength in (("twema", 0.6), ("ema", 0.999), ("ema", 0.9)):
        want = smooth(x, y, kind, strength)[idx]
        got = smooth_at(x, y, kind, strength, idx)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


@pytest.mark.parametrize("matrix", [True, False])
def test_curves_over_the_same_steps_share_one_plan_and_stay_exact(
    matrix: bool, monkeypatch
) -> None:
    """A chart's runs (a group's members) log the same steps: the weights computed for the
    first curve serve the next ones, whose values differ, and each is still its own smoothing."""
    from trackui.store import smoothing

    if not matrix:
        monkeypatch.setattr(smoothing, "_CHAIN_MATRIX", 0)  # the segments chained one by one
    smoothing._plan.cache_clear()
    rng = np.random.default_rng(12)
    x = np.arange(50_000, dtype=np.int64)
    for kind, strength in (("twema", 0.6), ("ema", 0.95), ("twema", 0.05)):
        for seed in range(3):
            raw = rng.normal(seed, 1.0, size=len(x)).cumsum()
            want = bucket(x.astype(float), smooth(x.astype(float), raw, kind, strength), raw, 216)
            got = smooth_bucket(x, raw, kind, strength, 216, None, 1.0)
            for a, b in zip(want, got, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(raw).max())
    info = smoothing._plan.cache_info()
    assert info.misses == 3 and info.hits == 6  # one plan per smoothing, for three curves
