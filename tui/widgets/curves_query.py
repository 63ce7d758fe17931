"""What a curves panel asks the store for: which metrics, how many points, from which index.

No widget here: ``query_curves`` runs in the panel's worker
thread; the rest decides the default metrics and the room each chart has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trackui.store.layout import X_AXES, X_STEP
from trackui.store.metric_decl import is_hidden, step_metric
from trackui.store.models import MetricInfo
from trackui.tui.messages import CurvesRequest, CurvesView

if TYPE_CHECKING:
    from trackui.store.index import Index

SYSTEM_PREFIX = "system/"
"""Metrics under this prefix are system metrics (GPU memory, utilisation)."""

EPOCH_NAMES = ("epoch", "epochs", "global_step")
"""Metric names that count progress rather than measure it."""

MAX_DEFAULT_CHARTS = 12
"""At most this many charts unless the user picks more: each chart costs a plotext build."""


def default_metrics(
    metrics: Sequence[MetricInfo],
    run_ids: Sequence[str],
    kind: str,
    limit: int | None = MAX_DEFAULT_CHARTS,
) -> list[str]:
    """The metrics to chart when the user has not picked: those every run has.

    When the runs share none, those any of them has, so that a sweep with
    inconsistent names still shows something.
    """
    pool = [m for m in metrics if _kind_ok(m.name, kind)]
    shared = [m.name for m in pool if all(m.steps.get(r, 0) > 0 for r in run_ids)]
    names = shared or [m.name for m in pool if any(m.steps.get(r, 0) > 0 for r in run_ids)]
    # Epoch counters are x axes more than curves: chart them last.
    names.sort(key=lambda n: n.rsplit("/", 1)[-1] in EPOCH_NAMES)
    return names if limit is None else names[:limit]


def _kind_ok(name: str, kind: str) -> bool:
    if kind == "system":
        return name.startswith(SYSTEM_PREFIX)
    if kind == "main":
        return not name.startswith(SYSTEM_PREFIX)
    return True


def columns_for(width: int, n: int) -> int:
    """How many charts side by side: wide panels with several charts use the room."""
    if width >= 150 and n >= 3:
        return 3
    if width >= 90 and n >= 2:
        return 2
    return 1


def buckets_for(width: int, n: int) -> int:
    """Buckets per curve: two plotext pixels per chart column, less the y-axis labels."""
    chart = max(20, (width - 2) // columns_for(width, n))
    return max(32, min(600, (chart - 10) * 2))


def query_curves(index: Index, req: CurvesRequest) -> CurvesView:
    """Run a curves query against the index (in a worker thread)."""
    if not req.run_ids:
        return CurvesView((), (), (), (), request=req)
    metrics = tuple(index.metrics(list(req.run_ids)))
    names = {m.name for m in metrics}
    metas = run_metas(index, req.run_ids)
    if req.chosen:
        shown = [m for m in req.chosen if m in names and _kind_ok(m, req.kind)]
    else:
        # Metrics declared hidden (``define_metric(hidden=True)``) chart only when picked.
        visible = [m for m in metrics if not any(is_hidden(meta, m.name) for meta in metas)]
        shown = default_metrics(visible, req.run_ids, req.kind, req.limit)
    series: list[Any] = []
    declared: dict[str, str] = {}
    if shown:
        x = req.x if req.x in X_AXES or req.x in names else X_STEP
        if x == X_STEP:
            declared = declared_x_axes(metas, shown, names)
        groups: dict[str, list[str]] = {}
        for m in shown:
            groups.setdefault(declared.get(m, x), []).append(m)
        for gx, group in groups.items():
            series += index.series(
                list(req.run_ids),
                group,
                x=gx,
                smoothing=req.smoothing,
                strength=req.strength,
                buckets=buckets_for(req.width, len(shown)),
                x_range=req.x_range,
            )
    return CurvesView(
        run_ids=req.run_ids,
        metrics=metrics,
        shown=tuple(shown),
        series=tuple(series),
        request=req,
        declared_x=tuple(declared.items()),
    )


def run_metas(index: Index, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The ``meta.json`` of each of the runs still in the index."""
    metas = []
    for rid in run_ids:
        try:
            metas.append(index.run(rid).meta)
        except LookupError:
            continue
    return metas


def declared_x_axes(
    metas: Sequence[dict[str, Any]], shown: Sequence[str], names: set[str]
) -> dict[str, str]:
    """The x axis each metric was declared to chart against (``define_metric(step_metric=)``).

    The first of the runs that declares one for a metric decides; a step
    metric no run logged is ignored (the metric charts against the step).
    """
    out: dict[str, str] = {}
    for m in shown:
        for meta in metas:
            sx = step_metric(meta, m)
            if sx is not None:
                if sx in names:
                    out[m] = sx
                break
    return out
