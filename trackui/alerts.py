"""``run.alert`` / ``trackui.alert``: an event in the run, kept in ``alerts.jsonl``.

As wandb does, an alert with the same title as one sent less than
``wait_duration`` ago (default one minute) is dropped. Writing never raises:
I/O trouble is one warning. Format: ``docs/format.md``, "Alerts"; the reader
is ``store.artifact_store.read_alerts``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import time
import weakref
from typing import TYPE_CHECKING, Any

from trackui.artifact_log import append_line
from trackui.store import artifact_store as store
from trackui.store.writer import json_bytes
from trackui.values import clean_text

if TYPE_CHECKING:
    from trackui.run_object import Run


class AlertLevel(str, enum.Enum):
    """How serious an alert is (wandb's ``AlertLevel``)."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


DEFAULT_WAIT_S = 60.0

_last_sent: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()
"""Per run: when each title was last written (monotonic seconds)."""


def _seconds(wait_duration: Any) -> float:
    if not wait_duration:
        return DEFAULT_WAIT_S
    if isinstance(wait_duration, (int, float)):
        return float(wait_duration)
    if isinstance(wait_duration, _dt.timedelta):
        return wait_duration.total_seconds()
    raise TypeError("wait_duration must be an int, float, or datetime.timedelta")


def alert(
    run: Run,
    title: str,
    text: str,
    level: str | AlertLevel | None = None,
    wait_duration: int | float | _dt.timedelta | None = None,
) -> bool:
    """Record an alert in the run; False when throttled (or the run is disabled).

    Raises:
        ValueError: ``level`` is not INFO, WARN or ERROR.
        TypeError: ``wait_duration`` is not a number or a timedelta.
    """
    level = level or AlertLevel.INFO
    level_str = level.value if isinstance(level, AlertLevel) else str(level)
    if level_str not in store.ALERT_LEVELS:
        raise ValueError("level must be one of 'INFO', 'WARN', or 'ERROR'")
    wait = _seconds(wait_duration)
    if run.disabled or run.run_dir is None:
        return False
    title, text = clean_text(str(title)), clean_text(str(text))
    now = time.monotonic()
    sent = _last_sent.setdefault(run, {})
    last = sent.get(title)
    if last is not None and now - last < wait:
        return False
    sent[title] = now
    line = json_bytes(
        {"t": time.time(), "title": title, "text": text, "level": level_str}, indent=False
    )
    return append_line(run.run_dir / store.RUN_ALERTS, line + b"\n", "alerts")
