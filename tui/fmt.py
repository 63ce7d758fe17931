"""Run data as Rich text for the screen: literal text, state glyphs and styles.

Every name and value in a run directory comes from a training script and may
hold anything: Rich markup (``[bold]``, ``[/]``), Textual actions
(``[@click=app.quit]``), escape sequences or other control characters. The UI
therefore never builds a markup string from data. It wraps data in
``rich.text.Text`` (which is never parsed as markup) after removing control
characters, so that no byte from a run directory reaches the terminal as a
command. The text itself (what is removed, how numbers read) is
``trackui.store.text``; this module re-exports it for the UI.
"""

from __future__ import annotations

from rich.text import Text

from trackui.store.text import (
    fmt_age,
    fmt_delta,
    fmt_duration,
    fmt_number,
    fmt_size,
    fmt_time,
    fmt_value,
    shorten,
)
from trackui.store.text import strip as clean

__all__ = [
    "STATE_GLYPHS",
    "STATE_STYLES",
    "clean",
    "fmt_age",
    "fmt_delta",
    "fmt_duration",
    "fmt_number",
    "fmt_size",
    "fmt_time",
    "fmt_value",
    "literal",
    "shorten",
    "state_text",
    "update_if_changed",
]

STATE_GLYPHS: dict[str, str] = {
    "running": "●",
    "finished": "✔",
    "failed": "✘",
    "crashed": "☠",
}
"""A glyph per run state, so that state reads without colour (NO_COLOR)."""

STATE_STYLES: dict[str, str] = {
    "running": "bold green",
    "finished": "blue",
    "failed": "bold red",
    "crashed": "bold magenta",
}
"""A Rich style per run state."""


def literal(value: object, style: str = "") -> Text:
    """A ``Text`` that shows ``value`` exactly as written (no markup), control characters removed."""
    return Text(clean(value), style=style, no_wrap=True)


def state_text(state: str, *, with_word: bool = True) -> Text:
    """The state glyph (and word) in the state's colour."""
    glyph = STATE_GLYPHS.get(state, "?")
    label = f"{glyph} {state}" if with_word else glyph
    return Text(label, style=STATE_STYLES.get(state, ""), no_wrap=True)


def update_if_changed(widget: object, text: Text) -> bool:
    """``widget.update(text)`` unless it shows that text already.

    A ``Static`` update lays the screen out again, which a live screen would
    otherwise do several times a second for nothing.
    """
    if getattr(widget, "_shown_text", None) == text:
        return False
    widget._shown_text = text  # type: ignore[attr-defined]
    widget.update(text)  # type: ignore[attr-defined]
    return True
