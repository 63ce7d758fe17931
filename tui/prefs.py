"""Per-root UI preferences: chosen columns, sort, curve settings, pinned and folded charts.

They live in ``<root>/.trackui/ui.json`` (``store.layout``) so that each root remembers its own
columns. A root may be read-only (a shared filesystem, someone else's runs):
then the preferences still work for the session and are simply not saved.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from trackui.store.groups import BAND_MINMAX, BANDS
from trackui.store.layout import CACHE_DIR, PREFS_FILE, SMOOTH_TWEMA, SMOOTHERS, X_STEP
from trackui.store.writer import write_atomic


@dataclass
class Prefs:
    """What the UI remembers for one root."""

    columns: list[str] = field(default_factory=list)
    """Extra table columns: ``summary:<key>`` or ``config:<key>``."""
    sort: str = "created"
    """The column the table is sorted by."""
    descending: bool = True
    smoothing: str = SMOOTH_TWEMA
    """One of ``SMOOTHERS``, in the order the key cycles through them."""
    strength: float = 0.6
    """Smoothing strength in [0, 0.99]."""
    x_axis: str = X_STEP
    metrics: list[str] = field(default_factory=list)
    """Metrics chosen in the picker; empty means "the ones the runs share"."""
    log_metrics: list[str] = field(default_factory=list)
    """Metrics drawn on a log scale."""
    group_by: list[str] = field(default_factory=list)
    """Keys the runs are grouped by (``store.groups``); empty: no groups."""
    band: str = BAND_MINMAX
    """The band around a group's mean: one of ``store.groups.BANDS``."""
    pinned: list[str] = field(default_factory=list)
    """Metrics whose charts come first, in the order they were pinned."""
    folded_sections: list[str] = field(default_factory=list)
    """Chart sections folded to their header line (``val/``; "" for metrics without a prefix)."""
    folded_charts: list[str] = field(default_factory=list)
    """Metrics whose charts are folded to a name on their section's folded line."""
    chart_dots: str = "auto"
    """How finely curves are drawn: ``auto``, ``braille``, ``quadrant`` or ``ascii``."""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Prefs:
        """Preferences from a parsed ``ui.json``, ignoring unknown or ill-typed keys."""
        p = cls()
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            default = getattr(p, f.name)
            if isinstance(default, list):
                if isinstance(v, list) and all(isinstance(x, str) for x in v):
                    setattr(p, f.name, list(v))
            elif isinstance(default, bool):
                if isinstance(v, bool):
                    setattr(p, f.name, v)
            elif isinstance(default, float):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    setattr(p, f.name, float(v))
            elif isinstance(v, str):
                setattr(p, f.name, v)
        if p.smoothing not in SMOOTHERS:
            p.smoothing = SMOOTH_TWEMA
        p.strength = min(0.99, max(0.0, p.strength))
        if p.band not in BANDS:
            p.band = BAND_MINMAX
        return p


def prefs_path(root: Path) -> Path:
    """Where the preferences of ``root`` are kept."""
    return root / CACHE_DIR / PREFS_FILE


def load_prefs(root: Path) -> Prefs:
    """The saved preferences of ``root``, or defaults when there are none or they are damaged."""
    try:
        data = json.loads(prefs_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Prefs()
    return Prefs.from_dict(data) if isinstance(data, dict) else Prefs()


def save_prefs(root: Path, prefs: Prefs) -> bool:
    """Write the preferences atomically; False (and nothing raised) when the root is read-only."""
    path = prefs_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(asdict(prefs), indent=1).encode(), sync=False)
    except OSError:
        return False
    return True
