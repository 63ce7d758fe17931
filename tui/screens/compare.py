"""Compare runs: what differs in config and summary, and their curves overlaid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import Header, Static

from trackui.store.diff import diff_runs
from trackui.store.models import RunRow
from trackui.tui.chart_settings import ChartSettings
from trackui.tui.fmt import clean, shorten, update_if_changed
from trackui.tui.messages import DiffQueried
from trackui.tui.refresher import StoreRefresher
from trackui.tui.screens.base import StoreScreen
from trackui.tui.screens.pickers import ChooseOneScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.group_rows import charted_ids, current_rows
from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.run_cells import marked_name


class CompareScreen(StoreScreen):
    """Config and summary diff against a baseline, above the runs' curves."""

    CSS_PATH = "compare.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "all_keys", "All keys"),
        Binding("b", "baseline", "Baseline"),
        Binding("s", "smoothing", "Smoothing"),
        Binding("x", "x_axis", "X axis", show=False),
    ]

    def __init__(
        self, settings: ChartSettings, store: StoreRefresher, runs: Sequence[RunRow]
    ) -> None:
        super().__init__(settings, store)
        self.runs = tuple(runs)
        """The runs compared, in table order."""
        self.baseline = self.runs[0].id if self.runs else ""
        """The run the others are diffed against."""
        self.all_keys = False
        """Show every key, not only those that differ."""

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static("", id="compare-status")
        yield ConfigDiff(id="config-diff")
        yield CurvesPanel(
            self.settings, self.store, id="compare-curves", kind="main", chart_height=10
        )
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = f"compare {len(self.runs)} runs"
        self._set_status(None)
        self._query()
        self.query_one(CurvesPanel).show_runs(self.runs)
        self.query_one(ConfigDiff).focus()
        self.mark_ready()

    def _set_status(self, shown: int | None) -> None:
        names = {r.id: marked_name(r) for r in self.runs}
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{len(self.runs)} runs", style="bold")
        t.append(" · baseline: ")
        t.append(shorten(clean(names.get(self.baseline, self.baseline)), 40), style="bold")
        t.append(" · ")
        t.append("all keys" if self.all_keys else "differing keys only")
        if shown is not None:
            t.append(f" ({shown})")
        if self.app.size.width >= 110:  # (narrower, the footer says as much, uncut)
            t.append("   a: all/differing   b: baseline   escape: back", style="dim")
        update_if_changed(self.query_one("#compare-status", Static), t)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False, description="query diff")
    def _query(self) -> None:
        store = self.store
        rows = current_rows(store.index, self.runs)  # (groups as they were chosen)
        diff = diff_runs(rows, self.baseline, all_keys=True)
        self.post_message(DiffQueried(diff, rows))

    @on(DiffQueried)
    def _on_diff(self, event: DiffQueried) -> None:
        self.runs = event.rows
        colours = self.settings.colours_for(tuple(r.id for r in self.runs))
        shown = self.query_one(ConfigDiff).show(
            event.diff, self.runs, colours, all_keys=self.all_keys
        )
        self._set_status(shown)

    def concerns(self, changed: frozenset[str]) -> bool:
        return bool(changed & charted_ids(self.runs))

    def reload(self, changed: frozenset[str]) -> None:
        self._query()
        self.query_one(CurvesPanel).request_live()

    def action_back(self) -> None:
        self.dismiss()

    def action_all_keys(self) -> None:
        """Show every key, or only the differing ones."""
        self.all_keys = not self.all_keys
        diff = self.query_one(ConfigDiff).diff
        if diff is not None:
            colours = self.settings.colours_for(tuple(r.id for r in self.runs))
            shown = self.query_one(ConfigDiff).show(
                diff, self.runs, colours, all_keys=self.all_keys
            )
            self._set_status(shown)
        else:
            self._set_status(None)

    def action_baseline(self) -> None:
        """Choose the baseline run."""
        items = [(r.id, marked_name(r)) for r in self.runs]

        def done(rid: str | None) -> None:
            if rid:
                self.set_baseline(rid)

        self.app.push_screen(ChooseOneScreen("Baseline run", items, self.baseline), done)

    def set_baseline(self, run_id: str) -> None:
        """Diff against ``run_id``."""
        self.baseline = run_id
        self._set_status(None)
        self._query()

    def system_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Toggle all keys", "Differing keys only, or all", self.action_all_keys)
        for r in self.runs:
            yield SystemCommand(
                f"Baseline: {marked_name(r)}",
                "Diff against this run",
                lambda i=r.id: self.set_baseline(i),
            )
