"""Worker errors become notifications, never tracebacks.

Textual posts ``Worker.StateChanged`` to the node that started the worker and
does not bubble it, so each node that runs workers mixes this in (the app
calls ``report_error`` itself).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.worker import Worker, WorkerState

from trackui.tui.fmt import clean


def report_error(app: App[Any], err: BaseException) -> None:
    """Show an error from a worker as a notification (one line, literal)."""
    text = str(err) or type(err).__name__
    if not isinstance(err, (LookupError, ValueError, OSError)):
        text = f"{type(err).__name__}: {text}"
    app.notify(
        clean(" ".join(text.split()))[:300],
        title="Store error",
        severity="error",
        markup=False,
        timeout=8,
    )


class ReportsWorkerErrors:
    """Mixin for widgets and screens: a failed worker shows as a notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report_error(self.app, event.worker.error)  # type: ignore[attr-defined]
