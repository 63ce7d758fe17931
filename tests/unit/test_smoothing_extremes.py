"""Smoothing at the edges of float64, against the reference loops.

Weak smoothing across wide gaps (a decay of exp(-2000) between two points,
which the vectorised blocks must split rather than overflow) and values
that differ by more than 1e100 (a loss that exploded, then recovered). The
references are the plain loops of ``test_smoothing_reference``; each curve
goes through ``smooth`` and through ``smooth_at`` at every point.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_smoothing_reference import ref_ema, ref_twema

from trackui.store.smoothing import bucket, smooth, smooth_at

CURVES = {
    "gap-after-first": ([0, 1000, 1001, 1002], [1.0, 2.0, 3.0, 4.0]),
    "gaps": ([0, 1, 2, 500, 501, 990, 1000], [3.0, 1.0, 2.0, 5.0, 4.0, 7.0, 6.0]),
    "exploded": ([0, 320, 321, 322, 323], [1e200, 1.0, 2.0, 3.0, 4.0]),
    "exploded-late": ([0, 1, 2, 330, 331, 1000], [1.0, 1e250, 2.0, 3.0, -1e180, 5.0]),
}


def close(got: list[float], want: list[float]) -> bool:
    return all(
        math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-300) for g, w in zip(got, want, strict=True)
    )


@pytest.mark.parametrize("strength", [0.0001, 0.01, 0.05, 0.2])
@pytest.mark.parametrize("name", list(CURVES))
def test_twema_across_wide_gaps_matches_the_reference(name: str, strength: float) -> None:
    xs, ys = CURVES[name]
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys)
    want = ref_twema([float(v) for v in xs], ys, strength)
    assert close(smooth(x, y, "twema", strength).tolist(), want)
    every = np.arange(len(ys))
    assert close(smooth_at(x, y, "twema", strength, every).tolist(), want)
    ints = np.asarray(xs, dtype=np.int64)
    assert close(smooth_at(ints, y, "twema", strength, every).tolist(), want)


@pytest.mark.parametrize("strength", [1e-140, 1e-200, 1e-320, 0.3])
@pytest.mark.parametrize("name", list(CURVES))
def test_ema_with_a_tiny_weight_matches_the_reference(name: str, strength: float) -> None:
    xs, ys = CURVES[name]
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys)
    want = ref_ema(ys, strength)
    assert close(smooth(x, y, "ema", strength).tolist(), want)
    every = np.arange(len(ys))
    assert close(smooth_at(x, y, "ema", strength, every).tolist(), want)


@pytest.mark.parametrize("x_range", [None, (5.0, 6.0)])
def test_no_points_make_no_buckets(x_range: tuple[float, float] | None) -> None:
    x = np.asarray([] if x_range is None else [0.0, 1.0, 2.0])
    b = bucket(x, x.copy(), x.copy(), 4, x_range)
    assert [len(a) for a in (b.x, b.y, b.raw, b.lo, b.hi)] == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("n", [3, 4])
def test_no_more_points_than_buckets_keeps_every_point(n: int) -> None:
    """Reference: with at most ``n`` points, each point is a bucket of its own."""
    x = np.asarray([0.0, 0.1, 0.2, 10.0][:n])
    raw = np.asarray([4.0, 3.0, 2.0, 1.0][:n])
    b = bucket(x, raw * 2, raw, n)
    assert b.x.tolist() == x.tolist() and b.raw.tolist() == raw.tolist()
    assert b.y.tolist() == (raw * 2).tolist()
