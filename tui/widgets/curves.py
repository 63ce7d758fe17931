"""A panel of charts, one per metric, for a set of runs, with a shared legend."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from trackui.store.layout import SMOOTH_NONE, X_RELATIVE, X_STEP, X_WALL
from trackui.store.models import RunRow
from trackui.tui.chart_settings import RGB, ChartSettings, SettingsChanged, smoothing_label
from trackui.tui.errors import ReportsWorkerErrors
from trackui.tui.fmt import clean, fmt_number, shorten, update_if_changed
from trackui.tui.latest import LatestOnly
from trackui.tui.messages import CurvesQueried, CurvesRequest, CurvesView
from trackui.tui.refresher import StoreRefresher
from trackui.tui.widgets.chart_sections import (
    FoldedCharts,
    FoldRequested,
    Layout,
    SectionHeader,
    focus_key,
    refocus,
    section_body,
    sections_layout,
)
from trackui.tui.widgets.curves_query import MAX_DEFAULT_CHARTS, columns_for
from trackui.tui.widgets.group_query import query_with_groups
from trackui.tui.widgets.group_rows import request_groups, with_group_colours
from trackui.tui.widgets.plot_spec import MONO_MARKERS, PlotSpec, series_digest

if TYPE_CHECKING:
    pass

LIVE_REDRAW_S = 0.5
"""Live data redraws a panel's charts at most this often."""

MIN_CHART_HEIGHT = 8
"""Below this a chart has no room for its axes."""

READ_AHEAD_RUNS = 32
"""At most this many of the table's first runs are read ahead (see ``CurvesPanel.read_ahead``)."""


def x_label(x: str, x_range: tuple[float, float] | None, *, declared: bool = False) -> str:
    """The x axis's title (``declared``: the metric the script chose with ``step_metric``)."""
    label = {
        X_STEP: "step",
        X_RELATIVE: "time since start",
        X_WALL: "wall time",
    }.get(x, x)
    if declared:
        label += " (step_metric)"
    if x_range is not None:
        label += f"  [{fmt_number(x_range[0])} .. {fmt_number(x_range[1])}]"
    return label


def plot_background(app: App[Any]) -> RGB:
    """The chart background of the app's theme, for fading colours towards it."""
    try:
        c = Color.parse(app.theme_variables.get("surface", "#000000"))
    except Exception:
        return (0, 0, 0)
    return (c.r, c.g, c.b)


