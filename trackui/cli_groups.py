"""``trackui ls --group-by KEY``: a row per group, with its size and its members' means.

A group is what the UI's group rows show (``store.groups``): runs equal on
every key. Importing this module is cheap; the store's grouping is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from trackui.cli_output import clean, dumps_json, fmt_duration, table


def _mean_text(v: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def groups_json(rows: Sequence[Any], keys: Sequence[str]) -> list[dict[str, Any]]:
    """The ``ls --group-by --json`` objects: one per group, in the order of its first run."""
    from trackui.store.groups import group_runs, mean_of, state_counts, summary_means

    by_id = {r.id: r for r in rows}
    out = []
    for g in group_runs(rows, keys):
        members = [by_id[i] for i in g.run_ids]
        out.append(
            {
                "group": g.label,
                "keys": dict(zip(g.keys, g.values, strict=True)),
                "size": len(members),
                "states": state_counts(members),
                "runs": list(g.run_ids),
                "runtime_s": mean_of(r.runtime_s for r in members),
                "steps": mean_of(r.steps for r in members),
                "summary": summary_means(members),
            }
        )
    return out


def write_groups(rows: Sequence[Any], keys: Sequence[str], as_json: bool, out: IO[str]) -> None:
    """Print the groups of ``rows`` by ``keys``: a table, or one JSON array."""
    objs = groups_json(rows, keys)
    if as_json:
        out.write(dumps_json(objs) + "\n")
        return
    body = [
        [
            clean(o["group"], 50),
            str(o["size"]),
            clean(" ".join(f"{n} {s}" for s, n in o["states"].items())),
            fmt_duration(o["runtime_s"]) if o["runtime_s"] is not None else "-",
            _mean_text(o["steps"]),
        ]
        for o in objs
    ]
    out.write(table(["GROUP", "RUNS", "STATES", "MEAN RUNTIME", "MEAN STEPS"], body) + "\n")
