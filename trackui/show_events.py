"""What ``trackui show`` adds about a run's artifacts and alerts (read from its directory)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackui.store.artifact_store import read_alerts, read_run_artifacts


def events_json(run_dir: Path) -> dict[str, Any]:
    """``{"artifacts": [...], "alerts": [...]}`` for ``show --json``, oldest first."""
    return {
        "artifacts": [
            {
                "op": u.op,
                "name": u.name,
                "version": u.version,
                "type": u.type,
                "aliases": list(u.aliases),
                "target": u.target,
                "time": u.time,
            }
            for u in read_run_artifacts(run_dir)
        ],  # fmt: skip
        "alerts": [
            {"time": a.time, "level": a.level, "title": a.title, "text": a.text}
            for a in read_alerts(run_dir)
        ],
    }


def events_lines(run_dir: Path, clean: Callable[[Any, int], str]) -> list[str]:
    """The ``artifacts`` and ``alerts`` sections of ``show`` (nothing when the run has none)."""
    lines: list[str] = []
    uses = read_run_artifacts(run_dir)
    if uses:
        lines += ["", "artifacts"]
        for u in uses:
            ref = f"{u.name}:v{u.version}" if u.version is not None else u.name
            extra = f" -> {u.target}" if u.target else ""
            aliases = f" ({', '.join(u.aliases)})" if u.aliases else ""
            lines.append(f"  {u.op:<7} {clean(ref + aliases + extra, 120)}  [{clean(u.type, 30)}]")
    alerts = read_alerts(run_dir)
    if alerts:
        lines += ["", "alerts"]
        for a in alerts:
            when = _dt.datetime.fromtimestamp(a.time).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"  {when} {a.level:<5} {clean(a.title, 60)}: {clean(a.text, 200)}")
    return lines
