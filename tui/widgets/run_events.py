"""A run's alerts and artifacts as literal Rich text, for the run detail's overview."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from trackui.store.artifact_store import Alert, ArtifactUse
from trackui.store.text import fmt_time
from trackui.tui.fmt import clean, shorten

LEVEL_STYLES = {"INFO": "cyan", "WARN": "yellow", "ERROR": "bold red"}
"""How each alert level is marked."""

SEVERITIES = {"INFO": "information", "WARN": "warning", "ERROR": "error"}
"""The notification severity of each alert level."""

MAX_SHOWN = 50
"""The newest this many alerts (and artifacts) are listed; older ones are counted."""


def alerts_text(alerts: Sequence[Alert]) -> Text:
    """The run's alerts, newest first: time, level, title and text."""
    out = Text()
    out.append(f"alerts ({len(alerts)})\n", style="bold underline")
    if not alerts:
        out.append("(none)\n", style="dim")
    for a in list(reversed(alerts))[:MAX_SHOWN]:
        out.append(f"{fmt_time(a.time)}  ", style="dim")
        out.append(f"{a.level:<5} ", style=LEVEL_STYLES.get(a.level, ""))
        out.append(shorten(clean(a.title), 60), style="bold")
        if a.text:
            out.append("  ")
            out.append(shorten(clean(a.text), 200))
        out.append("\n")
    if len(alerts) > MAX_SHOWN:
        out.append(f"… and {len(alerts) - MAX_SHOWN} older\n", style="dim")
    out.rstrip()
    return out


def artifacts_text(uses: Sequence[ArtifactUse]) -> Text:
    """What the run logged, used and linked, oldest first: ``logged  mnist:v0 (dataset) best``."""
    out = Text()
    out.append(f"artifacts ({len(uses)})\n", style="bold underline")
    if not uses:
        out.append("(none)\n", style="dim")
    for u in list(uses)[-MAX_SHOWN:]:
        out.append(f"{u.op:<7} ", style="green" if u.op == "logged" else "cyan")
        version = f":v{u.version}" if u.version is not None else ""
        out.append(shorten(clean(u.name), 60) + version, style="bold")
        if u.type:
            out.append(f" ({clean(u.type)})", style="dim")
        if u.aliases:
            out.append("  " + ", ".join(clean(a) for a in u.aliases))
        if u.target:
            out.append(f"  → {clean(u.target)}")
        out.append("\n")
    if len(uses) > MAX_SHOWN:
        out.append(f"… and {len(uses) - MAX_SHOWN} older\n", style="dim")
    out.rstrip()
    return out
