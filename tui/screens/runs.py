"""The main screen: the table of runs and the curves of the chosen ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import Header, Input, Label, Static

from trackui.store.aggregates import parse_aggregate_key
from trackui.store.models import RunRow, flatten
from trackui.store.sorting import sort_rows
from trackui.tui.chart_settings import ChartSettings
from trackui.tui.fmt import clean, update_if_changed
from trackui.tui.latest import LatestOnly
from trackui.tui.messages import RunsQueried, RunsView
from trackui.tui.refresher import StoreRefresher
from trackui.tui.screens.base import StoreScreen
from trackui.tui.screens.runs_actions import FILTER_HELP, RunsActions
from trackui.tui.screens.runs_actions import parse_step_range as parse_step_range  # (re-exported)
from trackui.tui.screens.runs_groups import GROUP_BINDINGS, RunsGroups
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.group_rows import charted_ids
from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.run_table import RunTable, column_title

FIXED_COLUMNS = frozenset(("created", "name", "project"))
"""Sort columns whose order a live append cannot change."""
HIGHLIGHT_DELAY_S = 0.12
"""Wait this long after the cursor stops before charting the highlighted run."""


def empty_root_hint(root: Path) -> str:
    """What the charts' place says while a root holds no run at all."""
    return (
        f"No runs in {clean(str(root))} yet. Start one with `trackui train`, or a script that"
        " calls trackui.init() (or `import trackui as wandb`); it shows here as it logs."
        " TensorBoard, wandb, MLflow and trackio runs under this folder show too."
    )


def running_dirs(rows: Iterable[RunRow]) -> frozenset[str]:
    """The directories of the runs in ``rows`` that are running."""
    return frozenset(str(r.path) for r in rows if r.state == "running")


CHARTS_MIN_WIDTH = 64
"""The fewest columns the curves keep beside a wide table."""


