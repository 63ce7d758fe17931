"""The run table's group rows: one row per group, its members below it when expanded.

A group row is a ``RunRow`` whose id is the group's (``store.groups``), so
the table draws, selects and sorts it as any row: its name says the group
and its size, its project/group cell its members' states as counts, its
runtime, steps and summary the members' means, its config the keys its
members share (what Compare diffs between groups). ``meta`` holds the
members' ids for the curves panel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from trackui.store.groups import (
    Group,
    group_runs,
    id_hash,
    is_group_id,
    mean_of,
    shared_config,
    state_counts,
    summary_means,
)
from trackui.store.models import RunRow
from trackui.tui.chart_settings import PALETTE, RGB

if TYPE_CHECKING:
    from trackui.store.index import Index

MEMBERS = "group_members"
"""The ``meta`` key of a group row holding its members' ids."""
EXPANDED = "▾"
COLLAPSED = "▸"
STATE_ORDER = ("running", "crashed", "failed", "finished")
"""A group row's state: the first of these any member is in."""


def group_row(group: Group, members: Sequence[RunRow], expanded: bool) -> RunRow:
    """The table row of ``group`` (``members``: its runs' rows, in table order)."""
    counts = state_counts(members)
    state = next((s for s in STATE_ORDER if s in counts), members[0].state if members else "")
    mean_runtime = mean_of(r.runtime_s for r in members) or 0.0
    mean_steps = mean_of(r.steps for r in members)
    ends = [r.end_time for r in members if r.end_time is not None]
    return RunRow(
        id=group.id,
        name=f"{EXPANDED if expanded else COLLAPSED} {group.label} ({len(members)})",
        project=" ".join(f"{n} {s}" for s, n in counts.items()),
        group=None,
        tags=(),
        state=state,
        created=min((r.created for r in members), default=""),
        start_time=min((r.start_time for r in members), default=0.0),
        end_time=max(ends) if ends and len(ends) == len(members) else None,
        runtime_s=mean_runtime,
        last_step=max((r.last_step for r in members if r.last_step is not None), default=None),
        steps=round(mean_steps) if mean_steps is not None else 0,
        path=members[0].path,
        host=None,
        config=shared_config(members),
        summary=summary_means(members),
        meta={MEMBERS: [r.id for r in members], "group_keys": list(group.keys)},
        warnings=tuple(w for r in members for w in r.warnings),
    )


def grouped_rows(
    rows: Sequence[RunRow], keys: Sequence[str], expanded: Collection[str]
) -> list[RunRow]:
    """The table's rows: a row per group (in the order of its first run), members after it
    when its id is in ``expanded``. No keys: ``rows`` as they are."""
    if not keys:
        return list(rows)
    by_id = {r.id: r for r in rows}
    out: list[RunRow] = []
    for g in group_runs(rows, keys):
        members = [by_id[i] for i in g.run_ids]
        open_ = g.id in expanded
        out.append(group_row(g, members, open_))
        if open_:
            out.extend(members)
    return out


def members_of(row: RunRow) -> tuple[str, ...]:
    """A group row's members' ids (none for a run's row)."""
    if not is_group_id(row.id):
        return ()
    return tuple(str(i) for i in row.meta.get(MEMBERS, ()))


def charted_ids(rows: Sequence[RunRow]) -> set[str]:
    """The runs behind ``rows``: each run's id, and each group's members'."""
    out: set[str] = set()
    for r in rows:
        out.update(members_of(r) if is_group_id(r.id) else (r.id,))
    return out


def request_groups(rows: Sequence[RunRow]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The groups among ``rows`` as a curves request carries them."""
    return tuple((r.id, members_of(r)) for r in rows if is_group_id(r.id))


def group_colour(group_id: str, taken: Collection[RGB] = ()) -> RGB:
    """A group's colour: from its id, not its place; the next free one where it is ``taken``."""
    n = len(PALETTE)
    k = id_hash(group_id) % n
    for step in range(n):
        c = PALETTE[(k + step) % n]
        if c not in taken:
            return c
    return PALETTE[k]


def with_group_colours(colours: dict[str, RGB], ids: Sequence[str]) -> dict[str, RGB]:
    """``colours`` (a colour per run) with each group of ``ids`` in its own colour.

    Groups drawn together take their colours in the order of their ids (not
    of the rows), each avoiding the runs' and the earlier groups' colours.
    """
    taken = {colours[i] for i in ids if not is_group_id(i) and i in colours}
    for gid in sorted(i for i in ids if is_group_id(i)):
        colours[gid] = group_colour(gid, taken)
        taken.add(colours[gid])
    return colours


def current_rows(index: Index, rows: Sequence[RunRow]) -> tuple[RunRow, ...]:
    """``rows`` as the index has them now, for a diff (LookupError: a run gone).

    Group rows stay as they were chosen, each with only the config keys every
    group compared shares: a key that differs within a group (a seed), or that
    some group lacks, is not one the groups differ by.
    """
    groups = [r for r in rows if is_group_id(r.id)]
    common = set.intersection(*(set(r.config) for r in groups)) if groups else set()
    return tuple(
        dataclasses.replace(r, config={k: v for k, v in r.config.items() if k in common})
        if is_group_id(r.id)
        else index.run(r.id)
        for r in rows
    )
