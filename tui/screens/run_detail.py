"""One run in full: overview (with its alerts and artifacts), config, summary, charts, system metrics,
files, console output, media."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Log, Static, TabbedContent, TabPane, Tree

from trackui.store.artifact_store import read_alerts, read_run_artifacts
from trackui.store.models import RunRow
from trackui.store.reader import list_files, output_tail
from trackui.store.text import fmt_size, fmt_time, fmt_value
from trackui.tui.chart_settings import ChartSettings
from trackui.tui.fmt import clean, fmt_duration, state_text, update_if_changed
from trackui.tui.messages import DetailQueried
from trackui.tui.refresher import StoreRefresher
from trackui.tui.screens.base import StoreScreen
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.media import MediaPanel
from trackui.tui.widgets.run_events import alerts_text, artifacts_text

OUTPUT_TAIL_BYTES = 256 * 1024
OUTPUT_TAIL_LINES = 1000
MAX_FILES = 2000

TABS = ("overview", "config", "summary", "charts", "system", "files", "output", "media")


def read_output_tail(run_dir: Path) -> str:
    """The last lines of the run's console output, control characters stripped
    (carriage returns resolved by ``store.reader.output_tail``)."""
    lines = output_tail(run_dir, OUTPUT_TAIL_BYTES, OUTPUT_TAIL_LINES)
    return "\n".join(clean(line) for line in lines).rstrip("\n")


def overview_text(row: RunRow, text_values: Iterable[tuple[str, str]]) -> Text:
    """The run's metadata as literal ``label  value`` lines."""
    meta = row.meta
    out = Text()
    width = 12

    def add(label: str, value: Any, style: str = "") -> None:
        # (a label as long as the column still gets a space before its value)
        out.append(label.ljust(width) if len(label) < width else label + " ", style=style or "bold")
        if isinstance(value, Text):
            out.append_text(value)
        else:
            out.append(clean(value), style=style)
        out.append("\n")

    add("name", row.name)
    add("id", row.id)
    add("state", state_text(row.state))
    if meta.get("exit_code") is not None:
        add("exit code", meta.get("exit_code"))
    add("project", row.project or "-")
    if row.group:
        add("group", row.group)
    if meta.get("job_type"):
        add("job type", meta.get("job_type"))
    if row.tags:
        add("tags", ", ".join(clean(x) for x in row.tags))
    add("host", row.host or "-")
    if meta.get("user"):
        add("user", meta.get("user"))
    if meta.get("pid") is not None:
        add("pid", meta.get("pid"))
    cmd = meta.get("command")
    if isinstance(cmd, list) and cmd:
        add("command", " ".join(clean(x) for x in cmd))
    if meta.get("cwd"):
        add("cwd", meta.get("cwd"))
    if meta.get("python"):
        add("python", meta.get("python"))
    git = meta.get("git")
    if isinstance(git, dict) and git.get("commit"):
        g = clean(git.get("commit"))[:12]
        if git.get("branch"):
            g += f" ({clean(git.get('branch'))})"
        if git.get("dirty"):
            g += " dirty"
        add("git", g)
    add("started", fmt_time(row.start_time))
    if row.end_time is not None:
        add("ended", fmt_time(row.end_time))
    add("runtime", fmt_duration(row.runtime_s))
    add("step", "-" if row.last_step is None else str(row.last_step))
    add("steps logged", str(row.steps))
    add("directory", str(row.path))
    if meta.get("notes"):
        add("notes", meta.get("notes"))
    for k, v in text_values:
        add(f"text: {clean(k)}", v)
    for w in row.warnings:
        add("warning", w, style="yellow")
    out.rstrip()
    return out


def fill_tree(node: Any, value: Any) -> None:
    """Add a nested config value under a tree node, keys sorted, labels literal."""
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            v = value[k]
            if isinstance(v, dict) and v:
                child = node.add(Text(clean(k), style="bold"), expand=True)
                fill_tree(child, v)
            else:
                label = Text(clean(k), style="bold")
                label.append(": ")
                label.append(fmt_value(v, missing="None"))
                node.add_leaf(label)


