"""The lines between a curves panel's charts: a section's header, and its folded charts.

Each is one focusable line that folds or unfolds what it stands for (Enter,
space, ``f`` or a click) by posting ``FoldRequested`` to the panel, which
saves the choice with the root's preferences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from trackui.tui.fmt import clean, shorten
from trackui.tui.widgets.curves_query import PINNED

if TYPE_CHECKING:
    from trackui.tui.prefs import Prefs

NO_PREFIX_TITLE = "charts"
"""The title of the section of metrics without a prefix."""


def section_title(section: str) -> str:
    """How a section is named on its header (``val/`` reads ``val``)."""
    if section == PINNED:
        return "★ pinned"
    return clean(section.rstrip("/")) or NO_PREFIX_TITLE


class FoldRequested(Message):
    """Fold or unfold a section (``section``), or show folded charts again (``charts``)."""

    def __init__(self, section: str | None = None, charts: Sequence[str] = ()) -> None:
        super().__init__()
        self.section = section
        self.charts = tuple(charts)


class FoldLine(Static, can_focus=True):
    """A one-line, focusable switch."""

    DEFAULT_CSS = """
    FoldLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
        &:focus {
            background: $block-cursor-blurred-background;
            color: $foreground;
            text-style: bold;
        }
    }
    """
    BINDINGS = [
        Binding("enter,space", "fold", "Fold or unfold", show=False),
    ]

    def __init__(
        self, *, section: str | None = None, charts: Sequence[str] = (), classes: str = ""
    ) -> None:
        super().__init__(classes=classes)
        self._asks = (section, tuple(charts))
        """What a press asks for: ``FoldRequested``'s section and charts."""

    def action_fold(self) -> None:
        section, charts = self._asks
        self.post_message(FoldRequested(section=section, charts=charts))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        self.action_fold()


class SectionHeader(FoldLine):
    """``▾ val (3)``: a section's title and its number of charts; folding it hides them."""

    DEFAULT_CSS = """
    SectionHeader {
        color: $foreground;
        text-style: bold;
        background: $panel;
    }
    """

    def __init__(self, section: str, charts: int, folded: bool) -> None:
        super().__init__(section=section, classes="-folded" if folded else "")
        self.section = section
        self.folded = folded
        # (Spaces inside a styled run: SVG screenshots drop those that start one.)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(("▸ " if folded else "▾ ") + section_title(section) + " ")
        t.append(f"({charts})", style="dim")
        if folded:
            t.append(" folded: enter shows it", style="dim italic")
        self.update(t)


class FoldedCharts(FoldLine):
    """``▸ folded: val_f1, val_loss``: a section's folded charts, by name."""

    def __init__(self, section: str, charts: Sequence[str]) -> None:
        super().__init__(charts=charts)
        self.section = section
        self.charts = tuple(charts)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("▸ folded: ")
        t.append(", ".join(shorten(clean(c), 40) for c in charts) + " ", style="italic")
        t.append("(enter shows them)", style="dim")
        self.update(t)


@dataclass(frozen=True)
class Layout:
    """What a panel's body holds: header lines or not, and per section what is drawn."""

    headers: bool
    """Whether sections get a header line (there are several)."""
    sections: tuple[tuple[str, bool, tuple[str, ...], tuple[str, ...]], ...]
    """``(section, folded, charts drawn, charts folded)`` in order."""
    counts: tuple[int, ...]
    """Each section's number of charts."""


def sections_layout(sections: Sequence[tuple[str, Sequence[str]]], prefs: Prefs) -> Layout:
    """The body for ``sections`` (``CurvesView.sections``) with the root's folds."""
    out = []
    for section, metrics in sections:
        folded = section in prefs.folded_sections
        drawn = () if folded else tuple(m for m in metrics if m not in prefs.folded_charts)
        hidden = () if folded else tuple(m for m in metrics if m in prefs.folded_charts)
        out.append((section, folded, drawn, hidden))
    return Layout(len(sections) > 1, tuple(out), tuple(len(m) for _, m in sections))


def section_body(layout: Layout, plots: dict[str, Widget]) -> tuple[Vertical, list[Grid], int]:
    """A body of headers, grids of ``plots`` and folded lines; its grids; and how many
    of its lines are not charts."""
    parts: list[Widget] = []
    grids: list[Grid] = []
    lines = 0
    for (section, folded, drawn, hidden), n in zip(layout.sections, layout.counts, strict=True):
        if layout.headers:
            parts.append(SectionHeader(section, n, folded))
            lines += 1
        if drawn:
            grids.append(Grid(*(plots[m] for m in drawn)))
            parts.append(grids[-1])
        if hidden:
            parts.append(FoldedCharts(section, hidden))
            lines += 1
    return Vertical(*parts, classes="curves--body"), grids, lines


def focus_key(widget: Widget | None) -> tuple[str, str] | None:
    """What a focused widget of a body stands for, to focus its like in a new body."""
    if isinstance(widget, SectionHeader):
        return ("header", widget.section)
    if isinstance(widget, FoldedCharts):
        return ("folded", widget.section)
    metric = getattr(widget, "metric", None)
    return ("chart", metric) if isinstance(metric, str) else None


def refocus(body: Widget, key: tuple[str, str]) -> Widget | None:
    """Focus the widget of ``body`` that ``key`` stands for (a chart folded away: its
    section's folded line); returns it."""
    lines = list(body.query(FoldLine))
    for w in [*lines, *body.query("MetricPlot")]:
        if focus_key(w) == key:
            w.focus(scroll_visible=False)
            return w
    if key[0] == "chart":
        for w in lines:
            if isinstance(w, FoldedCharts) and key[1] in w.charts:
                w.focus(scroll_visible=False)
                return w
    return None
