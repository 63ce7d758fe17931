"""What a curves panel asks the store for when groups are among its rows.

The members' curves are asked for as runs' curves are (``query_curves``:
one store call for every member, the same metrics, smoothing and buckets),
then each group's mean and band is computed from them on the shared grid
(``store.group_curves.members_stats``) and drawn as one series whose
``lo``/``hi`` are the band.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from trackui.store.group_curves import members_stats
from trackui.store.groups import Group, is_group_id
from trackui.tui.messages import CurvesRequest, CurvesView
from trackui.tui.widgets.curves_query import buckets_for, query_curves

if TYPE_CHECKING:
    from trackui.store.index import Index


def query_with_groups(index: Index, req: CurvesRequest) -> CurvesView:
    """``query_curves``, with each group of ``req.groups`` drawn as its mean and band."""
    if not req.groups:
        return query_curves(index, req)
    plain = tuple(r for r in req.run_ids if not is_group_id(r))
    members = tuple(dict.fromkeys(m for _, ms in req.groups for m in ms if m not in plain))
    inner = dataclasses.replace(req, run_ids=plain + members, groups=())
    view = query_curves(index, inner)
    series = [s for s in view.series if s.run_id in plain]
    if view.shown:
        groups = [Group((), (), ms) for _, ms in req.groups]
        ids = [gid for gid, _ in req.groups]
        metrics = view.shown
        # The members' curves are those just asked for (each on its metric's
        # x axis): the store is not asked again.
        stats = members_stats(
            groups,
            metrics,
            view.series,
            buckets=buckets_for(req.width, len(metrics)),
            x_range=req.x_range,
        )
        for i, st in enumerate(stats):
            gid = ids[i // len(metrics)]
            series.append(dataclasses.replace(st.series(req.band), run_id=gid))
    return dataclasses.replace(view, run_ids=req.run_ids, series=tuple(series), request=req)
