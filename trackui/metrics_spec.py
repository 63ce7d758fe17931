"""``define_metric``: what a run records about a metric, and how its summary is computed.

A declaration names a metric or a glob (``val/*``) and may give:

- ``summary``: ``min``, ``max``, ``mean``, ``first``, ``last``, ``best`` (the
  minimum or the maximum, per ``goal``) or ``none`` (left out of the summary),
  alone or comma-separated (``"min,max"``). Declarations of one name add up, as
  in wandb: ``summary="min"`` then ``summary="max"`` keeps both.
- ``goal``: ``minimize`` or ``maximize``; ``step_metric``; ``hidden``.

Everything declared is kept in ``meta.json`` under ``metrics`` (see
``docs/format.md``); the summary's aggregates are computed by ``Aggregates``.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any

SUMMARY_KINDS = ("min", "max", "mean", "first", "last", "best", "none")
GOALS = ("minimize", "maximize")
_GOAL_ALIASES = {"min": "minimize", "max": "maximize"}


def parse_summary(summary: str | None) -> tuple[str, ...]:
    """The aggregates in ``summary`` (``"min,max"`` -> ``("min", "max")``), checked."""
    if summary is None:
        return ()
    kinds = tuple(p.strip().lower() for p in str(summary).split(",") if p.strip())
    for kind in kinds:
        if kind not in SUMMARY_KINDS:
            raise ValueError(
                f"define_metric: summary must be one of {', '.join(SUMMARY_KINDS)} "
                f"(or several, comma-separated), not {summary!r}"
            )
    return kinds


def parse_goal(goal: str | None) -> str | None:
    """``minimize`` or ``maximize`` (``min``/``max`` accepted), checked."""
    if goal is None:
        return None
    g = _GOAL_ALIASES.get(str(goal).lower(), str(goal).lower())
    if g not in GOALS:
        raise ValueError(f"define_metric: goal must be minimize or maximize, not {goal!r}")
    return g


def is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def declaration(
    previous: dict[str, Any] | None,
    *,
    step_metric: str | None,
    kinds: tuple[str, ...],
    goal: str | None,
    hidden: bool | None,
    step_sync: bool | None,
) -> dict[str, Any]:
    """A metric's entry in ``meta.json["metrics"]``: ``previous`` with these on top.

    ``summary`` is the comma-separated union of every declared aggregate.
    """
    entry = dict(previous or {})
    if kinds:
        have = [k for k in str(entry.get("summary") or "").split(",") if k]
        entry["summary"] = ",".join(have + [k for k in kinds if k not in have])
    for key, value in (
        ("step_metric", step_metric),
        ("goal", goal),
        ("hidden", hidden),
        ("step_sync", step_sync),
    ):
        if value is not None:
            entry[key] = value
    return entry


class Aggregates:
    """The aggregated part of a run's summary, fed each ``log()``'s numeric values.

    A metric with one aggregate keeps it under its own name; with several,
    each goes under ``<name>.<aggregate>`` (``loss.min``, ``loss.max``) and the
    name itself keeps the last value. ``none`` leaves the metric out.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, tuple[str, ...]] = {}
        """Exact metric name to its aggregates (globs are resolved on first sight)."""
        self._globs: list[tuple[str, tuple[str, ...]]] = []
        self._exact: set[str] = set()
        """Names declared by themselves: their own declarations apply, no glob's."""
        self._goal: dict[str, str] = {}
        self._acc: dict[str, list[float]] = {}
        """Per metric: [min, max, sum, count, running mean, first]. The running mean
        stands in for a sum that overflowed (values near ±1.8e308)."""

    active = False
    """Whether any metric is aggregated (an attribute: read on ``log()``'s hot path)."""

    def define(self, pattern: str, kinds: tuple[str, ...], goal: str | None) -> None:
        if goal is not None:
            self._goal[pattern] = goal
        if not kinds:
            return
        self.active = True
        if is_glob(pattern):
            for i, (p, have) in enumerate(self._globs):
                if p == pattern:
                    self._globs[i] = (p, _union(have, kinds))
                    break
            else:
                self._globs.append((pattern, kinds))
            # names already resolved by an earlier glob see the new one too
            for name in list(self._kinds):
                if name not in self._exact and fnmatch.fnmatchcase(name, pattern):
                    self._kinds[name] = _union(self._kinds[name], kinds)
        else:
            # An exact name's declaration applies before a glob's (docs/format.md),
            # whether the glob came first or the name was logged under it already.
            have = self._kinds.get(pattern, ()) if pattern in self._exact else ()
            self._exact.add(pattern)
            self._kinds[pattern] = _union(have, kinds)

    def kinds(self, name: str) -> tuple[str, ...] | None:
        kinds = self._kinds.get(name)
        if kinds is None and self._globs:
            found: tuple[str, ...] = ()
            for pattern, k in self._globs:
                if fnmatch.fnmatchcase(name, pattern):
                    found = _union(found, k)
            kinds = self._kinds[name] = found
        return kinds or None

    def observe(self, m: dict[str, Any]) -> None:
        for k, v in m.items():
            if isinstance(v, str) or self.kinds(k) is None:
                continue
            acc = self._acc.get(k)
            if acc is None:
                f = float(v)
                self._acc[k] = [f, f, f, 1.0, f, f]
                continue
            if v < acc[0]:
                acc[0] = v
            if v > acc[1]:
                acc[1] = v
            acc[2] += v
            acc[3] += 1
            n = acc[3]
            acc[4] = acc[4] * ((n - 1) / n) + v / n

    def apply(self, out: dict[str, Any]) -> None:
        """Put the aggregates into ``out`` (the last values), in place."""
        for k, acc in self._acc.items():
            kinds = self.kinds(k) or ()
            if "none" in kinds:
                out.pop(k, None)
                continue
            if len(kinds) == 1:
                if kinds[0] != "last":
                    out[k] = self._value(k, kinds[0], acc, out)
                continue
            for kind in kinds:
                out[f"{k}.{kind}"] = self._value(k, kind, acc, out)

    def _value(self, name: str, kind: str, acc: list[float], out: dict[str, Any]) -> Any:
        if kind == "best":
            kind = "max" if self._goal_of(name) == "maximize" else "min"
        if kind == "min":
            return acc[0]
        if kind == "max":
            return acc[1]
        if kind == "mean":
            return acc[2] / acc[3] if math.isfinite(acc[2]) else acc[4]
        if kind == "first":
            return acc[5]
        return out.get(name)

    def _goal_of(self, name: str) -> str | None:
        goal = self._goal.get(name)
        if goal is None:
            for pattern, g in self._goal.items():
                if fnmatch.fnmatchcase(name, pattern):
                    return g
        return goal

    def forget(self, name: str) -> None:
        self._acc.pop(name, None)


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(k for k in b if k not in a)