class CurvesPanel(ReportsWorkerErrors, Widget):
    """Charts of the metrics of some runs, one per metric, runs overlaid, in sections.

    The panel asks the store for its data in a worker and builds or reuses
    one ``MetricPlot`` per metric when the answer arrives. Charts whose data
    did not change are left alone. Charts go in sections by key prefix
    (``curves_query.chart_sections``), each under a header line when there
    are several; pinned charts come first; a section or a chart can be
    folded. The order or the folds changed, the charts are built again.
    """

    BINDINGS = [
        Binding("p", "pin", "Pin", tooltip="Pin or unpin the chart (pinned charts come first)"),
        Binding("f", "fold", "Fold", tooltip="Fold the chart (on a section's header: the section)"),
    ]

    DEFAULT_CSS = """
    CurvesPanel {
        height: 1fr;
        width: 1fr;
    }
    CurvesPanel > .curves--legend {
        height: auto;
        max-height: 3;
    }
    CurvesPanel > VerticalScroll {
        height: 1fr;
    }
    CurvesPanel .curves--body {
        height: auto;
    }
    CurvesPanel Grid {
        grid-size: 1;
        grid-gutter: 0 1;
        height: auto;
    }
    CurvesPanel.-two Grid {
        grid-size: 2;
    }
    CurvesPanel.-three Grid {
        grid-size: 3;
    }
    """

    def __init__(
        self,
        settings: ChartSettings,
        store: StoreRefresher,
        *,
        kind: str = "main",
        chart_height: int = 12,
        limit: int | None = MAX_DEFAULT_CHARTS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.settings = settings
        """What is charted and how (read at each request; its changes ask again)."""
        self.store = store
        """The index the queries run against, and its load progress."""
        self.kind = kind
        """Which metrics the panel charts: ``main``, ``system`` or ``all``."""
        self.chart_height = chart_height
        """Rows per chart; the panel grows charts to fill the room when there are few."""
        self.limit = limit
        """At most this many charts unless picked (None: all, as on the detail screen)."""
        self.runs: tuple[RunRow, ...] = ()
        """The runs charted, in legend order."""
        self.view: CurvesView | None = None
        """The last answer from the store."""
        self._queries: LatestOnly[CurvesRequest] = LatestOnly(self._start)
        self._with_time = False
        """Whether the charts read their points' times: once a cursor asked for them."""
        """One query at a time: a thread cannot be stopped, so queries started on
        every keypress would pile up and compete for the CPU."""
        self._live_timer: Any = None
        self._chart_rows = 0
        self._last_live = 0.0
        self.read_ahead_from: Callable[[], Sequence[RunRow]] | None = None
        """The runs to read ahead, in order (the run table's rows); None: none."""
        self._ahead_key: tuple[object, ...] | None = None
        self._ahead: Any = None
        self._layout: Layout | None = None
        """The sections, folds and charts the body was built for."""
        self._body: Vertical | None = None
        self._grids: list[Grid] = []
        self.empty_hint: str | None = None
        """What the legend says when no run is charted, if not "No run highlighted."."""
        self._plots: dict[str, Any] = {}
        """The body's charts by metric."""
        self._extra_lines = 0
        """Header and folded lines between the charts (they take room from them)."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="curves--legend")
        yield VerticalScroll(can_focus=False)

    def on_mount(self) -> None:
        self.settings.changed.subscribe(self, self._settings_changed, immediate=True)

    def _settings_changed(self, change: SettingsChanged) -> None:
        self.request()

    # -- requests -------------------------------------------------------

    def show_runs(self, runs: Sequence[RunRow], *, force: bool = False) -> None:
        """Chart ``runs`` (the request goes to a worker; charts update when it answers)."""
        self.runs = tuple(runs)
        self.request(force=force)

    @property
    def busy(self) -> bool:
        """Whether a query is running or a live redraw is scheduled."""
        return self._queries.busy or self._live_timer is not None

    def request_live(self) -> None:
        """New data arrived: ask again, at most once per ``LIVE_REDRAW_S``.

        Charts are the costly part of a live screen (a query and a plotext
        build each); once a second keeps a new value on screen within the
        live budget while writers log at any rate.
        """
        if self._live_timer is not None:
            return
        wait = LIVE_REDRAW_S - (time.monotonic() - self._last_live)
        if self.view is None or not self.view.shown:
            wait = 0  # nothing charted yet: the first metrics show at once
        if wait <= 0:
            self._live_now()
        else:
            self._live_timer = self.set_timer(wait, self._live_now)

    def _live_now(self) -> None:
        self._live_timer = None
        self._last_live = time.monotonic()
        self.request(force=True)

    def request(self, *, force: bool = False) -> None:
        """Ask the store again with the current runs and settings."""
        settings = self.settings
        width = self.size.width or self.app.size.width
        req = CurvesRequest(
            run_ids=tuple(r.id for r in self.runs),
            chosen=tuple(settings.prefs.metrics) if self.kind == "main" else (),
            pinned=tuple(settings.prefs.pinned),
            kind=self.kind,
            limit=self.limit,
            x=settings.x_axis,
            smoothing=settings.smoothing,
            strength=settings.strength,
            width=width,
            x_range=settings.x_range,
            groups=request_groups(self.runs),
            band=settings.prefs.band,
            with_time=self._with_time,
        )
        queries = self._queries
        if not force and queries.busy and queries.wanted == req:
            return  # asked already: its answer is on its way
        if not force and not queries.busy and self.view is not None and self.view.request == req:
            # Same data; display settings (log scale, colours) may differ.
            # (While another request runs, asking again makes its answer stale.)
            self._render_view()
            return
        self._queries.ask(req)  # (the newest goes when the one running returns)
        self._update_legend()

    def _start(self, req: CurvesRequest) -> None:
        ahead = self._ahead
        if ahead is not None and not ahead.is_finished:
            # The query asked for now comes first; the rest is read later.
            ahead.cancel()
            self._ahead_key = None
        self._query(req)

    @work(thread=True, group="curves", exit_on_error=False, description="query curves")
    def _query(self, req: CurvesRequest) -> None:
        try:
            self.post_message(CurvesQueried(query_with_groups(self.store.index, req)))
        finally:
            self.call_later(self._query_done)  # (after the answer: one queue)

    def _query_done(self) -> None:
        if not self._queries.finished() and self.is_attached:
            self.read_ahead()

    def read_ahead(self) -> None:
        """Read the long curves of the runs a selection would chart next, while idle.

        The first read of a curve from DuckDB is most of the time its first
        draw takes (10 runs x 1M points: ~0.15 of ~0.2 s); read ahead, a
        selection of them draws from memory. Only once every run is loaded,
        between queries, for the charted metrics of the first finished runs
        of ``read_ahead_from``, and within the index's room for points (see
        ``Index.read_ahead``: curves under 100K points are skipped, so a
        root of short runs reads nothing). A query cancels it.
        """
        store = self.store
        view = self.view
        if not store.read_ahead or self.read_ahead_from is None or view is None or not view.shown:
            return
        done, total = store.loaded
        if not total or done < total or self.busy:
            return
        runs = tuple(r.id for r in self.read_ahead_from()[:READ_AHEAD_RUNS] if r.state != "running")
        x = self.settings.x_axis
        key = (runs, view.shown, x)
        if not runs or key == self._ahead_key:
            return
        if self._ahead is not None and not self._ahead.is_finished:
            self._ahead.cancel()
        self._ahead_key = key
        self._ahead = self._read_ahead(runs, view.shown, x)

    @work(thread=True, group="read-ahead", exit_on_error=False, description="read curves ahead")
    def _read_ahead(self, run_ids: tuple[str, ...], metrics: tuple[str, ...], x: str) -> None:
        from textual.worker import get_current_worker

        self.store.index.read_ahead(
            run_ids, metrics, x=x, cancel=get_current_worker().cancelled_event
        )

    # -- answers --------------------------------------------------------

    def on_metric_plot_cursor_wants_time(self, event: Message) -> None:
        """A cursor shows its point's time: from now on the curves are read with their times."""
        event.stop()
        if not self._with_time:
            self._with_time = True
            self.request()

    @on(CurvesQueried)
    def _on_curves(self, event: CurvesQueried) -> None:
        event.stop()
        if self._queries.is_stale(event.view.request):
            return  # an older answer; the newer one is on its way
        self.view = event.view
        self._render_view()
        self.read_ahead()

    def _render_view(self) -> None:
        view = self.view
        if view is None:
            return
        settings = self.settings
        req = view.request
        colours = with_group_colours(settings.colours_for(view.run_ids), view.run_ids)
        markers = {
            rid: (MONO_MARKERS[i % len(MONO_MARKERS)] if self.app.no_color else "hd")
            for i, rid in enumerate(view.run_ids)
        }
        # Imported with the first data to chart: plotext is not needed to
        # put the first screen up.
        from trackui.tui.widgets.metric_plot import MetricPlot

        layout = sections_layout(view.sections or (("", view.shown),), settings.prefs)
        # The same sections and folds: the charts are reused (kept here, not queried:
        # a body just built is not mounted yet).
        rebuild = layout != self._layout or self._body is None
        existing: dict[str, Any] = {} if rebuild else self._plots
        by_metric: dict[str, list[Any]] = {m: [] for m in view.shown}
        for s in view.series:
            if s.metric in by_metric:
                by_metric[s.metric].append(s)
        order = {rid: i for i, rid in enumerate(view.run_ids)}
        background = plot_background(self.app)
        declared_x = dict(view.declared_x)
        plots: dict[str, Any] = {}
        with self.app.batch_update():
            for _, _, drawn, _ in layout.sections:
                for metric in drawn:
                    plot = existing.get(metric) or MetricPlot(metric)
                    plots[metric] = plot
                    ss = tuple(sorted(by_metric[metric], key=lambda s: order.get(s.run_id, 0)))
                    plot.show(
                        PlotSpec(
                            metric=metric,
                            series=ss,
                            colours=tuple(colours[s.run_id] for s in ss),
                            markers=tuple(markers[s.run_id] for s in ss),
                            log=settings.is_log(metric),
                            show_raw=req.smoothing != SMOOTH_NONE,
                            x_label=x_label(
                                declared_x.get(metric, req.x),
                                req.x_range,
                                declared=metric in declared_x,
                            ),
                            x_axis=declared_x.get(metric, req.x),
                            x_range=req.x_range,
                            background=background,
                            dots=settings.dots_mode(),
                            digest=series_digest(ss),
                        )
                    )
            if rebuild:
                self._build_body(layout, plots)
            self._plots = plots
            self._fit_charts(plots.values())
        self._update_legend()

    def _build_body(self, layout: Layout, plots: dict[str, Widget]) -> None:
        """Mount the sections' headers, charts and folded lines anew, the focus kept in place."""
        focus = focus_key(self.screen.focused if self.is_attached else None)
        old = self._body
        self._body, self._grids, self._extra_lines = section_body(layout, plots)
        self._layout = layout
        self._chart_rows = 0  # (new grids: their rows are set before they are laid out)
        removed = old.remove() if old is not None else None
        mounted = self.query_one(VerticalScroll).mount(self._body)
        if focus is not None:
            self.call_later(self._refocus, removed, mounted, focus)

    async def _refocus(self, removed: Any, mounted: Any, focus: tuple[str, str]) -> None:
        """Once the old body is gone and the new one is up: focus what stood where it was."""
        if removed is not None:
            await removed
        await mounted
        w = refocus(self._body, focus) if self._body is not None else None
        if w is not None:
            # (Scrolled to once laid out: before, its place is not known.)
            self.call_after_refresh(w.scroll_visible, animate=False)

    # -- pins and folds ---------------------------------------------------

    def action_pin(self) -> None:
        """Pin the focused chart first (for this root), or unpin it."""
        metric = getattr(self.screen.focused, "metric", None)
        if isinstance(metric, str):
            self.settings.toggle_pin(metric)

    def action_fold(self) -> None:
        """Fold the focused chart (or, on a header or a folded line, what it stands for)."""
        focused = self.screen.focused
        if isinstance(focused, (SectionHeader, FoldedCharts)):
            focused.action_fold()
            return
        metric = getattr(focused, "metric", None)
        if isinstance(metric, str):
            self.settings.toggle_fold(chart=metric)

    @on(FoldRequested)
    def _fold_requested(self, event: FoldRequested) -> None:
        event.stop()
        if event.section is not None:
            self.settings.toggle_fold(section=event.section)
        if event.charts:
            self.settings.unfold_charts(event.charts)

    def _fit_charts(self, plots: Iterable[Widget] | None = None) -> None:
        """Spread few charts over the room; many charts get a fixed height and scroll.

        ``plots``: the charts of a body not mounted yet (else those on screen).
        """
        layout = self._layout
        drawn = [len(d) for _, _, d, _ in layout.sections] if layout is not None else [0]
        cols = columns_for(self.size.width or self.app.size.width, sum(drawn))
        self.set_class(cols == 2, "-two")
        self.set_class(cols == 3, "-three")
        rows = max(1, sum(-(-k // cols) for k in drawn))
        avail = max(0, (self.size.height or self.app.size.height) - 2 - self._extra_lines)
        # Fill the room when the charts fit at a readable height; else scroll.
        height = max(MIN_CHART_HEIGHT, avail // rows)
        if height * rows > avail:
            height = max(MIN_CHART_HEIGHT, self.chart_height)
        # Setting a style lays the screen out again: only on a change.
        if self._chart_rows != height:
            self._chart_rows = height
            for grid in self._grids:
                grid.styles.grid_rows = str(height)
        for plot in self.query("MetricPlot") if plots is None else plots:
            if plot.styles.height is None or plot.styles.height.value != height:
                plot.styles.height = height

    def on_resize(self) -> None:
        if self.view is not None:
            self._fit_charts()
            self.request()

    def _update_legend(self) -> None:
        legend = self.query_one(".curves--legend", Static)
        if not self.runs:
            update_if_changed(legend, Text(self.empty_hint or "No run highlighted.", style="dim"))
            return
        ids = tuple(r.id for r in self.runs)
        colours = with_group_colours(self.settings.colours_for(ids), ids)
        t = Text(no_wrap=False, overflow="ellipsis")
        for i, r in enumerate(self.runs):
            if i:
                t.append("  ")
            rgb = colours[r.id]
            mark = MONO_MARKERS[i % len(MONO_MARKERS)] if self.app.no_color else "━━"
            if mark == "hd":
                mark = "▀▄"
            t.append(mark + " ", style=f"rgb({rgb[0]},{rgb[1]},{rgb[2]}) bold")
            t.append(shorten(clean(r.name), 28))
        # What was asked last (the curves on screen may be older: "loading…").
        asked = self._queries.wanted
        smoothing, strength, x = (
            (asked.smoothing, asked.strength, asked.x)
            if asked is not None
            else (self.settings.smoothing, self.settings.strength, self.settings.x_axis)
        )
        t.append(f"   ({smoothing_label(smoothing, strength)}; x: {clean(x)})", style="dim")
        if self.view is None or self._queries.is_stale(self.view.request):
            t.append("  loading…", style="dim italic")
        elif not self.view.shown:
            t.append("  no metrics logged yet", style="dim italic")
        update_if_changed(legend, t)