class RunsScreen(RunsGroups, RunsActions, StoreScreen):
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
        *GROUP_BINDINGS,
    ]

    def __init__(self, settings: ChartSettings, store: StoreRefresher) -> None:
        super().__init__(settings, store)
        self.view: RunsView | None = None
        """The last answer of the runs query."""
        self._from_snapshot = False
        """Whether the rows shown are the snapshot the last viewer left (not read again yet)."""
        self.filter_text = ""
        self._queries: LatestOnly[tuple[object, ...]] = LatestOnly(self._start_query)
        """One runs query at a time (the request: filter, sort, columns, index generation)."""
        self._highlight_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with Container(id="runs-body"):
            with Vertical(id="runs-left"):
                with Vertical(id="filter-bar"):
                    yield Input(placeholder=FILTER_HELP, id="filter")
                    yield Label("", id="filter-error", classes="error")
                yield RunTable(id="run-table")
                yield Static("", id="runs-status")
            yield CurvesPanel(self.settings, self.store, id="runs-curves", kind="main")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(RunTable)
        self.query_one(CurvesPanel).read_ahead_from = lambda: table.rows_shown
        table.sort_column = self.settings.prefs.sort
        table.sort_descending = self.settings.prefs.descending
        self._set_status()
        self._layout()
        # Columns widen as values arrive: a wide table's share follows them.
        self.watch(table, "virtual_size", lambda _size: self._layout(), init=False)
        if self.store.snapshot_rows and not self.store.scanned:
            self._show_snapshot(self.store.snapshot_rows)
        self.store.progress.subscribe(self, self._progressed, immediate=True)
        self.store.ticked.subscribe(self, self._clock_ticked, immediate=True)
        watches = getattr(self.app, "watches", None)  # (badges: tui.watch_service)
        if watches is not None:
            watches.changed.subscribe(self, lambda _: table.set_badges(watches.badges))
            table.set_badges(watches.badges)
        self.mark_ready(catch_up=self.store.scanned)

    def _show_snapshot(self, rows: list[RunRow]) -> None:
        """The run list the last viewer left, until the index answers (``store.saved_rows``)."""
        table = self.query_one(RunTable)
        config_keys: set[str] = set()
        summary_keys: set[str] = set()
        for r in rows:
            config_keys.update(flatten(r.config))
            summary_keys.update(r.summary)
        ordered = sort_rows(rows, table.sort_column, table.sort_descending, self.store.now())
        self.view = RunsView(tuple(ordered), len(rows), tuple(sorted(config_keys)),
                             tuple(sorted(summary_keys)))  # fmt: skip
        self._from_snapshot = True
        columns = self._table_columns()
        table.show(self.grouped(ordered), columns, self.store.now())
        self._set_status()
        self._layout()
        # Something is on screen: the metric load need not wait for the
        # index's own rows to be painted.
        self.call_after_refresh(self.store.table_painted)

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
        # Beside the curves, the table takes half the width, or more where its
        # columns need it (up to leaving the charts CHARTS_MIN_WIDTH): a cut
        # column reads as a wrong number.
        width = None
        if not narrow and self.size.width:
            need = self.query_one(RunTable).virtual_size.width + 2  # (its scrollbar)
            width = max(self.size.width // 2, min(need, self.size.width - CHARTS_MIN_WIDTH))
        if (left.styles.width and left.styles.width.cells) != width:
            left.styles.width = width

    # -- store -> screen ------------------------------------------------------

    def reload(self, changed: frozenset[str]) -> None:
        if not self._patch_rows(changed):
            self.query_runs()
        panel = self.query_one(CurvesPanel)
        # No run charted yet (the first load): the curves are asked for once
        # the table's rows are up (``_chart_runs``), so that their query and
        # plotext's import do not hold up the first rows.
        if panel.runs and (not changed or changed & charted_ids(panel.runs) or panel.view is None):
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
        store = self.store
        if (
            not changed
            or view is None
            or view.error is not None
            or self._from_snapshot
            or self._queries.busy
            or self.filter_text.strip()
            or store.loaded[1] != view.total
            or len(view.rows) != view.total
        ):
            return False
        shown = {r.id for r in view.rows}
        if not changed <= shown:
            return False
        try:  # (the index is open: it reported the change)
            new = {run_id: store.index.run(run_id) for run_id in changed}
        except LookupError:
            return False
        rows: Sequence[RunRow] = tuple(new.get(r.id, r) for r in view.rows)
        table = self.query_one(RunTable)
        now = store.now()
        columns = self._table_columns()
        values = dict(view.aggregates)
        if any(parse_aggregate_key(c) for c in columns):  # (the changed runs' only)
            values.update({i: {} for i in changed})
            values.update(store.index.aggregates(columns, run_ids=tuple(changed)))
        if table.sort_column not in FIXED_COLUMNS:
            rows = sort_rows(rows, table.sort_column, table.sort_descending, now, values)
        self.view = RunsView(tuple(rows), view.total, view.config_keys, view.summary_keys,
                             aggregates=values)  # fmt: skip
        table.show(self.grouped(rows), columns, now, values)
        store.live_dirs = running_dirs(rows)
        return True

    def _progressed(self, loaded: tuple[int, int]) -> None:
        self._set_status()

    def _clock_ticked(self, _: None) -> None:
        if self.is_current:
            self.query_one(RunTable).refresh_ages(self.store.now())

    def query_runs(self) -> None:
        """Ask the index for the table's rows (one query at a time, the newest wins)."""
        table = self.query_one(RunTable)
        key = (
            self.filter_text,
            table.sort_column,
            table.sort_descending,
            tuple(self.settings.prefs.columns),
            self.store.generation,
        )
        if key == self._queries.wanted:
            return  # the same question of the same data: the answer is (or will be) on screen
        self._queries.ask(key)

    def _start_query(self, key: tuple[object, ...]) -> None:
        filter_text, sort, descending = key[0], key[1], key[2]
        self._run_query(key, str(filter_text), str(sort), bool(descending))

    @work(thread=True, group="runs-query", exit_on_error=False, description="query runs")
    def _run_query(
        self, key: tuple[object, ...], filter_text: str, sort: str, descending: bool
    ) -> None:
        from trackui.store.index import FilterError

        store = self.store
        error: str | None = None
        try:
            try:
                rows = store.index.runs(filter=filter_text, sort=None)  # (sorted below)
            except FilterError as e:
                error = str(e) or "bad filter"
                rows = None
            config_keys, summary_keys = store.index.keys()
            total = store.index.loaded[1]
            if rows is None:
                view = RunsView((), total, tuple(config_keys), tuple(summary_keys), error=error)
            else:
                # The metric columns' aggregates: one query for every run (not one per row).
                values = store.index.aggregates(self._table_columns())
                ordered = sort_rows(rows, sort, descending, store.now(), values)
                view = RunsView(tuple(ordered), total, tuple(config_keys), tuple(summary_keys),
                                aggregates=values)  # fmt: skip
            self.post_message(RunsQueried(view, key))
        finally:
            self.call_later(self._queries.finished)  # (after the answer: one queue)

    @on(RunsQueried)
    def _on_runs(self, event: RunsQueried) -> None:
        if self._queries.is_stale(event.request):
            return  # a newer question is on its way
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
                    aggregates=self.view.aggregates,
                )
            self._set_status()
            return
        error.display = False
        self.view = view
        self._from_snapshot = False
        self.query_one(CurvesPanel).empty_hint = (
            None if view.total else empty_root_hint(self.store.root)
        )
        table = self.query_one(RunTable)
        columns = self._table_columns()
        table.show(self.grouped(view.rows), columns, self.store.now(), view.aggregates)
        self.store.live_dirs = running_dirs(view.rows)
        self.store.shown = str(table.highlighted.path) if table.highlighted else None
        self._set_status()
        self._layout()
        # The rows go to the screen first: the curves' worker imports NumPy
        # and reads points, and would hold up the frame that shows them.
        self.call_after_refresh(self._chart_runs)
        self.call_after_refresh(self.store.table_painted)

    def _set_status(self) -> None:
        table = self.query_one(RunTable)
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
                hidden = self._hidden_selected()
                if hidden:
                    t.append(f" ({hidden} hidden by the filter)")
            if self.filter_text:
                t.append(" · filter: ")
                t.append(clean(self.filter_text), style="italic")
            arrow = "▼" if table.sort_descending else "▲"
            t.append(f" · sort: {column_title(table.sort_column)} {arrow}", style="dim")
        done, total = self.store.loaded
        if total and done < total:
            t.append(f" · loading metrics {done}/{total}", style="yellow")
        update_if_changed(self.query_one("#runs-status", Static), t)

    # -- what the curves show ---------------------------------------------------

    def charted_runs(self) -> list[RunRow]:
        """The selected runs the table shows (in its order), else the highlighted one.

        As in W&B, runs the filter hides are not charted: they stay selected
        (the status line counts them) and come back with the filter cleared.
        """
        table = self.query_one(RunTable)
        if table.selected and self.view is not None:
            rows = [r for r in table.rows_shown if r.id in table.selected]
            if rows:
                return rows
        r = table.highlighted
        return [r] if r is not None else []

    def _hidden_selected(self) -> int:
        """How many selected runs the filter hides."""
        if self.view is None:
            return 0
        table = self.query_one(RunTable)
        shown = {r.id for r in self.view.rows} | {r.id for r in table.rows_shown}
        return sum(1 for i in table.selected if i not in shown)

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
        """Escape: back to the table from the charts or the filter box, then clear the
        filter, then the selection."""
        filt = self.query_one("#filter", Input)
        table = self.query_one(RunTable)
        if self.query_one(CurvesPanel).has_focus_within:
            table.focus()  # (from the charts straight back to the table)
            return
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
