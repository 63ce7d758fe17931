"""Groups' curves from the index: members' curves on one shared grid, then their statistics.

Each member's curve is the one its own chart draws (``Index.series``:
smoothed on its full data, then bucketed to the chart's width); ``store.groups``
places them on the group's grid and computes the mean and band per bucket
(docs/groups.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from trackui.store import layout
from trackui.store.groups import Group, GroupStats, group_stats, shared_grid

if TYPE_CHECKING:
    from trackui.store.index import Index
    from trackui.store.models import Series


def group_series(
    index: Index,
    groups: Sequence[Group],
    metrics: Sequence[str],
    *,
    x: str = layout.X_STEP,
    smoothing: str = layout.SMOOTH_TWEMA,
    strength: float = 0.6,
    buckets: int = 200,
    x_range: tuple[float, float] | None = None,
) -> list[GroupStats]:
    """One ``GroupStats`` per (group, metric), groups in order, metrics in order within each.

    The members' curves are those their own charts draw (the same query, so
    they come from the index's curve cache when the chart asked already):
    each bucketed on its own span, or on ``x_range`` when zoomed. The group's
    grid is the same number of buckets over ``x_range``, or over the span of
    those curves' points (docs/groups.md, "Alignment").
    """
    ids = [r for g in groups for r in g.run_ids]
    got = index.series(
        ids, metrics, x=x, smoothing=smoothing, strength=strength, buckets=buckets,
        x_range=x_range,
    )  # fmt: skip
    return members_stats(groups, metrics, got, buckets=buckets, x_range=x_range)


def members_stats(
    groups: Sequence[Group],
    metrics: Sequence[str],
    curves: Iterable[Series],
    *,
    buckets: int,
    x_range: tuple[float, float] | None = None,
) -> list[GroupStats]:
    """``group_series`` from the members' curves already asked for (``curves``: as
    ``Index.series`` answers for the members, with ``buckets`` and ``x_range``; other
    runs' and metrics' curves among them are ignored)."""
    by: dict[tuple[str, str], Series] = {(s.run_id, s.metric): s for s in curves}
    out: list[GroupStats] = []
    for g in groups:
        for m in metrics:
            members = [by[(r, m)] for r in g.run_ids if (r, m) in by]
            grid = x_range if x_range is not None else shared_grid(members)
            out.append(group_stats(g.id, m, members, grid or (0.0, 0.0), buckets))
    return out
