"""The alerts list: what the watches fired, newest first, and the rules they watch for.

``w`` opens it from anywhere; Enter on an entry opens its run; ``n`` adds a
rule of the user's own (checked by the filter parser, one-line error), ``d``
removes one, ``b`` turns the terminal bell on or off. The list follows the
watches live (``WatchService.changed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from trackui.store.text import fmt_time
from trackui.store.watch_rules import check_rule
from trackui.store.watches import Firing
from trackui.tui.errors import ReportsWorkerErrors
from trackui.tui.fmt import clean, shorten
from trackui.tui.screens.pickers import ChooseOneScreen, PromptScreen
from trackui.tui.watch_service import WatchService, describe
from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.watch_badges import STYLE

if TYPE_CHECKING:
    from trackui.store.models import RunRow
    from trackui.tui.chart_settings import ChartSettings
    from trackui.tui.refresher import StoreRefresher

BUILT_IN = "NaN or inf · stalled (10x its median interval, 5 min at least) · crashed, failed"
RULE_EXAMPLE = "loss > 10   val_accuracy < 0.5 and step > 1000"
NAME_WIDTH = 20


def firing_text(f: Firing) -> Text:
    """One entry of the list: time, mark, run, what fired (all literal)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(fmt_time(f.time), style="dim")
    t.append("  ")
    t.append(f"{f.badge:<5}", style=STYLE)
    t.append("  ")
    t.append(f"{shorten(clean(f.run_name), NAME_WIDTH):<{NAME_WIDTH}}", style="bold")
    t.append("  ")
    t.append(clean(describe(f)))
    return t


class AlertsScreen(ReportsWorkerErrors, Screen[None]):
    """Every firing, newest first; the rules; the bell."""

    DEFAULT_CSS = """
    AlertsScreen #watch-rules {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $panel;
    }
    AlertsScreen #alerts-list {
        height: 1fr;
        border: none;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open run", show=False),
        Binding("n", "add_rule", "Add rule"),
        Binding("d", "remove_rule", "Remove rule"),
        Binding("b", "bell", "Bell"),
    ]

    def __init__(self, settings: ChartSettings, store: StoreRefresher, watches: WatchService):
        super().__init__()
        self.settings = settings
        self.store = store
        self.watches = watches
        self._shown: list[Firing] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        yield Static("", id="watch-rules")
        yield OptionList(id="alerts-list")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.title = "Alerts"
        self.watches.changed.subscribe(self, lambda _: self._show())
        self._show()
        self.query_one(OptionList).focus()

    def _show(self) -> None:
        settings = self.watches.settings
        t = Text()
        t.append("Built in: ", style="bold")
        t.append(BUILT_IN + "\n")
        t.append("Your rules: ", style="bold")
        if settings.rules:
            t.append("  ·  ".join(clean(r) for r in settings.rules))
        else:
            t.append(f"none (n adds one, e.g. {RULE_EXAMPLE})", style="dim")
        t.append("\nBell: ", style="bold")
        t.append("on" if settings.bell else "off")
        firing = sum(1 for b in self.watches.badges.values() if b)
        t.append("   ")  # (outside the dim span: SVG renderers drop a styled run's leading blanks)
        runs = "run" if firing == 1 else "runs"
        t.append(f"{len(self.watches.firings)} fired · {firing} {runs} badged now", style="dim")
        self.query_one("#watch-rules", Static).update(t)
        ol = self.query_one(OptionList)
        firings = list(self.watches.firings)
        if firings == self._shown and ol.option_count:
            return
        keep = None
        if ol.highlighted is not None and ol.highlighted < len(self._shown):
            keep = self._shown[ol.highlighted]
        self._shown = firings
        ol.clear_options()
        if not firings:
            ol.add_option(Option(Text("Nothing has fired.", style="dim"), disabled=True))
            return
        ol.add_options([Option(firing_text(f)) for f in firings])
        ol.highlighted = firings.index(keep) if keep in firings else 0

    # -- actions ---------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    @on(OptionList.OptionSelected, "#alerts-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the run of the highlighted entry."""
        i = self.query_one(OptionList).highlighted
        if i is not None and i < len(self._shown):
            self._find_run(self._shown[i].run_id)

    @work(thread=True, group="alerts-open", exit_on_error=False, description="open run")
    def _find_run(self, run_id: str) -> None:
        try:
            row = self.store.index.run(run_id)
        except LookupError:
            self.app.call_from_thread(
                self.notify, "That run is gone from the root.", severity="warning", timeout=3
            )
            return
        self.app.call_from_thread(self._push_detail, row)

    def _push_detail(self, row: RunRow) -> None:
        from trackui.tui.screens.run_detail import RunDetailScreen

        if self.app.screen is self:
            self.app.push_screen(RunDetailScreen(self.settings, self.store, row))

    def action_add_rule(self) -> None:
        """Type a rule of your own (the filter language over metrics)."""

        def added(text: str | None) -> None:
            if text and text.strip():
                self.watches.add_rule(text)
                self.notify(f"Watching for: {clean(text.strip())}", timeout=3, markup=False)

        def validate(text: str) -> str | None:
            return check_rule(text)

        self.app.push_screen(
            PromptScreen("Watch for (e.g. loss > 10)", placeholder=RULE_EXAMPLE, validate=validate),
            added,
        )

    def action_remove_rule(self) -> None:
        """Pick one of your rules to remove."""
        rules = self.watches.settings.rules
        if not rules:
            self.notify("No rules of your own to remove.", timeout=3)
            return

        def chosen(rule: str | None) -> None:
            if rule is not None:
                self.watches.remove_rule(rule)

        items = [(r, r) for r in rules]
        self.app.push_screen(ChooseOneScreen("Remove which rule?", items), chosen)

    def action_bell(self) -> None:
        on_ = self.watches.toggle_bell()
        self.notify(f"Bell {'on' if on_ else 'off'}", timeout=2)
