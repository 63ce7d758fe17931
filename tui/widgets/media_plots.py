"""A logged chart on screen: lines and points drawn by the curves' renderer
(``MetricPlot`` given a ``PlotSpec`` of series, one per line), bars and grids as text,
with a legend naming the lines."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from trackui.store.models import Series
from trackui.tui.chart_settings import PALETTE
from trackui.tui.fmt import literal
from trackui.tui.widgets.media_charts import Binned, Chart, Grid, Lines, NotDrawn
from trackui.tui.widgets.media_views import count_grid, histogram_bars, labelled_bars
from trackui.tui.widgets.plot_spec import MONO_MARKERS, RGB, PlotSpec, series_digest


def line_series(chart: Lines) -> tuple[Series, ...]:
    """One series per line; points not joined are kept apart by gaps (NaN), which the
    renderer never joins across."""
    import numpy as np

    out = []
    for name, xs, ys in zip(chart.names, chart.xs, chart.ys, strict=True):
        x = np.asarray(xs, dtype=np.float64)
        y = np.asarray(ys, dtype=np.float64)
        if not chart.joined:
            gap = np.full(len(x), np.nan)
            x = np.column_stack((x, gap)).ravel()[:-1]
            y = np.column_stack((y, gap)).ravel()[:-1]
        out.append(Series(name or "value", chart.title, x, y, y, y, y, len(x)))
    return tuple(out)


def lines_spec(chart: Lines, title: str, *, no_color: bool, background: RGB) -> PlotSpec:
    """The ``PlotSpec`` the curves' renderer draws for ``chart``."""
    ss = line_series(chart)
    n = len(ss)
    return PlotSpec(
        metric=title,
        series=ss,
        colours=tuple(PALETTE[i % len(PALETTE)] for i in range(n)),
        markers=tuple(MONO_MARKERS[i % len(MONO_MARKERS)] if no_color else "hd" for i in range(n)),
        show_raw=False,
        x_label=chart.x_label,
        background=background,
        digest=series_digest(ss),
    )


def legend(chart: Lines, *, no_color: bool) -> Text:
    """Each line's name beside its colour (or its marker, without colour)."""
    out = Text(no_wrap=True)
    for i, name in enumerate(chart.names):
        if i:
            out.append("   ")
        if no_color:
            mark = MONO_MARKERS[i % len(MONO_MARKERS)]
            out.append("━━ " if mark == "hd" else f"{mark} ")  # (hd: plotext's block dots)
        else:
            r, g, b = PALETTE[i % len(PALETTE)]
            out.append("━━ ", style=f"rgb({r},{g},{b})")
        out.append_text(literal(name or "value"))
    return out


def chart_widgets(
    chart: Chart, title: str, width: int, *, no_color: bool, background: RGB
) -> list[Widget]:
    """The widgets that show ``chart`` (``title``: the key, where the chart has none)."""
    head = chart.title if not isinstance(chart, NotDrawn) and chart.title else title
    if isinstance(chart, Lines):
        from trackui.tui.widgets.metric_plot import MetricPlot

        plot = MetricPlot(head, id="media-chart")
        plot.show(lines_spec(chart, head, no_color=no_color, background=background))
        out: list[Widget] = [plot]
        if len(chart.names) > 1 or chart.names[:1] != ("",):
            out.append(Static(legend(chart, no_color=no_color), id="media-legend"))
        return out
    text: Text
    if isinstance(chart, Binned):
        ref: dict[str, Any] = {"bins": list(chart.edges), "values": list(chart.counts)}
        text = histogram_bars(ref, width)
    elif isinstance(chart, Grid):
        text = count_grid(
            chart.row_label,
            chart.col_label,
            list(chart.rows),
            list(chart.cols),
            [list(r) for r in chart.counts],
        )
    elif isinstance(chart, NotDrawn):
        return [Static(Text(chart.reason, style="dim"), id="media-not-drawn")]
    else:
        text = labelled_bars(list(chart.labels), list(chart.values), width)
    caption = literal(head, style="bold")
    caption.append("\n")
    return [Static(caption + text, id="media-drawn")]
