"""Notifications of new alerts: a run that calls ``trackui.alert()`` while the viewer is open.

The app builds one ``AlertWatcher`` over its ``StoreRefresher``. After each
refresh, the alerts of the runs that changed are read in a worker (never on
the event loop); an alert not seen before and written after the viewer opened
pops one notification, with the run's name and the alert's title, at the
severity of its level. Alerts a run had before the viewer opened are shown in
the run detail, not notified. The worker posts ``AlertsRead``; the app hands
it to ``took_in``.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App

from trackui.store.artifact_store import read_alerts
from trackui.tui.fmt import clean, shorten
from trackui.tui.messages import AlertsRead
from trackui.tui.refresher import StoreRefresher
from trackui.tui.widgets.run_events import SEVERITIES

NOTIFY_TIMEOUT_S = 8.0
"""How long an alert's notification stays up."""


class AlertWatcher:
    """Reads the alerts of changed runs in the background and notifies the new ones once."""

    def __init__(self, app: App[Any], store: StoreRefresher) -> None:
        self._app = app
        self._store = store
        self.opened_at = time.time()
        """Alerts written before this were there when the viewer opened: not notified."""
        self._seen: dict[str, int] = {}
        """Per run: how many of its alerts were read (only the worker touches it)."""
        self._pending: set[str] = set()
        self._busy = False

    def start(self) -> None:
        """Follow the store's refreshes (once the app is running)."""
        self.opened_at = time.time()
        self._store.refreshed.subscribe(self._app, self._changed)

    def _changed(self, changed: frozenset[str]) -> None:
        if not changed or self._store.closing:
            return
        self._pending |= changed
        if not self._busy:
            self._start()

    def _start(self) -> None:
        ids, self._pending = frozenset(self._pending), set()
        self._busy = True
        self._app.run_worker(
            lambda: self._read(ids),
            thread=True,
            group="alerts",
            exit_on_error=False,
            description="read alerts",
        )

    def _read(self, run_ids: frozenset[str]) -> None:
        """In the worker: the new alerts of ``run_ids``, handed to the event loop."""
        new: list[tuple[str, Any]] = []
        try:
            index = self._store.index
            for rid in sorted(run_ids):
                try:
                    row = index.run(rid)
                except LookupError:
                    continue
                alerts = read_alerts(row.path)
                start = self._seen.get(rid, 0)
                self._seen[rid] = len(alerts)
                new += [(row.name, a) for a in alerts[start:] if a.time >= self.opened_at]
        finally:
            self._app.post_message(AlertsRead(tuple(new)))

    def took_in(self, event: AlertsRead) -> None:
        """On the event loop: notify what the worker found, and read what changed meanwhile."""
        self._busy = False
        if self._store.closing:
            return
        for name, alert in event.new:
            title = f"{shorten(clean(name), 40)}: {shorten(clean(alert.title), 80)}"
            self._app.notify(
                shorten(clean(alert.text), 300) or title,
                title=title,
                severity=SEVERITIES.get(alert.level, "information"),  # type: ignore[arg-type]
                timeout=NOTIFY_TIMEOUT_S,
                markup=False,
            )
        if self._pending:
            self._start()
