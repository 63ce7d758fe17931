"""Groups' curves from the index: members' curves on one shared grid, then their statistics.

Each member's curve is the one a chart draws (``Index.series``: smoothed on
its full data, then bucketed), asked for on the span of the whole group so
that every member is bucketed on the same grid; ``store.groups`` then
computes the mean and band per bucket (docs/groups.md).
"""

from __future__ import annotations

from collections.abc import Sequence
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

    With ``x_range`` the grid is that range (a zoom). Without, it spans the
    members' curves as each is drawn alone (from the earliest first x to the
    latest last x); members whose curves were bucketed on their own span are
    then asked for again on the group's (the index keeps their points: the
    second ask smooths again without reading them), while short members,
    whose every point is its own entry, are used as they are.
    """
    ids = [r for g in groups for r in g.run_ids]
    kw = dict(x=x, smoothing=smoothing, strength=strength, buckets=buckets)
    first = index.series(ids, metrics, x_range=x_range, **kw)  # type: ignore[arg-type]
    by: dict[tuple[str, str], Series] = {(s.run_id, s.metric): s for s in first}
    out: list[GroupStats] = []
    for g in groups:
        for m in metrics:
            members = [by[(r, m)] for r in g.run_ids if (r, m) in by]
            grid = x_range if x_range is not None else shared_grid(members)
            if grid is None:
                out.append(group_stats(g.id, m, [], (0.0, 0.0), buckets))
                continue
            if x_range is None:
                again = [s.run_id for s in members if s.points > buckets]
                if again:
                    redo = index.series(again, [m], x_range=grid, **kw)  # type: ignore[arg-type]
                    fresh = {s.run_id: s for s in redo}
                    members = [fresh.get(s.run_id, s) for s in members]
            out.append(group_stats(g.id, m, members, grid, buckets))
    return out
