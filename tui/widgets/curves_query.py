"""What a curves panel asks the store for: which metrics, how many points, from which index.

No widget here: ``query_curves`` runs in the panel's worker
thread; the rest decides the default metrics and the room each chart has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trackui.store.layout import X_AXES, X_STEP
from trackui.store.metric_decl import declaration, is_hidden, name_goal, step_metric
from trackui.store.models import MetricInfo
from trackui.tui.messages import CurvesRequest, CurvesView

if TYPE_CHECKING:
    from trackui.store.index import Index

SYSTEM_PREFIX = "system/"
"""Metrics under this prefix are system metrics (GPU memory, utilisation)."""

EPOCH_NAMES = ("epoch", "epochs", "global_step")
"""Metric names that count progress rather than measure it."""

PINNED = "pinned"
"""The section of pinned charts (a prefix's section ends in ``/``: the two never meet)."""

MAX_DEFAULT_CHARTS = 12
"""At most this many charts unless the user picks more: each chart costs a plotext build."""


def default_metrics(
    metrics: Sequence[MetricInfo],
    run_ids: Sequence[str],
    kind: str,
    limit: int | None = MAX_DEFAULT_CHARTS,
    metas: Sequence[dict[str, Any]] = (),
    pinned: Sequence[str] = (),
) -> list[str]:
    """The metrics to chart when the user has not picked: those every run has.

    When the runs share none, those any of them has, so that a sweep with
    inconsistent names still shows something.
    """
    pool = [m for m in metrics if _kind_ok(m.name, kind)]
    shared = [m.name for m in pool if all(m.steps.get(r, 0) > 0 for r in run_ids)]
    names = shared or [m.name for m in pool if any(m.steps.get(r, 0) > 0 for r in run_ids)]
    # (In chart order, so that the limit keeps the charts people look for.)
    names = [n for _, section in chart_sections(names, metas, pinned) for n in section]
    return names if limit is None else names[:limit]


def section_of(name: str) -> str:
    """The section a metric's chart goes in: its key prefix (``val/``), or "" for none."""
    head, sep, _ = name.partition("/")
    return head + sep if sep and head else ""


def chart_rank(name: str, metas: Sequence[dict[str, Any]]) -> int:
    """Where a metric comes in its section: 0 declared with a goal or a summary
    (``define_metric``), 1 a goal its name implies (``val_accuracy``, ``loss``),
    2 the rest, 3 epoch counters (x axes more than curves)."""
    if name.rsplit("/", 1)[-1] in EPOCH_NAMES:
        return 3
    for meta in metas:
        d = declaration(meta, name)
        if d.get("goal") or d.get("summary"):
            return 0
    return 1 if name_goal(name) is not None else 2


def chart_sections(
    names: Sequence[str], metas: Sequence[dict[str, Any]], pinned: Sequence[str] = ()
) -> list[tuple[str, list[str]]]:
    """The charts of ``names`` in sections, in the order they are drawn.

    Pinned charts first (``PINNED``, in the order they were pinned); then the
    metrics without a prefix (section ""); then each prefix's section
    (``train/``, ``val/``), the one holding the better-ranked metric first
    (see ``chart_rank``), then by name; ``system/`` last. Within a section:
    by rank, then by name.
    """
    have = set(names)
    pins = [p for p in pinned if p in have]
    ranks = {n: chart_rank(n, metas) for n in names if n not in pins}
    by_section: dict[str, list[str]] = {}
    for n in sorted(ranks, key=lambda n: (ranks[n], n)):
        by_section.setdefault(section_of(n), []).append(n)

    def order(section: str) -> tuple[bool, int, int]:
        last = section == SYSTEM_PREFIX
        return (last, 0 if section == "" else 1, min(ranks[n] for n in by_section[section]))

    out = [(PINNED, pins)] if pins else []
    out += [(s, by_section[s]) for s in sorted(by_section, key=lambda s: (*order(s), s))]
    return out


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
        shown = default_metrics(visible, req.run_ids, req.kind, req.limit, metas, req.pinned)
    sections = chart_sections(shown, metas, req.pinned)
    shown = [m for _, section in sections for m in section]
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
                with_time=req.with_time,
            )
    return CurvesView(
        run_ids=req.run_ids,
        metrics=metrics,
        shown=tuple(shown),
        series=tuple(series),
        request=req,
        declared_x=tuple(declared.items()),
        sections=tuple((title, tuple(ms)) for title, ms in sections),
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
