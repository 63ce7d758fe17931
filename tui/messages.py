"""App-wide messages: from the file watcher and from the store workers.

Widgets' own messages live inside their classes; these are the ones that
cross threads. Each carries immutable data (frozen dataclasses from
``trackui.store.models``, tuples, frozensets), so the worker that built it and
the UI thread that reads it never share mutable state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from textual.message import Message

from trackui.store.artifact_store import Alert, ArtifactUse
from trackui.store.models import Diff, MetricInfo, RunRow, Series


class RunFilesChanged(Message):
    """Files under the root changed (posted from the watcher's thread).

    Bursts coalesce: a pending message absorbs the next one's paths, so a
    run writing a hundred records a second queues one message, not a hundred.
    """

    def __init__(self, paths: frozenset[str]) -> None:
        super().__init__()
        self.paths = paths
        """Run directories (or other paths) that changed."""

    def can_replace(self, message: Message) -> bool:
        if isinstance(message, RunFilesChanged):
            self.paths = self.paths | message.paths
            return True
        return False


class WatchError(Message):
    """The watcher reported an error (posted from the watcher's thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class StoreRefreshed(Message):
    """The index took in new data; screens re-query what they show."""

    def __init__(
        self, changed: frozenset[str], loaded: tuple[int, int], *, scan: bool = False
    ) -> None:
        super().__init__()
        self.scan = scan
        """Whether this is the first, metadata-only pass (metrics still loading)."""
        self.changed = changed
        """Ids of runs whose rows or metrics changed."""
        self.loaded = loaded
        """``(runs with metrics loaded, runs)``."""


class IngestProgress(Message):
    """Metrics of ``done`` of ``total`` runs are loaded."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IngestProgress)


@dataclass(frozen=True)
class RunsView:
    """What the runs table shows: one query's result."""

    rows: tuple[RunRow, ...]
    """Runs that pass the filter, in display order."""
    total: int
    """Runs in the root."""
    config_keys: tuple[str, ...]
    summary_keys: tuple[str, ...]
    error: str | None = None
    """The filter's error, when it did not parse; ``rows`` is then the unfiltered list."""
    aggregates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Run id to the values of the aggregate columns shown (``Index.aggregates``)."""
    metric_names: tuple[str, ...] = ()
    """Every numeric metric of the root (the column picker offers their aggregates)."""


@dataclass(frozen=True)
class CurvesRequest:
    """What a curves panel asks the store for, and what its curves are drawn with."""

    run_ids: tuple[str, ...]
    chosen: tuple[str, ...]
    """Metrics the user picked; empty means the default."""
    kind: str
    """``main`` (no system metrics), ``system`` (only those) or ``all``."""
    limit: int | None
    """At most this many charts by default (None: every metric)."""
    x: str
    smoothing: str
    strength: float
    width: int
    """The panel's width in cells: the query turns it into buckets per chart."""
    x_range: tuple[float, float] | None
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Groups among ``run_ids``: each group's id and its members' ids (``store.groups``)."""
    band: str = "minmax"
    """The band drawn around each group's mean (``store.groups.BANDS``)."""
    pinned: tuple[str, ...] = ()
    """Metrics pinned first (their order)."""
    with_time: bool = False
    """Read each point's wall time on a step chart too (a cursor shows it)."""


@dataclass(frozen=True)
class CurvesView:
    """What a curves panel shows: one query's result."""

    run_ids: tuple[str, ...]
    metrics: tuple[MetricInfo, ...]
    """Every metric the runs have (for the picker)."""
    shown: tuple[str, ...]
    """The metrics drawn, in order."""
    series: tuple[Series, ...]
    request: CurvesRequest
    """What was asked: a stale answer is told apart by it, and curves are drawn with its
    smoothing and x axis."""
    declared_x: tuple[tuple[str, str], ...] = ()
    """``(metric, x metric)`` for the metrics drawn against their declared ``step_metric``
    (asked for the step axis) instead of the step."""
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``shown`` in its sections, in order: ``(section, metrics)`` (``curves_query.chart_sections``)."""


class RunsQueried(Message):
    """A runs-table query finished."""

    def __init__(self, view: RunsView, request: tuple[object, ...]) -> None:
        super().__init__()
        self.view = view
        self.request = request
        """What was asked (filter, sort, columns, index generation): a stale answer is dropped."""


class CurvesQueried(Message):
    """A curves query finished."""

    def __init__(self, view: CurvesView) -> None:
        super().__init__()
        self.view = view


class DiffQueried(Message):
    """A compare query finished."""

    def __init__(self, diff: Diff, rows: tuple[RunRow, ...]) -> None:
        super().__init__()
        self.diff = diff
        self.rows = rows


class DetailQueried(Message):
    """A run-detail query finished."""

    def __init__(
        self,
        row: RunRow,
        files: tuple[tuple[str, int], ...],
        output: str,
        text_values: tuple[tuple[str, str], ...],
        alerts: tuple[Alert, ...] = (),
        artifacts: tuple[ArtifactUse, ...] = (),
    ) -> None:
        super().__init__()
        self.row = row
        self.alerts = alerts
        """The run's alerts, oldest first."""
        self.artifacts = artifacts
        """What the run logged, used and linked, oldest first."""
        self.files = files
        """Saved files as ``(relative path, size in bytes)``."""
        self.output = output
        """The tail of the console output, control characters already stripped."""
        self.text_values = text_values
        """The last value of each text metric."""


class AlertsRead(Message):
    """The alert watcher's worker read the alerts of changed runs (see ``tui/alert_watch.py``)."""

    def __init__(self, new: tuple[tuple[str, Alert], ...]) -> None:
        super().__init__()
        self.new = new
        """``(run name, alert)`` for each alert not seen before, written since the viewer opened."""
