"""The NumPy versions of plotext's per-point helpers return exactly what plotext's do."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import plotext._utility as ut
import pytest
from plotext._figure import _figure_class

from trackui.tui.widgets import canvas
from trackui.tui.widgets import plotext_patch as fast
from trackui.tui.widgets.plot_spec import finite_segments


def rng_for(*params: object) -> np.random.Generator:
    """A generator seeded from a case's own parameters: the case draws the same data
    whether it runs alone, in another order, or in another process."""
    return np.random.default_rng(list(repr(params).encode()))


@pytest.fixture
def plotext_own() -> Iterator[None]:
    """plotext with its own helpers for the test, fast ones again afterwards."""
    was = ut.get_lines is fast.get_lines
    fast.uninstall()
    yield
    if was:
        fast.install()


def _values(rng: np.random.Generator, n: int) -> list[float | int]:
    kind = rng.integers(3)
    if kind == 0:
        return rng.normal(0, 10 ** float(rng.integers(-3, 6)), n).tolist()
    if kind == 1:
        return rng.integers(-1000, 1000, n).tolist()
    return [float(v) if i % 2 else int(v) for i, v in enumerate(rng.integers(-50, 50, n))]


@pytest.mark.parametrize("case", range(100))
def test_get_matrix_data_matches(case: int) -> None:
    rng = rng_for("get_matrix_data", case)
    data = _values(rng, int(rng.integers(8, 400)))
    lo, hi = min(data), max(data)
    if case % 3 == 0:  # limits inside the data: cells outside the canvas
        lo, hi = lo + (hi - lo) / 4, hi - (hi - lo) / 4
    if lo == hi:
        hi = lo + 1
    bins = int(rng.integers(2, 800))
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
    rng = rng_for("get_lim", case)
    data = _values(rng, int(rng.integers(1, 300)))
    if case % 4 == 0:
        data = [data[0]] * len(data)  # one value: widened
    if case % 7 == 0:
        data = [0] * len(data)
    if case % 5 == 0:  # NaN gaps, first or not: left out
        data[int(rng.integers(len(data)))] = math.nan
        data[0] = math.nan if case % 10 == 0 else data[0]
    assert fast.get_lim(data) == fast.ORIGINAL["get_lim"](data)


@pytest.mark.parametrize("case", range(100))
def test_get_lines_matches(case: int) -> None:
    rng = rng_for("get_lines", case)
    n = int(rng.integers(2, 200))
    span = int(rng.integers(1, 400))
    x = rng.integers(-span, span, n).tolist()
    y = rng.integers(-span, span, n).tolist()
    if case % 4 == 0:
        x = sorted(x)
    if case % 5 == 0:  # repeated points
        x[n // 2 :] = [x[0]] * (n - n // 2)
    markers = ["hd"] * n
    colours = [(int(rng.integers(256)), 10, 20)] * n
    styles = ["default"] * n
    got = fast.get_lines(x, y, markers, colours, styles)
    want = fast.ORIGINAL["get_lines"](x, y, markers, colours, styles)
    assert got == want


@pytest.mark.parametrize("block", [(2, 2), (2, 3), (2, 4)])
@pytest.mark.parametrize("case", range(40))
def test_hd_group_matches(block: tuple[int, int], case: int) -> None:
    rng = rng_for("hd_group", block, case)
    n = int(rng.integers(1, 500))
    span = int(rng.integers(1, 300))
    x = rng.integers(-5, span, n).tolist()
    y = rng.integers(-5, span // 2 + 1, n).tolist()
    xf, yf = [block[0]] * n, [block[1]] * n
    gx, gy, gm = fast.hd_group(x, y, xf, yf)
    wx, wy, wm = fast.ORIGINAL["hd_group"](x, y, xf, yf)
    assert (gx, gy, gm) == (list(wx), list(wy), wm)


def test_inputs_that_are_not_plain_numbers_go_to_plotext() -> None:
    with_gap = [1.0, 2.0, math.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    got = fast.get_matrix_data(with_gap, [0.0, 10.0], 20)
    want = fast.ORIGINAL["get_matrix_data"](with_gap, [0.0, 10.0], 20)
    # NaN stays NaN, as plotext leaves it (compared as text: NaN != NaN)
    assert repr(got) == repr(want) and "nan" in repr(got)
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


def _layers(seed: int, *, log: bool) -> tuple[list[canvas.Layer], tuple[float, float] | None]:
    """Curves and scatters like a chart's: several markers, gaps, flat and one-point layers."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    x = np.arange(n) * float(rng.integers(1, 50)) - float(rng.integers(0, 100))
    marker = ["hd", "braille", "fhd", "•", "+"][seed % 5]
    layers = []
    for k in range(int(rng.integers(1, 4))):
        y = np.exp(-x / max(1.0, abs(x).max()) * (k + 1)) + rng.random(n) * 0.1
        if seed % 7 == 3:
            y[:] = 2.5  # a flat curve: plotext widens the range
        y[rng.random(n) < 0.03] = np.nan  # gaps
        colour = (40 * k, 200 - 30 * k, 90)
        if seed % 6 == 5:  # a marker per run, as without colour
            marker = ["hd", "•", "braille", "+"][k % 4]
        xs, ys = [], []
        for arr in (y - 0.05, y + 0.05):
            ok = np.isfinite(arr) & ((arr > 0) if log else True)
            xs += x[ok].tolist()
            ys += arr[ok].tolist()
        if xs:
            layers.append(canvas.Layer(xs, ys, marker, (90, 90, 90), lines=False))
        for sx, sy in finite_segments(x, y, log=log):
            layers.append(canvas.Layer(sx, sy, marker, colour, lines=True))
    zoom = None
    if seed % 4 == 1 and n > 4:
        zoom = (float(x[n // 4]), float(x[3 * n // 4]))  # points beyond both edges
    return layers, zoom


def _layered_chart(seed: int, *, log: bool, own: bool, size: tuple[int, int]) -> list[object]:
    layers, zoom = _layers(seed, log=log)
    plt = _figure_class()
    plt.plotsize(*size)
    plt._set_size(*size)
    plt.title("loss")
    plt.xlabel("step")
    plt.yscale("log" if log else "linear")
    if zoom is not None:
        plt.xlim(*zoom)
    fits = canvas.layers_fit(plt.monitor, layers)
    if own:
        assert fits
        canvas.place_layers(plt, layers, log=log)
    else:
        for la in layers:
            (plt.plot if la.lines else plt.scatter)(la.x, la.y, marker=la.marker, color=la.color)
    plt._set_sizes()
    plt._build_matrix()
    if own:
        canvas.paint_layers(plt.monitor, layers, log=log)
    m = plt.monitor.matrix
    return [m.marker, m.fullground, m.background, m.style]


@pytest.mark.parametrize("seed", range(40))
def test_curves_drawn_onto_the_frame_are_plotext_pictures(seed: int) -> None:
    size = [(58, 14), (120, 30), (20, 8), (9, 5)][seed % 4]
    for log in (False, True):
        if not _layers(seed, log=log)[0]:
            continue
        want = _layered_chart(seed, log=log, own=False, size=size)
        got = _layered_chart(seed, log=log, own=True, size=size)
        assert got == want, (seed, log, size)


def test_curves_plotext_must_draw_itself_are_left_to_it() -> None:
    plt = _figure_class()
    ok = canvas.Layer([0.0, 1.0], [1.0, 2.0], "hd", (1, 2, 3), lines=True)
    assert canvas.layers_fit(plt.monitor, [ok])
    assert not canvas.layers_fit(plt.monitor, [])
    for bad in (
        canvas.Layer([0.0, 1.0], [1.0, math.nan], "hd", (1, 2, 3), lines=True),
        canvas.Layer([0.0, 1.0], [1.0, math.inf], "hd", (1, 2, 3), lines=True),
        canvas.Layer(["2024-01-01", "2024-01-02"], [1.0, 2.0], "hd", (1, 2, 3), lines=True),
        canvas.Layer([0.0, 1.0], [1.0], "hd", (1, 2, 3), lines=True),
        canvas.Layer([], [], "hd", (1, 2, 3), lines=True),
    ):
        assert not canvas.layers_fit(plt.monitor, [ok, bad])
    plt.grid(True, True)
    assert not canvas.layers_fit(plt.monitor, [ok])


@pytest.mark.parametrize(
    "area", [(0, 0, 0, 0), (5, 50, 3, 12), (-2, 70, -1, 20), (10, 8, 4, 2), (0, 58, 0, 14)]
)
def test_blank_matrices_match(area: tuple[int, int, int, int]) -> None:
    from plotext._matrix import matrix_class

    def blank(set_matrices: object) -> list[object]:
        m = matrix_class()
        m.set_size(58, 14)
        m.set_axes_color((1, 2, 3))
        m.set_canvas_area(*area)
        m.set_canvas_color((4, 5, 6))
        set_matrices(m)  # type: ignore[operator]
        return [m.marker, m.fullground, m.background, m.style]

    assert blank(fast.set_matrices) == blank(fast.ORIGINAL_SET_MATRICES)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
def test_unique_is_numpys(n: int) -> None:
    a = rng_for("unique", n).integers(-5, 5 + n // 10, n)
    got = fast._unique(a)
    assert got.tolist() == np.unique(a).tolist() and got.dtype == a.dtype


def test_drawing_a_chart_does_not_import_numpy_ma() -> None:
    import subprocess
    import sys
    from pathlib import Path

    # np.unique imports numpy.ma on its first call: a twentieth of a second
    # of the viewer's start, for nothing it uses.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_plotext_patch as t\n"
        "for seed in range(12):\n"
        "    t._layered_chart(seed, log=False, own=True, size=(60, 15))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    here = str(Path(__file__).parent)
    r = subprocess.run([sys.executable, "-c", code, here], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
