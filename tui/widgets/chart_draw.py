"""A chart drawn as text: title, axes with round ticks, curves on a dot grid, a values line.

:func:`draw_chart` draws a :class:`PlotSpec` at a size into one ``Strip`` per
line, with no widget and no chart library: the curves go onto a
:class:`DotGrid` (braille, quadrant blocks or ASCII), the frame is written
around it. The rows, top to bottom::

    title                      loss (log)
    plot, y ticks at left   1.5k┤  ⠈⠢⡀
                               │     ⠑⠤⣀
    x axis                     └──┬────┬──
    x ticks                       0   500
    values line             step · last ━ 0.0606 ━ 0.14

The values line (``chart_cursor.values_line``) shows each curve's last
value; a cursor puts the values at its x there instead. What the picture
needs to place a cursor is kept with it as a ``ChartFrame``.
"""

from __future__ import annotations

import math

import numpy as np
from rich.style import Style

from trackui.store.groups import is_group_id
from trackui.store.layout import X_RELATIVE, X_WALL
from trackui.tui.fmt import clean, shorten
from trackui.tui.widgets.chart_cursor import values_line
from trackui.tui.widgets.chart_frame import (
    ChartColours,
    ChartFrame,
    ChartPicture,
    ChartStyles,
    rows_to_strips,
    when_of,
)
from trackui.tui.widgets.dots import ASCII, BRAILLE, FACTORS, DotGrid, to_dots
from trackui.tui.widgets.plot_spec import (
    FAINT_LAYERS_MAX_RUNS,
    PlotSpec,
    drawable,
    drawable_runs,
    fade,
    scaled,
    y_exponent,
)
from trackui.tui.widgets.ticks import (
    Ticks,
    clock_ticks,
    duration_ticks,
    linear_ticks,
    log_ticks,
)

SINGLE_POINT_MARKER = "●"
"""How a curve of one point is drawn: a dot alone is all but invisible."""

LINE, POINTS, BARS = "line", "points", "bars"
"""How a series is drawn (``PlotSpec.kinds``)."""


def chart_title(metric: str, width: int, *, log: bool = False, exponent: int = 0) -> str:
    """A chart's title: the metric, ``(log)`` on a log axis, the unit of huge or tiny values."""
    notes = (" (log)" if log else "") + (f" (×1e{exponent:+d})" if exponent else "")
    room = max(1, width - 4 - len(notes))
    return shorten(clean(metric), room) + notes


def x_ticks(kind: str, lo: float, hi: float, room: int, integer: bool) -> Ticks:
    """The x axis's ticks: durations, clock times or round numbers."""
    if kind == X_RELATIVE:
        return duration_ticks(lo, hi, room)
    if kind == X_WALL:
        return clock_ticks(lo, hi, room)
    return linear_ticks(lo, hi, room, integer=integer)


