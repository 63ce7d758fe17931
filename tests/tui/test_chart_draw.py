"""``draw_chart``: a spec drawn at a size, with no app: joined points, bars, bands, the frame."""

from __future__ import annotations

import numpy as np

from trackui.store.models import Series
from trackui.tui.widgets.chart_draw import draw_chart
from trackui.tui.widgets.plot_spec import PlotSpec, series_digest

BRAILLE_BLANK = "\u2800"


def spec(y, *, x=None, points=None, **kw) -> PlotSpec:
    y = np.asarray(y, dtype=float)
    x = np.arange(len(y), dtype=float) if x is None else np.asarray(x, dtype=float)
    lo, hi = kw.pop("lo", y), kw.pop("hi", y)
    s = (Series("r", "m", x, y, y, np.asarray(lo), np.asarray(hi), points or len(y)),)
    return PlotSpec("m", s, ((200, 100, 0),), ("hd",), digest=series_digest(s), **kw)


def plot_cells(picture) -> list[str]:
    f = picture.frame
    return [
        s.text[f.plot_left : f.plot_left + f.plot_cols]
        for s in picture.strips[f.plot_top : f.plot_top + f.plot_rows]
    ]


def test_a_few_points_are_joined_across_the_whole_plot() -> None:
    # Five epochs: one line from the first column to the last, no empty column.
    pic = draw_chart(spec([1.0, 2.0, 1.5, 3.0, 2.5]), 40, 12)
    cells = plot_cells(pic)
    cols = ["".join(r[c] for r in cells) for c in range(len(cells[0]))]
    assert all(col.strip() for col in cols)
    assert all(s.cell_length == 40 for s in pic.strips) and len(pic.strips) == 12


def test_bars_rise_from_zero_and_points_stand_alone() -> None:
    pic = draw_chart(spec([1.0, 3.0, 2.0], kinds=("bars",)), 30, 12)
    cells = plot_cells(pic)
    assert cells[-1].strip() and cells[0].strip()  # from the bottom row to the top one
    pic = draw_chart(spec([1.0, 3.0, 2.0], kinds=("points",)), 30, 12)
    lit = sum(ch not in " " + BRAILLE_BLANK for row in plot_cells(pic) for ch in row)
    assert lit == 3


def test_the_frame_reads_round_ticks_and_the_last_value() -> None:
    pic = draw_chart(spec(np.linspace(0.0, 2000.0, 50), x=np.linspace(0, 1999, 50)), 60, 14)
    text = [s.text for s in pic.strips]
    assert text[0].strip() == "m"
    ticks = text[-2].split()
    assert ticks == ["0", "500", "1k", "1.5k"]
    assert text[-1].startswith("step · last") and "2000" in text[-1]


def test_a_band_is_drawn_behind_a_long_curve() -> None:
    y = np.full(30, 5.0)
    pic = draw_chart(spec(y, lo=y - 2, hi=y + 2, points=3000), 40, 12)
    cells = plot_cells(pic)
    assert sum(1 for r in cells if r.strip()) >= 6  # the band's rows, not the flat line's one
    # Without the band's room (one point per bucket), the flat line is one row.
    pic = draw_chart(spec(y, lo=y - 2, hi=y + 2), 40, 12)
    assert sum(1 for r in plot_cells(pic) if r.strip()) == 1


def test_log_axes_say_so_and_tick_at_powers_of_ten() -> None:
    pic = draw_chart(spec([1000.0, 100.0, 10.0, 1.0, 0.1], log=True), 40, 16)
    text = [s.text for s in pic.strips]
    assert text[0].strip() == "m (log)"
    labels = [t.split("┤")[0].strip() for t in text if "┤" in t]
    assert labels == ["1k", "100", "10", "1", "0.1"]
