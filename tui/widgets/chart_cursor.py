"""The values line under a chart, and its cursor: a line at one x, and each curve's value there.

Like W&B's tooltip, in a terminal: the values line under a chart shows, at
the cursor's x, each run's smoothed value with its raw value beside it, and
the x as its axis reads (a step, a duration, a clock time) with the step and
the time of the point there: ``step 840 · 14:05:30 (+1h05m)``. Everything comes
from the curves the picture was drawn from (``ChartFrame.curves``): moving
the cursor costs no query and no redraw, only the lines it changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from trackui.store.layout import X_RELATIVE, X_STEP, X_WALL
from trackui.tui.fmt import clean, shorten
from trackui.tui.widgets.chart_frame import ChartColours, ChartFrame, ChartStyles, rows_to_strips
from trackui.tui.widgets.dots import ASCII, BRAILLE
from trackui.tui.widgets.plot_spec import PlotSpec
from trackui.tui.widgets.ticks import clock_label, duration_label, number_label

CURSOR = "│"
"""The cursor's line, in the empty cells of its column."""


def series_glyph(marker: str, mode: str = BRAILLE) -> str:
    """What stands for a series in a values line: its marker, or a line in its colour."""
    if marker == "hd":
        return "--" if mode == ASCII else "━"
    return marker


def values_line(
    spec: PlotSpec,
    frame: ChartFrame,
    at: float | None,
    width: int,
    st: ChartStyles,
    heads: Sequence[str] = ("",),
) -> list[tuple[str, Style]]:
    """The values line: each curve's last value, or (``at``) its value at that x, raw beside it.

    ``heads`` are what the line starts with at a cursor, longest first. The
    values always show: the raw value reads ``(raw 0.25)``, or ``(0.25)``;
    the head gets shorter, then the raw values go, then the time.
    """
    # A time without raw values before raw values without a time; the bare x last.
    timed, bare = heads[:-1] or heads, heads[-1]
    tries = [(heads[0], " (raw {})"), *[(h, " ({})") for h in timed], *[(h, "") for h in timed]]
    tries += [(bare, " ({})"), (bare, "")]
    for head, raw_form in tries:
        out = _values_line(spec, frame, at, width, st, head, raw_form)
        if sum(len(t) for t, _ in out) <= width:
            break
    return out


def _values_line(
    spec: PlotSpec,
    frame: ChartFrame,
    at: float | None,
    width: int,
    st: ChartStyles,
    x_text: str,
    raw_form: str,
) -> list[tuple[str, Style]]:
    label = shorten(clean(spec.x_label), max(4, width // 3))
    out: list[tuple[str, Style]] = []
    dot = "|" if frame.mode == ASCII else "·"
    if at is None:
        out.append((f"{label} {dot} last", st.dim))
    else:
        out.append((x_text, st.text))
    for i, (x, y, raw) in enumerate(frame.curves):
        colour = spec.colours[i] if i < len(spec.colours) else (200, 200, 200)
        marker = spec.markers[i] if i < len(spec.markers) else "hd"
        out.append(("  " if out else "", st.text))
        out.append((series_glyph(marker, frame.mode) + " ", st.cached(colour)))
        if not len(x):
            out.append(("-" if frame.mode == ASCII else "—", st.dim))
            continue
        j = len(x) - 1 if at is None else nearest(x, at)
        out.append((value_label(y[j]), st.text))
        if at is not None and raw_form and raw[j] != y[j] and math.isfinite(raw[j]):
            out.append((raw_form.format(value_label(raw[j])), st.dim))
    return out


def nearest(x: np.ndarray, at: float) -> int:
    """The index of the value of sorted ``x`` nearest ``at``."""
    j = int(np.searchsorted(x, at))
    if j <= 0:
        return 0
    if j >= len(x):
        return len(x) - 1
    return j if x[j] - at < at - x[j - 1] else j - 1


def value_label(v: float) -> str:
    """A value in a values line: four significant digits, SI above a thousand."""
    if not math.isfinite(v):
        return "—"
    a = abs(v)
    if a == 0 or 1e-3 <= a < 1e4:
        return f"{v:.4g}"
    return number_label(v, 10.0 ** (math.floor(math.log10(a)) - 3))


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


def cursor_heads(spec: PlotSpec, frame: ChartFrame, at: float, width: int) -> tuple[str, ...]:
    """What a values line at ``at`` starts with, longest first.

    The x as its axis reads, with the step and the time of the point there
    where the axis is not already that: ``step 840 · 14:05:30 (+1h05m)``,
    then ``step 840 · +1h05m``, then ``step 840``. The time is that of the
    run whose point is nearest the cursor (runs log at their own paces).
    """
    label = shorten(clean(spec.x_label), max(4, width // 3))
    dot = " | " if frame.mode == ASCII else " · "
    step, t, start = point_when(frame, at)
    xt = x_text(spec, frame, at)
    steps = "" if step is None else f"step {int(step)}"
    span = frame.x_hi - frame.x_lo if spec.x_axis == X_WALL else 0.0  # (a date on days)
    clock = None if t is None else clock_label(t, span)
    since = None if t is None or start is None or t < start else "+" + duration_label(t - start)
    if spec.x_axis == X_STEP:
        x_part = steps or f"{label} {xt}"
        full, short = [clock and since and f"{clock} ({since})", clock], [since, clock]
    elif spec.x_axis == X_WALL:
        x_part = f"{xt}{dot}{steps}" if steps else xt
        full, short = [since], [since]
    elif spec.x_axis == X_RELATIVE:
        x_part = f"+{xt}{dot}{steps}" if steps else f"+{xt}"
        full, short = [clock], []
    else:
        x_part = f"{label} {xt}{dot}{steps}" if steps else f"{label} {xt}"
        full, short = [clock and since and f"{clock} ({since})", clock], [since, clock]
    heads = [f"{label} {xt}{dot}{steps}{dot}{full[0]}" if spec.x_axis in (X_WALL, X_RELATIVE)
             and full[0] and steps else None]  # fmt: skip
    for when in (*full, *short):
        if when:
            heads.append(f"{x_part}{dot}{when}")
    heads.append(x_part)
    return tuple(dict.fromkeys(h for h in heads if h))


def point_when(frame: ChartFrame, at: float) -> tuple[float | None, float | None, float | None]:
    """The step, wall time and run start of the point nearest ``at`` (None: not known)."""
    best: tuple[float, int, int] | None = None
    for i, (x, _y, _raw) in enumerate(frame.curves):
        if len(x):
            j = nearest(x, at)
            d = abs(float(x[j]) - at)
            if best is None or d < best[0]:
                best = (d, i, j)
    if best is None or best[1] >= len(frame.when):
        return None, None, None
    _, i, j = best
    w = frame.when[i]

    def pick(a: np.ndarray | None) -> float | None:
        if a is None or j >= len(a) or not math.isfinite(float(a[j])):
            return None
        return float(a[j])

    return pick(w.step), pick(w.t), w.start_time


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
    row = values_line(spec, frame, at, width, st, cursor_heads(spec, frame, at, width))
    return rows_to_strips([row], width, 1, st)[0]


def cursor_strip(strip: Strip, col: int, colours: ChartColours) -> Strip:
    """A plot line with the cursor in column ``col`` (drawn where the cell is empty)."""
    if col >= strip.cell_length or strip.crop(col, col + 1).text != " ":
        return strip
    style = Style(
        color=Color.from_rgb(*colours.text), bgcolor=Color.from_rgb(*colours.background), dim=True
    )
    return Strip.join([strip.crop(0, col), Strip([Segment(CURSOR, style)], 1), strip.crop(col + 1)])
