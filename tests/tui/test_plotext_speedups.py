"""The NumPy versions of plotext's per-point helpers return exactly what plotext's do."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import plotext._utility as ut
import pytest
from plotext._figure import _figure_class

from trackui.tui.widgets import plotext_speedups as fast
from trackui.tui.widgets.plot_spec import finite_segments

RNG = np.random.default_rng(7)


@pytest.fixture
def plotext_own() -> Iterator[None]:
    """plotext with its own helpers for the test, fast ones again afterwards."""
    was = ut.get_lines is fast.get_lines
    fast.uninstall()
    yield
    if was:
        fast.install()


def _values(n: int) -> list[float | int]:
    kind = RNG.integers(3)
    if kind == 0:
        return RNG.normal(0, 10 ** float(RNG.integers(-3, 6)), n).tolist()
    if kind == 1:
        return RNG.integers(-1000, 1000, n).tolist()
    return [float(v) if i % 2 else int(v) for i, v in enumerate(RNG.integers(-50, 50, n))]


@pytest.mark.parametrize("case", range(100))
def test_get_matrix_data_matches(case: int) -> None:
    data = _values(int(RNG.integers(8, 400)))
    lo, hi = min(data), max(data)
    if case % 3 == 0:  # limits inside the data: cells outside the canvas
        lo, hi = lo + (hi - lo) / 4, hi - (hi - lo) / 4
    if lo == hi:
        hi = lo + 1
    bins = int(RNG.integers(2, 800))
    assert fast.get_matrix_data(data, [lo, hi], bins) == fast.ORIGINAL["get_matrix_data"](
        data, [lo, hi], bins
    )


def test_get_matrix_data_on_exact_halves_rounds_like_plotext() -> None:
    # Values that land on x.5 cells, and on cells a hair below a whole number.
    data = [i / 10 for i in range(0, 101)] + [0.1 * 3, 1 - 1e-12, 2.5, 7.499999999]
    for bins in (2, 3, 11, 21, 200):
        assert fast.get_matrix_data(data, [0.0, 10.0], bins) == fast.ORIGINAL["get_matrix_data"](
            data, [0.0, 10.0], bins
        )


@pytest.mark.parametrize("case", range(60))
def test_get_lim_matches(case: int) -> None:
    data = _values(int(RNG.integers(1, 300)))
    if case % 4 == 0:
        data = [data[0]] * len(data)  # one value: widened
    if case % 7 == 0:
        data = [0] * len(data)
    if case % 5 == 0:  # NaN gaps, first or not: left out
        data[int(RNG.integers(len(data)))] = math.nan
        data[0] = math.nan if case % 10 == 0 else data[0]
    assert fast.get_lim(data) == fast.ORIGINAL["get_lim"](data)


@pytest.mark.parametrize("case", range(100))
def test_get_lines_matches(case: int) -> None:
    n = int(RNG.integers(2, 200))
    span = int(RNG.integers(1, 400))
    x = RNG.integers(-span, span, n).tolist()
    y = RNG.integers(-span, span, n).tolist()
    if case % 4 == 0:
        x = sorted(x)
    if case % 5 == 0:  # repeated points
        x[n // 2 :] = [x[0]] * (n - n // 2)
    markers = ["hd"] * n
    colours = [(int(RNG.integers(256)), 10, 20)] * n
    styles = ["default"] * n
    got = fast.get_lines(x, y, markers, colours, styles)
    want = fast.ORIGINAL["get_lines"](x, y, markers, colours, styles)
    assert got == want


@pytest.mark.parametrize("block", [(2, 2), (2, 3), (2, 4)])
@pytest.mark.parametrize("case", range(40))
def test_hd_group_matches(block: tuple[int, int], case: int) -> None:
    n = int(RNG.integers(1, 500))
    span = int(RNG.integers(1, 300))
    x = RNG.integers(-5, span, n).tolist()
    y = RNG.integers(-5, span // 2 + 1, n).tolist()
    xf, yf = [block[0]] * n, [block[1]] * n
    gx, gy, gm = fast.hd_group(x, y, xf, yf)
    wx, wy, wm = fast.ORIGINAL["hd_group"](x, y, xf, yf)
    assert (gx, gy, gm) == (list(wx), list(wy), wm)


def test_inputs_that_are_not_plain_numbers_go_to_plotext() -> None:
    with_gap = [1.0, 2.0, math.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert (
        fast.get_matrix_data(with_gap, [0.0, 10.0], 20)[2]
        != fast.get_matrix_data(with_gap, [0.0, 10.0], 20)[2]
    )  # NaN stays NaN, as plotext leaves it
    holes = [0, 5, None, 9, 12]
    marks = ["hd"] * 5
    assert fast.get_lines(holes, list(range(5)), marks) == fast.ORIGINAL["get_lines"](
        holes, list(range(5)), marks
    )
    assert fast.get_lines([], []) == fast.ORIGINAL["get_lines"]([], [])
    mixed = fast.hd_group([0, 1, 2], [0, 1, 2], [2, 2, 1], [2, 2, 1])
    assert mixed == fast.ORIGINAL["hd_group"]([0, 1, 2], [0, 1, 2], [2, 2, 1], [2, 2, 1])


def _chart(seed: int, *, log: bool) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    plt = _figure_class()
    plt.plotsize(58, 14)
    plt._set_size(58, 14)
    plt.title("loss")
    plt.xlabel("step")
    plt.yscale("log" if log else "linear")
    n = int(rng.integers(5, 400))
    x = np.arange(n) * float(rng.integers(1, 50))
    for k in range(3):
        y = np.exp(-x / x.max() * (k + 1)) + rng.random(n) * 0.1
        y[rng.random(n) < 0.03] = np.nan  # gaps
        lo, hi = y - 0.05, y + 0.05
        colour = (40 * k, 200 - 30 * k, 90)
        for arr in (lo, hi):
            for xs, ys in finite_segments(x, arr, log=log):
                plt.scatter(xs, ys, marker="hd", color=(90, 90, 90))
        for xs, ys in finite_segments(x, y, log=log):
            plt.plot(xs, ys, marker="hd", color=colour)
    plt._set_sizes()
    plt._build_matrix()
    m = plt.monitor.matrix
    return [m.marker, m.fullground, m.background, m.style]


@pytest.mark.parametrize("seed", range(12))
def test_whole_charts_are_identical(seed: int, plotext_own: None) -> None:
    for log in (False, True):
        want = _chart(seed, log=log)
        fast.install()
        try:
            got = _chart(seed, log=log)
        finally:
            fast.uninstall()
        assert got == want
