"""Immutable values that the store hands to its callers (CLI, UI, tests).

They are frozen so that a worker thread can build one and pass it to the UI
thread in a message without either side mutating it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the writer side imports these models; keep NumPy off its path
    import numpy as np


@dataclass(frozen=True)
class Record:
    """One line of ``history.jsonl``."""

    step: int
    """The step the values belong to."""
    time: float
    """Unix seconds when ``log()`` was called."""
    metrics: dict[str, float]
    """Numeric values by flat name; NaN and ±inf kept as floats."""
    text: dict[str, str] = field(default_factory=dict)
    """Text values by flat name."""
    rich: dict[str, Any] = field(default_factory=dict)
    """Rich values' references by flat name (``store.rich``; format 2)."""


@dataclass(frozen=True)
class RunInfo:
    """What the files of one run directory say about it (no metrics)."""

    id: str
    path: Path
    meta: dict[str, Any]
    """``meta.json`` as written, plus defaults for missing keys."""
    config: dict[str, Any]
    """``config.json``, nested as logged."""
    summary: dict[str, Any]
    """``summary.json``: flat metric name to value (NaN/inf as floats)."""
    state: str
    """``running``, ``finished``, ``failed`` or ``crashed`` (derived, see ``store.liveness``)."""
    warnings: tuple[str, ...] = ()
    """One line for each thing skipped as damaged or unreadable."""

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.id)


@dataclass(frozen=True)
class RunRow:
    """One row of the run table: a run with its derived columns."""

    id: str
    name: str
    project: str | None
    group: str | None
    tags: tuple[str, ...]
    state: str
    created: str
    """ISO 8601 start time."""
    start_time: float
    end_time: float | None
    runtime_s: float
    last_step: int | None
    steps: int
    """Number of distinct steps with at least one value."""
    path: Path
    host: str | None
    config: dict[str, Any]
    """Nested, as logged."""
    summary: dict[str, Any]
    """Flat metric name to last value (``summary.json`` overrides applied)."""
    meta: dict[str, Any]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricInfo:
    """A metric name and how many steps each run has for it."""

    name: str
    steps: dict[str, int]
    """Run id to the number of steps with a value of this metric."""


@dataclass(frozen=True, eq=False)
class Series:
    """One run's curve of one metric, smoothed on full data, then bucketed.

    All arrays have one entry per bucket, in x order. A bucket with no finite
    value holds NaN in every array: a gap.
    """

    run_id: str
    metric: str
    x: np.ndarray
    """The x value of each bucket's last point."""
    y: np.ndarray
    """Smoothed value at each bucket's last point."""
    raw: np.ndarray
    """Raw (unsmoothed) value at each bucket's last point."""
    lo: np.ndarray
    """Minimum raw value in each bucket."""
    hi: np.ndarray
    """Maximum raw value in each bucket."""
    points: int
    """Number of full-resolution points behind the buckets."""
    step: np.ndarray | None = None
    """The step of each bucket's last point (NaN in a gap); None where not known."""
    t: np.ndarray | None = None
    """The wall time (Unix seconds) of each bucket's last point; None where not read."""
    start_time: float | None = None
    """The run's start (Unix seconds), for times relative to it; None where not known."""


@dataclass(frozen=True)
class DiffRow:
    """One key of a config or summary diff across runs."""

    section: str
    """``config`` or ``summary``."""
    key: str
    """Flat key (``optimizer/lr``)."""
    values: tuple[Any, ...]
    """One value per run, in the order the runs were given; None where absent."""
    differs: bool
    deltas: tuple[float | None, ...]
    """Numeric difference from the baseline run's value, per run (None where not numeric)."""


@dataclass(frozen=True)
class Diff:
    """A config and summary diff of several runs against a baseline."""

    run_ids: tuple[str, ...]
    baseline: str
    rows: tuple[DiffRow, ...]


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level with ``/``-joined keys (``{"a": {"b": 1}}`` -> ``a/b``)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "/"))
        else:
            out[key] = v
    return out
