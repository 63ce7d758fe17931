"""Turning run data into safe, compact text for the screen.

Every name and value in a run directory comes from a training script and may
hold anything: Rich markup (``[bold]``, ``[/]``), Textual actions
(``[@click=app.quit]``), escape sequences or other control characters. The UI
therefore never builds a markup string from data. It wraps data in
``rich.text.Text`` (which is never parsed as markup) after removing control
characters, so that no byte from a run directory reaches the terminal as a
command.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from rich.text import Text

# C0 controls (tab and newline included: a table cell or a label is one
# line), DEL, and C1 controls (0x80-0x9f, which some terminals honour as CSI).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A whole escape sequence (CSI, OSC, single-character escapes), so that
# stripping leaves no readable residue such as "[31m".
_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)

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


def clean(value: object, *, keep_newlines: bool = False) -> str:
    """``str(value)`` with escape sequences and control characters removed.

    Args:
        value: Anything; it is converted with ``str()``.
        keep_newlines: Keep ``\\n`` (for multi-line text such as console output).

    Returns:
        Text that is safe to show literally.
    """
    s = value if isinstance(value, str) else str(value)
    s = _ESCAPE_RE.sub("", s)
    if keep_newlines:
        return "\n".join(_CONTROL_RE.sub("", part.replace("\t", "    ")) for part in s.split("\n"))
    return _CONTROL_RE.sub("", s.replace("\t", " "))


def literal(value: object, style: str = "") -> Text:
    """A ``Text`` that shows ``value`` exactly as written (no markup), control characters removed."""
    return Text(clean(value), style=style, no_wrap=True)


def shorten(s: str, width: int) -> str:
    """``s`` cut to ``width`` cells with an ellipsis when it is longer."""
    if width <= 0:
        return ""
    return s if len(s) <= width else s[: max(0, width - 1)] + "…"


def fmt_number(v: float) -> str:
    """A number in at most about ten characters: ints as ints, floats to 4 significant digits."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def fmt_value(v: Any) -> str:
    """Any config or summary value as one clean line."""
    if v is None:
        return ""
    if isinstance(v, (int, float)):
        return fmt_number(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{clean(k)}: {fmt_value(x)}" for k, x in v.items()) + "}"
    return clean(v)


def fmt_delta(d: float | None) -> str:
    """A signed difference, or "" when there is none to show."""
    if d is None or d == 0 or (isinstance(d, float) and math.isnan(d)):
        return ""
    return ("+" if d > 0 else "") + fmt_number(d)


def fmt_duration(seconds: float | None) -> str:
    """Seconds as ``42s``, ``3m05s``, ``2h14m`` or ``3d04h``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def fmt_age(start: float | None, now: float) -> str:
    """How long ago ``start`` was, as ``5m ago``-style text without the "ago"."""
    if start is None or not math.isfinite(start):
        return "-"
    return fmt_duration(max(0.0, now - start))


def state_text(state: str, *, with_word: bool = True) -> Text:
    """The state glyph (and word) in the state's colour."""
    glyph = STATE_GLYPHS.get(state, "?")
    label = f"{glyph} {state}" if with_word else glyph
    return Text(label, style=STATE_STYLES.get(state, ""), no_wrap=True)


def sort_key(v: Any) -> tuple[int, Any]:
    """A key that orders mixed values: numbers, then text, then missing (NaN last among numbers)."""
    if v is None:
        return (3, 0)
    if isinstance(v, bool):
        return (0, float(v))
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isnan(v):
            return (1, 0)
        return (0, v)
    return (2, str(v).lower())


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
