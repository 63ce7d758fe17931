"""What the runs screen's keys and commands do: open, compare, sort, columns, metrics, zoom.

A mixin of ``RunsScreen``, which holds the table, the curves and the store's
answers. Choices are saved with the root's preferences through the chart
settings, and ask the store again where they change what is shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from trackui.store.aggregates import AGGREGATE_KINDS, aggregate_key, parse_aggregate_key
from trackui.store.metric_decl import MAXIMIZE, MINIMIZE, goal_of
from trackui.tui.fmt import clean
from trackui.tui.screens.pickers import ChooseManyScreen, ChooseOneScreen, PromptScreen
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.run_table import BASE_COLUMNS, RunTable, column_title

if TYPE_CHECKING:
    from textual.screen import Screen

    from trackui.store.models import RunRow
    from trackui.tui.chart_settings import ChartSettings
    from trackui.tui.messages import RunsView
    from trackui.tui.refresher import StoreRefresher

    _Screen = Screen[None]
else:
    _Screen = object

FILTER_HELP = "name text, state:running, tag:x, lr>=0.001, val_accuracy>0.9, or, not, ( )"


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
    if not sep or math.isnan(lo) or math.isnan(hi) or lo >= hi:
        return "Type a range as FROM:TO with FROM below TO."
    return (lo, hi)


def metric_column_items(store: StoreRefresher, rows: Sequence[RunRow]) -> list[tuple[str, str]]:
    """The column picker's metric columns: each metric's best, last, min, max and mean over
    its logged values (``store.aggregates``); "best" only for a metric whose goal is known."""
    if not store.scanned or not rows:
        return []
    metas = [r.meta for r in rows]
    out = []
    for m in store.index.metrics([r.id for r in rows]):
        goal = goal_of(metas, m.name)
        for kind in AGGREGATE_KINDS:
            if kind == "best" and goal is None:
                continue
            what = f"best ({'max' if goal == MAXIMIZE else 'min'})" if kind == "best" else kind
            out.append((aggregate_key(kind, m.name), f"metric   {m.name}  {what}"))
    return out


def sort_label(key: str) -> str:
    """A column as the sort dialog and the palette name it: its header, and where a summary or
    config key could be read as the other, which it is (``val_acc (summary)``)."""
    kind, sep, _ = key.partition(":")
    if not sep or parse_aggregate_key(key) is not None:
        return column_title(key)
    return f"{column_title(key)} ({kind})"


class RunsActions(_Screen):
    """The actions and palette commands of the runs screen."""

    settings: ChartSettings
    store: StoreRefresher
    view: RunsView | None

    if TYPE_CHECKING:  # (the runs screen's own)

        def query_runs(self) -> None: ...
        def charted_runs(self) -> list[RunRow]: ...
        def action_filter(self) -> None: ...

    def _table_columns(self) -> list[str]:
        """The table's columns: the fixed ones, then the chosen summary and config keys."""
        return [k for k, _ in BASE_COLUMNS] + list(self.settings.prefs.columns)

    def _sort_columns(self) -> list[str]:
        return [k for k, _ in BASE_COLUMNS if k != "sel"] + list(self.settings.prefs.columns)

    def action_sort(self) -> None:
        """Pick the column to sort by."""
        table = self.query_one(RunTable)
        items = [(k, sort_label(k)) for k in self._sort_columns()]
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
            # Names read best A-Z; numbers and times best-first (a metric to bring
            # down, such as a loss, lowest first).
            table.sort_descending = column not in ("name", "project", "state")
            agg = parse_aggregate_key(column)
            metric = (
                agg[1] if agg else column.partition(":")[2] if column.startswith("summary:") else ""
            )
            rows = self.view.rows if self.view is not None else ()
            if metric and goal_of([r.meta for r in rows], metric) == MINIMIZE:
                table.sort_descending = False
        self.settings.prefs.sort = table.sort_column
        self.settings.prefs.descending = table.sort_descending
        self.settings.save()
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
        if self.store.scanned:
            # The index's keys now (rows patched in place by live refreshes
            # leave the view's list as the last query found it).
            config_keys, summary_keys = map(tuple, self.store.index.keys())
        items = [(f"summary:{k}", f"summary  {k}") for k in summary_keys]
        items += metric_column_items(self.store, view.rows)
        items += [(f"config:{k}", f"config   {k}") for k in config_keys]

        def done(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            order = {v: i for i, (v, _) in enumerate(items)}
            self.settings.prefs.columns = sorted(chosen, key=lambda c: order.get(c, 0))
            self.settings.save()
            if self.view is not None:
                table = self.query_one(RunTable)
                if table.sort_column not in self._sort_columns():
                    table.sort_column = "created"
                self.query_runs()

        self.app.push_screen(ChooseManyScreen("Columns", items, self.settings.prefs.columns), done)

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
            self.settings.set_metrics(sorted(chosen, key=lambda c: order.get(c, 0)))

        self.app.push_screen(
            ChooseManyScreen(
                "Metrics to chart (none ticked: the shared ones)", items, panel.view.shown
            ),
            done,
        )

    def action_strength(self, delta: float) -> None:
        """Smooth more or less."""
        self.settings.set_smoothing(strength=self.settings.prefs.strength + delta)

    def action_x_axis(self) -> None:
        """Cycle the x axis: step, relative time, wall time, then logged metrics such as epoch."""
        panel = self.query_one(CurvesPanel)
        metrics = panel.view.metrics if panel.view is not None else ()
        self.settings.cycle_x_axis(
            [m.name for m in metrics if m.name in ("epoch", "trainer/epoch")]
        )

    def action_zoom(self) -> None:
        """Zoom every chart to an x range."""
        rng = self.settings.x_range

        def fmt(v: float) -> str:
            return "" if math.isinf(v) else f"{v:g}"

        # The box opens empty, the range in force as its placeholder: Enter
        # alone shows everything again.
        current = f"{fmt(rng[0])}:{fmt(rng[1])}" if rng else ""

        def validate(text: str) -> str | None:
            r = parse_step_range(text)
            return r if isinstance(r, str) else None

        def done(text: str | None) -> None:
            if text is None:
                return
            r = parse_step_range(text)
            if not isinstance(r, str):
                self.settings.set_x_range(r)

        self.app.push_screen(
            PromptScreen(
                "Zoom to x range FROM:TO (blank: everything)",
                placeholder=current or "e.g. 1000:5000",
                validate=validate,
            ),
            done,
        )

    def action_reload(self) -> None:
        """Rescan the root now."""
        self.store.schedule_refresh(full=True)

    def action_open(self) -> None:
        """Open the highlighted run."""
        from trackui.tui.screens.run_detail import RunDetailScreen

        r = self.query_one(RunTable).highlighted
        if r is not None:
            self.app.push_screen(RunDetailScreen(self.settings, self.store, r))

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
        self.app.push_screen(CompareScreen(self.settings, self.store, rows))

    def action_select_all(self) -> None:
        """Select every run shown (or clear the selection when all are selected)."""
        table = self.query_one(RunTable)
        ids = {r.id for r in table.rows_shown}
        table.set_selected(set() if ids <= table.selected else table.selected | ids)

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
                f"Sort by {sort_label(key)}",
                "Order the table by this column",
                lambda k=key: self._sort_by(k),
            )
        panel = self.query_one(CurvesPanel)
        if panel.view is not None:
            for m in panel.view.metrics:
                yield SystemCommand(
                    f"X axis: {clean(m.name)}",
                    "Plot curves against this metric",
                    lambda n=m.name: self.settings.set_x_axis(n),
                )
