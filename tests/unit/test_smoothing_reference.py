"""Smoothing against straightforward reference loops, through the index's ``series()``.

The references are the recurrences of store/smoothing.py's docstring written
as plain Python loops over the finite points: W&B's time-weighted EMA and
TensorBoard's debiased EMA. Each curve is checked bucket by bucket: a
bucket's ``x`` is a point of the run, and its ``y`` must be the reference's
smoothed value at that point, its ``raw`` the value logged there.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackui.store.index import Index
from trackui.store.smoothing import bucket, smooth, smooth_at, smooth_bucket

START = 1_700_000_000.0


def ref_twema(x: list[float], y: list[float], strength: float) -> list[float]:
    w = min(math.sqrt(max(strength, 0.0)), 0.999)
    if w == 0.0 or not y:
        return list(y)
    span = x[-1] - x[0]
    out, num, den = [], 0.0, 0.0
    for i, v in enumerate(y):
        a = w ** ((x[i] - x[i - 1]) / span * 1000) if i and span > 0 else 1.0
        num, den = a * num + v, a * den + 1.0
        out.append(num / den)
    return out


def ref_ema(y: list[float], strength: float) -> list[float]:
    w = min(max(strength, 0.0), 0.999999)
    if w == 0.0:
        return list(y)
    out, last = [], 0.0
    for n, v in enumerate(y, start=1):
        last = w * last + (1 - w) * v
        out.append(last / (1 - w**n))
    return out


def reference(x: list[float], y: list[float], kind: str, strength: float) -> list[float]:
    """Smoothed value at every point; non-finite points are left out and come back NaN."""
    keep = [i for i, v in enumerate(y) if math.isfinite(v)]
    xf, yf = [x[i] for i in keep], [y[i] for i in keep]
    if kind == "twema":
        sm = ref_twema(xf, yf, strength)
    elif kind == "ema":
        sm = ref_ema(yf, strength)
    else:
        sm = yf
    out = [math.nan] * len(y)
    for i, s in zip(keep, sm, strict=True):
        out[i] = s
    return out


def check(x: list[float], y: list[float], kind: str, strength: float, got) -> None:
    """Each bucket of ``got`` (x, y, raw, lo, hi) against the reference at its point."""
    want = reference(x, y, kind, strength)
    where = {xv: i for i, xv in enumerate(x)}
    finite = [v for v in y if math.isfinite(v)]
    scale = max(max(finite) - min(finite), *map(abs, finite)) if finite else 1.0
    seen = 0
    for bx, by, braw, blo, bhi in zip(got.x, got.y, got.raw, got.lo, got.hi, strict=True):
        if math.isnan(bx):
            assert math.isnan(by) and math.isnan(braw)
            continue
        i = where[float(bx)]
        assert braw == y[i] or (math.isnan(braw) and math.isnan(y[i]))
        # (a floor for subnormal inputs, where one rounding is the whole value)
        tol = max(1e-9 * scale, 1e-300)
        assert by == pytest.approx(want[i], rel=1e-9, abs=tol), (bx, kind, strength)
        assert blo <= braw <= bhi
        seen += 1
    assert seen > 0 or not finite


def values(n: int, rng: random.Random, gap: tuple[int, int] | None = None) -> list[object]:
    out: list[object] = []
    for i in range(n):
        if gap is not None and gap[0] <= i < gap[1]:
            out.append(rng.choice(["nan", "inf", "-inf"]))
        else:
            out.append(math.sin(i / 37.0) * 3 + rng.gauss(0, 1) + i / 100)
    return out


def as_float(v: object) -> float:
    return float(v)  # "nan", "inf", "-inf" too


CURVES = {
    # name: (steps, seconds after start, values)
    "consecutive": lambda rng: (
        list(range(1000)),
        [i * 0.5 for i in range(1000)],
        values(1000, rng),
    ),
    # 200 non-finite steps in 1,000 consecutive ones: the gap's points are
    # dropped, so the steps that remain are not evenly spaced any more.
    "gap": lambda rng: (
        list(range(1000)),
        [i * 0.5 for i in range(1000)],
        values(1000, rng, (400, 600)),
    ),
    "uneven": lambda rng: (
        sorted(rng.sample(range(5000), 700)),
        sorted(rng.uniform(0, 9000) for _ in range(700)),
        values(700, rng, (100, 130)),
    ),
    "even-by-3": lambda rng: (
        list(range(5, 3005, 3)),
        [i * 2.0 for i in range(1000)],
        values(1000, rng),
    ),
    "short": lambda rng: ([3, 4, 10], [1.0, 2.0, 50.0], [1.0, "nan", 4.0]),
}


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory):
    import json

    root = tmp_path_factory.mktemp("smoothref") / "runs"
    data = {}
    for k, (name, make) in enumerate(CURVES.items()):
        steps, secs, vals = make(random.Random(k))
        d = root / f"run-20231114_22132{k}-{name}"
        d.mkdir(parents=True)
        lines = [
            json.dumps({"s": s, "t": START + t, "m": {"y": v}})
            for s, t, v in zip(steps, secs, vals, strict=True)
        ]
        (d / "history.jsonl").write_text("\n".join(lines) + "\n")
        (d / "config.json").write_text("{}")
        meta = {"format": 1, "id": name, "name": name, "state": "finished",
                "start_time": START, "pid": 1}  # fmt: skip
        (d / "meta.json").write_text(json.dumps(meta))
        data[name] = (steps, secs, [as_float(v) for v in vals])
    with Index(root, cache=False) as index:
        index.refresh()
        yield index, data


@pytest.mark.parametrize("curve", list(CURVES))
@pytest.mark.parametrize("axis", ["step", "relative", "wall"])
@pytest.mark.parametrize(("kind", "strength"), [
    ("twema", 0.6), ("twema", 0.99), ("twema", 0.2), ("twema", 0.0),
    ("ema", 0.6), ("ema", 0.95), ("none", 0.6),
])  # fmt: skip
@pytest.mark.parametrize("buckets", [5000, 37])
def test_series_matches_the_reference(ix, curve, axis, kind, strength, buckets) -> None:
    index, data = ix
    steps, secs, y = data[curve]
    x = {"step": [float(s) for s in steps], "relative": [(START + t) - START for t in secs],
         "wall": [START + t for t in secs]}[axis]  # fmt: skip
    (got,) = index.series([curve], ["y"], x=axis, smoothing=kind, strength=strength,
                          buckets=buckets)  # fmt: skip
    assert got.points == len(steps)
    check(x, y, kind, strength, got)
    if buckets >= len(steps):  # a bucket per point; one with no finite value is a gap (NaN)
        assert [v if not math.isnan(v) else "gap" for v in got.x.tolist()] == [
            xv if math.isfinite(v) else "gap" for xv, v in zip(x, y, strict=True)
        ]


@pytest.mark.parametrize("curve", ["gap", "uneven", "consecutive"])
@pytest.mark.parametrize("kind", ["twema", "ema"])
def test_zoomed_series_still_smooths_over_what_came_before(ix, curve, kind) -> None:
    index, data = ix
    steps, _secs, y = data[curve]
    lo, hi = steps[len(steps) // 3], steps[2 * len(steps) // 3]
    (got,) = index.series([curve], ["y"], x="step", smoothing=kind, strength=0.8,
                          buckets=40, x_range=(lo, hi))  # fmt: skip
    assert all(lo <= v <= hi for v in got.x if not math.isnan(v))
    assert got.points == sum(1 for s in steps if lo <= s <= hi)
    check([float(s) for s in steps], y, kind, 0.8, got)


finite_or_not = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf, -math.inf]))


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 4), min_size=1, max_size=60),
    ys=st.lists(finite_or_not, min_size=60, max_size=60),
    kind=st.sampled_from(["twema", "ema", "none"]),
    strength=st.sampled_from([0.0, 0.3, 0.6, 0.9, 0.999, 1.0, 1.5, -0.5]),  # (clamped)
    n=st.integers(1, 70),
    spacing=st.booleans(),
)
def test_smooth_bucket_matches_the_reference(gaps, ys, kind, strength, n, spacing) -> None:
    # Steps with gaps of 1..4 (all 1: evenly spaced, and the hint is given
    # when it holds), values with non-finite ones among them.
    x = np.cumsum([0, *gaps]).astype(np.int64)
    y = np.asarray(ys[: len(x)] + [0.5] * (len(x) - len(ys)), dtype=np.float64)
    even = len(x) < 2 or bool((np.diff(x) == 1).all())
    got = smooth_bucket(x, y, kind, strength, n, None, 1.0 if spacing and even else None)
    check(x.astype(float).tolist(), y.tolist(), kind, strength, _Got(got))
    full = smooth(x, y, kind, strength)
    want = reference(x.astype(float).tolist(), y.tolist(), kind, strength)
    np.testing.assert_allclose(
        full, want, rtol=1e-9, atol=1e-9 * (1 + np.nanmax(np.abs(want), initial=0))
    )


class _Got:
    """A :class:`Buckets` with a series' attribute names."""

    def __init__(self, b) -> None:
        self.x, self.y, self.raw, self.lo, self.hi = b.x, b.y, b.raw, b.lo, b.hi


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 3), min_size=1, max_size=80),
    floats=st.booleans(),
    ys=st.lists(st.floats(-1e3, 1e3), min_size=81, max_size=81),
    kind=st.sampled_from(["twema", "ema"]),
    strength=st.sampled_from([0.3, 0.6, 0.9, 0.999]),
    picks=st.lists(st.integers(0, 80), min_size=1, max_size=20),
)
def test_smooth_at_on_any_nondecreasing_x(gaps, floats, ys, kind, strength, picks) -> None:
    # Repeated x (several records at one time), and spans that look even
    # from their ends alone ([0, 1, 1, 3]): smooth_at must not take them as even.
    x = np.cumsum([0, *gaps]).astype(np.float64 if floats else np.int64)
    y = np.asarray(ys[: len(x)], dtype=np.float64)
    idx = np.asarray(sorted({p % len(x) for p in picks}), dtype=np.int64)
    want = np.asarray(reference(x.astype(float).tolist(), y.tolist(), kind, strength))[idx]
    got = smooth_at(x, y, kind, strength, idx)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * (1 + np.abs(want).max()))


