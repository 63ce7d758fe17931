"""The cursor of a chart: a line at one x, and the values of each curve there.

Like W&B's tooltip, in a terminal: the values line under a chart shows, at
the cursor's x, each run's smoothed value with its raw value beside it, and
the x as its axis reads (a step, a duration, a clock time). Everything comes
from the curves the picture was drawn from (``ChartFrame.curves``): moving
the cursor costs no query and no redraw, only the lines it changes.
"""

from __future__ import annotations

import math

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from trackui.store.layout import X_RELATIVE, X_WALL
from trackui.tui.widgets.chart_draw import (
    ChartColours,
    ChartFrame,
    ChartStyles,
    nearest,
    rows_to_strips,
    values_line,
)
from trackui.tui.widgets.plot_spec import PlotSpec
from trackui.tui.widgets.ticks import clock_label, duration_label, number_label

CURSOR = "│"
"""The cursor's line, in the empty cells of its column."""


def cursor_x(spec: PlotSpec, frame: ChartFrame, col: int) -> float:
    """The x the cursor at ``col`` reads: the data's x nearest that column's."""
    at = frame.x_of(col)
    best = None
    for x, _y, _raw in frame.curves:
        if len(x):
            v = float(x[nearest(x, at)])
            if best is None or abs(v - at) < abs(best - at):
                best = v
    return at if best is None else best


def x_text(spec: PlotSpec, frame: ChartFrame, x: float) -> str:
    """``x`` as its axis reads it: ``840``, ``1h05m``, ``14:05:30``, ``0.25``."""
    if not math.isfinite(x):
        return "—"
    if spec.x_axis == X_RELATIVE:
        return duration_label(x)
    if spec.x_axis == X_WALL:
        return clock_label(x, frame.x_hi - frame.x_lo)
    if x == round(x) and abs(x) < 1e15:
        return str(int(x))
    return number_label(x, 10.0 ** (math.floor(math.log10(abs(x) or 1.0)) - 4))


def readout_strip(
    spec: PlotSpec,
    frame: ChartFrame,
    col: int,
    width: int,
    colours: ChartColours,
    no_color: bool,
) -> Strip:
    """The values line at the cursor in column ``col``."""
    st = ChartStyles(colours, no_color)
    at = cursor_x(spec, frame, col)
    row = values_line(spec, frame, at, width, st, x_text=x_text(spec, frame, at))
    return rows_to_strips([row], width, 1, st)[0]


def cursor_strip(strip: Strip, col: int, colours: ChartColours) -> Strip:
    """A plot line with the cursor in column ``col`` (drawn where the cell is empty)."""
    if col >= strip.cell_length or strip.crop(col, col + 1).text != " ":
        return strip
    style = Style(
        color=Color.from_rgb(*colours.text), bgcolor=Color.from_rgb(*colours.background), dim=True
    )
    return Strip.join([strip.crop(0, col), Strip([Segment(CURSOR, style)], 1), strip.crop(col + 1)])
