"""Worker errors become notifications, never tracebacks.

Textual posts ``Worker.StateChanged`` to the node that started the worker and
does not bubble it, so each node that runs workers mixes this in.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ReportsWorkerErrors:
    """Mixin for widgets, screens and the app: a failed worker shows as a notification."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report = getattr(self.app, "report_error", None)  # type: ignore[attr-defined]
            if report is not None:
                report(event.worker.error)