class RunDetailScreen(StoreScreen):
    """Everything about one run. Escape goes back to the table."""

    CSS_PATH = "run_detail.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('config')", "Config", show=False),
        Binding("3", "tab('summary')", "Summary", show=False),
        Binding("4", "tab('charts')", "Charts", show=False),
        Binding("5", "tab('system')", "System", show=False),
        Binding("6", "tab('files')", "Files", show=False),
        Binding("7", "tab('output')", "Output", show=False),
        Binding("8", "tab('media')", "Media", show=False),
        Binding("s", "smoothing", "Smoothing"),
        Binding("x", "x_axis", "X axis", show=False),
    ]

    def __init__(self, settings: ChartSettings, store: StoreRefresher, row: RunRow) -> None:
        super().__init__(settings, store)
        self.row = row
        """The run shown (replaced by fresh rows as it changes)."""
        self._config_shown: Any = None
        self._summary_shown: tuple[tuple[str, str], ...] | None = None
        self._files_shown: tuple[tuple[str, int], ...] | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with TabbedContent(id="detail-tabs", initial="overview"):
            with TabPane("1 Overview", id="overview"), VerticalScroll():
                yield Static("", id="overview-body")
                yield Static("", id="overview-alerts")
                yield Static("", id="overview-artifacts")
            with TabPane("2 Config", id="config"):
                yield Tree(Text("config"), id="config-tree")
            with TabPane("3 Summary", id="summary"):
                yield DataTable(id="summary-table", cursor_type="row", zebra_stripes=True)
            with TabPane("4 Charts", id="charts"):
                yield CurvesPanel(
                    self.settings,
                    self.store,
                    id="detail-curves",
                    kind="main",
                    chart_height=12,
                    limit=None,
                )
            with TabPane("5 System", id="system"):
                yield CurvesPanel(
                    self.settings,
                    self.store,
                    id="detail-system",
                    kind="system",
                    chart_height=10,
                    limit=None,
                )
            with TabPane("6 Files", id="files"):
                yield DataTable(id="files-table", cursor_type="row", zebra_stripes=True)
            with TabPane("7 Output", id="output"):
                yield Log(id="output-log", highlight=False, auto_scroll=True)
            with TabPane("8 Media", id="media"):
                yield MediaPanel(self.row.path, id="media-panel")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = clean(self.row.name)
        self.query_one("#summary-table", DataTable).add_columns("metric", "value")
        self.query_one("#files-table", DataTable).add_columns("file", "size")
        self.query_one("#config-tree", Tree).show_root = False
        self._show_row(self.row, (), "", ())
        self._query()
        for panel in self.query(CurvesPanel):
            panel.show_runs([self.row])
        self.mark_ready()

    def action_back(self) -> None:
        self.dismiss()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated, "#detail-tabs")
    def _on_tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "media":
            self.query_one(MediaPanel).focus_keys()

    # -- data ---------------------------------------------------------------

    def concerns(self, changed: frozenset[str]) -> bool:
        return self.row.id in changed

    def reload(self, changed: frozenset[str]) -> None:
        self._query()
        for panel in self.query(CurvesPanel):
            panel.request_live()
        self.query_one(MediaPanel).reload()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False, description="query run")
    def _query(self) -> None:
        store = self.store
        row = store.index.run(self.row.id)
        try:
            text_values = tuple(sorted(store.index.text_values(self.row.id).items()))
        except KeyError:
            text_values = ()
        files = list_files(row.path, MAX_FILES)
        output = read_output_tail(row.path)
        alerts = tuple(read_alerts(row.path))
        artifacts = tuple(read_run_artifacts(row.path))
        self.post_message(DetailQueried(row, files, output, text_values, alerts, artifacts))

    @on(DetailQueried)
    def _on_detail(self, event: DetailQueried) -> None:
        with self.app.batch_update():
            self._show_row(event.row, event.files, event.output, event.text_values)
            update_if_changed(self.query_one("#overview-alerts", Static), alerts_text(event.alerts))
            update_if_changed(
                self.query_one("#overview-artifacts", Static), artifacts_text(event.artifacts)
            )

    def _show_row(
        self,
        row: RunRow,
        files: tuple[tuple[str, int], ...],
        output: str,
        text_values: tuple[tuple[str, str], ...],
    ) -> None:
        self.row = row
        update_if_changed(self.query_one("#overview-body", Static), overview_text(row, text_values))
        if self._config_shown != row.config:
            self._config_shown = row.config
            tree = self.query_one("#config-tree", Tree)
            tree.clear()
            if row.config:
                fill_tree(tree.root, row.config)
            else:
                tree.root.add_leaf(Text("(no config)", style="dim"))
            tree.root.expand()
        # Tables are rebuilt only when their content changed (live runs
        # refresh this screen twice a second).
        summary_rows = tuple(
            (clean(k), fmt_value(row.summary[k], missing="None")) for k in sorted(row.summary)
        )
        if summary_rows != self._summary_shown:
            self._summary_shown = summary_rows
            summary = self.query_one("#summary-table", DataTable)
            summary.clear()
            for k, v in summary_rows:
                summary.add_row(Text(k), Text(v, justify="right"))
        if files != self._files_shown:
            self._files_shown = files
            ftable = self.query_one("#files-table", DataTable)
            ftable.clear()
            for path, size in files:
                ftable.add_row(Text(clean(path)), Text(fmt_size(size), justify="right"))
            if not files:
                ftable.add_row(Text("(no saved files)", style="dim"), Text(""))
        log = self.query_one("#output-log", Log)
        if output != getattr(log, "_shown_text", None):
            log._shown_text = output  # type: ignore[attr-defined]
            log.clear()
            if output:
                log.write(output)
            else:
                log.write("(no console output captured)")

    def system_commands(self) -> Iterable[SystemCommand]:
        for tab in TABS:
            yield SystemCommand(f"Show {tab}", "Switch tab", lambda t=tab: self.action_tab(t))