@pytest.mark.parametrize("uneven", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_long_evenly_spaced_and_nearly_even_x(uneven: bool, dtype) -> None:
    # Over 65,536 points: the spacing is checked block by block.
    n = 70_000
    x = (np.arange(n) * 2).astype(dtype)
    if uneven:  # one gap of 1 and one of 3 in the second block: the ends still look even
        x[66_001:] -= 1
        x[66_002:] += 1
    y = np.sin(np.arange(n) / 300.0) + np.arange(n) % 7 / 10
    idx = np.asarray([0, 1, 65_535, 65_536, 66_001, 66_002, 66_003, 69_000, n - 1])
    for kind in ("twema", "ema"):
        want = np.asarray(reference(x.astype(float).tolist(), y.tolist(), kind, 0.9))
        np.testing.assert_allclose(smooth_at(x, y, kind, 0.9, idx), want[idx], rtol=1e-9, atol=1e-9)
        b = smooth_bucket(x, y, kind, 0.9, 50)
        check(x.astype(float).tolist(), y.tolist(), kind, 0.9, _Got(b))


def test_a_range_beyond_the_points_is_empty(ix) -> None:
    index, _ = ix
    for kind in ("twema", "ema", "none"):
        (got,) = index.series(["gap"], ["y"], smoothing=kind, x_range=(5000.0, 9000.0))
        assert (len(got.x), len(got.y), len(got.raw), got.points) == (0, 0, 0, 0)


def test_an_unknown_smoothing_names_the_known_ones() -> None:
    x = np.arange(3)
    with pytest.raises(ValueError) as e:
        smooth(x, x * 1.0, "gauss", 0.5)
    assert str(e.value) == "smoothing: unknown kind 'gauss' (one of twema, ema, none)"
    with pytest.raises(ValueError) as e:
        smooth_at(x, x * 1.0, "gauss", 0.5, np.asarray([1]))
    assert str(e.value) == "smoothing: unknown kind 'gauss' (one of twema, ema, none)"


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 2), max_size=50),
    ys=st.lists(finite_or_not, min_size=51, max_size=51),
    kind=st.sampled_from(["twema", "ema"]),
    n=st.integers(1, 60),
    zoom=st.booleans(),
)
def test_bucket_of_the_smoothed_curve_is_smooth_bucket(gaps, ys, kind, n, zoom) -> None:
    # bucket(x, smooth(...), raw, n) is what smooth_bucket promises to equal,
    # on x with repeats (one x value only: every point in one bucket) and one point.
    x = np.cumsum([0, *gaps]).astype(np.float64)
    y = np.asarray(ys[: len(x)], dtype=np.float64)
    rng = (float(x[len(x) // 3]), float(x[-1])) if zoom else None
    want = bucket(x, smooth(x, y, kind, 0.8), y, n, rng)
    got = smooth_bucket(x, y, kind, 0.8, n, rng)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(
            a, b, rtol=1e-9, atol=1e-9 * (1 + np.nanmax(np.abs(y[np.isfinite(y)]), initial=0))
        )
    if len(x) == 1 and math.isfinite(y[0]):
        assert want.x.tolist() == [0.0] and want.raw.tolist() == [y[0]]
    if len(set(x.tolist())) == 1 and len(x) > n and np.isfinite(y).any():
        assert len(want.x) == 1  # one x value: one bucket


def test_a_metric_as_the_x_axis_takes_its_latest_value_at_each_step(tmp_path) -> None:
    # As-of join from the definition: a point's x is the x metric's value at
    # the latest step at or before the point's (none yet: the point has no x).
    import json

    root = tmp_path / "runs"
    d = root / "run-20231114_221320-xm"
    d.mkdir(parents=True)
    epoch = {2: 0.0, 5: 1.0, 9: 2.0}  # logged from step 2 on
    lines = []
    for s in range(12):
        m = {"loss": 100.0 - s}
        if s in epoch:
            m["epoch"] = epoch[s]
        lines.append(json.dumps({"s": s, "t": START + s, "m": m}))
    (d / "history.jsonl").write_text("\n".join(lines) + "\n")
    (d / "meta.json").write_text(json.dumps({"format": 1, "id": "xm", "start_time": START}))
    want = []
    for s in range(12):
        known = [e for k, e in epoch.items() if k <= s]
        if known:
            want.append((known[-1], 100.0 - s))
    with Index(root, cache=False) as index:
        index.refresh()
        (got,) = index.series(["xm"], ["loss"], x="epoch", smoothing="none", buckets=100)
    assert list(zip(got.x.tolist(), got.raw.tolist(), strict=True)) == want