def draw_chart(
    spec: PlotSpec,
    width: int,
    height: int,
    *,
    mode: str = BRAILLE,
    colours: ChartColours | None = None,
    no_color: bool = False,
) -> ChartPicture:
    """``spec`` drawn at ``width`` x ``height`` cells (always exactly that many)."""
    mode = mode if mode in FACTORS else BRAILLE
    colours = colours or ChartColours(background=spec.background)
    st = ChartStyles(colours, no_color)
    frame = ChartFrame()
    width, height = max(0, width), max(0, height)
    if width < 4 or height < 3:
        title = chart_title(spec.metric, width + 4)[:width]
        rows = [[(title, st.text)]] + [[] for _ in range(height - 1)]
        return ChartPicture(rows_to_strips(rows, width, height, st), frame)
    log = spec.log
    exponent = y_exponent(spec.series, log=log)
    few = len(spec.series) <= FAINT_LAYERS_MAX_RUNS
    kinds = spec.kinds or (LINE,) * len(spec.series)
    # What each series draws: (x, y arrays, role) in data units, scaled.
    layers: list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray | None]] = []
    for i, s in enumerate(spec.series):
        x = np.asarray(s.x, dtype=np.float64)
        y, raw = scaled(s.y, exponent), scaled(s.raw, exponent)
        kind = kinds[i] if i < len(kinds) else LINE
        many = s.points > len(x) and len(x) > 0
        group = is_group_id(s.run_id)  # a group's band: always drawn, never a raw curve
        if (many and few) or group:
            lo, hi = scaled(s.lo, exponent), scaled(s.hi, exponent)
            ok = drawable(x, lo, log=log) & drawable(x, hi, log=log)
            if ok.any():
                layers.append(("band", i, x[ok], lo[ok], hi[ok]))
        if spec.show_raw and few and not many and not group and not no_color and kind == LINE:
            layers.append(("raw", i, x, raw, None))
        layers.append((kind, i, x, y, None))
        ok = drawable(x, y, log=False)
        frame.curves.append((x[ok], y[ok], raw[ok]))
        frame.when.append(when_of(s, ok))
    # The ranges: the data's first to last x (or the zoom), its lowest to highest y.
    xs_all, ys_all = [], []
    for role, _i, x, y, y2 in layers:
        ok = drawable(x, y, log=log)
        if role == BARS and ok.any():
            ys_all.append(np.zeros(1) if not log else y[ok])
        if ok.any():
            xs_all.append(x[ok])
            ys_all.append(y[ok])
        if y2 is not None:
            ys_all.append(y2[drawable(x, y2, log=log)])
    drew = any(len(a) for a in xs_all)
    xs_cat = np.concatenate(xs_all) if drew else np.zeros(0)
    integer = drew and bool(np.all(xs_cat == np.round(xs_cat))) and spec.x_axis not in (X_WALL,)
    if spec.x_range is not None:
        x_lo, x_hi = float(spec.x_range[0]), float(spec.x_range[1])
    elif drew:
        x_lo, x_hi = float(xs_cat.min()), float(xs_cat.max())
    else:
        x_lo, x_hi = 0.0, 1.0
    if x_hi <= x_lo:
        pad = 1.0 if integer or x_lo == 0 else abs(x_lo) * 0.01
        x_lo, x_hi = x_lo - pad, x_hi + pad
    if drew:
        ys_cat = np.concatenate(ys_all)
        ys_cat = ys_cat[np.isfinite(ys_cat)]
        y_lo, y_hi = float(ys_cat.min()), float(ys_cat.max())
    else:
        y_lo, y_hi = 0.0, 1.0
    if log:
        y_lo, y_hi = math.log10(y_lo), math.log10(y_hi)
    if y_hi <= y_lo:
        pad = 1.0 if y_lo == 0 else abs(y_lo) * 0.1
        y_lo, y_hi = y_lo - pad, y_hi + pad
    if not (math.isfinite(y_hi - y_lo) and math.isfinite(x_hi - x_lo)):
        drew = False
        x_lo, x_hi, y_lo, y_hi = 0.0, 1.0, 0.0, 1.0

    # Rows: title, plot, x axis, x ticks, values (the last three go first when short).
    extra = [r for r, need in (("axis", 6), ("ticks", 5), ("values", 7)) if height >= need]
    plot_rows = height - 1 - len(extra)
    ascii_frame = mode == ASCII
    fy = FACTORS[mode][1]
    yt = _y_ticks(drew, log, y_lo, y_hi, plot_rows, fy)
    label_w = min(max((len(lab) for lab in yt.labels), default=0), max(0, width // 3))
    plot_left = label_w + 1
    plot_cols = max(1, width - plot_left - 1)
    grid = DotGrid(plot_cols, plot_rows, mode)
    frame.plot_left, frame.plot_cols, frame.plot_rows = plot_left, plot_cols, plot_rows
    frame.x_lo, frame.x_hi, frame.dots_x, frame.mode = x_lo, x_hi, grid.fx, mode

    # The curves, in layers: bands and raw curves behind, then the lines.
    owners: list[Style] = []
    for role, i, x, y, y2 in layers:
        colour = spec.colours[i] if i < len(spec.colours) else (200, 200, 200)
        marker = spec.markers[i] if i < len(spec.markers) else "hd"
        yv = np.log10(np.where(y > 0, y, np.nan)) if log else y
        if role == "band" and y2 is not None:
            y2v = np.log10(y2) if log else y2
            grid.spans(
                to_dots(x, x_lo, x_hi, grid.width),
                to_dots(yv, y_lo, y_hi, grid.height),
                to_dots(y2v, y_lo, y_hi, grid.height),
            )
            owners.append(st.cached(fade(colour, spec.background, 0.7), faint=True))
            continue
        ok = drawable(x, y, log=log)
        char = None if marker == "hd" else marker
        style = st.cached(fade(colour, spec.background, 0.6), faint=True)
        if role != "raw":
            style = st.cached(colour)
        for a, b in drawable_runs(ok):
            xd = to_dots(x[a:b], x_lo, x_hi, grid.width)
            yd = to_dots(yv[a:b], y_lo, y_hi, grid.height)
            if role == POINTS:
                grid.dots(xd, yd, char)
            elif role == BARS:
                base = to_dots([0.0 if not log else y_lo], y_lo, y_hi, grid.height)
                grid.spans(xd, np.full(len(yd), max(0, int(base[0]))), yd)
            elif b - a == 1 and role != "raw":
                lone = "o" if mode == ASCII else SINGLE_POINT_MARKER
                grid.dots(xd, yd, lone)  # a lone point, seen
            else:
                grid.line(xd, yd, char)
            owners.append(style)

    # The frame around the grid.
    rows: list[list[tuple[str, Style]]] = []
    title = chart_title(spec.metric, width, log=log, exponent=exponent)
    pad = max(0, (width - len(title)) // 2)
    rows.append([(" " * pad + title, st.text)])
    tick_rows: dict[int, str] = {}
    for v, lab in zip(yt.values, yt.labels, strict=True):
        d = int(to_dots([v], y_lo, y_hi, grid.height)[0])
        r = plot_rows - 1 - d // grid.fy
        if 0 <= r < plot_rows and not {r - 1, r, r + 1} & tick_rows.keys():
            tick_rows[r] = lab[-label_w:] if label_w else ""
    v_line, v_tick = ("|", "+") if ascii_frame else ("│", "┤")
    cells = grid.text_rows()
    for r in range(plot_rows):
        lab = tick_rows.get(r)
        row = [
            ((lab or "").rjust(label_w), st.text),
            (v_tick if lab is not None else v_line, st.dim),
        ]
        for ch, owner in cells[r]:
            row.append((ch, owners[owner] if owner >= 0 else st.text))
        rows.append(row)
    if not drew:
        word = ("loading..." if mode == ASCII else "loading…") if spec.loading else "no data"
        mid = 1 + plot_rows // 2
        c = plot_left + max(0, (plot_cols - len(word)) // 2)
        rows[mid] = [(" " * c, st.text), (word, st.dim)]
    # x axis and its ticks.
    if "axis" in extra or "ticks" in extra:
        room = max(2, plot_cols // 8)
        xt = x_ticks(spec.x_axis, x_lo, x_hi, room, integer) if drew else Ticks((), ())
        longest = max((len(lab) for lab in xt.labels), default=0)
        if drew and longest and room > plot_cols // (longest + 2):
            room = max(2, plot_cols // (longest + 2))
            xt = x_ticks(spec.x_axis, x_lo, x_hi, room, integer)
        cols = [frame.col_of(v) for v in xt.values]
        if "axis" in extra:
            h_line, corner, x_tick = ("-", "+", "+") if ascii_frame else ("─", "└", "┬")
            axis = [h_line] * plot_cols
            for c in cols:
                axis[c - plot_left] = x_tick
            rows.append([(" " * label_w + corner + "".join(axis), st.dim)])
        if "ticks" in extra:
            line = [" "] * width
            free = 0
            for c, lab in zip(cols, xt.labels, strict=True):
                a = min(max(0, c - len(lab) // 2), width - len(lab))
                if a < free:
                    continue
                line[a : a + len(lab)] = list(lab)
                free = a + len(lab) + 1
            rows.append([("".join(line), st.text)])
    if "values" in extra:
        frame.values_row = len(rows)
        rows.append(values_line(spec, frame, None, width, st))
    frame.plot_top = 1
    return ChartPicture(rows_to_strips(rows, width, height, st), frame)


def _y_ticks(drew: bool, log: bool, lo: float, hi: float, rows: int, fy: int) -> Ticks:
    """The y ticks: the most that fit with a row between each two, two at least.

    (``lo``, ``hi``: log10 of the range on a log axis.) Where only one tick
    would keep its rows apart, the denser ticks stay and the frame leaves
    out the labels that would touch (``draw_chart``).
    """
    if not drew:
        return Ticks((), ())
    best: Ticks | None = None
    for room in range(max(2, (rows + 1) // 2), 1, -1):
        if log:
            t = log_ticks(10.0**lo, 10.0**hi, room)
            t = Ticks(tuple(math.log10(v) for v in t.values), t.labels)
        else:
            t = linear_ticks(lo, hi, room)
        if len(t.values) < 2 and best is not None:
            return best
        at = sorted(int(d) // fy for d in to_dots(t.values, lo, hi, rows * fy))
        if all(b - a >= 2 for a, b in zip(at, at[1:], strict=False)):
            return t
        best = t
    return best if best is not None else Ticks((), ())
