"""The main screen: the table of runs and the curves of the chosen ones."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import Header, Input, Label, Static

from trackui.store.models import RunRow, flatten
from trackui.store.sorting import sort_rows
from trackui.tui.fmt import clean, update_if_changed
from trackui.tui.messages import RunsQueried, RunsView
from trackui.tui.screens.base import StoreScreen
from trackui.tui.screens.pickers import ChooseManyScreen, ChooseOneScreen, PromptScreen
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.run_table import BASE_COLUMNS, RunTable, column_title

FILTER_HELP = "name text, state:running, tag:x, lr>=0.001, val_accuracy>0.9, or, not, ( )"
FIXED_COLUMNS = frozenset(("created", "name", "project"))
"""Sort columns whose order a live append cannot change."""
HIGHLIGHT_DELAY_S = 0.12
"""Wait this long after the cursor stops before charting the highlighted run."""


def running_dirs(rows: Iterable[RunRow]) -> frozenset[str]:
    """The directories of the runs in ``rows`` that are running."""
    return frozenset(str(r.path) for r in rows if r.state == "running")


def parse_step_range(text: str) -> tuple[float, float] | None | str:
    """``"100:500"`` as a range, ``""`` as None, anything else as an error line."""
    text = text.strip()
    if not text:
        return None
    lo_s, sep, hi_s = text.partition(":")
    if not sep:
        lo_s, sep, hi_s = text.partition("..")
    try:
        lo = float(lo_s) if lo_s.strip() else -math.inf
        hi = float(hi_s) if hi_s.strip() else math.inf
    except ValueError:
        return "Type a range as FROM:TO, e.g. 100:500 or 1000: (blank for everything)."
    if not sep or lo >= hi:
        return "Type a range as FROM:TO with FROM below TO."
    return (lo, hi)


class RunsScreen(StoreScreen):
    """All runs in the root, filtered and sorted, with curves beside them."""

    CSS_PATH = "runs.tcss"
    AUTO_FOCUS = "RunTable"

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear", "Clear", show=False),
        Binding("c", "compare", "Compare"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse sort", show=False),
        Binding("e", "columns", "Columns"),
        Binding("m", "metrics", "Metrics"),
        Binding("s", "smoothing", "Smoothing"),
        Binding(
            "left_square_bracket", "strength(-0.1)", "Less smoothing", show=False, key_display="["
        ),
        Binding(
            "right_square_bracket", "strength(0.1)", "More smoothing", show=False, key_display="]"
        ),
        Binding("x", "x_axis", "X axis", show=False),
        Binding("z", "zoom", "Zoom", show=False),
        Binding("a", "select_all", "Select all", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: RunsView | None = None
        """The last answer of the runs query."""
        self._from_snapshot = False
        """Whether the rows shown are the snapshot the last viewer left (not read again yet)."""
        self.filter_text = ""
        self._query_again = False
        self._querying = False
        self._highlight_timer: Any = None
        self._last_query: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Container(id="runs-body"):
            with Vertical(id="runs-left"):
                with Vertical(id="filter-bar"):
                    yield Input(placeholder=FILTER_HELP, id="filter")
                    yield Label("", id="filter-error", classes="error")
                yield RunTable(id="run-table")
                yield Static("", id="runs-status")
            yield CurvesPanel(id="runs-curves", kind="main")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        self.query_one(CurvesPanel).read_ahead_from = lambda: table.rows_shown
        table.sort_column = self.track.prefs.sort
        table.sort_descending = self.track.prefs.descending
        self._set_status()
        self._layout()
        if self.track.snapshot_rows and not self.track.scanned:
            self._show_snapshot(self.track.snapshot_rows)
        self.mark_ready(catch_up=self.track.scanned)

    def _show_snapshot(self, rows: list[RunRow]) -> None:
        """The run list the last viewer left, until the index answers (``store.snapshot``)."""
        table = self.query_one(RunTable)
        config_keys: set[str] = set()
        summary_keys: set[str] = set()
        for r in rows:
            config_keys.update(flatten(r.config))
            summary_keys.update(r.summary)
        ordered = sort_rows(rows, table.sort_column, table.sort_descending, self.track.now())
        self.view = RunsView(tuple(ordered), len(rows), tuple(sorted(config_keys)),
                             tuple(sorted(summary_keys)))  # fmt: skip
        self._from_snapshot = True
        columns = self._table_columns()
        table.show(ordered, columns, self.track.now())
        self._set_status()
        self._layout()
        # Something is on screen: the metric load need not wait for the
        # index's own rows to be painted.
        self.call_after_refresh(self.track.table_painted)

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        # Wide terminals put curves beside the table; narrow ones below it,
        # with the table only as tall as its rows (up to 45%) so that few
        # runs leave the room to the charts.
        narrow = self.size.width < 140
        self.set_class(narrow, "-narrow")
        left = self.query_one("#runs-left")
        if narrow and self.size.height:
            rows = len(self.view.rows) if self.view is not None else 0
            extra = 2 + (2 if self.query_one("#filter-bar").display else 0)
            cap = max(8, int(self.size.height * 0.45))
            height = max(8, min(cap, rows + extra + 1))
            if left.styles.height is None or left.styles.height.value != height:
                left.styles.height = height
        elif left.styles.height is None or str(left.styles.height) != "1fr":
            left.styles.height = "1fr"

    # -- store -> screen ------------------------------------------------------

    def reload(self, changed: frozenset[str]) -> None:
        if not self._patch_rows(changed):
            self.query_runs()
        panel = self.query_one(CurvesPanel)
        # No run charted yet (the first load): the curves are asked for once
        # the table's rows are up (``_chart_runs``), so that their query and
        # plotext's import do not hold up the first rows.
        if panel.runs and (
            not changed or any(r.id in changed for r in panel.runs) or panel.view is None
        ):
            panel.request_live()
        else:
            panel.read_ahead()  # (the load may have just finished)

    def _patch_rows(self, changed: frozenset[str]) -> bool:
        """Put the new rows of ``changed`` runs in place, without a query.

        For live runs: a few rows of thousands changed, and no filter could
        let a run in or out. Returns False when a query is needed (a filter,
        a run new or gone, a query in flight whose answer would be older).
        """
        view = self.view
        app = self.track
        if (
            not changed
            or view is None
            or view.error is not None
            or self._from_snapshot
            or self._querying
            or self.filter_text.strip()
            or app.loaded[1] != view.total
            or len(view.rows) != view.total
        ):
            return False
        shown = {r.id for r in view.rows}
        if not changed <= shown:
            return False
        try:  # (the index is open: it reported the change)
            new = {run_id: app.index.run(run_id) for run_id in changed}
        except LookupError:
            return False
        rows: Sequence[RunRow] = tuple(new.get(r.id, r) for r in view.rows)
        table = self.query_one(RunTable)
        now = app.now()
        if table.sort_column not in FIXED_COLUMNS:
            rows = sort_rows(rows, table.sort_column, table.sort_descending, now)
        self.view = RunsView(tuple(rows), view.total, view.config_keys, view.summary_keys)
        columns = self._table_columns()
        table.show(rows, columns, now)
        app.live_dirs = running_dirs(rows)
        return True

    def ingest_progress(self, done: int, total: int) -> None:
        self._set_status()

    def clock_tick(self) -> None:
        if self.is_current:
            self.query_one(RunTable).refresh_ages(self.track.now())

    def query_runs(self) -> None:
        """Ask the index for the table's rows (coalesced: one query at a time)."""
        if self._querying:
            self._query_again = True
            return
        table = self.query_one(RunTable)
        key = (
            self.filter_text,
            table.sort_column,
            table.sort_descending,
            tuple(self.track.prefs.columns),
            self.track.generation,
        )
        if key == self._last_query:
            return  # the same question of the same data: the answer is on screen
        self._last_query = key
        self._querying = True
        self._run_query(self.filter_text, table.sort_column, table.sort_descending)

    @work(thread=True, group="runs-query", exit_on_error=False, description="query runs")
    def _run_query(self, filter_text: str, sort: str, descending: bool) -> None:
        from trackui.store.index import FilterError

        app = self.track
        error: str | None = None
        try:
            try:
                rows = app.index.runs(filter=filter_text, sort=None)  # (sorted below)
            except FilterError as e:
                error = str(e) or "bad filter"
                rows = None
            config_keys, summary_keys = app.index.keys()
            total = app.index.loaded[1]
            if rows is None:
                view = RunsView((), total, tuple(config_keys), tuple(summary_keys), error=error)
            else:
                ordered = sort_rows(rows, sort, descending, app.now())
                view = RunsView(tuple(ordered), total, tuple(config_keys), tuple(summary_keys))
            self.post_message(RunsQueried(view))
        finally:
            app.call_from_thread_safe(self._query_done)

    def _query_done(self) -> None:
        self._querying = False
        if self._query_again:
            self._query_again = False
            self.query_runs()

    @on(RunsQueried)
    def _on_runs(self, event: RunsQueried) -> None:
        view = event.view
        error = self.query_one("#filter-error", Label)
        if view.error is not None:
            msg = clean(view.error)
            if msg.lower().startswith("filter:"):
                msg = msg[len("filter:") :].strip()
            error.update(Text(f"Filter: {msg}"))
            error.display = True
            if self.view is not None:
                self.view = RunsView(
                    self.view.rows,
                    view.total,
                    view.config_keys,
                    view.summary_keys,
                    error=view.error,
                )
            self._set_status()
            return
        error.display = False
        self.view = view
        self._from_snapshot = False
        table = self.query_one(RunTable)
        columns = self._table_columns()
        table.show(view.rows, columns, self.track.now())
        self.track.live_dirs = running_dirs(view.rows)
        self._set_status()
        self._layout()
        # The rows go to the screen first: the curves' worker imports NumPy
        # and reads points, and would hold up the frame that shows them.
        self.call_after_refresh(self._chart_runs)
        self.call_after_refresh(self.track.table_painted)

    def _set_status(self) -> None:
        table = self.query_one(RunTable)
        app = self.track
        t = Text(no_wrap=True, overflow="ellipsis")
        if self.view is None:
            t.append("Reading runs…", style="italic")
        elif self._from_snapshot:
            t.append(f"{len(self.view.rows)} runs as last seen · reading…", style="italic")
        else:
            shown = len(self.view.rows)
            t.append(f"{shown}", style="bold")
            t.append(f" of {self.view.total} runs")
            if table.selected:
                t.append(" · ")
                t.append(f"{len(table.selected)} selected", style="bold")
            if self.filter_text:
                t.append(" · filter: ")
                t.append(clean(self.filter_text), style="italic")
            arrow = "▼" if table.sort_descending else "▲"
            t.append(f" · sort: {column_title(table.sort_column)} {arrow}", style="dim")
        done, total = app.loaded
        if total and done < total:
            t.append(f" · loading metrics {done}/{total}", style="yellow")
        update_if_changed(self.query_one("#runs-status", Static), t)

    # -- what the curves show ---------------------------------------------------

    def charted_runs(self) -> list[RunRow]:
        """The selected runs (in table order) or else the highlighted one."""
        table = self.query_one(RunTable)
        if table.selected and self.view is not None:
            known = {r.id: r for r in self.view.rows}
            rows = [known[i] for i in known if i in table.selected]
            # Selected runs hidden by the filter still count.
            hidden = [i for i in table.selected if i not in known]
            if hidden:
                prev = {r.id: r for r in self.query_one(CurvesPanel).runs}
                rows += [prev[i] for i in hidden if i in prev]
            return rows
        r = table.highlighted
        return [r] if r is not None else []

    def _chart_runs(self) -> None:
        if self._from_snapshot:
            return  # the curves wait for runs the index has read
        self.query_one(CurvesPanel).show_runs(self.charted_runs())

    @on(RunTable.RunHighlighted)
    def _highlighted(self, event: RunTable.RunHighlighted) -> None:
        if self.query_one(RunTable).selected:
            return
        # Scrolling through the table should not query for every row passed.
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        self._highlight_timer = self.set_timer(HIGHLIGHT_DELAY_S, self._chart_runs)

    @on(RunTable.SelectionChanged)
    def _selection_changed(self, event: RunTable.SelectionChanged) -> None:
        self._set_status()
        self._chart_runs()

    @on(RunTable.SortRequested)
    def _sort_requested(self, event: RunTable.SortRequested) -> None:
        self._sort_by(event.column)

    @on(RunTable.RunChosen)
    def _run_chosen(self, event: RunTable.RunChosen) -> None:
        event.stop()
        self.action_open()

    # -- filter ----------------------------------------------------------------

    def action_filter(self) -> None:
        """Type a filter."""
        bar = self.query_one("#filter-bar")
        bar.display = True
        self._layout()
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        if text == self.filter_text:
            return  # Input reports its initial value too
        self.filter_text = text
        self.query_runs()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one(RunTable).focus()
        if not self.filter_text:
            self.query_one("#filter-bar").display = False

    def action_clear(self) -> None:
        """Escape: leave the filter box, then clear the filter, then the selection."""
        filt = self.query_one("#filter", Input)
        table = self.query_one(RunTable)
        if filt.has_focus:
            table.focus()
            if not self.filter_text:
                self.query_one("#filter-bar").display = False
            return
        if self.filter_text:
            filt.value = ""
            self.filter_text = ""
            self.query_one("#filter-bar").display = False
            self.query_runs()
            return
        if table.selected:
            table.set_selected(())

    # -- actions ---------------------------------------------------------------

    def action_open(self) -> None:
        """Open the highlighted run."""
        from trackui.tui.screens.run_detail import RunDetailScreen

        r = self.query_one(RunTable).highlighted
        if r is not None:
            self.app.push_screen(RunDetailScreen(r))

    def action_compare(self) -> None:
        """Compare the selected runs (or the highlighted one with the selection)."""
        from trackui.tui.screens.compare import CompareScreen

        rows = self.charted_runs()
        table = self.query_one(RunTable)
        if len(table.selected) < 2:
            self.notify(
                "Select two or more runs with space, then press c.", severity="warning", timeout=3
            )
            return
        self.app.push_screen(CompareScreen(rows))

    def action_select_all(self) -> None:
        """Select every run shown (or clear the selection when all are selected)."""
        table = self.query_one(RunTable)
        ids = {r.id for r in table.rows_shown}
        table.set_selected(set() if ids <= table.selected else table.selected | ids)

    def _table_columns(self) -> list[str]:
        """The table's columns: the fixed ones, then the chosen summary and config keys."""
        return [k for k, _ in BASE_COLUMNS] + list(self.track.prefs.columns)

    def _sort_columns(self) -> list[str]:
        return [k for k, _ in BASE_COLUMNS if k != "sel"] + list(self.track.prefs.columns)

    def action_sort(self) -> None:
        """Pick the column to sort by."""
        table = self.query_one(RunTable)
        items = [(k, column_title(k) if ":" not in k else k) for k in self._sort_columns()]
        self.app.push_screen(
            ChooseOneScreen("Sort by (again to reverse)", items, table.sort_column),
            self._sort_by,
        )

    def _sort_by(self, column: str | None) -> None:
        if not column:
            return
        table = self.query_one(RunTable)
        if column == table.sort_column:
            table.sort_descending = not table.sort_descending
        else:
            table.sort_column = column
            # Names read best A-Z; numbers and times best-first.
            table.sort_descending = column not in ("name", "project", "state")
        self.track.prefs.sort = table.sort_column
        self.track.prefs.descending = table.sort_descending
        self.track.save_prefs()
        self.query_runs()

    def action_reverse(self) -> None:
        """Reverse the sort order."""
        self._sort_by(self.query_one(RunTable).sort_column)

    def action_columns(self) -> None:
        """Choose summary and config columns."""
        view = self.view
        if view is None:
            return
        config_keys, summary_keys = view.config_keys, view.summary_keys
        if self.track.scanned:
            # The index's keys now (rows patched in place by live refreshes
            # leave the view's list as the last query found it).
            config_keys, summary_keys = map(tuple, self.track.index.keys())
        items = [(f"summary:{k}", f"summary  {k}") for k in summary_keys]
        items += [(f"config:{k}", f"config   {k}") for k in config_keys]

        def done(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            order = {v: i for i, (v, _) in enumerate(items)}
            self.track.prefs.columns = sorted(chosen, key=lambda c: order.get(c, 0))
            self.track.save_prefs()
            if self.view is not None:
                table = self.query_one(RunTable)
                if table.sort_column not in self._sort_columns():
                    table.sort_column = "created"
                self.query_runs()

        self.app.push_screen(ChooseManyScreen("Columns", items, self.track.prefs.columns), done)

    def action_metrics(self) -> None:
        """Choose which metrics to chart."""
        panel = self.query_one(CurvesPanel)
        if panel.view is None or not panel.view.metrics:
            self.notify("No metrics to choose from yet.", timeout=2)
            return
        items = [(m.name, m.name) for m in panel.view.metrics]

        def done(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            order = {v: i for i, (v, _) in enumerate(items)}
            self.track.prefs.metrics = sorted(chosen, key=lambda c: order.get(c, 0))
            self.track.save_prefs()
            panel.request()

        self.app.push_screen(
            ChooseManyScreen(
                "Metrics to chart (none ticked: the shared ones)", items, panel.view.shown
            ),
            done,
        )

    def action_strength(self, delta: float) -> None:
        """Smooth more or less."""
        self.track.set_smoothing(strength=self.track.prefs.strength + delta)

    def action_x_axis(self) -> None:
        """Cycle the x axis: step, relative time, wall time, then logged metrics such as epoch."""
        panel = self.query_one(CurvesPanel)
        metrics = panel.view.metrics if panel.view is not None else ()
        self.track.cycle_x_axis([m.name for m in metrics if m.name in ("epoch", "trainer/epoch")])

    def action_zoom(self) -> None:
        """Zoom every chart to an x range."""
        rng = self.track.x_range

        def fmt(v: float) -> str:
            return "" if math.isinf(v) else f"{v:g}"

        value = f"{fmt(rng[0])}:{fmt(rng[1])}" if rng else ""

        def validate(text: str) -> str | None:
            r = parse_step_range(text)
            return r if isinstance(r, str) else None

        def done(text: str | None) -> None:
            if text is None:
                return
            r = parse_step_range(text)
            if not isinstance(r, str):
                self.track.set_x_range(r)

        self.app.push_screen(
            PromptScreen(
                "Zoom to x range FROM:TO (blank: everything)",
                value=value,
                placeholder="e.g. 1000:5000",
                validate=validate,
            ),
            done,
        )

    def action_reload(self) -> None:
        """Rescan the root now."""
        self.track.schedule_refresh(full=True)

    def system_commands(self) -> Iterable[SystemCommand]:
        """Commands for the palette that act on this screen."""
        yield SystemCommand("Filter runs", FILTER_HELP, self.action_filter)
        yield SystemCommand("Compare selected runs", "Diff config and summary", self.action_compare)
        yield SystemCommand("Choose columns", "Summary and config columns", self.action_columns)
        yield SystemCommand("Choose metrics", "Which metrics to chart", self.action_metrics)
        yield SystemCommand("Zoom to x range", "Show a step range", self.action_zoom)
        yield SystemCommand("Select all runs", "Select every run shown", self.action_select_all)
        yield SystemCommand(
            "Clear selection",
            "Unselect every run",
            lambda: self.query_one(RunTable).set_selected(()),
        )
        yield SystemCommand("Reverse sort", "Flip the sort order", self.action_reverse)
        for key in self._sort_columns():
            yield SystemCommand(
                f"Sort by {clean(key)}",
                "Order the table by this column",
                lambda k=key: self._sort_by(k),
            )
        panel = self.query_one(CurvesPanel)
        if panel.view is not None:
            for m in panel.view.metrics:
                yield SystemCommand(
                    f"X axis: {clean(m.name)}",
                    "Plot curves against this metric",
                    lambda n=m.name: self.track.set_x_axis(n),
                )


def flat_config(row: RunRow) -> dict[str, Any]:
    """A run's config with nested keys joined by ``/``."""
    return flatten(row.config)
