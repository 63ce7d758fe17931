"""The keys that work on every screen (the app's bindings, listed by the help screen too)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit"),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("w", "alerts", "Alerts (watches)", show=False),
    Binding("ctrl+p", "command_palette", "Commands", show=False),
]
