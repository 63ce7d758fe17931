"""What a run's script declared about its metrics (``meta.json``'s ``metrics``), read for viewers.

``metrics`` maps a metric name, or a glob matched with ``fnmatch`` (case-sensitive), to
``{"goal", "summary", "step_metric", "hidden", ...}``; an exact name's entry applies before a
glob's. Summary keys ``<name>.<aggregate>`` (``loss.min``) read their metric's declaration.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

AGGREGATES = ("min", "max", "mean", "first", "last", "best")


def declaration(meta: dict[str, Any], name: str) -> dict[str, Any]:
    """The declared fields that apply to ``name``: its exact entry over the globs that match it."""
    decl = meta.get("metrics")
    if not isinstance(decl, dict):
        return {}
    out: dict[str, Any] = {}
    for pattern, entry in decl.items():
        if isinstance(entry, dict) and pattern != name and fnmatch.fnmatchcase(name, pattern):
            out.update(entry)
    exact = decl.get(name)
    if isinstance(exact, dict):
        out.update(exact)
    if not out and "." in name:
        base, agg = name.rsplit(".", 1)
        if agg in AGGREGATES:
            return declaration(meta, base)
    return out


def metric_goal(meta: dict[str, Any], name: str) -> str | None:
    """``"minimize"``, ``"maximize"`` or None: the declared goal, else one a lone ``summary``
    of ``min`` or ``max`` implies."""
    d = declaration(meta, name)
    goal = d.get("goal")
    if goal in ("minimize", "min"):
        return "minimize"
    if goal in ("maximize", "max"):
        return "maximize"
    summary = d.get("summary")
    kinds = {k.strip() for k in summary.split(",")} if isinstance(summary, str) else set()
    if "min" in kinds and "max" not in kinds:
        return "minimize"
    if "max" in kinds and "min" not in kinds:
        return "maximize"
    return None


def goal_among(metas: Iterable[dict[str, Any]], name: str) -> str | None:
    """The goal the first run that declares one gives ``name`` (None when none does)."""
    for meta in metas:
        goal = metric_goal(meta, name)
        if goal is not None:
            return goal
    return None


def step_metric(meta: dict[str, Any], name: str) -> str | None:
    """The metric ``name`` was declared to chart against (None: the step)."""
    s = declaration(meta, name).get("step_metric")
    return s if isinstance(s, str) and s and s != name else None


def is_hidden(meta: dict[str, Any], name: str) -> bool:
    """Whether ``name`` was declared ``hidden`` (charted only when the user picks it)."""
    return bool(declaration(meta, name).get("hidden"))
