"""The help screen: every key binding, read from the classes that define them.

Bindings are collected from the classes themselves, so the list cannot drift
from what the keys actually do.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from trackui.tui.keys import APP_BINDINGS
from trackui.tui.screens.runs import FILTER_HELP


def _key_label(b: Binding) -> str:
    if b.key_display:
        return b.key_display
    names = {
        "slash": "/",
        "question_mark": "?",
        "escape": "esc",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "space": "space",
        "enter": "enter",
    }
    return ", ".join(names.get(k.strip(), k.strip()) for k in b.key.split(","))


def binding_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """``(section, [(keys, what it does)])`` for every screen and widget with bindings."""
    from trackui.tui.screens.alerts import AlertsScreen
    from trackui.tui.screens.compare import CompareScreen
    from trackui.tui.screens.run_detail import RunDetailScreen
    from trackui.tui.screens.runs import RunsScreen
    from trackui.tui.widgets.curves import CurvesPanel
    from trackui.tui.widgets.metric_plot import MetricPlot
    from trackui.tui.widgets.run_table import NAV_BINDINGS, RunTable

    def rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
        out = []
        for b in bindings:
            if isinstance(b, Binding):
                out.append((_key_label(b), b.description or b.action))
            elif isinstance(b, tuple):
                out.append((b[0], b[2] if len(b) > 2 else b[1]))
        return out

    nav = [
        ("↑ ↓ pgup pgdn home end", "Move in tables and lists"),
        ("← →", "Scroll a wide table"),
        ("tab, shift+tab", "Move between table, charts, tabs (wraps)"),
        ("esc", "From the charts back to the table"),
    ]
    return [
        ("Everywhere", rows(APP_BINDINGS) + nav),
        (
            "Runs",
            rows(RunsScreen.BINDINGS)
            + rows([b for b in RunTable.BINDINGS if b not in NAV_BINDINGS]),
        ),
        (
            "Chart (focused with tab)",
            rows(MetricPlot.BINDINGS)
            + rows(CurvesPanel.BINDINGS)
            + [("enter, space", "On a section's header or folded line: fold or unfold it")],
        ),
        ("Run detail", rows(RunDetailScreen.BINDINGS)),
        ("Compare", rows(CompareScreen.BINDINGS)),
        ("Alerts (w)", rows(AlertsScreen.BINDINGS)),
    ]


def help_text() -> Text:
    """The help page as literal text."""
    t = Text()
    t.append("trackui keys\n", style="bold underline")
    for section, items in binding_sections():
        t.append(f"\n{section}\n", style="bold")
        for keys, what in items:
            t.append(f"  {keys:<24}", style="bold cyan")
            t.append(f"{what}\n")
    t.append("\nFilter language (/)\n", style="bold")
    t.append(f"  {FILTER_HELP}\n")
    t.append(
        "  Terms separated by spaces must all hold; `or`, `not` and parentheses combine them.\n"
    )
    t.append("  config.key and summary.key pick one section; quote values with spaces.\n")
    t.append("\nEscape or ? closes this page.", style="dim")
    return t


class HelpScreen(ModalScreen[None]):
    """Every binding of every screen."""

    CSS_PATH = "help.tcss"

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_text(), id="help-text")

    def action_close(self) -> None:
        self.dismiss()
